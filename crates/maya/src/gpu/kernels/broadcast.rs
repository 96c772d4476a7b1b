//! Broadcasting on the device: `a + b` and `a ⊙ b` for shapes that
//! broadcast by the host's rules ([`broadcast_shapes`]), and the adjoint
//! of a broadcast, summing an output's gradient back to an input's shape
//! in a fixed order (`wgsl/broadcast.wgsl`).

use super::{groups, kernel, len_u32, same_device, GROUP};
use crate::error::{Error, Result};
use crate::gpu::tensor::DeviceTensor;
use crate::tensor::{broadcast_shapes, broadcast_strides, numel};

const BROADCAST: &str = include_str!("../wgsl/broadcast.wgsl");

/// Axes the kernels take (three arrays of `vec4<u32>` pairs in the uniform).
const MAX_RANK: usize = 8;

/// The kernel's uniform: four counts, then three arrays of [`MAX_RANK`]
/// axes.
fn params(
    n: usize,
    shape: &[usize],
    reduce: usize,
    with_other: bool,
    first: &[usize],
    second: &[usize],
) -> Result<Vec<u8>> {
    let too_big = |x: usize| {
        u32::try_from(x).map_err(|_| Error::Unsupported {
            what: "device broadcast",
            reason: "an extent, stride or entry count over u32",
        })
    };
    let mut words = vec![
        too_big(n)?,
        shape.len() as u32,
        too_big(reduce)?,
        with_other as u32,
    ];
    for axes in [shape, first, second] {
        let mut padded = [1u32; MAX_RANK];
        for (p, &x) in padded.iter_mut().zip(axes) {
            *p = too_big(x)?;
        }
        words.extend(padded);
    }
    Ok(words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// The broadcast result's shape, or [`Error::Shape`] naming both shapes;
/// [`Error::Unsupported`] past [`MAX_RANK`] axes.
fn result_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let shape = broadcast_shapes(a, b, op)?;
    if shape.len() > MAX_RANK {
        return Err(Error::Unsupported {
            what: "device broadcast",
            reason: "more than 8 axes",
        });
    }
    Ok(shape)
}

/// `a ∘ b` broadcast, for `entry` in {"add", "mul"}.
pub(crate) fn binary(
    entry: &'static str,
    a: &DeviceTensor,
    b: &DeviceTensor,
) -> Result<DeviceTensor> {
    same_device(entry, &[a, b])?;
    let shape = result_shape(entry, a.shape(), b.shape())?;
    let device = a.device();
    let out = a.zeros_like(&shape)?;
    let n = numel(&shape);
    len_u32(device, n, entry)?;
    let sa = broadcast_strides(a.shape(), &shape);
    let sb = broadcast_strides(b.shape(), &shape);
    let uniform = params(n, &shape, 0, false, &sa, &sb)?;
    let k = kernel("broadcast", BROADCAST, entry);
    device.launch(&k, &uniform, &[a, b], &[&out], groups(n, GROUP))?;
    Ok(out)
}

/// `grad += Σ gy` (or `Σ gy ⊙ other` with `other`) over the axes that
/// `grad`'s shape was broadcast along to reach `gy`'s: the adjoint of a
/// broadcast add (or of a broadcast product, `other` the other factor,
/// whose shape broadcasts to `gy`'s). Each entry of `grad` sums its
/// broadcast entries in row-major order, one thread each; a single entry
/// is summed by the fixed tree of [`sum`](super::sum) instead.
pub(crate) fn reduce_into(
    grad: &DeviceTensor,
    gy: &DeviceTensor,
    other: Option<&DeviceTensor>,
) -> Result<()> {
    let op = "device broadcast adjoint";
    let shape = gy.shape();
    // The gradient's shape must broadcast to gy's, as its input's did.
    if result_shape(op, grad.shape(), shape)? != shape {
        return Err(Error::Shape {
            op,
            lhs: grad.shape().to_vec(),
            rhs: shape.to_vec(),
            hint: "the gradient's shape must broadcast to the output's",
        });
    }
    let with_other = other.is_some();
    let other = other.unwrap_or(gy);
    same_device(op, &[grad, gy, other])?;
    if grad.shape() == shape && other.shape() == shape {
        return if with_other {
            super::mul_into(grad, gy, other)
        } else {
            super::add_into(grad, gy)
        };
    }
    if grad.numel() == 1 {
        let summed = if with_other {
            super::sum(&binary("mul", gy, other)?)?
        } else {
            super::sum(gy)?
        };
        return super::broadcast_into(grad, &summed);
    }
    let device = grad.device();
    let n = grad.numel();
    len_u32(device, numel(shape), op)?;
    let offset = shape.len() - grad.shape().len();
    let extents: Vec<usize> = (0..shape.len())
        .map(|d| {
            if d < offset {
                1
            } else {
                grad.shape()[d - offset]
            }
        })
        .collect();
    let so = broadcast_strides(other.shape(), shape);
    let reduce = numel(shape) / n.max(1);
    let uniform = params(n, shape, reduce, with_other, &extents, &so)?;
    let k = kernel("broadcast", BROADCAST, "reduce_into");
    device.launch(&k, &uniform, &[gy, other], &[grad], groups(n, GROUP))
}
