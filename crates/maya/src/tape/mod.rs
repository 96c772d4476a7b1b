//! The tensor tape: `TensorTape`, `TVar`, the `Kernel` trait and the reverse
//! sweep.

mod kernel;
mod sweep;
mod tensor_tape;

pub use kernel::Kernel;
pub use sweep::TensorGradients;
pub use tensor_tape::{TVar, TensorTape};
