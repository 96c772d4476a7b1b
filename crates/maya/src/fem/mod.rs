//! 2D finite-element soft bodies: P1 triangles, plane strain, f64, on the
//! one physics pipeline.
//!
//! - The mesh ([`TriMesh`]): topology and rest positions, checked once
//!   when built — structured rectangles ([`rectangle`]), polygons meshed by
//!   constrained Delaunay refinement ([`polygon`]), or a JSON file
//!   ([`TriMesh::load`]).
//! - [`material`]: hyperelastic models (linear, StVK, fixed corotated,
//!   Neo-Hookean) as ψ(F), P(F) and dP = `C[dF]`, each split linearly in the
//!   Lamé parameters (μ, λ) so the material gradient is free.
//! - [`triangle`]: one triangle's energy and corner forces from its corners,
//!   B = Dm⁻¹ and rest area, with the adjoint in positions, rest shape and
//!   material, and the true element stiffness.
//! - [`rest`]: the rest geometry (B, areas, lumped masses) of a whole mesh
//!   as one differentiable tape node, so gradients reach the rest shape.
//! - [`Elastic`]: a mesh's elastic forces as one pipeline element, and
//!   [`SoftBody`]: a mesh with its material fields made into a particle
//!   system of its vertices — every scheme (explicit, backward Euler),
//!   static equilibrium, fixed vertices, loads, gravity and the ground come
//!   from the pipeline.
//!
//! ```
//! use maya::fem::{lame, rest_shape, triangle_forces, MaterialModel};
//! let (mu, lam) = lame(1e4, 0.3);
//! let rest = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
//! let (b, area) = rest_shape(&rest);
//! // A rigid rotation by 90° stores no energy and produces no force.
//! let rotated = [[0.0, 0.0], [0.0, 1.0], [-1.0, 0.0]];
//! let f = triangle_forces(MaterialModel::NeoHookean, &rotated, &b, area, mu, lam).unwrap();
//! assert!(f.iter().flatten().all(|v| v.abs() < 1e-9));
//! ```

mod body;
mod edges;
mod element;
mod mat2;
pub mod material;
mod mesh;
mod mesh_build;
mod mesh_io;
#[cfg(test)]
mod mesh_tests;
mod mesh_topology;
mod outline;
pub mod rest;
mod stability;
#[cfg(test)]
mod testing;
pub mod triangle;
mod triangulate;

pub use body::SoftBody;
pub use element::Elastic;
pub use material::{lame, try_lame, Mat2, MaterialModel};
pub use mesh::TriMesh;
pub use mesh_build::{rectangle, Diagonal};
pub use mesh_topology::Incidence;
pub use rest::{
    rest_geometry, rest_shape, rest_shape_vjp, try_rest_geometry, RestGeometry, MIN_AREA_RATIO,
};
pub use triangle::{
    deformation_gradient, triangle_energy, triangle_energy_grads, triangle_forces,
    triangle_forces_vjp, triangle_stiffness, triangle_stiffness_product, Corners, TriangleGrads,
};
pub use triangulate::polygon;
