//! The ground: a half-plane {x : n·x ≤ h}, with contacts against circles
//! and polygon vertices.

use super::{centre, Contact, Feature, Geometry, Pose};
use crate::error::{Error, Result};
use crate::rigid::math::{add, axpy, dot, lift2, perp, rotate, scale, sub, Real};
use crate::rigid::Shape;

/// A solid half-plane {x : n·x ≤ h}; free space is n·x > h.
///
/// ```
/// use maya::contact::Ground;
/// let floor = Ground::horizontal(0.0);
/// assert_eq!(floor.normal(), [0.0, 1.0]);
/// // A 30° slope through the origin, rising to the right.
/// let slope = Ground::slope(30f64.to_radians());
/// assert!((slope.normal()[0] + 0.5).abs() < 1e-15);
/// assert!(Ground::try_new([0.0, 0.0], [0.0, 0.0]).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ground {
    normal: [f64; 2],
    offset: f64,
}

/// The floor y ≤ 0.
pub(crate) const FLOOR: Ground = Ground {
    normal: [0.0, 1.0],
    offset: 0.0,
};

impl Ground {
    /// The floor y ≤ `height` (m).
    pub fn horizontal(height: f64) -> Ground {
        Ground {
            normal: [0.0, 1.0],
            offset: height,
        }
    }

    /// A plane through the origin rising at `angle` (rad) to the right: its
    /// normal is (−sin α, cos α).
    pub fn slope(angle: f64) -> Ground {
        Ground {
            normal: [-angle.sin(), angle.cos()],
            offset: 0.0,
        }
    }

    /// The half-plane through `point` (m) with outward `normal` (any
    /// length). Panics on a zero or non-finite normal; see
    /// [`Ground::try_new`].
    #[track_caller]
    pub fn new(normal: [f64; 2], point: [f64; 2]) -> Ground {
        Self::try_new(normal, point).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Ground::new`], returning an error for a bad normal or point.
    pub fn try_new(normal: [f64; 2], point: [f64; 2]) -> Result<Ground> {
        let l = normal[0].hypot(normal[1]);
        if !(l > 0.0 && l.is_finite() && point[0].is_finite() && point[1].is_finite()) {
            return Err(Error::Parameter {
                name: "ground normal length",
                value: l,
                reason: "the ground needs a non-zero, finite normal and a finite point",
            });
        }
        let n = [normal[0] / l, normal[1] / l];
        Ok(Ground {
            normal: n,
            offset: n[0] * point[0] + n[1] * point[1],
        })
    }

    /// Outward unit normal n.
    pub fn normal(&self) -> [f64; 2] {
        self.normal
    }

    /// Offset h = n·x of the surface (m).
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Signed height n·x − h of a point above the surface (m).
    pub fn height_of(&self, x: [f64; 2]) -> f64 {
        self.normal[0] * x[0] + self.normal[1] * x[1] - self.offset
    }
}

/// Circle: d = r − (n·c − h), p = c − r n.
pub(super) fn circle<T: Real>(g: &Ground, r: f64, q: Pose<T>) -> Geometry<T> {
    let c = centre(&q);
    let n = lift2(q[0], g.normal);
    let d = -(dot(n, c) - g.offset) + r;
    Geometry {
        p: sub(c, scale(n, q[0].lift(r))),
        n,
        d,
    }
}

/// ∂c = ∂p − ∂d n (n and r − c·n do not depend on θ).
pub(super) fn circle_vjp(g: &Ground, grad: &Geometry<f64>, grad_q: &mut [f64; 3]) {
    grad_q[0] += grad.p[0] - grad.d * g.normal[0];
    grad_q[1] += grad.p[1] - grad.d * g.normal[1];
}

/// Vertex V = c + R(θ)u: d = h − n·V, p = V.
pub(super) fn vertex<T: Real>(g: &Ground, u: [f64; 2], q: Pose<T>) -> Geometry<T> {
    let v = add(centre(&q), rotate(q[2], u));
    let n = lift2(q[0], g.normal);
    Geometry {
        p: v,
        n,
        d: -dot(n, v) + g.offset,
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
    axpy(&mut gv, -grad.d, g.normal);
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
    let h = g.height_of([q[0], q[1]]);
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
                if -(h + g.normal[0] * v[0] + g.normal[1] * v[1]) > -margin {
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
