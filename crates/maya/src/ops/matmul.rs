//! Matrix product: C = A B over the last two axes, batch axes broadcast.
//!
//! Adjoint: ∂L/∂A = ∂L/∂C Bᵀ, ∂L/∂B = Aᵀ ∂L/∂C, summed over batch axes an
//! input was broadcast along. All products go through faer.

use crate::error::OrPanic;
use crate::error::Result;
use crate::tape::{Kernel, TVar};
use crate::tensor::cpu::{self, Threads};
use crate::tensor::Tensor;

struct Matmul;

impl Kernel for Matmul {
    type Saved = ();

    fn name(&self) -> &'static str {
        "matmul"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![cpu::matmul(inputs[0], inputs[1])?], ()))
    }
    fn vjp(
        &self,
        saved: &(),
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let fresh = [false, false];
        self.vjp_fresh(
            saved,
            inputs,
            outputs,
            grad_outputs,
            grad_inputs,
            needs_grad,
            &fresh,
        )
    }

    /// A fresh slot takes its product written, not added (see
    /// `cpu::matmul_acc_on`).
    fn vjp_fresh(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
        fresh: &[bool],
    ) -> Result<()> {
        let (a, b, grad_out) = (inputs[0], inputs[1], grad_outputs[0]);
        let [grad_a, grad_b] = grad_inputs else {
            unreachable!("matmul has two inputs")
        };
        let grad_a_of = |grad_a: &mut Tensor, threads| {
            cpu::matmul_acc_on(grad_a, grad_out, false, b, true, threads, fresh[0])
        };
        let grad_b_of = |grad_b: &mut Tensor, threads| {
            cpu::matmul_acc_on(grad_b, a, true, grad_out, false, threads, fresh[1])
        };
        match (needs_grad[0], needs_grad[1]) {
            // Two mid-sized products run side by side, one thread each:
            // no barrier inside either (small ones stay on one thread).
            (true, true) if cpu::side_by_side(product_flops(grad_out, a)) => {
                rayon::join(
                    || grad_a_of(grad_a, Threads::One),
                    || grad_b_of(grad_b, Threads::One),
                );
            }
            (need_a, need_b) => {
                if need_a {
                    grad_a_of(grad_a, Threads::BySize);
                }
                if need_b {
                    grad_b_of(grad_b, Threads::BySize);
                }
            }
        }
        Ok(())
    }
}

/// Multiply-adds of C = A B: C's entries times A's last axis.
fn product_flops(c: &Tensor, a: &Tensor) -> usize {
    c.numel() * a.shape[a.ndim() - 1]
}

impl<'t> TVar<'t> {
    /// Matrix product `[..., m, k] @ [..., k, n] -> [..., m, n]`, batched over
    /// leading axes (which broadcast).
    ///
    /// Panics on mismatched shapes; see [`TVar::try_matmul`].
    #[track_caller]
    pub fn matmul(&self, other: &TVar<'_>) -> TVar<'t> {
        self.try_matmul(other).or_panic()
    }

    /// [`TVar::matmul`], returning an error naming both shapes.
    pub fn try_matmul(&self, other: &TVar<'_>) -> Result<TVar<'t>> {
        self.same_tape(other, "matmul")?;
        let other = TVar {
            tape: self.tape,
            idx: other.idx,
        };
        self.tape.try_apply1(Matmul, &[*self, other])
    }
}
