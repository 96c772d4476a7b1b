//! Gather and scatter along an axis.

use crate::error::{Error, Result};
use crate::tensor::{check_axis, split_at_axis, Tensor};

fn check_indices(op: &'static str, indices: &[usize], len: usize) -> Result<()> {
    match indices.iter().find(|&&i| i >= len) {
        Some(&index) => Err(Error::Index { op, index, len }),
        None => Ok(()),
    }
}

/// Gathers the entries `indices` along `axis` (an index may repeat).
///
/// ```
/// use maya::{Tensor, tensor::cpu::index_select};
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![3, 2]);
/// let g = index_select(&a, 0, &[2, 0, 2]).unwrap();
/// assert_eq!(g.data, vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
/// ```
pub fn index_select(x: &Tensor, axis: usize, indices: &[usize]) -> Result<Tensor> {
    check_axis("index_select", &x.shape, axis)?;
    let (outer, len, inner) = split_at_axis(&x.shape, axis);
    check_indices("index_select", indices, len)?;
    let mut shape = x.shape.clone();
    shape[axis] = indices.len();
    let mut data = Vec::with_capacity(outer * indices.len() * inner);
    for o in 0..outer {
        for &i in indices {
            data.extend_from_slice(&x.data[(o * len + i) * inner..(o * len + i + 1) * inner]);
        }
    }
    Ok(Tensor { data, shape })
}

/// `out[.., indices[j], ..] += src[.., j, ..]` along `axis` (repeated
/// indices accumulate): the adjoint of [`index_select`].
pub fn index_add_into(
    out: &mut Tensor,
    axis: usize,
    indices: &[usize],
    src: &Tensor,
) -> Result<()> {
    check_axis("index_add", &out.shape, axis)?;
    let (outer, len, inner) = split_at_axis(&out.shape, axis);
    check_indices("index_add", indices, len)?;
    let mut expected = out.shape.clone();
    expected[axis] = indices.len();
    if src.shape != expected {
        return Err(Error::Shape {
            op: "index_add",
            lhs: out.shape.clone(),
            rhs: src.shape.clone(),
            hint: "the source must match the target except along the axis, where its length is the number of indices",
        });
    }
    for o in 0..outer {
        for (j, &i) in indices.iter().enumerate() {
            let s = &src.data[(o * indices.len() + j) * inner..][..inner];
            let d = &mut out.data[(o * len + i) * inner..][..inner];
            for (d, s) in d.iter_mut().zip(s) {
                *d += s;
            }
        }
    }
    Ok(())
}
