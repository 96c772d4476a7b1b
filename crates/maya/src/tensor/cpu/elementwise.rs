//! Elementwise loops: unary maps and broadcasting binary zips.

use crate::error::Result;
use crate::tensor::{broadcast_shapes, broadcast_strides, for_each_index, Tensor};

/// `y[i] = f(x[i])`.
pub fn map(x: &Tensor, f: impl Fn(f64) -> f64) -> Tensor {
    Tensor {
        data: x.data.iter().map(|&v| f(v)).collect(),
        shape: x.shape.clone(),
    }
}

/// `out = f(a, b)` with NumPy broadcasting; fast paths for equal shapes and
/// one-element operands.
///
/// ```
/// use maya::{Tensor, tensor::cpu::zip_broadcast};
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0], vec![3, 1]);
/// let b = Tensor::from_data(vec![10.0, 20.0], vec![1, 2]);
/// let c = zip_broadcast(&a, &b, "add", |x, y| x + y).unwrap();
/// assert_eq!(c.data, vec![11.0, 21.0, 12.0, 22.0, 13.0, 23.0]);
/// ```
pub fn zip_broadcast(
    a: &Tensor,
    b: &Tensor,
    op: &'static str,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Tensor> {
    if a.shape == b.shape {
        let data = a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect();
        return Ok(Tensor {
            data,
            shape: a.shape.clone(),
        });
    }
    let shape = broadcast_shapes(&a.shape, &b.shape, op)?;
    if b.numel() == 1 && shape == a.shape {
        let y = b.data[0];
        return Ok(Tensor {
            data: a.data.iter().map(|&x| f(x, y)).collect(),
            shape,
        });
    }
    if a.numel() == 1 && shape == b.shape {
        let x = a.data[0];
        return Ok(Tensor {
            data: b.data.iter().map(|&y| f(x, y)).collect(),
            shape,
        });
    }
    let sa = broadcast_strides(&a.shape, &shape);
    let sb = broadcast_strides(&b.shape, &shape);
    let mut out = Tensor::zeros(&shape);
    for_each_index(&shape, &[&sa, &sb], |i, [ia, ib]| {
        out.data[i] = f(a.data[ia], b.data[ib]);
    });
    Ok(out)
}
