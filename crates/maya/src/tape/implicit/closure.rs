//! The implicit node for residuals written with tape ops: derivatives of
//! r come from reverse sweeps of an inner tape.

use super::triplets::Triplets;
use super::{ImplicitProblem, NewtonOptions};
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

/// An [`ImplicitProblem`] whose r(x, θ) is recorded by a closure on a
/// fresh inner tape at every evaluation.
struct TapeResidual<F> {
    residual: F,
    shape: Vec<usize>,
}

impl<F> TapeResidual<F>
where
    F: for<'s> Fn(&'s TensorTape, TVar<'s>, &[TVar<'s>]) -> Result<TVar<'s>> + Send + 'static,
{
    /// Records r on `tape` with x and θ as variables or constants.
    fn record<'s>(
        &self,
        tape: &'s TensorTape,
        x: TVar<'s>,
        theta: &[TVar<'s>],
    ) -> Result<TVar<'s>> {
        let r = (self.residual)(tape, x, theta)?;
        if !std::ptr::eq(r.tape(), tape) {
            return Err(Error::ForeignHandle {
                op: "solve_implicit_with",
            });
        }
        let n: usize = self.shape.iter().product();
        if r.with_value(Tensor::numel) != n {
            return Err(Error::Shape {
                op: "solve_implicit_with",
                lhs: r.shape(),
                rhs: self.shape.clone(),
                hint: "r(x, θ) must have as many elements as x",
            });
        }
        Ok(r)
    }

    fn x_tensor(&self, x: &[f64]) -> Tensor {
        Tensor::from_data(x.to_vec(), self.shape.clone())
    }
}

impl<F> ImplicitProblem for TapeResidual<F>
where
    F: for<'s> Fn(&'s TensorTape, TVar<'s>, &[TVar<'s>]) -> Result<TVar<'s>> + Send + 'static,
{
    fn name(&self) -> &'static str {
        "solve_implicit_with"
    }

    fn residual(&self, x: &[f64], theta: &[&Tensor], r: &mut [f64]) -> Result<()> {
        let tape = TensorTape::new();
        let xv = tape.constant(self.x_tensor(x));
        let th: Vec<TVar> = theta.iter().map(|t| tape.constant((*t).clone())).collect();
        self.record(&tape, xv, &th)?
            .with_value(|v| r.copy_from_slice(&v.data));
        Ok(())
    }

    /// Row i of J is the gradient of rᵢ: one seeded sweep per row, all n²
    /// entries pushed (a fixed pattern).
    fn jacobian(&self, x: &[f64], theta: &[&Tensor], jacobian: &mut Triplets) -> Result<()> {
        let tape = TensorTape::new();
        let xv = tape.var(self.x_tensor(x));
        let th: Vec<TVar> = theta.iter().map(|t| tape.constant((*t).clone())).collect();
        let r = self.record(&tape, xv, &th)?;
        let mut seed = Tensor::zeros(&r.shape());
        for i in 0..x.len() {
            seed.data[i] = 1.0;
            let row = tape.try_grad_seeded(&[(r, seed.clone())], &[xv])?;
            seed.data[i] = 0.0;
            for (j, &v) in row[0].data.iter().enumerate() {
                jacobian.push(i, j, v);
            }
        }
        Ok(())
    }

    /// wᵀ∂r/∂θ: one sweep seeded with w.
    fn vjp_theta(
        &self,
        x: &[f64],
        theta: &[&Tensor],
        w: &[f64],
        grad_theta: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let tape = TensorTape::new();
        let xv = tape.constant(self.x_tensor(x));
        let th: Vec<TVar> = theta
            .iter()
            .zip(needs_grad)
            .map(|(t, &need)| {
                if need {
                    tape.var((*t).clone())
                } else {
                    tape.constant((*t).clone())
                }
            })
            .collect();
        let r = self.record(&tape, xv, &th)?;
        let seed = Tensor::from_data(w.to_vec(), r.shape());
        let grads = tape.try_grad_seeded(&[(r, seed)], &th)?;
        for ((acc, g), &need) in grad_theta.iter_mut().zip(&grads).zip(needs_grad) {
            if need {
                acc.data.iter_mut().zip(&g.data).for_each(|(a, b)| *a += b);
            }
        }
        Ok(())
    }
}

impl TensorTape {
    /// Records x* = the root of r(x, θ) = 0 found by Newton's method from
    /// `x0`, with r written by `residual` in tape ops; like
    /// [`TensorTape::solve_implicit`] (the same Newton solver, node and
    /// implicit-function-theorem gradient), without hand-written
    /// derivatives.
    ///
    /// `residual(tape, x, θ)` records r on the fresh inner tape it is given
    /// (x with x0's shape, θ = `theta`'s values) and returns it, with as
    /// many elements as x. It must capture no value of this tape (pass
    /// them in `theta`): the `'static` bound enforces it.
    ///
    /// Cost: J = ∂r/∂x is assembled densely, one reverse sweep of the
    /// inner tape per row (n sweeps and n² entries per Newton iteration),
    /// and factored by sparse LU: fine for small n (up to a few hundred);
    /// for large sparse systems implement [`ImplicitProblem`].
    ///
    /// ```
    /// use maya::tape::NewtonOptions;
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let a = t.var(Tensor::from_data(vec![2.0], vec![1]));
    /// // r(x, a) = x³ + x − a: x* = 1 at a = 2, dx*/da = 1/(3x*² + 1) = 1/4.
    /// let x = t.solve_implicit_with(&Tensor::zeros(&[1]), &[a], &NewtonOptions::default(),
    ///     |_tape, x, th| Ok(x.powf(3.0).add(&x).sub(&th[0])));
    /// assert!((x.item() - 1.0).abs() < 1e-12);
    /// assert!((t.grad(x.sum())[a.idx()].data[0] - 0.25).abs() < 1e-12);
    /// ```
    ///
    /// Panics if the solve fails; see [`TensorTape::try_solve_implicit_with`].
    #[track_caller]
    pub fn solve_implicit_with<'t, F>(
        &'t self,
        x0: &Tensor,
        theta: &[TVar<'t>],
        options: &NewtonOptions,
        residual: F,
    ) -> TVar<'t>
    where
        F: for<'s> Fn(&'s TensorTape, TVar<'s>, &[TVar<'s>]) -> Result<TVar<'s>> + Send + 'static,
    {
        self.try_solve_implicit_with(x0, theta, options, residual)
            .or_panic()
    }

    /// [`TensorTape::solve_implicit_with`], returning the error instead
    /// (those of [`TensorTape::try_solve_implicit`], the closure's own, or
    /// [`Error::Shape`] for an r that does not have x's size).
    pub fn try_solve_implicit_with<'t, F>(
        &'t self,
        x0: &Tensor,
        theta: &[TVar<'t>],
        options: &NewtonOptions,
        residual: F,
    ) -> Result<TVar<'t>>
    where
        F: for<'s> Fn(&'s TensorTape, TVar<'s>, &[TVar<'s>]) -> Result<TVar<'s>> + Send + 'static,
    {
        let problem = TapeResidual {
            residual,
            shape: x0.shape.clone(),
        };
        self.try_solve_implicit(problem, x0, theta, options)
    }
}
