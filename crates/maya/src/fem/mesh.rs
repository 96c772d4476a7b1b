//! `TriMesh`: rest vertex positions and counter-clockwise P1 triangles,
//! checked once when built, and the measures read from them (areas, edge
//! lengths, quality).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A 2D triangle mesh (P1): rest vertex positions and counter-clockwise
/// triangles. Topology is not differentiable; the rest positions become a
/// tape value when simulated.
///
/// Every mesh has passed the checks of [`TriMesh::new`], so its triangles
/// all have positive area and every vertex belongs to a triangle.
///
/// ```
/// use maya::fem::TriMesh;
/// // The unit square as two triangles.
/// let mesh = TriMesh::new(
///     vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
///     vec![[0, 1, 2], [0, 2, 3]],
/// )?;
/// assert_eq!((mesh.n_vertices(), mesh.n_triangles()), (4, 2));
/// assert_eq!(mesh.rest_tensor().shape, vec![4, 2]);
/// assert_eq!(mesh.signed_areas(), vec![0.5, 0.5]);
/// assert_eq!(mesh.min_edge_length(), 1.0);
/// assert!((mesh.min_altitude() - 0.5f64.sqrt()).abs() < 1e-15);
/// // Right isosceles triangles: 4√3 · ½ / (1 + 1 + 2) = √3/2.
/// assert!((mesh.min_quality() - 3f64.sqrt() / 2.0).abs() < 1e-15);
/// // The clamped left side, for a Dirichlet boundary.
/// assert_eq!(mesh.vertices_where(|[x, _]| x == 0.0), vec![0, 3]);
/// // Counter-clockwise around the square.
/// assert_eq!(mesh.boundary_edges(), vec![[0, 1], [1, 2], [2, 3], [3, 0]]);
/// // Vertex 2 is corner 2 of triangle 0 and corner 1 of triangle 1.
/// assert_eq!(mesh.incidence().of(2), &[(0, 2), (1, 1)]);
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TriMesh {
    vertices: Vec<[f64; 2]>,
    triangles: Arc<Vec<[usize; 3]>>,
}

impl TriMesh {
    /// The smallest accepted ratio of a triangle's area to the square of its
    /// longest edge. An equilateral triangle has √3/4 ≈ 0.43; under 1e-12
    /// the triangle's height is below 2e-12 of its longest edge, so its
    /// shape matrix is singular to working precision.
    pub const MIN_RELATIVE_AREA: f64 = 1e-12;

    /// A mesh from its vertex positions and triangles (corner indices into
    /// `vertices`), after checking, in this order:
    ///
    /// - at least one triangle (else [`Error::Mesh`]);
    /// - finite coordinates ([`Error::Mesh`] naming the vertex);
    /// - every corner index below the vertex count, and no corner repeated
    ///   within a triangle ([`Error::Mesh`] naming the triangle);
    /// - every triangle counter-clockwise with signed area above
    ///   [`TriMesh::MIN_RELATIVE_AREA`] × (its longest edge)²
    ///   ([`Error::DegenerateElement`] naming the triangle, its area, corners
    ///   and that threshold);
    /// - no directed edge used by two triangles: two counter-clockwise
    ///   triangles that share an edge traverse it in opposite directions, so
    ///   a repeat means overlapping or duplicated triangles ([`Error::Mesh`]
    ///   naming both);
    /// - every vertex used by a triangle: an unused one would have no mass
    ///   ([`Error::Mesh`] naming them).
    ///
    /// ```
    /// use maya::{fem::TriMesh, Error};
    /// let square = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    /// assert!(TriMesh::new(square.clone(), vec![[0, 1, 2], [0, 2, 3]]).is_ok());
    /// // (0, 2, 1) is clockwise.
    /// let err = TriMesh::new(square, vec![[0, 2, 1], [0, 2, 3]]).unwrap_err();
    /// assert!(matches!(err, Error::DegenerateElement { element: 0, .. }));
    /// ```
    pub fn new(vertices: Vec<[f64; 2]>, triangles: Vec<[usize; 3]>) -> Result<TriMesh> {
        if triangles.is_empty() {
            return Err(mesh_error(format!(
                "no triangles ({} vertices); a mesh needs at least one triangle",
                vertices.len()
            )));
        }
        check_finite(&vertices)?;
        for (t, &tri) in triangles.iter().enumerate() {
            check_corners(t, tri, vertices.len())?;
            check_area(t, tri, &vertices)?;
        }
        super::edges::check_edges(&triangles)?;
        check_all_used(&triangles, vertices.len())?;
        Ok(TriMesh {
            vertices,
            triangles: Arc::new(triangles),
        })
    }

    /// Rest vertex positions.
    pub fn vertices(&self) -> &[[f64; 2]] {
        &self.vertices
    }

    /// Triangles as vertex indices, counter-clockwise.
    pub fn triangles(&self) -> &[[usize; 3]] {
        &self.triangles
    }

    /// The triangles behind a shared pointer, so that tape kernels can hold
    /// the topology without copying it.
    pub fn triangles_arc(&self) -> &Arc<Vec<[usize; 3]>> {
        &self.triangles
    }

    /// Number of vertices.
    pub fn n_vertices(&self) -> usize {
        self.vertices.len()
    }

    /// Number of triangles.
    pub fn n_triangles(&self) -> usize {
        self.triangles.len()
    }

    /// Rest positions as a `[V, 2]` tensor (row v is vertex v).
    pub fn rest_tensor(&self) -> Tensor {
        let data = self.vertices.iter().flatten().copied().collect();
        Tensor::from_data(data, vec![self.vertices.len(), 2])
    }

