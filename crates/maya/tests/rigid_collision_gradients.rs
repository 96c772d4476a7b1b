//! Collision gradients against the analytic gradients of the ideal
//! (instantaneous, elastic) collision, as the contact stiffens.
//!
//! Two equal balls (radius r) on a line, ball 1 at x₁ moving at v₁ towards
//! ball 2 at x₂ moving at v₂ < v₁. The ideal elastic collision swaps their
//! velocities at t_c = (x₂ − x₁ − 2r)/(v₁ − v₂), so at a time T after it
//!
//! ```text
//! x₂(T) = x₂ + v₂ t_c + v₁ (T − t_c) = x₁ + 2r + v₁ T,   v₂(T) = v₁,
//! ```
//!
//! and ∂(x₂(T), v₂(T))/∂(x₁, x₂, v₁, v₂) has the four entries
//! (∂x₂/∂x₁, ∂x₂/∂x₂₀, ∂v₂/∂v₁, ∂v₂/∂v₂₀) = (1, 0, 1, 0) — the case in
//! which a well-known simulator returns (0.75, 0.25, 0.91, 0.08).
//!
//! An undamped penalty contact (either penalty function) is a translation-
//! invariant, momentum-conserving spring between the balls: it swaps their
//! velocities exactly and delays the exchange by a time that depends only
//! on v₁ − v₂, so in continuous time these four entries are exactly those
//! of the ideal collision at any stiffness; maya's discrete gradients
//! differ from them by the time-stepping error only. The entry that does
//! depend on stiffness is ∂x₂(T)/∂v₁ (ideal: T), through the contact's
//! duration π/√(2k/m); it converges to T as k grows.

use maya::contact::Penalty;
use maya::rigid::{Material, Shape, World};
use maya::TensorTape;

const R: f64 = 0.1;
const T: f64 = 0.5;
const X0: [f64; 4] = [0.0, 0.5, 1.0, -0.2]; // x₁, x₂, v₁, v₂: collide at t = 0.25 s

/// ∂(x₂(T), v₂(T))/∂(x₁, x₂, v₁, v₂) of the simulation: 2 × 4.
fn jacobian(penalty: Penalty, k: f64, steps_per_contact: f64) -> [[f64; 4]; 2] {
    let m = 1.0;
    let omega = (2.0 * k / m).sqrt();
    let dt = std::f64::consts::PI / omega / steps_per_contact;
    let mut w = World::new(dt);
    w.gravity = [0.0, 0.0];
    w.penalty = penalty;
    let density = m / (std::f64::consts::PI * R * R);
    w.add_body(Shape::circle(R), density);
    w.add_body(Shape::circle(R), density);
    let steps = (T / dt).round() as usize;
    let mut jac = [[0.0; 4]; 2];
    for (col, row) in jac.iter_mut().enumerate() {
        let t = TensorTape::new();
        let s0 = w.state(
            &t,
            &[[X0[0], 0.0, 0.0], [X0[1], 0.0, 0.0]],
            &[[X0[2], 0.0, 0.0], [X0[3], 0.0, 0.0]],
        );
        let p = w.params(
            &t,
            Material {
                stiffness: k,
                damping: 0.0,
                friction: 0.0,
                restitution: 0.0,
            },
        );
        let end = w.rollout(&s0, &p, steps).unwrap();
        // Output: x₂(T) (col 0) or v₂(T) (col 1), body 1's x.
        let out = if col == 0 { end.pose } else { end.velocity };
        let g = t.grad(out.slice(0, 1..2).slice(1, 0..1).sum());
        let (gq, gv) = (&g[s0.pose.idx()].data, &g[s0.velocity.idx()].data);
        *row = [gq[0], gq[3], gv[0], gv[3]];
    }
    jac
}

#[test]
fn collision_gradients_approach_the_ideal_collision() {
    // 50 steps per contact duration at every stiffness.
    for penalty in [Penalty::Relu, Penalty::Softplus { width: 1e-3 }] {
        for k in [1e3, 1e4, 1e5, 1e6] {
            let j = jacobian(penalty, k, 50.0);
            let four = [j[0][0], j[0][1], j[1][2], j[1][3]];
            let err = four
                .iter()
                .zip([1.0, 0.0, 1.0, 0.0])
                .map(|(g, w)| (g - w).abs())
                .fold(0.0, f64::max);
            let contact_time = std::f64::consts::PI / (2.0 * k).sqrt();
            eprintln!(
                "{penalty:?} k = {k:e}: (dx2/dx1, dx2/dx2, dv2/dv1, dv2/dv2) = ({:.5}, {:.5}, {:.5}, {:.5}), \
                 max error {err:.1e}; dx2/dv1 = {:.4} (ideal {T}; contact lasts {contact_time:.1e} s)",
                four[0], four[1], four[2], four[3], j[0][2]
            );
            match penalty {
                // The ReLU gradient misses the contact's start falling
                // between steps: errors of a few % at 50 steps per contact,
                // shrinking as O(dt).
                Penalty::Relu => assert!(err < 0.1, "{four:?}"),
                // Softplus wider than the travel per step (here 1 mm vs
                // ≤ 1.7 mm): the ideal entries to within 1e-4.
                Penalty::Softplus { .. } => assert!(err < 1e-4, "{four:?}"),
            }
            // ∂x₂/∂v₁ = T − O(contact time) → T as k grows (smooth model;
            // ReLU adds its step error).
            if penalty != Penalty::Relu {
                assert!((j[0][2] - T).abs() < contact_time, "{:?}", j[0]);
            }
        }
    }
}

#[test]
fn relu_collision_gradients_converge_with_the_step() {
    // At k = 1e6 the ReLU error shrinks fast as the contact is resolved in
    // more steps.
    let err = |spc: f64| {
        let j = jacobian(Penalty::Relu, 1e6, spc);
        (j[0][0] - 1.0).abs().max((j[1][2] - 1.0).abs())
    };
    let (coarse, fine) = (err(50.0), err(400.0));
    eprintln!("relu k = 1e6: max error {coarse:.1e} at 50 steps per contact, {fine:.1e} at 400");
    assert!(fine < coarse / 4.0 && fine < 0.02, "{coarse} → {fine}");
}
