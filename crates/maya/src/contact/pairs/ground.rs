//! Contacts of circles and polygon vertices with the ground, a
//! [`HalfPlane`] {x : n·x ≤ h}.

use super::{centre, Contact, Feature, Geometry, Pose};
use crate::geometry::math::{add, axpy, dot, lift2, perp, rotate, scale, sub, Real, V2};
use crate::geometry::{HalfPlane as Ground, Shape};

/// Circle: d = r − (n·c − h), p = c − r n.
pub(super) fn circle<T: Real>(g: &Ground, r: T, q: Pose<T>) -> Geometry<T> {
    let c = centre(&q);
    let n = lift2(q[0], g.normal2());
    let d = -(dot(n, c) - g.offset()) + r;
    Geometry {
        p: sub(c, scale(n, r)),
        n,
        d,
    }
}

/// ∂c = ∂p − ∂d n (n and r − c·n do not depend on θ).
pub(super) fn circle_vjp(g: &Ground, grad: &Geometry<f64>, grad_q: &mut [f64; 3]) {
    grad_q[0] += grad.p[0] - grad.d * g.normal2()[0];
    grad_q[1] += grad.p[1] - grad.d * g.normal2()[1];
}

/// Vertex V = c + R(θ)u: d = h − n·V, p = V.
pub(super) fn vertex<T: Real>(g: &Ground, u: V2<T>, q: Pose<T>) -> Geometry<T> {
    let v = add(centre(&q), rotate(q[2], u));
    let n = lift2(q[0], g.normal2());
    Geometry {
        p: v,
        n,
        d: -dot(n, v) + g.offset(),
    }
}

/// ∂V = ∂p − ∂d n; ∂c = ∂V; ∂θ = ∂V · (ẑ × R u).
pub(super) fn vertex_vjp(
    g: &Ground,
    u: [f64; 2],
    q: Pose<f64>,
    grad: &Geometry<f64>,
    grad_q: &mut [f64; 3],
) {
    let mut gv = grad.p;
    axpy(&mut gv, -grad.d, g.normal2());
    grad_q[0] += gv[0];
    grad_q[1] += gv[1];
    grad_q[2] += dot(gv, perp(super::rot(q[2], u)));
}

pub(super) fn detect(
    g: &Ground,
    s: &Shape,
    i: u32,
    q: Pose<f64>,
    margin: f64,
    out: &mut Vec<Contact>,
) {
    let h = g.height_of(&[q[0], q[1]]);
    match s {
        Shape::Circle { radius } => {
            if radius - h > -margin {
                out.push(Contact {
                    a: i,
                    b: i,
                    feature: Feature::GroundCircle,
                });
            }
        }
        Shape::Polygon(p) => {
            if p.vertices().is_empty() || h - s.bounding_radius() >= margin {
                return;
            }
            for (k, u) in p.vertices().iter().enumerate() {
                let v = super::rot(q[2], *u);
                if -(h + g.normal2()[0] * v[0] + g.normal2()[1] * v[1]) > -margin {
                    out.push(Contact {
                        a: i,
                        b: i,
                        feature: Feature::GroundVertex(k as u32),
                    });
                }
            }
        }
    }
}
