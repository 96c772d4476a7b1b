//! The complementarity step as a tape kernel and a
//! [`Stepper`](crate::physics::Stepper): forward solves the step's problem
//! to its central point; the adjoint applies the implicit function theorem
//! there, with one transposed solve Hᵀν₁ = ḡv' and ν₂ = B⁻ᵀ G ν₁ per
//! contact, then ∂L/∂θ = −νᵀ ∂F/∂θ for θ = (q, v, masses, inertias,
//! gravity, μ, wrench).
//!
//! Inputs: q `[B, 3]`, v `[B, 3]`, mass `[B]`, inertia `[B]`, gravity
//! `[2]`, material `[4]` (μ = material[2] and e = material[3] act), the
//! contact parameters `[1 + P]` (κ, then the shapes' P parameters when
//! they are an input) and optionally a wrench `[B, 3]`. Outputs q' = q + h v' + τ (v_free − v')
//! (τ the time of a body's first impact within the step, 0 without one),
//! v'.

use super::options::ComplementarityOptions;
use super::problem::{ContactRows, RowGrads, Scene};
use super::solver::Solution;
use super::system::System;
use crate::contact::pairs::Feature;
use crate::error::{Error, Result};
use crate::geometry::{HalfPlane, Shape};
use crate::physics::{check_masses, MassModel, Stepper};
use crate::tape::{Kernel, TVar, TensorTape};
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The step of a rigid world under complementarity contact.
#[derive(Clone, Debug)]
pub(crate) struct ComplementarityStep {
    pub shapes: Arc<Vec<Shape>>,
    pub ground: Option<HalfPlane>,
    pub options: ComplementarityOptions,
    pub dt: f64,
    /// The step number named in errors.
    pub step: usize,
    /// Where each body's shape parameters start in the contact
    /// parameters after κ, when the shapes are an input (`None`: the
    /// shapes are constants).
    pub shape_offsets: Option<Arc<Vec<usize>>>,
    /// The impulses of the last step solved, by contact, for warm starts
    /// (one per rollout: [`Stepper::prepared`] makes a fresh one).
    pub warm: Arc<Mutex<WarmStarts>>,
}

/// The last step's impulses per contact (bodies and features).
pub(crate) type WarmStarts = HashMap<(u32, u32, Feature), [f64; 4]>;

/// The input holding κ and the shape parameters.
const CONTACT: usize = 6;
/// The input holding the wrench, if any.
const WRENCH: usize = 7;

/// What the adjoint keeps: the contacts, the central point and each
/// body's time of impact (O(B + m)).
pub(crate) struct Saved {
    contacts: Vec<ContactRows>,
    solution: Solution,
    impacts: Vec<Option<BodyImpact>>,
}

/// A body's time of impact within the step: the mean τ_b = Σ pᵢτᵢ / P of
/// its impacts' times τᵢ = φᵢ/(−uᵢ⁻), weighted by the depths
/// pᵢ = −(φᵢ + h uᵢ⁻) > 0 the free motion would reach (P = Σ pᵢ). One
/// impact gives its own τ; a contact entering the impacts (p = 0) moves
/// nothing, and ties between contacts are smooth.
#[derive(Clone, Copy, Debug)]
struct BodyImpact {
    tau: f64,
    depth: f64,
}

/// τᵢ and pᵢ of an impact of gap φ and approach velocity u < 0 (τ = 0
/// for a penetrating contact).
fn impact_time_and_depth(phi: f64, u: f64, h: f64) -> (f64, f64) {
    (phi.max(0.0) / -u, -(phi + h * u))
}

/// Each body's [`BodyImpact`], if it has impacts within the step.
fn body_impacts(sys: &System<'_>, bodies: usize) -> Vec<Option<BodyImpact>> {
    let mut sums = vec![(0.0, 0.0); bodies];
    for (i, u) in sys.impact.iter().enumerate() {
        let Some(u) = *u else { continue };
        let c = &sys.contacts[i];
        let (tau, depth) = impact_time_and_depth(c.phi, u, sys.h);
        for b in [Some(c.a), c.b].into_iter().flatten() {
            sums[b].0 += depth * tau;
            sums[b].1 += depth;
        }
    }
    sums.into_iter()
        .map(|(weighted, depth)| {
            (depth > 0.0).then(|| BodyImpact {
                tau: weighted / depth,
                depth,
            })
        })
        .collect()
}

