//! Scalar reverse-mode autodiff: a Wengert tape of at-most-binary nodes.

mod math;
mod ops;
mod real;
mod tape;

pub(crate) use real::Real;
pub use tape::{Gradients, Tape, Var};
