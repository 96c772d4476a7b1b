//! The fused rigid-body step: contact detection, contact forces, gravity
//! and external wrenches, and a semi-implicit Euler update, as one kernel
//! with a hand-written adjoint.
//!
//! Forward, per body i with contact forces fₖ at points pₖ:
//!
//! ```text
//! Fᵢ = Wᵢ + Σₖ ±fₖ,   τᵢ = W^τᵢ + Σₖ ±(pₖ − cᵢ) × fₖ
//! vᵢ' = vᵢ + dt (g + Fᵢ/mᵢ),   ωᵢ' = ωᵢ + dt τᵢ/Iᵢ
//! qᵢ' = qᵢ + dt (vᵢ', ωᵢ')
//! ```
//!
//! Adjoint (ḡ = ∂L/∂v' + dt ∂L/∂q'): ∂L/∂q += ∂L/∂q', ∂L/∂v += ḡ,
//! ∂L/∂Fᵢ = dt ḡᵢ/mᵢ, ∂L/∂mᵢ = −dt ḡᵢ·Fᵢ/mᵢ², ∂L/∂Iᵢ = −dt ḡ^ω τᵢ/Iᵢ²,
//! then each contact's force law and geometry are differentiated in
//! reverse (see `contact_vjp`), re-evaluating the contact from the saved
//! feature list rather than storing its intermediates.
//!
//! The composed reference is `step_core::<Var>`: the same formulas run on
//! the scalar tape; the tests hold the two to 1e-12 in value and gradient.

use crate::contact::pairs::{detect, geometry, geometry_vjp, Contact, Geometry, Pose};
use crate::contact::{ContactPoint, Ground, Penalty};
use crate::error::{Error, Result};
use crate::geometry::math::{add, cross, dot, perp, scale, sub, Real, V2};
use crate::geometry::Shape;
use crate::tape::Kernel;
use crate::tensor::Tensor;
use std::sync::Arc;

/// What a step needs besides its tape inputs.
#[derive(Clone, Debug)]
pub(crate) struct StepConfig {
    pub shapes: Arc<Vec<Shape>>,
    pub ground: Option<Ground>,
    pub gravity: [f64; 2],
    pub dt: f64,
    pub penalty: Penalty,
    pub eps: f64,
}

impl StepConfig {
    fn ground(&self) -> &Ground {
        // Only ground contacts read the ground, and they exist only with one.
        self.ground
            .as_ref()
            .unwrap_or(&crate::contact::pairs::FLOOR)
    }

    pub(crate) fn contact_points(&self, pose: &[f64]) -> Vec<ContactPoint> {
        let mut contacts = Vec::new();
        self.detect(pose, &mut contacts);
        contacts
            .iter()
            .map(|c| {
                let qa = row(pose, c.a as usize);
                let ground = c.with_ground();
                let qb = if ground { qa } else { row(pose, c.b as usize) };
                let g: Geometry<f64> = geometry(c, &self.shapes, self.ground(), qa, qb);
                ContactPoint {
                    body: c.a as usize,
                    other: (!ground).then_some(c.b as usize),
                    feature: c.feature,
                    point: g.p,
                    normal: g.n,
                    depth: g.d,
                }
            })
            .collect()
    }

    pub(crate) fn detect(&self, pose: &[f64], out: &mut Vec<Contact>) {
        out.clear();
        detect(
            &self.shapes,
            self.ground.as_ref(),
            pose,
            self.penalty.margin(),
            out,
        );
    }
}

#[inline(always)]
fn row<T: Copy>(x: &[T], i: usize) -> [T; 3] {
    [x[3 * i], x[3 * i + 1], x[3 * i + 2]]
}

