//! Contact geometry of each pair of shapes: detection (which features touch)
//! and, for a detected contact, its point p, normal n (from b towards a) and
//! depth d as differentiable functions of the two poses, each with its
//! hand-written adjoint beside it.
//!
//! | pair | feature | n | d | p |
//! |---|---|---|---|---|
//! | ground–circle | — | ground normal | r − (n·c − h) | c − r n |
//! | ground–polygon | each vertex V | ground normal | h − n·V | V |
//! | circle–circle | — | (cₐ − c_b)/L | rₐ + r_b − L | midpoint of the surfaces |
//! | circle–polygon | face or vertex nearest the centre | face normal, or from the vertex | r − s | midpoint of the surfaces |
//! | polygon–polygon | each vertex V of one inside a face of the other | face normal | −n·(V − W) | V |
//!
//! Polygon–polygon contact is vertex–edge: a vertex of either polygon is
//! pushed out through the face of the other it is least deep behind. Two
//! polygons crossing edge-through-edge with no vertex inside feel no force
//! (this needs penetrations deeper than a vertex's spacing, which a stiff
//! enough contact prevents).
//!
//! Which feature touches is a discrete choice made on the values; gradients
//! flow through the chosen feature's formula. They are exact except on the
//! measure-zero set where the choice switches.

mod circle_circle;
mod circle_polygon;
mod ground;
mod local;
mod polygon_polygon;

pub(crate) use crate::geometry::math::{rot, rot_t};
use crate::geometry::math::{Real, V2};
use crate::geometry::{HalfPlane as Ground, Shape};
use local::Fixed;
pub(crate) use local::{geometry_shape_vjp, LocalShapes};

/// Which features of two bodies touch (indices are vertex and edge numbers
/// of the polygons' [`vertices`](crate::geometry::Polygon::vertices) and
/// [`normals`](crate::geometry::Polygon::normals)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// Circle `body` on the ground.
    GroundCircle,
    /// Vertex of polygon `body` on the ground.
    GroundVertex(u32),
    /// Circle `body` on circle `other`.
    CircleCircle,
    /// Circle `body` on a face (edge index) of polygon `other`.
    CircleFace(u32),
    /// Circle `body` on a vertex of polygon `other`.
    CircleVertex(u32),
    /// Vertex (first index) of polygon `body` behind a face (second index)
    /// of polygon `other`.
    VertexFace(u32, u32),
}

/// A detected contact: the force acts on `a` (+f) and `b` (−f, unless the
/// ground).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Contact {
    pub a: u32,
    pub b: u32,
    pub feature: Feature,
}

impl Contact {
    pub(crate) fn with_ground(&self) -> bool {
        matches!(
            self.feature,
            Feature::GroundCircle | Feature::GroundVertex(_)
        )
    }
}

/// A contact found in a pose, for inspection: see
/// [`World::contacts`](crate::rigid::World::contacts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContactPoint {
    /// The body the force f acts on.
    pub body: usize,
    /// The body −f acts on, or `None` for the ground.
    pub other: Option<usize>,
    /// Which features touch.
    pub feature: Feature,
    /// Contact point p (m).
    pub point: [f64; 2],
    /// Unit normal n, from `other` towards `body`.
    pub normal: [f64; 2],
    /// Penetration depth d (m), > 0 when overlapping.
    pub depth: f64,
}

/// Point, normal (from b towards a) and depth of a contact.
pub(crate) struct Geometry<T> {
    pub p: V2<T>,
    pub n: V2<T>,
    pub d: T,
}

/// A pose (x, y, θ).
pub(crate) type Pose<T> = [T; 3];

#[inline]
fn centre<T: Copy>(q: &Pose<T>) -> V2<T> {
    [q[0], q[1]]
}

fn radius(s: &Shape) -> f64 {
    match s {
        Shape::Circle { radius } => *radius,
        Shape::Polygon(_) => unreachable!("feature recorded for a circle"),
    }
}

fn poly(s: &Shape) -> (&[[f64; 2]], &[[f64; 2]]) {
    match s {
        Shape::Polygon(p) => (p.vertices(), p.normals()),
        Shape::Circle { .. } => unreachable!("feature recorded for a polygon"),
    }
}

/// The contact's geometry from the poses of a and b (`qb` is ignored for
/// ground contacts), with the shapes as constants.
pub(crate) fn geometry<T: Real>(
    c: &Contact,
    shapes: &[Shape],
    ground: &Ground,
    qa: Pose<T>,
    qb: Pose<T>,
) -> Geometry<T> {
    geometry_with(
        c,
        &Fixed {
            shapes,
            like: qa[0],
        },
        ground,
        qa,
        qb,
    )
}

