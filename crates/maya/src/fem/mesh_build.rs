//! Structured meshes of a rectangle, with a fixed, documented numbering.

use super::mesh::TriMesh;
use crate::error::{Error, Result};

/// How each cell of a structured [`rectangle`] is split. With the cell's
/// corners a = (i, j), b = (i + 1, j), c = (i + 1, j + 1), d = (i, j + 1):
///
/// ```
/// use maya::fem::{rectangle, Diagonal};
/// // One cell: a = 0, b = 2, c = 3, d = 1.
/// let tris = |d| rectangle([0.0, 0.0], 1.0, 1.0, 1, 1, d).map(|m| m.triangles().to_vec());
/// assert_eq!(tris(Diagonal::Right)?, vec![[0, 2, 3], [0, 3, 1]]);
/// assert_eq!(tris(Diagonal::Left)?, vec![[0, 2, 1], [2, 3, 1]]);
/// // The centre is vertex 4 = (nx + 1)(ny + 1).
/// assert_eq!(tris(Diagonal::Cross)?, vec![[0, 2, 4], [2, 3, 4], [3, 1, 4], [1, 0, 4]]);
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagonal {
    /// Diagonal a–c: triangles (a, b, c) and (a, c, d).
    Right,
    /// Diagonal b–d: triangles (a, b, d) and (b, c, d).
    Left,
    /// [`Diagonal::Right`] where i + j is even, [`Diagonal::Left`] where it
    /// is odd: a pattern with no preferred direction over two cells.
    Alternating,
    /// Both diagonals: a vertex m at the cell's centre and four triangles
    /// (a, b, m), (b, c, m), (c, d, m), (d, a, m). The centre of cell (i, j)
    /// is vertex (nx + 1)(ny + 1) + i·ny + j, after all grid vertices.
    Cross,
}

impl Diagonal {
    /// Triangles per cell.
    fn per_cell(self) -> usize {
        match self {
            Diagonal::Cross => 4,
            _ => 2,
        }
    }
}

/// The structured mesh of the rectangle [x0, x0 + width] × [y0, y0 + height]
/// with `nx` × `ny` cells, each split as `diagonal` says.
///
/// Numbering (fixed; code may rely on it):
/// - grid vertex (i, j), for i in 0..=nx and j in 0..=ny, has index
///   i·(ny + 1) + j and sits at (x0 + width·i/nx, y0 + height·j/ny);
/// - cells are taken in order i, then j, and cell (i, j) owns triangles
///   k·(i·ny + j) .. k·(i·ny + j) + k, with k triangles per cell, in the
///   order listed on [`Diagonal`]'s variants;
/// - [`Diagonal::Cross`] adds the cell centres after the grid vertices.
///
/// Errors: [`Error::Parameter`] for nx or ny of 0, or an origin, width or
/// height that is not finite (width and height also positive); a cell so
/// elongated that a triangle falls under [`TriMesh::MIN_RELATIVE_AREA`] is
/// [`Error::DegenerateElement`].
///
/// ```
/// use maya::fem::{rectangle, Diagonal};
/// let mesh = rectangle([0.0, 0.0], 4.0, 1.0, 8, 2, Diagonal::Right)?;
/// assert_eq!((mesh.n_vertices(), mesh.n_triangles()), (27, 32));
/// // Vertex (i, j) = (3, 1) is 3·3 + 1 = 10, at (1.5, 0.5).
/// assert_eq!(mesh.vertices()[10], [1.5, 0.5]);
/// // Cell (3, 1) owns triangles 2(3·2 + 1) = 14 and 15.
/// assert_eq!(mesh.triangles()[14], [10, 13, 14]);
/// assert_eq!(mesh.triangles()[15], [10, 14, 11]);
/// # Ok::<(), maya::Error>(())
/// ```
pub fn rectangle(
    origin: [f64; 2],
    width: f64,
    height: f64,
    nx: usize,
    ny: usize,
    diagonal: Diagonal,
) -> Result<TriMesh> {
    finite("origin x", origin[0])?;
    finite("origin y", origin[1])?;
    positive("width", width)?;
    positive("height", height)?;
    cells("nx", nx)?;
    cells("ny", ny)?;
    let [x0, y0] = origin;
    let grid = (nx + 1) * (ny + 1);
    let centres = if diagonal == Diagonal::Cross {
        nx * ny
    } else {
        0
    };
    let mut vertices = Vec::with_capacity(grid + centres);
    for i in 0..=nx {
        for j in 0..=ny {
            vertices.push([
                x0 + width * i as f64 / nx as f64,
                y0 + height * j as f64 / ny as f64,
            ]);
        }
    }
    if diagonal == Diagonal::Cross {
        for i in 0..nx {
            for j in 0..ny {
                vertices.push([
                    x0 + width * (i as f64 + 0.5) / nx as f64,
                    y0 + height * (j as f64 + 0.5) / ny as f64,
                ]);
            }
        }
    }
    let mut triangles = Vec::with_capacity(diagonal.per_cell() * nx * ny);
    let vertex = |i: usize, j: usize| i * (ny + 1) + j;
    for i in 0..nx {
        for j in 0..ny {
            let (a, b) = (vertex(i, j), vertex(i + 1, j));
            let (c, d) = (vertex(i + 1, j + 1), vertex(i, j + 1));
            let right = match diagonal {
                Diagonal::Right => true,
                Diagonal::Left => false,
                Diagonal::Alternating => (i + j) % 2 == 0,
                Diagonal::Cross => {
                    let m = grid + i * ny + j;
                    triangles.extend([[a, b, m], [b, c, m], [c, d, m], [d, a, m]]);
                    continue;
                }
            };
            if right {
                triangles.extend([[a, b, c], [a, c, d]]);
            } else {
                triangles.extend([[a, b, d], [b, c, d]]);
            }
        }
    }
    TriMesh::new(vertices, triangles)
}

/// A finite value.
fn finite(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        return Ok(());
    }
    Err(Error::Parameter {
        name,
        value,
        reason: "must be finite",
    })
}

/// A positive, finite length.
fn positive(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        return Ok(());
    }
    Err(Error::Parameter {
        name,
        value,
        reason: "must be positive and finite",
    })
}

/// At least one cell.
fn cells(name: &'static str, n: usize) -> Result<()> {
    if n > 0 {
        return Ok(());
    }
    Err(Error::Parameter {
        name,
        value: 0.0,
        reason: "the number of cells must be at least 1",
    })
}
