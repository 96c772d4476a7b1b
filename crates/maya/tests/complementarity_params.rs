//! Gradients of complementarity rollouts w.r.t. κ and the shapes'
//! parameters (radii, polygon vertices): a closed form (a ball resting at
//! its central-path gap), gradchecks for every contact pair type, and the
//! errors for inputs the model cannot take.

use maya::contact::{ComplementarityOptions, ContactModel, Feature, Ground};
use maya::rigid::{Material, RigidParams, RigidState, Shape, World};
use maya::{gradcheck_richardson, Error, GradcheckConfig, TVar, Tensor, TensorTape};

const KAPPA: f64 = 1e-3;
const D_HAT: f64 = 2e-2;

fn world(shapes: &[Shape]) -> World {
    let mut w =
        World::new(1e-2).with_contact(ContactModel::Complementarity(ComplementarityOptions {
            kappa: KAPPA,
            activation_distance: D_HAT,
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

fn material(friction: f64) -> Material {
    Material {
        stiffness: 0.0,
        damping: 0.0,
        friction,
        restitution: 0.0,
    }
}

/// The parameters of `w` with κ = `KAPPA`·`kappa_scale` and the shapes'
/// parameters `shapes` as inputs.
fn params<'t>(
    w: &World,
    t: &'t TensorTape,
    kappa_scale: TVar<'t>,
    shapes: TVar<'t>,
) -> RigidParams<'t> {
    let kappa = kappa_scale
        .try_mul(&t.constant(Tensor::from_data(vec![KAPPA], vec![1])))
        .unwrap();
    let p = w.params(t, material(0.4));
    RigidParams {
        material: t.constant(material(0.4).to_tensor()),
        ..p
    }
    .with_kappa(kappa)
    .with_shapes(shapes)
}

/// A ball of radius r and mass m resting on the ground is an impact at
/// every step (its free motion −g h² closes the gap φ), so it carries a
/// small upward velocity x: the fixed point of a step has λ = m g h,
/// λ·x = κ w(φ) (w = (1 − φ/d̂)³) and, from the time-of-impact
/// correction, h x − τ g h = 0 with τ = φ/(g h − x): φ = x h − x²/g.
/// Released there, it stays: y = r + φ(κ), so ∂y/∂r = 1 and ∂y/∂κ from
/// the fixed point, F(φ, κ) = φ − x h + x²/g = 0.
#[test]
fn a_resting_ball_floats_at_its_central_gap_with_closed_form_gradients() {
    let (r, g, h) = (0.1, 9.81, 1e-2);
    let w = world(&[Shape::circle(r)]);
    let m = w.mass_properties()[0].mass;
    let weight = |phi: f64| (1.0 - phi / D_HAT).powi(3);
    let slope = |phi: f64| -3.0 * (1.0 - phi / D_HAT).powi(2) / D_HAT;
    let speed = |phi: f64| KAPPA * weight(phi) / (m * g * h);
    let f = |phi: f64| {
        let x = speed(phi);
        phi - x * h + x * x / g
    };
    let (mut phi, mut x) = (KAPPA / (m * g), 0.0);
    for _ in 0..100 {
        x = speed(phi);
        phi = x * h - x * x / g;
    }
    assert!(f(phi).abs() < 1e-18 && phi > 1e-6 && phi < D_HAT, "{phi}");
    // ∂F/∂φ and ∂F/∂κ, with ∂x/∂φ = κ w′/(m g h) and ∂x/∂κ = w/(m g h).
    let lever = h - 2.0 * x / g;
    let f_phi = 1.0 - lever * KAPPA * slope(phi) / (m * g * h);
    let f_kappa = -lever * weight(phi) / (m * g * h);
    let want = -f_kappa / f_phi;

    let t = TensorTape::new();
    let s0 = w.state(&t, &[[0.0, r + phi, 0.0]], &[[0.0, x, 0.0]]);
    let scale = t.var(Tensor::ones(&[1]));
    let shapes = t.var(w.shape_parameters());
    let end = w.rollout(&s0, &params(&w, &t, scale, shapes), 40).unwrap();
    let y = end.pose.try_slice(1, 1..2).unwrap().sum();
    assert!(
        (y.item() - (r + phi)).abs() < 1e-13,
        "y = {}, closed form {}",
        y.item(),
        r + phi
    );
    let grads = t.grad(y);
    let dy_dy0 = grads[s0.pose.idx()].data[1];
    let dy_dr = grads[shapes.idx()].data[0];
    let dy_dkappa = grads[scale.idx()].data[0] / KAPPA;
    eprintln!(
        "y error {:.1e} m, ∂y/∂r − 1 = {:.1e}, ∂y/∂κ relative error {:.1e}, ∂y/∂y₀ = {dy_dy0:.1e}",
        y.item() - (r + phi),
        dy_dr - 1.0,
        (dy_dkappa - want) / want
    );
    assert!((dy_dr - 1.0).abs() < 1e-9, "∂y/∂r = {dy_dr}");
    assert!(
        (dy_dkappa - want).abs() < 1e-7 * want,
        "∂y/∂κ = {dy_dkappa}, closed form {want}"
    );
    assert!(dy_dy0.abs() < 1e-8, "a settled ball forgets y₀: {dy_dy0}");
}

/// Asserts that, for each of `kinds`, a contact with a feature it accepts
/// comes within 5 mm along the `steps`-step rollout.
fn touches(
    w: &World,
    pose: &[[f64; 3]],
    vel: &[[f64; 3]],
    steps: usize,
    kinds: &[fn(&Feature) -> bool],
) {
    let t = TensorTape::new();
    let mut s = w.state(&t, pose, vel);
    let p = w.params(&t, material(0.4));
    let mut seen = vec![false; kinds.len()];
    for _ in 0..steps {
        for c in w.contacts(&s.pose.value().data) {
            for (seen, kind) in seen.iter_mut().zip(kinds) {
                *seen |= kind(&c.feature) && c.depth > -5e-3;
            }
        }
        s = w.rollout(&s, &p, 1).unwrap();
    }
    assert!(seen.iter().all(|x| *x), "pair types seen: {seen:?}");
}

/// Gradchecks (final pose, velocity) of a `steps`-step rollout w.r.t. the
/// scale of κ and every shape parameter, against Richardson differences.
fn check(w: &World, pose: &[[f64; 3]], vel: &[[f64; 3]], steps: usize, eps: f64) {
    let b = w.len();
    let (pose, vel) = (pose.concat(), vel.concat());
    let inputs = [Tensor::ones(&[1]), w.shape_parameters()];
    let config = GradcheckConfig {
        eps,
        atol: 1e-8,
        rtol: 1e-6,
    };
    let report = gradcheck_richardson(
        &config,
        |t, v| {
            let state = RigidState {
                pose: t.constant(Tensor::from_data(pose.clone(), vec![b, 3])),
                velocity: t.constant(Tensor::from_data(vel.clone(), vec![b, 3])),
                step: 0,
            };
            let end = w.rollout(&state, &params(w, t, v[0], v[1]), steps).unwrap();
            t.concat(&[end.pose, end.velocity], 0)
        },
        &inputs,
    );
    eprintln!("{report}");
    assert!(report.passed, "{report}");
}

#[test]
fn circle_ground_and_circle_circle_radii_pass_gradcheck() {
    let w = world(&[Shape::circle(0.1), Shape::circle(0.07)]);
    let pose = [[0.0, 0.3, 0.0], [0.25, 0.2, 0.3]];
    let vel = [[0.5, 0.0, 1.0], [-0.4, 0.5, 0.0]];
    touches(
        &w,
        &pose,
        &vel,
        100,
        &[
            |f| *f == Feature::GroundCircle,
            |f| *f == Feature::CircleCircle,
        ],
    );
    check(&w, &pose, &vel, 100, 1e-5);
}

#[test]
fn circle_polygon_radius_and_vertices_pass_gradcheck() {
    let w = world(&[Shape::rect(1.2, 0.1), Shape::circle(0.05)]);
    let pose = [[0.0, 0.0503, 0.0], [-0.2, 0.16, 0.0]];
    let vel = [[0.0; 3], [0.3, -0.2, 0.0]];
    touches(
        &w,
        &pose,
        &vel,
        100,
        &[|f| matches!(f, Feature::CircleFace(_) | Feature::CircleVertex(_))],
    );
    check(&w, &pose, &vel, 100, 1e-5);
}

#[test]
fn polygon_ground_and_polygon_polygon_vertices_pass_gradcheck() {
    let w = world(&[
        Shape::rect(0.4, 0.1),
        Shape::polygon(&[[-0.1, -0.05], [0.1, -0.06], [0.0, 0.09]]),
    ]);
    let pose = [[0.0, 0.0503, 0.0], [0.03, 0.2, 0.3]];
    let vel = [[0.0; 3], [0.4, 0.0, 1.0]];
    touches(
        &w,
        &pose,
        &vel,
        100,
        &[
            |f| matches!(f, Feature::GroundVertex(_)),
            |f| matches!(f, Feature::VertexFace(..)),
        ],
    );
    check(&w, &pose, &vel, 100, 1e-5);
}

#[test]
fn contact_inputs_the_model_cannot_take_are_errors() {
    let t = TensorTape::new();
    let w = world(&[Shape::circle(0.1), Shape::rect(0.2, 0.2)]);
    let s0 = w.state(&t, &[[0.0, 0.2, 0.0], [1.0, 0.2, 0.0]], &[[0.0; 3]; 2]);
    let base = w.params(&t, material(0.4));
    let run = |p: RigidParams<'_>| w.rollout(&s0, &p, 1).map(|_| ()).unwrap_err();
    let kappa = |k: f64| t.var(Tensor::from_data(vec![k], vec![1]));

    let e = run(base.with_kappa(kappa(-1e-3)));
    assert!(
        matches!(&e, Error::Parameter { name: "kappa", value, .. } if *value == -1e-3),
        "{e}"
    );
    let e = run(base.with_kappa(t.var(Tensor::from_data(vec![1e-3, 1e-3], vec![2]))));
    assert!(
        matches!(&e, Error::Shape { .. }) && e.to_string().contains("kappa"),
        "{e}"
    );
    let e = run(base.with_shapes(t.var(Tensor::ones(&[3]))));
    assert!(
        matches!(&e, Error::Shape { .. }) && e.to_string().contains("[9]"),
        "{e}"
    );
    // The box's third vertex pulled inside: not convex.
    let mut dented = w.shape_parameters();
    dented.data[5] = 0.0;
    dented.data[6] = 0.0;
    let e = run(base.with_shapes(t.var(dented)));
    assert!(
        matches!(&e, Error::InvalidShape { reason } if reason.contains("body 1")),
        "{e}"
    );
    let mut negative = w.shape_parameters();
    negative.data[0] = -0.1;
    let e = run(base.with_shapes(t.var(negative)));
    assert!(
        e.to_string().contains("body 0") && e.to_string().contains("radius"),
        "{e}"
    );

    let mut penalty = World::new(1e-3);
    penalty.add_body(Shape::circle(0.1), 1.0);
    let s0 = penalty.state(&t, &[[0.0, 0.2, 0.0]], &[[0.0; 3]]);
    let p = penalty.params(&t, material(0.4)).with_kappa(kappa(1e-3));
    let e = penalty.rollout(&s0, &p, 1).map(|_| ()).unwrap_err();
    assert!(
        matches!(&e, Error::Parameter { name: "kappa", .. })
            && e.to_string().contains("Complementarity"),
        "{e}"
    );
}

/// A checkpointed rollout recomputes each step's solve on the backward
/// pass: its loss and gradients (here w.r.t. the initial state, κ and the
/// shapes) are those of the plain rollout.
#[test]
fn a_checkpointed_rollout_gives_the_plain_rollouts_gradients() {
    use maya::physics::{rollout, Record};
    let w = world(&[Shape::rect(0.4, 0.1), Shape::circle(0.05)]);
    let run = |record: Record| {
        let t = TensorTape::new();
        let s0 = w.state(
            &t,
            &[[0.0, 0.0503, 0.0], [-0.1, 0.16, 0.0]],
            &[[0.0; 3], [0.3, -0.2, 0.0]],
        );
        let (scale, shapes) = (t.var(Tensor::ones(&[1])), t.var(w.shape_parameters()));
        let p = params(&w, &t, scale, shapes);
        let traj = rollout(&w, (s0.pose, s0.velocity), &p, 60, record).unwrap();
        let (q, v) = traj.last();
        let qv = t.concat(&[q, v], 0);
        let loss = qv.mul(&qv).sum();
        let g = t.grad(loss);
        let grads: Vec<Vec<f64>> = [s0.pose, s0.velocity, scale, shapes]
            .iter()
            .map(|x| g[x.idx()].data.clone())
            .collect();
        (loss.item(), grads)
    };
    let plain = run(Record::Last);
    let checkpointed = run(Record::Checkpointed { segment: Some(7) });
    assert_eq!(plain.0.to_bits(), checkpointed.0.to_bits());
    // The initial state's gradients are the same bits; κ's and the shapes'
    // sum each segment's share first, so they agree to rounding.
    assert_eq!(plain.1[..2], checkpointed.1[..2]);
    for (p, c) in plain.1[2..]
        .iter()
        .flatten()
        .zip(checkpointed.1[2..].iter().flatten())
    {
        assert!((p - c).abs() <= 1e-12 * p.abs().max(1e-3), "{p} vs {c}");
    }
    assert!(
        plain.1[3].iter().any(|g| g.abs() > 1e-6),
        "{:?}",
        plain.1[3]
    );
}

/// Warm starts change where each solve starts, not where it ends: a
/// rollout of a box sliding into a ball agrees with the cold one to the
/// solver's tolerance, in value and gradient; a checkpointed rollout
/// refuses them (its replay could not repeat the forward pass).
#[test]
fn warm_starts_reach_the_cold_solution_and_checkpointing_refuses_them() {
    use maya::physics::{rollout, Record};
    let cold = world(&[Shape::rect(0.2, 0.1), Shape::circle(0.05)]);
    let mut warm = cold.clone();
    if let ContactModel::Complementarity(o) = &mut warm.contact_model {
        o.warm_start = true;
    }
    let run = |w: &World, record: Record| {
        let t = TensorTape::new();
        let s0 = w.state(
            &t,
            &[[0.0, 0.0503, 0.0], [0.3, 0.0503, 0.0]],
            &[[1.0, 0.0, 0.0], [0.0; 3]],
        );
        let p = params(
            w,
            &t,
            t.var(Tensor::ones(&[1])),
            t.var(w.shape_parameters()),
        );
        let traj = rollout(w, (s0.pose, s0.velocity), &p, 80, record)?;
        let (q, v) = traj.last();
        let qv = t.concat(&[q, v], 0);
        let g = t.grad(qv.mul(&qv).sum());
        let mut out = qv.value().data;
        out.extend(g[s0.velocity.idx()].data.iter());
        out.extend(g[p.shapes.unwrap().idx()].data.iter());
        Ok::<_, Error>(out)
    };
    let (a, b) = (
        run(&cold, Record::Last).unwrap(),
        run(&warm, Record::Last).unwrap(),
    );
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs() / x.abs().max(1e-3))
        .fold(0.0, f64::max);
    eprintln!("warm vs cold: {worst:.1e} relative");
    assert!(worst < 1e-9, "warm vs cold: {worst:e}");
    let e = run(&warm, Record::Checkpointed { segment: Some(10) }).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Parameter {
                name: "warm_start",
                ..
            }
        ),
        "{e}"
    );
}
