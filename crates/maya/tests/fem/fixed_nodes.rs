//! Fixed (kinematic) nodes of the pipeline: a fixed particle is moved by
//! no force, under every scheme, explicit and implicit; forces on the free
//! particles still depend on it, and gradients (through the implicit
//! function theorem for backward Euler, whose fixed columns are dropped and
//! put back in the adjoint) match central differences.

use maya::dynamics::{Integrator, ParticleSystem, SpringNetwork};
use maya::{gradcheck, Error, TVar, Tensor, TensorTape};

/// A `side × side` spring grid with its top row fixed, `steps` steps.
fn cloth<'t>(
    t: &'t TensorTape,
    side: usize,
    x: &[TVar<'t>],
    steps: usize,
    integrator: Integrator,
) -> TVar<'t> {
    let (k, rest, m, p0, v0) = (x[0], x[1], x[2], x[3], x[4]);
    let top: Vec<usize> = (0..side).map(|i| i * side + side - 1).collect();
    let sys = ParticleSystem::new(m, 0.02)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_drag(t.constant(Tensor::scalar(0.5)))
        .with_springs(SpringNetwork::grid(side, side), k, rest, None)
        .with_integrator(integrator)
        .with_fixed(&top);
    let (p, v) = sys.rollout_final(&p0, &v0, steps).unwrap();
    p.square().sum().add(&v.sum())
}

fn inputs(side: usize) -> Vec<Tensor> {
    let n = side * side;
    let p0 = SpringNetwork::grid_positions(side, side, 0.1, [0.0, 0.0]);
    let rest = SpringNetwork::grid(side, side).lengths(&p0);
    let s = rest.numel();
    let p0 = Tensor::from_fn(&[n, 2], |ix| {
        p0.data[ix[0] * 2 + ix[1]] + 0.01 * ((ix[0] * 2 + ix[1]) as f64).sin()
    });
    // The fixed nodes get a velocity too: prescribed motion.
    let v0 = Tensor::from_fn(&[n, 2], |ix| 0.05 * ((3 * ix[0] + ix[1]) as f64).cos());
    let k = Tensor::from_fn(&[s], |ix| 300.0 + 50.0 * (ix[0] as f64).cos());
    let m = Tensor::from_fn(&[n], |ix| 1.0 + 0.1 * ix[0] as f64);
    vec![k, rest, m, p0, v0]
}

#[test]
fn gradients_through_fixed_nodes_match_central_differences() {
    for integrator in [
        Integrator::SemiImplicitEuler,
        Integrator::Rk4,
        Integrator::BackwardEuler,
    ] {
        for side in [2, 3] {
            let r = gradcheck(|t, x| cloth(t, side, x, 5, integrator), &inputs(side));
            println!("{integrator:?}, {side}×{side}: {r}");
            assert!(r.passed, "{integrator:?}, side {side}: {r}");
        }
    }
}

#[test]
fn fixed_nodes_move_at_their_own_velocity_under_every_scheme() {
    let side = 3;
    for integrator in [
        Integrator::SemiImplicitEuler,
        Integrator::Euler,
        Integrator::VelocityVerlet,
        Integrator::Rk4,
        Integrator::BackwardEuler,
    ] {
        let t = TensorTape::new();
        let x: Vec<TVar> = inputs(side).into_iter().map(|x| t.constant(x)).collect();
        let top: Vec<usize> = (0..side).map(|i| i * side + side - 1).collect();
        let sys = ParticleSystem::new(x[2], 0.02)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
            .with_springs(SpringNetwork::grid(side, side), x[0], x[1], None)
            .with_integrator(integrator)
            .with_fixed(&top);
        let steps = 10;
        let (p, v) = sys.rollout_final(&x[3], &x[4], steps).unwrap();
        let (p, v, p0, v0) = (p.value(), v.value(), x[3].value(), x[4].value());
        for &i in &top {
            for k in 0..2 {
                let j = 2 * i + k;
                let expected = p0.data[j] + steps as f64 * 0.02 * v0.data[j];
                assert!(
                    (p.data[j] - expected).abs() < 1e-12,
                    "{integrator:?}: node {i} at {} instead of {expected}",
                    p.data[j]
                );
                assert!((v.data[j] - v0.data[j]).abs() < 1e-12, "{integrator:?}");
            }
        }
        // The free nodes fell.
        assert!(p.data[1] < p0.data[1] - 1e-3, "{integrator:?}");
    }
}

#[test]
fn fixing_a_particle_past_the_count_names_it() {
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 0.01);
    let e = sys.try_with_fixed(&[1, 3]).err().expect("index 3 of 3");
    assert!(
        matches!(
            e,
            Error::Index {
                index: 3,
                len: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("with_fixed"), "{e}");
}
