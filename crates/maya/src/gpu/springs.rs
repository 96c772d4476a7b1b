//! Mass-spring networks on a device: the spring forces fused with a
//! semi-implicit Euler step (the W3 workload), one WGSL dispatch forward
//! and one for the adjoint, recorded as one tape node per step.
//!
//! The network's topology goes to the device once, as a vertex → incident
//! spring table ([`DeviceSprings`]); each particle's thread gathers its own
//! force (and in the adjoint its own gradient) over its springs in spring
//! order, the order in which the host kernel scatters them, and each
//! spring's thread its stiffness and rest-length gradients: no atomics,
//! the same bits on every run, and the host's sums term by term.

use super::device::Device;
use super::dtype::DType;
use super::kernel::record_step;
use super::launch::{Uniform, WgslKernel};
use super::tensor::{same_dtype, DeviceTensor};
use crate::dynamics::SpringNetwork;
use crate::error::{DeviceError, Error, Result};
use crate::TVar;

pub(super) const SPRINGS: &str = include_str!("wgsl/springs.wgsl");
/// Threads per workgroup (the WGSL's `@workgroup_size`).
const GROUP: usize = 64;

const fn kernel(entry: &'static str) -> WgslKernel {
    WgslKernel {
        module: "springs",
        source: SPRINGS,
        entry,
    }
}

/// A [`SpringNetwork`]'s topology on a device, built once: per particle
/// the springs it is an end of (in spring order, with which end), and per
/// spring its two particles. Shared by every step of a rollout.
///
/// ```no_run
/// use maya::dynamics::SpringNetwork;
/// use maya::gpu::{Device, DeviceSprings};
/// let device = Device::new()?;
/// let springs = DeviceSprings::new(&device, &SpringNetwork::grid(3, 3))?;
/// assert_eq!((springs.len(), springs.num_particles()), (20, 9));
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DeviceSprings {
    table: DeviceTensor,
    n: usize,
    s: usize,
}

impl DeviceSprings {
    /// Uploads `network`'s topology to `device`. Errors: a network whose
    /// table does not fit u32 indices, or the device's own.
    pub fn new(device: &Device, network: &SpringNetwork) -> Result<DeviceSprings> {
        let (n, s) = (network.num_particles(), network.len());
        let table = incidence_table(network);
        if u32::try_from(table.len()).is_err() {
            let reason = format!("{n} particles and {s} springs exceed u32 indices");
            return Err(device.driver("uploading a spring network", reason));
        }
        let table: Vec<u32> = table.into_iter().map(|x| x as u32).collect();
        Ok(DeviceSprings {
            table: device.upload_indices(&table)?,
            n,
            s,
        })
    }

    /// Number of springs.
    pub fn len(&self) -> usize {
        self.s
    }

    /// Whether there is no spring.
    pub fn is_empty(&self) -> bool {
        self.s == 0
    }

    /// Number of particles.
    pub fn num_particles(&self) -> usize {
        self.n
    }

    /// The device holding the table.
    pub fn device(&self) -> &Device {
        self.table.device()
    }
}

/// The table the WGSL reads (see `springs.wgsl`): n + 1 offsets, then per
/// particle its entries `(spring << 1) | (1 at the spring's b end)` in
/// spring order, then the endpoints a, b of every spring.
fn incidence_table(network: &SpringNetwork) -> Vec<usize> {
    let (n, s) = (network.num_particles(), network.len());
    let mut count = vec![0usize; n];
    for (a, b) in network.pairs() {
        count[a] += 1;
        count[b] += 1;
    }
    let mut table = Vec::with_capacity(n + 1 + 4 * s);
    let mut at = n + 1;
    for c in &count {
        table.push(at);
        at += c;
    }
    table.push(at);
    table.resize(at, 0);
    // Springs in increasing order, so each particle's list is sorted.
    let mut next: Vec<usize> = table[..n].to_vec();
    for (sp, (a, b)) in network.pairs().enumerate() {
        table[next[a]] = sp << 1;
        table[next[b]] = (sp << 1) | 1;
        next[a] += 1;
        next[b] += 1;
    }
    for (a, b) in network.pairs() {
        table.extend([a, b]);
    }
    table
}

