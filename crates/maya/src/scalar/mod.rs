//! Scalar reverse-mode autodiff: a Wengert tape of at-most-binary nodes.

mod math;
mod ops;
mod tape;

pub use tape::{Gradients, Tape, Var};
