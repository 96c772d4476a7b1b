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
//! sₙ = c₀ᵢ + nᵢ·v       λₙ sₙ = κᵢ
//! s₊ = γ + tᵢ·v        λ₊ s₊ = κᵢ
//! s₋ = γ − tᵢ·v        λ₋ s₋ = κᵢ
//! s_γ = μλₙ − λ₊ − λ₋  γ s_γ  = κᵢ
//! λ, γ, s > 0,   κᵢ = κ (1 − φᵢ/d̂)³
//! ```
//!
//! with nᵢ, tᵢ the contact's normal and tangent Jacobian rows (1 × 3B, from
//! the pair geometry of [`pairs`](crate::contact::pairs)) and u⁻ᵢ = nᵢ·v_free
//! the free motion's normal velocity. A contact the free motion does not
//! close within the step has c₀ = φ/h (the gap at the step's end stays
//! open) and q' = q + h v. An *impact* (u⁻ < 0 and φ + h u⁻ < 0) has
//! c₀ = e u⁻ + min(φ, 0)/h: the normal velocity after it is at least
//! −e u⁻ (restitution e ∈ [0, 1],
//! [`Material::restitution`](crate::rigid::Material::restitution)), and the position is corrected for the time
//! of impact τ = φ/(−u⁻): the body moved with v_free before τ and with v'
//! after, q' = q + h v' + τ (v_free − v'). For a body with several impacts τ
//! is their mean weighted by the depth −(φ + h u⁻) the free motion would
//! reach, so a contact entering the impacts moves nothing and ties are
//! smooth. This is exact for one impact at constant velocity, which gives
//! elastic impacts their right gradients (a ball bouncing off the ground
//! at e = 1 has ∂y_T/∂y₀ = −1; without the correction the sign is wrong).
//! At κ = 0 and e = 0 this is the Stewart–Trinkle LCP with exact Coulomb
//! friction. The relaxation λs = κ is a force at a distance: κ is in joules
//! (N·s × m/s), a body of mass m resting under gravity g on one contact
//! floats at the gap κ/(m g) (on k contacts sharing its weight, k κ/(m g)),
//! to a relative κ/(m g² h²): resting contact is an impact at every step
//! (the free motion −g h² closes the gap), so the body carries an upward
//! speed x = κ/(m g h) and floats at φ = x h − x²/g
//! (`tests/complementarity_params.rs` checks this and its gradients in
//! closed form). The taper makes the force vanish smoothly
//! (C²) at d̂ so contacts enter and leave the problem without a jump. Small
//! κ is close to hard contact; larger κ smooths the map and its gradients.
//!
//! The discrete map has one kind of jump, shared with hard contact: when an
//! impact falls exactly on a step's end, the velocity there is either the
//! one before or the one after it (the positions agree). Under gravity,
//! with e > 0, the two continuations then differ by (1 + e) g h. A body at
//! rest with e > 0 makes micro-bounces of speed about e g h that cross
//! that boundary often; use e = 0 (or a small e) for resting contact where
//! gradients matter.
//!
//! How close, measured (`tests/rigid_complementarity.rs`,
//! `tests/complementarity_restitution.rs`): a head-on collision of 1 kg and
//! 3 kg circles at κ = 1e-10 J matches the hard closed form to 1e-11 m in
//! position and 8e-8 in every gradient (positions, velocities, masses, e),
//! for e = 0, 0.6 and 1; a ball bouncing elastically off the ground at
//! κ = 1e-12 J gives ∂y_T/∂(y₀, v) = (−1, −T) to 4e-10 and ∂y_T/∂e to
//! 2e-12; a box sliding to rest at κ = 1e-10 J stops within 2e-9 m of the
//! discrete Coulomb distance; a box on a slope (μ = 0.5) sticks at 20° and
//! slides at 35° within 3e-8 m of ½ g(sin θ − μ cos θ) T(T + h). At larger
//! κ, rollouts of 200 steps with friction for every pair type (and with
//! restitution for circles) agree with Richardson differences of the same
//! model to 3e-7 relative (`tests/complementarity_gradcheck.rs`). As κ → 0
//! the adjoint loses digits (2e-6 in a velocity gradient at κ = 1e-12 J in
//! the collision, 6e-4 at 1e-14 J): the normal slack s ≈ κ/λ of a touching
//! contact is a small difference of velocities.
//!
//! Without friction (μ = 0) the cone is empty, so the friction pairs drop
//! out; the gradient w.r.t. μ there is 0 (one-sided). Penetrating contacts
//! (φ < 0) are pushed out within one step.
//!
//! Each step's solve starts cold, from the free motion, unless
//! [`ComplementarityOptions::warm_start`] is on: then it starts from the
//! previous step's impulses (matched by contact features, added to the
//! cold start so that no product starts on the boundary). Measured on the
//! 100-box pile (`maya bench --workload R1c`): 17.6 iterations per step
//! against 19.6 cold, 10% fewer. It is off by default: a step then depends
//! on the one before below the solver's tolerance, so finite differences
//! of a rollout see the tolerance as noise, and a checkpointed rollout
//! (whose replay must repeat the forward pass) refuses it.
//!
//! The solver is a Mehrotra predictor–corrector interior point method
//! solved to the exact central point for the given κ (so the smoothed model
//! is a well-defined function of its inputs), with each contact eliminated
//! onto the 3B × 3B body-velocity system H = M + Σ Gᵀ B⁻¹ Z G, factored by
//! faer's LU (dense below 20 bodies, sparse from there, its symbolic
//! analysis shared by a step's iterations). A step that does not converge
//! within [`ComplementarityOptions::max_iter`] is
//! [`Error::NotConverged`](crate::Error::NotConverged) naming the step,
//! iterations, residual and the contact furthest from its central point; a
//! singular or ill-conditioned H (a solve whose residual exceeds 1e-8
//! relative) or a non-finite iterate is
//! [`Error::Solve`](crate::Error::Solve) with the same figures. (The step
//! to the boundary is a fraction of the largest feasible one, not a line
//! search, so no line search can fail.) Coincident circle centres are
//! [`Error::DegenerateContact`](crate::Error::DegenerateContact). The
//! gradient is the implicit function theorem at the solution: one
//! transposed solve with H at the converged point, reaching the initial
//! poses and velocities, masses, inertias, the friction and restitution
//! coefficients, gravity, external wrenches, κ
//! ([`RigidParams::kappa`](crate::rigid::RigidParams::kappa)) and the
//! shapes' parameters, radii and polygon vertices
//! ([`RigidParams::shapes`](crate::rigid::RigidParams::shapes); a face's
//! normal follows its vertices). A step keeps O(bodies + contacts) numbers
//! for its adjoint.
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
//! let material = Material { stiffness: 0.0, damping: 0.0, friction: 0.5, restitution: 0.0 };
//! let p = world.params(&t, material);
//! let end = world.rollout(&s0, &p, 30).unwrap();
//! // It slides to rest near v₀²/(2μg) ≈ 0.1 m, floating 2κ/(m g) ≈ 2 µm up
//! // on its two bottom corners.
//! let [x, y, _] = [0, 1, 2].map(|k| end.pose.value().data[k]);
//! assert!(x > 0.09 && x < 0.12, "{x}");
//! assert!((y - 0.1).abs() < 1e-5, "{y}");
//! ```

mod factored;
mod options;
mod problem;
mod solver;
mod step;
mod system;

pub use options::{ComplementarityOptions, ContactModel};
pub(crate) use step::ComplementarityStep;
