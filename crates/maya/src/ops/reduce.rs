//! Reductions: sum (all, or over one axis) and mean.
//!
//! y = Σ x, ∂y/∂xᵢ = 1: the adjoint broadcasts the output gradient back.
//! mean is composed from sum and a scale, so it needs no adjoint of its own.

use crate::error::OrPanic;
use crate::error::Result;
use crate::tape::{Kernel, TVar};
use crate::tensor::{check_axis, cpu, split_at_axis, Tensor};

struct Sum;

impl Kernel for Sum {
    type Saved = ();

    fn name(&self) -> &'static str {
        "sum"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![Tensor::scalar(inputs[0].data.iter().sum())], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        _inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let g = grad_outputs[0].data[0];
        grad_inputs[0].data.iter_mut().for_each(|x| *x += g);
        Ok(())
    }
}

struct SumAxis {
    axis: usize,
    keepdim: bool,
}

impl Kernel for SumAxis {
    type Saved = ();

    fn name(&self) -> &'static str {
        "sum_axis"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![cpu::sum_axis(inputs[0], self.axis, self.keepdim)?], ()))
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
        let (outer, len, inner) = split_at_axis(&inputs[0].shape, self.axis);
        let grad_out = &grad_outputs[0].data;
        for o in 0..outer {
            let src = &grad_out[o * inner..(o + 1) * inner];
            for l in 0..len {
                let dst = &mut grad_inputs[0].data[(o * len + l) * inner..][..inner];
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
            }
        }
        Ok(())
    }
}

impl<'t> TVar<'t> {
    /// The sum of all elements, shape `[]`.
    pub fn sum(&self) -> TVar<'t> {
        self.tape
            .try_apply1(Sum, &[*self])
            .expect("sum accepts every shape")
    }

    /// The mean of all elements, shape `[]`.
    pub fn mean(&self) -> TVar<'t> {
        let n = self.with_value(|v| v.numel()) as f64;
        self.sum().scalar_mul(1.0 / n)
    }

    /// The sum over `axis`; with `keepdim` the axis stays, with length 1.
    ///
    /// Panics if the axis does not exist; see [`TVar::try_sum_axis`].
    #[track_caller]
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> TVar<'t> {
        self.try_sum_axis(axis, keepdim).or_panic()
    }

    /// [`TVar::sum_axis`], returning an error naming the axis and shape.
    pub fn try_sum_axis(&self, axis: usize, keepdim: bool) -> Result<TVar<'t>> {
        self.tape.try_apply1(SumAxis { axis, keepdim }, &[*self])
    }

    /// The mean over `axis`.
    #[track_caller]
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> TVar<'t> {
        self.try_mean_axis(axis, keepdim).or_panic()
    }

    /// [`TVar::mean_axis`], returning an error naming the axis and shape.
    pub fn try_mean_axis(&self, axis: usize, keepdim: bool) -> Result<TVar<'t>> {
        let shape = self.shape();
        check_axis("mean_axis", &shape, axis)?;
        Ok(self
            .try_sum_axis(axis, keepdim)?
            .scalar_mul(1.0 / shape[axis] as f64))
    }
}
