//! Meshing the inside of a simple polygon: constrained Delaunay
//! triangulation of the outline, then Delaunay refinement to a size and a
//! minimum angle.

use spade::handles::FixedVertexHandle;
use spade::{
    AngleLimit, ConstrainedDelaunayTriangulation, InsertionError, Point2, RefinementParameters,
    Triangulation,
};

use super::mesh::{mesh_error, TriMesh};
use super::outline::counter_clockwise;
use crate::error::{Error, Result};

/// The most triangles [`polygon`] will make; a finer request is refused.
const MAX_TRIANGLES: f64 = 2e7;

/// Rounds of splitting edges longer than `max_edge` after refinement.
const MAX_SPLIT_ROUNDS: usize = 16;

/// The triangulation: plain points, no data on edges or faces.
type Cdt = ConstrainedDelaunayTriangulation<Point2<f64>>;

/// A triangle mesh of the inside of a simple polygon, with no edge longer
/// than `max_edge` (to rounding). The same outline always gives the same
/// mesh.
///
/// `outline` lists the polygon's vertices in order, counter-clockwise or
/// clockwise; a last vertex equal to the first is dropped. The method:
/// 1. each outline edge is split into equal pieces no longer than
///    `max_edge`;
/// 2. the constrained Delaunay triangulation of that outline is refined
///    (Ruppert's algorithm) until every triangle has area at most
///    √3/2·`max_edge`² and angles of at least 30°, except at outline corners
///    sharper than that, which refinement cannot improve;
/// 3. interior edges still longer than `max_edge` are split at their
///    midpoints and the mesh refined again, until none is left (at most 16
///    rounds; a few suffice in practice).
///
/// The triangles are counter-clockwise and cover the polygon: their total
/// area is the outline's, to rounding. The first vertices of the mesh are
/// the outline's, counter-clockwise from `outline[0]`, with the points that
/// split its edges; the points added inside follow. Expect about
/// 6·area/`max_edge`² triangles and, unless the outline has corners sharper
/// than 30°, a [`TriMesh::min_quality`] of about 0.6 or more (0.6 is a
/// triangle with angles 30°, 30° and 120°).
///
/// Errors: [`Error::Parameter`] for a `max_edge` that is not positive and
/// finite; [`Error::Mesh`] for fewer than 3 vertices, a non-finite
/// coordinate, a zero-length edge, an outline that intersects itself
/// (naming the two edges; edge k runs from vertex k to vertex k + 1), or a
/// request for more than 2·10⁷ triangles.
///
/// ```
/// // An L-shape, 3 units² of area.
/// let l_shape = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 2.0], [0.0, 2.0]];
/// let mesh = maya::fem::polygon(&l_shape, 0.25)?;
/// assert!((mesh.total_area() - 3.0).abs() < 1e-12);
/// assert!(mesh.min_quality() > 0.55);
/// // A bow tie intersects itself.
/// assert!(maya::fem::polygon(&[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], 0.1).is_err());
/// # Ok::<(), maya::Error>(())
/// ```
pub fn polygon(outline: &[[f64; 2]], max_edge: f64) -> Result<TriMesh> {
    if !(max_edge.is_finite() && max_edge > 0.0) {
        return Err(Error::Parameter {
            name: "max_edge",
            value: max_edge,
            reason: "must be positive and finite",
        });
    }
    let ring = counter_clockwise(outline)?;
    // Two equilateral triangles of side max_edge: the edge splitting below
    // then leaves fewer, less slender triangles than a tighter bound.
    let max_area = 3f64.sqrt() / 2.0 * max_edge * max_edge;
    // Triangles to expect (measured on convex and L-shaped outlines).
    let estimate =
        6.0 * polygon_area(&ring) / (max_edge * max_edge) + 2.0 * perimeter(&ring) / max_edge;
    if estimate > MAX_TRIANGLES {
        return Err(mesh_error(format!(
            "max_edge = {max_edge:e} is too small for this outline: the mesh would have about {estimate:.3e} triangles, over the limit of {MAX_TRIANGLES:e}"
        )));
    }
    let points: Vec<Point2<f64>> = subdivide(&ring, max_edge)
        .into_iter()
        .map(|[x, y]| Point2::new(x, y))
        .collect();
    let m = points.len();
    let edges = (0..m).map(|k| [k, (k + 1) % m]).collect();
    // The outline is simple, but the points splitting its edges are rounded:
    // edges closer than that rounding could still cross.
    let mut crossing = None;
    let mut cdt = Cdt::try_bulk_load_cdt(points, edges, |e| {
        crossing.get_or_insert(e);
    })
    .map_err(insertion)?;
    if let Some(piece) = crossing {
        let [a, b] = piece.map(|v| {
            let p = cdt.vertex(FixedVertexHandle::from_index(v)).position();
            [p.x, p.y]
        });
        return Err(mesh_error(format!(
            "the outline's edges come too close to one another to triangulate: the piece from {a:?} to {b:?} crosses another once the edges are split to max_edge"
        )));
    }
    // Refinement grades the mesh down to the outline's pieces: allow for both.
    let budget = 10 * (estimate as usize + m) + 10_000;
    let mut outside = refine(&mut cdt, max_area, budget)?;
    // Refinement bounds areas and angles, not lengths: split the interior
    // edges still longer than max_edge at their midpoints, and refine again.
    for _ in 0..MAX_SPLIT_ROUNDS {
        let midpoints = long_edge_midpoints(&cdt, &outside, max_edge);
        if midpoints.is_empty() {
            break;
        }
        for p in midpoints {
            cdt.insert(p).map_err(insertion)?;
        }
        outside = refine(&mut cdt, max_area, budget)?;
    }
    // Keep the inner faces, and the vertices they use in the triangulation's
    // order (the subdivided outline first, from the counter-clockwise ring's
    // first vertex, then the added ones).
    let mut triangles: Vec<[usize; 3]> = cdt
        .inner_faces()
        .filter(|f| !outside[f.fix().index()])
        .map(|f| f.vertices().map(|v| v.fix().index()))
        .collect();
    let mut used = vec![false; cdt.num_vertices()];
    for &v in triangles.iter().flatten() {
        used[v] = true;
    }
    let mut index = vec![usize::MAX; cdt.num_vertices()];
    let mut vertices = Vec::new();
    for v in cdt.vertices().filter(|v| used[v.fix().index()]) {
        index[v.fix().index()] = vertices.len();
        vertices.push([v.position().x, v.position().y]);
    }
    for v in triangles.iter_mut().flatten() {
        *v = index[*v];
    }
    TriMesh::new(vertices, triangles)
}

