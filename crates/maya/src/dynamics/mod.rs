//! Particles: [`ParticleSystem`] (a model of the
//! [physics pipeline](crate::physics)), its built-in forces, spring
//! networks, and the free fused integrator steps.
//!
//! Every step is one fused tape node with a hand-written adjoint; the
//! elementary-op compositions they replace live in [`mod@reference`] and the
//! tests check that the two agree.

// Kernel loops index several arrays (positions, velocities, gradients) with
// one node or component index, as the equations do.
#![allow(clippy::needless_range_loop)]

mod checks;
mod integrators;
mod particles;
mod springs;

pub use crate::geometry::HalfPlane as Ground;
pub use crate::physics::BuiltinForces;
pub use crate::physics::{Element, NodeGrads, Nodes, Trajectory};
pub use integrators::{
    euler_step, lincomb, rk4_step, rk4_step_with, semi_implicit_euler_step, try_euler_step,
    try_lincomb, try_rk4_step, try_semi_implicit_euler_step, velocity_verlet_step,
};
#[cfg(feature = "gpu")]
pub(crate) use particles::Parts;
pub use particles::{Integrator, ParticleSystem};
pub use springs::SpringNetwork;

/// The fused steps composed from elementary ops: the references the fused
/// kernels are tested against (same values and gradients to rounding).
pub mod reference {
    pub use super::integrators::reference::*;
}
