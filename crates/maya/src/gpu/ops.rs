//! maya's device ops on the tape: add, mul, sum and the particle step,
//! each a [`DeviceKernel`] (the steps through [`record_step`]) whose
//! adjoint records dispatches.

use super::kernel::{apply, record_step, DeviceKernel};
use super::kernels;
use super::kernels::broadcast::reduce_into;
use super::tensor::DeviceTensor;
use crate::error::Result;
use crate::TVar;

/// `a + b` or `a ⊙ b`, broadcast.
#[derive(Clone, Copy, PartialEq)]
enum Elementwise {
    Add,
    Mul,
}

impl DeviceKernel for Elementwise {
    type Saved = ();

    fn name(&self) -> &'static str {
        match self {
            Elementwise::Add => "device add",
            Elementwise::Mul => "device mul",
        }
    }

    fn forward(&self, x: &[&DeviceTensor], _needs: &[bool]) -> Result<(Vec<DeviceTensor>, ())> {
        let y = match self {
            Elementwise::Add => kernels::add(x[0], x[1])?,
            Elementwise::Mul => kernels::mul(x[0], x[1])?,
        };
        Ok((vec![y], ()))
    }

    /// Add: ḡa += ḡy, ḡb += ḡy; mul: ḡa += ḡy ⊙ b, ḡb += ḡy ⊙ a; each
    /// summed over the axes its input was broadcast along.
    fn vjp(
        &self,
        _saved: &(),
        x: &[&DeviceTensor],
        _y: &[&DeviceTensor],
        gy: &[&DeviceTensor],
        gx: &[&DeviceTensor],
        needs: &[bool],
    ) -> Result<()> {
        for k in 0..2 {
            if needs[k] {
                let other = (*self == Elementwise::Mul).then_some(x[1 - k]);
                reduce_into(gx[k], gy[0], other)?;
            }
        }
        Ok(())
    }
}

/// `a + b` on their device, broadcasting by the host's rules (shapes
/// aligned on the right, each pair of axes equal or one of them 1; up to
/// 8 axes). The adjoint sums each input's gradient over the axes it was
/// broadcast along in a fixed order: the same bits on every run.
///
/// ```no_run
/// use maya::gpu::{self, Device};
/// use maya::{Tensor, TensorTape};
/// let d = Device::new()?;
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
/// let y = gpu::add(&x.to_device(&d), &x.to_device(&d))?;
/// assert_eq!(y.value().data, vec![2.0, 4.0]);
/// # Ok::<(), maya::Error>(())
/// ```
pub fn add<'t>(a: &TVar<'t>, b: &TVar<'t>) -> Result<TVar<'t>> {
    Ok(apply(Elementwise::Add, &[*a, *b])?[0])
}

/// `a ⊙ b` on their device, broadcasting as [`add`] does.
///
/// ```no_run
/// use maya::gpu::{self, Device};
/// use maya::{Tensor, TensorTape};
/// let d = Device::new()?;
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0], vec![2, 2]));
/// let w = t.var(Tensor::from_data(vec![10.0, 100.0], vec![2]));
/// let y = gpu::mul(&x.to_device(&d), &w.to_device(&d))?; // w scales each row
/// assert_eq!(y.to_host().value().data, vec![10.0, 200.0, 30.0, 400.0]);
/// let g = t.grad(gpu::sum(&y)?.to_host());
/// assert_eq!(g[w.idx()].data, vec![4.0, 6.0]); // summed over the rows
/// # Ok::<(), maya::Error>(())
/// ```
pub fn mul<'t>(a: &TVar<'t>, b: &TVar<'t>) -> Result<TVar<'t>> {
    Ok(apply(Elementwise::Mul, &[*a, *b])?[0])
}

struct Sum;

impl DeviceKernel for Sum {
    type Saved = ();

    fn name(&self) -> &'static str {
        "device sum"
    }

    fn forward(&self, x: &[&DeviceTensor], _needs: &[bool]) -> Result<(Vec<DeviceTensor>, ())> {
        Ok((vec![kernels::sum(x[0])?], ()))
    }

    /// ḡx += ḡy (one value) in every entry.
    fn vjp(
        &self,
        _saved: &(),
        _x: &[&DeviceTensor],
        _y: &[&DeviceTensor],
        gy: &[&DeviceTensor],
        gx: &[&DeviceTensor],
        _needs: &[bool],
    ) -> Result<()> {
        kernels::broadcast_into(gx[0], gy[0])
    }
}

