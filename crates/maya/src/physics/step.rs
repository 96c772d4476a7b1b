//! The one step kernel: sums the forces of a model's elements, applies the
//! inverse mass and the scheme. Particles and rigid bodies (and next, mesh
//! vertices) alike.
//!
//! Forward, per node i and coordinate k, for a one-stage scheme:
//! Fᵢ = Σ_elements Fᵢ, aᵢₖ = Fᵢₖ·wᵢₖ with wᵢₖ = 1/mᵢ (1/Iᵢ for a rigid
//! body's angle), then (q', v') = [`advance`]. Adjoint: (ḡq, ḡv, ḡa) =
//! [`advance_adjoint`], ḡF = ḡa·w, ∂L/∂mᵢ −= Σₖ ḡFᵢₖ·Fᵢₖ·wᵢₖ (a = F/m),
//! then every element's adjoint takes ḡF into the state, the masses and its
//! parameters. Multi-stage schemes go through [`stages`](super::stages).
//!
//! Nodes are split into fixed chunks across threads when every force is
//! local (else one chunk per environment); per-chunk parameter gradients
//! are summed in chunk order, so results do not depend on scheduling.

use super::lanes::{forward_group, LANES};
use super::layout::{check_state, Chunk, ChunkGrads, Layout};
use super::local::{with_dims, LocalForces, LOCAL_PARAMS_MAX};
use super::scheme::{advance, advance_adjoint, Scheme};
use super::spec::{element_adjoints, StepSpec};
use super::stages;
use crate::error::Result;
use crate::tape::Kernel;
use crate::tensor::Tensor;
use rayon::prelude::*;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

/// Nodes per chunk of a parallel step (fixed, so sums do not depend on the
/// thread count).
pub(crate) const CHUNK: usize = 2048;
/// A step runs chunks in parallel from this many state entries (B·N·D).
pub(crate) const PAR_MIN: usize = 1 << 13;
/// What the step keeps for its adjoint, per chunk: each element's saved
/// state and, when the masses need a gradient, the net force.
pub(crate) struct ChunkSaved {
    elements: Vec<Box<dyn Any + Send + Sync>>,
    force: Vec<f64>,
}

/// The step kernel: inputs `[q, v, m, (I,) params…]`, outputs `[q', v']`.
/// With `step` set, forward fails with [`Error::NonFinite`] naming that
/// step if the new state has a non-finite entry (rollouts leave it unset
/// and check every few steps instead).
pub(crate) struct StepKernel<L, S> {
    pub spec: Arc<StepSpec<L>>,
    pub step: Option<usize>,
    pub scheme: PhantomData<S>,
}

impl<L: LocalForces, S: Scheme> StepKernel<L, S> {
    pub(crate) fn new(spec: Arc<StepSpec<L>>, step: Option<usize>) -> Self {
        StepKernel {
            spec,
            step,
            scheme: PhantomData,
        }
    }

