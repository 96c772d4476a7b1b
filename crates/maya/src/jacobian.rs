//! Jacobians by reverse sweeps of the tensor tape.
//!
//! For y = f(x), J[i, e] = ∂yᵢ/∂xₑ. Reverse mode gives one row per sweep:
//! the sweep seeded with the unit vector of yᵢ returns eᵢᵀ J = ∂yᵢ/∂x. So
//! the Jacobian costs numel(y) sweeps of the tape recorded once; its shape
//! is `y.shape ++ x.shape`, as `jax.jacrev` returns it.

use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

/// The Jacobian of `f` at `x`, of shape `f(x).shape ++ x.shape`: entry
/// `[i…, e…]` is ∂f(x)[i…]/∂x[e…].
///
/// ```
/// use maya::{jacobian, Tensor};
/// // f(x) = [x₀ x₁, x₀²]: J = [[x₁, x₀], [2x₀, 0]].
/// let x = Tensor::from_data(vec![3.0, 5.0], vec![2]);
/// let j = jacobian(|t, x| t.stack(&[x.at(&[0]).mul(&x.at(&[1])), x.at(&[0]).square()], 0), &x).unwrap();
/// assert_eq!(j.shape, vec![2, 2]);
/// assert_eq!(j.data, vec![5.0, 3.0, 6.0, 0.0]);
/// ```
///
/// Returns the sweep's error: a kernel whose adjoint fails, or, on a
/// checked tape, the first non-finite value.
pub fn jacobian<F>(f: F, x: &Tensor) -> Result<Tensor>
where
    F: for<'t> Fn(&'t TensorTape, TVar<'t>) -> TVar<'t>,
{
    let tape = TensorTape::new();
    let xv = tape.var(x.clone());
    let y = f(&tape, xv);
    tape.try_jacobian(y, xv)
}

impl TensorTape {
    /// The Jacobian ∂y/∂x of two values of this tape, of shape
    /// `y.shape ++ x.shape`, by one reverse sweep per element of `y`.
    ///
    /// Panics on a handle of another tape or a failed sweep; see
    /// [`TensorTape::try_jacobian`].
    #[track_caller]
    pub fn jacobian(&self, y: TVar<'_>, x: TVar<'_>) -> Tensor {
        self.try_jacobian(y, x).or_panic()
    }

    /// [`TensorTape::jacobian`], returning [`Error::ForeignHandle`] for a
    /// handle of another tape and the sweep's own errors.
    pub fn try_jacobian(&self, y: TVar<'_>, x: TVar<'_>) -> Result<Tensor> {
        if !std::ptr::eq(y.tape(), self) || !std::ptr::eq(x.tape(), self) {
            return Err(Error::ForeignHandle { op: "jacobian" });
        }
        let (y_shape, x_shape) = (y.shape(), x.shape());
        let mut seed = Tensor::zeros(&y_shape);
        let mut data = Vec::with_capacity(seed.numel() * crate::tensor::numel(&x_shape));
        for i in 0..seed.numel() {
            seed.data[i] = 1.0;
            let row = self.try_grad_seeded(&[(y, seed.clone())], &[x])?;
            seed.data[i] = 0.0;
            data.extend_from_slice(&row[0].data);
        }
        let shape = y_shape.into_iter().chain(x_shape).collect();
        Ok(Tensor { data, shape })
    }
}
