//! The per-step problem's contact data: for each candidate contact (gap
//! φ < d̂) its gap, its normal and tangent Jacobian rows and its κ_i, from
//! the pair geometry; and the adjoint from the rows and gaps back to the
//! poses.
//!
//! With the contact point p, the normal n (from b towards a), t = ẑ × n and
//! the lever arms rₐ = p − cₐ, r_b = p − c_b, the rows are
//! nₐ = (n, rₐ × n), n_b = −(n, r_b × n) (and the same with t), so that
//! n·v is the normal velocity of a's material point at p relative to b's.

use crate::contact::pairs::{
    detect, geometry, geometry_shape_vjp, geometry_vjp, Contact, Feature, Geometry, Pose,
};
use crate::error::{Error, Result};
use crate::geometry::math::{cross, perp, V2};
use crate::geometry::{HalfPlane, Shape, FLOOR};

/// One candidate contact, as the solver sees it.
#[derive(Clone, Debug)]
pub(crate) struct ContactRows {
    pub contact: Contact,
    /// Body a and, unless the ground, body b.
    pub a: usize,
    pub b: Option<usize>,
    /// Gap φ = −depth (m).
    pub phi: f64,
    /// Normal row: a's block, b's block.
    pub n: [[f64; 3]; 2],
    /// Tangent row.
    pub t: [[f64; 3]; 2],
    /// Taper w(φ) = (1 − φ/d̂)³ and its derivative dw/dφ.
    pub taper: f64,
    pub taper_d: f64,
}

/// Gradients of the loss w.r.t. one contact's rows and gap.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RowGrads {
    pub n: [[f64; 3]; 2],
    pub t: [[f64; 3]; 2],
    pub phi: f64,
}

/// The world's shapes and ground, for the geometry.
pub(crate) struct Scene<'a> {
    pub shapes: &'a [Shape],
    pub ground: Option<&'a HalfPlane>,
    pub activation: f64,
}

fn pose(q: &[f64], i: usize) -> Pose<f64> {
    [q[3 * i], q[3 * i + 1], q[3 * i + 2]]
}

