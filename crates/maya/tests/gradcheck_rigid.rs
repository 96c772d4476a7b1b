//! Gradient checks of the rigid-body step against central differences, over
//! rollouts of at least 200 steps: free flight, each contact pair type,
//! friction, and a stack of three boxes settling on the ground.
//!
//! Every check differentiates the final poses and velocities with respect
//! to the initial poses and velocities, the masses and inertias, and the
//! contact material (k, c, μ). Scenes use the softplus penalty (smooth) and
//! moderate stiffness, and are set up so that no contact changes feature
//! (face ↔ vertex, or which face) during the rollout, so the model is
//! smooth and central differences are valid.

use maya::contact::{Feature, Ground, Penalty};
use maya::rigid::{Material, RigidParams, RigidState, Shape, World};
use maya::TensorTape;
use maya::{gradcheck_with, GradcheckConfig, GradcheckReport, Tensor};
use std::collections::BTreeSet;

const STEPS: usize = 250;

fn config() -> GradcheckConfig {
    GradcheckConfig {
        eps: 1e-6,
        atol: 1e-8,
        rtol: 1e-6,
    }
}

fn rows(x: &[[f64; 3]]) -> Tensor {
    Tensor::from_data(x.concat(), vec![x.len(), 3])
}

/// Checks d(final pose, velocity)/d(initial pose, velocity, mass, inertia,
/// material) of a `steps`-step rollout.
fn check(
    world: &World,
    pose: &[[f64; 3]],
    vel: &[[f64; 3]],
    material: Material,
    steps: usize,
) -> GradcheckReport {
    let mp = world.mass_properties();
    let b = world.len();
    let inputs = [
        rows(pose),
        rows(vel),
        Tensor::from_data(mp.iter().map(|m| m.mass).collect(), vec![b]),
        Tensor::from_data(mp.iter().map(|m| m.inertia).collect(), vec![b]),
        // (k, c, μ): penalty contact rejects a restitution other than 0, so
        // it is a constant 0 rather than a perturbed input.
        Tensor::from_data(material.to_tensor().data[..3].to_vec(), vec![3]),
    ];
    let report = gradcheck_with(
        &config(),
        |t, v| {
            let state = RigidState {
                pose: v[0],
                velocity: v[1],
                step: 0,
            };
            let params = RigidParams {
                mass: v[2],
                inertia: v[3],
                material: t.concat(&[v[4], t.constant(Tensor::zeros(&[1]))], 0),
                wrench: None,
                kappa: None,
                shapes: None,
            };
            let end = world.rollout(&state, &params, steps).unwrap();
            t.concat(&[end.pose, end.velocity], 0)
        },
        &inputs,
    );
    eprintln!("{report}");
    assert!(report.passed, "{report}");
    report
}

/// The (body, other, feature) triples seen along the rollout, and the
/// number of steps with some contact deeper than 0.
fn trace(
    world: &World,
    pose: &[[f64; 3]],
    vel: &[[f64; 3]],
    material: Material,
    steps: usize,
) -> (BTreeSet<(usize, Option<usize>, Feature)>, usize) {
    let t = TensorTape::new();
    let params = world.params(&t, material);
    let mut s = world.state(&t, pose, vel);
    let (mut seen, mut touching) = (BTreeSet::new(), 0);
    for _ in 0..steps {
        let c = world.contacts(&s.pose.value().data);
        seen.extend(c.iter().map(|c| (c.body, c.other, c.feature)));
        touching += c.iter().any(|c| c.depth > 0.0) as usize;
        s = world.step(&s, &params);
    }
    (seen, touching)
}

/// Asserts that the rollout touches with exactly the features `want`, for
/// at least `min_steps` steps.
#[track_caller]
fn assert_features(
    world: &World,
    pose: &[[f64; 3]],
    vel: &[[f64; 3]],
    material: Material,
    steps: usize,
    want: &[(usize, Option<usize>, Feature)],
    min_steps: usize,
) {
    let (seen, touching) = trace(world, pose, vel, material, steps);
    let want: BTreeSet<_> = want.iter().copied().collect();
    assert_eq!(seen, want, "features in contact");
    assert!(touching >= min_steps, "in contact for {touching} steps");
}

