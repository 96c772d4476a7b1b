//! `DeviceKernel`: the device twin of [`Kernel`](crate::Kernel), and its
//! recording on the tape.

use super::tensor::{same_dtype, DeviceTensor};
use crate::error::{DeviceError, Error, Result};
use crate::tape::{check_same_place, RecordedKernel, Value};
use crate::TVar;
use std::marker::PhantomData;

/// A differentiable op on a device: a forward that records dispatches
/// (through [`Device::launch`](super::Device::launch) or maya's device
/// ops) and returns device tensors, and an adjoint that records the
/// dispatches accumulating each input's gradient. The contract is that of
/// [`Kernel`](crate::Kernel); the differences:
/// - every input and output lives on one device and has one dtype;
/// - `grad_inputs[i]` is a device tensor of input `i`'s shape that `vjp`
///   **adds** into with its own dispatches (device buffers are written
///   through shared handles);
/// - nothing has run when `forward` returns: dispatches are batched and run
///   at the next submission, in recording order.
///
/// ```no_run
/// use maya::gpu::{self, Device, DeviceKernel, DeviceTensor};
/// use maya::{Result, Tensor, TensorTape};
///
/// /// y = 2x, by maya's device add.
/// struct Double;
/// impl DeviceKernel for Double {
///     type Saved = ();
///     fn name(&self) -> &'static str { "double" }
///     fn forward(&self, x: &[&DeviceTensor], _: &[bool]) -> Result<(Vec<DeviceTensor>, ())> {
///         Ok((vec![gpu::kernels::add(x[0], x[0])?], ()))
///     }
///     fn vjp(&self, _: &(), _: &[&DeviceTensor], _: &[&DeviceTensor], gy: &[&DeviceTensor],
///            gx: &[&DeviceTensor], _: &[bool]) -> Result<()> {
///         gpu::kernels::add_into(gx[0], gy[0])?;
///         gpu::kernels::add_into(gx[0], gy[0])
///     }
/// }
///
/// let d = Device::new()?;
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
/// let y = gpu::apply(Double, &[x.to_device(&d)])?[0];
/// let loss = gpu::sum(&y)?.to_host();
/// assert_eq!(t.grad(loss)[x.idx()].data, vec![2.0, 2.0]);
/// # Ok::<(), maya::Error>(())
/// ```
pub trait DeviceKernel: Send + 'static {
    /// What `forward` keeps for `vjp` besides the inputs and outputs.
    type Saved: Send + 'static;

    /// The op's name, used in error messages.
    fn name(&self) -> &'static str;

    /// Records the dispatches computing the outputs; returns them and the
    /// state `vjp` needs.
    fn forward(
        &self,
        inputs: &[&DeviceTensor],
        needs_grad: &[bool],
    ) -> Result<(Vec<DeviceTensor>, Self::Saved)>;

    /// Records the dispatches adding `Σ_o grad_outputs[o] · ∂output_o/∂input_i`
    /// into `grad_inputs[i]` for every input with `needs_grad[i]`.
    fn vjp(
        &self,
        saved: &Self::Saved,
        inputs: &[&DeviceTensor],
        outputs: &[&DeviceTensor],
        grad_outputs: &[&DeviceTensor],
        grad_inputs: &[&DeviceTensor],
        needs_grad: &[bool],
    ) -> Result<()>;
}

/// A device kernel with its saved state: a tape node.
struct Recorded<K: DeviceKernel> {
    kernel: K,
    saved: K::Saved,
}

impl<K: DeviceKernel> RecordedKernel for Recorded<K> {
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
        _fresh: &[bool],
    ) -> Result<()> {
        let op = self.kernel.name();
        let grads: Vec<&Value> = grad_inputs.iter().map(|g| &**g).collect();
        self.kernel.vjp(
            &self.saved,
            &device_refs(inputs, op)?,
            &device_refs(outputs, op)?,
            &device_refs(grad_outputs, op)?,
            &device_refs(&grads, op)?,
            needs_grad,
        )
    }
}

/// A step of a device system as a tape node: inputs p, v, masses and two
/// parameters, outputs p', v'. `forward` returns them and what `adjoint`
/// keeps; `adjoint` gets that, the inputs, ḡp', ḡv' and the inputs'
/// gradient buffers to add into.
struct Step<S, F, B> {
    name: &'static str,
    forward: F,
    adjoint: B,
    saved: PhantomData<fn() -> S>,
}