/// One step over any [`Real`]: returns (pose', velocity') and writes the
/// non-gravity force and torque on each body into `force` ([B, 3]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_core<T: Real>(
    cfg: &StepConfig,
    contacts: &[Contact],
    pose: &[T],
    vel: &[T],
    mass: &[T],
    inertia: &[T],
    material: [T; 3],
    wrench: Option<&[T]>,
    force: &mut Vec<T>,
) -> (Vec<T>, Vec<T>) {
    let b = mass.len();
    let zero = material[0].lift(0.0);
    force.clear();
    match wrench {
        Some(w) => force.extend_from_slice(w),
        None => force.resize(3 * b, zero),
    }
    let [k, c, mu] = material;
    for ct in contacts {
        let (a, bb) = (ct.a as usize, ct.b as usize);
        let ground = ct.with_ground();
        let qa = row(pose, a);
        let qb = if ground { qa } else { row(pose, bb) };
        let geo = geometry(ct, &cfg.shapes, cfg.ground(), qa, qb);
        let ra = sub(geo.p, [qa[0], qa[1]]);
        let va = row(vel, a);
        let mut vrel = add([va[0], va[1]], scale(perp(ra), va[2]));
        let mut rb = ra;
        if !ground {
            rb = sub(geo.p, [qb[0], qb[1]]);
            let vb = row(vel, bb);
            vrel = sub(vrel, add([vb[0], vb[1]], scale(perp(rb), vb[2])));
        }
        let n = geo.n;
        let t = perp(n);
        let (vn, vt) = (dot(vrel, n), dot(vrel, t));
        let (psi, sig) = cfg.penalty.eval_real(geo.d);
        let f_n = k * psi - c * sig * vn;
        // Inverse effective mass along t, and the per-contact ε_c.
        let cta = cross(ra, t);
        let mut w = cta * cta / inertia[a] + mass[a].lift(1.0) / mass[a];
        if !ground {
            let ctb = cross(rb, t);
            w = w + ctb * ctb / inertia[bb] + mass[bb].lift(1.0) / mass[bb];
        }
        let bound = mu * k * psi;
        let gam = bound * w * cfg.dt;
        let eps2 = gam * gam + cfg.eps * cfg.eps;
        let f_t = -(bound * vt / (vt * vt + eps2).sqrt());
        let f = add(scale(n, f_n), scale(t, f_t));
        let ta = cross(ra, f);
        force[3 * a] = force[3 * a] + f[0];
        force[3 * a + 1] = force[3 * a + 1] + f[1];
        force[3 * a + 2] = force[3 * a + 2] + ta;
        if !ground {
            let tb = cross(rb, f);
            force[3 * bb] = force[3 * bb] - f[0];
            force[3 * bb + 1] = force[3 * bb + 1] - f[1];
            force[3 * bb + 2] = force[3 * bb + 2] - tb;
        }
    }
    let dt = cfg.dt;
    let mut new_pose = Vec::with_capacity(3 * b);
    let mut new_vel = Vec::with_capacity(3 * b);
    for i in 0..b {
        let acc = [
            force[3 * i] / mass[i] + cfg.gravity[0],
            force[3 * i + 1] / mass[i] + cfg.gravity[1],
            force[3 * i + 2] / inertia[i],
        ];
        for j in 0..3 {
            let v = vel[3 * i + j] + acc[j] * dt;
            new_vel.push(v);
            new_pose.push(pose[3 * i + j] + v * dt);
        }
    }
    (new_pose, new_vel)
}

/// The fused step kernel. Inputs: pose `[B,3]`, velocity `[B,3]`, mass `[B]`,
/// inertia `[B]`, material `[3]` = (k, c, μ), optional wrench `[B,3]`. Outputs:
/// pose', velocity'. Saves the contact list and the net non-gravity
/// wrench on each body for the adjoint.
pub(crate) struct RigidStep {
    cfg: StepConfig,
    step: usize,
    bound: (f64, f64),
}

impl RigidStep {
    pub(crate) fn new(cfg: StepConfig, step: usize, bound: (f64, f64)) -> RigidStep {
        RigidStep { cfg, step, bound }
    }

