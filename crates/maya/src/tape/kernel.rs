//! The `Kernel` trait: one node of the tensor tape.

use crate::error::Result;
use crate::tensor::Tensor;

/// A differentiable op: a forward function from input tensors to output
/// tensors and its adjoint (vector–Jacobian product).
///
/// Every op of maya is a kernel, and users add their own the same way: write
/// `forward` and `vjp`, record it with [`TensorTape::apply`](crate::TensorTape::apply)
/// and check it with [`gradcheck`](crate::gradcheck()).
///
/// `vjp` **accumulates**: it adds each input's gradient into
/// `grad_inputs[i]` (which has that input's shape), never overwrites.
///
/// ```
/// use maya::{Kernel, Result, Tensor, TensorTape};
///
/// /// y = x³ elementwise; ∂y/∂x = 3x².
/// struct Cube;
/// impl Kernel for Cube {
///     fn name(&self) -> &'static str { "cube" }
///     fn forward(&mut self, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
///         let x = inputs[0];
///         Ok(vec![Tensor::from_data(x.data.iter().map(|v| v * v * v).collect(), x.shape.clone())])
///     }
///     fn vjp(&self, inputs: &[&Tensor], _outputs: &[&Tensor], grad_outputs: &[&Tensor], grad_inputs: &mut [&mut Tensor]) {
///         for ((g, x), go) in grad_inputs[0].data.iter_mut().zip(&inputs[0].data).zip(&grad_outputs[0].data) {
///             *g += 3.0 * x * x * go;
///         }
///     }
/// }
///
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
/// let y = t.apply(Cube, &[x])[0];
/// let g = t.grad(y.sum());
/// assert_eq!(g[x.idx()].data, vec![3.0, 12.0]);
/// ```
pub trait Kernel: 'static {
    /// The op's name, used in error messages and checked-mode reports.
    fn name(&self) -> &'static str;

    /// Computes the outputs from the inputs. May save what `vjp` needs in
    /// `self`. Returns an error (naming the shapes) for inputs it cannot take.
    fn forward(&mut self, inputs: &[&Tensor]) -> Result<Vec<Tensor>>;

    /// Adds `∂L/∂input_i = Σ_o grad_outputs[o] · ∂output_o/∂input_i` into
    /// `grad_inputs[i]` for every input.
    fn vjp(
        &self,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
    );
}