impl ComplementarityStep {
    fn scene(&self) -> Scene<'_> {
        Scene {
            shapes: &self.shapes,
            ground: self.ground.as_ref(),
            activation: self.options.activation_distance,
        }
    }

    /// The problem's data from the inputs and the contacts.
    fn system<'a>(&self, inputs: &[&Tensor], contacts: &'a [ContactRows]) -> System<'a> {
        let (v, mass, inertia) = (&inputs[1].data, &inputs[2].data, &inputs[3].data);
        let (g, h) = (&inputs[4].data, self.dt);
        let wrench = inputs.get(WRENCH).map(|w| &w.data);
        let mut diag = Vec::with_capacity(v.len());
        let mut v_free = Vec::with_capacity(v.len());
        for b in 0..mass.len() {
            let m = [mass[b], mass[b], inertia[b]];
            for k in 0..3 {
                let gravity = if k < 2 { g[k] } else { 0.0 };
                let w = wrench.map_or(0.0, |w| w[3 * b + k]);
                diag.push(m[k]);
                v_free.push(v[3 * b + k] + h * (gravity + w / m[k]));
            }
        }
        let mut sys = System {
            mass: diag,
            v_free,
            contacts,
            mu: inputs[5].data[2],
            restitution: inputs[5].data[3],
            impact: Vec::new(),
            kappa: inputs[CONTACT].data[0],
            h,
            step: self.step,
            pattern: Default::default(),
        };
        sys.find_impacts();
        sys
    }

    /// Solves the step from `inputs` into `q1`, `v1`.
    fn solve(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<Saved> {
        let q = &inputs[0].data;
        let contacts = self.scene().contacts(q, self.step)?;
        let sys = self.system(inputs, &contacts);
        let solution = self.solve_warm(&sys, &contacts)?;
        // A body that hits something at τ within the step moved with
        // v_free before and v' after: q' = q + h v' + τ (v_free − v').
        let impacts = body_impacts(&sys, inputs[2].data.len());
        v1.data.copy_from_slice(&solution.v);
        for (j, ((q1, q), v)) in q1.data.iter_mut().zip(q).zip(&solution.v).enumerate() {
            let tau = impacts[j / 3].map_or(0.0, |b| b.tau);
            *q1 = q + self.dt * v + tau * (sys.v_free[j] - v);
        }
        Ok(Saved {
            contacts,
            solution,
            impacts,
        })
    }
}

impl ComplementarityStep {
    /// Solves `sys`, from the last step's impulses when warm starts are on
    /// (retrying cold if that fails), and keeps its impulses for the next.
    fn solve_warm(&self, sys: &System<'_>, contacts: &[ContactRows]) -> Result<Solution> {
        let (max_iter, tol) = (self.options.max_iter, self.options.tol);
        if !self.options.warm_start {
            return sys.solve(max_iter, tol, &[]);
        }
        let key = |c: &ContactRows| (c.contact.a, c.contact.b, c.contact.feature);
        let warm: Vec<Option<[f64; 4]>> = {
            let last = self
                .warm
                .lock()
                .expect("the warm-start cache is never poisoned");
            contacts
                .iter()
                .map(|c| last.get(&key(c)).copied())
                .collect()
        };
        let solution = match sys.solve(max_iter, tol, &warm) {
            Ok(solution) => solution,
            Err(_) if warm.iter().any(Option::is_some) => sys.solve(max_iter, tol, &[])?,
            Err(e) => return Err(e),
        };
        let mut last = self
            .warm
            .lock()
            .expect("the warm-start cache is never poisoned");
        last.clear();
        for (i, c) in contacts.iter().enumerate() {
            last.insert(key(c), std::array::from_fn(|k| solution.z[4 * i + k]));
        }
        Ok(solution)
    }

    /// Adds the gradients through v_free = v + h (g + w/m) (rows of
    /// translation) and v + h w/I (rotation) of a loss with gradient
    /// `g_vfree` w.r.t. v_free.
    fn v_free_vjp(
        &self,
        inputs: &[&Tensor],
        mass: &[f64],
        g_vfree: &[f64],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) {
        let h = self.dt;
        let wrench = inputs.get(WRENCH).map(|w| &w.data);
        for (j, &g) in g_vfree.iter().enumerate() {
            let (b, k) = (j / 3, j % 3);
            if needs_grad[1] {
                grad_inputs[1].data[j] += g;
            }
            if k < 2 && needs_grad[4] {
                grad_inputs[4].data[k] += h * g;
            }
            if let Some(w) = wrench {
                if needs_grad[WRENCH] {
                    grad_inputs[WRENCH].data[j] += h * g / mass[j];
                }
                // mass[j] is m for translation, I for rotation.
                let slot = if k < 2 { 2 } else { 3 };
                if needs_grad[slot] {
                    grad_inputs[slot].data[b] -= h * w[j] / (mass[j] * mass[j]) * g;
                }
            }
        }
    }
}

impl Kernel for ComplementarityStep {
    type Saved = Saved;