/// Refines `cdt` in place to triangles of at most `max_area` with angles of
/// at least 30°; returns which faces (by index) lie outside the outline.
fn refine(cdt: &mut Cdt, max_area: f64, budget: usize) -> Result<Vec<bool>> {
    let refined = cdt.refine(
        RefinementParameters::new()
            .exclude_outer_faces(true)
            .with_angle_limit(AngleLimit::from_deg(30.0))
            .with_max_allowed_area(max_area)
            .with_max_additional_vertices(budget),
    );
    if !refined.refinement_complete {
        return Err(mesh_error(format!(
            "refining the polygon did not finish within {budget} added vertices: the outline has features (narrow gaps, nearly touching edges) far below max_edge; widen or remove them"
        )));
    }
    let mut outside = vec![false; cdt.num_all_faces()];
    for face in &refined.excluded_faces {
        outside[face.index()] = true;
    }
    Ok(outside)
}

/// Midpoints of the edges longer than `max_edge` between two inner faces
/// (outline edges are already short enough).
fn long_edge_midpoints(cdt: &Cdt, outside: &[bool], max_edge: f64) -> Vec<Point2<f64>> {
    let inner = |face: spade::handles::FaceHandle<'_, _, _, _, _, _>| {
        face.as_inner().is_some_and(|f| !outside[f.fix().index()])
    };
    cdt.undirected_edges()
        .filter(|e| {
            let d = e.as_directed();
            inner(d.face()) && inner(d.rev().face()) && e.length_2() > max_edge * max_edge
        })
        .map(|e| e.center())
        .collect()
}

/// The ring with each edge split into equal pieces no longer than
/// `max_edge`; the ring's own vertices are kept exactly.
fn subdivide(ring: &[[f64; 2]], max_edge: f64) -> Vec<[f64; 2]> {
    let n = ring.len();
    let mut points = Vec::new();
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        let pieces = ((b[0] - a[0]).hypot(b[1] - a[1]) / max_edge)
            .ceil()
            .max(1.0) as usize;
        points.push(a);
        for s in 1..pieces {
            let t = s as f64 / pieces as f64;
            points.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
        }
    }
    points
}

/// The area enclosed by a counter-clockwise ring.
fn polygon_area(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|k| {
            let (a, b) = (ring[k], ring[(k + 1) % n]);
            a[0] * b[1] - a[1] * b[0]
        })
        .sum::<f64>()
        / 2.0
}

/// The ring's length.
fn perimeter(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|k| {
            let (a, b) = (ring[k], ring[(k + 1) % n]);
            (b[0] - a[0]).hypot(b[1] - a[1])
        })
        .sum()
}

/// The triangulation's refusal of a coordinate, as a mesh error.
fn insertion(e: InsertionError) -> Error {
    mesh_error(format!(
        "the outline cannot be triangulated: {e:?}; coordinates must be 0 or between {:e} and {:e} in magnitude",
        spade::MIN_ALLOWED_VALUE,
        spade::MAX_ALLOWED_VALUE
    ))
}
