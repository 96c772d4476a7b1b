//! Shapes, strides and NumPy broadcasting.
//!
//! Broadcasting lives here and only here: binary ops call
//! [`broadcast_shapes`] for the forward pass and [`reduce_to_shape`] in their
//! adjoints, which sums a gradient over the axes that were broadcast.

use super::Tensor;
use crate::error::{Error, Result};

/// Number of elements of a shape (1 for the scalar shape `[]`).
///
/// ```
/// assert_eq!(maya::tensor::numel(&[2, 3]), 6);
/// assert_eq!(maya::tensor::numel(&[]), 1);
/// ```
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of a contiguous tensor of this shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The NumPy broadcast of two shapes: align on the right; each pair of axes
/// must be equal or contain a 1.
///
/// ```
/// use maya::tensor::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[3, 1], &[1, 4], "add").unwrap(), vec![3, 4]);
/// assert_eq!(broadcast_shapes(&[2, 3], &[3], "add").unwrap(), vec![2, 3]);
/// assert!(broadcast_shapes(&[2, 3], &[2], "add").is_err());
/// ```
pub fn broadcast_shapes(a: &[usize], b: &[usize], op: &'static str) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let db = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::Shape {
                    op,
                    lhs: a.to_vec(),
                    rhs: b.to_vec(),
                    hint: "shapes broadcast when, aligned on the right, each pair of axes is equal or one of them is 1",
                })
            }
        };
    }
    Ok(out)
}

/// Strides that read a tensor of shape `shape` as if it had shape `target`
/// (a broadcast): broadcast axes get stride 0.
pub(crate) fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let offset = target.len() - shape.len();
    (0..target.len())
        .map(|i| {
            if i < offset || shape[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Sums `grad` (shaped like a broadcast result) back down to `shape`, the
/// shape of an input before broadcasting: the adjoint of broadcasting.
///
/// ```
/// use maya::{Tensor, tensor::reduce_to_shape};
/// let g = Tensor::ones(&[3, 4]);
/// assert_eq!(reduce_to_shape(&g, &[1, 4]).data, vec![3.0; 4]);
/// assert_eq!(reduce_to_shape(&g, &[]).data, vec![12.0]);
/// ```
pub fn reduce_to_shape(grad: &Tensor, shape: &[usize]) -> Tensor {
    if grad.shape == shape {
        return grad.clone();
    }
    let mut out = Tensor::zeros(shape);
    accumulate_reduced(&mut out.data, shape, grad);
    out
}

/// `acc += reduce_to_shape(grad, shape)`, without a temporary.
pub fn accumulate_reduced(acc: &mut [f64], shape: &[usize], grad: &Tensor) {
    if grad.shape == shape {
        for (a, g) in acc.iter_mut().zip(&grad.data) {
            *a += g;
        }
        return;
    }
    if acc.len() == 1 {
        acc[0] += grad.data.iter().sum::<f64>();
        return;
    }
    let st = broadcast_strides(shape, &grad.shape);
    for_each_index(&grad.shape, &[&st], |i, offs| acc[offs[0]] += grad.data[i]);
}

/// Visits every element of a row-major tensor of shape `shape` in order,
/// passing its linear index and its offsets under each set of `strides`.
/// Offsets are updated incrementally: no division per element.
pub(crate) fn for_each_index<const K: usize>(
    shape: &[usize],
    strides: &[&[usize]; K],
    mut f: impl FnMut(usize, [usize; K]),
) {
    let n = numel(shape);
    if n == 0 {
        return;
    }
    let nd = shape.len();
    let mut counter = vec![0usize; nd];
    let mut offs = [0usize; K];
    for i in 0..n {
        f(i, offs);
        // Increment the multi-index, carrying from the last axis.
        for ax in (0..nd).rev() {
            counter[ax] += 1;
            for k in 0..K {
                offs[k] += strides[k][ax];
            }
            if counter[ax] < shape[ax] {
                break;
            }
            for k in 0..K {
                offs[k] -= strides[k][ax] * shape[ax];
            }
            counter[ax] = 0;
        }
    }
}

/// Checks that `axis` exists in `shape`.
pub(crate) fn check_axis(op: &'static str, shape: &[usize], axis: usize) -> Result<()> {
    if axis < shape.len() {
        Ok(())
    } else {
        Err(Error::Axis {
            op,
            axis,
            shape: shape.to_vec(),
        })
    }
}

/// Splits a shape around `axis` into (outer, len, inner) element counts.
pub(crate) fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        numel(&shape[..axis]),
        shape[axis],
        numel(&shape[axis + 1..]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shapes(&[], &[2, 2], "t").unwrap(), vec![2, 2]);
        assert_eq!(
            broadcast_shapes(&[5, 1, 3], &[4, 1], "t").unwrap(),
            vec![5, 4, 3]
        );
        let e = broadcast_shapes(&[2, 3], &[4], "add").unwrap_err();
        assert!(e.to_string().contains("[2, 3]") && e.to_string().contains("[4]"));
    }

    #[test]
    fn reduce_sums_broadcast_axes() {
        // grad[i][j] = 10 i + j over [2, 3]; reduce to [3] sums over i.
        let g = Tensor::from_data(vec![0., 1., 2., 10., 11., 12.], vec![2, 3]);
        assert_eq!(reduce_to_shape(&g, &[3]).data, vec![10., 12., 14.]);
        assert_eq!(reduce_to_shape(&g, &[2, 1]).data, vec![3., 33.]);
    }
}