/// The step's constants (`Params` in springs.wgsl: n, s, dim, dt, gx, gy,
/// gz) in the inputs' dtype.
pub(super) fn step_params(dtype: DType, [n, s, dim]: [usize; 3], dt: f64, g: [f64; 3]) -> Uniform {
    let u = [n, s, dim]
        .into_iter()
        .fold(Uniform::new(dtype), |u, k| u.u32(k as u32));
    [dt, g[0], g[1], g[2]].into_iter().fold(u, Uniform::real)
}

/// Checks the step's inputs p, v `[N, D]` (D = 2 or 3), m `[N]`, k, L
/// `[S]` against the network and the table's device, and their dtypes
/// against each other; returns D.
fn check_inputs(springs: &DeviceSprings, x: &[&DeviceTensor]) -> Result<usize> {
    const OP: &str = "device spring step";
    if let Some(k) = x
        .iter()
        .position(|t| t.device().id() != springs.device().id())
    {
        return Err(Error::Device(DeviceError::Mismatch {
            op: OP,
            first_input: k,
            first: x[k].device().to_string(),
            second_input: k,
            second: format!("{}, which holds the spring network", springs.device()),
        }));
    }
    same_dtype(OP, x)?;
    let dim = x[0].shape().get(1).copied().unwrap_or(0);
    let (n, s) = (springs.n, springs.s);
    let dim_ok = x[0].shape().len() == 2 && (2..=3).contains(&dim);
    let want: [Vec<usize>; 5] = [vec![n, dim], vec![n, dim], vec![n], vec![s], vec![s]];
    for (k, (t, w)) in x.iter().zip(&want).enumerate() {
        if !dim_ok || t.shape() != w.as_slice() {
            return Err(Error::Shape {
                op: OP,
                lhs: w.clone(),
                rhs: t.shape().to_vec(),
                hint: match k {
                    0 | 1 => "positions and velocities are [N, D], D = 2 or 3, N the network's",
                    2 => "masses are [N]",
                    _ => "stiffness and rest lengths are [S], one per spring",
                },
            });
        }
    }
    Ok(dim)
}

/// One step forward: (p', v'), by one dispatch over the particles.
pub(crate) fn step_forward(
    springs: &DeviceSprings,
    x: &[&DeviceTensor],
    dt: f64,
    gravity: [f64; 3],
) -> Result<(DeviceTensor, DeviceTensor)> {
    let dim = check_inputs(springs, x)?;
    let device = springs.device();
    let (p1, v1) = (
        x[0].zeros_like(x[0].shape())?,
        x[0].zeros_like(x[0].shape())?,
    );
    let mut read = vec![&springs.table];
    read.extend_from_slice(x);
    device.launch(
        &kernel("step_forward"),
        step_params(x[0].dtype(), [springs.n, springs.s, dim], dt, gravity).bytes(),
        &read,
        &[&p1, &v1],
        springs.n.div_ceil(GROUP) as u32,
    )?;
    Ok((p1, v1))
}

/// One step's adjoint, by one dispatch over max(particles, springs):
/// accumulates ḡp, ḡv (`grad_state`) and ḡk, ḡL (`grad_params`) from ḡp',
/// ḡv' (`grad_out`).
pub(crate) fn step_adjoint(
    springs: &DeviceSprings,
    x: &[&DeviceTensor],
    dt: f64,
    gravity: [f64; 3],
    grad_out: [&DeviceTensor; 2],
    grad_state: [&DeviceTensor; 2],
    grad_params: [&DeviceTensor; 2],
) -> Result<()> {
    let dim = check_inputs(springs, x)?;
    let mut read = vec![&springs.table];
    read.extend_from_slice(x);
    let [gp1, gv1] = grad_out;
    let [gk, gl] = grad_params;
    let [gp, gv] = grad_state;
    springs.device().launch(
        &kernel("step_adjoint"),
        step_params(x[0].dtype(), [springs.n, springs.s, dim], dt, gravity).bytes(),
        &read,
        &[gp1, gv1, gk, gl, gp, gv],
        springs.n.max(springs.s).div_ceil(GROUP) as u32,
    )
}

