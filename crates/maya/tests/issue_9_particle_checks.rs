//! Issue 9, items 3 and 4: a particle system checks its parameters and,
//! under an explicit integrator, the stability bounds of its springs,
//! ground and drag when a step or a rollout starts. Before, springs with
//! k = 5e5 at dt = 1e-2 returned positions of ~1e77 as `Ok`, and NaN or
//! negative parameters were accepted or reported as "non-finite position
//! of particle 0".
//!
//! The assertions read the messages (what a user sees) and the variants'
//! `Debug` text, so this file also compiles against the code before the
//! checks: there every test fails but three that hold before and after
//! (stable runs below the bounds, the blow-up detector, the mass check).

use maya::dynamics::{Ground, Integrator, ParticleSystem, SpringNetwork};
use maya::{Error, TVar, Tensor, TensorTape};

/// Two unit masses 1 m apart on one spring of stiffness `k`, stretched by
/// 10 %, at time step `dt`.
fn spring_pair<'t>(
    t: &'t TensorTape,
    k: f64,
    damping: Option<f64>,
    dt: f64,
) -> (ParticleSystem<'t>, TVar<'t>, TVar<'t>) {
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[2])), dt).with_springs(
        SpringNetwork::new(2, vec![(0, 1)]).unwrap(),
        t.var(Tensor::from_data(vec![k], vec![1])),
        t.constant(Tensor::from_data(vec![1.0], vec![1])),
        damping.map(|c| t.constant(Tensor::from_data(vec![c], vec![1]))),
    );
    let p0 = t.constant(Tensor::from_data(vec![0.0, 0.0, 1.1, 0.0], vec![2, 2]));
    let v0 = t.constant(Tensor::zeros(&[2, 2]));
    (sys, p0, v0)
}

/// The largest |entry| of a state, for the "before" behaviour (huge `Ok`).
fn max_abs(x: &TVar) -> f64 {
    x.value().data.iter().fold(0.0, |a, b| a.max(b.abs()))
}

#[test]
fn stiff_springs_are_refused_naming_the_spring_both_bounds_and_the_fixes() {
    // k = 5e5 N/m on the effective mass 1·1/(1 + 1) = 0.5 kg: semi-implicit
    // Euler needs dt < 2/√(k/m) = 2e-3 s; dt = 1e-2 s is 5× past it. The
    // rollout used to return |p| ≈ 1e77 as Ok.
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, 5e5, None, 1e-2);
    let e = sys.rollout_final(&p0, &v0, 100).unwrap_err();
    let msg = e.to_string();
    assert!(format!("{e:?}").starts_with("Stability"), "{e:?}");
    for part in [
        "dt = 0.01 is too large for spring 0 between particles 0 and 1",
        "semi-implicit Euler",
        "stiffness k = 500000",
        "mass m = 0.5",
        "dt < 2/√(k/m) = 2.000e-3 s",
        "lower dt, the stiffness or the damping, or use Integrator::BackwardEuler",
    ] {
        assert!(msg.contains(part), "missing `{part}` in: {msg}");
    }
    // The single step and the full recording say the same.
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, 5e5, None, 1e-2);
    assert_eq!(sys.try_step(&p0, &v0).unwrap_err().to_string(), msg);
    assert_eq!(sys.rollout(&p0, &v0, 100).unwrap_err().to_string(), msg);
    // With damping both bounds are given: c = 100 kg/s adds
    // (√(c² + 4km) − c)/k = (√(1e4 + 1e6) − 100)/5e5 ≈ 1.810e-3 s.
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, 5e5, Some(100.0), 1e-2);
    let msg = sys.rollout_final(&p0, &v0, 100).unwrap_err().to_string();
    assert!(
        msg.contains("dt < (√(c² + 4km) − c)/k = 1.810e-3 s (2.000e-3 s for the stiffness alone)"),
        "{msg}"
    );
}

#[test]
#[should_panic(expected = "is too large for spring 0 between particles 0 and 1")]
fn the_panicking_step_says_the_same() {
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, 5e5, None, 1e-2);
    let _ = sys.step(&p0, &v0);
}