    fn validate(&self, inputs: &[&Tensor]) -> Result<()> {
        let b = self.cfg.shapes.len();
        let want: [&[usize]; 6] = [&[b, 3], &[b, 3], &[b], &[b], &[3], &[b, 3]];
        const NAMES: [&str; 6] = [
            "rigid step: pose must be [B, 3]",
            "rigid step: velocity must be [B, 3]",
            "rigid step: mass must be [B]",
            "rigid step: inertia must be [B]",
            "rigid step: material must be [3] = (stiffness, damping, friction)",
            "rigid step: wrench must be [B, 3]",
        ];
        for (k, x) in inputs.iter().enumerate() {
            if x.shape != want[k] {
                return Err(Error::Shape {
                    op: "rigid step",
                    lhs: x.shape.clone(),
                    rhs: want[k].to_vec(),
                    hint: NAMES[k],
                });
            }
        }
        check_finite_rows(inputs[0], inputs[1], self.step)?;
        for (name, x) in [("mass", inputs[2]), ("inertia", inputs[3])] {
            if let Some(&v) = x.data.iter().find(|v| !(**v > 0.0 && v.is_finite())) {
                return Err(Error::Parameter {
                    name,
                    value: v,
                    reason: "every body's mass and inertia must be positive and finite",
                });
            }
        }
        let names = ["stiffness", "damping", "friction"];
        for (name, &v) in names.iter().zip(&inputs[4].data) {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::Parameter {
                    name,
                    value: v,
                    reason:
                        "contact stiffness, damping and friction must be non-negative and finite",
                });
            }
        }
        if let Some(w) = inputs.get(5) {
            if let Some(i) = (0..b).find(|&i| !row(&w.data, i).iter().all(|x| x.is_finite())) {
                return Err(Error::NonFinite {
                    what: format!("wrench on body {i}"),
                    step: self.step,
                });
            }
        }
        let (bound, m) = self.bound;
        if self.cfg.dt >= bound {
            return Err(Error::TimeStep {
                dt: self.cfg.dt,
                bound,
                stiffness: inputs[4].data[0],
                mass: m,
            });
        }
        Ok(())
    }
}

fn check_finite_rows(pose: &Tensor, vel: &Tensor, step: usize) -> Result<()> {
    let b = pose.shape[0];
    for i in 0..b {
        let ok = row(&pose.data, i)
            .iter()
            .chain(&row(&vel.data, i))
            .all(|x| x.is_finite());
        if !ok {
            return Err(Error::NonFinite {
                what: format!("state of body {i}"),
                step,
            });
        }
    }
    Ok(())
}

impl Kernel for RigidStep {
    /// The contact list and the net non-gravity wrench on each body.
    type Saved = (Vec<Contact>, Vec<f64>);

    fn name(&self) -> &'static str {
        "rigid_step"
    }

    fn forward(
        &self,
        inputs: &[&Tensor],
        _needs_grad: &[bool],
    ) -> Result<(Vec<Tensor>, Self::Saved)> {
        self.validate(inputs)?;
        let b = self.cfg.shapes.len();
        let mut contacts = Vec::new();
        let mut force = Vec::new();
        self.cfg.detect(&inputs[0].data, &mut contacts);
        let m = &inputs[4].data;
        let (pose, vel) = step_core(
            &self.cfg,
            &contacts,
            &inputs[0].data,
            &inputs[1].data,
            &inputs[2].data,
            &inputs[3].data,
            [m[0], m[1], m[2]],
            inputs.get(5).map(|w| w.data.as_slice()),
            &mut force,
        );
        let pose = Tensor::from_data(pose, vec![b, 3]);
        let vel = Tensor::from_data(vel, vec![b, 3]);
        check_finite_rows(&pose, &vel, self.step + 1)?;
        Ok((vec![pose, vel], (contacts, force)))
    }

    fn vjp(
        &self,
        saved: &Self::Saved,
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let (contacts, force) = saved;
        let b = self.cfg.shapes.len();
        let dt = self.cfg.dt;
        let (gq_out, gv_out) = (&grad_outputs[0].data, &grad_outputs[1].data);
        let (mass, inertia) = (&inputs[2].data, &inputs[3].data);
        // ∂L/∂(F, τ) of each body's non-gravity wrench.
        let mut grad_force = vec![0.0; 3 * b];
        {
            let (gq, rest) = grad_inputs.split_at_mut(1);
            let (gv, rest) = rest.split_at_mut(1);
            let (gm, gi) = rest.split_at_mut(1);
            let (gq, gv, gm, gi) = (
                &mut gq[0].data,
                &mut gv[0].data,
                &mut gm[0].data,
                &mut gi[0].data,
            );
            for i in 0..b {
                for j in 0..3 {
                    let k = 3 * i + j;
                    let gbar = gv_out[k] + dt * gq_out[k];
                    gq[k] += gq_out[k];
                    gv[k] += gbar;
                    let inv = if j < 2 {
                        1.0 / mass[i]
                    } else {
                        1.0 / inertia[i]
                    };
                    grad_force[k] = dt * gbar * inv;
                    let g_inv_mass = -grad_force[k] * force[k] * inv;
                    if j < 2 {
                        gm[i] += g_inv_mass;
                    } else {
                        gi[i] += g_inv_mass;
                    }
                }
            }
        }
        if let Some(gw) = grad_inputs.get_mut(5) {
            for (g, f) in gw.data.iter_mut().zip(&grad_force) {
                *g += f;
            }
        }
        let mut grad_material = [0.0; 3];
        for ct in contacts {
            contact_vjp(
                &self.cfg,
                ct,
                inputs,
                &grad_force,
                grad_inputs,
                &mut grad_material,
            );
        }
        for (g, m) in grad_inputs[4].data.iter_mut().zip(grad_material) {
            *g += m;
        }
        Ok(())
    }
}

