//! Finite-element soft bodies in 2D: P1 (linear) triangles.
//!
//! The mesh ([`TriMesh`]) is topology and rest positions, checked once when
//! built: structured rectangles ([`rectangle`]), polygons meshed by
//! constrained Delaunay refinement ([`polygon`]), or a JSON file
//! ([`TriMesh::load`]).

mod mesh;
mod mesh_build;
mod mesh_io;
#[cfg(test)]
mod mesh_tests;
mod mesh_topology;
mod outline;
mod triangulate;

pub use mesh::TriMesh;
pub use mesh_build::{rectangle, Diagonal};
pub use mesh_topology::Incidence;
pub use triangulate::polygon;