#[test]
fn below_the_bound_the_pair_runs_and_backward_euler_is_never_restricted() {
    // dt = 1.9e-3 s < 2e-3 s: stable (it oscillates, bounded).
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, 5e5, None, 1.9e-3);
    let (p, _) = sys.rollout_final(&p0, &v0, 2000).unwrap();
    assert!(max_abs(&p) < 2.0, "{:?}", p.value());
    // Backward Euler takes the stiff pair at dt = 1e-2 s.
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, 5e5, None, 1e-2);
    let sys = sys.with_integrator(Integrator::BackwardEuler);
    let (p, _) = sys.rollout_final(&p0, &v0, 20).unwrap();
    assert!(max_abs(&p) < 2.0, "{:?}", p.value());
}

#[test]
fn each_explicit_scheme_has_its_own_bound() {
    // dt·√(k/m) = 2.5 on the pair: past semi-implicit Euler's, Verlet's and
    // explicit Euler's 2, inside RK4's 2√2 ≈ 2.83.
    let (m, dt) = (0.5, 1e-2);
    let k = m * (2.5f64 / dt).powi(2);
    for (integrator, refused) in [
        (Integrator::SemiImplicitEuler, Some("semi-implicit Euler")),
        (Integrator::VelocityVerlet, Some("velocity Verlet")),
        (Integrator::Euler, Some("explicit Euler")),
        (Integrator::Rk4, None),
    ] {
        let t = TensorTape::new();
        let (sys, p0, v0) = spring_pair(&t, k, None, dt);
        let sys = sys.with_integrator(integrator);
        match (sys.try_step(&p0, &v0), refused) {
            (Err(e), Some(name)) => assert!(e.to_string().contains(name), "{e}"),
            (Ok(_), None) => {}
            (r, _) => panic!("{integrator:?}: {:?}", r.map(|_| ())),
        }
    }
    // RK4 refuses past 2√2: dt·√(k/m) = 3.
    let t = TensorTape::new();
    let (sys, p0, v0) = spring_pair(&t, m * (3.0f64 / dt).powi(2), None, dt);
    let e = sys
        .with_integrator(Integrator::Rk4)
        .try_step(&p0, &v0)
        .unwrap_err();
    assert!(
        e.to_string().contains("RK4") && e.to_string().contains("2√2/√(k/m)"),
        "{e}"
    );
}

/// One particle of mass `m` resting 1 cm in the ground of stiffness `k`,
/// with drag `c`.
fn on_the_ground<'t>(
    t: &'t TensorTape,
    m: f64,
    k: f64,
    c: Option<f64>,
    dt: f64,
) -> (ParticleSystem<'t>, TVar<'t>, TVar<'t>) {
    let mut sys = ParticleSystem::new(t.constant(Tensor::from_data(vec![1.0, m], vec![2])), dt)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_ground(Ground::floor(2), t.scalar(k));
    if let Some(c) = c {
        sys = sys.with_drag(t.scalar(c));
    }
    let p0 = t.constant(Tensor::from_data(vec![0.0, 1.0, 0.5, -0.01], vec![2, 2]));
    let v0 = t.constant(Tensor::zeros(&[2, 2]));
    (sys, p0, v0)
}

#[test]
fn a_stiff_ground_is_refused_on_the_lightest_particle() {
    // k = 1e7 N/m on m = 0.01 kg: dt < 2/√(k/m) ≈ 6.32e-5 s; dt = 1e-3 s.
    let t = TensorTape::new();
    let (sys, p0, v0) = on_the_ground(&t, 0.01, 1e7, None, 1e-3);
    let e = sys.rollout_final(&p0, &v0, 50).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("too large for ground contact of particle 1 (the lightest)")
            && msg.contains("stiffness k = 10000000")
            && msg.contains("dt < 2/√(k/m) = 6.325e-5 s")
            && msg.contains("Integrator::BackwardEuler"),
        "{msg}"
    );
    // The same particle at dt = 5e-5 s is fine, and so is backward Euler.
    let t = TensorTape::new();
    let (sys, p0, v0) = on_the_ground(&t, 0.01, 1e7, None, 5e-5);
    assert!(sys.rollout_final(&p0, &v0, 50).is_ok());
    let t = TensorTape::new();
    let (sys, p0, v0) = on_the_ground(&t, 0.01, 1e7, None, 1e-3);
    let sys = sys.with_integrator(Integrator::BackwardEuler);
    assert!(sys.rollout_final(&p0, &v0, 5).is_ok());
}