/// One semi-implicit Euler step of a mass-spring network on its device,
/// the device twin of a [`ParticleSystem`](crate::dynamics::ParticleSystem)
/// with [`with_springs`](crate::dynamics::ParticleSystem::with_springs)
/// (undamped) and gravity: per particle F = Σ_springs ±k(l − L)d/l + m g,
/// v' = v + dt F/m, p' = p + dt v'. Positions and velocities are `[N, D]`
/// (D = 2 or 3; gravity's first D entries act), masses `[N]` (no
/// gradient), stiffness `k` and rest lengths `rest` `[S]`. Returns
/// (p', v'); gradients reach p, v, k and rest.
///
/// A spring of non-zero rest length whose ends coincide gives NaN (the
/// host step reports it as an error).
///
/// ```no_run
/// use maya::dynamics::SpringNetwork;
/// use maya::gpu::{self, Device, DeviceSprings};
/// use maya::{Tensor, TensorTape};
/// let d = Device::new()?;
/// let net = SpringNetwork::new(2, vec![(0, 1)])?;
/// let springs = DeviceSprings::new(&d, &net)?;
/// let t = TensorTape::new();
/// let k = t.var(Tensor::full(&[1], 100.0));
/// let mut p = t.constant(Tensor::from_data(vec![0.0, 0.0, 1.5, 0.0], vec![2, 2])).to_device(&d);
/// let mut v = t.constant(Tensor::zeros(&[2, 2])).to_device(&d);
/// let m = t.constant(Tensor::ones(&[2])).to_device(&d);
/// let rest = t.constant(Tensor::ones(&[1])).to_device(&d);
/// let kd = k.to_device(&d);
/// for _ in 0..10 {
///     (p, v) = gpu::spring_step(&springs, &p, &v, &m, &kd, &rest, 1e-3, [0.0; 3])?;
/// }
/// let p = p.to_host();
/// // The stretched spring pulls its ends together: the gap shrinks.
/// assert!(p.value().data[2] - p.value().data[0] < 1.5);
/// let g = t.grad(p.square().sum());
/// assert!(g[k.idx()].data[0] != 0.0);
/// # Ok::<(), maya::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn spring_step<'t>(
    springs: &DeviceSprings,
    p: &TVar<'t>,
    v: &TVar<'t>,
    mass: &TVar<'t>,
    k: &TVar<'t>,
    rest: &TVar<'t>,
    dt: f64,
    gravity: [f64; 3],
) -> Result<(TVar<'t>, TVar<'t>)> {
    let (forward_springs, adjoint_springs) = (springs.clone(), springs.clone());
    // Every gradient in one dispatch (ḡk and ḡL land in the tape's
    // buffers, which exist, zero, for constants too).
    record_step(
        "device spring step",
        &[*p, *v, *mass, *k, *rest],
        move |x| Ok((step_forward(&forward_springs, x, dt, gravity)?, ())),
        move |_: &(), x, gy, gx, _needs| {
            let (state, params) = ([gx[0], gx[1]], [gx[3], gx[4]]);
            step_adjoint(&adjoint_springs, x, dt, gravity, gy, state, params)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_particles_springs_in_order_with_their_end() {
        // 0–1, 1–2, 2–0: particle 0 is a of spring 0 and b of spring 2.
        let net = SpringNetwork::new(3, vec![(0, 1), (1, 2), (2, 0)]).unwrap();
        let t = incidence_table(&net);
        assert_eq!(&t[..4], &[4, 6, 8, 10]);
        // (spring << 1) | (1 at the b end): 0a 2b | 0b 1a | 1b 2a
        assert_eq!(&t[4..10], &[0, 5, 1, 2, 3, 4]);
        assert_eq!(&t[10..], &[0, 1, 1, 2, 2, 0]);
    }
}
