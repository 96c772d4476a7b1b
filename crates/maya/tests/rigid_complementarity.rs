//! Complementarity contact (`ContactModel::Complementarity`): closed forms
//! in value and gradient at small κ (an inelastic head-on collision of
//! unequal masses, a resting body's gap κ/(m g), a box sliding to rest under
//! Coulomb friction), a gradcheck of a short rollout with several contacts
//! and friction at a larger κ, and the solver's errors.

use maya::contact::{ComplementarityOptions, ContactModel, Ground};
use maya::rigid::{Material, RigidParams, RigidState, Shape, World};
use maya::{gradcheck_richardson, Error, GradcheckConfig, Tensor, TensorTape};
use std::f64::consts::PI;

fn options(kappa: f64, activation_distance: f64) -> ContactModel {
    ContactModel::Complementarity(ComplementarityOptions {
        kappa,
        activation_distance,
        max_iter: 100,
        tol: 1e-12,
        warm_start: false,
    })
}

fn material(friction: f64) -> Material {
    Material {
        stiffness: 0.0,
        damping: 0.0,
        friction,
        restitution: 0.0,
    }
}

/// x₂(T) = x₂ + v₂T + (m₁/M)(wT − g₀) and its gradients, e = 0. At
/// κ = 1e-10 J the value is within 1e-6 and the gradients within 1e-5: the
/// adjoint loses digits as κ → 0 (the normal slack s ≈ κ/λ of a touching
/// contact is a small difference of velocities; 6e-4 at κ = 1e-12 J).
#[test]
fn inelastic_head_on_collision_matches_the_closed_form_in_value_and_gradient() {
    let (r, m1, m2) = (0.1, 1.0, 3.0);
    let (x1, x2, v1, v2) = (0.0, 0.2537, 1.0, -0.5);
    let (h, steps) = (5e-3, 16);
    let mut w = World::new(h).with_contact(options(1e-10, 0.02));
    w.gravity = [0.0, 0.0];
    w.add_body(Shape::circle(r), m1 / (PI * r * r));
    w.add_body(Shape::circle(r), m2 / (PI * r * r));
    let t = TensorTape::new();
    let s0 = w.state(
        &t,
        &[[x1, 0.0, 0.0], [x2, 0.0, 0.0]],
        &[[v1, 0.0, 0.0], [v2, 0.0, 0.0]],
    );
    let p = w.params(&t, material(0.0));
    let end = w.rollout(&s0, &p, steps).unwrap();
    let big_t = h * steps as f64;
    let (mm, wv, g0) = (m1 + m2, v1 - v2, x2 - x1 - 2.0 * r);
    let tc = g0 / wv;
    let want = x2 + v2 * big_t + (m1 / mm) * (wv * big_t - g0);
    let got = end.pose.value().data[3];
    assert!(
        (got - want).abs() < 1e-6,
        "x₂(T) = {got}, closed form {want}"
    );
    let g = t.grad(end.pose.at(&[1, 0]));
    let (dq, dv, dm) = (
        &g[s0.pose.idx()].data,
        &g[s0.velocity.idx()].data,
        &g[p.mass.idx()].data,
    );
    let checks = [
        ("∂x₂/∂x₁", dq[0], m1 / mm),
        ("∂x₂/∂x₂", dq[3], m2 / mm),
        ("∂x₂/∂v₁", dv[0], m1 * big_t / mm),
        ("∂x₂/∂v₂", dv[3], m2 * big_t / mm),
        ("∂x₂/∂m₁", dm[0], m2 / (mm * mm) * wv * (big_t - tc)),
        ("∂x₂/∂m₂", dm[1], -m1 / (mm * mm) * wv * (big_t - tc)),
    ];
    for (name, got, want) in checks {
        eprintln!(
            "{name}: {got:.9} (closed form {want:.9}, error {:.1e})",
            (got - want).abs()
        );
        assert!(
            (got - want).abs() < 1e-5,
            "{name} = {got}, closed form {want}"
        );
    }
}

