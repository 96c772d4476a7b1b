//! The fused particle step kernel: every force of a system and the
//! integrator in one tape node.
//!
//! The step kernel sums the forces into F, then integrates a = F/m:
//!
//! - semi-implicit Euler (default): v' = v + dt·F/m, p' = p + dt·v';
//! - explicit Euler: p' = p + dt·v, v' = v + dt·F/m.
//!
//! Adjoint (semi-implicit), with u = ḡv' + dt·ḡp' and ḡF = dt·u/m:
//! ∂L/∂p += ḡp', ∂L/∂v += u, ∂L/∂m −= Σ_d ḡF·F/m, then each force's
//! adjoint takes ḡF into the state, masses and parameters. Particles (local
//! forces) or environments (springs) are split into fixed chunks across
//! threads; per-chunk parameter gradients are summed in chunk order, so
//! results do not depend on scheduling.

use super::forces::{Force, Span, SpanGrads};
use super::fused::Builtin;
use super::rollout::check_finite;
use crate::error::{Error, Result};
use crate::tape::Kernel;
use crate::tensor::Tensor;
use rayon::prelude::*;
use std::sync::Arc;

/// Particles per chunk of a parallel step (fixed, so sums do not depend on
/// the thread count).
const CHUNK: usize = 2048;
/// A step runs chunks in parallel from this many state entries (B·N·D).
const PAR_MIN: usize = 1 << 13;

/// The time integrator of a [`ParticleSystem`](super::ParticleSystem).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Integrator {
    /// v' = v + dt·a, p' = p + dt·v' (symplectic, first order). The default:
    /// stable for stiff contact and springs at the cost of one force
    /// evaluation per step.
    #[default]
    SemiImplicitEuler,
    /// p' = p + dt·v, v' = v + dt·a (not symplectic; energy grows).
    Euler,
}

/// The tape-free description of a step: forces, time step, integrator.
#[derive(Clone)]
pub(crate) struct StepSpec {
    pub forces: Arc<[Arc<dyn Force>]>,
    pub n_params: Arc<[usize]>,
    pub dt: f64,
    pub integrator: Integrator,
    pub mass_grad: bool,
    /// Per parameter (all forces, in order): whether it needs a gradient.
    pub param_grad: Arc<[bool]>,
    /// The fused loop for gravity + drag + ground, when those are the forces.
    pub fast: Option<Arc<Builtin>>,
    /// 1/m for the masses of a rollout, computed once (checked against the
    /// masses' length; the masses of a rollout are one tape value).
    pub inv_mass: Option<Arc<Vec<f64>>>,
    /// Whether forward checks the masses (a rollout checks them once).
    pub check_masses: bool,
}

/// Errors with [`Error::Parameter`] for a mass that is not positive and
/// finite.
pub(crate) fn check_masses(m: &Tensor) -> Result<()> {
    match m.data.iter().find(|&&x| !(x > 0.0 && x.is_finite())) {
        Some(&bad) => Err(Error::Parameter {
            name: "mass",
            value: bad,
            reason: "masses must be positive and finite",
        }),
        None => Ok(()),
    }
}

/// Shapes of one step's inputs, resolved.
pub(crate) struct Layout {
    batch: usize,
    n: usize,
    d: usize,
    mass_batched: bool,
    /// Per parameter: its per-environment length and whether it is batched.
    params: Vec<(usize, bool)>,
}

#[derive(Clone, Copy)]
struct Chunk {
    b: usize,
    lo: usize,
    hi: usize,
}

