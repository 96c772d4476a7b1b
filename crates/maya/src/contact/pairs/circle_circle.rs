//! Circle–circle contact.
//!
//! δ = cₐ − c_b, L = |δ|, n = δ/L, d = rₐ + r_b − L, and p the midpoint of
//! the two surface points cₐ − rₐn and c_b + r_b n:
//! p = (cₐ + c_b)/2 + n (r_b − rₐ)/2.

use super::{centre, Geometry, Pose};
use crate::geometry::math::{add, dot, scale, sub, Real};

pub(super) fn geometry<T: Real>(ra: T, rb: T, qa: Pose<T>, qb: Pose<T>) -> Geometry<T> {
    let (ca, cb) = (centre(&qa), centre(&qb));
    let delta = sub(ca, cb);
    let l = dot(delta, delta).sqrt();
    let n = scale(delta, l.lift(1.0) / l);
    let p = add(scale(add(ca, cb), l.lift(0.5)), scale(n, (rb - ra) * 0.5));
    Geometry {
        p,
        n,
        d: -l + (ra + rb),
    }
}

/// With ĝₙ = ∂n + ∂p (r_b − rₐ)/2: ∂δ = (I − nnᵀ) ĝₙ / L − ∂d n;
/// ∂cₐ = ∂p/2 + ∂δ, ∂c_b = ∂p/2 − ∂δ.
pub(super) fn vjp(
    ra: f64,
    rb: f64,
    qa: Pose<f64>,
    qb: Pose<f64>,
    grad: &Geometry<f64>,
    grad_qa: &mut [f64; 3],
    grad_qb: &mut [f64; 3],
) {
    let delta = [qa[0] - qb[0], qa[1] - qb[1]];
    let l = delta[0].hypot(delta[1]);
    let n = [delta[0] / l, delta[1] / l];
    let h = (rb - ra) / 2.0;
    let gn = [grad.n[0] + grad.p[0] * h, grad.n[1] + grad.p[1] * h];
    let nd = dot(n, gn);
    for k in 0..2 {
        let g_delta = (gn[k] - n[k] * nd) / l - grad.d * n[k];
        grad_qa[k] += grad.p[k] / 2.0 + g_delta;
        grad_qb[k] += grad.p[k] / 2.0 - g_delta;
    }
}
