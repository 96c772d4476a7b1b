//! Backward Euler through the pipeline: gradients by the implicit function
//! theorem against finite differences and a closed form, the stiff cloth
//! an explicit scheme cannot step, and honest solver errors.

use maya::dynamics::{Integrator, ParticleSystem, SpringNetwork};
use maya::{gradcheck, Error, NewtonOptions, TVar, Tensor, TensorTape};

/// A `side × side` spring grid, top row pinned by masking (as the cloth
/// demo does), stepped `steps` times with `integrator`.
#[allow(clippy::too_many_arguments)]
fn cloth<'t>(
    t: &'t TensorTape,
    side: usize,
    k: TVar<'t>,
    rest: TVar<'t>,
    m: TVar<'t>,
    p0: TVar<'t>,
    dt: f64,
    steps: usize,
    integrator: Integrator,
) -> maya::Result<TVar<'t>> {
    let n = side * side;
    let sys = ParticleSystem::try_new(m, dt)?
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_drag(t.constant(Tensor::scalar(1.0)))
        .with_springs(SpringNetwork::grid(side, side), k, rest, None)
        .with_integrator(integrator);
    let mask = t.constant(Tensor::from_fn(&[n, 1], |ij| {
        if ij[0] % side == side - 1 {
            0.0
        } else {
            1.0
        }
    }));
    let (mut p, mut v) = (p0, t.constant(Tensor::zeros(&[n, 2])));
    for _ in 0..steps {
        let (pf, vf) = sys.try_step(&p, &v)?;
        p = p.add(&pf.sub(&p).mul(&mask));
        v = vf.mul(&mask);
    }
    Ok(p)
}

fn grid(side: usize) -> (Tensor, Tensor) {
    let p0 = SpringNetwork::grid_positions(side, side, 0.1, [0.0, 0.0]);
    let rest = SpringNetwork::grid(side, side).lengths(&p0);
    (p0, rest)
}

#[test]
fn gradcheck_wrt_stiffness_rest_length_masses_and_initial_state() {
    for side in [2, 3] {
        let (p0, rest) = grid(side);
        let s = rest.numel();
        let n = side * side;
        // Perturb the start so that every spring is stretched or squeezed.
        let p0 = Tensor::from_fn(&[n, 2], |ix| {
            p0.data[ix[0] * 2 + ix[1]] + 0.01 * ((ix[0] * 2 + ix[1]) as f64).sin()
        });
        let k = Tensor::from_fn(&[s], |ix| 300.0 + 50.0 * (ix[0] as f64).cos());
        let m = Tensor::from_fn(&[n], |ix| 1.0 + 0.1 * ix[0] as f64);
        let r = gradcheck(
            |t, x| {
                cloth(
                    t,
                    side,
                    x[0],
                    x[1],
                    x[2],
                    x[3],
                    0.02,
                    4,
                    Integrator::BackwardEuler,
                )
                .unwrap()
            },
            &[k, rest, m, p0],
        );
        println!("backward Euler, {side}×{side} grid: {r}");
        assert!(r.passed, "side {side}: {r}");
    }
}

/// One linear spring (rest length 0, stiffness k) from a particle of mass
/// m to a partner 10¹² times heavier at the origin: along x,
/// m(x' − x − dt·v)/dt² = −k·x', so x' = (x + dt·v)/(1 + k·dt²/m) and
/// ∂x'/∂k = −(x + dt·v)(dt²/m)/(1 + k·dt²/m)², ∂x'/∂m = (x + dt·v)(k·dt²/m²)/(1 + k·dt²/m)².
#[test]
fn one_spring_matches_the_closed_form() {
    let (x, v, k, m, dt) = (0.3, 0.7, 50.0, 2.0, 0.1);
    let t = TensorTape::new();
    let kk = t.var(Tensor::full(&[1], k));
    let mm = t.var(Tensor::from_data(vec![m, 1e12], vec![2]));
    let sys = ParticleSystem::new(mm, dt)
        .with_springs(
            SpringNetwork::new(2, vec![(0, 1)]).unwrap(),
            kk,
            t.constant(Tensor::zeros(&[1])),
            None,
        )
        .with_integrator(Integrator::BackwardEuler);
    let p = t.constant(Tensor::from_data(vec![x, 0.0, 0.0, 0.0], vec![2, 2]));
    let vv = t.constant(Tensor::from_data(vec![v, 0.0, 0.0, 0.0], vec![2, 2]));
    let (p1, _) = sys.step(&p, &vv);
    let a = 1.0 + k * dt * dt / m;
    let want = (x + dt * v) / a;
    assert!(
        (p1.value().data[0] - want).abs() < 1e-10,
        "{} vs {want}",
        p1.value().data[0]
    );
    let g = t.grad(p1.at(&[0, 0]));
    let dk = -(x + dt * v) * (dt * dt / m) / (a * a);
    let dm = (x + dt * v) * (k * dt * dt / (m * m)) / (a * a);
    assert!(
        (g.wrt(&kk).data[0] - dk).abs() < 1e-10 * dk.abs(),
        "{} vs {dk}",
        g.wrt(&kk).data[0]
    );
    assert!(
        (g.wrt(&mm).data[0] - dm).abs() < 1e-9 * dm.abs(),
        "{} vs {dm}",
        g.wrt(&mm).data[0]
    );
}

