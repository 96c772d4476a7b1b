//! Differentiable ops on [`TVar`](crate::TVar): each op's forward and
//! adjoint side by side.
//!
//! Every op has a panicking form (`a.matmul(&b)`, `a + b`) and a `try_` twin
//! that returns the error instead.

mod binary;
mod index;
mod layout;
mod matmul;
mod reduce;
mod unary;

pub use binary::ScalarOperand;
pub use unary::UnaryFn;
