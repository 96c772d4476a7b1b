//! Differentiable dynamics: integrators, particle systems, forces, spring
//! networks and rollouts.
//!
//! Every step is one fused tape node with a hand-written adjoint; the
//! elementary-op compositions they replace live in [`mod@reference`] and the
//! tests check that the two agree.

// Kernel loops index several arrays (positions, velocities, gradients) with
// one particle or component index, as the equations do.
#![allow(clippy::needless_range_loop)]

/// Calls the body with `$dd` a literal for D = 2 and 3, so that the
/// `#[inline(always)]` loops it calls are specialised to that dimension.
macro_rules! dispatch_dim {
    ($d:expr, |$dd:ident| $body:expr) => {
        match $d {
            2 => {
                let $dd = 2;
                $body
            }
            3 => {
                let $dd = 3;
                $body
            }
            $dd => $body,
        }
    };
}

pub mod forces;
mod fused;
mod integrators;
mod particle_step;
mod particles;
mod rollout;
mod springs;

pub use forces::{Drag, Force, Gravity, Ground, Span, SpanGrads};
pub use integrators::{
    euler_step, lincomb, rk4_step, rk4_step_with, semi_implicit_euler_step, try_euler_step,
    try_lincomb, try_rk4_step, try_semi_implicit_euler_step, velocity_verlet_step,
};
pub use particle_step::Integrator;
pub use particles::ParticleSystem;
pub use rollout::Trajectory;
pub use springs::SpringNetwork;

/// The fused steps composed from elementary ops: the references the fused
/// kernels are tested against (same values and gradients to rounding).
pub mod reference {
    pub use super::integrators::reference::*;
}
