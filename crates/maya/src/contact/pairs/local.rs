//! The body-frame shape quantities a contact's formula reads (radii,
//! vertices, face normals): the shapes' own values as constants
//! ([`Fixed`], the forward pass), or free shape parameters on the scalar
//! tape, whose reverse sweep gives ∂L/∂(radii, vertices)
//! ([`geometry_shape_vjp`]). A face normal is then a function of its two
//! vertices, mₑ = (eᵧ, −eₓ)/|e| with e = wₑ₊₁ − wₑ, so moving a vertex turns
//! the faces beside it.

use super::{geometry_with, poly, radius, Contact, Geometry, Ground, Pose};
use crate::geometry::math::{lift2, Real, V2};
use crate::geometry::Shape;
use crate::scalar::{Tape, Var};

/// Radii, vertices and face normals in the body frame, over a [`Real`].
pub(crate) trait LocalShapes<T> {
    /// The radius of circle `body`.
    fn radius(&self, body: usize) -> T;
    /// Vertex `i` of polygon `body`.
    fn vertex(&self, body: usize, i: usize) -> V2<T>;
    /// The outward unit normal of face `e` (from vertex e to e + 1) of
    /// polygon `body`.
    fn normal(&self, body: usize, e: usize) -> V2<T>;
}

/// The shapes' values, as constants on the tape of `like`.
pub(super) struct Fixed<'a, T> {
    pub shapes: &'a [Shape],
    pub like: T,
}

impl<T: Real> LocalShapes<T> for Fixed<'_, T> {
    #[inline(always)]
    fn radius(&self, body: usize) -> T {
        self.like.lift(radius(&self.shapes[body]))
    }
    #[inline(always)]
    fn vertex(&self, body: usize, i: usize) -> V2<T> {
        lift2(self.like, poly(&self.shapes[body]).0[i])
    }
    #[inline(always)]
    fn normal(&self, body: usize, e: usize) -> V2<T> {
        lift2(self.like, poly(&self.shapes[body]).1[e])
    }
}

/// The parameters of one or two bodies as variables of a scalar tape:
/// a circle's [radius], a polygon's [x₀, y₀, x₁, y₁, …].
struct Free<'t> {
    bodies: Vec<(usize, Vec<Var<'t>>)>,
}

impl<'t> Free<'t> {
    fn of(&self, body: usize) -> &[Var<'t>] {
        let (_, p) = self
            .bodies
            .iter()
            .find(|(b, _)| *b == body)
            .expect("a contact reads only its own bodies' shapes");
        p
    }
}

impl<'t> LocalShapes<Var<'t>> for Free<'t> {
    fn radius(&self, body: usize) -> Var<'t> {
        self.of(body)[0]
    }
    fn vertex(&self, body: usize, i: usize) -> V2<Var<'t>> {
        let p = self.of(body);
        [p[2 * i], p[2 * i + 1]]
    }
    fn normal(&self, body: usize, e: usize) -> V2<Var<'t>> {
        let n = self.of(body).len() / 2;
        let (w0, w1) = (self.vertex(body, e), self.vertex(body, (e + 1) % n));
        let d = [w1[0] - w0[0], w1[1] - w0[1]];
        let l = (d[0] * d[0] + d[1] * d[1]).sqrt();
        [d[1] / l, -d[0] / l]
    }
}

/// Adds ∂L/∂(shape parameters) of contact `c`'s bodies, given
/// ∂L/∂(p, n, d) of its geometry at poses `qa`, `qb`, into `grad_shape`
/// (the flat parameters of all bodies, body b's from `offsets[b]`, in
/// the order of [`Shape::parameters`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn geometry_shape_vjp(
    c: &Contact,
    shapes: &[Shape],
    ground: &Ground,
    qa: Pose<f64>,
    qb: Pose<f64>,
    grad: &Geometry<f64>,
    offsets: &[usize],
    grad_shape: &mut [f64],
) {
    let tape = Tape::new();
    let mut bodies = vec![c.a as usize];
    if !c.with_ground() && c.b != c.a {
        bodies.push(c.b as usize);
    }
    let free = Free {
        bodies: bodies
            .iter()
            .map(|&b| {
                let p = shapes[b].parameters();
                (b, p.into_iter().map(|x| tape.var(x)).collect())
            })
            .collect(),
    };
    let pose = |q: Pose<f64>| q.map(|x| tape.var(x));
    let geo = geometry_with(c, &free, ground, pose(qa), pose(qb));
    let mut loss = geo.d * grad.d;
    for k in 0..2 {
        loss = loss + geo.p[k] * grad.p[k] + geo.n[k] * grad.n[k];
    }
    let g = tape.grad(loss);
    for (b, params) in &free.bodies {
        for (k, v) in params.iter().enumerate() {
            grad_shape[offsets[*b] + k] += g.wrt(*v);
        }
    }
}