#[test]
fn strong_drag_is_refused_where_its_decay_factor_passes_minus_one() {
    // c = 300 kg/s on 1 kg at dt = 1e-2 s: v' = (1 − dt·c/m)·v = −2v per
    // step; before, the rollout returned velocities of ~2¹⁰⁰ as Ok.
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 1e-2).with_drag(t.scalar(300.0));
    let p0 = t.constant(Tensor::zeros(&[3, 2]));
    let v0 = t.constant(Tensor::ones(&[3, 2]));
    let msg = sys.rollout_final(&p0, &v0, 100).unwrap_err().to_string();
    assert!(
        msg.contains("too large for drag on particle 0 (the lightest)")
            && msg.contains("damping c = 300")
            && msg.contains("dt < 2m/c = 6.667e-3 s"),
        "{msg}"
    );
    // Drag with ground contact: the ground's bound includes the drag, on
    // the lightest particle (0.01 kg): dt²k/m + 2dt·c/m < 4 gives
    // 6.275e-3 s; dt = 6.3e-3 s is inside the ground's 2/√(k/m) ≈ 6.325e-3 s
    // but not with the drag.
    let t = TensorTape::new();
    let (sys, p0, v0) = on_the_ground(&t, 0.01, 1e3, Some(0.05), 6.3e-3);
    let msg = sys.rollout_final(&p0, &v0, 10).unwrap_err().to_string();
    assert!(
        msg.contains("ground contact of particle 1 (the lightest), with the drag as its damping")
            && msg
                .contains("(√(c² + 4km) − c)/k = 6.275e-3 s (6.325e-3 s for the stiffness alone)"),
        "{msg}"
    );
}

#[test]
fn batched_environments_are_named() {
    // Environment 1's spring is the stiff one.
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[2])), 1e-2).with_springs(
        SpringNetwork::new(2, vec![(0, 1)]).unwrap(),
        t.var(Tensor::from_data(vec![10.0, 5e5], vec![2, 1])),
        t.constant(Tensor::from_data(vec![1.0], vec![1])),
        None,
    );
    let p0 = t.constant(Tensor::from_data(
        vec![0.0, 0.0, 1.1, 0.0, 0.0, 0.0, 1.1, 0.0],
        vec![2, 2, 2],
    ));
    let v0 = t.constant(Tensor::zeros(&[2, 2, 2]));
    let msg = sys.try_step(&p0, &v0).unwrap_err().to_string();
    assert!(
        msg.contains("spring 0 between particles 0 and 1 in environment 1"),
        "{msg}"
    );
}

