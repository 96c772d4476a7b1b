//! Shapes of 2D rigid bodies: circles and convex polygons (boxes are
//! polygons). Every shape is stored in its body frame, centred on its
//! centroid, so a body's pose (x, y, θ) is the pose of its centre of mass.

use super::math::{cross, dot, sub};
use crate::error::OrPanic;
use crate::error::{Error, Result};

/// The geometry of a rigid body, in the body frame with the centroid at the
/// origin. Lengths in metres.
///
/// ```
/// use maya::rigid::Shape;
/// let ball = Shape::circle(0.5);
/// let crate_ = Shape::rect(2.0, 1.0);
/// let wedge = Shape::polygon(&[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]);
/// assert_eq!(ball.bounding_radius(), 0.5);
/// assert!((crate_.bounding_radius() - 1.25f64.sqrt()).abs() < 1e-15);
/// // The triangle is re-centred on its centroid (1, 1).
/// assert_eq!(wedge.vertices().unwrap()[0], [-1.0, -1.0]);
/// assert!(Shape::try_polygon(&[[0.0, 0.0], [2.0, 0.0], [1.0, 0.2], [1.0, 2.0]]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A disc of the given radius.
    Circle {
        /// Radius (m), > 0.
        radius: f64,
    },
    /// A convex polygon.
    Polygon(Polygon),
}

/// A convex polygon: vertices counter-clockwise around the centroid (the
/// origin), and the outward unit normal of each edge i (from vertex i to
/// vertex i + 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon {
    vertices: Vec<[f64; 2]>,
    normals: Vec<[f64; 2]>,
    radius: f64,
}

impl Polygon {
    /// Vertices, counter-clockwise, in the body frame (m).
    pub fn vertices(&self) -> &[[f64; 2]] {
        &self.vertices
    }
    /// Outward unit normal of edge i (from vertex i to vertex i + 1).
    pub fn normals(&self) -> &[[f64; 2]] {
        &self.normals
    }
}

impl Shape {
    /// A disc of radius `radius` (m). Panics on a radius that is not positive
    /// and finite; see [`Shape::try_circle`].
    #[track_caller]
    pub fn circle(radius: f64) -> Shape {
        Self::try_circle(radius).or_panic()
    }

    /// [`Shape::circle`], returning an error for a bad radius.
    pub fn try_circle(radius: f64) -> Result<Shape> {
        positive("radius", radius)?;
        Ok(Shape::Circle { radius })
    }

    /// A `width` × `height` box (m), centred, sides along the body axes.
    /// Panics on a size that is not positive and finite; see
    /// [`Shape::try_rect`].
    #[track_caller]
    pub fn rect(width: f64, height: f64) -> Shape {
        Self::try_rect(width, height).or_panic()
    }

    /// [`Shape::rect`], returning an error for a bad size.
    pub fn try_rect(width: f64, height: f64) -> Result<Shape> {
        positive("width", width)?;
        positive("height", height)?;
        let (w, h) = (width / 2.0, height / 2.0);
        Self::try_polygon(&[[-w, -h], [w, -h], [w, h], [-w, h]])
    }

    /// A convex polygon through `vertices` (either orientation), re-centred
    /// on its centroid. Panics on a non-convex or degenerate polygon; see
    /// [`Shape::try_polygon`].
    #[track_caller]
    pub fn polygon(vertices: &[[f64; 2]]) -> Shape {
        Self::try_polygon(vertices).or_panic()
    }

    /// [`Shape::polygon`], returning [`Error::InvalidShape`] for fewer than
    /// three vertices, non-finite coordinates, repeated or collinear
    /// vertices, self-intersection or a non-convex corner (naming it).
    pub fn try_polygon(vertices: &[[f64; 2]]) -> Result<Shape> {
        let n = vertices.len();
        let bad = |reason: String| Err(Error::InvalidShape { reason });
        if n < 3 {
            return bad(format!("a polygon needs at least 3 vertices, got {n}"));
        }
        if let Some(i) = vertices
            .iter()
            .position(|v| !v[0].is_finite() || !v[1].is_finite())
        {
            return bad(format!("vertex {i} {:?} is not finite", vertices[i]));
        }
        let mut vs = vertices.to_vec();
        let area2: f64 = (0..n).map(|i| cross(vs[i], vs[(i + 1) % n])).sum();
        if area2 < 0.0 {
            vs.reverse();
        }
        check_convex(&vs)?;
        let (_, centroid, _) = super::math::polygon_moments(&vs);
        for v in &mut vs {
            *v = sub(*v, centroid);
        }
        Ok(Shape::Polygon(Polygon::from_checked(vs)))
    }

