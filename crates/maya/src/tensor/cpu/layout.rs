//! Layout loops: transpose, slice and concatenation.

use crate::error::{Error, Result};
use crate::tensor::{check_axis, split_at_axis, Tensor};

/// Swaps the last two axes (`[..., m, n] -> [..., n, m]`).
///
/// ```
/// use maya::{Tensor, tensor::cpu::transpose};
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]);
/// assert_eq!(transpose(&a).unwrap().data, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
pub fn transpose(x: &Tensor) -> Result<Tensor> {
    let nd = x.ndim();
    if nd < 2 {
        return Err(Error::Rank {
            op: "transpose",
            shape: x.shape.clone(),
            needs: "at least 2 axes (it swaps the last two)",
        });
    }
    let (m, n) = (x.shape[nd - 2], x.shape[nd - 1]);
    let mut shape = x.shape.clone();
    shape.swap(nd - 2, nd - 1);
    let mut out = Tensor::zeros(&shape);
    if m * n == 0 {
        // No elements to move (and chunks of length 0 are not allowed).
        return Ok(out);
    }
    for (src, dst) in x
        .data
        .chunks_exact(m * n)
        .zip(out.data.chunks_exact_mut(m * n))
    {
        for i in 0..m {
            for j in 0..n {
                dst[j * m + i] = src[i * n + j];
            }
        }
    }
    Ok(out)
}

/// Checks a range `start..end` along `axis`: it must not be reversed and
/// must end within the axis (`start..start` is empty and valid).
fn check_range(x: &Tensor, axis: usize, start: usize, end: usize) -> Result<()> {
    check_axis("slice", &x.shape, axis)?;
    let len = x.shape[axis];
    let problem = if start > end {
        "is reversed: its start is past its end (write start..end with start <= end; start..start is empty)"
    } else if end > len {
        "ends past the end of the axis"
    } else {
        return Ok(());
    };
    Err(Error::Range {
        op: "slice",
        axis,
        start,
        end,
        len,
        problem,
    })
}

/// The entries `start..end` along `axis`.
///
/// ```
/// use maya::{Tensor, tensor::cpu::slice};
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]);
/// assert_eq!(slice(&a, 1, 1, 3).unwrap().data, vec![2.0, 3.0, 5.0, 6.0]);
/// ```
pub fn slice(x: &Tensor, axis: usize, start: usize, end: usize) -> Result<Tensor> {
    check_range(x, axis, start, end)?;
    let (outer, len, inner) = split_at_axis(&x.shape, axis);
    let mut shape = x.shape.clone();
    shape[axis] = end - start;
    let mut data = Vec::with_capacity(outer * (end - start) * inner);
    for o in 0..outer {
        data.extend_from_slice(&x.data[(o * len + start) * inner..(o * len + end) * inner]);
    }
    Ok(Tensor { data, shape })
}

/// `out[.., start..end, ..] += src` along `axis`: the adjoint of [`slice()`].
/// Unchecked: the caller (the slice kernel, whose forward checked the range)
/// guarantees that `src` fits in `out` at `start`.
pub(crate) fn slice_add_into(out: &mut Tensor, axis: usize, start: usize, src: &Tensor) {
    let (outer, len, inner) = split_at_axis(&out.shape, axis);
    let width = src.shape[axis] * inner;
    for o in 0..outer {
        let dst = &mut out.data[(o * len + start) * inner..][..width];
        for (d, s) in dst.iter_mut().zip(&src.data[o * width..(o + 1) * width]) {
            *d += s;
        }
    }
}

/// Joins tensors along `axis`; all other axes must agree.
///
/// ```
/// use maya::{Tensor, tensor::cpu::concat};
/// let a = Tensor::from_data(vec![1.0, 2.0], vec![1, 2]);
/// let b = Tensor::from_data(vec![3.0, 4.0], vec![1, 2]);
/// assert_eq!(concat(&[&a, &b], 0).unwrap().shape, vec![2, 2]);
/// ```
pub fn concat(xs: &[&Tensor], axis: usize) -> Result<Tensor> {
    let first = xs.first().ok_or(Error::Empty { op: "concat" })?;
    check_axis("concat", &first.shape, axis)?;
    let mut shape = first.shape.clone();
    shape[axis] = 0;
    for x in xs {
        let same_rank = x.ndim() == first.ndim();
        let others_agree =
            same_rank && (0..x.ndim()).all(|ax| ax == axis || x.shape[ax] == first.shape[ax]);
        if !others_agree {
            return Err(Error::Shape {
                op: "concat",
                lhs: first.shape.clone(),
                rhs: x.shape.clone(),
                hint: "every axis but the one joined along must agree",
            });
        }
        shape[axis] += x.shape[axis];
    }
    let (outer, _, inner) = split_at_axis(&shape, axis);
    let mut data = Vec::with_capacity(crate::tensor::numel(&shape));
    for o in 0..outer {
        for x in xs {
            let w = x.shape[axis] * inner;
            data.extend_from_slice(&x.data[o * w..(o + 1) * w]);
        }
    }
    Ok(Tensor { data, shape })
}