    /// The forward pass into buffers shaped like q and v (overwritten).
    pub(crate) fn step_into(
        &self,
        inputs: &[&Tensor],
        needs_grad: &[bool],
        q1: &mut Tensor,
        v1: &mut Tensor,
    ) -> Result<Vec<ChunkSaved>> {
        let spec = &*self.spec;
        let lay = spec.layout(spec.model.op_name(), inputs)?;
        if S::TABLEAU.stages() > 1 {
            stages::forward::<L>(spec, &S::TABLEAU, &lay, inputs, q1, v1)?;
            return Ok(Vec::new());
        }
        let save_force = needs_grad[2..spec.model.first_param()].iter().any(|&x| x);
        let chunks = lay.chunks(spec.all_local(), CHUNK);
        let parallel = chunks.len() > 1 && inputs[0].numel() >= PAR_MIN;
        let (inv_m, inv_i) = spec.inverse_masses(inputs);
        let work: Vec<_> = chunks
            .iter()
            .copied()
            .zip(split_chunks(&mut q1.data, &chunks, lay.dim))
            .zip(split_chunks(&mut v1.data, &chunks, lay.dim))
            .collect();
        let saved = for_chunks(parallel, work, |((c, q1), v1)| {
            self.chunk_forward(&lay, inputs, c, (&inv_m, &inv_i), save_force, q1, v1)
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        if let Some(step) = self.step {
            check_state(q1, v1, spec.model, step)?;
        }
        Ok(saved)
    }

    #[allow(clippy::too_many_arguments)]
    fn chunk_forward(
        &self,
        lay: &Layout,
        inputs: &[&Tensor],
        c: Chunk,
        inv: (&[f64], &[f64]),
        save_force: bool,
        q1: &mut [f64],
        v1: &mut [f64],
    ) -> Result<ChunkSaved> {
        let spec = &*self.spec;
        let r = lay.coords(c);
        let (q, v) = (&inputs[0].data[r.clone()], &inputs[1].data[r]);
        let nodes = lay.nodes(inputs, q, v, c);
        let params = lay.env_params(inputs, c.b);
        let (local_params, mut rest) = params.split_at(spec.n_local_params(lay));
        let has_f = !spec.elements.is_empty();
        let mut saved = Vec::with_capacity(spec.elements.len());
        if has_f {
            v1.fill(0.0); // v1 holds the elements' force F for now
            for (e, np) in &spec.elements {
                let (mine, others) = rest.split_at(*np);
                saved.push(e.force(&nodes, mine, v1)?);
                rest = others;
            }
        }
        let nr = lay.node_range(c);
        let inv_m = &inv.0[nr.clone()];
        let inv_i = if inv.1.is_empty() { inv_m } else { &inv.1[nr] };
        let mut force = if save_force {
            vec![0.0; q1.len()]
        } else {
            Vec::new()
        };
        let w = const { S::TABLEAU.constant_weights() };
        with_dims!(
            lay.dim,
            lay.spatial,
            node_loop(
                w,
                spec.dt,
                &spec.local,
                local_params,
                &nodes,
                (inv_m, inv_i),
                has_f,
                save_force.then_some(&mut force[..]),
                q1,
                v1,
            )
        );
        Ok(ChunkSaved {
            elements: saved,
            force,
        })
    }
}

/// The fused per-node loop: local forces, inverse mass and the one-stage
/// update. `v1` holds the other elements' force on entry when `has_f`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn node_loop<L: LocalForces, const D: usize, const S: usize>(
    w: (f64, f64),
    dt: f64,
    local: &L,
    params: &[&[f64]],
    nodes: &super::Nodes,
    inv: (&[f64], &[f64]),
    has_f: bool,
    mut save: Option<&mut [f64]>,
    q1: &mut [f64],
    v1: &mut [f64],
) {
    let env = local.unpack(S, params);
    // Groups of LANES nodes first (vectorised across nodes), then the rest.
    let full = nodes.mass.len() / LANES * LANES;
    for base in (0..full).step_by(LANES) {
        forward_group::<L, D, S, LANES>(
            w,
            dt,
            local,
            &env,
            (nodes.q, nodes.v, nodes.mass),
            inv,
            has_f,
            save.as_deref_mut(),
            q1,
            v1,
            base,
        );
    }
    let states = (nodes.q.chunks_exact(D).zip(nodes.v.chunks_exact(D)))
        .zip(nodes.mass.iter().zip(inv.0.iter().zip(inv.1)));
    let outs = q1.chunks_exact_mut(D).zip(v1.chunks_exact_mut(D));
    for (i, (((qi, vi), (&mi, (&im, &ii))), (q1i, v1i))) in states.zip(outs).enumerate().skip(full)
    {
        let qi: &[f64; D] = qi.try_into().expect("chunks of D");
        let vi: &[f64; D] = vi.try_into().expect("chunks of D");
        let q1i: &mut [f64; D] = q1i.try_into().expect("chunks of D");
        let v1i: &mut [f64; D] = v1i.try_into().expect("chunks of D");
        let mut f = [0.0f64; D];
        if has_f {
            f = *v1i;
        }
        local.force_node::<D, S>(&env, qi, vi, mi, &mut f);
        if let Some(out) = save.as_deref_mut() {
            out[i * D..(i + 1) * D].copy_from_slice(&f);
        }
        for k in 0..D {
            let wk = if k < S { im } else { ii };
            (q1i[k], v1i[k]) = advance(w, dt, qi[k], vi[k], f[k] * wk);
        }
    }
}

impl<L: LocalForces, S: Scheme> Kernel for StepKernel<L, S> {
    type Saved = Vec<ChunkSaved>;

