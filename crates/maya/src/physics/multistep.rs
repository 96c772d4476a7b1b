//! Several steps at once, off the tape, when every force is local and the
//! scheme has one stage: each node then moves on its own, so the state is
//! updated in place, groups of [`LANES`] nodes at a time (transposed,
//! vectorised across the nodes), and the step's setup (layout, parameters,
//! inverse masses, buffers) is paid once per call. Each step of each node
//! is the one-stage step's arithmetic in its order
//! ([`LocalForces::force_lanes`], then [`advance`]), so the result is the
//! same bits as that many single steps.

use super::lanes::LANES;
use super::local::LocalForces;
use super::scheme::{advance, Scheme};
use super::spec::StepSpec;
use super::step::{for_chunks, split_chunks, CHUNK};
use crate::error::Result;
use crate::tensor::Tensor;

/// Runs `steps` steps of `spec` on the state (`q`, `v`) in place, with the
/// inputs after the state `rest` (masses, (inertias,) parameters). Returns
/// `Ok(false)` and leaves the state alone when the step has an element
/// (non-local forces) or a multi-stage scheme.
pub(crate) fn run_local<L: LocalForces, S: Scheme>(
    spec: &StepSpec<L>,
    rest: &[&Tensor],
    q: &mut Tensor,
    v: &mut Tensor,
    steps: usize,
) -> Result<bool> {
    if S::TABLEAU.stages() > 1 || !spec.elements.is_empty() {
        return Ok(false);
    }
    let lay = {
        let mut inputs = vec![&*q, &*v];
        inputs.extend_from_slice(rest);
        spec.layout(spec.model.op_name(), &inputs)?
    };
    // The common shapes (others step one by one).
    if !matches!((lay.dim, lay.spatial), (3, 3) | (2, 2) | (3, 2) | (1, 1)) {
        return Ok(false);
    }
    // The parameters and masses only (the state's slots hold a stand-in).
    let mut inputs = vec![rest[0], rest[0]];
    inputs.extend_from_slice(rest);
    let (inv_m, inv_i) = spec.inverse_masses(&inputs);
    let chunks = lay.chunks(true, CHUNK);
    let parallel = chunks.len() > 1 && q.numel() >= super::step::PAR_MIN;
    let work: Vec<_> = chunks
        .iter()
        .copied()
        .zip(
            split_chunks(&mut q.data, &chunks, lay.dim)
                .into_iter()
                .zip(split_chunks(&mut v.data, &chunks, lay.dim)),
        )
        .collect();
    for_chunks(parallel, work, |(c, (q, v))| {
        let params = lay.env_params(&inputs, c.b);
        let env = spec.local.unpack(lay.spatial, &params);
        let nr = lay.node_range(c);
        let mass = &inputs[2].data[nr.clone()];
        let im = &inv_m[nr.clone()];
        let ii = if inv_i.is_empty() { im } else { &inv_i[nr] };
        let run = (spec.dt, &spec.local, &env);
        match (lay.dim, lay.spatial) {
            (3, 3) => run_nodes::<L, S, 3, 3>(run, (mass, im, ii), q, v, steps),
            (2, 2) => run_nodes::<L, S, 2, 2>(run, (mass, im, ii), q, v, steps),
            (3, 2) => run_nodes::<L, S, 3, 2>(run, (mass, im, ii), q, v, steps),
            _ => run_nodes::<L, S, 1, 1>(run, (mass, im, ii), q, v, steps),
        }
    });
    Ok(true)
}

/// A chunk's time step, local forces and their parameters.
type Run<'a, L> = (f64, &'a L, &'a <L as LocalForces>::Env);

/// `steps` steps of every node of a chunk, in place: per step, groups of
/// [`LANES`] nodes, then the nodes left over one by one. `masses`: (m,
/// 1/m, 1/I) per node. (Node-major order, all steps of a group in
/// registers, reads memory less but chains every step on the one before:
/// slower.)
fn run_nodes<L: LocalForces, Sch: Scheme, const D: usize, const S: usize>(
    run: Run<'_, L>,
    masses: (&[f64], &[f64], &[f64]),
    q: &mut [f64],
    v: &mut [f64],
    steps: usize,
) {
    for _ in 0..steps {
        let states = q
            .chunks_exact_mut(LANES * D)
            .zip(v.chunks_exact_mut(LANES * D));
        let groups = masses.0.chunks_exact(LANES).zip(
            masses
                .1
                .chunks_exact(LANES)
                .zip(masses.2.chunks_exact(LANES)),
        );
        for ((q, v), (m, (im, ii))) in states.zip(groups) {
            step_group::<L, Sch, D, S, LANES>(run, (m, im, ii), q, v);
        }
        let full = masses.0.len() / LANES * LANES;
        let states = q[full * D..]
            .chunks_exact_mut(D)
            .zip(v[full * D..].chunks_exact_mut(D));
        let rest = (masses.0[full..].chunks(1))
            .zip(masses.1[full..].chunks(1).zip(masses.2[full..].chunks(1)));
        for ((q, v), (m, (im, ii))) in states.zip(rest) {
            step_group::<L, Sch, D, S, 1>(run, (m, im, ii), q, v);
        }
    }
}

/// One step of `W` nodes (`q`, `v`: their `W × D` coordinates; `masses`:
/// their (m, 1/m, 1/I)), in place.
#[inline(always)]
fn step_group<L: LocalForces, Sch: Scheme, const D: usize, const S: usize, const W: usize>(
    run: Run<'_, L>,
    masses: (&[f64], &[f64], &[f64]),
    q: &mut [f64],
    v: &mut [f64],
) {
    let (dt, local, env) = run;
    let w = const { Sch::TABLEAU.constant_weights() };
    let lanes = |x: &[f64]| -> [f64; W] { x.try_into().expect("W nodes") };
    let (m, im, ii) = (lanes(masses.0), lanes(masses.1), lanes(masses.2));
    let qt: [[f64; W]; D] = std::array::from_fn(|k| std::array::from_fn(|l| q[l * D + k]));
    let vt: [[f64; W]; D] = std::array::from_fn(|k| std::array::from_fn(|l| v[l * D + k]));
    let mut f = [[0.0; W]; D];
    local.force_lanes::<D, S, W>(env, &qt, &vt, &m, &mut f);
    for k in 0..D {
        for l in 0..W {
            let wk = if k < S { im[l] } else { ii[l] };
            (q[l * D + k], v[l * D + k]) = advance(w, dt, qt[k][l], vt[k][l], f[k][l] * wk);
        }
    }
}
