//! Mesh files: JSON `{"vertices": [[x, y], ...], "triangles": [[i, j, k], ...]}`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::mesh::{mesh_error, TriMesh};
use crate::error::{Error, Result};

/// The file's shape. Unknown keys are refused, so that a misspelt one is
/// not silently ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeshFile {
    vertices: Vec<[f64; 2]>,
    triangles: Vec<[usize; 3]>,
}

impl TriMesh {
    /// A mesh from JSON text of the form
    /// `{"vertices": [[x, y], ...], "triangles": [[i, j, k], ...]}`
    /// (corner indices from 0, triangles counter-clockwise).
    ///
    /// Malformed JSON, a missing or unknown key, or a value of the wrong
    /// type is [`Error::Mesh`] naming the line and column; the mesh itself
    /// then passes the checks of [`TriMesh::new`], whose errors name the
    /// triangle or vertex.
    ///
    /// ```
    /// use maya::fem::TriMesh;
    /// let text = r#"{"vertices": [[0, 0], [1, 0], [0, 1]], "triangles": [[0, 1, 2]]}"#;
    /// let mesh = TriMesh::from_json(text)?;
    /// assert_eq!(mesh.total_area(), 0.5);
    /// let err = TriMesh::from_json("{\"vertices\": [[0, 0],\n [1, 0] [0, 1]]}").unwrap_err();
    /// assert!(err.to_string().contains("line 2, column 9"), "{err}");
    /// # Ok::<(), maya::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<TriMesh> {
        let file: MeshFile = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        TriMesh::new(file.vertices, file.triangles)
    }

    /// The mesh as JSON that [`TriMesh::from_json`] reads back exactly: one
    /// vertex or triangle per line, each coordinate in the shortest form
    /// that round-trips.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n  \"vertices\": [\n");
        for (v, [x, y]) in self.vertices().iter().enumerate() {
            // `{:?}` of a finite f64 is its shortest round-trip form, and a
            // valid JSON number (the mesh has no non-finite coordinate).
            let sep = if v + 1 < self.n_vertices() { "," } else { "" };
            let _ = writeln!(out, "    [{x:?}, {y:?}]{sep}");
        }
        out.push_str("  ],\n  \"triangles\": [\n");
        for (t, [a, b, c]) in self.triangles().iter().enumerate() {
            let sep = if t + 1 < self.n_triangles() { "," } else { "" };
            let _ = writeln!(out, "    [{a}, {b}, {c}]{sep}");
        }
        out.push_str("  ]\n}\n");
        out
    }

    /// [`TriMesh::from_json`] of a file. A file that cannot be read, and
    /// malformed JSON or an [`Error::Mesh`] from the checks, is an
    /// [`Error::Mesh`] that names the path.
    ///
    /// ```
    /// use maya::fem::{rectangle, Diagonal, TriMesh};
    /// let mesh = rectangle([0.0, 0.0], 2.0, 1.0, 4, 2, Diagonal::Alternating)?;
    /// let name = format!("maya_doc_trimesh_{}.json", std::process::id());
    /// let path = std::env::temp_dir().join(name);
    /// mesh.save(&path)?;
    /// let text = std::fs::read_to_string(&path).unwrap();
    /// assert!(text.starts_with("{\n  \"vertices\": [\n    [0.0, 0.0],\n"), "{text}");
    /// assert_eq!(TriMesh::load(&path)?, mesh);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), maya::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<TriMesh> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| mesh_error(format!("cannot read {}: {e}", path.display())))?;
        TriMesh::from_json(&text).map_err(|e| match e {
            Error::Mesh { reason } => mesh_error(format!("{}: {reason}", path.display())),
            other => other,
        })
    }

    /// Writes [`TriMesh::to_json`] to a file (replacing it). A file that
    /// cannot be written is an [`Error::Mesh`] that names the path.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json())
            .map_err(|e| mesh_error(format!("cannot write {}: {e}", path.display())))
    }
}

/// A JSON error as [`Error::Mesh`], with its line and column first.
fn json_error(e: &serde_json::Error) -> Error {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    mesh_error(format!(
        "JSON at line {}, column {}: {message}; a mesh file is {{\"vertices\": [[x, y], ...], \"triangles\": [[i, j, k], ...]}}",
        e.line(),
        e.column()
    ))
}