/// The error of a pair system whose parameter `which` is `bad`.
fn bad_parameter(which: &str, bad: f64, integrator: Integrator) -> String {
    let t = TensorTape::new();
    let s = |x: f64| t.scalar(x);
    let springs = |k: f64, rest: f64, c: f64| {
        let mut k_all = vec![10.0; 5];
        let mut rest_all = vec![1.0; 5];
        let mut c_all = vec![0.1; 5];
        k_all[4] = k;
        rest_all[4] = rest;
        c_all[4] = c;
        (
            t.var(Tensor::from_data(k_all, vec![5])),
            t.var(Tensor::from_data(rest_all, vec![5])),
            t.var(Tensor::from_data(c_all, vec![5])),
        )
    };
    let pick = |name: &str| if which == name { bad } else { 1.0 };
    let (k, rest, c) = springs(10.0 * pick("k"), pick("rest"), 0.1 * pick("c"));
    let net = SpringNetwork::new(6, (0..5).map(|i| (i, i + 1)).collect()).unwrap();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[6])), 1e-3)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81 * pick("g")], vec![2])))
        .with_drag(s(0.1 * pick("drag")))
        .with_ground(Ground::floor(2), s(1e3 * pick("ground")))
        .with_springs(net, k, rest, Some(c))
        .with_integrator(integrator);
    let p0 = t.constant(Tensor::from_fn(&[6, 2], |ix| {
        if ix[1] == 0 {
            ix[0] as f64
        } else {
            1.0
        }
    }));
    let v0 = t.constant(Tensor::zeros(&[6, 2]));
    match sys.rollout_final(&p0, &v0, 40) {
        Ok(_) => "Ok".into(),
        Err(e) => {
            // The step says the same.
            let msg = e.to_string();
            assert_eq!(sys.try_step(&p0, &v0).unwrap_err().to_string(), msg);
            msg
        }
    }
}

#[test]
fn nan_or_negative_parameters_are_named_with_their_value() {
    let cases = [
        (
            "ground",
            f64::NAN,
            "ground stiffness = NaN is invalid: must be finite and ≥ 0",
        ),
        (
            "ground",
            -1.0,
            "ground stiffness = -1000 is invalid: must be finite and ≥ 0",
        ),
        (
            "drag",
            f64::NAN,
            "drag = NaN is invalid: must be finite and ≥ 0",
        ),
        (
            "drag",
            -2.0,
            "drag = -0.2 is invalid: must be finite and ≥ 0",
        ),
        (
            "g",
            f64::INFINITY,
            "gravity component 1 = -inf is invalid: must be finite",
        ),
        (
            "k",
            f64::NAN,
            "stiffness of spring 4 = NaN is invalid: must be finite and ≥ 0",
        ),
        (
            "k",
            -1.0,
            "stiffness of spring 4 = -10 is invalid: must be finite and ≥ 0",
        ),
        (
            "rest",
            f64::NAN,
            "rest length of spring 4 = NaN is invalid: must be finite and ≥ 0",
        ),
        (
            "c",
            -1.0,
            "damping of spring 4 = -0.1 is invalid: must be finite and ≥ 0",
        ),
    ];
    for integrator in [Integrator::SemiImplicitEuler, Integrator::BackwardEuler] {
        assert_eq!(bad_parameter("none", 0.0, integrator), "Ok");
        for (which, bad, want) in cases {
            let got = bad_parameter(which, bad, integrator);
            assert_eq!(got, want, "{which} = {bad} under {integrator:?}");
        }
    }
}

#[test]
fn a_network_unstable_below_every_spring_bound_is_still_caught_blaming_the_time_step() {
    // Three unit masses in a chain: each spring's bound is 2/√(k/0.5), but
    // the chain's stiffest mode has ω² = 3k/m. dt²k = 1.6 passes every
    // spring (needs < 2) and blows up (needs < 4/3).
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 1.0).with_springs(
        SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap(),
        t.constant(Tensor::full(&[2], 1.6)),
        t.constant(Tensor::ones(&[2])),
        None,
    );
    let p0 = t.constant(Tensor::from_data(
        vec![0.0, 0.0, 1.1, 0.0, 2.0, 0.0],
        vec![3, 2],
    ));
    let v0 = t.constant(Tensor::zeros(&[3, 2]));
    let msg = sys.rollout_final(&p0, &v0, 5000).unwrap_err().to_string();
    assert!(msg.contains("time step is the likely cause"), "{msg}");
}

#[test]
fn masses_are_checked_as_before() {
    let t = TensorTape::new();
    let e = ParticleSystem::try_new(
        t.constant(Tensor::from_data(vec![1.0, f64::NAN], vec![2])),
        0.01,
    )
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "mass = NaN is invalid: masses and inertias must be positive and finite"
    );
    assert!(matches!(e, Error::Parameter { name: "mass", .. }));
}
