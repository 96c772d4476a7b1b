//! `Tensor`: f64, contiguous, row-major; shapes and broadcasting; CPU loops.

pub mod cpu;
mod shape;
#[allow(clippy::module_inception)]
mod tensor;

pub use shape::{accumulate_reduced, broadcast_shapes, numel, reduce_to_shape, strides};
pub(crate) use shape::{broadcast_strides, check_axis, for_each_index, split_at_axis};
pub use tensor::Tensor;
