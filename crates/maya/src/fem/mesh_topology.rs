//! Tables read from a mesh's triangles alone: directed edges, the boundary,
//! and the vertex → triangle incidence that per-vertex gathers walk.

use super::edges::directed_edges;
use super::mesh::TriMesh;

/// Which triangles touch each vertex, in compressed-row form: the entries of
/// vertex `v` are `entries[offsets[v]..offsets[v + 1]]`, each a
/// `(triangle, local corner)` pair, sorted by triangle. Gathering per-element
/// values per vertex in this order gives the same sum on any thread count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incidence {
    /// Start of each vertex's entries, plus the total at the end
    /// (length V + 1, non-decreasing).
    pub offsets: Vec<usize>,
    /// `(triangle, local corner 0..3)` pairs, grouped by vertex and sorted
    /// by triangle within each group (length 3T).
    pub entries: Vec<(usize, u8)>,
}

impl Incidence {
    /// The `(triangle, local corner)` pairs of vertex `v`, sorted by
    /// triangle. Panics if `v` is not a vertex.
    #[track_caller]
    pub fn of(&self, v: usize) -> &[(usize, u8)] {
        &self.entries[self.offsets[v]..self.offsets[v + 1]]
    }

    /// Number of vertices covered.
    pub fn n_vertices(&self) -> usize {
        self.offsets.len() - 1
    }
}

impl TriMesh {
    /// Boundary edges: those used by one triangle only, each oriented as in
    /// its triangle, so counter-clockwise around the domain (the interior on
    /// the left; holes are walked clockwise). Listed in triangle order, then
    /// by local edge (corner 0 → 1, 1 → 2, 2 → 0).
    pub fn boundary_edges(&self) -> Vec<[usize; 2]> {
        let mut keys: Vec<(usize, usize)> = directed_edges(self.triangles())
            .map(|(from, to, _)| (from, to))
            .collect();
        keys.sort_unstable();
        directed_edges(self.triangles())
            .filter(|&(from, to, _)| keys.binary_search(&(to, from)).is_err())
            .map(|(from, to, _)| [from, to])
            .collect()
    }

    /// The vertices on the boundary (ends of [`TriMesh::boundary_edges`]),
    /// in increasing order.
    pub fn boundary_vertices(&self) -> Vec<usize> {
        let mut on_boundary = vec![false; self.n_vertices()];
        for [from, _] in self.boundary_edges() {
            on_boundary[from] = true;
        }
        (0..self.n_vertices()).filter(|&v| on_boundary[v]).collect()
    }

    /// The pairs of triangles that share an edge, `[a, b]` with a < b,
    /// sorted: the interior edges of the mesh, seen from their triangles
    /// (for smoothness penalties on per-triangle fields).
    ///
    /// ```
    /// use maya::fem::{rectangle, Diagonal};
    /// // Two cells side by side, each split along its diagonal: each
    /// // cell's pair shares the diagonal, and triangle 0 (right of cell 0)
    /// // shares the middle edge with triangle 3 (left of cell 1).
    /// let mesh = rectangle([0.0, 0.0], 2.0, 1.0, 2, 1, Diagonal::Right)?;
    /// assert_eq!(mesh.adjacent_triangles(), vec![[0, 1], [0, 3], [2, 3]]);
    /// # Ok::<(), maya::Error>(())
    /// ```
    pub fn adjacent_triangles(&self) -> Vec<[usize; 2]> {
        let mut edges: Vec<((usize, usize), usize)> = directed_edges(self.triangles())
            .map(|(from, to, t)| ((from.min(to), from.max(to)), t))
            .collect();
        edges.sort_unstable();
        let mut pairs: Vec<[usize; 2]> = edges
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| [w[0].1.min(w[1].1), w[0].1.max(w[1].1)])
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// The vertex → (triangle, local corner) incidence; see [`Incidence`].
    pub fn incidence(&self) -> Incidence {
        let n = self.n_vertices();
        let mut offsets = vec![0usize; n + 1];
        for tri in self.triangles() {
            for &v in tri {
                offsets[v + 1] += 1;
            }
        }
        for v in 0..n {
            offsets[v + 1] += offsets[v];
        }
        // Filling in triangle order keeps each vertex's entries sorted.
        let mut next = offsets.clone();
        let mut entries = vec![(0usize, 0u8); offsets[n]];
        for (t, tri) in self.triangles().iter().enumerate() {
            for (k, &v) in tri.iter().enumerate() {
                entries[next[v]] = (t, k as u8);
                next[v] += 1;
            }
        }
        Incidence { offsets, entries }
    }
}
