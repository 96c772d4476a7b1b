//! CPU loops over tensors: the forward computations that kernels call.
//!
//! These functions know nothing of tapes. Each public one returns `Result`
//! for shape errors; the tape ops above them add the panicking forms. The
//! unchecked accumulation loops (`matmul_acc_on`, `slice_add_into`,
//! `sum_axis_add_into`) trust shapes that their kernel's forward has
//! checked, so they stay inside the crate:
//!
//! ```compile_fail
//! use maya::tensor::cpu::matmul_acc_on; // private: shapes are not checked
//! ```
//! ```compile_fail
//! use maya::tensor::cpu::slice_add_into;
//! ```
//! ```compile_fail
//! use maya::tensor::cpu::sum_axis_add_into;
//! ```

mod elementwise;
mod index;
mod layout;
mod matmul;
mod reduce;

pub use elementwise::{map, zip_broadcast};
pub use index::{index_add_into, index_select};
pub(crate) use layout::slice_add_into;
pub use layout::{concat, slice, transpose};
pub use matmul::{matmul, matmul_shape};
pub(crate) use matmul::{matmul_acc_on, side_by_side, Threads};
pub use reduce::sum_axis;
