//! Several steps at once, off the tape, when every force is local and the
//! scheme has one stage: each node then moves on its own, so the state is
//! updated in place, groups of nodes at a time (transposed,
//! vectorised across the nodes), and the step's setup (layout, parameters,
//! inverse masses, buffers) is paid once per call. Each step of each node
//! is the one-stage step's arithmetic in its order
//! ([`LocalForces::force_lanes`], then [`advance`]), so the result is the
//! same bits as that many single steps.

use super::local::LocalForces;
use super::record::BLOCK;
use super::scheme::{advance, Scheme};
use super::spec::StepSpec;
use super::step::{for_chunks, split_chunks};
use crate::error::Result;
use crate::tensor::Tensor;

/// Nodes per chunk: chunks run in parallel, and a block of 32 steps of
/// 256 nodes in 3D keeps its states (393 kB, see [`block`](super::block))
/// within a core's L2 cache. Each node moves on its own, so the chunking
/// does not change a bit.
pub(super) const CHUNK: usize = 256;
/// Chunks run in parallel from this many node-steps (state entries ×
/// steps): a call of 32 steps of 1000 nodes in 3D takes a third of a
/// millisecond, well above a fork-join's cost.
pub(super) const PAR_WORK: usize = 1 << 14;

/// What a stepper's multi-step run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ran {
    /// Every step, and the state stayed finite.
    Finite,
    /// A chunk's state went non-finite (checked every 32 steps):
    /// that chunk stopped there, the state is not a result.
    NonFinite,
    /// Nothing: the step has an element or a multi-stage scheme, or an
    /// uncommon shape (step one by one instead).
    No,
}

/// Whether [`run_local`] runs steps of `spec` on nodes of `dim`
/// coordinates: one stage, local forces only, and a common shape (others
/// step one by one).
pub(crate) fn runs_local<L: LocalForces, S: Scheme>(spec: &StepSpec<L>, dim: usize) -> bool {
    let spatial = match spec.model {
        super::MassModel::Particle => dim,
        super::MassModel::Rigid => 2,
    };
    S::TABLEAU.stages() == 1
        && spec.elements.is_empty()
        && matches!((dim, spatial), (3, 3) | (2, 2) | (3, 2) | (1, 1))
}