/// λ s = κ at rest: λ = m g h, s = φ/h, so the gap is κ/(m g).
#[test]
fn a_resting_circle_floats_at_kappa_over_weight() {
    let (r, m, kappa) = (0.1, 2.0, 1e-5);
    let mut w = World::new(1e-2).with_contact(options(kappa, 1e-2));
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::circle(r), m / (PI * r * r));
    let t = TensorTape::new();
    let s0 = w.state(&t, &[[0.0, r + 3e-6, 0.0]], &[[0.0; 3]]);
    let end = w.rollout(&s0, &w.params(&t, material(0.5)), 200).unwrap();
    let gap = end.pose.value().data[1] - r;
    let want = kappa / (m * 9.81);
    eprintln!("resting gap {gap:e}, κ/(m g) = {want:e}");
    assert!(
        (gap - want).abs() < 1e-3 * want,
        "gap {gap:e}, κ/(m g) = {want:e}"
    );
}

/// Semi-implicit Euler with exact Coulomb friction: K = ⌈v₀/(μgh)⌉ − 1,
/// d = hKv₀ − μgh²K(K+1)/2, ∂d/∂v₀ = hK, ∂d/∂μ = −gh²K(K+1)/2.
#[test]
fn a_box_slides_to_rest_at_the_discrete_coulomb_distance() {
    let (h, v0, mu, g) = (1e-2, 1.0, 0.5, 9.81);
    let mut w = World::new(h).with_contact(options(1e-10, 1e-2));
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::rect(0.2, 0.2), 25.0); // 1 kg
    let t = TensorTape::new();
    let s0 = w.state(&t, &[[0.0, 0.1, 0.0]], &[[v0, 0.0, 0.0]]);
    let p = w.params(&t, material(mu));
    let end = w.rollout(&s0, &p, 30).unwrap();
    let k = (v0 / (mu * g * h)).ceil() - 1.0;
    let want = h * k * v0 - mu * g * h * h * k * (k + 1.0) / 2.0;
    let got = end.pose.value().data[0];
    eprintln!("stopping distance {got:.9}, closed form {want:.9}");
    assert!(
        (got - want).abs() < 1e-6,
        "distance {got}, closed form {want}"
    );
    let gr = t.grad(end.pose.at(&[0, 0]));
    let (dv, dmu) = (gr[s0.velocity.idx()].data[0], gr[p.material.idx()].data[2]);
    let (want_dv, want_dmu) = (h * k, -g * h * h * k * (k + 1.0) / 2.0);
    eprintln!("∂d/∂v₀ {dv:.9} ({want_dv}), ∂d/∂μ {dmu:.9} ({want_dmu})");
    assert!(
        (dv - want_dv).abs() < 1e-6,
        "∂d/∂v₀ = {dv}, closed form {want_dv}"
    );
    assert!(
        (dmu - want_dmu).abs() < 1e-6,
        "∂d/∂μ = {dmu}, closed form {want_dmu}"
    );
}

