//! Device values on the [`TensorTape`]: the transfers `to_device` and
//! `to_host`, whose adjoints are the reverse copies, and the device ops,
//! each a tape node whose adjoint records dispatches.

use super::device::Device;
use super::kernels;
use super::tensor::DeviceTensor;
use crate::error::{DeviceError, Error, OrPanic, Result};
use crate::tape::{check_same_place, RecordedKernel, Value};
use crate::{TVar, TensorTape};

/// The device arrays of `values`, or the error naming the first host one.
fn device_refs<'v>(values: &[&'v Value], op: &'static str) -> Result<Vec<&'v DeviceTensor>> {
    values
        .iter()
        .enumerate()
        .map(|(k, v)| match v {
            Value::Device(d) => Ok(d),
            Value::Host(_) => Err(Error::Device(DeviceError::OnHost { op, input: k })),
        })
        .collect()
}

/// Runs `forward` on the device arrays of `inputs` (all on one device) and
/// records `node` with its outputs.
fn record<'t>(
    inputs: &[TVar<'t>],
    op: &'static str,
    node: impl RecordedKernel + 'static,
    forward: impl FnOnce(&[&DeviceTensor], &[bool]) -> Result<Vec<DeviceTensor>>,
) -> Result<Vec<TVar<'t>>> {
    let tape: &'t TensorTape = inputs[0].tape();
    let outputs = TVar::with_raw_values(inputs, op, |values, needs| {
        check_same_place(op, values)?;
        forward(&device_refs(values, op)?, needs)
    })??;
    let ids = inputs.iter().map(TVar::idx).collect();
    let outputs = outputs.into_iter().map(Value::Device).collect();
    Ok(tape.push_node(Box::new(node), op, ids, outputs))
}

/// The device gradient slot of input `k`.
fn slot<'a>(grads: &'a [&mut Value], k: usize, op: &'static str) -> Result<&'a DeviceTensor> {
    match &*grads[k] {
        Value::Device(d) => Ok(d),
        Value::Host(_) => Err(Error::Device(DeviceError::OnHost { op, input: k })),
    }
}

struct ToDevice;

impl RecordedKernel for ToDevice {
    fn name(&self) -> &'static str {
        "to_device"
    }

    /// ḡx (host) += the device gradient, copied back.
    fn vjp(
        &self,
        _inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        _needs: &[bool],
    ) -> Result<()> {
        let back = Value::Host(grad_outputs[0].to_host()?);
        grad_inputs[0].add_assign(&back)
    }
}

struct ToHost;

impl RecordedKernel for ToHost {
    fn name(&self) -> &'static str {
        "to_host"
    }

    /// ḡx (device) += the host gradient, uploaded.
    fn vjp(
        &self,
        inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        _needs: &[bool],
    ) -> Result<()> {
        let g = grad_outputs[0].host("to_host", 0)?;
        let up = inputs[0].alike(g.clone())?;
        grad_inputs[0].add_assign(&up)
    }
}

impl<'t> TVar<'t> {
    /// This value copied to `device`: a tape op whose adjoint copies the
    /// gradient back. Panics on an error; see [`TVar::try_to_device`].
    ///
    /// ```no_run
    /// use maya::gpu::{self, Device};
    /// use maya::{Tensor, TensorTape};
    /// let device = Device::new()?;
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    /// let y = gpu::mul(&x.to_device(&device), &x.to_device(&device))?;
    /// let loss = gpu::sum(&y)?.to_host(); // Σ x², on the device
    /// assert_eq!(t.grad(loss)[x.idx()].data, vec![2.0, 4.0]);
    /// # Ok::<(), maya::Error>(())
    /// ```
    #[track_caller]
    pub fn to_device(&self, device: &Device) -> TVar<'t> {
        self.try_to_device(device).or_panic()
    }

    /// [`TVar::to_device`], returning the error instead (a value already
    /// on a device, no f64, over the binding limit, out of memory).
    pub fn try_to_device(&self, device: &Device) -> Result<TVar<'t>> {
        let op = "to_device";
        let d = TVar::with_raw_values(&[*self], op, |v, _| match v[0] {
            Value::Host(t) => device.upload(t),
            device_value => Err(Error::Device(DeviceError::Mismatch {
                op,
                first_input: 0,
                first: device_value.place(),
                second_input: 0,
                second: "the host (to_device copies from the host)".to_string(),
            })),
        })??;
        Ok(self.tape().push_node(
            Box::new(ToDevice),
            op,
            vec![self.idx()],
            vec![Value::Device(d)],
        )[0])
    }

    /// This device value copied to the host: a tape op whose adjoint
    /// uploads the gradient. Panics on an error; see [`TVar::try_to_host`].
    #[track_caller]
    pub fn to_host(&self) -> TVar<'t> {
        self.try_to_host().or_panic()
    }

    /// [`TVar::to_host`], returning the error instead.
    pub fn try_to_host(&self) -> Result<TVar<'t>> {
        let op = "to_host";
        let h = TVar::with_raw_values(&[*self], op, |v, _| match v[0] {
            Value::Device(d) => d.to_host(),
            Value::Host(_) => Err(Error::Device(DeviceError::OnHost { op, input: 0 })),
        })??;
        Ok(self
            .tape()
            .push_node(Box::new(ToHost), op, vec![self.idx()], vec![Value::Host(h)])[0])
    }
}

struct Add;

impl RecordedKernel for Add {
    fn name(&self) -> &'static str {
        "device add"
    }

    /// ḡa += ḡy, ḡb += ḡy.
    fn vjp(
        &self,
        _inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        needs: &[bool],
    ) -> Result<()> {
        for (g, &need) in grad_inputs.iter_mut().zip(needs) {
            if need {
                g.add_assign(grad_outputs[0])?;
            }
        }
        Ok(())
    }
}

