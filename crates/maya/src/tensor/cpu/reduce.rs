//! Reductions along an axis.

use crate::error::Result;
use crate::tensor::{check_axis, split_at_axis, Tensor};

/// Sum over `axis`; with `keepdim` the axis stays with length 1.
///
/// ```
/// use maya::{Tensor, tensor::cpu::sum_axis};
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]);
/// assert_eq!(sum_axis(&a, 0, false).unwrap().data, vec![5.0, 7.0, 9.0]);
/// assert_eq!(sum_axis(&a, 1, true).unwrap().shape, vec![2, 1]);
/// ```
pub fn sum_axis(x: &Tensor, axis: usize, keepdim: bool) -> Result<Tensor> {
    check_axis("sum_axis", &x.shape, axis)?;
    let mut shape = x.shape.clone();
    if keepdim {
        shape[axis] = 1;
    } else {
        shape.remove(axis);
    }
    let mut out = Tensor::zeros(&shape);
    sum_axis_add_into(&mut out.data, x, axis);
    Ok(out)
}

/// `out += sum of x over axis` (out holds outer × inner elements).
///
/// Unchecked: the caller guarantees a valid axis and an `out` of the right
/// length, as [`sum_axis`] does; so it stays private.
fn sum_axis_add_into(out: &mut [f64], x: &Tensor, axis: usize) {
    let (outer, len, inner) = split_at_axis(&x.shape, axis);
    for o in 0..outer {
        let dst = &mut out[o * inner..(o + 1) * inner];
        for l in 0..len {
            let src = &x.data[(o * len + l) * inner..(o * len + l + 1) * inner];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        }
    }
}