/// Reverse pass through one contact: from ∂L/∂(F, τ) of its bodies to
/// their poses, velocities and the material.
///
/// With f = fₙn + fₜt applied at p (+f on a, −f on b), rₐ = p − cₐ:
/// ∂L/∂f = ∂L/∂Fₐ − ∂L/∂F_b + ∂L/∂τₐ (ẑ×rₐ) − ∂L/∂τ_b (ẑ×r_b),
/// ∂L/∂rₐ = ∂L/∂τₐ (f_y, −f_x); then fₙ, fₜ by their laws
/// (`normal_force_vjp`, `friction_force_vjp`), vₙ = v_rel·n, vₜ = v_rel·t,
/// v_rel = vₐ + ωₐ ẑ×rₐ − v_b − ω_b ẑ×r_b, and the geometry's adjoint.
fn contact_vjp(
    cfg: &StepConfig,
    ct: &Contact,
    inputs: &[&Tensor],
    grad_force: &[f64],
    grad_inputs: &mut [&mut Tensor],
    grad_material: &mut [f64; 3],
) {
    let (pose, vel) = (&inputs[0].data, &inputs[1].data);
    let m = &inputs[4].data;
    let (k, c, mu) = (m[0], m[1], m[2]);
    let (a, bb) = (ct.a as usize, ct.b as usize);
    let ground = ct.with_ground();
    let qa: Pose<f64> = row(pose, a);
    let qb: Pose<f64> = if ground { qa } else { row(pose, bb) };
    let geo: Geometry<f64> = geometry(ct, &cfg.shapes, cfg.ground(), qa, qb);
    let ra = sub(geo.p, [qa[0], qa[1]]);
    let va = row(vel, a);
    let mut vrel = add([va[0], va[1]], scale(perp(ra), va[2]));
    let (mut rb, mut vb) = ([0.0; 2], [0.0; 3]);
    if !ground {
        rb = sub(geo.p, [qb[0], qb[1]]);
        vb = row(vel, bb);
        vrel = sub(vrel, add([vb[0], vb[1]], scale(perp(rb), vb[2])));
    }
    let n = geo.n;
    let t: V2<f64> = perp(n);
    let (vn, vt) = (dot(vrel, n), dot(vrel, t));
    let (psi, sig, _) = cfg.penalty.eval(geo.d);
    let f_n = k * psi - c * sig * vn;
    let (mass, inertia) = (&inputs[2].data, &inputs[3].data);
    let cta = cross(ra, t);
    let mut w = cta * cta / inertia[a] + 1.0 / mass[a];
    let mut ctb = 0.0;
    if !ground {
        ctb = cross(rb, t);
        w += ctb * ctb / inertia[bb] + 1.0 / mass[bb];
    }
    let bound = mu * k * psi;
    let gam = bound * w * cfg.dt;
    let eps_c = (gam * gam + cfg.eps * cfg.eps).sqrt();
    let f_t = -(bound * vt / (vt * vt + eps_c * eps_c).sqrt());
    let f = add(scale(n, f_n), scale(t, f_t));

    // Force and torque on each body → f, rₐ, r_b.
    let gfa = row(grad_force, a);
    let mut gf = add([gfa[0], gfa[1]], scale(perp(ra), gfa[2]));
    let mut gra = scale([f[1], -f[0]], gfa[2]);
    let mut grb = [0.0; 2];
    if !ground {
        let gfb = row(grad_force, bb);
        gf = sub(gf, add([gfb[0], gfb[1]], scale(perp(rb), gfb[2])));
        grb = scale([f[1], -f[0]], -gfb[2]);
    }
    // f = fₙ n + fₜ t.
    let (gfn, gft) = (dot(gf, n), dot(gf, t));
    let mut gn = scale(gf, f_n);
    let mut gt = scale(gf, f_t);
    // Normal and friction laws → k, c, μ, d, vₙ, vₜ.
    let mut gn_law = [0.0; 4];
    crate::contact::normal_force_vjp(cfg.penalty, k, c, geo.d, vn, gfn, &mut gn_law);
    let mut gt_law = [0.0; 5];
    crate::contact::friction_force_vjp(cfg.penalty, k, mu, geo.d, vt, eps_c, gft, &mut gt_law);
    // ε_c² = ε² + (μkψ w dt)²: through the bound μkψ and w.
    let dt2 = cfg.dt * cfg.dt;
    let g_bound = gt_law[4] * 2.0 * bound * w * w * dt2;
    let g_w = gt_law[4] * 2.0 * bound * bound * w * dt2;
    grad_material[0] += gn_law[0] + gt_law[0] + g_bound * mu * psi;
    grad_material[1] += gn_law[1];
    grad_material[2] += gt_law[1] + g_bound * k * psi;
    let gd = gn_law[2] + gt_law[2] + g_bound * mu * k * sig;
    let (gvn, gvt) = (gn_law[3], gt_law[3]);
    // vₙ = v_rel·n, vₜ = v_rel·t, t = ẑ × n.
    let gvrel = add(scale(n, gvn), scale(t, gvt));
    gn = add(gn, scale(vrel, gvn));
    gt = add(gt, scale(vrel, gvt));
    // w = 1/mₐ + (rₐ×t)²/Iₐ (+ the same for b).
    {
        let (gm, gi) = grad_inputs[2..4].split_at_mut(1);
        let (gm, gi) = (&mut gm[0].data, &mut gi[0].data);
        let mut lever = |body: usize, r: V2<f64>, ct: f64, gr: &mut V2<f64>, gt: &mut V2<f64>| {
            gm[body] -= g_w / (mass[body] * mass[body]);
            gi[body] -= g_w * ct * ct / (inertia[body] * inertia[body]);
            let g_ct = g_w * 2.0 * ct / inertia[body];
            *gr = add(*gr, scale([t[1], -t[0]], g_ct));
            *gt = add(*gt, scale(perp(r), g_ct));
        };
        lever(a, ra, cta, &mut gra, &mut gt);
        if !ground {
            lever(bb, rb, ctb, &mut grb, &mut gt);
        }
    }
    gn = add(gn, [gt[1], -gt[0]]);
    // v_rel → velocities and lever arms.
    let (gq, rest) = grad_inputs.split_at_mut(1);
    let (gvel, _) = rest.split_at_mut(1);
    let (gq, gvel) = (&mut gq[0].data, &mut gvel[0].data);
    gvel[3 * a] += gvrel[0];
    gvel[3 * a + 1] += gvrel[1];
    gvel[3 * a + 2] += dot(gvrel, perp(ra));
    gra = add(gra, scale([gvrel[1], -gvrel[0]], va[2]));
    if !ground {
        gvel[3 * bb] -= gvrel[0];
        gvel[3 * bb + 1] -= gvrel[1];
        gvel[3 * bb + 2] -= dot(gvrel, perp(rb));
        grb = sub(grb, scale([gvrel[1], -gvrel[0]], vb[2]));
    }
    // rₐ = p − cₐ, r_b = p − c_b.
    let gp = add(gra, grb);
    let mut gqa = [-gra[0], -gra[1], 0.0];
    let mut gqb = [-grb[0], -grb[1], 0.0];
    let grad_geo = Geometry {
        p: gp,
        n: gn,
        d: gd,
    };
    geometry_vjp(
        ct,
        &cfg.shapes,
        cfg.ground(),
        qa,
        qb,
        &grad_geo,
        &mut gqa,
        &mut gqb,
    );
    for j in 0..3 {
        gq[3 * a + j] += gqa[j];
    }
    if !ground {
        for j in 0..3 {
            gq[3 * bb + j] += gqb[j];
        }
    }
}