    /// The shape's parameters as the contact geometry reads them: a
    /// circle's `[radius]`, a polygon's body-frame vertices
    /// `[x₀, y₀, x₁, y₁, …]` (counter-clockwise).
    ///
    /// ```
    /// use maya::rigid::Shape;
    /// assert_eq!(Shape::circle(0.5).parameters(), vec![0.5]);
    /// assert_eq!(Shape::rect(2.0, 1.0).parameters().len(), 8);
    /// ```
    pub fn parameters(&self) -> Vec<f64> {
        match self {
            Shape::Circle { radius } => vec![*radius],
            Shape::Polygon(p) => p.vertices.iter().flatten().copied().collect(),
        }
    }

    /// The same kind of shape with `parameters` (as [`Shape::parameters`]
    /// lists them), taken as they are: a polygon's vertices stay in the
    /// body frame given, not re-centred, so that the body's pose (its
    /// centre of mass) keeps its meaning. [`Error::Parameter`] for a wrong
    /// count or a radius that is not positive, [`Error::InvalidShape`] for
    /// a polygon that is not convex and counter-clockwise.
    ///
    /// ```
    /// use maya::rigid::Shape;
    /// let wider = Shape::rect(2.0, 1.0)
    ///     .try_with_parameters(&[-1.1, -0.5, 1.1, -0.5, 1.0, 0.5, -1.0, 0.5])
    ///     .unwrap();
    /// assert_eq!(wider.vertices().unwrap()[1], [1.1, -0.5]);
    /// assert!(Shape::rect(2.0, 1.0).try_with_parameters(&[1.0]).is_err());
    /// ```
    pub fn try_with_parameters(&self, parameters: &[f64]) -> Result<Shape> {
        let want = match self {
            Shape::Circle { .. } => 1,
            Shape::Polygon(p) => 2 * p.vertices.len(),
        };
        if parameters.len() != want {
            return Err(Error::Parameter {
                name: "shape parameters",
                value: parameters.len() as f64,
                reason: "a circle has 1 parameter (its radius), a polygon 2 per vertex",
            });
        }
        if let Shape::Circle { .. } = self {
            return Shape::try_circle(parameters[0]);
        }
        let vs: Vec<[f64; 2]> = parameters.chunks(2).map(|c| [c[0], c[1]]).collect();
        if let Some(i) = vs
            .iter()
            .position(|v| !v[0].is_finite() || !v[1].is_finite())
        {
            return Err(Error::InvalidShape {
                reason: format!("vertex {i} {:?} is not finite", vs[i]),
            });
        }
        let n = vs.len();
        let area2: f64 = (0..n).map(|i| cross(vs[i], vs[(i + 1) % n])).sum();
        if area2 <= 0.0 {
            return Err(Error::InvalidShape {
                reason: format!(
                    "the vertices {vs:?} turn clockwise (signed area {:e}); shape parameters \
                     keep the counter-clockwise order of Shape::parameters",
                    area2 / 2.0
                ),
            });
        }
        check_convex(&vs)?;
        Ok(Shape::Polygon(Polygon::from_checked(vs)))
    }
}

impl Polygon {
    /// A polygon through counter-clockwise, convex `vs` (checked by the
    /// caller), with its face normals and bounding radius.
    fn from_checked(vs: Vec<[f64; 2]>) -> Polygon {
        let n = vs.len();
        let normals = (0..n)
            .map(|i| {
                let e = sub(vs[(i + 1) % n], vs[i]);
                let l = e[0].hypot(e[1]);
                [e[1] / l, -e[0] / l]
            })
            .collect();
        let radius = vs.iter().map(|v| v[0].hypot(v[1])).fold(0.0, f64::max);
        Polygon {
            vertices: vs,
            normals,
            radius,
        }
    }
}

/// [`Error::InvalidShape`] unless the counter-clockwise `vs` are a convex
/// polygon: no coincident or collinear vertices, every corner turning left,
/// winding once.
fn check_convex(vs: &[[f64; 2]]) -> Result<()> {
    let n = vs.len();
    let bad = |reason: String| Err(Error::InvalidShape { reason });
    let scale = vs.iter().map(|v| v[0].hypot(v[1])).fold(0.0, f64::max);
    let mut turning = 0.0;
    for i in 0..n {
        let (a, b, c) = (vs[i], vs[(i + 1) % n], vs[(i + 2) % n]);
        let (e0, e1) = (sub(b, a), sub(c, b));
        let len = e0[0].hypot(e0[1]);
        if len <= 1e-12 * scale.max(1e-300) {
            return bad(format!("vertices {i} and {} coincide", (i + 1) % n));
        }
        let turn = cross(e0, e1);
        if turn <= 1e-12 * len * e1[0].hypot(e1[1]) {
            return bad(format!(
                "the polygon is not convex (or has collinear vertices) at vertex {:?}: \
                     maya's polygon contact needs convex shapes; split a concave shape into \
                     convex bodies",
                b
            ));
        }
        turning += turn.atan2(dot(e0, e1));
    }
    if (turning - 2.0 * std::f64::consts::PI).abs() > 1e-6 {
        return bad(format!(
            "the polygon winds {:.3} times around itself (self-intersecting); list the \
                 vertices in order around the boundary",
            turning / (2.0 * std::f64::consts::PI)
        ));
    }
    Ok(())
}

