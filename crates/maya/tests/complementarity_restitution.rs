//! Restitution under complementarity contact, with the time-of-impact
//! correction: closed forms of elastic and partly elastic impacts in value
//! and gradient (exact for impacts at constant velocity, so at small κ
//! they agree with the hard-contact closed forms), and a gradcheck of a
//! bouncing ball under gravity.

use maya::contact::{ComplementarityOptions, ContactModel, Ground};
use maya::rigid::{Material, RigidParams, RigidState, Shape, World};
use maya::{gradcheck_richardson, GradcheckConfig, Tensor, TensorTape};
use std::f64::consts::PI;

fn model(kappa: f64) -> ContactModel {
    ContactModel::Complementarity(ComplementarityOptions {
        kappa,
        activation_distance: 0.05,
        max_iter: 100,
        tol: 1e-12,
        warm_start: false,
    })
}

fn material(restitution: f64) -> Material {
    Material {
        stiffness: 0.0,
        damping: 0.0,
        friction: 0.0,
        restitution,
    }
}

fn assert_close(name: &str, got: f64, want: f64, tol: f64) {
    eprintln!(
        "{name}: {got:.10} (closed form {want:.10}, error {:.1e})",
        (got - want).abs()
    );
    assert!(
        (got - want).abs() <= tol,
        "{name} = {got}, closed form {want}"
    );
}

/// A ball at y₀ moving down at v (no gravity) hits the ground at
/// τ = (y₀ − r)/|v| and bounces with e = 1: y(T) = 2r − y₀ − vT, so
/// ∂y_T/∂(y₀, v) = (−1, −T) = (−1, −1) at T = 1 s; the impact falls
/// inside a step.
#[test]
fn elastic_bounce_off_the_ground_reflects_the_gradient() {
    let (r, y0, v, h, steps) = (0.1, 0.4237, -0.8, 1e-2, 100);
    let mut w = World::new(h).with_contact(model(1e-12));
    w.gravity = [0.0, 0.0];
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::circle(r), 1.0 / (PI * r * r));
    let t = TensorTape::new();
    let s0 = w.state(&t, &[[0.3, y0, 0.0]], &[[0.0, v, 0.0]]);
    let p = w.params(&t, material(1.0));
    let end = w.rollout(&s0, &p, steps).unwrap();
    let big_t = h * steps as f64;
    assert_close(
        "y(T)",
        end.pose.value().data[1],
        2.0 * r - y0 - v * big_t,
        1e-6,
    );
    assert_close("v(T)", end.velocity.value().data[1], -v, 1e-6);
    let g = t.grad(end.pose.at(&[0, 1]));
    assert_close("∂y/∂y₀", g[s0.pose.idx()].data[1], -1.0, 1e-6);
    assert_close("∂y/∂v", g[s0.velocity.idx()].data[1], -big_t, 1e-6);
    let ge = g[p.material.idx()].data[3];
    // ∂y/∂e: after the impact at τ the ball rises at e|v|: y = r + e|v|(T − τ).
    let tau = (y0 - r) / -v;
    assert_close("∂y/∂e", ge, -v * (big_t - tau), 1e-5);
}

/// Head-on collision of unequal masses with restitution e:
/// x₂(T) = x₂ + v₂T + (1 + e)(m₁/M)[(v₁ − v₂)T − g₀], and its gradients
/// w.r.t. positions, velocities, both masses and e.
#[test]
fn head_on_collision_with_restitution_matches_the_closed_form() {
    let (r, m1, m2) = (0.1, 1.0, 3.0);
    let (x1, x2, v1, v2) = (0.0, 0.2537, 1.0, -0.5);
    let (h, steps) = (5e-3, 16);
    for e in [1.0, 0.6] {
        let mut w = World::new(h).with_contact(model(1e-10));
        w.gravity = [0.0, 0.0];
        w.add_body(Shape::circle(r), m1 / (PI * r * r));
        w.add_body(Shape::circle(r), m2 / (PI * r * r));
        let t = TensorTape::new();
        let s0 = w.state(
            &t,
            &[[x1, 0.0, 0.0], [x2, 0.0, 0.0]],
            &[[v1, 0.0, 0.0], [v2, 0.0, 0.0]],
        );
        let p = w.params(&t, material(e));
        let end = w.rollout(&s0, &p, steps).unwrap();
        let big_t = h * steps as f64;
        let (mm, wv, g0) = (m1 + m2, v1 - v2, x2 - x1 - 2.0 * r);
        let tc = g0 / wv;
        let k = (1.0 + e) * m1 / mm;
        let want = x2 + v2 * big_t + k * (wv * big_t - g0);
        assert_close(
            &format!("e {e}: x₂(T)"),
            end.pose.value().data[3],
            want,
            1e-6,
        );
        let g = t.grad(end.pose.at(&[1, 0]));
        let (dq, dv, dm) = (
            &g[s0.pose.idx()].data,
            &g[s0.velocity.idx()].data,
            &g[p.mass.idx()].data,
        );
        let dk_dm1 = (1.0 + e) * m2 / (mm * mm);
        let dk_dm2 = -(1.0 + e) * m1 / (mm * mm);
        let checks = [
            ("∂x₂/∂x₁", dq[0], k),
            ("∂x₂/∂x₂", dq[3], 1.0 - k),
            ("∂x₂/∂v₁", dv[0], k * big_t),
            ("∂x₂/∂v₂", dv[3], (1.0 - k) * big_t),
            ("∂x₂/∂m₁", dm[0], dk_dm1 * wv * (big_t - tc)),
            ("∂x₂/∂m₂", dm[1], dk_dm2 * wv * (big_t - tc)),
            (
                "∂x₂/∂e",
                g[p.material.idx()].data[3],
                m1 / mm * wv * (big_t - tc),
            ),
        ];
        for (name, got, want) in checks {
            assert_close(&format!("e {e}: {name}"), got, want, 1e-6);
        }
    }
}

/// A ball bouncing under gravity with e = 0.9 for 200 steps (four
/// bounces, none near a step boundary): the smoothed model's gradient
/// against its own (Richardson) central differences.
#[test]
fn gradcheck_of_a_ball_bouncing_under_gravity() {
    let (r, h, steps) = (0.1, 1e-2, 200);
    let mut w = World::new(h).with_contact(model(1e-4));
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::circle(r), 1.0 / (PI * r * r));
    let inputs = [
        Tensor::from_data(vec![0.0, 0.5, 0.0], vec![1, 3]),
        Tensor::from_data(vec![0.3, 0.2, 0.0], vec![1, 3]),
        Tensor::from_data(vec![1.0], vec![1]),
        Tensor::from_data(vec![0.9], vec![1]),
    ];
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
            let fixed = t.constant(Tensor::from_data(vec![0.0, 0.0, 0.0], vec![3]));
            let params = RigidParams {
                mass: v[2],
                inertia: t.constant(Tensor::from_data(vec![0.005], vec![1])),
                material: t.concat(&[fixed, v[3]], 0),
                wrench: None,
                kappa: None,
                shapes: None,
            };
            let end = w.rollout(&state, &params, steps).unwrap();
            t.concat(&[end.pose, end.velocity], 0)
        },
        &inputs,
    );
    eprintln!("{report}");
    assert!(report.passed, "{report}");
}
