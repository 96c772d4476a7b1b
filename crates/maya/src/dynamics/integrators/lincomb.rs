//! A fused linear combination y = Σᵢ cᵢ·xᵢ: the stage arithmetic of
//! RK4 and velocity Verlet in one node.
//!
//! Adjoint: ∂L/∂xᵢ = cᵢ·ḡy (summed over the axes where xᵢ was broadcast).

use super::{accumulate_broadcast, expand};
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{Kernel, TVar};
use crate::tensor::Tensor;

/// The fused kernel: inputs `x₀ … xₖ`, output `Σ cᵢ xᵢ` shaped like `x₀`.
pub(crate) struct LinComb {
    pub coeffs: Vec<f64>,
}

impl Kernel for LinComb {
    type Saved = ();

    fn name(&self) -> &'static str {
        "lincomb"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let shape = &inputs[0].shape;
        let mut y = Tensor::zeros(shape);
        for (x, &c) in inputs.iter().zip(&self.coeffs) {
            let x = expand(self.name(), x, shape)?;
            for (y, x) in y.data.iter_mut().zip(&x.data) {
                *y += c * x;
            }
        }
        Ok((vec![y], ()))
    }

    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let gy = grad_outputs[0];
        for ((g, x), &c) in grad_inputs.iter_mut().zip(inputs).zip(&self.coeffs) {
            if x.shape == gy.shape {
                for (g, gy) in g.data.iter_mut().zip(&gy.data) {
                    *g += c * gy;
                }
            } else {
                let scaled = Tensor {
                    data: gy.data.iter().map(|gy| c * gy).collect(),
                    shape: gy.shape.clone(),
                };
                accumulate_broadcast(g, &scaled);
            }
        }
        Ok(())
    }
}

/// y = Σᵢ cᵢ·xᵢ as one tape node; every xᵢ broadcasts to the shape of
/// `xs[0]`.
///
/// ```
/// use maya::{dynamics::lincomb, Tensor, TensorTape};
/// let t = TensorTape::new();
/// let a = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
/// let b = t.var(Tensor::from_data(vec![10.0], vec![1]));
/// assert_eq!(lincomb(&[a, b], &[2.0, 0.5]).value().data, vec![7.0, 9.0]);
/// ```
///
/// Panics on shapes that do not broadcast or a length mismatch; see
/// [`try_lincomb`].
#[track_caller]
pub fn lincomb<'t>(xs: &[TVar<'t>], coeffs: &[f64]) -> TVar<'t> {
    try_lincomb(xs, coeffs).or_panic()
}

/// [`lincomb`], returning an error instead.
pub fn try_lincomb<'t>(xs: &[TVar<'t>], coeffs: &[f64]) -> Result<TVar<'t>> {
    let Some(first) = xs.first() else {
        return Err(Error::Empty { op: "lincomb" });
    };
    if xs.len() != coeffs.len() {
        return Err(Error::Shape {
            op: "lincomb",
            lhs: vec![xs.len()],
            rhs: vec![coeffs.len()],
            hint: "give one coefficient per term",
        });
    }
    first.tape.try_apply1(
        LinComb {
            coeffs: coeffs.to_vec(),
        },
        xs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck;

    #[test]
    fn gradcheck_with_broadcast() {
        let r = gradcheck(
            |_t, x| lincomb(&[x[0], x[1], x[2]], &[1.0, -0.5, 2.0]).sin(),
            &[
                Tensor::rand_uniform(&[3, 2], 1),
                Tensor::rand_uniform(&[2], 2),
                Tensor::rand_uniform(&[3, 2], 3),
            ],
        );
        assert!(r.passed, "{r}");
    }
}