impl StepSpec {
    fn layout(&self, inputs: &[&Tensor]) -> Result<Layout> {
        const OP: &str = "particle_step";
        let (p, v, m) = (inputs[0], inputs[1], inputs[2]);
        if p.shape != v.shape {
            return Err(Error::Shape {
                op: OP,
                lhs: p.shape.clone(),
                rhs: v.shape.clone(),
                hint: "positions and velocities must have the same shape, [N, D] or [B, N, D]",
            });
        }
        let (batch, n, d, batched) = match p.shape[..] {
            [n, d] => (1, n, d, false),
            [b, n, d] => (b, n, d, true),
            _ => {
                return Err(Error::Shape {
                    op: OP,
                    lhs: p.shape.clone(),
                    rhs: v.shape.clone(),
                    hint: "positions and velocities must have shape [N, D] or [B, N, D]",
                })
            }
        };
        let mass_batched = batched && m.shape == [batch, n];
        if m.shape != [n] && !mass_batched {
            return Err(Error::Shape {
                op: OP,
                lhs: p.shape.clone(),
                rhs: m.shape.clone(),
                hint: "masses must have shape [N] (or [B, N]) for positions [N, D] (or [B, N, D])",
            });
        }
        if self.check_masses {
            check_masses(m)?;
        }
        let mut params = Vec::new();
        let mut k = 3;
        for (force, &np) in self.forces.iter().zip(self.n_params.iter()) {
            force.check(n, d)?;
            let shapes = force.param_shapes(n, d);
            for shape in shapes.iter().take(np) {
                let x = inputs[k];
                let len: usize = shape.iter().product();
                let mut with_batch = vec![batch];
                with_batch.extend_from_slice(shape);
                if x.shape == *shape {
                    params.push((len, false));
                } else if batched && x.shape == with_batch {
                    params.push((len, true));
                } else {
                    return Err(Error::Shape {
                        op: force.name(),
                        lhs: shape.clone(),
                        rhs: x.shape.clone(),
                        hint: "a force parameter has its per-environment shape, or [B, ...] for B environments",
                    });
                }
                k += 1;
            }
        }
        Ok(Layout {
            batch,
            n,
            d,
            mass_batched,
            params,
        })
    }

    fn chunks(&self, lay: &Layout) -> Vec<Chunk> {
        let local = self.forces.iter().all(|f| f.is_local());
        let step = if local { CHUNK } else { lay.n.max(1) };
        let mut out = Vec::new();
        for b in 0..lay.batch {
            let mut lo = 0;
            while lo < lay.n {
                let hi = (lo + step).min(lay.n);
                out.push(Chunk { b, lo, hi });
                lo = hi;
            }
        }
        out
    }

    /// The parameters of environment `b`, grouped per force.
    fn env_params<'a>(&self, inputs: &[&'a Tensor], lay: &Layout, b: usize) -> Vec<&'a [f64]> {
        lay.params
            .iter()
            .enumerate()
            .map(|(j, &(len, batched))| {
                let x = &inputs[3 + j].data;
                if batched {
                    &x[b * len..(b + 1) * len]
                } else {
                    &x[..]
                }
            })
            .collect()
    }

    fn span<'a>(&self, inputs: &[&'a Tensor], lay: &Layout, c: Chunk) -> Span<'a> {
        let d = lay.d;
        let s = (c.b * lay.n + c.lo) * d..(c.b * lay.n + c.hi) * d;
        let mo = if lay.mass_batched { c.b * lay.n } else { 0 };
        Span {
            dim: d,
            p: &inputs[0].data[s.clone()],
            v: &inputs[1].data[s],
            m: &inputs[2].data[mo + c.lo..mo + c.hi],
        }
    }

    /// 1/m for every mass: cached for a rollout, else computed.
    fn inverse_masses<'a>(&'a self, m: &Tensor) -> std::borrow::Cow<'a, [f64]> {
        match &self.inv_mass {
            Some(inv) if inv.len() == m.numel() => std::borrow::Cow::Borrowed(&inv[..]),
            _ => std::borrow::Cow::Owned(m.data.iter().map(|m| 1.0 / m).collect()),
        }
    }

    /// The chunk's slice of a per-particle array shaped like the masses.
    fn mass_slice<'a>(&self, x: &'a [f64], lay: &Layout, c: Chunk) -> &'a [f64] {
        let mo = if lay.mass_batched { c.b * lay.n } else { 0 };
        &x[mo + c.lo..mo + c.hi]
    }

    /// F on the chunk's particles, added into `f` (zeros on entry).
    fn forces_into(&self, span: &Span, params: &[&[f64]], f: &mut [f64]) {
        let mut k = 0;
        for (force, &np) in self.forces.iter().zip(self.n_params.iter()) {
            force.accumulate(span, &params[k..k + np], f);
            k += np;
        }
    }
}

/// Splits `data` into the consecutive slices of `chunks`.
fn split_chunks<'a>(mut data: &'a mut [f64], chunks: &[Chunk], d: usize) -> Vec<&'a mut [f64]> {
    chunks
        .iter()
        .map(|c| {
            let (head, tail) = std::mem::take(&mut data).split_at_mut((c.hi - c.lo) * d);
            data = tail;
            head
        })
        .collect()
}

