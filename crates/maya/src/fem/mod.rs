//! 2D finite-element soft bodies: P1 triangles, plane strain, f64.
//!
//! The kernels here are the per-element mathematics, each with its
//! hand-written adjoint beside it:
//!
//! - [`material`]: hyperelastic models (linear, StVK, fixed corotated,
//!   Neo-Hookean) as ψ(F), P(F) and dP = `C[dF]`, each split linearly in the
//!   Lamé parameters (μ, λ) so the material gradient is free.
//! - [`triangle`]: one triangle's energy and corner forces from its corners,
//!   B = Dm⁻¹ and rest area, with the adjoint in positions, rest shape and
//!   material, and the true element stiffness.
//! - [`rest`]: the rest geometry (B, areas, lumped masses) of a whole mesh
//!   as one differentiable tape node, so gradients reach the rest shape.
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

mod mat2;
pub mod material;
pub mod rest;
#[cfg(test)]
mod testing;
pub mod triangle;

pub use material::{lame, try_lame, Mat2, MaterialModel};
pub use rest::{
    rest_geometry, rest_shape, rest_shape_vjp, try_rest_geometry, RestGeometry, MIN_AREA_RATIO,
};
pub use triangle::{
    deformation_gradient, triangle_energy, triangle_energy_grads, triangle_forces,
    triangle_forces_vjp, triangle_stiffness, triangle_stiffness_product, Corners, TriangleGrads,
};
