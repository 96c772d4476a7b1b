//! The `Kernel` trait: one node of the tensor tape.

use super::value::Value;
use crate::error::Result;
use crate::tensor::Tensor;

/// A differentiable op: a forward function from input tensors to output
/// tensors and its adjoint (vector–Jacobian product).
///
/// Every op of maya is a kernel, and users add their own the same way: write
/// `forward` and `vjp`, record it with [`TensorTape::apply`](crate::TensorTape::apply)
/// and check it with [`gradcheck`](crate::gradcheck()).
///
/// The contract:
/// - `forward` returns the outputs and the kernel's **saved state**
///   ([`Kernel::Saved`], as burn's backward state): whatever the adjoint
///   needs besides the inputs and outputs, which the tape keeps anyway.
///   Kernels that need nothing declare `type Saved = ();`.
/// - `needs_grad[i]` tells whether input `i` needs a gradient; a kernel may
///   skip saving or computing what only such inputs need. The slot of an
///   input that needs none is still a zero buffer of the right shape.
/// - `vjp` **accumulates**: it adds each input's gradient into
///   `grad_inputs[i]` (which has that input's shape), never overwrites.
/// - `vjp` may fail (a solver inside it, a replay that does not reproduce);
///   the error reaches [`TensorTape::try_grad`](crate::TensorTape::try_grad).
/// - Kernels are `Send`: a tape can be built on one thread and swept on
///   another.
///
/// ```
/// use maya::{Kernel, Result, Tensor, TensorTape};
///
/// /// y = x³ elementwise; ∂y/∂x = 3x².
/// struct Cube;
/// impl Kernel for Cube {
///     type Saved = ();
///     fn name(&self) -> &'static str { "cube" }
///     fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
///         let x = inputs[0];
///         Ok((vec![Tensor::from_data(x.data.iter().map(|v| v * v * v).collect(), x.shape.clone())], ()))
///     }
///     fn vjp(&self, _saved: &(), inputs: &[&Tensor], _outputs: &[&Tensor], grad_outputs: &[&Tensor],
///            grad_inputs: &mut [&mut Tensor], _needs_grad: &[bool]) -> Result<()> {
///         for ((g, x), go) in grad_inputs[0].data.iter_mut().zip(&inputs[0].data).zip(&grad_outputs[0].data) {
///             *g += 3.0 * x * x * go;
///         }
///         Ok(())
///     }
/// }
///
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
/// let y = t.apply(Cube, &[x])[0];
/// let g = t.grad(y.sum());
/// assert_eq!(g[x.idx()].data, vec![3.0, 12.0]);
/// ```
pub trait Kernel: Send + 'static {
    /// What `forward` keeps for `vjp` besides the inputs and outputs.
    type Saved: Send + 'static;

    /// The op's name, used in error messages and checked-mode reports.
    fn name(&self) -> &'static str;

    /// Computes the outputs from the inputs, and the state `vjp` needs.
    /// Returns an error (naming the shapes) for inputs it cannot take.
    fn forward(
        &self,
        inputs: &[&Tensor],
        needs_grad: &[bool],
    ) -> Result<(Vec<Tensor>, Self::Saved)>;

    /// Adds `∂L/∂input_i = Σ_o grad_outputs[o] · ∂output_o/∂input_i` into
    /// `grad_inputs[i]` for every input `i` with `needs_grad[i]` (others may
    /// be skipped).
    fn vjp(
        &self,
        saved: &Self::Saved,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()>;

    /// [`Kernel::vjp`], told which gradient slots are fresh: `fresh[i]`
    /// means `grad_inputs[i]` holds zeros that nothing has added to yet, so
    /// the kernel may write its contribution over it instead of adding it
    /// (a matrix product then never reads the slot). The tape calls this
    /// one; the default is `vjp`.
    #[allow(clippy::too_many_arguments)]
    fn vjp_fresh(
        &self,
        saved: &Self::Saved,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
        fresh: &[bool],
    ) -> Result<()> {
        let _ = fresh;
        self.vjp(
            saved,
            inputs,
            outputs,
            grad_outputs,
            grad_inputs,
            needs_grad,
        )
    }
}

/// A kernel together with its saved state: what a tape node holds.
pub(crate) struct Recorded<K: Kernel> {
    pub kernel: K,
    pub saved: K::Saved,
}

/// The object-safe face of a tape node's kernel, over values that live on
/// the host or a device: host kernels ([`Recorded`]), device kernels and
/// the transfers between the two implement it.
pub(crate) trait RecordedKernel: Send {
    fn name(&self) -> &'static str;
    /// [`Kernel::vjp_fresh`] over host or device values: `fresh[i]` marks
    /// a slot holding zeros nothing has added to (a kernel may ignore it).
    fn vjp(
        &self,
        inputs: &[&Value],
        outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        needs_grad: &[bool],
        fresh: &[bool],
    ) -> Result<()>;
}

/// The host arrays of `values`, or the error naming `op` and the first
/// input that lives on a device.
pub(crate) fn host_refs<'v>(values: &[&'v Value], op: &'static str) -> Result<Vec<&'v Tensor>> {
    values
        .iter()
        .enumerate()
        .map(|(k, v)| v.host(op, k))
        .collect()
}

impl<K: Kernel> RecordedKernel for Recorded<K> {
    fn name(&self) -> &'static str {
        self.kernel.name()
    }

    fn vjp(
        &self,
        inputs: &[&Value],
        outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        needs_grad: &[bool],
        fresh: &[bool],
    ) -> Result<()> {
        let op = self.kernel.name();
        let mut grads: Vec<&mut Tensor> = grad_inputs
            .iter_mut()
            .enumerate()
            .map(|(k, g)| g.host_mut(op, k))
            .collect::<Result<_>>()?;
        self.kernel.vjp_fresh(
            &self.saved,
            &host_refs(inputs, op)?,
            &host_refs(outputs, op)?,
            &host_refs(grad_outputs, op)?,
            &mut grads,
            needs_grad,
            fresh,
        )
    }
}
