//! maya's WGSL kernels as plain device functions, off the tape: the
//! building blocks of [`DeviceKernel`](super::DeviceKernel)s. Each records
//! a dispatch (or a few) and returns at once; results exist once the batch
//! is submitted, which reading any tensor back does.

pub(super) mod broadcast;

use super::device::Device;
use super::dtype::DType;
use super::launch::{Uniform, WgslKernel};
use super::tensor::{same_dtype, DeviceTensor};
use crate::error::{DeviceError, Error, Result};

const ELEMENTWISE: &str = include_str!("../wgsl/elementwise.wgsl");
const REDUCE: &str = include_str!("../wgsl/reduce.wgsl");
pub(super) const PARTICLES: &str = include_str!("../wgsl/particles.wgsl");

/// An entry point of one of maya's modules.
pub(super) const fn kernel(
    module: &'static str,
    source: &'static str,
    entry: &'static str,
) -> WgslKernel {
    WgslKernel {
        module,
        source,
        entry,
    }
}

/// Threads per workgroup of the elementwise and particle kernels.
pub(super) const GROUP: usize = 64;
/// Entries one workgroup of the sum reduces.
const TREE: usize = 256;

pub(super) fn len_u32(device: &Device, n: usize, what: &'static str) -> Result<u32> {
    u32::try_from(n).map_err(|_| device.driver(what, format!("{n} entries exceed u32")))
}

/// Checks that `tensors` live on one device and share one dtype.
pub(super) fn same_device(op: &'static str, tensors: &[&DeviceTensor]) -> Result<()> {
    let first = tensors[0].device();
    match tensors.iter().position(|t| t.device().id() != first.id()) {
        None => same_dtype(op, tensors),
        Some(k) => Err(Error::Device(DeviceError::Mismatch {
            op,
            first_input: 0,
            first: first.to_string(),
            second_input: k,
            second: tensors[k].device().to_string(),
        })),
    }
}

/// `a + b` (one device, one dtype; shapes that broadcast by the host's
/// rules).
pub fn add(a: &DeviceTensor, b: &DeviceTensor) -> Result<DeviceTensor> {
    binary("add", a, b)
}

/// `a ⊙ b` (one device, one dtype; shapes that broadcast by the host's
/// rules).
pub fn mul(a: &DeviceTensor, b: &DeviceTensor) -> Result<DeviceTensor> {
    binary("mul", a, b)
}

/// `out += a` (equal shapes, one device, one dtype).
pub fn add_into(out: &DeviceTensor, a: &DeviceTensor) -> Result<()> {
    accumulate(out, a, "add_into")
}

impl DeviceTensor {
    /// `self += other` on the device (same shape and device); here, beside
    /// the kernel it records, so that tensors need not know the kernels.
    pub fn add_assign(&self, other: &DeviceTensor) -> Result<()> {
        add_into(self, other)
    }

    /// A copy in a new buffer (recorded after the dispatches so far): a
    /// value to accumulate into without touching this one.
    pub(crate) fn duplicate(&self) -> Result<DeviceTensor> {
        let out = self.zeros_like(self.shape())?;
        self.device().record_copy(self, &out);
        Ok(out)
    }
}

/// `out += a[0]` in every entry (`a` holds one value).
pub fn broadcast_into(out: &DeviceTensor, a: &DeviceTensor) -> Result<()> {
    if a.numel() != 1 {
        return Err(Error::NotScalar {
            op: "broadcast_into",
            shape: a.shape().to_vec(),
        });
    }
    accumulate(out, a, "broadcast_into")
}

/// `out = a ∘ b` for `entry` in {"add", "mul"}.
fn binary(entry: &'static str, a: &DeviceTensor, b: &DeviceTensor) -> Result<DeviceTensor> {
    if a.shape() != b.shape() {
        return broadcast::binary(entry, a, b);
    }
    same_device(entry, &[a, b])?;
    let device = a.device();
    let out = a.zeros_like(a.shape())?;
    let n = len_u32(device, a.numel(), entry)?;
    let k = kernel("elementwise", ELEMENTWISE, entry);
    device.launch(
        &k,
        Uniform::new(a.dtype()).u32(n).bytes(),
        &[a, b],
        &[&out],
        groups(a.numel(), GROUP),
    )?;
    Ok(out)
}