/// The sum of every entry, `[]`, on the device: a fixed tree of
/// workgroup sums, so the same bits on every run (no atomics).
pub fn sum<'t>(a: &TVar<'t>) -> Result<TVar<'t>> {
    Ok(apply(Sum, &[*a])?[0])
}

/// Adds the per-particle partials of the drag c (`partials[..n]`) and the
/// floor stiffness k (`partials[n..2n]`), each summed over the particles,
/// into the gradients of inputs 3 and 4.
fn add_drag_and_floor(
    partials: &DeviceTensor,
    n: usize,
    gx: &[&DeviceTensor],
    needs: &[bool],
) -> Result<()> {
    for (k, offset) in [(3, 0), (4, n)] {
        if needs[k] {
            kernels::add_into(gx[k], &kernels::sum_range(partials, offset, n)?)?;
        }
    }
    Ok(())
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
/// // ∂Σp²/∂v0_z = 2 p_z ∂p_z/∂v0_z ≈ 2 · 1 · 10 dt
/// assert!((g[v0.idx()].data[2] - 0.02).abs() < 1e-3);
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
    // ḡp, ḡv per particle; ḡc, ḡk by two deterministic sums of the
    // per-particle contributions.
    record_step(
        "device particle step",
        &[*p, *v, *mass, *c, *k],
        move |x| Ok((kernels::particle_step(x, dt, gravity)?, ())),
        move |_: &(), x, gy, gx, needs| {
            let [gp1, gv1] = gy;
            let partials =
                kernels::particle_step_adjoint(x, dt, gravity, (gp1, gv1), (gx[0], gx[1]))?;
            add_drag_and_floor(&partials, x[2].numel(), gx, needs)
        },
    )
}

/// [`particle_step`] `steps` times in one dispatch and one tape node: each
/// thread runs its particle through every step (W2's particles do not
/// interact), saving the `steps` starting states (`6 N` values each) that
/// the adjoint, one dispatch too, walks back. The same arithmetic as
/// `steps` calls of [`particle_step`]; ḡc and ḡk are summed per particle
/// over the steps, then over the particles.
///
/// ```no_run
/// use maya::gpu::{self, Device};
/// use maya::{Tensor, TensorTape};
/// let d = Device::new()?;
/// let t = TensorTape::new();
/// let p = t.constant(Tensor::from_data(vec![0.0, 0.0, 1.0], vec![1, 3])).to_device(&d);
/// let v0 = t.var(Tensor::zeros(&[1, 3]));
/// let m = t.constant(Tensor::ones(&[1])).to_device(&d);
/// let (c, k) = (t.scalar(0.1).to_device(&d), t.scalar(1e4).to_device(&d));
/// let g = [0.0, 0.0, -9.81];
/// let (p, _v) = gpu::particle_steps(&p, &v0.to_device(&d), &m, &c, &k, 1e-3, g, 10)?;
/// let loss = gpu::sum(&gpu::mul(&p, &p)?)?.to_host();
/// assert!((t.grad(loss)[v0.idx()].data[2] - 0.02).abs() < 1e-3);
/// # Ok::<(), maya::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn particle_steps<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    mass: &TVar<'t>,
    c: &TVar<'t>,
    k: &TVar<'t>,
    dt: f64,
    gravity: [f64; 3],
    steps: usize,
) -> Result<(TVar<'t>, TVar<'t>)> {
    if steps == 0 {
        return Ok((*p, *v));
    }
    // ḡp, ḡv per particle back through every step (the forward keeps each
    // step's starting state); ḡc, ḡk by two deterministic sums of the
    // per-particle totals.
    record_step(
        "device fused particle steps",
        &[*p, *v, *mass, *c, *k],
        move |x| {
            let (p1, v1, trajectory) = kernels::particle_steps(x, dt, gravity, steps)?;
            Ok(((p1, v1), trajectory))
        },
        move |trajectory: &DeviceTensor, x, gy, gx, needs| {
            let [gp1, gv1] = gy;
            let partials = kernels::particle_steps_adjoint(
                x,
                dt,
                gravity,
                trajectory,
                (gp1, gv1),
                (gx[0], gx[1]),
            )?;
            add_drag_and_floor(&partials, x[2].numel(), gx, needs)
        },
    )
}
