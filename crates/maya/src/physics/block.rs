//! A block of steps recorded as one tape node, for the models whose steps
//! [`run_local`] runs in one call (every force local, a one-stage scheme):
//! a rollout with a gradient records one node per block instead of one
//! per step.
//!
//! - **Forward** runs the block's steps off the tape ([`run_local`]) and
//!   keeps nothing but its inputs (the block's first state).
//! - **Adjoint**, chunk by chunk of nodes (each node moves on its own, so
//!   chunks are independent and run in parallel): replay the block's steps
//!   from the first state, keeping the state at the start of every step in
//!   a buffer small enough to stay in cache, then run the one-stage step's
//!   adjoint back through them (the arithmetic of the step kernel's
//!   per-node adjoint, on groups of nodes as the forward steps them).
//!
//! A recorded step per step would write every state to memory and read it
//! back; here the block's states live only in cache, for one extra pass of
//! the forward arithmetic. The replay is that arithmetic, so the states and
//! ∂L/∂q, ∂L/∂v are the bits of recording every step; the mass and
//! parameter gradients are the same sums in another order (within
//! rounding).

use super::layout::{Chunk, ChunkGrads, Layout, MassModel};
use super::local::{LocalForces, LOCAL_PARAMS_MAX};
use super::multistep::{from_groups, run_local, to_groups, Groups, Ran, CHUNK, GROUP, PAR_WORK};
use super::scheme::{advance_adjoint, Scheme};
use super::spec::StepSpec;
use super::step::{for_chunks, split_chunks};
use crate::error::Result;
use crate::tape::Kernel;
use crate::tensor::Tensor;
use std::marker::PhantomData;
use std::sync::Arc;

/// `steps` steps as one node: inputs `[q, v, m, (I,) params…]` as for
/// one step, outputs the state after the last step.
pub(crate) struct BlockKernel<L, S> {
    spec: Arc<StepSpec<L>>,
    steps: usize,
    scheme: PhantomData<S>,
}

impl<L: LocalForces, S: Scheme> BlockKernel<L, S> {
    pub(crate) fn new(spec: Arc<StepSpec<L>>, steps: usize) -> Self {
        BlockKernel {
            spec,
            steps,
            scheme: PhantomData,
        }
    }
}

impl<L: LocalForces, S: Scheme> Kernel for BlockKernel<L, S> {
    type Saved = ();

    fn name(&self) -> &'static str {
        S::NAME
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let (mut q, mut v) = (inputs[0].clone(), inputs[1].clone());
        // A non-finite state is returned as it is: the rollout checks it.
        let ran = run_local::<L, S>(&self.spec, &inputs[2..], &mut q, &mut v, self.steps)?;
        assert!(
            ran != Ran::No,
            "a block is recorded only where run_local runs"
        );
        Ok((vec![q, v], ()))
    }

    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let spec = &*self.spec;
        let lay = spec.layout(spec.model.op_name(), inputs)?;
        let chunks = lay.chunks(true, CHUNK);
        let parallel = chunks.len() > 1 && inputs[0].numel() * self.steps >= PAR_WORK;
        let (inv_m, inv_i) = spec.inverse_masses(inputs);
        let first = spec.model.first_param();
        let needs = Needs {
            mass: needs_grad[2..first].iter().any(|&x| x),
            params: &needs_grad[first..],
        };
        let (grad_q, rest) = grad_inputs.split_first_mut().expect("inputs q, v");
        let (grad_v, _) = rest.split_first_mut().expect("inputs q, v");
        let work: Vec<_> = chunks
            .iter()
            .copied()
            .zip(split_chunks(&mut grad_q.data, &chunks, lay.dim))
            .zip(split_chunks(&mut grad_v.data, &chunks, lay.dim))
            .collect();
        let block = Block {
            spec,
            lay: &lay,
            inputs,
            seeds: (&grad_outputs[0].data, &grad_outputs[1].data),
            inv: (&inv_m, &inv_i),
            steps: self.steps,
            needs,
        };
        let results = for_chunks(parallel, work, |((c, gq), gv)| {
            let gqv = (gq, gv);
            match (lay.dim, lay.spatial) {
                (3, 3) => chunk_adjoint::<L, S, 3, 3>(&block, c, gqv),
                (2, 2) => chunk_adjoint::<L, S, 2, 2>(&block, c, gqv),
                (3, 2) => chunk_adjoint::<L, S, 3, 2>(&block, c, gqv),
                (1, 1) => chunk_adjoint::<L, S, 1, 1>(&block, c, gqv),
                (d, s) => unreachable!("a block of ({d}, {s}) nodes is not recorded"),
            }
        });
        for (c, g) in chunks.iter().zip(results) {
            g.add_into(&lay, *c, grad_inputs);
        }
        Ok(())
    }
}

/// Which of the block's inputs after the state need a gradient.
struct Needs<'a> {
    mass: bool,
    params: &'a [bool],
}

/// What every chunk's adjoint reads.
struct Block<'a, L> {
    spec: &'a StepSpec<L>,
    lay: &'a Layout,
    inputs: &'a [&'a Tensor],
    /// ∂L/∂q, ∂L/∂v of the block's last state.
    seeds: (&'a [f64], &'a [f64]),
    /// (1/m, 1/I) per node.
    inv: (&'a [f64], &'a [f64]),
    steps: usize,
    needs: Needs<'a>,
}

