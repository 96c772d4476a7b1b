//! Matrix product: C = A B over the last two axes, batch axes broadcast.
//!
//! Adjoint: ∂L/∂A = ∂L/∂C Bᵀ, ∂L/∂B = Aᵀ ∂L/∂C, summed over batch axes an
//! input was broadcast along. All products go through faer.

use crate::error::OrPanic;
use crate::error::Result;
use crate::tape::{Kernel, TVar};
use crate::tensor::{cpu, Tensor};

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
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let (a, b, grad_out) = (inputs[0], inputs[1], grad_outputs[0]);
        let [grad_a, grad_b] = grad_inputs else {
            unreachable!("matmul has two inputs")
        };
        cpu::matmul_acc(grad_a, grad_out, false, b, true);
        cpu::matmul_acc(grad_b, a, true, grad_out, false);
        Ok(())
    }
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