/// A box sliding on the ground (two vertex contacts, friction) hit by a
/// circle (circle–face), and a circle on the ground, with external
/// wrenches: the smoothed model's gradient (w.r.t. initial poses and
/// velocities, masses, inertias, μ and wrenches) against its own central
/// differences.
#[test]
fn gradcheck_of_a_short_rollout_with_several_contacts_and_friction() {
    let mut w = World::new(1e-2).with_contact(options(1e-3, 2e-2));
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::rect(0.2, 0.2), 25.0);
    w.add_body(Shape::circle(0.05), 100.0);
    w.add_body(Shape::circle(0.08), 50.0);
    // The box starts 0.5 mm up: at a gap of exactly 0 the push-out of
    // penetrations (c₀ = φ/h for φ < 0) meets the impact's c₀ = e u⁻ in a kink.
    let pose = [[0.0, 0.1005, 0.0], [-0.17, 0.12, 0.0], [0.5, 0.085, 0.0]];
    let vel = [[0.6, 0.0, 0.0], [1.5, 0.1, 0.0], [-0.3, 0.0, 2.0]];
    let mp = w.mass_properties();
    let b = w.len();
    let inputs = [
        Tensor::from_data(pose.concat(), vec![b, 3]),
        Tensor::from_data(vel.concat(), vec![b, 3]),
        Tensor::from_data(mp.iter().map(|m| m.mass).collect(), vec![b]),
        // Inertias in units of 1e-3 kg·m², so that the central differences'
        // step (1e-6 of max(1, |x|)) is relative to their size.
        Tensor::from_data(mp.iter().map(|m| m.inertia / 1e-3).collect(), vec![b]),
        // Stiffness and damping are unused by this model (kept positive so
        // that central differences stay valid values).
        Material {
            stiffness: 1.0,
            damping: 1.0,
            friction: 0.4,
            restitution: 0.3,
        }
        .to_tensor(),
        Tensor::from_data(
            vec![0.5, -1.0, 0.01, 0.0, 0.3, 0.0, -0.2, 0.0, -0.02],
            vec![b, 3],
        ),
    ];
    let seen = w.contacts(&pose.concat()).len();
    assert!(seen >= 3, "the scene starts with {seen} contacts");
    let config = GradcheckConfig {
        eps: 1e-5,
        atol: 1e-8,
        rtol: 1e-6,
    };
    let report = gradcheck_richardson(
        &config,
        |t, v| {
            let state = RigidState {
                pose: v[0],
                velocity: v[1],
                step: 0,
            };
            let milli = t.constant(Tensor::from_data(vec![1e-3; b], vec![b]));
            let params = RigidParams {
                mass: v[2],
                inertia: v[3].try_mul(&milli).unwrap(),
                material: v[4],
                wrench: Some(v[5]),
                kappa: None,
                shapes: None,
            };
            let end = w.rollout(&state, &params, 20).unwrap();
            t.concat(&[end.pose, end.velocity], 0)
        },
        &inputs,
    );
    eprintln!("{report}");
    assert!(report.passed, "{report}");
}

/// Two boxes stacked on the ground.
fn stack(max_iter: usize) -> World {
    let mut w =
        World::new(1e-2).with_contact(ContactModel::Complementarity(ComplementarityOptions {
            max_iter,
            ..ComplementarityOptions::simulation()
        }));
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::rect(0.2, 0.2), 25.0);
    w.add_body(Shape::rect(0.2, 0.2), 25.0);
    w
}

#[test]
fn one_iteration_on_a_stack_is_an_error_naming_step_iterations_and_residual() {
    let t = TensorTape::new();
    // Offset so that no corner rests exactly on a corner (a tie between
    // faces that would make the top face's contacts horizontal).
    let pose = [[0.0, 0.1, 0.0], [0.03, 0.3, 0.0]];
    let w = stack(1);
    let s0 = w.state(&t, &pose, &[[0.0; 3]; 2]);
    let err = w.rollout(&s0, &w.params(&t, material(0.5)), 3).unwrap_err();
    let msg = err.to_string();
    eprintln!("{msg}");
    match err {
        Error::NotConverged {
            step,
            iters,
            residual,
            ..
        } => {
            assert_eq!((step, iters), (Some(1), 1), "{msg}");
            assert!(residual > 1e-10, "{msg}");
        }
        other => panic!("expected Error::NotConverged, got {other:?}"),
    }
    assert!(
        msg.contains("max_iter = 1") && msg.contains("contact"),
        "{msg}"
    );
    // The same stack with the default cap steps.
    let w = stack(100);
    let end = w.rollout(&s0, &w.params(&t, material(0.5)), 3);
    assert!(end.is_ok(), "{end:?}");
}

#[test]
fn coincident_circle_centres_are_a_degenerate_contact_error() {
    let mut w = World::new(1e-2).with_contact(ContactModel::Complementarity(
        ComplementarityOptions::simulation(),
    ));
    w.allow_initial_overlap = true;
    w.add_body(Shape::circle(0.1), 1.0);
    w.add_body(Shape::circle(0.2), 1.0);
    let t = TensorTape::new();
    let s0 = w.state(&t, &[[0.3, 0.1, 0.0]; 2], &[[0.0; 3]; 2]);
    let err = w.rollout(&s0, &w.params(&t, material(0.5)), 1).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            Error::DegenerateContact {
                body: 0,
                other: Some(1),
                step: 1,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("centres coincide"), "{msg}");
}