/// The cloth demo's sheet with 100× stiffer springs (k = 3·10⁴ N/m) at a
/// 10× larger time step (dt = 0.05 s): semi-implicit Euler needs
/// dt < 2/√(k_eff/m) ≈ 8e-3 s per spring, so the step refuses it (before
/// the stability check it blew up); backward Euler steps through and its
/// gradient is checked.
#[test]
fn stiff_cloth_explodes_explicitly_and_steps_implicitly() {
    let side = 8;
    let (p0, rest) = grid(side);
    let s = rest.numel();
    let run = |integrator: Integrator| {
        let t = TensorTape::new();
        let k = t.var(Tensor::full(&[s], 3e4));
        let out = cloth(
            &t,
            side,
            k,
            t.constant(rest.clone()),
            t.constant(Tensor::ones(&[side * side])),
            t.constant(p0.clone()),
            0.05,
            40,
            integrator,
        );
        out.map(|p| p.value())
    };
    match run(Integrator::SemiImplicitEuler) {
        Err(e @ Error::Stability { .. }) => {
            assert!(
                e.to_string().contains("spring 0 between particles 0 and"),
                "{e}"
            )
        }
        other => panic!("expected the explicit step to be refused, got {other:?}"),
    }
    let p = run(Integrator::BackwardEuler).expect("backward Euler steps the stiff cloth");
    // The sheet hangs: every particle within its 0.7 m span of the pins,
    // and below them.
    assert!(
        p.data.iter().all(|x| x.is_finite() && x.abs() < 1.5),
        "{p:?}"
    );
    // The gradient through the stiff implicit steps (a smaller sheet).
    let (p0, rest) = grid(4);
    let r = gradcheck(
        |t, x| {
            cloth(
                t,
                4,
                x[0],
                t.constant(rest.clone()),
                t.constant(Tensor::ones(&[16])),
                t.constant(p0.clone()),
                0.05,
                5,
                Integrator::BackwardEuler,
            )
            .unwrap()
        },
        &[Tensor::full(&[rest.numel()], 3e4)],
    );
    println!("stiff cloth, backward Euler: {r}");
    assert!(r.passed, "{r}");
}

/// A sheet that passes every spring's stability check and still blows up:
/// at k = 640 N/m, dt = 0.05 s each spring needs dt < 2/√(k/(m/2)) ≈ 0.056
/// s, but the sheet's stiffest mode (neighbours moving against each other,
/// ω² ≈ 8k/m) needs dt < 2/√(8k/m) ≈ 0.028 s. The rollout names the step.
#[test]
fn the_explicit_blow_up_names_the_step_in_a_rollout() {
    let side = 8;
    let (p0, rest) = grid(side);
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[side * side])), 0.05)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_springs(
            SpringNetwork::grid(side, side),
            t.constant(Tensor::full(&[rest.numel()], 640.0)),
            t.constant(rest),
            None,
        );
    let p = t.constant(Tensor::from_fn(&[side * side, 2], |ix| {
        p0.data[ix[0] * 2 + ix[1]] + 1e-3 * (ix[0] as f64).sin()
    }));
    let v = t.constant(Tensor::zeros(&[side * side, 2]));
    let e = sys.rollout_final(&p, &v, 400).unwrap_err();
    match &e {
        Error::NonFinite { what, step } => {
            assert!(
                what.contains("particle") && what.contains("time step is the likely cause"),
                "{e}"
            );
            assert!(*step > 1 && *step <= 400, "{e}");
        }
        e => panic!("expected a non-finite state naming the step, got {e}"),
    }
    // Backward Euler runs the same rollout.
    let sys = sys.with_integrator(Integrator::BackwardEuler);
    let (p1, _) = sys.rollout_final(&p, &v, 40).unwrap();
    assert!(p1.value().is_finite());
}

#[test]
fn a_newton_solve_that_cannot_converge_is_an_error_naming_step_iterations_and_residual() {
    let side = 4;
    let (p0, rest) = grid(side);
    let t = TensorTape::new();
    let one_iteration = NewtonOptions {
        max_iter: 1,
        ..NewtonOptions::default()
    };
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[16])), 0.05)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_springs(
            SpringNetwork::grid(side, side),
            t.var(Tensor::full(&[rest.numel()], 3e4)),
            t.constant(rest),
            None,
        )
        .with_integrator(Integrator::BackwardEuler)
        .with_newton_options(one_iteration);
    let p = t.constant(Tensor::from_fn(&[16, 2], |ix| {
        p0.data[ix[0] * 2 + ix[1]] + 0.02 * (ix[0] as f64).sin()
    }));
    let v = t.constant(Tensor::zeros(&[16, 2]));
    let e = sys.rollout(&p, &v, 3).unwrap_err();
    match &e {
        Error::NotConverged {
            step,
            iters,
            residual,
            ..
        } => {
            assert_eq!((*step, *iters), (Some(1), 1), "{e}");
            assert!(*residual > 0.0 && residual.is_finite(), "{e}");
        }
        e => panic!("expected a solve error, got {e}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("backward Euler") && msg.contains("step 1") && msg.contains("max_iter = 1"),
        "{msg}"
    );
}