    fn name(&self) -> &'static str {
        "complementarity_step"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, Saved)> {
        let mut q1 = Tensor::zeros(&inputs[0].shape);
        let mut v1 = Tensor::zeros(&inputs[1].shape);
        let saved = self.solve(inputs, &mut q1, &mut v1)?;
        Ok((vec![q1, v1], saved))
    }

    fn vjp(
        &self,
        saved: &Saved,
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let (sol, h) = (&saved.solution, self.dt);
        let sys = self.system(inputs, &saved.contacts);
        let (gq1, gv1) = (&grad_outputs[0].data, &grad_outputs[1].data);
        // q' = q + h v' + τ (v_free − v'): ∂L/∂q += ḡq',
        // ḡv' ← ḡv' + (h − τ) ḡq', ḡv_free += τ ḡq', ḡτ = ḡq'·(v_free − v').
        let mut gv: Vec<f64> = gv1.iter().zip(gq1).map(|(v, q)| v + h * q).collect();
        let mut g_vfree = vec![0.0; gv.len()];
        let mut g_tau_body = vec![0.0; saved.impacts.len()];
        for (j, g) in gv.iter_mut().enumerate() {
            if let Some(b) = saved.impacts[j / 3] {
                *g -= b.tau * gq1[j];
                g_vfree[j] += b.tau * gq1[j];
                g_tau_body[j / 3] += gq1[j] * (sys.v_free[j] - sol.v[j]);
            }
        }
        // At the central point s = κ_i/z, and z (an impulse) is known to
        // the solver's relative tolerance while s, a small difference of
        // velocities, is known only to its absolute tolerance: the
        // Jacobian takes s = κ_i/z.
        let s: Vec<f64> = (0..sol.z.len())
            .map(|k| sys.kappa_i(k / 4) / sol.z[k])
            .collect();
        let (lu, binv) = sys.factor(&sol.z, &s)?;
        let nu1 = lu.solve(&gv, true, self.step, sol.iters)?;
        let (v0, v, mass) = (&inputs[1].data, &sol.v, &sys.mass);
        if needs_grad[1] {
            for (j, g) in grad_inputs[1].data.iter_mut().enumerate() {
                *g += mass[j] * nu1[j];
            }
        }
        let grav = &inputs[4].data;
        for b in 0..inputs[2].data.len() {
            let r = 3 * b..3 * b + 3;
            let (n, dv) = (&nu1[r.clone()], |k: usize| v[3 * b + k] - v0[3 * b + k]);
            if needs_grad[2] {
                grad_inputs[2].data[b] -= (0..2).map(|k| n[k] * (dv(k) - h * grav[k])).sum::<f64>();
            }
            if needs_grad[3] {
                grad_inputs[3].data[b] -= n[2] * dv(2);
            }
            if needs_grad[4] {
                for k in 0..2 {
                    grad_inputs[4].data[k] += h * mass[3 * b + k] * n[k];
                }
            }
        }
        if needs_grad.get(WRENCH) == Some(&true) {
            for (g, n) in grad_inputs[WRENCH].data.iter_mut().zip(&nu1) {
                *g += h * n;
            }
        }
        let mut grad_q = vec![0.0; inputs[0].data.len()];
        let (mut grad_mu, mut grad_e, mut grad_kappa) = (0.0, 0.0, 0.0);
        // ∂L/∂(shape parameters), when they are an input.
        let mut grad_shapes = match (&self.shape_offsets, needs_grad[CONTACT]) {
            (Some(offsets), true) => Some((offsets, vec![0.0; offsets[offsets.len() - 1]])),
            _ => None,
        };
        let scene = self.scene();
        for (i, c) in saved.contacts.iter().enumerate() {
            let z: [f64; 4] = std::array::from_fn(|k| sol.z[4 * i + k]);
            let gnu = sys.g_dot(i, &nu1);
            let nu2: [f64; 4] =
                std::array::from_fn(|r| (0..4).map(|c| binv[i][c][r] * gnu[c]).sum());
            let (gn1, gt1) = sys.g_outer(i, z, &nu1);
            let (gn2, gt2) = sys.g_outer(i, std::array::from_fn(|k| nu2[k] * z[k]), v);
            let mut g = RowGrads::default();
            for side in 0..2 {
                for k in 0..3 {
                    g.n[side][k] = gn1[side][k] - gn2[side][k];
                    g.t[side][k] = gt1[side][k] - gt2[side][k];
                }
            }
            // c₀ = φ/h, or e u⁻ for an impact (whose τ = φ/(−u⁻) moved
            // the position); κ_i = κ w(φ) enters each z∘s − κ_i.
            let g_c0 = -nu2[0] * z[0];
            let kappa_bar: f64 = nu2.iter().sum();
            g.phi = kappa_bar * sys.kappa * c.taper_d;
            grad_kappa += kappa_bar * c.taper;
            match sys.impact[i] {
                Some(u) => {
                    // τ_b = Σ pᵢτᵢ / P: ∂τ_b/∂τᵢ = pᵢ/P, ∂τ_b/∂pᵢ = (τᵢ − τ_b)/P.
                    let (tau, depth) = impact_time_and_depth(c.phi, u, h);
                    let (mut g_tau, mut g_depth) = (0.0, 0.0);
                    for b in [Some(c.a), c.b].into_iter().flatten() {
                        let body = saved.impacts[b].expect("an impact's bodies have one");
                        g_tau += g_tau_body[b] * depth / body.depth;
                        g_depth += g_tau_body[b] * (tau - body.tau) / body.depth;
                    }
                    grad_e += g_c0 * u;
                    // c₀ = e u + min(φ, 0)/h, τ = max(φ, 0)/(−u), p = −(φ + h u).
                    let (g_phi_c0, g_tau) = if c.phi < 0.0 {
                        (g_c0 / h, 0.0)
                    } else {
                        (0.0, g_tau)
                    };
                    g.phi += g_phi_c0 + g_tau / -u - g_depth;
                    let g_u = g_c0 * sys.restitution + g_tau * c.phi / (u * u) - h * g_depth;
                    let gn = sys.normal_outer(i, g_u, &sys.v_free);
                    for (acc, x) in g.n.iter_mut().flatten().zip(gn.iter().flatten()) {
                        *acc += x;
                    }
                    sys.normal_t_add(i, g_u, &mut g_vfree);
                }
                None => g.phi += g_c0 / h,
            }
            if sys.friction() {
                grad_mu -= nu2[3] * z[3] * z[0];
            }
            if needs_grad[0] || grad_shapes.is_some() {
                let shapes = grad_shapes
                    .as_mut()
                    .map(|(o, g)| (o.as_slice(), g.as_mut_slice()));
                scene.rows_vjp(c, &inputs[0].data, &g, &mut grad_q, shapes);
            }
        }
        if needs_grad[0] {
            for ((acc, gq), gc) in grad_inputs[0].data.iter_mut().zip(gq1).zip(&grad_q) {
                *acc += gq + gc;
            }
        }
        if needs_grad[5] {
            grad_inputs[5].data[2] += grad_mu;
            grad_inputs[5].data[3] += grad_e;
        }
        if needs_grad[CONTACT] {
            let g = &mut grad_inputs[CONTACT].data;
            g[0] += grad_kappa;
            if let Some((_, shapes)) = grad_shapes {
                for (acc, x) in g[1..].iter_mut().zip(shapes) {
                    *acc += x;
                }
            }
        }
        self.v_free_vjp(inputs, &sys.mass, &g_vfree, grad_inputs, needs_grad);
        Ok(())
    }
}