/// `out += a` ("add_into"), `out += a[0]` ("broadcast_into").
fn accumulate(out: &DeviceTensor, a: &DeviceTensor, entry: &'static str) -> Result<()> {
    same_device(entry, &[out, a])?;
    if entry == "add_into" {
        out.same_shape(a, entry)?;
    }
    let device = out.device();
    let n = len_u32(device, out.numel(), entry)?;
    let k = kernel("elementwise", ELEMENTWISE, entry);
    device.launch(
        &k,
        Uniform::new(out.dtype()).u32(n).bytes(),
        &[a, a],
        &[out],
        groups(out.numel(), GROUP),
    )
}

/// `out += a ⊙ b` (the adjoint of a product; equal shapes, one device).
pub fn mul_into(out: &DeviceTensor, a: &DeviceTensor, b: &DeviceTensor) -> Result<()> {
    same_device("mul_into", &[out, a, b])?;
    out.same_shape(a, "mul_into")?;
    out.same_shape(b, "mul_into")?;
    let device = out.device();
    let n = len_u32(device, out.numel(), "mul")?;
    let k = kernel("elementwise", ELEMENTWISE, "mul_into");
    device.launch(
        &k,
        Uniform::new(out.dtype()).u32(n).bytes(),
        &[a, b],
        &[out],
        groups(out.numel(), GROUP),
    )
}

/// The sum of every entry, `[]`, by a fixed tree of workgroup sums: the
/// same order, hence the same bits, on every run.
pub fn sum(a: &DeviceTensor) -> Result<DeviceTensor> {
    sum_range(a, 0, a.numel())
}

/// The sum of the `n` entries of `a` from `offset` on, `[]`.
pub fn sum_range(a: &DeviceTensor, offset: usize, n: usize) -> Result<DeviceTensor> {
    if offset + n > a.numel() {
        return Err(Error::Index {
            op: "sum_range",
            index: offset + n,
            len: a.numel(),
        });
    }
    let device = a.device();
    let k = kernel("reduce", REDUCE, "sum_pass");
    let mut current = a.clone();
    let (mut offset, mut n) = (offset, n);
    loop {
        let parts = n.div_ceil(TREE).max(1);
        let shape: Vec<usize> = if parts == 1 { vec![] } else { vec![parts] };
        let next = a.zeros_like(&shape)?;
        let params = Uniform::new(a.dtype())
            .u32(len_u32(device, n, "sum")?)
            .u32(len_u32(device, offset, "sum")?);
        device.launch(&k, params.bytes(), &[&current], &[&next], parts as u32)?;
        (current, offset, n) = (next, 0, parts);
        if parts == 1 {
            return Ok(current);
        }
    }
}

pub(super) fn groups(n: usize, per_group: usize) -> u32 {
    n.div_ceil(per_group) as u32
}

/// The particle step's constants: time step and gravity.
fn particle_params(dtype: DType, n: u32, dt: f64, g: [f64; 3]) -> Uniform {
    particle_steps_params(dtype, n, 0, dt, g)
}

/// The particle kernels' constants (`Params` in particles.wgsl: n, steps,
/// dt, gx, gy, gz) in the inputs' dtype, with the steps of a fused rollout.
pub(super) fn particle_steps_params(
    dtype: DType,
    n: u32,
    steps: u32,
    dt: f64,
    g: [f64; 3],
) -> Uniform {
    let u = Uniform::new(dtype).u32(n).u32(steps);
    [dt, g[0], g[1], g[2]].into_iter().fold(u, Uniform::real)
}

/// The inputs of the particle step: p, v `[N, 3]`, m `[N]`, c, k `[]`.
pub(crate) fn check_particles(x: &[&DeviceTensor]) -> Result<usize> {
    same_device("particle step", x)?;
    let n = x[0].shape().first().copied().unwrap_or(0);
    let want: [Vec<usize>; 5] = [vec![n, 3], vec![n, 3], vec![n], vec![], vec![]];
    for (k, (t, w)) in x.iter().zip(&want).enumerate() {
        if t.shape() != w.as_slice() {
            return Err(Error::Shape {
                op: "particle step",
                lhs: w.clone(),
                rhs: t.shape().to_vec(),
                hint: match k {
                    0 | 1 => "positions and velocities are [N, 3]",
                    2 => "masses are [N]",
                    _ => "drag c and ground stiffness k are scalars []",
                },
            });
        }
    }
    Ok(n)
}