/// One step of one frictionless contact, normal direction only (the central
/// path in closed form): with u = c₀ + v − g h, c₀ = φ/h for a contact the
/// free motion does not reach within the step and c₀ = 0 for one it hits
/// (e = 0; the time-of-impact correction moves the position only), and
/// κ_i = κ(1 − φ/d̂)³: λ = (m/2)(√(u² + 4κ_i/m) − u), v⁺ = v − g h + λ/m,
/// ∂v⁺/∂v = ½(1 + u/√(u² + 4κ_i/m)), ∂v⁺/∂m = −κ_i/(m²√(u² + 4κ_i/m)).
#[test]
fn one_step_of_one_contact_is_the_central_path_in_closed_form() {
    let (r, m, h, g, kappa, dhat) = (0.1, 2.0, 1e-2, 9.81, 1e-4, 1e-2);
    let phi = 2e-3;
    // φ + h(v − g h) is > 0 (no impact) at v = −0.05, < 0 at v = −0.3.
    for (v, c0) in [(-0.05, phi / h), (-0.3, 0.0)] {
        let mut w = World::new(h).with_contact(options(kappa, dhat));
        w.set_ground(Ground::horizontal(0.0));
        w.add_body(Shape::circle(r), m / (PI * r * r));
        let t = TensorTape::new();
        let s0 = w.state(&t, &[[0.0, r + phi, 0.0]], &[[0.0, v, 0.0]]);
        let p = w.params(&t, material(0.0));
        let end = w.rollout(&s0, &p, 1).unwrap();
        let ki = kappa * (1.0 - phi / dhat).powi(3);
        let u = c0 + v - g * h;
        let root = (u * u + 4.0 * ki / m).sqrt();
        let want = v - g * h + 0.5 * (root - u);
        let got = end.velocity.value().data[1];
        assert!(
            (got - want).abs() < 1e-12 * want.abs(),
            "v = {v}: v⁺ = {got}, closed form {want}"
        );
        let gr = t.grad(end.velocity.at(&[0, 1]));
        let dv = gr[s0.velocity.idx()].data[1];
        let dm = gr[p.mass.idx()].data[0];
        let (want_dv, want_dm) = (0.5 * (1.0 + u / root), -ki / (m * m * root));
        assert!(
            (dv - want_dv).abs() < 1e-9 * want_dv.abs(),
            "v = {v}: ∂v⁺/∂v = {dv}, closed form {want_dv}"
        );
        assert!(
            (dm - want_dm).abs() < 1e-9 * want_dm.abs(),
            "v = {v}: ∂v⁺/∂m = {dm}, closed form {want_dm}"
        );
    }
}

/// Off the tape (nothing needs a gradient) errors still name their step.
#[test]
fn errors_off_the_tape_name_the_step() {
    let w = stack(1);
    let t = TensorTape::new();
    let row = |v: [f64; 3]| t.constant(Tensor::from_data(v.to_vec(), vec![3]));
    let s0 = w.state_from_parts(
        &[row([0.0, 0.1, 0.0]), row([0.03, 0.3, 0.0])],
        &[row([0.0; 3]), row([0.0; 3])],
    );
    let mp = w.mass_properties();
    let p = RigidParams {
        mass: t.constant(Tensor::from_data(
            mp.iter().map(|m| m.mass).collect(),
            vec![2],
        )),
        inertia: t.constant(Tensor::from_data(
            mp.iter().map(|m| m.inertia).collect(),
            vec![2],
        )),
        material: t.constant(material(0.5).to_tensor()),
        wrench: None,
        kappa: None,
        shapes: None,
    };
    let err = w.rollout(&s0, &p, 2).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotConverged {
                step: Some(1),
                iters: 1,
                ..
            }
        ),
        "{err}"
    );
}

