//! Checks of a polygon outline before it is meshed: enough finite vertices,
//! no zero-length edge, no self-intersection (exact orientation tests), and
//! its orientation.

use robust::{orient2d, Coord};

use super::mesh::mesh_error;
use crate::error::Result;

/// The outline's vertices counter-clockwise from its first one, after the
/// checks listed on [`polygon`](super::polygon). A last vertex equal to the
/// first (a closed ring) is dropped; indices in errors are those of
/// `outline` as given.
pub(crate) fn counter_clockwise(outline: &[[f64; 2]]) -> Result<Vec<[f64; 2]>> {
    let mut points = outline.to_vec();
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    let n = points.len();
    if n < 3 {
        return Err(mesh_error(format!(
            "a polygon outline needs at least 3 distinct vertices, got {n}"
        )));
    }
    if let Some(k) = points
        .iter()
        .position(|p| !(p[0].is_finite() && p[1].is_finite()))
    {
        return Err(mesh_error(format!(
            "outline vertex {k} has a non-finite coordinate {:?}",
            points[k]
        )));
    }
    for k in 0..n {
        let l = (k + 1) % n;
        if points[k] == points[l] {
            return Err(mesh_error(format!(
                "outline edge {k} (vertex {k} → {l}) has zero length: both vertices are at {:?}; remove the repeated vertex",
                points[k]
            )));
        }
    }
    if let Some((k, l)) = first_intersection(&points) {
        let edge = |e: usize| {
            let f = (e + 1) % n;
            format!(
                "edge {e} (vertex {e} {:?} → vertex {f} {:?})",
                points[e], points[f]
            )
        };
        return Err(mesh_error(format!(
            "the outline intersects itself: {} and {} touch, cross or overlap; a polygon outline must be simple (only consecutive edges meet, at their shared vertex)",
            edge(k),
            edge(l)
        )));
    }
    // Shoelace about the first vertex: twice the signed area.
    let p0 = points[0];
    let twice_area: f64 = (1..n - 1)
        .map(|k| {
            let (a, b) = (points[k], points[k + 1]);
            (a[0] - p0[0]) * (b[1] - p0[1]) - (a[1] - p0[1]) * (b[0] - p0[0])
        })
        .sum();
    if twice_area < 0.0 {
        // Reverse, keeping the first vertex first.
        points[1..].reverse();
    }
    Ok(points)
}

/// The outline's edges (k, k + 1) that meet other than at a shared vertex:
/// the lexicographically first such pair (k < l), or `None` if the outline
/// is simple. A sweep over x prunes pairs whose bounding boxes are apart.
fn first_intersection(points: &[[f64; 2]]) -> Option<(usize, usize)> {
    let n = points.len();
    let ends = |e: usize| (points[e], points[(e + 1) % n]);
    let x_range = |e: usize| {
        let (a, b) = ends(e);
        (a[0].min(b[0]), a[0].max(b[0]))
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&e, &f| x_range(e).0.total_cmp(&x_range(f).0).then(e.cmp(&f)));
    let mut first: Option<(usize, usize)> = None;
    for (pos, &e) in order.iter().enumerate() {
        let x_max = x_range(e).1;
        for &f in &order[pos + 1..] {
            if x_range(f).0 > x_max {
                break;
            }
            let (k, l) = (e.min(f), e.max(f));
            if first.is_some_and(|best| best <= (k, l)) || !edges_meet(points, k, l) {
                continue;
            }
            first = Some((k, l));
        }
    }
    first
}

/// Whether outline edges k < l meet other than at a vertex they share.
fn edges_meet(points: &[[f64; 2]], k: usize, l: usize) -> bool {
    let n = points.len();
    let (a, b) = (points[k], points[(k + 1) % n]);
    let (c, d) = (points[l], points[(l + 1) % n]);
    if l == k + 1 {
        // Consecutive: (a, b) then (b, d). They overlap if d lies on the line
        // through a and b, on a's side of b (the outline doubles back).
        return doubles_back(a, b, d);
    }
    if k == 0 && l == n - 1 {
        // The closing edge (c, a) then (a, b).
        return doubles_back(c, a, b);
    }
    segments_meet(a, b, c, d)
}

/// Whether the path a → s → b turns back on itself along one line.
fn doubles_back(a: [f64; 2], s: [f64; 2], b: [f64; 2]) -> bool {
    orient(a, s, b) == 0.0 && (a[0] - s[0]) * (b[0] - s[0]) + (a[1] - s[1]) * (b[1] - s[1]) > 0.0
}

/// Whether the closed segments [a, b] and [c, d] share a point.
fn segments_meet(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return true;
    }
    (o1 == 0.0 && within(a, b, c))
        || (o2 == 0.0 && within(a, b, d))
        || (o3 == 0.0 && within(c, d, a))
        || (o4 == 0.0 && within(c, d, b))
}

/// Whether p, known to be on the line through a and b, lies on [a, b].
fn within(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> bool {
    (a[0].min(b[0])..=a[0].max(b[0])).contains(&p[0])
        && (a[1].min(b[1])..=a[1].max(b[1])).contains(&p[1])
}

/// The exact sign of the turn a → b → c (positive when counter-clockwise).
fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    let coord = |p: [f64; 2]| Coord { x: p[0], y: p[1] };
    orient2d(coord(a), coord(b), coord(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clockwise_square_is_reversed_and_a_closed_ring_loses_its_last_vertex() {
        let cw = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]];
        let ccw = counter_clockwise(&cw).unwrap();
        assert_eq!(ccw, vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    }

    #[test]
    fn touching_and_overlapping_edges_are_found() {
        // A bow tie: edges 0 and 2 cross.
        let bow = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        assert_eq!(first_intersection(&bow), Some((0, 2)));
        // Vertex 3 touches edge 0 at its midpoint.
        let touch = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        assert_eq!(first_intersection(&touch), Some((0, 2)));
        // The outline doubles back along a line at vertex 2.
        let spike = [[0.0, 0.0], [2.0, 0.0], [3.0, 0.0], [1.0, 0.0], [1.0, 1.0]];
        assert_eq!(first_intersection(&spike), Some((0, 2)));
        // Collinear consecutive edges that go on are fine.
        let straight = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 1.0]];
        assert_eq!(first_intersection(&straight), None);
    }
}
