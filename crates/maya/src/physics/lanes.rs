//! The one-stage step's forward per-node loop on groups of [`LANES`]
//! consecutive nodes: coordinates transposed into `[[f64; LANES]; D]`
//! registers and the forces by [`LocalForces::force_lanes`], so the
//! compiler vectorises across nodes instead of within a node's few
//! coordinates. Every lane does the per-node loop's arithmetic in its
//! order, so a group gives the same bits as its nodes one by one; the step
//! runs the nodes left over one by one. (The adjoint stays per node: in
//! groups it spilled registers and ran slower.)

use super::local::LocalForces;
use super::scheme::advance;

/// Nodes per group.
pub(crate) const LANES: usize = 2;

/// Nodes `base..base + W` of an `n × D` array, transposed.
#[inline(always)]
fn gather<const D: usize, const W: usize>(x: &[f64], base: usize) -> [[f64; W]; D] {
    let x = &x[base * D..(base + W) * D];
    std::array::from_fn(|k| std::array::from_fn(|l| x[l * D + k]))
}

/// Writes transposed coordinates back as nodes `base..base + W`.
#[inline(always)]
fn scatter<const D: usize, const W: usize>(y: &[[f64; W]; D], x: &mut [f64], base: usize) {
    let x = &mut x[base * D..(base + W) * D];
    for l in 0..W {
        for k in 0..D {
            x[l * D + k] = y[k][l];
        }
    }
}

/// Lanes `base..base + W` of a per-node array.
#[inline(always)]
fn lanes_of<const W: usize>(x: &[f64], base: usize) -> [f64; W] {
    std::array::from_fn(|l| x[base + l])
}

/// One group's step: the forward of the per-node loop in `step.rs`.
/// `state`: (q, v, m) of the chunk; `inv`: 1/m (and 1/I) per node; `v1`
/// holds the elements' force on entry when `has_f`; `save` receives the
/// net force.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_group<L: LocalForces, const D: usize, const S: usize, const W: usize>(
    w: (f64, f64),
    dt: f64,
    local: &L,
    env: &L::Env,
    state: (&[f64], &[f64], &[f64]),
    inv: (&[f64], &[f64]),
    has_f: bool,
    save: Option<&mut [f64]>,
    q1: &mut [f64],
    v1: &mut [f64],
    base: usize,
) {
    let (q, v) = (gather::<D, W>(state.0, base), gather::<D, W>(state.1, base));
    let m = lanes_of::<W>(state.2, base);
    let mut f = if has_f {
        gather::<D, W>(v1, base)
    } else {
        [[0.0; W]; D]
    };
    local.force_lanes::<D, S, W>(env, &q, &v, &m, &mut f);
    if let Some(out) = save {
        scatter(&f, out, base);
    }
    let (im, ii) = (lanes_of::<W>(inv.0, base), lanes_of::<W>(inv.1, base));
    let (mut q1s, mut v1s) = ([[0.0; W]; D], [[0.0; W]; D]);
    for k in 0..D {
        for l in 0..W {
            let wk = if k < S { im[l] } else { ii[l] };
            (q1s[k][l], v1s[k][l]) = advance(w, dt, q[k][l], v[k][l], f[k][l] * wk);
        }
    }
    scatter(&q1s, q1, base);
    scatter(&v1s, v1, base);
}