/// A box on the ground under gravity tilted by θ (a slope), from rest, μ =
/// 0.5: final x and ∂x/∂μ after N steps.
fn box_on_slope(theta: f64, steps: usize) -> (f64, f64) {
    let (h, g, mu) = (1e-2, 9.81, 0.5);
    let mut w = World::new(h).with_contact(options(1e-10, 1e-2));
    w.gravity = [g * theta.sin(), -g * theta.cos()];
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::rect(0.2, 0.2), 25.0);
    let t = TensorTape::new();
    let s0 = w.state(&t, &[[0.0, 0.1, 0.0]], &[[0.0; 3]]);
    let p = w.params(&t, material(mu));
    let end = w.rollout(&s0, &p, steps).unwrap();
    let gr = t.grad(end.pose.at(&[0, 0]));
    (end.pose.value().data[0], gr[p.material.idx()].data[2])
}

/// Below the friction angle (tan θ < μ) the box sticks, with zero gradient
/// w.r.t. μ; above it, it slides with a = g(sin θ − μ cos θ): after N
/// steps of semi-implicit Euler s = ½ a T(T + h), ∂s/∂μ = −½ g cos θ T(T + h).
#[test]
fn a_box_on_a_slope_sticks_below_the_friction_angle_and_slides_above() {
    let (h, g, mu, n) = (1e-2, 9.81, 0.5, 30);
    let (x, dmu) = box_on_slope(20f64.to_radians(), n);
    eprintln!("θ = 20°: x {x:e}, ∂x/∂μ {dmu:e}");
    assert!(x.abs() < 1e-6 && dmu.abs() < 1e-6, "x {x}, ∂x/∂μ {dmu}");
    let theta = 35f64.to_radians();
    let (x, dmu) = box_on_slope(theta, n);
    let big_t = h * n as f64;
    let a = g * (theta.sin() - mu * theta.cos());
    let (want, want_dmu) = (
        0.5 * a * big_t * (big_t + h),
        -0.5 * g * theta.cos() * big_t * (big_t + h),
    );
    eprintln!("θ = 35°: x {x:.9} ({want:.9}), ∂x/∂μ {dmu:.9} ({want_dmu:.9})");
    assert!((x - want).abs() < 1e-6, "x {x}, closed form {want}");
    assert!(
        (dmu - want_dmu).abs() < 1e-6,
        "∂x/∂μ {dmu}, closed form {want_dmu}"
    );
}

/// Two boxes stacked with their corners aligned (the worst case for
/// vertex–face contacts, where a corner is as close to a side face as to
/// the top face) and a third dropped on them turned: the pair's contacts
/// share one normal, so the step is feasible and the stack rests.
#[test]
fn aligned_stacked_boxes_rest_without_conflicting_normals() {
    let mut w =
        World::new(1e-2).with_contact(ContactModel::Complementarity(ComplementarityOptions {
            activation_distance: 0.03,
            ..ComplementarityOptions::simulation()
        }));
    w.set_ground(Ground::horizontal(0.0));
    for _ in 0..3 {
        w.add_body(Shape::rect(0.2, 0.2), 25.0);
    }
    let t = TensorTape::new();
    let pose = [[0.0, 0.1, 0.0], [0.0, 0.3, 0.0], [0.05, 0.55, 0.3]];
    let s0 = w.state(&t, &pose, &[[0.0; 3]; 3]);
    let end = w.rollout(&s0, &w.params(&t, material(0.5)), 150).unwrap();
    let (q, v) = (end.pose.value().data, end.velocity.value().data);
    for c in w.contacts(&q) {
        assert!(c.depth < 1e-6, "no overlap: {c:?}");
    }
    assert!(
        (q[1] - 0.1).abs() < 1e-6 && (q[4] - 0.3).abs() < 1e-6,
        "{q:?}"
    );
    assert!(v.iter().all(|x| x.abs() < 1e-3), "at rest: {v:?}");
}