/// The composed reference of [`RigidStep`]: `steps` steps of [`step_core`]
/// on the scalar tape, re-detecting contacts each step, and the gradient
/// of L = Σ w·(pose, velocity) of the last state with respect to (pose,
/// velocity, mass, inertia, material, wrench).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn reference(
    cfg: &StepConfig,
    pose: &[f64],
    vel: &[f64],
    mass: &[f64],
    inertia: &[f64],
    material: [f64; 3],
    wrench: &[f64],
    steps: usize,
    weights: &[f64],
) -> (Vec<f64>, Vec<Vec<f64>>) {
    use crate::scalar::{Tape, Var};
    let tape = Tape::new();
    let vars = |x: &[f64]| -> Vec<Var> { x.iter().map(|&v| tape.var(v)).collect() };
    let (p0, v0, m, i, mat, w) = (
        vars(pose),
        vars(vel),
        vars(mass),
        vars(inertia),
        vars(&material),
        vars(wrench),
    );
    let (mut p, mut v) = (p0.clone(), v0.clone());
    let mut contacts = Vec::new();
    let mut force = Vec::new();
    for _ in 0..steps {
        let values: Vec<f64> = p.iter().map(|x| x.value()).collect();
        cfg.detect(&values, &mut contacts);
        (p, v) = step_core(
            cfg,
            &contacts,
            &p,
            &v,
            &m,
            &i,
            [mat[0], mat[1], mat[2]],
            Some(&w),
            &mut force,
        );
    }
    let state: Vec<Var> = p.iter().chain(&v).copied().collect();
    let mut loss = tape.var(0.0);
    for (s, &wt) in state.iter().zip(weights) {
        loss = loss + *s * wt;
    }
    let g = tape.grad(loss);
    let grads = [&p0, &v0, &m, &i, &mat, &w]
        .iter()
        .map(|xs| xs.iter().map(|x| g.wrt(*x)).collect())
        .collect();
    (state.iter().map(|x| x.value()).collect(), grads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tape::{TVar, TensorTape};

    /// Ground, two circles, a box and a triangle, placed so that every
    /// feature kind is in contact: circle–ground, vertex–ground,
    /// circle–circle, circle–face, circle–vertex and vertex–face.
    fn scene(penalty: Penalty) -> (StepConfig, Vec<f64>, Vec<f64>) {
        let shapes = vec![
            Shape::circle(0.3),                                    // 0 on the ground
            Shape::circle(0.25),                                   // 1 on circle 0
            Shape::rect(1.0, 0.5),                                 // 2 on the ground
            Shape::polygon(&[[0.0, 0.0], [0.6, 0.0], [0.2, 0.5]]), // 3 on box 2
            Shape::circle(0.2),                                    // 4 on box 2's corner
            Shape::circle(0.2),                                    // 5 on box 2's top face
        ];
        let ground = Ground::through(&[0.02, 1.0], &[1.5, 0.0]);
        let rot = crate::contact::pairs::rot;
        let gn = ground.normal2();
        let on = |p: [f64; 2], n: [f64; 2], h: f64| [p[0] + n[0] * h, p[1] + n[1] * h];
        let c0 = on([0.0, 0.02 * 1.5], gn, 0.29);
        let c1 = on(c0, [0.6, 0.8], 0.3 + 0.25 - 0.012);
        let th2 = 0.02;
        // Box: its bottom-left vertex 5 mm into the ground.
        let u = rot(th2, [-0.5, -0.25]);
        let h0 = ground.height_of(&[3.0 + u[0], u[1]]);
        let c2 = [3.0, (-0.005 - h0) / gn[1]];
        let n_top = rot(th2, [0.0, 1.0]);
        let top = |x: f64| {
            let r = rot(th2, [x, 0.25]);
            [c2[0] + r[0], c2[1] + r[1]]
        };
        // Triangle: its vertex 0 5 mm below the box's top face.
        let (th3, tri_u0) = (0.05, [-0.6 / 2.25, -0.5 / 3.0]);
        let v0 = rot(th3, tri_u0);
        let s0 = n_top[0] * (3.1 + v0[0] - top(0.0)[0]) + n_top[1] * (v0[1] - top(0.0)[1]);
        let c3 = [3.1, (-0.005 - s0) / n_top[1]];
        let corner = top(0.5);
        let diag = rot(th2, [std::f64::consts::FRAC_1_SQRT_2; 2]);
        let c4 = on(corner, diag, 0.19);
        let c5 = on(top(-0.3), n_top, 0.19);
        let pose = vec![
            c0[0], c0[1], 0.1, c1[0], c1[1], -0.2, c2[0], c2[1], th2, //
            c3[0], c3[1], th3, c4[0], c4[1], 0.3, c5[0], c5[1], 0.0,
        ];
        let vel = Tensor::rand_uniform(&[18], 3).data;
        let cfg = StepConfig {
            shapes: Arc::new(shapes),
            ground: Some(ground),
            gravity: [0.0, -9.81],
            dt: 1e-3,
            penalty,
            eps: 0.05,
        };
        (cfg, pose, vel)
    }

    #[test]
    fn fused_step_matches_scalar_reference() {
        for penalty in [Penalty::Relu, Penalty::Softplus { width: 0.01 }] {
            let (cfg, pose, vel) = scene(penalty);
            let mut contacts = Vec::new();
            cfg.detect(&pose, &mut contacts);
            let kinds: Vec<_> = contacts
                .iter()
                .map(|c| std::mem::discriminant(&c.feature))
                .collect();
            let distinct: std::collections::BTreeSet<String> = contacts
                .iter()
                .map(|c| {
                    format!("{:?}", c.feature)
                        .split('(')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(
                distinct.len(),
                6,
                "every feature kind in contact: {contacts:?}"
            );
            assert!(kinds.len() >= 6);
            let mass = vec![1.0, 0.8, 2.0, 0.7, 0.5, 0.6];
            let inertia = vec![0.05, 0.03, 0.2, 0.04, 0.01, 0.012];
            let material = [2e3, 5.0, 0.4];
            let wrench = Tensor::rand_uniform(&[18], 9).data;
            let weights = Tensor::rand_uniform(&[36], 11).data;
            let steps = 5;
            let (want, want_grads) = reference(
                &cfg, &pose, &vel, &mass, &inertia, material, &wrench, steps, &weights,
            );

            let t = TensorTape::new();
            let inputs: Vec<TVar> = [
                Tensor::from_data(pose.clone(), vec![6, 3]),
                Tensor::from_data(vel.clone(), vec![6, 3]),
                Tensor::from_data(mass.clone(), vec![6]),
                Tensor::from_data(inertia.clone(), vec![6]),
                Tensor::from_data(material.to_vec(), vec![3]),
                Tensor::from_data(wrench.clone(), vec![6, 3]),
            ]
            .into_iter()
            .map(|x| t.var(x))
            .collect();
            let (mut p, mut v) = (inputs[0], inputs[1]);
            for s in 0..steps {
                let k = RigidStep::new(cfg.clone(), s, (f64::INFINITY, 0.0));
                let out = t.apply(k, &[p, v, inputs[2], inputs[3], inputs[4], inputs[5]]);
                (p, v) = (out[0], out[1]);
            }
            let wp = t.constant(Tensor::from_data(weights[..18].to_vec(), vec![6, 3]));
            let wv = t.constant(Tensor::from_data(weights[18..].to_vec(), vec![6, 3]));
            let loss = p.mul(&wp).sum().add(&v.mul(&wv).sum());
            let got: Vec<f64> = p.value().data.into_iter().chain(v.value().data).collect();
            for (a, b) in got.iter().zip(&want) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "{penalty:?}: value {a} vs {b}"
                );
            }
            let g = t.grad(loss);
            for (k, x) in inputs.iter().enumerate() {
                for (e, (a, b)) in g[x.idx()].data.iter().zip(&want_grads[k]).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{penalty:?}: input {k} element {e}: fused {a} vs reference {b}"
                    );
                }
            }
        }
    }
}
