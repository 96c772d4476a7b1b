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
//!   adjoint ([`node_adjoint`]) back through them.
//!
//! A recorded step per step would write every state to memory and read it
//! back; here the block's states live only in cache, for one extra pass of
//! the forward arithmetic. The replay is that arithmetic, so the states and
//! ∂L/∂q, ∂L/∂v are the bits of recording every step; the mass and
//! parameter gradients are the same sums in another order (within
//! rounding).

use super::layout::{ChunkGrads, Layout};
use super::local::{forces_dyn, LocalForces, LOCAL_PARAMS_MAX};
use super::multistep::{replay_nodes, run_local, CHUNK, PAR_WORK};
use super::scheme::Scheme;
use super::spec::StepSpec;
use super::step::{for_chunks, node_adjoint, split_chunks, StepKernel};
use crate::error::Result;
use crate::tape::Kernel;
use crate::tensor::Tensor;
use std::marker::PhantomData;
use std::sync::Arc;

/// Whether a block of steps of `spec` on nodes of `dim` coordinates can be
/// recorded as one node: one stage, local forces only, and a shape
/// [`run_local`] runs.
pub(crate) fn applies<L: LocalForces, S: Scheme>(spec: &StepSpec<L>, dim: usize) -> bool {
    let spatial = match spec.model {
        super::MassModel::Particle => dim,
        super::MassModel::Rigid => 2,
    };
    S::TABLEAU.stages() == 1
        && spec.elements.is_empty()
        && matches!((dim, spatial), (3, 3) | (2, 2) | (3, 2) | (1, 1))
}

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
        if !run_local::<L, S>(&self.spec, &inputs[2..], &mut q, &mut v, self.steps)? {
            // Not a shape `applies` admits: step one by one.
            let step = StepKernel::<L, S>::new(Arc::clone(&self.spec), None);
            let none = vec![false; inputs.len()];
            let (mut q1, mut v1) = (q.clone(), v.clone());
            for _ in 0..self.steps {
                let mut xs = vec![&q, &v];
                xs.extend_from_slice(&inputs[2..]);
                step.step_into(&xs, &none, &mut q1, &mut v1)?;
                std::mem::swap(&mut q, &mut q1);
                std::mem::swap(&mut v, &mut v1);
            }
        }
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
/// in reverse. Adds ∂L/∂q₀, ∂L/∂v₀ into `grads_qv` (the chunk's slices);
/// returns its mass and parameter gradients.
fn chunk_adjoint<L: LocalForces, Sch: Scheme, const D: usize, const S: usize>(
    b: &Block<'_, L>,
    c: super::layout::Chunk,
    grads_qv: (&mut [f64], &mut [f64]),
) -> ChunkGrads {
    let (spec, lay, inputs) = (b.spec, b.lay, b.inputs);
    let (r, nr) = (lay.coords(c), lay.node_range(c));
    let len = r.len();
    let mass = &inputs[2].data[nr.clone()];
    let im = &b.inv.0[nr.clone()];
    let ii = if b.inv.1.is_empty() { im } else { &b.inv.1[nr] };
    let params = lay.env_params(inputs, c.b);
    let env = spec.local.unpack(S, &params);
    // states[t]: the state at the start of step t.
    let (mut qs, mut vs) = (
        Vec::with_capacity(b.steps * len),
        Vec::with_capacity(b.steps * len),
    );
    qs.extend_from_slice(&inputs[0].data[r.clone()]);
    vs.extend_from_slice(&inputs[1].data[r.clone()]);
    let run = (spec.dt, &spec.local, &env);
    replay_nodes::<L, Sch, D, S>(run, (mass, im, ii), &mut qs, &mut vs, b.steps);
    let needs_mass = b.needs.mass;
    let mut grads = ChunkGrads::new(lay, c, needs_mass);
    let mut acc = [0.0; LOCAL_PARAMS_MAX];
    let w = const { Sch::TABLEAU.constant_weights() };
    let (mut seed_q, mut seed_v) = (b.seeds.0[r.clone()].to_vec(), b.seeds.1[r].to_vec());
    let (mut out_q, mut out_v) = (vec![0.0; len], vec![0.0; len]);
    let mut force = vec![0.0; if needs_mass { len } else { 0 }];
    let (gq0, gv0) = grads_qv;
    for t in (0..b.steps).rev() {
        let (q, v) = (&qs[t * len..(t + 1) * len], &vs[t * len..(t + 1) * len]);
        if needs_mass {
            force.fill(0.0);
            forces_dyn(&spec.local, &env, D, S, q, v, mass, &mut force);
        }
        // The first step's gradients go into the block's input gradients.
        let outs = if t == 0 {
            (&mut *gq0, &mut *gv0)
        } else {
            out_q.fill(0.0);
            out_v.fill(0.0);
            (&mut out_q[..], &mut out_v[..])
        };
        node_adjoint::<L, D, S>(
            w,
            (b.needs.params, needs_mass),
            spec,
            &params,
            &lay.nodes(inputs, q, v, c),
            (im, ii),
            (&seed_q, &seed_v),
            needs_mass.then_some(&force[..]),
            outs,
            &mut grads,
            &mut [],
            &mut acc,
        );
        std::mem::swap(&mut seed_q, &mut out_q);
        std::mem::swap(&mut seed_v, &mut out_v);
    }
    spec.local.scatter(S, &acc, &mut grads.params);
    grads
}