impl Shape {
    /// The radius of the smallest centred disc that holds the shape (m).
    pub fn bounding_radius(&self) -> f64 {
        match self {
            Shape::Circle { radius } => *radius,
            Shape::Polygon(p) => p.radius,
        }
    }

    /// The polygon's vertices in the body frame, or `None` for a circle.
    pub fn vertices(&self) -> Option<&[[f64; 2]]> {
        match self {
            Shape::Circle { .. } => None,
            Shape::Polygon(p) => Some(p.vertices()),
        }
    }
}

/// Where each shape's [`Shape::parameters`] start in all of them in turn
/// (one entry per shape, and the total last).
pub(crate) fn shape_offsets(shapes: &[Shape]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(shapes.len() + 1);
    let mut at = 0;
    offsets.push(0);
    for s in shapes {
        at += match s {
            Shape::Circle { .. } => 1,
            Shape::Polygon(p) => 2 * p.vertices.len(),
        };
        offsets.push(at);
    }
    offsets
}

fn positive(name: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(Error::Parameter {
            name,
            value,
            reason: "must be positive and finite",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clockwise_input_is_reoriented_and_normals_point_out() {
        let s = Shape::polygon(&[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]);
        let Shape::Polygon(p) = s else { unreachable!() };
        // Reversed to counter-clockwise, (1, 0) first, and re-centred on (0.5, 0.5).
        assert_eq!(p.vertices()[0], [0.5, -0.5]);
        for (v, n) in p.vertices().iter().zip(p.normals()) {
            assert!(dot(*v, *n) > 0.0, "normal {n:?} at {v:?} points inward");
        }
    }

    #[test]
    fn shape_parameters_round_trip_and_bad_ones_are_named() {
        let tri = Shape::polygon(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]);
        let p = tri.parameters();
        assert_eq!(tri.try_with_parameters(&p).unwrap(), tri);
        let e = tri.try_with_parameters(&p[..4]).unwrap_err();
        assert!(
            matches!(e, Error::Parameter { value, .. } if value == 4.0),
            "{e}"
        );
        let mut clockwise = p.clone();
        clockwise.swap(2, 4);
        clockwise.swap(3, 5);
        let e = tri.try_with_parameters(&clockwise).unwrap_err();
        assert!(e.to_string().contains("clockwise"), "{e}");
        let mut nan = p;
        nan[1] = f64::NAN;
        let e = tri.try_with_parameters(&nan).unwrap_err();
        assert!(
            e.to_string().contains("vertex 0") && e.to_string().contains("not finite"),
            "{e}"
        );
        let e = Shape::circle(0.1).try_with_parameters(&[0.0]).unwrap_err();
        assert!(e.to_string().contains("radius"), "{e}");
    }

    #[test]
    fn bad_shapes_are_named() {
        let e = Shape::try_circle(-1.0).unwrap_err();
        assert!(e.to_string().contains("radius = -1"), "{e}");
        let e = Shape::try_rect(1.0, 0.0).unwrap_err();
        assert!(e.to_string().contains("height = 0"), "{e}");
        let star = [[0.0, 0.0], [2.0, 0.0], [1.0, 0.5], [2.0, 2.0], [0.0, 2.0]];
        let e = Shape::try_polygon(&star).unwrap_err();
        assert!(e.to_string().contains("not convex"), "{e}");
        let e = Shape::try_polygon(&[[0.0, 0.0], [1.0, 0.0]]).unwrap_err();
        assert!(e.to_string().contains("at least 3"), "{e}");
        // A pentagram's corners all turn left but it winds twice.
        let pentagram: Vec<[f64; 2]> = (0..5)
            .map(|i| {
                let a = std::f64::consts::PI * 0.8 * i as f64;
                [a.cos(), a.sin()]
            })
            .collect();
        let e = Shape::try_polygon(&pentagram).unwrap_err();
        assert!(e.to_string().contains("winds"), "{e}");
    }
}
