//! The `Tensor` value type and its constructors.

use super::shape::numel;
use crate::error::OrPanic;
use crate::error::{Error, Result};

/// An f64 tensor: contiguous, row-major, with public `data` and `shape`.
///
/// The scalar shape is `[]` (one element).
///
/// ```
/// use maya::Tensor;
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]);
/// assert_eq!(a.shape, vec![2, 3]);
/// assert_eq!(a.at(&[1, 2]), 6.0);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Tensor {
    /// The elements in row-major order.
    pub data: Vec<f64>,
    /// The length of each axis.
    pub shape: Vec<usize>,
}

impl Tensor {
    /// A tensor from its elements (row-major) and shape.
    ///
    /// Panics if `data.len()` is not the product of `shape`; see
    /// [`Tensor::try_from_data`].
    #[track_caller]
    pub fn from_data(data: Vec<f64>, shape: Vec<usize>) -> Tensor {
        Self::try_from_data(data, shape).or_panic()
    }

    /// [`Tensor::from_data`], returning an error on a length mismatch.
    ///
    /// ```
    /// use maya::Tensor;
    /// assert!(Tensor::try_from_data(vec![1.0; 5], vec![2, 3]).is_err());
    /// ```
    pub fn try_from_data(data: Vec<f64>, shape: Vec<usize>) -> Result<Tensor> {
        let expected = numel(&shape);
        if data.len() != expected {
            return Err(Error::DataLength {
                op: "Tensor::from_data",
                len: data.len(),
                shape,
                expected,
            });
        }
        Ok(Tensor { data, shape })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Self::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Self::full(shape, 1.0)
    }

    /// A tensor with every element equal to `value`.
    pub fn full(shape: &[usize], value: f64) -> Tensor {
        Tensor {
            data: vec![value; numel(shape)],
            shape: shape.to_vec(),
        }
    }

    /// A scalar (shape `[]`).
    ///
    /// ```
    /// assert_eq!(maya::Tensor::scalar(2.5).item(), 2.5);
    /// ```
    pub fn scalar(value: f64) -> Tensor {
        Tensor {
            data: vec![value],
            shape: vec![],
        }
    }

    /// A tensor whose element at multi-index `idx` is `f(idx)`.
    ///
    /// ```
    /// let t = maya::Tensor::from_fn(&[2, 2], |i| (10 * i[0] + i[1]) as f64);
    /// assert_eq!(t.data, vec![0.0, 1.0, 10.0, 11.0]);
    /// ```
    pub fn from_fn(shape: &[usize], mut f: impl FnMut(&[usize]) -> f64) -> Tensor {
        let n = numel(shape);
        let mut idx = vec![0; shape.len()];
        let mut data = Vec::with_capacity(n);
        for _ in 0..n {
            data.push(f(&idx));
            for ax in (0..shape.len()).rev() {
                idx[ax] += 1;
                if idx[ax] < shape[ax] {
                    break;
                }
                idx[ax] = 0;
            }
        }
        Tensor {
            data,
            shape: shape.to_vec(),
        }
    }

    /// `n` evenly spaced values from `start` to `end` inclusive, shape `[n]`.
    pub fn linspace(start: f64, end: f64, n: usize) -> Tensor {
        let step = if n > 1 {
            (end - start) / (n - 1) as f64
        } else {
            0.0
        };
        Tensor::from_data((0..n).map(|i| start + step * i as f64).collect(), vec![n])
    }

    /// Deterministic pseudo-random values, uniform in `[-1, 1)`, from `seed`
    /// (a SplitMix64 stream): for tests and examples that must be repeatable.
    pub fn rand_uniform(shape: &[usize], seed: u64) -> Tensor {
        let mut state = seed;
        let data = (0..numel(shape))
            .map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect();
        Tensor {
            data,
            shape: shape.to_vec(),
        }
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The value of a one-element tensor.
    ///
    /// Panics if the tensor has more than one element; see [`Tensor::try_item`].
    #[track_caller]
    pub fn item(&self) -> f64 {
        self.try_item().or_panic()
    }

    /// [`Tensor::item`], returning an error for a tensor of several elements.
    pub fn try_item(&self) -> Result<f64> {
        match self.data.as_slice() {
            [x] => Ok(*x),
            _ => Err(Error::NotScalar {
                op: "item",
                shape: self.shape.clone(),
            }),
        }
    }

    /// The element at a multi-index. Panics if the index is out of range.
    #[track_caller]
    pub fn at(&self, index: &[usize]) -> f64 {
        assert_eq!(
            index.len(),
            self.ndim(),
            "at: index {index:?} has {} axes, the tensor of shape {:?} has {}",
            index.len(),
            self.shape,
            self.ndim()
        );
        let mut off = 0;
        for (ax, (&i, &n)) in index.iter().zip(&self.shape).enumerate() {
            assert!(
                i < n,
                "at: index {i} on axis {ax} is out of range for shape {:?}",
                self.shape
            );
            off = off * n + i;
        }
        self.data[off]
    }

    /// The same elements under a new shape with as many elements.
    ///
    /// Panics on a count mismatch; see [`Tensor::try_reshape`].
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        self.try_reshape(shape).or_panic()
    }

    /// [`Tensor::reshape`], returning an error on a count mismatch.
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if numel(shape) != self.numel() {
            return Err(Error::Shape {
                op: "reshape",
                lhs: self.shape.clone(),
                rhs: shape.to_vec(),
                hint: "the new shape must hold as many elements as the old one",
            });
        }
        Ok(Tensor {
            data: self.data.clone(),
            shape: shape.to_vec(),
        })
    }

    /// Whether every element is finite.
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }

    /// The largest absolute difference to another tensor of the same shape.
    #[track_caller]
    pub fn max_abs_diff(&self, other: &Tensor) -> f64 {
        assert_eq!(self.shape, other.shape, "max_abs_diff: shapes differ");
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_data_checks_length() {
        let e = Tensor::try_from_data(vec![1.0; 5], vec![2, 3]).unwrap_err();
        assert_eq!(
            e,
            Error::DataLength {
                op: "Tensor::from_data",
                len: 5,
                shape: vec![2, 3],
                expected: 6
            }
        );
    }

    #[test]
    fn rand_is_repeatable_and_in_range() {
        let a = Tensor::rand_uniform(&[100], 7);
        assert_eq!(a, Tensor::rand_uniform(&[100], 7));
        assert!(a.data.iter().all(|&x| (-1.0..1.0).contains(&x)));
        assert_ne!(a, Tensor::rand_uniform(&[100], 8));
    }
}
