//! The physics pipeline: particles, rigid bodies and (next) finite
//! elements are one pipeline, not three.
//!
//! - A **model** is tape-free (topology, shapes, which elements act); its
//!   **params** and **state** are tape values.
//! - An [`Element`] is the one extension point for physics: a force with
//!   its hand-written adjoint, declared parameters and saved state.
//!   [`LocalForces`] compose node-local forces statically into the step's
//!   per-node loop (the fast path).
//! - A [`Scheme`] owns time stepping and its adjoint, written once over a
//!   [`Tableau`]; backward Euler (`Integrator::BackwardEuler`) steps implicitly by Newton and
//!   differentiates by the implicit function theorem.
//! - **One step kernel** sums the elements' forces, applies the inverse
//!   mass ([`MassModel`]: a diagonal per particle, or (m, m, I) per rigid
//!   body) and the scheme; **one [`rollout`]** records all states, the
//!   last, or checkpointed segments ([`Record`]) and returns `Result`.

// Kernel loops index several arrays (positions, velocities, gradients) with
// one node or component index, as the equations do.
#![allow(clippy::needless_range_loop)]

mod backward_euler;
mod block;
mod builtin;
pub(crate) mod element;
mod lanes;
mod layout;
mod load;
mod local;
mod memory;
mod multistep;
mod record;
mod rollout;
mod scheme;
mod spec;
mod stability;
mod stages;
mod step;
mod stepper;

pub use builtin::{BuiltinEnv, BuiltinForces};
pub(crate) use element::{check_param_count, DynElement};
pub use element::{dot, Element, NodeGrads, Nodes, Triplets};
pub(crate) use layout::check_masses;
pub use layout::MassModel;
pub use load::NodalLoad;
pub use local::{LocalForces, LOCAL_PARAMS_MAX};
#[doc(hidden)]
pub use multistep::Ran;
pub(crate) use rollout::rollout_from;
pub use rollout::{recording_bytes, rollout, Model, Record, Trajectory};
pub(crate) use scheme::{advance, advance_adjoint};
pub use scheme::{Euler, Rk4, Scheme, SemiImplicitEuler, Tableau, VelocityVerlet};
pub(crate) use spec::StepSpec;
pub use spec::MAX_DIM;
pub use stability::StabilityLimit;
pub use stepper::Stepper;
pub(crate) use stepper::{record_equilibrium, Explicit, Implicit};
