//! The complementarity step as a tape kernel and a
//! [`Stepper`](crate::physics::Stepper): forward solves the step's problem
//! to its central point; the adjoint applies the implicit function theorem
//! there, with one transposed solve Hᵀν₁ = ḡv' and ν₂ = B⁻ᵀ G ν₁ per
//! contact, then ∂L/∂θ = −νᵀ ∂F/∂θ for θ = (q, v, masses, inertias,
//! gravity, μ, wrench).
//!
//! Inputs: q `[B, 3]`, v `[B, 3]`, mass `[B]`, inertia `[B]`, gravity
//! `[2]`, material `[3]` (only μ = material[2] acts), and optionally a
//! wrench `[B, 3]`. Outputs q' = q + h v', v'.

use super::options::ComplementarityOptions;
use super::problem::{ContactRows, RowGrads, Scene};
use super::solver::Solution;
use super::system::System;
use crate::error::Result;
use crate::geometry::{HalfPlane, Shape};
use crate::physics::{check_masses, MassModel, Stepper};
use crate::tape::{Kernel, TVar, TensorTape};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The step of a rigid world under complementarity contact.
#[derive(Clone, Debug)]
pub(crate) struct ComplementarityStep {
    pub shapes: Arc<Vec<Shape>>,
    pub ground: Option<HalfPlane>,
    pub options: ComplementarityOptions,
    pub dt: f64,
    /// The step number named in errors.
    pub step: usize,
}

/// What the adjoint keeps: the contacts and the central point (O(B + m)).
pub(crate) struct Saved {
    contacts: Vec<ContactRows>,
    solution: Solution,
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
        let wrench = inputs.get(6).map(|w| &w.data);
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
        System {
            mass: diag,
            v_free,
            contacts,
            mu: inputs[5].data[2],
            kappa: self.options.kappa,
            h,
            step: self.step,
        }
    }

    /// Solves the step from `inputs` into `q1`, `v1`.
    fn solve(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<Saved> {
        let q = &inputs[0].data;
        let contacts = self.scene().contacts(q, self.step)?;
        let solution = self
            .system(inputs, &contacts)
            .solve(self.options.max_iter, self.options.tol)?;
        v1.data.copy_from_slice(&solution.v);
        for ((q1, q), v) in q1.data.iter_mut().zip(q).zip(&solution.v) {
            *q1 = q + self.dt * v;
        }
        Ok(Saved { contacts, solution })
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
        // q' = q + h v': ∂L/∂q += ḡq', ḡv' ← ḡv' + h ḡq'.
        let gv: Vec<f64> = gv1.iter().zip(gq1).map(|(v, q)| v + h * q).collect();
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
        if needs_grad.get(6) == Some(&true) {
            for (g, n) in grad_inputs[6].data.iter_mut().zip(&nu1) {
                *g += h * n;
            }
        }
        let mut grad_q = vec![0.0; inputs[0].data.len()];
        let mut grad_mu = 0.0;
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
            // c₀ = φ/h; κ_i = κ w(φ) enters each z∘s − κ_i.
            let kappa_bar: f64 = nu2.iter().sum();
            g.phi = -nu2[0] * z[0] / h + kappa_bar * self.options.kappa * c.taper_d;
            if sys.friction() {
                grad_mu -= nu2[3] * z[3] * z[0];
            }
            if needs_grad[0] {
                scene.rows_vjp(c, &inputs[0].data, &g, &mut grad_q);
            }
        }
        if needs_grad[0] {
            for ((acc, gq), gc) in grad_inputs[0].data.iter_mut().zip(gq1).zip(&grad_q) {
                *acc += gq + gc;
            }
        }
        if needs_grad[5] {
            grad_inputs[5].data[2] += grad_mu;
        }
        Ok(())
    }
}

impl Stepper for ComplementarityStep {
    fn model(&self) -> MassModel {
        MassModel::Rigid
    }

    fn prepared(&self, rest: &[TVar<'_>]) -> Result<Arc<dyn Stepper>> {
        rest[0].with_value(|m| check_masses("mass", m))?;
        rest[1].with_value(|i| check_masses("inertia", i))?;
        Ok(Arc::new(self.clone()))
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

    /// The saved contacts and central point: per body a few contacts of
    /// about 200 bytes each, and the velocities.
    fn saved_bytes(&self, state: &[usize], _rest: &[TVar<'_>]) -> u64 {
        let bodies = state.first().copied().unwrap_or(0) as u64;
        bodies * (24 + 4 * 200) + 64
    }
}