/// The contact's geometry with the body-frame shape quantities read from
/// `local` (constants, or free shape parameters).
pub(crate) fn geometry_with<T: Real>(
    c: &Contact,
    local: &impl LocalShapes<T>,
    ground: &Ground,
    qa: Pose<T>,
    qb: Pose<T>,
) -> Geometry<T> {
    let (a, b) = (c.a as usize, c.b as usize);
    match c.feature {
        Feature::GroundCircle => ground::circle(ground, local.radius(a), qa),
        Feature::GroundVertex(i) => ground::vertex(ground, local.vertex(a, i as usize), qa),
        Feature::CircleCircle => circle_circle::geometry(local.radius(a), local.radius(b), qa, qb),
        Feature::CircleFace(e) => circle_polygon::face(
            local.radius(a),
            local.vertex(b, e as usize),
            local.normal(b, e as usize),
            qa,
            qb,
        ),
        Feature::CircleVertex(j) => {
            circle_polygon::vertex(local.radius(a), local.vertex(b, j as usize), qa, qb)
        }
        Feature::VertexFace(i, e) => polygon_polygon::geometry(
            local.vertex(a, i as usize),
            local.vertex(b, e as usize),
            local.normal(b, e as usize),
            qa,
            qb,
        ),
    }
}

/// Adjoint of [`geometry`]: adds ∂L/∂qa and ∂L/∂qb given ∂L/∂(p, n, d).
#[allow(clippy::too_many_arguments)]
pub(crate) fn geometry_vjp(
    c: &Contact,
    shapes: &[Shape],
    ground: &Ground,
    qa: Pose<f64>,
    qb: Pose<f64>,
    grad: &Geometry<f64>,
    grad_qa: &mut [f64; 3],
    grad_qb: &mut [f64; 3],
) {
    let sa = &shapes[c.a as usize];
    match c.feature {
        Feature::GroundCircle => ground::circle_vjp(ground, grad, grad_qa),
        Feature::GroundVertex(i) => {
            ground::vertex_vjp(ground, poly(sa).0[i as usize], qa, grad, grad_qa)
        }
        Feature::CircleCircle => circle_circle::vjp(
            radius(sa),
            radius(&shapes[c.b as usize]),
            qa,
            qb,
            grad,
            grad_qa,
            grad_qb,
        ),
        Feature::CircleFace(e) => {
            let (vs, ns) = poly(&shapes[c.b as usize]);
            let (w, m) = (vs[e as usize], ns[e as usize]);
            circle_polygon::face_vjp(radius(sa), w, m, qa, qb, grad, grad_qa, grad_qb)
        }
        Feature::CircleVertex(j) => {
            let (vs, _) = poly(&shapes[c.b as usize]);
            circle_polygon::vertex_vjp(radius(sa), vs[j as usize], qa, qb, grad, grad_qa, grad_qb)
        }
        Feature::VertexFace(i, e) => {
            let (vs, ns) = poly(&shapes[c.b as usize]);
            let (u, w, m) = (poly(sa).0[i as usize], vs[e as usize], ns[e as usize]);
            polygon_polygon::vjp(u, w, m, qa, qb, grad, grad_qa, grad_qb)
        }
    }
}

/// Appends every contact deeper than −`margin` (m) to `out`, in a fixed
/// order (ground contacts by body, then pairs i < j), so that results never
/// depend on scheduling. `pose` is `[B, 3]` row-major.
pub(crate) fn detect(
    shapes: &[Shape],
    ground: Option<&Ground>,
    pose: &[f64],
    margin: f64,
    out: &mut Vec<Contact>,
) {
    let q = |i: usize| -> Pose<f64> { [pose[3 * i], pose[3 * i + 1], pose[3 * i + 2]] };
    if let Some(g) = ground {
        for (i, s) in shapes.iter().enumerate() {
            ground::detect(g, s, i as u32, q(i), margin, out);
        }
    }
    let n = shapes.len();
    for i in 0..n {
        let (qi, ri) = (q(i), shapes[i].bounding_radius());
        for j in i + 1..n {
            let qj = q(j);
            let reach = ri + shapes[j].bounding_radius() + margin;
            let (dx, dy) = (qi[0] - qj[0], qi[1] - qj[1]);
            if dx * dx + dy * dy >= reach * reach {
                continue;
            }
            let (iu, ju) = (i as u32, j as u32);
            match (&shapes[i], &shapes[j]) {
                (Shape::Circle { radius: a }, Shape::Circle { radius: b }) => {
                    if a + b - (dx * dx + dy * dy).sqrt() > -margin {
                        out.push(Contact {
                            a: iu,
                            b: ju,
                            feature: Feature::CircleCircle,
                        });
                    }
                }
                (Shape::Circle { radius }, Shape::Polygon(p)) => {
                    circle_polygon::detect(*radius, p, iu, ju, qi, qj, margin, out)
                }
                (Shape::Polygon(p), Shape::Circle { radius }) => {
                    circle_polygon::detect(*radius, p, ju, iu, qj, qi, margin, out)
                }
                (Shape::Polygon(pi), Shape::Polygon(pj)) => {
                    polygon_polygon::detect_pair(pi, pj, iu, ju, qi, qj, margin, out);
                }
            }
        }
    }
}