/// Runs `f` over the chunks, in parallel when the step is large enough.
fn for_chunks<T: Send, R: Send>(
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

/// a = F/m, then the integrator's update (`semi`: semi-implicit Euler,
/// else explicit); `v1` holds F on entry.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn integrate(
    d: usize,
    semi: bool,
    dt: f64,
    inv_m: &[f64],
    p: &[f64],
    v: &[f64],
    p1: &mut [f64],
    v1: &mut [f64],
) {
    for (i, &inv) in inv_m.iter().enumerate() {
        let r = i * d..(i + 1) * d;
        let (p, v, v1, p1) = (&p[r.clone()], &v[r.clone()], &mut v1[r.clone()], &mut p1[r]);
        for q in 0..d {
            let old = v[q];
            v1[q] = old + dt * (v1[q] * inv);
            p1[q] = p[q] + dt * if semi { v1[q] } else { old };
        }
    }
}

/// The integrator's adjoint into ∂L/∂p, ∂L/∂v, and ḡF = ∂L/∂F (returned).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn integrate_adjoint(
    d: usize,
    semi: bool,
    dt: f64,
    inv_m: &[f64],
    grad_p1: &[f64],
    grad_v1: &[f64],
    gp: &mut [f64],
    gv: &mut [f64],
) -> Vec<f64> {
    let mut grad_f = Vec::with_capacity(gp.len());
    for (i, &inv) in inv_m.iter().enumerate() {
        for q in i * d..(i + 1) * d {
            let (gp1, gv1) = (grad_p1[q], grad_v1[q]);
            let ga = if semi {
                let u = gv1 + dt * gp1;
                gv[q] += u;
                dt * u
            } else {
                gv[q] += gv1 + dt * gp1;
                dt * gv1
            };
            gp[q] += gp1;
            grad_f.push(ga * inv);
        }
    }
    grad_f
}

/// The fused particle step: inputs `[p, v, m, params…]`, outputs `[p', v']`.
/// With `step` set, forward fails with [`Error::NonFinite`] naming that step
/// if the new state has a non-finite entry (rollouts leave it unset and
/// check every few steps instead, see [`super::rollout`]).
pub(crate) struct ParticleStep {
    pub spec: StepSpec,
    pub step: Option<usize>,
}

impl ParticleStep {
    /// The forward pass into existing buffers shaped like p and v (their
    /// contents are overwritten): what an off-tape rollout reuses step after
    /// step.
    pub(crate) fn step_into(
        &self,
        inputs: &[&Tensor],
        p1: &mut Tensor,
        v1: &mut Tensor,
    ) -> Result<()> {
        let spec = &self.spec;
        let lay = spec.layout(inputs)?;
        let (dt, d) = (spec.dt, lay.d);
        let chunks = spec.chunks(&lay);
        let parallel = chunks.len() > 1 && inputs[0].numel() >= PAR_MIN;
        let fast = spec
            .fast
            .as_deref()
            .filter(|_| spec.integrator == Integrator::SemiImplicitEuler);
        let inv_m = spec.inverse_masses(inputs[2]);
        let work: Vec<_> = chunks
            .iter()
            .copied()
            .zip(split_chunks(&mut p1.data, &chunks, d))
            .zip(split_chunks(&mut v1.data, &chunks, d))
            .collect();
        for_chunks(parallel, work, |((c, p1), v1)| {
            let span = spec.span(inputs, &lay, c);
            let params = spec.env_params(inputs, &lay, c.b);
            let inv = spec.mass_slice(&inv_m, &lay, c);
            if let (Some(fast), 2 | 3) = (fast, d) {
                return match d {
                    2 => fast.forward::<2>(dt, &params, &span, inv, p1, v1),
                    _ => fast.forward::<3>(dt, &params, &span, inv, p1, v1),
                };
            }
            v1.fill(0.0);
            spec.forces_into(&span, &params, v1); // v1 holds F for now
            match spec.integrator {
                Integrator::SemiImplicitEuler => {
                    dispatch_dim!(d, |dd| integrate(dd, true, dt, inv, span.p, span.v, p1, v1))
                }
                Integrator::Euler => dispatch_dim!(d, |dd| integrate(
                    dd, false, dt, inv, span.p, span.v, p1, v1
                )),
            }
        });
        if let Some(step) = self.step {
            check_finite(p1, "position", step)?;
            check_finite(v1, "velocity", step)?;
        }
        Ok(())
    }
}

impl Kernel for ParticleStep {
    type Saved = ();

