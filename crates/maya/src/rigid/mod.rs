//! 2D rigid bodies: shapes, mass properties, state and the fused,
//! differentiable step with penalty contact.
//!
//! A [`World`] holds the bodies' shapes, the ground, gravity, the time step
//! and the contact model. Its state lives on a [`TensorTape`](crate::TensorTape)
//! as a [`RigidState`]: poses `[B, 3]` (x, y, θ) and velocities `[B, 3]`
//! (vx, vy, ω), one row per body. [`World::step`] records one node per step:
//! a fused kernel that finds contacts, computes their forces and torques,
//! and takes a semi-implicit Euler step
//!
//! ```text
//! v' = v + dt (F/m, τ/I),   q' = q + dt v'
//! ```
//!
//! with a hand-written adjoint. Masses, inertias, the contact material
//! (stiffness, damping, friction) and external wrenches are tape values, so
//! gradients reach all of them.
//!
//! ```
//! use maya::rigid::{Material, Shape, World};
//! use maya::contact::{Ground, Penalty};
//! use maya::{Tensor, TensorTape};
//!
//! let mut world = World::new(1e-3);
//! world.set_ground(Ground::horizontal(0.0));
//! world.penalty = Penalty::Softplus { width: 1e-3 };
//! world.add_body(Shape::circle(0.1), 100.0);
//!
//! let t = TensorTape::new();
//! let state = world.state(&t, &[[0.0, 0.5, 0.0]], &[[1.0, 0.0, 0.0]]);
//! let params = world.params(&t, Material { stiffness: 1e5, damping: 50.0, friction: 0.3, restitution: 0.0 });
//! let end = world.rollout(&state, &params, 600).unwrap(); // 0.6 s: falls, bounces
//! let x = end.pose.slice(1, 0..1).sum();
//! let g = t.grad(x);
//! // Without the bounce ∂x/∂vx₀ would be 0.6 s; friction at the bounce lowers it.
//! let dx_dvx = g[state.velocity.idx()].data[0];
//! assert!(dx_dvx > 0.0 && dx_dvx < 0.6);
//! ```

mod body;
pub mod examples;
mod model;
#[cfg(test)]
mod reference;
mod state;
mod world;

pub use crate::geometry::{
    mass_properties, try_mass_properties, unit_mass_properties, MassProperties, Polygon, Shape,
};
pub use body::{try_wrench_at_points, wrench_at_points, Material, RigidParams, RigidState};
pub use world::World;