    fn name(&self) -> &'static str {
        S::NAME
    }

    fn forward(
        &self,
        inputs: &[&Tensor],
        needs_grad: &[bool],
    ) -> Result<(Vec<Tensor>, Self::Saved)> {
        let mut q1 = Tensor::zeros(&inputs[0].shape);
        let mut v1 = Tensor::zeros(&inputs[1].shape);
        let saved = self.step_into(inputs, needs_grad, &mut q1, &mut v1)?;
        Ok((vec![q1, v1], saved))
    }

    fn vjp(
        &self,
        saved: &Self::Saved,
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let spec = &*self.spec;
        let lay = spec.layout(spec.model.op_name(), inputs)?;
        if S::TABLEAU.stages() > 1 {
            return stages::adjoint::<L>(
                spec,
                &S::TABLEAU,
                &lay,
                inputs,
                grad_outputs,
                grad_inputs,
                needs_grad,
            );
        }
        let chunks = lay.chunks(spec.all_local(), CHUNK);
        let parallel = chunks.len() > 1 && inputs[0].numel() >= PAR_MIN;
        let (inv_m, inv_i) = spec.inverse_masses(inputs);
        let (gq1, gv1) = (&grad_outputs[0].data, &grad_outputs[1].data);
        let (grad_q, rest) = grad_inputs.split_first_mut().expect("inputs q, v");
        let (grad_v, _) = rest.split_first_mut().expect("inputs q, v");
        let work: Vec<_> = chunks
            .iter()
            .copied()
            .zip(saved)
            .zip(split_chunks(&mut grad_q.data, &chunks, lay.dim))
            .zip(split_chunks(&mut grad_v.data, &chunks, lay.dim))
            .collect();
        let needs_mass = needs_grad[2..spec.model.first_param()].iter().any(|&x| x);
        let needs_params = &needs_grad[spec.model.first_param()..];
        let results = for_chunks(parallel, work, |(((c, saved), gq), gv)| {
            let r = lay.coords(c);
            let (q, v) = (&inputs[0].data[r.clone()], &inputs[1].data[r.clone()]);
            let nodes = lay.nodes(inputs, q, v, c);
            let params = lay.env_params(inputs, c.b);
            let n_local = spec.n_local_params(&lay);
            let nr = lay.node_range(c);
            let inv = (
                &inv_m[nr.clone()],
                if inv_i.is_empty() {
                    &inv_m[nr]
                } else {
                    &inv_i[nr]
                },
            );
            let mut grads = ChunkGrads::new(&lay, c, needs_mass || !spec.elements.is_empty());
            let mut gf = if spec.elements.is_empty() {
                Vec::new()
            } else {
                vec![0.0; gq.len()]
            };
            let mut acc = [0.0; LOCAL_PARAMS_MAX];
            let w = const { S::TABLEAU.constant_weights() };
            with_dims!(
                lay.dim,
                lay.spatial,
                node_adjoint(
                    w,
                    (&needs_params[..n_local], needs_mass),
                    spec,
                    &params[..n_local],
                    &nodes,
                    inv,
                    (&gq1[r.clone()], &gv1[r.clone()]),
                    needs_mass.then_some(&saved.force[..]),
                    (&mut *gq, &mut *gv),
                    &mut grads,
                    &mut gf,
                    &mut acc,
                )
            );
            spec.local
                .scatter(lay.spatial, &acc, &mut grads.params[..n_local]);
            element_adjoints(
                &spec.elements,
                &saved.elements,
                &nodes,
                &params[n_local..],
                n_local,
                &gf,
                gq,
                gv,
                &mut grads,
                needs_mass,
                needs_params,
            )?;
            Ok::<_, crate::Error>(grads)
        });
        for (c, g) in chunks.iter().zip(results) {
            g?.add_into(&lay, *c, grad_inputs);
        }
        Ok(())
    }
}

