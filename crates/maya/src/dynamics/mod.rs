//! Differentiable dynamics: time integrators.

mod integrators;

pub use integrators::{
    euler_step, semi_implicit_euler_step, try_euler_step, try_semi_implicit_euler_step,
};
