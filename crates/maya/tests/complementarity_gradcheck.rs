//! Gradcheck of complementarity rollouts of 200 steps with friction and
//! restitution, one scene per contact pair type (circle–ground,
//! circle–circle, circle–polygon, polygon–ground, polygon–polygon): the
//! smoothed model's gradient w.r.t. initial poses and velocities, masses,
//! inertias, μ and e against its own central differences.

use maya::contact::{ComplementarityOptions, ContactModel, Feature, Ground};
use maya::rigid::{Material, RigidParams, RigidState, Shape, World};
use maya::{gradcheck_richardson, GradcheckConfig, Tensor};

const STEPS: usize = 200;

/// A world with complementarity contact at κ = 1e-3 J, a floor and gravity.
fn world(shapes: &[Shape]) -> World {
    let mut w =
        World::new(1e-2).with_contact(ContactModel::Complementarity(ComplementarityOptions {
            kappa: 1e-3,
            activation_distance: 2e-2,
            max_iter: 100,
            tol: 1e-14,
            warm_start: false,
        }));
    w.set_ground(Ground::horizontal(0.0));
    for s in shapes {
        w.add_body(s.clone(), 100.0);
    }
    w
}

/// Gradchecks (final pose, velocity) of a `STEPS`-step rollout against
/// Richardson differences of step `eps` (relative): small enough for the
/// truncation of the bounces' large gradients, large enough for the
/// rounding of 200 solves.
fn check(w: &World, pose: &[[f64; 3]], vel: &[[f64; 3]], restitution: f64, eps: f64) {
    let mp = w.mass_properties();
    let b = w.len();
    let inputs = [
        Tensor::from_data(pose.concat(), vec![b, 3]),
        Tensor::from_data(vel.concat(), vec![b, 3]),
        Tensor::from_data(mp.iter().map(|m| m.mass).collect(), vec![b]),
        // Inertias in units of 1e-3 kg·m², so that the central differences'
        // step is relative to their size.
        Tensor::from_data(mp.iter().map(|m| m.inertia / 1e-3).collect(), vec![b]),
        // (μ, e), or μ alone where e = 0 (a bound, so not perturbed);
        // stiffness and damping do not act in this model.
        if restitution > 0.0 {
            Tensor::from_data(vec![0.4, restitution], vec![2])
        } else {
            Tensor::from_data(vec![0.4], vec![1])
        },
    ];
    let config = GradcheckConfig {
        eps,
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
            let unused = t.constant(Tensor::from_data(vec![1.0, 1.0], vec![2]));
            let mut material = vec![unused, v[4]];
            if restitution == 0.0 {
                material.push(t.constant(Tensor::zeros(&[1])));
            }
            let params = RigidParams {
                mass: v[2],
                inertia: v[3].try_mul(&milli).unwrap(),
                material: t.concat(&material, 0),
                wrench: None,
                kappa: None,
                shapes: None,
            };
            let end = w.rollout(&state, &params, STEPS).unwrap();
            t.concat(&[end.pose, end.velocity], 0)
        },
        &inputs,
    );
    eprintln!("{report}");
    assert!(report.passed, "{report}");
}

/// Asserts that a contact with a feature that `kind` accepts comes within
/// 5 mm (at a step's end: an impact within a step may have bounced back)
/// along the rollout (under restitution `e`).
fn touches(w: &World, pose: &[[f64; 3]], vel: &[[f64; 3]], e: f64, kind: fn(&Feature) -> bool) {
    let t = maya::TensorTape::new();
    let mut s = w.state(&t, pose, vel);
    let p = w.params(
        &t,
        Material {
            stiffness: 1.0,
            damping: 1.0,
            friction: 0.4,
            restitution: e,
        },
    );
    for _ in 0..STEPS {
        let close = w.contacts(&s.pose.value().data);
        if close.iter().any(|c| kind(&c.feature) && c.depth > -5e-3) {
            return;
        }
        s = w.rollout(&s, &p, 1).unwrap();
    }
    panic!("no contact of the scene's pair type within 5 mm in {STEPS} steps");
}

#[test]
fn circle_ground() {
    let w = world(&[Shape::circle(0.1), Shape::circle(0.07)]);
    let pose = [[0.0, 0.4, 0.0], [1.6, 0.2, 0.3]];
    let vel = [[0.5, 0.0, 1.0], [-0.4, 1.0, 0.0]];
    touches(&w, &pose, &vel, 0.9, |f| *f == Feature::GroundCircle);
    check(&w, &pose, &vel, 0.9, 3e-6);
}

#[test]
fn circle_circle() {
    let mut w = world(&[Shape::circle(0.1), Shape::circle(0.08), Shape::circle(0.06)]);
    w.gravity = [0.0, 0.0];
    let pose = [[0.0, 0.5, 0.0], [0.45, 0.53, 0.0], [0.9, 0.49, 0.0]];
    let vel = [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [-0.5, 0.0, 0.0]];
    touches(&w, &pose, &vel, 0.7, |f| *f == Feature::CircleCircle);
    check(&w, &pose, &vel, 0.7, 1e-5);
}

#[test]
fn circle_polygon() {
    let w = world(&[Shape::rect(1.2, 0.1), Shape::circle(0.05)]);
    let pose = [[0.0, 0.0503, 0.0], [-0.2, 0.16, 0.0]];
    let vel = [[0.0; 3], [0.3, -0.2, 0.0]];
    touches(&w, &pose, &vel, 0.0, |f| {
        matches!(f, Feature::CircleFace(_) | Feature::CircleVertex(_))
    });
    check(&w, &pose, &vel, 0.0, 1e-5);
}

#[test]
fn polygon_ground() {
    let w = world(&[
        Shape::rect(0.2, 0.1),
        Shape::polygon(&[[-0.1, -0.05], [0.1, -0.06], [0.0, 0.09]]),
    ]);
    let pose = [[0.0, 0.2, 0.3], [0.5, 0.15, -0.2]];
    let vel = [[1.0, 0.0, 0.0], [-0.5, 0.0, 1.0]];
    touches(&w, &pose, &vel, 0.0, |f| {
        matches!(f, Feature::GroundVertex(_))
    });
    check(&w, &pose, &vel, 0.0, 1e-5);
}

#[test]
fn polygon_polygon() {
    let w = world(&[Shape::rect(0.4, 0.1), Shape::rect(0.15, 0.1)]);
    let pose = [[0.0, 0.0503, 0.0], [0.03, 0.2, 0.1]];
    let vel = [[0.0; 3], [0.4, 0.0, 0.0]];
    touches(&w, &pose, &vel, 0.0, |f| {
        matches!(f, Feature::VertexFace(..))
    });
    check(&w, &pose, &vel, 0.0, 1e-5);
}