/// A step's outputs, (p', v').
pub(crate) type Pair = (DeviceTensor, DeviceTensor);

impl<S, F, B> DeviceKernel for Step<S, F, B>
where
    S: Send + 'static,
    F: Fn(&[&DeviceTensor]) -> Result<(Pair, S)> + Send + 'static,
    B: Fn(&S, &[&DeviceTensor], [&DeviceTensor; 2], &[&DeviceTensor], &[bool]) -> Result<()>
        + Send
        + 'static,
{
    type Saved = S;

    fn name(&self) -> &'static str {
        self.name
    }

    fn forward(&self, x: &[&DeviceTensor], needs: &[bool]) -> Result<(Vec<DeviceTensor>, S)> {
        refuse_mass_gradient(self.name, needs)?;
        let ((p1, v1), saved) = (self.forward)(x)?;
        Ok((vec![p1, v1], saved))
    }

    fn vjp(
        &self,
        saved: &S,
        x: &[&DeviceTensor],
        _y: &[&DeviceTensor],
        gy: &[&DeviceTensor],
        gx: &[&DeviceTensor],
        needs: &[bool],
    ) -> Result<()> {
        (self.adjoint)(saved, x, [gy[0], gy[1]], gx, needs)
    }
}

/// Records a device step named `name` on `inputs` (p, v, masses, then the
/// step's two parameters): `forward` records the dispatches giving
/// ((p', v'), what the adjoint keeps); `adjoint(saved, inputs, [ḡp',
/// ḡv'], input gradients, needs)` those adding into the input gradients.
/// The masses get no gradient: asking for one is [`Error::Unsupported`].
pub(crate) fn record_step<'t, S: Send + 'static>(
    name: &'static str,
    inputs: &[TVar<'t>],
    forward: impl Fn(&[&DeviceTensor]) -> Result<(Pair, S)> + Send + 'static,
    adjoint: impl Fn(&S, &[&DeviceTensor], [&DeviceTensor; 2], &[&DeviceTensor], &[bool]) -> Result<()>
        + Send
        + 'static,
) -> Result<(TVar<'t>, TVar<'t>)> {
    let node = Step {
        name,
        forward,
        adjoint,
        saved: PhantomData,
    };
    let out = apply(node, inputs)?;
    Ok((out[0], out[1]))
}

/// [`Error::Unsupported`] when input 2 (the masses) needs a gradient,
/// which no device step computes yet.
fn refuse_mass_gradient(what: &'static str, needs: &[bool]) -> Result<()> {
    if needs[2] {
        return Err(Error::Unsupported {
            what,
            reason: "the mass gradient is not on the device yet; pass the masses as a constant",
        });
    }
    Ok(())
}

/// The device arrays of `values`, or the error naming the first host one.
pub(crate) fn device_refs<'v>(
    values: &[&'v Value],
    op: &'static str,
) -> Result<Vec<&'v DeviceTensor>> {
    values
        .iter()
        .enumerate()
        .map(|(k, v)| match v {
            Value::Device(d) => Ok(d),
            Value::Host(_) => Err(Error::Device(DeviceError::OnHost { op, input: k })),
        })
        .collect()
}

/// Records `kernel` applied to `inputs`, which must all live on one device,
/// and returns its outputs (on that device).
///
/// Errors: inputs on different devices or on the host
/// ([`DeviceError::Mismatch`], [`DeviceError::OnHost`]), of different
/// dtypes ([`DeviceError::DTypeMismatch`]), handles of different tapes, or
/// the kernel's own.
pub fn apply<'t>(kernel: impl DeviceKernel, inputs: &[TVar<'t>]) -> Result<Vec<TVar<'t>>> {
    let op = kernel.name();
    let Some(first) = inputs.first() else {
        return Err(Error::Empty { op });
    };
    let (outputs, saved) = TVar::with_raw_values(inputs, op, |values, needs| {
        check_same_place(op, values)?;
        let x = device_refs(values, op)?;
        same_dtype(op, &x)?;
        kernel.forward(&x, needs)
    })??;
    let ids = inputs.iter().map(TVar::idx).collect();
    let outputs = outputs.into_iter().map(Value::Device).collect();
    let node = Box::new(Recorded { kernel, saved });
    Ok(first.tape().push_node(node, op, ids, outputs))
}
