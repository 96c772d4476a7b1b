//! Bad input to the rigid-body layer gets a clear error.

use maya::contact::Ground;
use maya::rigid::{Material, RigidParams, Shape, World};
use maya::{Error, Tensor, TensorTape};

const MATERIAL: Material = Material {
    stiffness: 1e4,
    damping: 10.0,
    friction: 0.5,
    restitution: 0.0,
};

#[test]
fn non_convex_polygon_is_rejected() {
    let arrow = [[0.0, 0.0], [2.0, 1.0], [0.0, 2.0], [0.5, 1.0]];
    match Shape::try_polygon(&arrow) {
        Err(Error::InvalidShape { reason }) => {
            assert!(
                reason.contains("not convex") && reason.contains("[0.5, 1.0]"),
                "{reason}"
            )
        }
        other => panic!("expected InvalidShape, got {other:?}"),
    }
}

#[test]
#[should_panic(expected = "not convex")]
fn non_convex_polygon_panics_in_operator_form() {
    Shape::polygon(&[[0.0, 0.0], [2.0, 1.0], [0.0, 2.0], [0.5, 1.0]]);
}

#[test]
fn bad_sizes_and_densities_are_named() {
    let e = Shape::try_circle(0.0).unwrap_err();
    assert!(
        matches!(e, Error::Parameter { name: "radius", value, .. } if value == 0.0),
        "{e}"
    );
    let e = Shape::try_rect(-1.0, 1.0).unwrap_err();
    assert!(matches!(e, Error::Parameter { name: "width", .. }), "{e}");
    let mut w = World::new(1e-3);
    for density in [0.0, -2.0, f64::NAN] {
        let e = w.try_add_body(Shape::circle(1.0), density).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Parameter {
                    name: "density",
                    ..
                }
            ),
            "{e}"
        );
    }
    assert!(World::try_new(-1e-3).is_err());
}

#[test]
fn nan_in_a_state_names_the_body_and_step() {
    let mut w = World::new(1e-3);
    w.set_ground(Ground::horizontal(0.0));
    for _ in 0..3 {
        w.add_body(Shape::circle(0.1), 1.0);
    }
    let t = TensorTape::new();
    let p = w.params(&t, MATERIAL);
    let s = w.state(
        &t,
        &[[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 1.0, 0.0]],
        &[[0.0, 0.0, 0.0], [0.0; 3], [0.0, f64::NAN, 0.0]],
    );
    let e = w.try_step(&s, &p).unwrap_err();
    assert_eq!(
        e,
        Error::NonFinite {
            what: "state of body 2".into(),
            step: 0
        }
    );
    assert_eq!(e.to_string(), "non-finite state of body 2 at step 0");

    // A state that overflows during the rollout is caught at the step where
    // it does: a huge force on body 1, switched on for the 4th step.
    let s = w.state(
        &t,
        &[[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 1.0, 0.0]],
        &[[0.0; 3]; 3],
    );
    let s = w.rollout(&s, &p, 3).unwrap();
    let mut huge = Tensor::zeros(&[3, 3]);
    huge.data[3] = f64::MAX;
    let loaded = RigidParams {
        wrench: Some(t.constant(huge)),
        ..p
    };
    let e = w.try_step(&s, &loaded).unwrap_err();
    assert_eq!(
        e,
        Error::NonFinite {
            what: "state of body 1".into(),
            step: 4
        }
    );
}

