//! CPU loops over tensors: the forward computations that kernels call.
//!
//! These functions know nothing of tapes. Each returns `Result` for shape
//! errors; the tape ops above them add the panicking forms.

mod elementwise;
mod index;
mod layout;
mod matmul;
mod reduce;

pub use elementwise::{map, zip_broadcast};
pub use index::{index_add_into, index_select};
pub use layout::{concat, slice, slice_add_into, transpose};
pub use matmul::{matmul, matmul_acc, matmul_shape};
pub use reduce::{sum_axis, sum_axis_add_into};