    /// The vertices whose rest position satisfies `f`, in increasing order:
    /// for example the clamped side of a Dirichlet boundary.
    pub fn vertices_where(&self, f: impl Fn([f64; 2]) -> bool) -> Vec<usize> {
        (0..self.vertices.len())
            .filter(|&v| f(self.vertices[v]))
            .collect()
    }

    /// The corner positions of triangle `t`.
    fn corners(&self, t: usize) -> [[f64; 2]; 3] {
        self.triangles[t].map(|v| self.vertices[v])
    }

    /// Signed rest area of each triangle (all positive: the mesh is checked
    /// counter-clockwise).
    pub fn signed_areas(&self) -> Vec<f64> {
        (0..self.n_triangles())
            .map(|t| signed_area(self.corners(t)))
            .collect()
    }

    /// Total rest area (the sum of [`TriMesh::signed_areas`], in triangle
    /// order).
    pub fn total_area(&self) -> f64 {
        self.signed_areas().iter().sum()
    }

    /// The shortest edge length over all triangles.
    pub fn min_edge_length(&self) -> f64 {
        (0..self.n_triangles())
            .flat_map(|t| edge_lengths(self.corners(t)))
            .fold(f64::INFINITY, f64::min)
    }

    /// The smallest altitude over all triangles (2A / longest edge of each):
    /// the length that sets an explicit time step, smaller than
    /// [`TriMesh::min_edge_length`] on slender triangles.
    pub fn min_altitude(&self) -> f64 {
        (0..self.n_triangles())
            .map(|t| {
                let p = self.corners(t);
                let longest = edge_lengths(p).into_iter().fold(0.0, f64::max);
                2.0 * signed_area(p) / longest
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// The shape quality of each triangle, 4√3·A / Σ(edge²): 1 for an
    /// equilateral triangle, towards 0 for a sliver.
    pub fn qualities(&self) -> Vec<f64> {
        (0..self.n_triangles())
            .map(|t| {
                let p = self.corners(t);
                let sum_sq: f64 = edge_lengths(p).iter().map(|l| l * l).sum();
                4.0 * 3f64.sqrt() * signed_area(p) / sum_sq
            })
            .collect()
    }

    /// The worst (smallest) of [`TriMesh::qualities`], for a mesh-quality
    /// report.
    pub fn min_quality(&self) -> f64 {
        self.qualities().into_iter().fold(f64::INFINITY, f64::min)
    }
}

/// The signed area of triangle (a, b, c), positive when
/// counter-clockwise.
pub(crate) fn signed_area([a, b, c]: [[f64; 2]; 3]) -> f64 {
    0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
}

/// Lengths of the edges (a, b), (b, c), (c, a).
fn edge_lengths([a, b, c]: [[f64; 2]; 3]) -> [f64; 3] {
    let len = |p: [f64; 2], q: [f64; 2]| (q[0] - p[0]).hypot(q[1] - p[1]);
    [len(a, b), len(b, c), len(c, a)]
}

/// An [`Error::Mesh`] with the given reason.
pub(crate) fn mesh_error(reason: String) -> Error {
    Error::Mesh { reason }
}

/// Every coordinate finite.
fn check_finite(vertices: &[[f64; 2]]) -> Result<()> {
    match vertices
        .iter()
        .position(|p| !(p[0].is_finite() && p[1].is_finite()))
    {
        Some(v) => Err(mesh_error(format!(
            "vertex {v} has a non-finite coordinate {:?}",
            vertices[v]
        ))),
        None => Ok(()),
    }
}

/// Corner indices in range and distinct.
fn check_corners(t: usize, tri: [usize; 3], n_vertices: usize) -> Result<()> {
    if let Some(k) = tri.iter().position(|&v| v >= n_vertices) {
        return Err(mesh_error(format!(
            "triangle {t} (corners {tri:?}) has corner {k} = {}, but there are only {n_vertices} vertices",
            tri[k]
        )));
    }
    if tri[0] == tri[1] || tri[1] == tri[2] || tri[0] == tri[2] {
        return Err(mesh_error(format!(
            "triangle {t} (corners {tri:?}) repeats a vertex; a triangle needs three distinct corners"
        )));
    }
    Ok(())
}

/// Counter-clockwise with area above the relative threshold.
fn check_area(t: usize, tri: [usize; 3], vertices: &[[f64; 2]]) -> Result<()> {
    let p = tri.map(|v| vertices[v]);
    let area = signed_area(p);
    let longest = edge_lengths(p).into_iter().fold(0.0, f64::max);
    let min_area = TriMesh::MIN_RELATIVE_AREA * longest * longest;
    // A non-finite area comes from coordinates so large that products overflow.
    if !area.is_finite() || area <= min_area {
        return Err(Error::DegenerateElement {
            element: t,
            area,
            corners: tri,
            min_area,
        });
    }
    Ok(())
}

/// Every vertex a corner of some triangle.
fn check_all_used(triangles: &[[usize; 3]], n_vertices: usize) -> Result<()> {
    let mut used = vec![false; n_vertices];
    for tri in triangles {
        for &v in tri {
            used[v] = true;
        }
    }
    let unused: Vec<usize> = (0..n_vertices).filter(|&v| !used[v]).collect();
    if unused.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 10;
    let more = match unused.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let (count, them) = match unused.len() {
        1 => ("1 vertex is".to_string(), "it"),
        n => (format!("{n} vertices are"), "them"),
    };
    Err(mesh_error(format!(
        "{count} used by no triangle: {:?}{more}; an unused vertex would have no mass, so remove {them}",
        &unused[..unused.len().min(SHOWN)]
    )))
}
