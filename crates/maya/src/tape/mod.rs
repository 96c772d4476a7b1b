//! The tensor tape: `TensorTape`, `TVar`, the `Kernel` trait, the reverse
//! sweep and checkpointing.

mod checkpoint;
mod kernel;
mod sweep;
mod tensor_tape;

pub use kernel::Kernel;
pub use sweep::TensorGradients;
pub use tensor_tape::{TVar, TensorTape};