#[test]
fn time_step_too_large_for_the_stiffness_names_the_bound() {
    let mut w = World::new(0.01);
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::circle(0.1), 100.0 / std::f64::consts::PI); // 1 kg
    let t = TensorTape::new();
    let s = w.state(&t, &[[0.0, 0.1, 0.0]], &[[0.0; 3]]);
    let p = w.params(
        &t,
        Material {
            stiffness: 1e6,
            damping: 0.0,
            friction: 0.0,
            restitution: 0.0,
        },
    );
    // One contact on 1 kg: 2/√(k/m) = 2/1000 s.
    match w.try_step(&s, &p).unwrap_err() {
        Error::TimeStep {
            dt,
            bound,
            stiffness_bound,
            stiffness,
            damping,
            mass,
        } => {
            assert_eq!((dt, stiffness, damping), (0.01, 1e6, 0.0));
            // Undamped, both bounds are 2/√(k/m).
            assert!(
                (mass - 1.0).abs() < 1e-12
                    && (stiffness_bound - 2e-3).abs() < 1e-15
                    && (bound - 2e-3).abs() < 1e-15,
                "{bound} {stiffness_bound} {mass}"
            );
        }
        e => panic!("expected TimeStep, got {e}"),
    }
    let msg = w.try_step(&s, &p).unwrap_err().to_string();
    assert!(msg.contains("dt < 2/√(k/m) = 2e-3"), "{msg}");
    // The bound is public, to pick dt.
    let (bound, _) = w.stable_time_step(1e6, &[1.0], &[0.005]);
    w.dt = bound / 4.0;
    assert!(w.try_step(&s, &p).is_ok());
}

#[test]
fn bad_masses_and_materials_are_errors() {
    let mut w = World::new(1e-3);
    w.add_body(Shape::circle(0.1), 1.0);
    let t = TensorTape::new();
    let s = w.state(&t, &[[0.0; 3]], &[[0.0; 3]]);
    let p = w.params(&t, MATERIAL);
    let bad_mass = RigidParams {
        mass: t.var(Tensor::from_data(vec![-1.0], vec![1])),
        ..p
    };
    let e = w.try_step(&s, &bad_mass).unwrap_err();
    assert!(matches!(e, Error::Parameter { name: "mass", .. }), "{e}");
    let bad_mu = RigidParams {
        material: t.var(Tensor::from_data(vec![1e4, 1.0, -0.1, 0.0], vec![4])),
        ..p
    };
    let e = w.try_step(&s, &bad_mu).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Parameter {
                name: "friction",
                ..
            }
        ),
        "{e}"
    );
    let wrong = RigidParams {
        mass: t.var(Tensor::from_data(vec![1.0, 1.0], vec![2])),
        ..p
    };
    let e = w.try_step(&s, &wrong).unwrap_err();
    assert!(e.to_string().contains("mass must be [B]"), "{e}");
}

/// A restitution outside [0, 1] is an error under either model, and any
/// restitution other than 0 is an error under penalty contact (whose bounce
/// comes from its damping) instead of being ignored.
#[test]
fn restitution_out_of_range_or_under_penalty_is_named() {
    use maya::contact::{ComplementarityOptions, ContactModel};
    let mut penalty = World::new(1e-3);
    penalty.add_body(Shape::circle(0.1), 1.0);
    let complementarity = penalty.clone().with_contact(ContactModel::Complementarity(
        ComplementarityOptions::simulation(),
    ));
    let t = TensorTape::new();
    let cases = [
        (&penalty, 0.5, "needs ContactModel::Complementarity"),
        (&penalty, -0.1, "[0, 1]"),
        (&complementarity, 1.2, "[0, 1]"),
        (&complementarity, f64::NAN, "[0, 1]"),
    ];
    for (world, e, says) in cases {
        let s = world.state(&t, &[[0.0, 1.0, 0.0]], &[[0.0; 3]]);
        let material = Material {
            restitution: e,
            ..MATERIAL
        };
        let err = world
            .rollout(&s, &world.params(&t, material), 1)
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                Error::Parameter {
                    name: "restitution",
                    ..
                }
            ) && msg.contains(says),
            "e = {e}: {msg}"
        );
    }
    // e = 1 is valid under complementarity contact.
    let s = complementarity.state(&t, &[[0.0, 1.0, 0.0]], &[[0.0; 3]]);
    let material = Material {
        restitution: 1.0,
        ..MATERIAL
    };
    complementarity
        .rollout(&s, &complementarity.params(&t, material), 1)
        .unwrap();
}