fn world(penalty: Penalty, ground: Option<Ground>) -> World {
    let mut w = World::new(1e-3);
    w.penalty = penalty;
    w.friction_regularization = 0.05;
    if let Some(g) = ground {
        w.set_ground(g);
    }
    w
}

const SOFT: Penalty = Penalty::Softplus { width: 2e-3 };
const MATERIAL: Material = Material {
    stiffness: 2e3,
    damping: 10.0,
    friction: 0.4,
    restitution: 0.0,
};

#[test]
fn free_flight_of_spinning_bodies() {
    let mut w = world(Penalty::Relu, None);
    w.add_body(Shape::rect(0.5, 0.2), 10.0);
    w.add_body(Shape::circle(0.2), 10.0);
    w.add_body(Shape::polygon(&[[0.0, 0.0], [0.4, 0.0], [0.1, 0.3]]), 10.0);
    let pose = [[0.0, 0.0, 0.3], [3.0, 0.0, -1.0], [-3.0, 1.0, 2.0]];
    let vel = [[1.0, 2.0, 5.0], [-0.5, 3.0, -2.0], [0.2, 0.0, 1.0]];
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

use Feature::*;

#[test]
fn circle_bouncing_on_ground() {
    let mut w = world(SOFT, Some(Ground::slope(0.1)));
    w.add_body(Shape::circle(0.1), 30.0);
    // Falls 5 cm, bounces once with spin from friction.
    let (pose, vel) = ([[0.0, 0.16, 0.0]], [[0.8, -0.5, 3.0]]);
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[(0, None, GroundCircle)],
        10,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn box_landing_on_a_corner() {
    let mut w = world(SOFT, Some(Ground::horizontal(0.0)));
    w.add_body(Shape::rect(0.4, 0.2), 10.0);
    // Tilted 0.3 rad: lands on its lower-left vertex (0) and tips onto the
    // other (1); no face of the box ever touches.
    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    let lowest = 0.2 * s + 0.1 * c;
    let (pose, vel) = ([[0.0, lowest + 0.01, 0.3]], [[0.3, -0.6, 0.0]]);
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[(0, None, GroundVertex(0)), (0, None, GroundVertex(1))],
        10,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn box_resting_on_the_ground_with_exact_relu() {
    // Both bottom vertices stay in contact throughout: the ReLU model is
    // smooth along this trajectory.
    let mut w = world(Penalty::Relu, Some(Ground::horizontal(0.0)));
    w.add_body(Shape::rect(0.4, 0.2), 10.0);
    let (pose, vel) = ([[0.0, 0.098, 0.01]], [[0.05, 0.0, 0.0]]);
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[(0, None, GroundVertex(0)), (0, None, GroundVertex(1))],
        STEPS,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn circle_circle_collision() {
    let mut w = world(SOFT, None);
    w.add_body(Shape::circle(0.2), 10.0);
    w.add_body(Shape::circle(0.15), 20.0);
    // Oblique impact: spin arises from friction at the contact point.
    let pose = [[0.0, 0.0, 0.0], [0.5, 0.1, 0.0]];
    let vel = [[1.0, 0.0, 1.0], [-0.5, 0.0, 0.0]];
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[(0, Some(1), CircleCircle)],
        10,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn circle_on_polygon_face() {
    let mut w = world(SOFT, None);
    w.add_body(Shape::circle(0.1), 10.0);
    w.add_body(Shape::rect(0.6, 0.3), 10.0);
    // The circle hits the box's top face off-centre, setting it spinning.
    let pose = [[0.1, 0.3, 0.0], [0.0, 0.0, 0.05]];
    let vel = [[0.3, -1.0, 0.0], [0.0, 0.0, 0.0]];
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[(0, Some(1), CircleFace(2))],
        10,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn circle_on_polygon_vertex() {
    let mut w = world(SOFT, None);
    w.add_body(Shape::circle(0.1), 10.0);
    w.add_body(Shape::rect(0.4, 0.4), 10.0);
    // Heads for the top-right corner along the diagonal.
    let pose = [[0.2 + 0.09, 0.2 + 0.09, 0.0], [0.0, 0.0, 0.0]];
    let vel = [[-0.5, -0.45, 0.0], [0.0, 0.0, 0.0]];
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[(0, Some(1), CircleVertex(2))],
        10,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn polygon_vertex_on_polygon_face() {
    let mut w = world(SOFT, None);
    w.add_body(Shape::rect(0.2, 0.2), 10.0);
    w.add_body(Shape::rect(0.8, 0.3), 10.0);
    // A small box, turned 0.4 rad, hits the big box's top face with its
    // lowest vertex.
    let (c, s) = (0.4f64.cos(), 0.4f64.sin());
    let lowest = 0.1 * s + 0.1 * c;
    let pose = [[0.1, 0.15 + lowest + 0.005, 0.4], [0.0, 0.0, 0.0]];
    let vel = [[0.2, -0.6, 0.0], [0.0, 0.1, 0.0]];
    assert_features(
        &w,
        &pose,
        &vel,
        MATERIAL,
        STEPS,
        &[
            (0, Some(1), VertexFace(0, 2)),
            (0, Some(1), VertexFace(1, 2)),
        ],
        10,
    );
    check(&w, &pose, &vel, MATERIAL, STEPS);
}

#[test]
fn friction_of_a_sliding_box() {
    let mut w = world(SOFT, Some(Ground::horizontal(0.0)));
    w.add_body(Shape::rect(0.4, 0.2), 10.0);
    // Sliding at 1 m/s ≫ ε and decelerating at μg ≈ 4 m/s²: slips for the
    // whole rollout.
    let m = Material {
        stiffness: 2e3,
        damping: 20.0,
        friction: 0.4,
        restitution: 0.0,
    };
    let (pose, vel) = ([[0.0, 0.099, 0.0]], [[1.0, 0.0, 0.0]]);
    assert_features(
        &w,
        &pose,
        &vel,
        m,
        STEPS,
        &[(0, None, GroundVertex(0)), (0, None, GroundVertex(1))],
        STEPS,
    );
    check(&w, &pose, &vel, m, STEPS);
}

#[test]
fn friction_bringing_a_slow_box_to_rest() {
    let mut w = world(SOFT, Some(Ground::horizontal(0.0)));
    w.add_body(Shape::rect(0.4, 0.2), 10.0);
    // Slip of a few ε: the smooth (viscous) part of the friction law.
    let m = Material {
        stiffness: 2e3,
        damping: 20.0,
        friction: 0.4,
        restitution: 0.0,
    };
    let (pose, vel) = ([[0.0, 0.099, 0.0]], [[0.1, 0.0, 0.0]]);
    assert_features(
        &w,
        &pose,
        &vel,
        m,
        STEPS,
        &[(0, None, GroundVertex(0)), (0, None, GroundVertex(1))],
        STEPS,
    );
    check(&w, &pose, &vel, m, STEPS);
}

#[test]
fn stack_of_three_boxes_settling() {
    let mut w = world(SOFT, Some(Ground::horizontal(0.0)));
    w.add_body(Shape::rect(1.2, 0.3), 10.0);
    w.add_body(Shape::rect(0.9, 0.3), 10.0);
    w.add_body(Shape::rect(0.6, 0.3), 10.0);
    // Each box starts 2 mm above the one below, off-centre and slightly
    // turned; every box settles onto the one below with its two bottom
    // vertices on the top face of the box below.
    let pose = [
        [0.0, 0.152, 0.0],
        [0.05, 0.454, 0.01],
        [-0.03, 0.756, -0.01],
    ];
    let vel = [[0.0; 3]; 3];
    let m = Material {
        stiffness: 5e3,
        damping: 30.0,
        friction: 0.5,
        restitution: 0.0,
    };
    assert_features(
        &w,
        &pose,
        &vel,
        m,
        300,
        &[
            (0, None, GroundVertex(0)),
            (0, None, GroundVertex(1)),
            (1, Some(0), VertexFace(0, 2)),
            (1, Some(0), VertexFace(1, 2)),
            (2, Some(1), VertexFace(0, 2)),
            (2, Some(1), VertexFace(1, 2)),
        ],
        100,
    );
    check(&w, &pose, &vel, m, 300);
}
