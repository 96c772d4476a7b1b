//! Multi-stage explicit schemes ([`Rk4`](super::Rk4),
//! [`VelocityVerlet`](super::VelocityVerlet)) in the step kernel: the
//! forces are evaluated at each stage state, and the adjoint recomputes the
//! stages (nothing is saved) and walks them back (see
//! [`scheme`](super::scheme) for the equations). One environment at a
//! time.

use super::element::Nodes;
use super::layout::{Chunk, ChunkGrads, Layout};
use super::local::{forces_dyn, vjps_dyn, LocalForces, LOCAL_PARAMS_MAX};
use super::scheme::{combine, combine_adjoint, stage_state, stage_state_adjoint, Tableau};
use super::spec::{element_adjoints, Saved, StepSpec};
use crate::error::Result;
use crate::tensor::Tensor;

/// The stages of one environment: their states, accelerations and the
/// elements' saved states.
struct Stages {
    states: Vec<(Vec<f64>, Vec<f64>)>,
    acc: Vec<Vec<f64>>,
    saved: Vec<Saved>,
}

/// Per-coordinate inverse mass of node i, coordinate k.
#[inline]
fn weight(lay: &Layout, inv: (&[f64], &[f64]), j: usize) -> f64 {
    let (i, k) = (j / lay.dim, j % lay.dim);
    if k < lay.spatial || inv.1.is_empty() {
        inv.0[i]
    } else {
        inv.1[i]
    }
}

#[allow(clippy::too_many_arguments)]
fn run_stages<L: LocalForces>(
    spec: &StepSpec<L>,
    t: &Tableau,
    lay: &Layout,
    inputs: &[&Tensor],
    c: Chunk,
    q: &[f64],
    v: &[f64],
    inv: (&[f64], &[f64]),
) -> Result<Stages> {
    let params = lay.env_params(inputs, c.b);
    let n_local = spec.n_local_params(lay);
    let mut st = Stages {
        states: Vec::new(),
        acc: Vec::new(),
        saved: Vec::new(),
    };
    for s in 0..t.stages() {
        let (mut qs, mut vs) = (vec![0.0; q.len()], vec![0.0; q.len()]);
        stage_state(t, s, spec.dt, q, v, &st.acc, &mut qs, &mut vs);
        let nodes = lay.nodes(inputs, &qs, &vs, c);
        let mut f = vec![0.0; q.len()];
        let mut saved = Vec::new();
        let mut rest = &params[n_local..];
        for (e, np) in &spec.elements {
            let (mine, others) = rest.split_at(*np);
            saved.push(e.force(&nodes, mine, &mut f)?);
            rest = others;
        }
        let d = lay.dim;
        let env = spec.local.unpack(lay.spatial, &params[..n_local]);
        forces_dyn(
            &spec.local,
            &env,
            d,
            lay.spatial,
            &qs,
            &vs,
            nodes.mass,
            &mut f,
        );
        let a = f
            .iter()
            .enumerate()
            .map(|(j, f)| f * weight(lay, inv, j))
            .collect();
        st.acc.push(a);
        st.saved.push(saved);
        st.states.push((qs, vs));
    }
    Ok(st)
}

/// One environment of a multi-stage step: its chunk, coordinate range,
/// start state, inverse masses and stages.
struct Env<'a, 'b> {
    c: Chunk,
    r: std::ops::Range<usize>,
    q: &'a [f64],
    v: &'a [f64],
    inv: (&'b [f64], &'b [f64]),
    st: Stages,
}

