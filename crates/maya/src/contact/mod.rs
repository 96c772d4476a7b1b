//! Differentiable contact: penalty springs with damping, regularised
//! Coulomb friction, and the contact geometry of each pair of shapes.
//!
//! A contact between body a and body b (or the ground) is a point p, a unit
//! normal n pointing from b towards a, and a penetration depth d (> 0 when
//! the shapes overlap). Its force on a, applied at p (and the opposite force
//! on b), is
//!
//! ```text
//! f = fₙ n + fₜ t,   t = ẑ × n,
//! fₙ = k ψ(d) − c ψ′(d) vₙ                      (penalty + damping)
//! fₜ = −μ k ψ(d) · vₜ / √(vₜ² + ε_c²)            (regularised Coulomb)
//! ```
//!
//! with vₙ, vₜ the normal and tangential components of the velocity of a's
//! material point at p relative to b's, and ψ the [`Penalty`] function
//! (ReLU, or softplus of a chosen width), and ε_c² = ε² + (dt μ k ψ(d) w)²
//! with w the contact's inverse effective mass along t: the friction
//! regularisation, raised where an explicit step would otherwise make the
//! slip chatter (see [`friction_force`]'s module notes in the source,
//! `contact/friction.rs`). Every quantity is differentiable
//! in the bodies' states, masses and the material (k, c, μ).
//!
//! # How good are the gradients?
//!
//! Against the ideal (instantaneous, elastic) collision of two equal balls
//! head-on, whose gradients (∂x₂/∂x₁, ∂x₂/∂x₂₀, ∂v₂/∂v₁, ∂v₂/∂v₂₀) after the
//! collision are (1, 0, 1, 0) (a well-known simulator returns (0.75, 0.25,
//! 0.91, 0.08)), with 50 steps per contact duration
//! (`tests/rigid_collision_gradients.rs`):
//!
//! | k (N/m) | softplus, w = 1 mm: max error | ReLU: max error | ∂x₂/∂v₁ (ideal 0.5), softplus |
//! |---|---|---|---|
//! | 1e3 | 9e-7 | 2.9e-3 | 0.465 |
//! | 1e4 | 7e-13 | 9.1e-3 | 0.489 |
//! | 1e5 | 2e-12 | 2.9e-2 | 0.496 |
//! | 1e6 | 4e-11 | 9.1e-2 | 0.498 |
//!
//! An undamped penalty contact swaps the balls' velocities exactly and only
//! delays the exchange by its duration π/√(2k/m), so the four entries are
//! ideal at every stiffness, and the one entry that feels the delay,
//! ∂x₂/∂v₁, converges to the ideal T as k grows. With the smooth penalty
//! the discrete gradients keep this to round-off.
//!
//! The ReLU gradient is the exact derivative of a discrete map whose
//! pieces are steep: the damper switches on in full at the first step
//! with d > 0, so the result jumps as that step changes, and the slope
//! between the jumps depends on where in a step the contact starts. With
//! damping (restitution 0.5, 1 kg balls, dt = 1 ms) and the contact's
//! start swept over one step's travel, ∂x₂/∂x₁ (ideal 0.75) is off by up
//! to 0.05, 0.7 and 11 at k = 1e3, 1e4 and 1e5 under ReLU, and by 4e-6,
//! 2e-5 and 7e-5 under softplus with w = 1 mm
//! (`tests/issue_9_penalty_default.rs`). Softplus is therefore the
//! default of a [`World`](crate::rigid::World); keep its width above the
//! travel per step.

// Kernel loops index several arrays (positions, velocities, gradients) with
// one node or component index, as the equations do.
#![allow(clippy::needless_range_loop)]

pub mod complementarity;
mod element;
mod friction;
pub(crate) mod law;
pub mod pairs;
mod penalty;

pub use complementarity::{ComplementarityOptions, ContactModel};
pub(crate) use element::PenaltyContact;
pub use friction::{friction_force, friction_force_vjp};
pub use pairs::{ContactPoint, Feature};

/// The ground of a rigid world: a [`HalfPlane`](crate::geometry::HalfPlane)
/// (the same type as a particle system's ground).
pub type Ground = crate::geometry::HalfPlane;
pub use penalty::{
    damping_for_restitution, normal_force, normal_force_vjp, restitution_from_damping, Penalty,
};