impl Stepper for ComplementarityStep {
    fn model(&self) -> MassModel {
        MassModel::Rigid
    }

    /// Checks the masses, and builds the shapes from the contact
    /// parameters when they are an input (once per rollout).
    fn prepared(&self, rest: &[TVar<'_>]) -> Result<Arc<dyn Stepper>> {
        rest[0].with_value(|m| check_masses("mass", m))?;
        rest[1].with_value(|i| check_masses("inertia", i))?;
        // κ was checked with the world's inputs (`World::check`).
        let contact = rest[CONTACT - 2].value();
        let mut step = self.clone();
        step.warm = Default::default();
        if let Some(offsets) = &self.shape_offsets {
            let params = &contact.data[1..];
            let shapes = self
                .shapes
                .iter()
                .enumerate()
                .map(|(b, s)| {
                    s.try_with_parameters(&params[offsets[b]..offsets[b + 1]])
                        .map_err(|e| Error::InvalidShape {
                            reason: format!("body {b}'s shape parameters: {e}"),
                        })
                })
                .collect::<Result<Vec<Shape>>>()?;
            step.shapes = Arc::new(shapes);
        }
        Ok(Arc::new(step))
    }

    fn record<'t>(
        &self,
        tape: &'t TensorTape,
        inputs: &[TVar<'t>],
        step: usize,
    ) -> Result<Vec<TVar<'t>>> {
        let kernel = ComplementarityStep {
            step: step + 1,
            ..self.clone()
        };
        tape.try_apply(kernel, inputs)
    }

    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()> {
        self.solve(inputs, q1, v1).map(|_| ())
    }

    fn replays_exactly(&self) -> bool {
        !self.options.warm_start
    }

    /// The saved contacts and central point: per body a few contacts of
    /// about 200 bytes each, and the velocities.
    fn saved_bytes(&self, state: &[usize], _rest: &[TVar<'_>]) -> u64 {
        let bodies = state.first().copied().unwrap_or(0) as u64;
        bodies * (24 + 4 * 200) + 64
    }
}
