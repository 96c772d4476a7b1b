//! [`PenaltyContact`]: penalty contact with regularised Coulomb friction
//! between 2D rigid bodies and the ground, as an
//! [`Element`](crate::physics::Element) of the physics pipeline.
//!
//! Forward: detect the contacts (saved for the adjoint), evaluate the
//! [law](super::law) at each and add +f, rₐ × f to body a and −f, −r_b × f
//! to b. Adjoint, with f applied at p: ∂L/∂f = ḡFₐ − ḡF_b + ḡτₐ (ẑ×rₐ) −
//! ḡτ_b (ẑ×r_b), ∂L/∂rₐ = ḡτₐ (f_y, −f_x); then fₙ, fₜ by their laws
//! ([`normal_force_vjp`](super::normal_force_vjp),
//! [`friction_force_vjp`](super::friction_force_vjp)), vₙ = v_rel·n,
//! vₜ = v_rel·t, the effective mass w, and the geometry's adjoint.

use super::law::{contact_law, LawParams, Side};
use super::pairs::{detect, geometry, geometry_vjp, Contact, Geometry, Pose};
use super::{friction_force_vjp, normal_force_vjp, Penalty};
use crate::error::{Error, Result};
use crate::geometry::math::{add, dot, perp, scale, sub, V2};
use crate::geometry::{HalfPlane, Shape, FLOOR};
use crate::physics::{Element, NodeGrads, Nodes};
use std::sync::Arc;

/// Penalty contact among rigid bodies of `shapes` and an optional ground.
/// Its one parameter is the material `[4]` = (stiffness k (N/m), damping c
/// (N·s/m), friction μ, restitution e (unused here: the world rejects e ≠ 0)).
#[derive(Clone, Debug)]
pub(crate) struct PenaltyContact {
    pub(crate) shapes: Arc<Vec<Shape>>,
    pub(crate) ground: Option<HalfPlane>,
    pub(crate) penalty: Penalty,
    /// Base friction regularisation ε (m/s).
    pub(crate) eps: f64,
    /// The time step (s), for the per-contact regularisation.
    pub(crate) dt: f64,
}

#[inline(always)]
fn row<T: Copy>(x: &[T], i: usize) -> [T; 3] {
    [x[3 * i], x[3 * i + 1], x[3 * i + 2]]
}

impl PenaltyContact {
    fn ground(&self) -> &HalfPlane {
        // Only ground contacts read the ground, and they exist only with one.
        self.ground.as_ref().unwrap_or(&FLOOR)
    }

    /// The contacts at poses `pose` (`[B, 3]` row-major), in a fixed order.
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

    /// The geometry of contact `c` at poses `pose`.
    pub(crate) fn geometry(
        &self,
        c: &Contact,
        pose: &[f64],
    ) -> (Geometry<f64>, Pose<f64>, Pose<f64>) {
        let qa = row(pose, c.a as usize);
        let qb = if c.with_ground() {
            qa
        } else {
            row(pose, c.b as usize)
        };
        (geometry(c, &self.shapes, self.ground(), qa, qb), qa, qb)
    }

    fn law(&self, material: &[f64]) -> LawParams<f64> {
        LawParams {
            k: material[0],
            c: material[1],
            mu: material[2],
            penalty: self.penalty,
            eps: self.eps,
            dt: self.dt,
        }
    }

    fn sides(
        &self,
        c: &Contact,
        s: &Nodes,
        qa: Pose<f64>,
        qb: Pose<f64>,
    ) -> (Side<f64>, Option<Side<f64>>) {
        let (a, b) = (c.a as usize, c.b as usize);
        let side = |i: usize, q: Pose<f64>| Side {
            q,
            v: row(s.v, i),
            m: s.mass[i],
            i: s.inertia[i],
        };
        (side(a, qa), (!c.with_ground()).then(|| side(b, qb)))
    }
}

impl Element for PenaltyContact {
    type Saved = Vec<Contact>;

    fn name(&self) -> &'static str {
        "contact"
    }

    fn param_names(&self) -> &'static [&'static str] {
        &["contact material (stiffness, damping, friction, restitution)"]
    }

    fn param_shapes(&self, _n: usize, _spatial: usize) -> Vec<Vec<usize>> {
        vec![vec![4]]
    }

    fn check(&self, n: usize, dim: usize) -> Result<()> {
        if n != self.shapes.len() || dim != 3 {
            return Err(Error::Shape {
                op: "contact",
                lhs: vec![self.shapes.len(), 3],
                rhs: vec![n, dim],
                hint: "the state has one row (x, y, θ) per body of the world",
            });
        }
        Ok(())
    }

    fn force(&self, s: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<Vec<Contact>> {
        let law = self.law(params[0]);
        let mut contacts = Vec::new();
        self.detect(s.q, &mut contacts);
        for c in &contacts {
            let (geo, qa, qb) = self.geometry(c, s.q);
            let (sa, sb) = self.sides(c, s, qa, qb);
            let lt = contact_law(&law, &geo, &sa, sb.as_ref());
            let (a, b) = (c.a as usize, c.b as usize);
            f[3 * a] += lt.f[0];
            f[3 * a + 1] += lt.f[1];
            f[3 * a + 2] += crate::geometry::math::cross(lt.ra, lt.f);
            if sb.is_some() {
                f[3 * b] -= lt.f[0];
                f[3 * b + 1] -= lt.f[1];
                f[3 * b + 2] -= crate::geometry::math::cross(lt.rb, lt.f);
            }
        }
        Ok(contacts)
    }

    fn vjp(
        &self,
        contacts: &Vec<Contact>,
        s: &Nodes,
        params: &[&[f64]],
        grad_f: &[f64],
        g: &mut NodeGrads,
    ) -> Result<()> {
        let mut grad_material = [0.0; 3];
        for c in contacts {
            self.contact_vjp(c, s, params[0], grad_f, g, &mut grad_material);
        }
        for (acc, x) in g.params[0].iter_mut().zip(grad_material) {
            *acc += x;
        }
        Ok(())
    }
}