impl Scene<'_> {
    fn ground(&self) -> &HalfPlane {
        self.ground.unwrap_or(&FLOOR)
    }

    fn poses(&self, c: &Contact, q: &[f64]) -> (Pose<f64>, Pose<f64>) {
        let qa = pose(q, c.a as usize);
        let qb = if c.with_ground() {
            qa
        } else {
            pose(q, c.b as usize)
        };
        (qa, qb)
    }

    /// The candidate contacts at poses `q` (`[B, 3]` row-major) in the
    /// pairs' fixed order; [`Error::DegenerateContact`] for coincident
    /// circle centres (no normal) or a non-finite geometry.
    pub(crate) fn contacts(&self, q: &[f64], step: usize) -> Result<Vec<ContactRows>> {
        let mut found = Vec::new();
        detect(self.shapes, self.ground, q, self.activation, &mut found);
        let mut out = Vec::with_capacity(found.len());
        for c in found {
            let (qa, qb) = self.poses(&c, q);
            let degenerate = |reason| Error::DegenerateContact {
                body: c.a as usize,
                other: (!c.with_ground()).then_some(c.b as usize),
                step,
                reason,
            };
            if c.feature == Feature::CircleCircle && qa[0] == qb[0] && qa[1] == qb[1] {
                return Err(degenerate(
                    "the circles' centres coincide, so the contact normal is undefined",
                ));
            }
            let g = geometry(&c, self.shapes, self.ground(), qa, qb);
            if ![g.p[0], g.p[1], g.n[0], g.n[1], g.d]
                .iter()
                .all(|x| x.is_finite())
            {
                return Err(degenerate("the contact geometry is not finite"));
            }
            let phi = -g.d;
            let u = 1.0 - phi / self.activation;
            if u <= 0.0 {
                continue;
            }
            let t = perp(g.n);
            let arm = |body: Pose<f64>| [g.p[0] - body[0], g.p[1] - body[1]];
            let (ra, rb) = (arm(qa), arm(qb));
            let row =
                |d: V2<f64>, r: V2<f64>, sign: f64| [sign * d[0], sign * d[1], sign * cross(r, d)];
            let ground = c.with_ground();
            let other = |d: V2<f64>| if ground { [0.0; 3] } else { row(d, rb, -1.0) };
            out.push(ContactRows {
                contact: c,
                a: c.a as usize,
                b: (!ground).then_some(c.b as usize),
                phi,
                n: [row(g.n, ra, 1.0), other(g.n)],
                t: [row(t, ra, 1.0), other(t)],
                taper: u * u * u,
                taper_d: -3.0 * u * u / self.activation,
            });
        }
        Ok(out)
    }

    /// Adds ∂L/∂q given ∂L/∂(rows, φ) of contact `c` at poses `q`: through
    /// the lever arms and normal to (p, n, d), then the pair's own adjoint;
    /// and, given `grad_shapes` (each body's offset and the flat gradient),
    /// ∂L/∂(shape parameters).
    pub(crate) fn rows_vjp(
        &self,
        c: &ContactRows,
        q: &[f64],
        g: &RowGrads,
        grad_q: &mut [f64],
        grad_shapes: Option<(&[usize], &mut [f64])>,
    ) {
        let (qa, qb) = self.poses(&c.contact, q);
        let geo = geometry(&c.contact, self.shapes, self.ground(), qa, qb);
        let (n, t) = (geo.n, perp(geo.n));
        let ra = [geo.p[0] - qa[0], geo.p[1] - qa[1]];
        let rb = [geo.p[0] - qb[0], geo.p[1] - qb[1]];
        // A row (s·d, s·(r × d)) → ∂d, ∂r; ∂(r × d)/∂r = (d_y, −d_x),
        // ∂(r × d)/∂d = ẑ × r.
        let mut gn = [0.0; 2];
        let mut gt = [0.0; 2];
        let mut gra = [0.0; 2];
        let mut grb = [0.0; 2];
        let back = |gr: &[f64; 3], d: V2<f64>, r: V2<f64>, s: f64, gd: &mut V2<f64>| {
            let pr = perp(r);
            let mut g_r = [0.0; 2];
            for k in 0..2 {
                gd[k] += s * (gr[k] + gr[2] * pr[k]);
            }
            g_r[0] = s * gr[2] * d[1];
            g_r[1] = -s * gr[2] * d[0];
            g_r
        };
        let add = |x: &mut V2<f64>, y: V2<f64>| {
            x[0] += y[0];
            x[1] += y[1];
        };
        add(&mut gra, back(&g.n[0], n, ra, 1.0, &mut gn));
        add(&mut gra, back(&g.t[0], t, ra, 1.0, &mut gt));
        if c.b.is_some() {
            add(&mut grb, back(&g.n[1], n, rb, -1.0, &mut gn));
            add(&mut grb, back(&g.t[1], t, rb, -1.0, &mut gt));
        }
        // t = ẑ × n = (−n_y, n_x).
        gn[0] += gt[1];
        gn[1] -= gt[0];
        let grad_geo = Geometry {
            p: [gra[0] + grb[0], gra[1] + grb[1]],
            n: gn,
            d: -g.phi,
        };
        if let Some((offsets, grad_shapes)) = grad_shapes {
            geometry_shape_vjp(
                &c.contact,
                self.shapes,
                self.ground(),
                qa,
                qb,
                &grad_geo,
                offsets,
                grad_shapes,
            );
        }
        let mut gqa = [-gra[0], -gra[1], 0.0];
        let mut gqb = [-grb[0], -grb[1], 0.0];
        geometry_vjp(
            &c.contact,
            self.shapes,
            self.ground(),
            qa,
            qb,
            &grad_geo,
            &mut gqa,
            &mut gqb,
        );
        for k in 0..3 {
            grad_q[3 * c.a + k] += gqa[k];
        }
        if let Some(b) = c.b {
            for k in 0..3 {
                grad_q[3 * b + k] += gqb[k];
            }
        }
    }
}