    fn name(&self) -> &'static str {
        "particle_step"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let mut p1 = Tensor::zeros(&inputs[0].shape);
        let mut v1 = Tensor::zeros(&inputs[1].shape);
        self.step_into(inputs, &mut p1, &mut v1)?;
        Ok((vec![p1, v1], ()))
    }

    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let spec = StepSpec {
            check_masses: false,
            ..self.spec.clone()
        };
        let spec = &spec;
        let lay = spec.layout(inputs)?;
        let (dt, d) = (spec.dt, lay.d);
        let chunks = spec.chunks(&lay);
        let parallel = chunks.len() > 1 && inputs[0].numel() >= PAR_MIN;
        let (gp1, gv1) = (&grad_outputs[0].data, &grad_outputs[1].data);
        let (grad_p, rest) = grad_inputs.split_first_mut().expect("inputs p, v, m");
        let (grad_v, rest) = rest.split_first_mut().expect("inputs p, v, m");
        let work: Vec<_> = chunks
            .iter()
            .copied()
            .zip(split_chunks(&mut grad_p.data, &chunks, d))
            .zip(split_chunks(&mut grad_v.data, &chunks, d))
            .collect();
        let fast = spec
            .fast
            .as_deref()
            .filter(|_| spec.integrator == Integrator::SemiImplicitEuler);
        let inv_m = spec.inverse_masses(inputs[2]);
        let results = for_chunks(parallel, work, |((c, gp), gv)| {
            let span = spec.span(inputs, &lay, c);
            let params = spec.env_params(inputs, &lay, c.b);
            let o = (c.b * lay.n + c.lo) * d;
            let (gp1, gv1) = (&gp1[o..o + gp.len()], &gv1[o..o + gp.len()]);
            let inv = spec.mass_slice(&inv_m, &lay, c);
            if let (Some(fast), 2 | 3) = (fast, d) {
                let mut gm = if spec.mass_grad {
                    vec![0.0; span.len()]
                } else {
                    Vec::new()
                };
                let mut gparams: Vec<Vec<f64>> =
                    lay.params.iter().map(|&(len, _)| vec![0.0; len]).collect();
                let mut grads = SpanGrads {
                    p: gp,
                    v: gv,
                    m: &mut gm,
                    params: &mut gparams,
                    needs_mass: spec.mass_grad,
                    needs_params: &spec.param_grad,
                };
                match d {
                    2 => fast.adjoint::<2>(dt, &params, &span, inv, gp1, gv1, &mut grads),
                    _ => fast.adjoint::<3>(dt, &params, &span, inv, gp1, gv1, &mut grads),
                }
                return (gm, gparams);
            }
            let grad_f = match spec.integrator {
                Integrator::SemiImplicitEuler => {
                    dispatch_dim!(d, |dd| integrate_adjoint(
                        dd, true, dt, inv, gp1, gv1, gp, gv
                    ))
                }
                Integrator::Euler => {
                    dispatch_dim!(d, |dd| integrate_adjoint(
                        dd, false, dt, inv, gp1, gv1, gp, gv
                    ))
                }
            };
            let mut gm = vec![0.0; span.len()];
            if spec.mass_grad {
                // a = F/m: ∂a/∂m = −F/m², so ∂L/∂m −= Σ_d ḡF·F/m.
                let mut f = vec![0.0; gp.len()];
                spec.forces_into(&span, &params, &mut f);
                for (i, gm) in gm.iter_mut().enumerate() {
                    let s: f64 = (i * d..(i + 1) * d).map(|q| grad_f[q] * f[q]).sum();
                    *gm -= s / span.m[i];
                }
            }
            let mut gparams: Vec<Vec<f64>> =
                lay.params.iter().map(|&(len, _)| vec![0.0; len]).collect();
            let mut k = 0;
            for (force, &np) in spec.forces.iter().zip(spec.n_params.iter()) {
                let mut grads = SpanGrads {
                    p: gp,
                    v: gv,
                    m: &mut gm,
                    params: &mut gparams[k..k + np],
                    needs_mass: spec.mass_grad,
                    needs_params: &spec.param_grad[k..k + np],
                };
                force.vjp(&span, &params[k..k + np], &grad_f, &mut grads);
                k += np;
            }
            (gm, gparams)
        });
        let (grad_m, grad_params) = rest.split_first_mut().expect("input m");
        for (c, (gm, gparams)) in chunks.iter().zip(results) {
            let mo = if lay.mass_batched { c.b * lay.n } else { 0 };
            // (gm is empty when the masses need no gradient)
            for (acc, g) in grad_m.data[mo + c.lo..mo + c.hi].iter_mut().zip(&gm) {
                *acc += g;
            }
            for ((acc, g), &(len, batched)) in grad_params.iter_mut().zip(&gparams).zip(&lay.params)
            {
                let off = if batched { c.b * len } else { 0 };
                for (a, g) in acc.data[off..off + len].iter_mut().zip(g) {
                    *a += g;
                }
            }
        }
        Ok(())
    }
}
