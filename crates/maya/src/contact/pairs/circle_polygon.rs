//! Circle–polygon contact, against the face or vertex of the polygon
//! nearest the circle's centre.
//!
//! Face e (world normal n = R_b mₑ, a point W = c_b + R_b wₑ on it):
//! s = n·(cₐ − W). Vertex j (W = c_b + R_b wⱼ): δ = cₐ − W, s = |δ|,
//! n = δ/s. Either way d = rₐ − s and p = cₐ − n (rₐ + s)/2, the midpoint of
//! the circle's surface point and the polygon's.

use super::{centre, rot, rot_t, Contact, Feature, Geometry, Pose};
use crate::geometry::math::{add, axpy, dot, perp, rotate, scale, sub, Real, V2};
use crate::geometry::Polygon;

pub(super) fn face<T: Real>(r: T, w: V2<T>, m: V2<T>, qa: Pose<T>, qb: Pose<T>) -> Geometry<T> {
    let ca = centre(&qa);
    let n = rotate(qb[2], m);
    let wp = add(centre(&qb), rotate(qb[2], w));
    let s = dot(n, sub(ca, wp));
    let p = sub(ca, scale(n, (s + r) * 0.5));
    Geometry { p, n, d: -s + r }
}

/// ĝₙ = ∂n − ∂p (r + s)/2, ∂s = −∂d − ∂p·n/2; ∂cₐ = ∂p + ∂s n,
/// ∂W = −∂s n, ĝₙ += ∂s (cₐ − W); ∂c_b = ∂W,
/// ∂θ_b = ∂W·(ẑ × R w) + ĝₙ·(ẑ × n).
#[allow(clippy::too_many_arguments)]
pub(super) fn face_vjp(
    r: f64,
    w: [f64; 2],
    m: [f64; 2],
    qa: Pose<f64>,
    qb: Pose<f64>,
    grad: &Geometry<f64>,
    grad_qa: &mut [f64; 3],
    grad_qb: &mut [f64; 3],
) {
    let ca = [qa[0], qa[1]];
    let n = rot(qb[2], m);
    let rw = rot(qb[2], w);
    let rel = sub(ca, add([qb[0], qb[1]], rw));
    let s = dot(n, rel);
    let mut gn = grad.n;
    axpy(&mut gn, -(r + s) / 2.0, grad.p);
    let gs = -grad.d - dot(grad.p, n) / 2.0;
    axpy(&mut gn, gs, rel);
    grad_qa[0] += grad.p[0] + gs * n[0];
    grad_qa[1] += grad.p[1] + gs * n[1];
    let gw = [-gs * n[0], -gs * n[1]];
    grad_qb[0] += gw[0];
    grad_qb[1] += gw[1];
    grad_qb[2] += dot(gw, perp(rw)) + dot(gn, perp(n));
}

pub(super) fn vertex<T: Real>(r: T, w: V2<T>, qa: Pose<T>, qb: Pose<T>) -> Geometry<T> {
    let ca = centre(&qa);
    let wp = add(centre(&qb), rotate(qb[2], w));
    let delta = sub(ca, wp);
    let s = dot(delta, delta).sqrt();
    let n = scale(delta, s.lift(1.0) / s);
    let p = sub(ca, scale(n, (s + r) * 0.5));
    Geometry { p, n, d: -s + r }
}

/// ĝₙ = ∂n − ∂p (r + s)/2, ∂s = −∂d − ∂p·n/2,
/// ∂δ = (I − nnᵀ) ĝₙ / s + ∂s n; ∂cₐ = ∂p + ∂δ, ∂c_b = −∂δ,
/// ∂θ_b = −∂δ·(ẑ × R w).
#[allow(clippy::too_many_arguments)]
pub(super) fn vertex_vjp(
    r: f64,
    w: [f64; 2],
    qa: Pose<f64>,
    qb: Pose<f64>,
    grad: &Geometry<f64>,
    grad_qa: &mut [f64; 3],
    grad_qb: &mut [f64; 3],
) {
    let rw = rot(qb[2], w);
    let delta = sub([qa[0], qa[1]], add([qb[0], qb[1]], rw));
    let s = delta[0].hypot(delta[1]);
    let n = [delta[0] / s, delta[1] / s];
    let mut gn = grad.n;
    axpy(&mut gn, -(r + s) / 2.0, grad.p);
    let gs = -grad.d - dot(grad.p, n) / 2.0;
    let nd = dot(n, gn);
    let gd = [
        (gn[0] - n[0] * nd) / s + gs * n[0],
        (gn[1] - n[1] * nd) / s + gs * n[1],
    ];
    grad_qa[0] += grad.p[0] + gd[0];
    grad_qa[1] += grad.p[1] + gd[1];
    grad_qb[0] -= gd[0];
    grad_qb[1] -= gd[1];
    grad_qb[2] -= dot(gd, perp(rw));
}

/// Finds the polygon's feature nearest the circle's centre (the deepest
/// face when the centre is inside).
#[allow(clippy::too_many_arguments)]
pub(super) fn detect(
    r: f64,
    p: &Polygon,
    circle: u32,
    polygon: u32,
    qc: Pose<f64>,
    qp: Pose<f64>,
    margin: f64,
    out: &mut Vec<Contact>,
) {
    let local = rot_t(qp[2], [qc[0] - qp[0], qc[1] - qp[1]]);
    let (vs, ns) = (p.vertices(), p.normals());
    let k = vs.len();
    let (mut best_face, mut best_s) = (0, f64::NEG_INFINITY);
    for e in 0..k {
        let s = dot(ns[e], sub(local, vs[e]));
        if s > best_s {
            (best_face, best_s) = (e, s);
        }
    }
    let (feature, dist) = if best_s <= 0.0 {
        (Feature::CircleFace(best_face as u32), best_s)
    } else {
        let mut best = (Feature::CircleFace(0), f64::INFINITY);
        for e in 0..k {
            let (a, b) = (vs[e], vs[(e + 1) % k]);
            let edge = sub(b, a);
            let t = dot(sub(local, a), edge) / dot(edge, edge);
            let cand = if t <= 0.0 {
                let dl = sub(local, a);
                (Feature::CircleVertex(e as u32), dot(dl, dl).sqrt())
            } else if t >= 1.0 {
                let dl = sub(local, b);
                (
                    Feature::CircleVertex(((e + 1) % k) as u32),
                    dot(dl, dl).sqrt(),
                )
            } else {
                (
                    Feature::CircleFace(e as u32),
                    dot(ns[e], sub(local, a)).abs(),
                )
            };
            if cand.1 < best.1 {
                best = cand;
            }
        }
        best
    };
    if r - dist > -margin {
        out.push(Contact {
            a: circle,
            b: polygon,
            feature,
        });
    }
}
