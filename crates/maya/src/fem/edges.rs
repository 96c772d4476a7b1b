//! The directed edges of a triangle list, and the check that no two
//! triangles traverse one edge the same way (read by the mesh's
//! constructor and by its topology tables).

use crate::error::{Error, Result};

/// The directed edges (from, to, triangle) of each triangle, in triangle
/// order and by local edge.
pub(crate) fn directed_edges(
    triangles: &[[usize; 3]],
) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    triangles
        .iter()
        .enumerate()
        .flat_map(|(t, tri)| (0..3).map(move |k| (tri[k], tri[(k + 1) % 3], t)))
}

/// No directed edge in two triangles. Counter-clockwise triangles that share
/// an edge traverse it in opposite directions, so a repeat means two
/// triangles overlap (or one is listed twice), and an edge in three or more
/// triangles always repeats a direction.
pub(crate) fn check_edges(triangles: &[[usize; 3]]) -> Result<()> {
    let mut edges: Vec<(usize, usize, usize)> = directed_edges(triangles).collect();
    edges.sort_unstable();
    match edges
        .windows(2)
        .find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
    {
        Some(w) => {
            let ((from, to, first), second) = (w[0], w[1].2);
            Err(Error::Mesh { reason: format!(
                "triangles {first} (corners {:?}) and {second} (corners {:?}) both use the edge from vertex {from} to vertex {to} in the same direction, so they overlap; each edge borders at most two triangles, one on each side",
                triangles[first], triangles[second]
            )})
        }
        None => Ok(()),
    }
}