/// `a + b` on their device (equal shapes).
pub fn add<'t>(a: &TVar<'t>, b: &TVar<'t>) -> Result<TVar<'t>> {
    let out = record(&[*a, *b], "device add", Add, |x, _| {
        Ok(vec![kernels::binary("add", x[0], x[1])?])
    })?;
    Ok(out[0])
}

struct Mul;

impl RecordedKernel for Mul {
    fn name(&self) -> &'static str {
        "device mul"
    }

    /// ḡa += ḡy ⊙ b, ḡb += ḡy ⊙ a.
    fn vjp(
        &self,
        inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        needs: &[bool],
    ) -> Result<()> {
        let op = self.name();
        let x = device_refs(inputs, op)?;
        let gy = device_refs(grad_outputs, op)?[0];
        for k in 0..2 {
            if needs[k] {
                kernels::mul_into(slot(grad_inputs, k, op)?, gy, x[1 - k])?;
            }
        }
        Ok(())
    }
}

/// `a ⊙ b` on their device (equal shapes).
pub fn mul<'t>(a: &TVar<'t>, b: &TVar<'t>) -> Result<TVar<'t>> {
    let out = record(&[*a, *b], "device mul", Mul, |x, _| {
        Ok(vec![kernels::binary("mul", x[0], x[1])?])
    })?;
    Ok(out[0])
}

struct Sum;

impl RecordedKernel for Sum {
    fn name(&self) -> &'static str {
        "device sum"
    }

    /// ḡx += ḡy (a scalar) in every entry.
    fn vjp(
        &self,
        _inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        _needs: &[bool],
    ) -> Result<()> {
        let op = self.name();
        let gy = device_refs(grad_outputs, op)?[0];
        kernels::accumulate(slot(grad_inputs, 0, op)?, gy, "broadcast_into")
    }
}

/// The sum of every entry, `[]`, on the device: a fixed tree of
/// workgroup sums, so the same bits on every run (no atomics).
pub fn sum<'t>(a: &TVar<'t>) -> Result<TVar<'t>> {
    let out = record(&[*a], "device sum", Sum, |x, _| {
        Ok(vec![kernels::sum(x[0])?])
    })?;
    Ok(out[0])
}

/// One step of particles in 3D under gravity, linear drag and a penalty
/// floor at z = 0, semi-implicit Euler (the device twin of a
/// `ParticleSystem` with gravity, drag and `Ground::floor(3)`).
struct ParticleStep {
    dt: f64,
    gravity: [f64; 3],
}

impl RecordedKernel for ParticleStep {
    fn name(&self) -> &'static str {
        "device particle step"
    }

    /// ḡp, ḡv per particle; ḡc, ḡk by two deterministic sums of the
    /// per-particle contributions.
    fn vjp(
        &self,
        inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        needs: &[bool],
    ) -> Result<()> {
        let op = self.name();
        let x = device_refs(inputs, op)?;
        let gy = device_refs(grad_outputs, op)?;
        let n = x[2].numel();
        let partials = kernels::particle_step_adjoint(
            &x,
            self.dt,
            self.gravity,
            (gy[0], gy[1]),
            (slot(grad_inputs, 0, op)?, slot(grad_inputs, 1, op)?),
        )?;
        for (k, offset) in [(3, 0), (4, n)] {
            if needs[k] {
                let total = kernels::sum_range(&partials, offset, n)?;
                kernels::accumulate(slot(grad_inputs, k, op)?, &total, "add_into")?;
            }
        }
        Ok(())
    }
}

/// One semi-implicit Euler step of N particles in 3D on their device:
/// a = g − (c/m) v + (k/m) relu(−p_z) e_z, v' = v + dt a, p' = p + dt v',
/// for positions and velocities `[N, 3]`, masses `[N]` (no gradient),
/// drag `c` and floor stiffness `k` (`[]`). Returns (p', v'); gradients
/// reach p, v, c and k.
///
/// ```no_run
/// use maya::gpu::{self, Device};
/// use maya::{Tensor, TensorTape};
/// let d = Device::new()?;
/// let t = TensorTape::new();
/// let mut p = t.constant(Tensor::from_data(vec![0.0, 0.0, 1.0], vec![1, 3])).to_device(&d);
/// let v0 = t.var(Tensor::zeros(&[1, 3]));
/// let mut v = v0.to_device(&d);
/// let m = t.constant(Tensor::ones(&[1])).to_device(&d);
/// let (c, k) = (t.scalar(0.1).to_device(&d), t.scalar(1e4).to_device(&d));
/// for _ in 0..10 {
///     (p, v) = gpu::particle_step(&p, &v, &m, &c, &k, 1e-3, [0.0, 0.0, -9.81])?;
/// }
/// let loss = gpu::sum(&gpu::mul(&p, &p)?)?.to_host();
/// let g = t.grad(loss);
/// assert!(g[v0.idx()].data[2] < 0.0); // falling lowers |p|²
/// # Ok::<(), maya::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn particle_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    mass: &TVar<'t>,
    c: &TVar<'t>,
    k: &TVar<'t>,
    dt: f64,
    gravity: [f64; 3],
) -> Result<(TVar<'t>, TVar<'t>)> {
    let op = "device particle step";
    let node = ParticleStep { dt, gravity };
    let out = record(&[*p, *v, *mass, *c, *k], op, node, |x, needs| {
        if needs[2] {
            return Err(Error::Unsupported {
                what: "device particle step",
                reason: "the mass gradient is not implemented on the device yet; pass the masses as a constant",
            });
        }
        let (p1, v1) = kernels::particle_step(x, dt, gravity)?;
        Ok(vec![p1, v1])
    })?;
    Ok((out[0], out[1]))
}
