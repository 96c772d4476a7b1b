//! Contact as a complementarity problem relaxed to its central point, with
//! gradients by the implicit function theorem.
//!
//! Each step of a rigid [`World`](crate::rigid::World) with
//! [`ContactModel::Complementarity`] solves, at velocity level, for the
//! bodies' new velocities v (3 per body) and, per candidate contact i (gap
//! φᵢ < d̂), the normal impulse λₙ, the two friction half-cone impulses λ₊,
//! λ₋ (in 2D the Coulomb cone |λₜ| ≤ μλₙ is exactly two half-planes) and
//! the sliding-speed slack γ:
//!
//! ```text
//! M (v − v_free) = Σᵢ nᵢ λₙ + tᵢ (λ₊ − λ₋),    v_free = v + h M⁻¹ f_ext
//! sₙ = φᵢ/h + nᵢ·v     λₙ sₙ = κᵢ     (the gap at the step's end, over h)
//! s₊ = γ + tᵢ·v        λ₊ s₊ = κᵢ
//! s₋ = γ − tᵢ·v        λ₋ s₋ = κᵢ
//! s_γ = μλₙ − λ₊ − λ₋  γ s_γ  = κᵢ
//! λ, γ, s > 0,   κᵢ = κ (1 − φᵢ/d̂)³,   q' = q + h v
//! ```
//!
//! with nᵢ, tᵢ the contact's normal and tangent Jacobian rows (1 × 3B, from
//! the pair geometry of [`pairs`](crate::contact::pairs)). At κ = 0 this is
//! the Stewart–Trinkle LCP: exact Coulomb friction, and inelastic contact
//! that lands exactly on the surface (the φ/h term). The relaxation λs = κ
//! is a force at a distance: κ is in joules (N·s × m/s), a body of mass m
//! resting under gravity g on one contact floats at the gap κ/(m g)
//! whatever the time step (on k contacts sharing its weight, k κ/(m g)),
//! and the taper makes the force vanish smoothly (C²) at d̂ so contacts
//! enter and leave the problem without a jump. Small κ is close to hard
//! contact; larger κ smooths the map and its gradients.
//!
//! How close, measured (`tests/rigid_complementarity.rs`): a head-on
//! inelastic collision of 1 kg and 3 kg circles at κ = 1e-10 J matches the
//! hard closed form to 1e-6 m in position and 2.3e-6 in ∂x₂/∂x₁ (8e-8 in
//! the velocity and mass gradients); a box sliding to rest at κ = 1e-10 J
//! stops within 2e-9 m of the discrete Coulomb distance, with ∂d/∂v₀ and
//! ∂d/∂μ within 2e-8; a box on a slope (μ = 0.5) sticks at 20° (creep
//! 8e-9 m, ∂x/∂μ = 7e-8) and slides at 35° within 3e-8 m of
//! ½ g(sin θ − μ cos θ) T(T + h), ∂x/∂μ within 2e-7; at κ = 1e-3 J a 20-step rollout with five contacts
//! and friction agrees with central differences of the same model to
//! 6e-7 relative. As κ → 0 the adjoint loses digits (about 6e-4 at
//! κ = 1e-12 J in the collision): the normal slack s ≈ κ/λ of a touching
//! contact is a small difference of velocities.
//!
//! Without friction (μ = 0) the cone is empty, so the friction pairs drop
//! out; the gradient w.r.t. μ there is 0 (one-sided). The φ/h term is not
//! capped for penetrating contacts (φ < 0): they are pushed out within one
//! step. Restitution, time-of-impact correction, warm starts and a
//! gradient w.r.t. κ are not implemented yet.
//!
//! The solver is a Mehrotra predictor–corrector interior point method
//! solved to the exact central point for the given κ (so the smoothed model
//! is a well-defined function of its inputs), with each contact eliminated
//! onto the 3B × 3B body-velocity system H = M + Σ Gᵀ B⁻¹ Z G, factored by
//! a dense faer LU. A step that does not converge within
//! [`ComplementarityOptions::max_iter`], a singular H or a non-finite
//! iterate is [`Error::Solve`](crate::Error::Solve) naming the step,
//! iterations, residual (and the contact furthest from convergence);
//! coincident circle centres are
//! [`Error::DegenerateContact`](crate::Error::DegenerateContact). The
//! gradient is the implicit function theorem at the solution: one
//! transposed solve with H at the converged point, reaching the initial
//! poses and velocities, masses, inertias, the friction coefficient,
//! gravity and external wrenches. A step keeps O(bodies + contacts)
//! numbers for its adjoint.
//!
//! ```
//! use maya::contact::{ComplementarityOptions, ContactModel, Ground};
//! use maya::rigid::{Material, Shape, World};
//! use maya::TensorTape;
//!
//! let mut world = World::new(1e-2)
//!     .with_contact(ContactModel::Complementarity(ComplementarityOptions::gradients()));
//! world.set_ground(Ground::horizontal(0.0));
//! world.add_body(Shape::rect(0.2, 0.2), 25.0); // 1 kg
//! let t = TensorTape::new();
//! let s0 = world.state(&t, &[[0.0, 0.1, 0.0]], &[[1.0, 0.0, 0.0]]);
//! let p = world.params(&t, Material { stiffness: 0.0, damping: 0.0, friction: 0.5, restitution: 0.0 });
//! let end = world.rollout(&s0, &p, 30).unwrap();
//! // It slides to rest near v₀²/(2μg) ≈ 0.1 m, floating 2κ/(m g) ≈ 2 µm up
//! // on its two bottom corners.
//! let [x, y, _] = [0, 1, 2].map(|k| end.pose.value().data[k]);
//! assert!(x > 0.09 && x < 0.12, "{x}");
//! assert!((y - 0.1).abs() < 1e-5, "{y}");
//! ```

mod options;
mod problem;
mod solver;
mod step;
mod system;

pub use options::{ComplementarityOptions, ContactModel};
pub(crate) use step::ComplementarityStep;
