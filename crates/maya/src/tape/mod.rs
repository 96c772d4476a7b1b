//! The tensor tape: `TensorTape`, `TVar`, the `Kernel` trait, the reverse
//! sweep, checkpointing and implicit (Newton-solved) nodes.

mod budget;
mod checkpoint;
pub mod implicit;
mod kernel;
mod sweep;
mod tensor_tape;

pub use implicit::{
    newton_solve, try_newton_solve, Factorization, HangingChain, ImplicitProblem, NewtonOptions,
    NewtonSolution, SparseSolver, Triplets,
};
pub use kernel::Kernel;
pub use sweep::TensorGradients;
pub use tensor_tape::{TVar, TensorTape};