/// One chunk's adjoint through the block: replay, then the steps' adjoints
/// in reverse, a group of nodes at a time as the forward steps them (each
/// lane the arithmetic of the step kernel's `node_adjoint` for its node, in its order).
/// Adds ∂L/∂q₀, ∂L/∂v₀ into `grads_qv` (the chunk's slices); returns its
/// mass and parameter gradients.
fn chunk_adjoint<L: LocalForces, Sch: Scheme, const D: usize, const S: usize>(
    b: &Block<'_, L>,
    c: Chunk,
    grads_qv: (&mut [f64], &mut [f64]),
) -> ChunkGrads {
    let (spec, lay, inputs) = (b.spec, b.lay, b.inputs);
    let (r, nr) = (lay.coords(c), lay.node_range(c));
    let mass = &inputs[2].data[nr.clone()];
    let im = &b.inv.0[nr.clone()];
    let ii = if b.inv.1.is_empty() { im } else { &b.inv.1[nr] };
    let params = lay.env_params(inputs, c.b);
    let env = spec.local.unpack(S, &params);
    // The replay: every group's state at the start of every step.
    let (q0, v0) = (&inputs[0].data[r.clone()], &inputs[1].data[r.clone()]);
    let mut groups = Groups::<D>::new((mass, im, ii), q0, v0);
    let ng = groups.q.len();
    let (mut qs, mut vs) = (
        Vec::with_capacity(b.steps * ng),
        Vec::with_capacity(b.steps * ng),
    );
    for t in 0..b.steps {
        qs.extend_from_slice(&groups.q);
        vs.extend_from_slice(&groups.v);
        if t + 1 < b.steps {
            groups.step::<L, Sch, S>((spec.dt, &spec.local, &env));
        }
    }
    let needs_mass = b.needs.mass;
    let rigid = lay.model == MassModel::Rigid;
    let adjoint_env = spec
        .local
        .unpack_adjoint(S, &params, b.needs.params, needs_mass);
    let w = const { Sch::TABLEAU.constant_weights() };
    let (gq0, gv0) = grads_qv;
    // The block's input gradients so far, which the first step adds to.
    let (base_q, base_v) = (to_groups::<D>(gq0), to_groups::<D>(gv0));
    let (mut gq, mut gv) = (
        to_groups::<D>(&b.seeds.0[r.clone()]),
        to_groups::<D>(&b.seeds.1[r]),
    );
    let mut gm = vec![[0.0; GROUP]; if needs_mass { ng } else { 0 }];
    let mut gi = vec![[0.0; GROUP]; if needs_mass && rigid { ng } else { 0 }];
    let mut acc = [[0.0; GROUP]; LOCAL_PARAMS_MAX];
    let zero = [[0.0; GROUP]; D];
    for t in (0..b.steps).rev() {
        let states = qs[t * ng..(t + 1) * ng]
            .iter()
            .zip(&vs[t * ng..(t + 1) * ng]);
        for (g, (q, v)) in states.enumerate() {
            let m = &groups.masses[g];
            let (mut gq_new, mut gv_new) = if t == 0 {
                (base_q[g], base_v[g])
            } else {
                (zero, zero)
            };
            let mut gf = zero;
            for k in 0..D {
                for l in 0..GROUP {
                    let (gqk, gvk, ga) = advance_adjoint(w, spec.dt, gq[g][k][l], gv[g][k][l]);
                    gq_new[k][l] += gqk;
                    gv_new[k][l] += gvk;
                    gf[k][l] = ga * if k < S { m[1][l] } else { m[2][l] };
                }
            }
            let mut gm_step = [0.0; GROUP];
            if needs_mass {
                // a = F/m: ∂L/∂m −= ḡF·F/m (and the same with I for the angle).
                let mut f = zero;
                spec.local
                    .force_lanes::<D, S, GROUP>(&env, q, v, &m[0], &mut f);
                for k in 0..D {
                    for l in 0..GROUP {
                        let x = gf[k][l] * f[k][l];
                        if k < S {
                            gm_step[l] -= x * m[1][l];
                        } else if rigid {
                            gi[g][l] -= x * m[2][l];
                        }
                    }
                }
            }
            spec.local.vjp_lanes::<D, S, GROUP>(
                &adjoint_env,
                q,
                v,
                &m[0],
                &gf,
                &mut gq_new,
                &mut gv_new,
                &mut gm_step,
                &mut acc,
            );
            (gq[g], gv[g]) = (gq_new, gv_new);
            if needs_mass {
                for l in 0..GROUP {
                    gm[g][l] += gm_step[l];
                }
            }
        }
    }
    from_groups::<D>(&gq, gq0);
    from_groups::<D>(&gv, gv0);
    let mut grads = ChunkGrads::new(lay, c, needs_mass);
    for (i, g) in grads.mass.iter_mut().enumerate() {
        *g += gm[i / GROUP][i % GROUP];
    }
    if needs_mass && rigid {
        for (i, g) in grads.inertia.iter_mut().enumerate() {
            *g += gi[i / GROUP][i % GROUP];
        }
    }
    let sums: [f64; LOCAL_PARAMS_MAX] = std::array::from_fn(|j| acc[j].iter().sum());
    spec.local.scatter(S, &sums, &mut grads.params);
    grads
}