/// One step forward: (p', v').
pub(crate) fn particle_step(
    x: &[&DeviceTensor],
    dt: f64,
    g: [f64; 3],
) -> Result<(DeviceTensor, DeviceTensor)> {
    let n = check_particles(x)?;
    let device = x[0].device();
    let (p1, v1) = (x[0].zeros_like(&[n, 3])?, x[0].zeros_like(&[n, 3])?);
    // The adjoint's outputs, unused here (writable bindings may not alias).
    let scratch = [
        x[0].zeros_like(&[])?,
        x[0].zeros_like(&[])?,
        x[0].zeros_like(&[])?,
    ];
    let n32 = len_u32(device, n, "particle step")?;
    let k = kernel("particles", PARTICLES, "step_forward");
    let [s0, s1, s2] = &scratch;
    let params = particle_params(x[0].dtype(), n32, dt, g);
    device.launch(
        &k,
        params.bytes(),
        x,
        &[&p1, &v1, s0, s1, s2],
        groups(n, GROUP),
    )?;
    Ok((p1, v1))
}

/// One step's adjoint: accumulates ḡp, ḡv and returns the per-particle
/// contributions to ḡc and ḡk, `[2, N]`.
pub(crate) fn particle_step_adjoint(
    x: &[&DeviceTensor],
    dt: f64,
    g: [f64; 3],
    grad_out: (&DeviceTensor, &DeviceTensor),
    grad_pv: (&DeviceTensor, &DeviceTensor),
) -> Result<DeviceTensor> {
    let n = check_particles(x)?;
    let device = x[0].device();
    let partials = x[0].zeros_like(&[2, n])?;
    let n32 = len_u32(device, n, "particle step adjoint")?;
    let k = kernel("particles", PARTICLES, "step_adjoint");
    // ḡp', ḡv' sit in the forward's output bindings (read-write there).
    let write = [grad_out.0, grad_out.1, grad_pv.0, grad_pv.1, &partials];
    device.launch(
        &k,
        particle_params(x[0].dtype(), n32, dt, g).bytes(),
        x,
        &write,
        groups(n, GROUP),
    )?;
    Ok(partials)
}

/// `steps` particle steps in one dispatch: (p', v', the trajectory
/// `[steps, N, 6]` of each step's starting state, for the adjoint).
pub(crate) fn particle_steps(
    x: &[&DeviceTensor],
    dt: f64,
    g: [f64; 3],
    steps: usize,
) -> Result<(DeviceTensor, DeviceTensor, DeviceTensor)> {
    let n = check_particles(x)?;
    let device = x[0].device();
    let (p1, v1) = (x[0].zeros_like(&[n, 3])?, x[0].zeros_like(&[n, 3])?);
    let trajectory = x[0].zeros_like(&[steps, n, 6])?;
    // The adjoint's outputs, unused here (writable bindings may not alias).
    let scratch = [
        x[0].zeros_like(&[])?,
        x[0].zeros_like(&[])?,
        x[0].zeros_like(&[])?,
    ];
    let n32 = len_u32(device, n, "fused particle steps")?;
    let s32 = len_u32(device, steps, "fused particle steps")?;
    let k = kernel("particles", PARTICLES, "steps_forward");
    let [s0, s1, s2] = &scratch;
    let params = particle_steps_params(x[0].dtype(), n32, s32, dt, g);
    let write = [&p1, &v1, s0, s1, s2, &trajectory];
    device.launch(&k, params.bytes(), x, &write, groups(n, GROUP))?;
    Ok((p1, v1, trajectory))
}

/// The adjoint of [`particle_steps`]: accumulates ḡp, ḡv and returns the
/// per-particle contributions to ḡc and ḡk over the steps, `[2, N]`.
pub(crate) fn particle_steps_adjoint(
    x: &[&DeviceTensor],
    dt: f64,
    g: [f64; 3],
    trajectory: &DeviceTensor,
    grad_out: (&DeviceTensor, &DeviceTensor),
    grad_pv: (&DeviceTensor, &DeviceTensor),
) -> Result<DeviceTensor> {
    let n = check_particles(x)?;
    let steps = trajectory.shape()[0];
    let device = x[0].device();
    let partials = x[0].zeros_like(&[2, n])?;
    let n32 = len_u32(device, n, "fused particle steps adjoint")?;
    let s32 = len_u32(device, steps, "fused particle steps adjoint")?;
    let k = kernel("particles", PARTICLES, "steps_adjoint");
    let write = [
        grad_out.0, grad_out.1, grad_pv.0, grad_pv.1, &partials, trajectory,
    ];
    let params = particle_steps_params(x[0].dtype(), n32, s32, dt, g);
    device.launch(&k, params.bytes(), x, &write, groups(n, GROUP))?;
    Ok(partials)
}
