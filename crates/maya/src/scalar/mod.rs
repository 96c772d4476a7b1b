//! Scalar reverse-mode autodiff: a tape of nodes holding their partials,
//! with each statement's partials combined in the handle before it is
//! recorded (see `lin`).

mod lin;
mod math;
mod ops;
mod real;
mod sweep;
mod tape;
mod trig;

pub(crate) use real::Real;
pub use tape::{Gradients, Tape, Var};
