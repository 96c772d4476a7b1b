//! Polygon–polygon contact, vertex against edge.
//!
//! A vertex V = cₐ + Rₐu of polygon a, behind face e of polygon b (world
//! normal n = R_b mₑ, a point W = c_b + R_b wₑ on it): s = n·(V − W) is its
//! signed distance to the face's line, d = −s, and the force acts at p = V
//! along n. Which vertices and faces touch is chosen per pair, as one
//! manifold about a reference face (see [`detect_pair`]).

use super::{centre, rot, rot_t, Contact, Feature, Geometry, Pose};
use crate::geometry::math::{add, axpy, dot, perp, rotate, sub, Real, V2};
use crate::geometry::Polygon;

pub(super) fn geometry<T: Real>(
    u: V2<T>,
    w: V2<T>,
    m: V2<T>,
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

/// How much more separated (m) b's best face must be than a's to be the
/// reference face instead: near-parallel faces keep one reference.
const REFERENCE_TOLERANCE: f64 = 1e-6;

/// How far past a face's ends (as a fraction of its length) a vertex still
/// counts as on it.
const EXTENT_TOLERANCE: f64 = 1e-9;

/// `pi`'s vertices (pose `qi`) in the frame of pose `qr`.
fn in_frame(qr: Pose<f64>, pi: &Polygon, qi: Pose<f64>) -> Vec<[f64; 2]> {
    pi.vertices()
        .iter()
        .map(|u| {
            let ru = rot(qi[2], *u);
            rot_t(qr[2], [qi[0] + ru[0] - qr[0], qi[1] + ru[1] - qr[1]])
        })
        .collect()
}

/// The face of `pr` whose line `pi`'s vertices are furthest outside of,
/// and that separation (the separating axis test over `pr`'s faces).
fn best_face(pr: &Polygon, qr: Pose<f64>, pi: &Polygon, qi: Pose<f64>) -> (usize, f64) {
    let local = in_frame(qr, pi, qi);
    let (ws, ms) = (pr.vertices(), pr.normals());
    (0..ws.len())
        .map(|e| {
            let s = local
                .iter()
                .map(|x| dot(ms[e], sub(*x, ws[e])))
                .fold(f64::INFINITY, f64::min);
            (e, s)
        })
        .fold((0, f64::NEG_INFINITY), |b, x| if x.1 > b.1 { x } else { b })
}

/// Pushes `VertexFace(v, f)` (vertex v of body `i`, face f of body `r`)
/// for each vertex v in `which` of `pi` within `margin` of face `f` of
/// `pr` and over its extent.
#[allow(clippy::too_many_arguments)]
fn on_face(
    (pr, qr, r, f): (&Polygon, Pose<f64>, u32, usize),
    (pi, qi, i): (&Polygon, Pose<f64>, u32),
    which: &[usize],
    margin: f64,
    out: &mut Vec<Contact>,
) {
    let local = in_frame(qr, pi, qi);
    let ws = pr.vertices();
    let (w0, w1, m) = (ws[f], ws[(f + 1) % ws.len()], pr.normals()[f]);
    let edge = sub(w1, w0);
    for &v in which {
        let rel = sub(local[v], w0);
        let along = dot(rel, edge) / dot(edge, edge);
        let inside = (-EXTENT_TOLERANCE..=1.0 + EXTENT_TOLERANCE).contains(&along);
        if dot(m, rel) < margin && inside {
            out.push(Contact {
                a: i,
                b: r,
                feature: Feature::VertexFace(v as u32, f as u32),
            });
        }
    }
}

/// The contacts of polygons a and b closer than `margin`, as a manifold
/// with one normal: the reference face is the face (of either polygon) of
/// largest separation; the other polygon's vertices over it, and the
/// reference face's own two vertices over the other polygon's most opposed
/// face, are its contacts. So corners that nearly coincide, or a vertex
/// near a corner, never get normals that disagree (two pushes in opposite
/// directions that no velocity satisfies).
#[allow(clippy::too_many_arguments)]
pub(super) fn detect_pair(
    pa: &Polygon,
    pb: &Polygon,
    a: u32,
    b: u32,
    qa: Pose<f64>,
    qb: Pose<f64>,
    margin: f64,
    out: &mut Vec<Contact>,
) {
    let (fb, sb) = best_face(pb, qb, pa, qa);
    let (fa, sa) = best_face(pa, qa, pb, qb);
    if sa.max(sb) >= margin {
        return;
    }
    let ((pr, qr, r, f), (pi, qi, i)) = if sb + REFERENCE_TOLERANCE >= sa {
        ((pb, qb, b, fb), (pa, qa, a))
    } else {
        ((pa, qa, a, fa), (pb, qb, b))
    };
    let all: Vec<usize> = (0..pi.vertices().len()).collect();
    on_face((pr, qr, r, f), (pi, qi, i), &all, margin, out);
    // The incident face: the face of pi most opposed to the reference normal.
    let n = rot(qr[2], pr.normals()[f]);
    let incident = (0..pi.normals().len())
        .map(|e| (e, dot(rot(qi[2], pi.normals()[e]), n)))
        .fold((0, f64::INFINITY), |b, x| if x.1 < b.1 { x } else { b })
        .0;
    let ends = [f, (f + 1) % pr.vertices().len()];
    on_face((pi, qi, i, incident), (pr, qr, r), &ends, margin, out);
}