fn environment<'a, 'b, L: LocalForces>(
    spec: &StepSpec<L>,
    t: &Tableau,
    lay: &Layout,
    inputs: &[&'a Tensor],
    b: usize,
    inv: (&'b [f64], &'b [f64]),
) -> Result<Env<'a, 'b>> {
    let c = Chunk {
        b,
        lo: 0,
        hi: lay.n,
    };
    let r = lay.coords(c);
    let (q, v) = (&inputs[0].data[r.clone()], &inputs[1].data[r.clone()]);
    let nr = lay.node_range(c);
    let inv_i = if inv.1.is_empty() {
        &[][..]
    } else {
        &inv.1[nr.clone()]
    };
    let inv = (&inv.0[nr], inv_i);
    let st = run_stages(spec, t, lay, inputs, c, q, v, inv)?;
    Ok(Env {
        c,
        r,
        q,
        v,
        inv,
        st,
    })
}

/// Forward of a multi-stage step into `q1`, `v1`.
pub(crate) fn forward<L: LocalForces>(
    spec: &StepSpec<L>,
    t: &Tableau,
    lay: &Layout,
    inputs: &[&Tensor],
    q1: &mut Tensor,
    v1: &mut Tensor,
) -> Result<()> {
    let (inv_m, inv_i) = spec.inverse_masses(inputs);
    for b in 0..lay.batch {
        let Env { r, q, v, st, .. } = environment(spec, t, lay, inputs, b, (&inv_m, &inv_i))?;
        combine(
            t,
            spec.dt,
            q,
            v,
            &st.acc,
            &mut q1.data[r.clone()],
            &mut v1.data[r],
        );
    }
    Ok(())
}

/// Adjoint of a multi-stage step.
pub(crate) fn adjoint<L: LocalForces>(
    spec: &StepSpec<L>,
    t: &Tableau,
    lay: &Layout,
    inputs: &[&Tensor],
    grad_outputs: &[&Tensor],
    grad_inputs: &mut [&mut Tensor],
    needs_grad: &[bool],
) -> Result<()> {
    let (inv_m, inv_i) = spec.inverse_masses(inputs);
    let first = spec.model.first_param();
    let needs_mass = needs_grad[2..first].iter().any(|&x| x);
    let needs_params = &needs_grad[first..];
    let n_local = spec.n_local_params(lay);
    let d = lay.dim;
    for b in 0..lay.batch {
        let Env {
            c, r, q, inv, st, ..
        } = environment(spec, t, lay, inputs, b, (&inv_m, &inv_i))?;
        let params = lay.env_params(inputs, b);
        let mut grads = ChunkGrads::new(lay, c, true);
        let mut gacc = vec![vec![0.0; q.len()]; t.stages()];
        let (mut gq, mut gv) = (vec![0.0; q.len()], vec![0.0; q.len()]);
        combine_adjoint(
            t,
            spec.dt,
            &grad_outputs[0].data[r.clone()],
            &grad_outputs[1].data[r.clone()],
            &mut gq,
            &mut gv,
            &mut gacc,
        );
        let mut acc_local = [0.0; LOCAL_PARAMS_MAX];
        let env = spec.local.unpack(lay.spatial, &params[..n_local]);
        for s in (0..t.stages()).rev() {
            let (qs, vs) = &st.states[s];
            let nodes: Nodes = lay.nodes(inputs, qs, vs, c);
            let gf: Vec<f64> = gacc[s]
                .iter()
                .enumerate()
                .map(|(j, g)| g * weight(lay, inv, j))
                .collect();
            if needs_mass {
                // a = F/m: ∂a/∂m = −a/m.
                for (j, (&g, &a)) in gf.iter().zip(&st.acc[s]).enumerate() {
                    let (i, k) = (j / d, j % d);
                    if k < lay.spatial || grads.inertia.is_empty() {
                        grads.mass[i] -= g * a;
                    } else {
                        grads.inertia[i] -= g * a;
                    }
                }
            }
            let (mut gqs, mut gvs) = (vec![0.0; q.len()], vec![0.0; q.len()]);
            vjps_dyn(
                &spec.local,
                &env,
                d,
                lay.spatial,
                (qs, vs, nodes.mass),
                &gf,
                (&mut gqs, &mut gvs, &mut grads.mass),
                &mut acc_local,
            );
            element_adjoints(
                &spec.elements,
                &st.saved[s],
                &nodes,
                &params[n_local..],
                n_local,
                &gf,
                &mut gqs,
                &mut gvs,
                &mut grads,
                needs_mass,
                needs_params,
            )?;
            stage_state_adjoint(t, s, spec.dt, &gqs, &gvs, &mut gq, &mut gv, &mut gacc);
        }
        spec.local
            .scatter(lay.spatial, &acc_local, &mut grads.params[..n_local]);
        for (a, g) in grad_inputs[0].data[r.clone()].iter_mut().zip(&gq) {
            *a += g;
        }
        for (a, g) in grad_inputs[1].data[r].iter_mut().zip(&gv) {
            *a += g;
        }
        grads.add_into(lay, c, grad_inputs);
    }
    Ok(())
}
