//! The rigid contact force law, written once over [`Real`]: the contact
//! element's forward pass (f64), its adjoint's recomputation of the
//! intermediates (f64) and the scalar-tape reference (`Var`) all call
//! [`contact_law`].
//!
//! With the contact point p, normal n (from b to a), depth d, lever arms
//! rₐ = p − cₐ, r_b = p − c_b and v_rel = vₐ + ωₐ ẑ×rₐ − v_b − ω_b ẑ×r_b:
//!
//! ```text
//! fₙ = k ψ(d) − c ψ′(d) vₙ,          vₙ = v_rel·n
//! fₜ = −μkψ(d) vₜ/√(vₜ² + ε_c²),     vₜ = v_rel·t, t = ẑ × n
//! ε_c² = ε² + (dt μ k ψ(d) w)²,      w = 1/mₐ + (rₐ×t)²/Iₐ (+ the same for b)
//! f = fₙ n + fₜ t, applied at p: +f on a, −f on b.
//! ```

use super::friction::friction_from_bound;
use super::pairs::Geometry;
use super::penalty::{normal_force_real, Penalty};
use crate::geometry::math::{add, cross, dot, perp, scale, sub, Real, V2};

/// The contact material and step constants of the law.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LawParams<T> {
    pub k: T,
    pub c: T,
    pub mu: T,
    pub penalty: Penalty,
    /// The base friction regularisation ε (m/s).
    pub eps: f64,
    pub dt: f64,
}

/// One body's side of a contact: pose, velocity, mass and inertia.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Side<T> {
    pub q: [T; 3],
    pub v: [T; 3],
    pub m: T,
    pub i: T,
}

/// Every intermediate of the law at one contact (what the adjoint needs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LawTerms<T> {
    pub ra: V2<T>,
    pub rb: V2<T>,
    pub vrel: V2<T>,
    pub t: V2<T>,
    pub vn: T,
    pub vt: T,
    pub psi: T,
    pub sig: T,
    pub f_n: T,
    pub cta: T,
    pub ctb: T,
    pub w: T,
    pub bound: T,
    pub eps_c2: T,
    pub f_t: T,
    pub f: V2<T>,
}

/// The law at one contact of geometry `geo` between `a` and `b` (`b` is
/// `None` for the ground).
#[inline(always)]
pub(crate) fn contact_law<T: Real>(
    law: &LawParams<T>,
    geo: &Geometry<T>,
    a: &Side<T>,
    b: Option<&Side<T>>,
) -> LawTerms<T> {
    let zero = law.k.lift(0.0);
    let ra = sub(geo.p, [a.q[0], a.q[1]]);
    let mut vrel = add([a.v[0], a.v[1]], scale(perp(ra), a.v[2]));
    let mut rb = [zero, zero];
    if let Some(b) = b {
        rb = sub(geo.p, [b.q[0], b.q[1]]);
        vrel = sub(vrel, add([b.v[0], b.v[1]], scale(perp(rb), b.v[2])));
    }
    let n = geo.n;
    let t = perp(n);
    let (vn, vt) = (dot(vrel, n), dot(vrel, t));
    let (f_n, psi, sig) = normal_force_real(law.penalty, law.k, law.c, geo.d, vn);
    // Inverse effective mass along t, and the per-contact ε_c.
    let cta = cross(ra, t);
    let mut w = cta * cta / a.i + a.m.lift(1.0) / a.m;
    let mut ctb = zero;
    if let Some(b) = b {
        ctb = cross(rb, t);
        w = w + ctb * ctb / b.i + b.m.lift(1.0) / b.m;
    }
    let bound = law.mu * law.k * psi;
    let gam = bound * w * law.dt;
    let eps_c2 = gam * gam + law.eps * law.eps;
    let f_t = friction_from_bound(bound, vt, eps_c2);
    let f = add(scale(n, f_n), scale(t, f_t));
    LawTerms {
        ra,
        rb,
        vrel,
        t,
        vn,
        vt,
        psi,
        sig,
        f_n,
        cta,
        ctb,
        w,
        bound,
        eps_c2,
        f_t,
        f,
    }
}
