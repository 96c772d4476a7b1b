//! Bad input to the dynamics layer gets a clear `maya::Error`.

use maya::dynamics::{Ground, ParticleSystem, SpringNetwork};
use maya::{try_euler_step, try_semi_implicit_euler_step, Error, Tensor, TensorTape};

#[test]
fn mismatched_positions_and_velocities() {
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[4])), 0.01);
    let p = t.var(Tensor::zeros(&[4, 3]));
    let v = t.var(Tensor::zeros(&[4, 2]));
    let e = sys.try_step(&p, &v).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "particle_step",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("[4, 3]") && e.to_string().contains("[4, 2]"));
    let a = t.var(Tensor::zeros(&[3]));
    assert!(matches!(
        try_euler_step(&p, &v, &a, 0.1),
        Err(Error::Shape { .. })
    ));
    // An acceleration that does not broadcast to the velocities.
    let a = t.var(Tensor::zeros(&[2]));
    assert!(matches!(
        try_semi_implicit_euler_step(&p, &p, &a, 0.1),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn masses_of_the_wrong_shape() {
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[5])), 0.01);
    let p = t.var(Tensor::zeros(&[4, 3]));
    let e = sys.try_step(&p, &p).unwrap_err();
    assert!(
        matches!(e, Error::Shape { ref rhs, .. } if rhs == &vec![5]),
        "{e}"
    );
}

#[test]
fn a_force_parameter_of_the_wrong_shape() {
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[4])), 0.01)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
    let p = t.var(Tensor::zeros(&[4, 3])); // 3D state, 2D gravity
    assert!(matches!(
        sys.try_step(&p, &p),
        Err(Error::Shape { op: "gravity", .. })
    ));
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[4])), 0.01)
        .with_ground(Ground::floor(2), t.scalar(1.0));
    assert!(matches!(
        sys.try_step(&p, &p),
        Err(Error::Shape { op: "ground", .. })
    ));
}

#[test]
fn non_positive_or_non_finite_mass() {
    let t = TensorTape::new();
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let m = t.constant(Tensor::from_data(vec![1.0, bad], vec![2]));
        let e = ParticleSystem::try_new(m, 0.01)
            .err()
            .expect("a bad mass is an error");
        assert!(matches!(e, Error::Parameter { name: "mass", .. }), "{e}");
    }
}

#[test]
fn non_positive_dt() {
    let t = TensorTape::new();
    let x = t.var(Tensor::zeros(&[2, 2]));
    for dt in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            try_euler_step(&x, &x, &x, dt),
            Err(Error::Parameter { name: "dt", .. })
        ));
        assert!(matches!(
            try_semi_implicit_euler_step(&x, &x, &x, dt),
            Err(Error::Parameter { name: "dt", .. })
        ));
        let m = t.constant(Tensor::ones(&[2]));
        assert!(matches!(
            ParticleSystem::try_new(m, dt),
            Err(Error::Parameter { name: "dt", .. })
        ));
    }
}

#[test]
fn spring_indices_out_of_range() {
    let e = SpringNetwork::new(4, vec![(0, 1), (2, 7)]).unwrap_err();
    assert_eq!(
        e,
        Error::Index {
            op: "SpringNetwork::new",
            index: 7,
            len: 4
        }
    );
    assert!(SpringNetwork::new(4, vec![(2, 2)]).is_err());
    // A network built for 9 particles used on 4.
    let t = TensorTape::new();
    let net = SpringNetwork::grid(3, 3);
    let s = net.len();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[4])), 0.01).with_springs(
        net,
        t.constant(Tensor::ones(&[s])),
        t.constant(Tensor::ones(&[s])),
        None,
    );
    let p = t.var(Tensor::rand_uniform(&[4, 2], 1));
    // The error names both particle counts (it used to say "index 9 is
    // out of range for length 4").
    let e = sys.try_step(&p, &p).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "springs", .. }), "{e}");
    assert!(
        e.to_string().contains("[9]") && e.to_string().contains("[4]"),
        "{e}"
    );
    assert!(e.to_string().contains("another number of particles"), "{e}");
}

/// A chain of three unit masses whose every spring passes its stability
/// check (dt²k = 1.6 < 2 on the effective mass 1/2) but whose stiffest
/// mode (ω² = 3k/m) needs dt²k < 4/3: the explicit update overshoots and
/// grows ≈ 2.4× per step until it overflows.
fn exploding<'t>(t: &'t TensorTape) -> (ParticleSystem<'t>, maya::TVar<'t>, maya::TVar<'t>) {
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 1.0).with_springs(
        chain(),
        t.var(Tensor::full(&[2], 1.6)),
        t.constant(Tensor::ones(&[2])),
        None,
    );
    let (p0, v0) = chain_state(t);
    (sys, p0, v0)
}

fn chain() -> SpringNetwork {
    SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap()
}

fn chain_state(t: &TensorTape) -> (maya::TVar<'_>, maya::TVar<'_>) {
    let p0 = Tensor::from_data(vec![0.0, 0.0, 1.1, 0.0, 2.0, 0.0], vec![3, 2]);
    (t.constant(p0), t.constant(Tensor::zeros(&[3, 2])))
}

#[test]
fn non_finite_state_is_reported_with_its_step() {
    // Find the first non-finite step by hand, one step at a time.
    let t = TensorTape::new();
    let (sys, p0, v0) = exploding(&t);
    let (mut p, mut v) = (p0, v0);
    let mut first = None;
    for s in 1..1000 {
        (p, v) = sys.step(&p, &v);
        if !(p.value().is_finite() && v.value().is_finite()) {
            first = Some(s);
            break;
        }
    }
    let first = first.expect("the system blows up");
    // Past the first periodic check, so the replay that names the step runs.
    assert!(first > 40, "blew up at step {first}");
    for rollout in 0..3 {
        let t = TensorTape::new();
        let (sys, p0, v0) = exploding(&t);
        let e = match rollout {
            0 => sys.rollout(&p0, &v0, 1000).map(|_| ()),
            1 => sys.rollout_final(&p0, &v0, 1000).map(|_| ()),
            _ => sys
                .rollout_checkpointed(&p0, &v0, 1000, Some(7))
                .map(|_| ()),
        }
        .unwrap_err();
        match e {
            Error::NonFinite { step, ref what } => {
                assert_eq!(step, first, "rollout {rollout}: {e}");
                assert!(what.contains("particle"), "{what}");
            }
            other => panic!("expected NonFinite, got {other}"),
        }
    }
    // Off the tape (nothing needs a gradient) the same step is reported.
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 1.0).with_springs(
        chain(),
        t.constant(Tensor::full(&[2], 1.6)),
        t.constant(Tensor::ones(&[2])),
        None,
    );
    let (p0, v0) = chain_state(&t);
    let e = sys.rollout_final(&p0, &v0, 1000).unwrap_err();
    assert!(
        matches!(e, Error::NonFinite { step, .. } if step == first),
        "{e}"
    );
}
