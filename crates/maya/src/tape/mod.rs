//! The tensor tape: `TensorTape`, `TVar`, the `Kernel` trait, the reverse
//! sweep, checkpointing and implicit (Newton-solved) nodes.

mod budget;
mod checkpoint;
pub mod implicit;
mod kernel;
mod sweep;
mod tensor_tape;
mod value;

pub use implicit::{
    newton_solve, try_newton_solve, Factorization, HangingChain, ImplicitProblem, NewtonOptions,
    NewtonSolution, SparseSolver, Triplets,
};
pub use kernel::Kernel;
#[cfg(feature = "gpu")]
pub(crate) use kernel::RecordedKernel;
pub use sweep::TensorGradients;
pub use tensor_tape::{TVar, TensorTape};
#[cfg(feature = "gpu")]
pub(crate) use value::{check_same_place, Value};