/// The adjoint of [`node_loop`], plus the local forces' adjoints.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn node_adjoint<L: LocalForces, const D: usize, const S: usize>(
    w: (f64, f64),
    needs: (&[bool], bool),
    spec: &StepSpec<L>,
    params: &[&[f64]],
    nodes: &super::Nodes,
    inv: (&[f64], &[f64]),
    seeds: (&[f64], &[f64]),
    force: Option<&[f64]>,
    grads_qv: (&mut [f64], &mut [f64]),
    grads: &mut ChunkGrads,
    gf_out: &mut [f64],
    acc: &mut [f64; LOCAL_PARAMS_MAX],
) {
    let (gq, gv) = grads_qv;
    let rigid = !grads.inertia.is_empty();
    let env = spec.local.unpack_adjoint(S, params, needs.0, needs.1);
    // A private accumulator that never escapes, so the compiler keeps its
    // slots in registers across the loop; added into `acc` at the end.
    let mut sums = [0.0; LOCAL_PARAMS_MAX];
    let states = (nodes.q.chunks_exact(D).zip(nodes.v.chunks_exact(D)))
        .zip(nodes.mass.iter().zip(inv.0.iter().zip(inv.1)));
    let seeds = seeds.0.chunks_exact(D).zip(seeds.1.chunks_exact(D));
    let outs = gq.chunks_exact_mut(D).zip(gv.chunks_exact_mut(D));
    for (i, (((qi, vi), (&mi, (&im, &ii))), ((gq1, gv1), (gqi, gvi)))) in
        states.zip(seeds.zip(outs)).enumerate()
    {
        let (qi, vi): (&[f64; D], &[f64; D]) =
            (qi.try_into().expect("D"), vi.try_into().expect("D"));
        let (gqi, gvi): (&mut [f64; D], &mut [f64; D]) =
            (gqi.try_into().expect("D"), gvi.try_into().expect("D"));
        // This node's ∂L/∂q, ∂L/∂v are summed in registers and stored once
        // (mixing scalar stores and vector reloads of them stalls).
        let (mut gq_node, mut gv_node, mut gf) = (*gqi, *gvi, [0.0f64; D]);
        for k in 0..D {
            let (gqk, gvk, ga) = advance_adjoint(w, spec.dt, gq1[k], gv1[k]);
            gq_node[k] += gqk;
            gv_node[k] += gvk;
            gf[k] = ga * if k < S { im } else { ii };
        }
        let mut gm = 0.0;
        if let Some(f) = force {
            // a = F/m: ∂L/∂m −= ḡF·F/m (and the same with I for the angle).
            for k in 0..D {
                let g = gf[k] * f[i * D + k];
                if k < S {
                    gm -= g * im;
                } else if rigid {
                    grads.inertia[i] -= g * ii;
                }
            }
        }
        spec.local.vjp_node::<D, S>(
            &env,
            qi,
            vi,
            mi,
            &gf,
            &mut gq_node,
            &mut gv_node,
            &mut gm,
            &mut sums,
        );
        (*gqi, *gvi) = (gq_node, gv_node);
        if let Some(g) = grads.mass.get_mut(i) {
            *g += gm;
        }
        if !gf_out.is_empty() {
            gf_out[i * D..(i + 1) * D].copy_from_slice(&gf);
        }
    }
    for (a, s) in acc.iter_mut().zip(sums) {
        *a += s;
    }
}

/// Splits `data` into the consecutive slices of `chunks`.
pub(crate) fn split_chunks<'a>(
    mut data: &'a mut [f64],
    chunks: &[Chunk],
    d: usize,
) -> Vec<&'a mut [f64]> {
    chunks
        .iter()
        .map(|c| {
            let (head, tail) = std::mem::take(&mut data).split_at_mut((c.hi - c.lo) * d);
            data = tail;
            head
        })
        .collect()
}

/// Runs `f` over the items, in parallel when asked.
pub(crate) fn for_chunks<T: Send, R: Send>(
    parallel: bool,
    items: Vec<T>,
    f: impl Fn(T) -> R + Sync + Send,
) -> Vec<R> {
    if parallel {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}