/// Runs `steps` steps of `spec` on the state (`q`, `v`) in place, with the
/// inputs after the state `rest` (masses, (inertias,) parameters): each
/// chunk of nodes all its steps in one go, in parallel, checking its state
/// every [`BLOCK`] steps.
pub(crate) fn run_local<L: LocalForces, S: Scheme>(
    spec: &StepSpec<L>,
    rest: &[&Tensor],
    q: &mut Tensor,
    v: &mut Tensor,
    steps: usize,
) -> Result<Ran> {
    if !runs_local::<L, S>(spec, q.shape.last().copied().unwrap_or(0)) {
        return Ok(Ran::No);
    }
    let lay = {
        let mut inputs = vec![&*q, &*v];
        inputs.extend_from_slice(rest);
        spec.layout(spec.model.op_name(), &inputs)?
    };
    // The parameters and masses only (the state's slots hold a stand-in).
    let mut inputs = vec![rest[0], rest[0]];
    inputs.extend_from_slice(rest);
    let (inv_m, inv_i) = spec.inverse_masses(&inputs);
    let chunks = lay.chunks(true, CHUNK);
    let parallel = chunks.len() > 1 && q.numel() * steps >= PAR_WORK;
    let work: Vec<_> = chunks
        .iter()
        .copied()
        .zip(
            split_chunks(&mut q.data, &chunks, lay.dim)
                .into_iter()
                .zip(split_chunks(&mut v.data, &chunks, lay.dim)),
        )
        .collect();
    let finite = for_chunks(parallel, work, |(c, (q, v))| {
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
    Ok(if finite.into_iter().all(|f| f) {
        Ran::Finite
    } else {
        Ran::NonFinite
    })
}

/// A chunk's time step, local forces and their parameters.
pub(super) type Run<'a, L> = (f64, &'a L, &'a <L as LocalForces>::Env);

/// Nodes per group of the coordinate-major loop.
pub(super) const GROUP: usize = 2;

/// One group's coordinates, coordinate-major (`x[k][l]`: coordinate k of
/// the group's node l).
pub(super) type Group<const D: usize> = [[f64; GROUP]; D];

/// `steps` steps of every node of a chunk, in place; `false` if its state
/// went non-finite (checked every [`BLOCK`] steps; it stops there). The chunk is copied
/// once per call into groups of [`GROUP`] nodes, coordinate-major within
/// each group, so each step loads a group's coordinates straight into
/// vectors instead of shuffling `[n, D]` rows; the last group is padded
/// with nodes at rest that no force moves (1/m = 0), dropped at the end.
/// `masses`: (m, 1/m, 1/I) per node. (Node-major order, all steps of a
/// group in registers, reads memory less but chains every step on the one
/// before: slower.)
fn run_nodes<L: LocalForces, Sch: Scheme, const D: usize, const S: usize>(
    run: Run<'_, L>,
    masses: (&[f64], &[f64], &[f64]),
    q: &mut [f64],
    v: &mut [f64],
    steps: usize,
) -> bool {
    let mut groups = Groups::<D>::new(masses, q, v);
    let mut done = 0;
    let mut finite = true;
    while done < steps && finite {
        let block = BLOCK.min(steps - done);
        for _ in 0..block {
            groups.step::<L, Sch, S>(run);
        }
        done += block;
        finite = groups.finite();
    }
    from_groups::<D>(&groups.q, q);
    from_groups::<D>(&groups.v, v);
    finite
}

/// A chunk's nodes in groups of [`GROUP`], coordinate-major within each.
pub(super) struct Groups<const D: usize> {
    pub q: Vec<Group<D>>,
    pub v: Vec<Group<D>>,
    /// (m, 1/m, 1/I) per group (padding: 1, 0, 0).
    pub masses: Vec<[[f64; GROUP]; 3]>,
}

impl<const D: usize> Groups<D> {
    pub(super) fn new(masses: (&[f64], &[f64], &[f64]), q: &[f64], v: &[f64]) -> Self {
        let (q, v) = (to_groups::<D>(q), to_groups::<D>(v));
        let masses = (0..q.len())
            .map(|g| {
                let lane = |x: &[f64], pad: f64| {
                    std::array::from_fn(|l| *x.get(g * GROUP + l).unwrap_or(&pad))
                };
                [
                    lane(masses.0, 1.0),
                    lane(masses.1, 0.0),
                    lane(masses.2, 0.0),
                ]
            })
            .collect();
        Groups { q, v, masses }
    }

    /// Whether every coordinate is finite (padding is).
    fn finite(&self) -> bool {
        let all = |g: &Vec<Group<D>>| g.iter().flatten().flatten().all(|x| x.is_finite());
        all(&self.q) && all(&self.v)
    }

    /// One step of every group.
    #[inline(always)]
    pub(super) fn step<L: LocalForces, Sch: Scheme, const S: usize>(&mut self, run: Run<'_, L>) {
        // A private copy of the parameters: the loop's stores cannot touch
        // it, so they stay in registers and the force flags are tested once.
        let env = *run.2;
        let run = (run.0, run.1, &env);
        let groups = self.q.iter_mut().zip(self.v.iter_mut()).zip(&self.masses);
        for ((q, v), m) in groups {
            step_group::<L, Sch, D, S>(run, m, q, v);
        }
    }
}

/// `x` (`n × D`, node-major) in groups, the last padded with zeros.
pub(super) fn to_groups<const D: usize>(x: &[f64]) -> Vec<Group<D>> {
    x.chunks(GROUP * D)
        .map(|nodes| {
            let mut g = [[0.0; GROUP]; D];
            for (l, node) in nodes.chunks_exact(D).enumerate() {
                for k in 0..D {
                    g[k][l] = node[k];
                }
            }
            g
        })
        .collect()
}

/// The nodes of `groups` back into `x` (`n × D`), padding dropped.
pub(super) fn from_groups<const D: usize>(groups: &[Group<D>], x: &mut [f64]) {
    for (g, nodes) in groups.iter().zip(x.chunks_mut(GROUP * D)) {
        for (l, node) in nodes.chunks_exact_mut(D).enumerate() {
            for k in 0..D {
                node[k] = g[k][l];
            }
        }
    }
}

/// One step of a group of nodes (`m`: their (m, 1/m, 1/I)), in place.
#[inline(always)]
fn step_group<L: LocalForces, Sch: Scheme, const D: usize, const S: usize>(
    run: Run<'_, L>,
    m: &[[f64; GROUP]; 3],
    q: &mut Group<D>,
    v: &mut Group<D>,
) {
    let (dt, local, env) = run;
    let w = const { Sch::TABLEAU.constant_weights() };
    let mut f = [[0.0; GROUP]; D];
    local.force_lanes::<D, S, GROUP>(env, q, v, &m[0], &mut f);
    for k in 0..D {
        for l in 0..GROUP {
            let wk = if k < S { m[1][l] } else { m[2][l] };
            (q[k][l], v[k][l]) = advance(w, dt, q[k][l], v[k][l], f[k][l] * wk);
        }
    }
}
