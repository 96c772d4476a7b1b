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
//! fₜ = −μ k ψ(d) · vₜ / √(vₜ² + ε²)              (regularised Coulomb)
//! ```
//!
//! with vₙ, vₜ the normal and tangential components of the velocity of a's
//! material point at p relative to b's, and ψ the [`Penalty`] function
//! (ReLU, or softplus of a chosen width). Every quantity is differentiable
//! in the bodies' states, masses and the material (k, c, μ).

mod friction;
pub mod pairs;
mod penalty;

pub use friction::{friction_force, friction_force_vjp};
pub use pairs::{ContactPoint, Feature, Ground};
pub use penalty::{
    damping_for_restitution, normal_force, normal_force_vjp, restitution_from_damping, Penalty,
};