impl PenaltyContact {
    /// The reverse pass through one contact (see the module docs).
    fn contact_vjp(
        &self,
        c: &Contact,
        s: &Nodes,
        material: &[f64],
        grad_f: &[f64],
        g: &mut NodeGrads,
        grad_material: &mut [f64; 3],
    ) {
        let law = self.law(material);
        let (k, cd, mu) = (law.k, law.c, law.mu);
        let (a, bb) = (c.a as usize, c.b as usize);
        let ground = c.with_ground();
        let (geo, qa, qb) = self.geometry(c, s.q);
        let (sa, sb) = self.sides(c, s, qa, qb);
        let lt = contact_law(&law, &geo, &sa, sb.as_ref());
        let (ra, rb, n, t, f) = (lt.ra, lt.rb, geo.n, lt.t, lt.f);
        let (va, vb) = (sa.v, sb.map(|x| x.v).unwrap_or([0.0; 3]));
        // Force and torque on each body → f, rₐ, r_b.
        let gfa = row(grad_f, a);
        let mut gf = add([gfa[0], gfa[1]], scale(perp(ra), gfa[2]));
        let mut gra = scale([f[1], -f[0]], gfa[2]);
        let mut grb = [0.0; 2];
        if !ground {
            let gfb = row(grad_f, bb);
            gf = sub(gf, add([gfb[0], gfb[1]], scale(perp(rb), gfb[2])));
            grb = scale([f[1], -f[0]], -gfb[2]);
        }
        // f = fₙ n + fₜ t.
        let (gfn, gft) = (dot(gf, n), dot(gf, t));
        let mut gn = scale(gf, lt.f_n);
        let mut gt = scale(gf, lt.f_t);
        // Normal and friction laws → k, c, μ, d, vₙ, vₜ.
        let mut gn_law = [0.0; 4];
        normal_force_vjp(law.penalty, k, cd, geo.d, lt.vn, gfn, &mut gn_law);
        let mut gt_law = [0.0; 5];
        friction_force_vjp(
            law.penalty,
            k,
            mu,
            geo.d,
            lt.vt,
            lt.eps_c2.sqrt(),
            gft,
            &mut gt_law,
        );
        // ε_c² = ε² + (μkψ w dt)²: through the bound μkψ and w.
        let dt2 = law.dt * law.dt;
        let (bound, w) = (lt.bound, lt.w);
        let g_bound = gt_law[4] * 2.0 * bound * w * w * dt2;
        let g_w = gt_law[4] * 2.0 * bound * bound * w * dt2;
        grad_material[0] += gn_law[0] + gt_law[0] + g_bound * mu * lt.psi;
        grad_material[1] += gn_law[1];
        grad_material[2] += gt_law[1] + g_bound * k * lt.psi;
        let gd = gn_law[2] + gt_law[2] + g_bound * mu * k * lt.sig;
        let (gvn, gvt) = (gn_law[3], gt_law[3]);
        // vₙ = v_rel·n, vₜ = v_rel·t, t = ẑ × n.
        let gvrel = add(scale(n, gvn), scale(t, gvt));
        gn = add(gn, scale(lt.vrel, gvn));
        gt = add(gt, scale(lt.vrel, gvt));
        // w = 1/mₐ + (rₐ×t)²/Iₐ (+ the same for b).
        {
            let (gm, gi) = (&mut *g.mass, &mut *g.inertia);
            let (mass, inertia) = (s.mass, s.inertia);
            let mut lever =
                |body: usize, r: V2<f64>, ct: f64, gr: &mut V2<f64>, gt: &mut V2<f64>| {
                    gm[body] -= g_w / (mass[body] * mass[body]);
                    gi[body] -= g_w * ct * ct / (inertia[body] * inertia[body]);
                    let g_ct = g_w * 2.0 * ct / inertia[body];
                    *gr = add(*gr, scale([t[1], -t[0]], g_ct));
                    *gt = add(*gt, scale(perp(r), g_ct));
                };
            lever(a, ra, lt.cta, &mut gra, &mut gt);
            if !ground {
                lever(bb, rb, lt.ctb, &mut grb, &mut gt);
            }
        }
        gn = add(gn, [gt[1], -gt[0]]);
        // v_rel → velocities and lever arms.
        let gvel = &mut *g.v;
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
            c,
            &self.shapes,
            self.ground(),
            qa,
            qb,
            &grad_geo,
            &mut gqa,
            &mut gqb,
        );
        for j in 0..3 {
            g.q[3 * a + j] += gqa[j];
        }
        if !ground {
            for j in 0..3 {
                g.q[3 * bb + j] += gqb[j];
            }
        }
    }
}
