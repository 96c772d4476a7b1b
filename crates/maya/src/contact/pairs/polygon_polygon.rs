//! Polygon–polygon contact, vertex against edge.
//!
//! A vertex V = cₐ + Rₐu of polygon a, behind face e of polygon b (world
//! normal n = R_b mₑ, a point W = c_b + R_b wₑ on it): s = n·(V − W) is its
//! signed distance to the face's line, d = −s, and the force acts at p = V
//! along n. The face chosen is the one of largest s (the least deep), so a
//! vertex is pushed out the nearest way.

use super::{centre, rot, rot_t, Contact, Feature, Geometry, Pose};
use crate::geometry::math::{add, axpy, dot, perp, rotate, sub, Real};
use crate::geometry::Polygon;

pub(super) fn geometry<T: Real>(
    u: [f64; 2],
    w: [f64; 2],
    m: [f64; 2],
    qa: Pose<T>,
    qb: Pose<T>,
) -> Geometry<T> {
    let v = add(centre(&qa), rotate(qa[2], u));
    let n = rotate(qb[2], m);
    let wp = add(centre(&qb), rotate(qb[2], w));
    let s = dot(n, sub(v, wp));
    Geometry { p: v, n, d: -s }
}

/// ∂s = −∂d; ∂V = ∂p + ∂s n; ĝₙ = ∂n + ∂s (V − W); ∂W = −∂s n;
/// ∂cₐ = ∂V, ∂θₐ = ∂V·(ẑ × Rₐu); ∂c_b = ∂W,
/// ∂θ_b = ∂W·(ẑ × R_b w) + ĝₙ·(ẑ × n).
#[allow(clippy::too_many_arguments)]
pub(super) fn vjp(
    u: [f64; 2],
    w: [f64; 2],
    m: [f64; 2],
    qa: Pose<f64>,
    qb: Pose<f64>,
    grad: &Geometry<f64>,
    grad_qa: &mut [f64; 3],
    grad_qb: &mut [f64; 3],
) {
    let ru = rot(qa[2], u);
    let v = [qa[0] + ru[0], qa[1] + ru[1]];
    let n = rot(qb[2], m);
    let rw = rot(qb[2], w);
    let rel = sub(v, [qb[0] + rw[0], qb[1] + rw[1]]);
    let gs = -grad.d;
    let mut gv = grad.p;
    axpy(&mut gv, gs, n);
    let mut gn = grad.n;
    axpy(&mut gn, gs, rel);
    grad_qa[0] += gv[0];
    grad_qa[1] += gv[1];
    grad_qa[2] += dot(gv, perp(ru));
    let gw = [-gs * n[0], -gs * n[1]];
    grad_qb[0] += gw[0];
    grad_qb[1] += gw[1];
    grad_qb[2] += dot(gw, perp(rw)) + dot(gn, perp(n));
}

/// Every vertex of `pa` deeper than −`margin` behind all faces of `pb`.
#[allow(clippy::too_many_arguments)]
pub(super) fn detect(
    pa: &Polygon,
    pb: &Polygon,
    a: u32,
    b: u32,
    qa: Pose<f64>,
    qb: Pose<f64>,
    margin: f64,
    out: &mut Vec<Contact>,
) {
    let (ws, ms) = (pb.vertices(), pb.normals());
    for (i, u) in pa.vertices().iter().enumerate() {
        let ru = rot(qa[2], *u);
        let local = rot_t(qb[2], [qa[0] + ru[0] - qb[0], qa[1] + ru[1] - qb[1]]);
        let (mut best, mut best_s) = (0, f64::NEG_INFINITY);
        for e in 0..ws.len() {
            let s = dot(ms[e], sub(local, ws[e]));
            if s > best_s {
                (best, best_s) = (e, s);
            }
            if s >= margin {
                break;
            }
        }
        if -best_s > -margin {
            out.push(Contact {
                a,
                b,
                feature: Feature::VertexFace(i as u32, best as u32),
            });
        }
    }
}
