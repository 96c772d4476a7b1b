//! Soft bodies through the pipeline: gradients of explicit and
//! backward-Euler rollouts against central differences for every material
//! (w.r.t. the Young's modulus field, the initial velocity, the loads and
//! the rest positions), and known answers: the translation invariance of
//! the rest-shape gradient, and a free body's momentum and centre of mass.

use maya::dynamics::Integrator;
use maya::fem::{rectangle, Diagonal, MaterialModel, SoftBody, TriMesh};
use maya::{gradcheck, NewtonOptions, TVar, Tensor, TensorTape};

const MODELS: [MaterialModel; 4] = [
    MaterialModel::LinearElastic,
    MaterialModel::StVenantKirchhoff,
    MaterialModel::Corotated,
    MaterialModel::NeoHookean,
];

fn strip(nx: usize, ny: usize) -> TriMesh {
    rectangle([0.0, 0.0], 1.0, 0.5, nx, ny, Diagonal::Alternating).unwrap()
}

/// x = (E [T], v0 [V, 2], X [V, 2], load [V, 2]); the left edge is
/// clamped; starts from X plus a fixed wiggle so that forces act at once.
fn clamped_strip<'t>(
    t: &'t TensorTape,
    mesh: &TriMesh,
    model: MaterialModel,
    x: &[TVar<'t>],
    integrator: Integrator,
    dt: f64,
    steps: usize,
) -> TVar<'t> {
    let (e, v0, rest, load) = (x[0], x[1], x[2], x[3]);
    let body = SoftBody::new(mesh, model, rest, e, 0.3, t.scalar(2.0));
    let clamped = mesh.vertices_where(|p| p[0] == 0.0);
    let sys = body
        .system(dt)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_load(load)
        .with_fixed(&clamped)
        .with_integrator(integrator)
        .with_newton_options(NewtonOptions {
            atol: 1e-13,
            ..NewtonOptions::default()
        });
    let wiggle = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        0.01 * ((3 * ix[0] + 2 * ix[1]) as f64).sin()
    });
    let x0 = t.constant(mesh.rest_tensor()).add(&t.constant(wiggle));
    let (xt, vt) = sys.rollout_final(&x0, &v0, steps).unwrap();
    let target = t.constant(Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        0.1 * (ix[0] as f64).cos() + ix[1] as f64
    }));
    xt.sub(&target)
        .square()
        .sum()
        .add(&vt.square().sum().scalar_mul(0.01))
}

fn inputs(mesh: &TriMesh) -> Vec<Tensor> {
    let (v, t) = (mesh.n_vertices(), mesh.n_triangles());
    vec![
        Tensor::from_fn(&[t], |e| 2e3 * (1.0 + 0.1 * (e[0] as f64).sin())),
        Tensor::from_fn(&[v, 2], |ix| 0.05 * ((ix[0] + 3 * ix[1]) as f64).cos()),
        mesh.rest_tensor(),
        Tensor::from_fn(&[v, 2], |ix| 0.3 * ((2 * ix[0] + ix[1]) as f64).sin()),
    ]
}

#[test]
fn explicit_rollout_gradients_match_central_differences_for_every_material() {
    for (nx, ny) in [(2, 1), (3, 2)] {
        let mesh = strip(nx, ny);
        for model in MODELS {
            let r = gradcheck(
                |t, x| clamped_strip(t, &mesh, model, x, Integrator::SemiImplicitEuler, 2e-3, 25),
                &inputs(&mesh),
            );
            println!("explicit, {model:?}, {nx}×{ny}: {r}");
            assert!(r.passed, "{model:?}, {nx}×{ny}: {r}");
        }
    }
}

#[test]
fn backward_euler_rollout_gradients_match_central_differences_for_every_material() {
    for (nx, ny) in [(2, 1), (3, 2)] {
        let mesh = strip(nx, ny);
        for model in MODELS {
            let r = gradcheck(
                |t, x| clamped_strip(t, &mesh, model, x, Integrator::BackwardEuler, 0.02, 5),
                &inputs(&mesh),
            );
            println!("backward Euler, {model:?}, {nx}×{ny}: {r}");
            assert!(r.passed, "{model:?}, {nx}×{ny}: {r}");
        }
    }
}

/// The rest geometry depends on differences of rest positions only, so
/// Σ_v ∂L/∂X_v = 0 for any loss when X enters through it alone.
#[test]
fn the_rest_shape_gradient_is_translation_invariant() {
    let mesh = strip(4, 2);
    for integrator in [Integrator::SemiImplicitEuler, Integrator::BackwardEuler] {
        let t = TensorTape::new();
        let x: Vec<TVar> = inputs(&mesh).into_iter().map(|x| t.var(x)).collect();
        let (dt, steps) = match integrator {
            Integrator::BackwardEuler => (0.02, 5),
            _ => (2e-3, 25),
        };
        let loss = clamped_strip(
            &t,
            &mesh,
            MaterialModel::NeoHookean,
            &x,
            integrator,
            dt,
            steps,
        );
        let g = t.grad(loss).wrt(&x[2]).clone();
        let scale = g.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            scale > 1e-3,
            "the rest shape matters: max |∂L/∂X| = {scale}"
        );
        for k in 0..2 {
            let sum: f64 = g.data.iter().skip(k).step_by(2).sum();
            assert!(
                sum.abs() < 1e-11 * scale * mesh.n_vertices() as f64,
                "{integrator:?}: Σ ∂L/∂X along axis {k} = {sum:e} (scale {scale:e})"
            );
        }
    }
}

/// A free body (no Dirichlet, no gravity) conserves linear and angular
/// momentum exactly under semi-implicit Euler; its centre of mass moves at
/// the initial mean velocity, so ∂x_cm(T)/∂v0ᵢ = (mᵢ/M)·T·dt and
/// ∂x_cm(T)/∂Eₑ = 0, for symplectic and backward Euler alike.
#[test]
fn a_free_body_keeps_its_momentum_and_its_centre_of_mass_moves_uniformly() {
    let mesh = rectangle([0.0, 0.0], 1.0, 0.6, 5, 3, Diagonal::Cross).unwrap();
    let (nv, nt) = (mesh.n_vertices(), mesh.n_triangles());
    for (integrator, dt, steps) in [
        (Integrator::SemiImplicitEuler, 1e-3, 400),
        (Integrator::BackwardEuler, 0.01, 20),
    ] {
        for model in [MaterialModel::NeoHookean, MaterialModel::Corotated] {
            let t = TensorTape::new();
            let youngs = t.var(Tensor::from_fn(&[nt], |e| {
                1e3 * (1.0 + 0.2 * (e[0] as f64).cos())
            }));
            let v0 = t.var(Tensor::from_fn(&[nv, 2], |ix| {
                0.3 * ((7 * ix[0] + 3 * ix[1]) as f64).sin()
            }));
            let body = SoftBody::new(
                &mesh,
                model,
                t.constant(mesh.rest_tensor()),
                youngs,
                0.25,
                t.scalar(1.0),
            );
            let sys = body.system(dt).with_integrator(integrator);
            let x0 = t.constant(mesh.rest_tensor());
            let (xt, vt) = sys.rollout_final(&x0, &v0, steps).unwrap();
            let m = body.rest.mass.value().data;
            let total: f64 = m.iter().sum();
            let (x, v, vi, xi) = (xt.value(), vt.value(), v0.value(), x0.value());
            let momentum =
                |v: &Tensor, k: usize| -> f64 { (0..nv).map(|i| m[i] * v.data[2 * i + k]).sum() };
            let angular = |x: &Tensor, v: &Tensor| -> f64 {
                (0..nv)
                    .map(|i| {
                        m[i] * (x.data[2 * i] * v.data[2 * i + 1]
                            - x.data[2 * i + 1] * v.data[2 * i])
                    })
                    .sum()
            };
            for k in 0..2 {
                let (p0, p1) = (momentum(&vi, k), momentum(&v, k));
                assert!(
                    (p1 - p0).abs() < 1e-12,
                    "{integrator:?} {model:?}: momentum {p0} → {p1}"
                );
                let cm =
                    |x: &Tensor| (0..nv).map(|i| m[i] * x.data[2 * i + k]).sum::<f64>() / total;
                let expected = cm(&xi) + steps as f64 * dt * p0 / total;
                assert!(
                    (cm(&x) - expected).abs() < 1e-12,
                    "{integrator:?} {model:?}: x_cm"
                );
            }
            if integrator == Integrator::SemiImplicitEuler {
                let (l0, l1) = (angular(&xi, &vi), angular(&x, &v));
                assert!(
                    (l1 - l0).abs() < 1e-11 * l0.abs().max(1.0),
                    "{model:?}: L {l0} → {l1}"
                );
            }
            // ∂x_cm/∂v0 and ∂x_cm/∂E.
            let weights = t.constant(Tensor::from_fn(&[nv, 2], |ix| {
                if ix[1] == 0 {
                    m[ix[0]] / total
                } else {
                    0.0
                }
            }));
            let g = t.grad_wrt(xt.mul(&weights).sum(), &[v0, youngs]);
            for (i, mi) in m.iter().enumerate() {
                let expected = mi / total * steps as f64 * dt;
                assert!(
                    (g[0].data[2 * i] - expected).abs() < 1e-12,
                    "{integrator:?} {model:?}: ∂x_cm/∂v0[{i}]"
                );
                assert!(g[0].data[2 * i + 1].abs() < 1e-12);
            }
            let de = g[1].data.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(
                de < 1e-14,
                "{integrator:?} {model:?}: max |∂x_cm/∂E| = {de:e}"
            );
        }
    }
}

/// A checkpointed rollout's gradient is the recorded one's, bit for bit
/// in value and to round-off in gradient.
#[test]
fn checkpointed_fem_rollouts_give_the_recorded_gradient() {
    let mesh = strip(3, 2);
    let run = |checkpointed: bool| -> Vec<Tensor> {
        let t = TensorTape::new();
        let x: Vec<TVar> = inputs(&mesh).into_iter().map(|x| t.var(x)).collect();
        let body = SoftBody::new(
            &mesh,
            MaterialModel::NeoHookean,
            x[2],
            x[0],
            0.3,
            t.scalar(1.0),
        );
        let sys = body.system(2e-3).with_fixed(&[0, 1, 2]);
        let x0 = t.constant(mesh.rest_tensor());
        let xt = if checkpointed {
            sys.rollout_checkpointed(&x0, &x[1], 60, Some(8)).unwrap().0
        } else {
            sys.rollout_final(&x0, &x[1], 60).unwrap().0
        };
        t.grad_wrt(xt.square().sum(), &[x[0], x[1], x[2]])
    };
    let (a, b) = (run(false), run(true));
    for (ga, gb) in a.iter().zip(&b) {
        for (u, v) in ga.data.iter().zip(&gb.data) {
            assert!((u - v).abs() <= 1e-12 * u.abs().max(1e-6), "{u} vs {v}");
        }
    }
}

/// The block of the next test, with E and v0 from `x`, after `steps` steps.
fn drop_block<'t>(
    mesh: &TriMesh,
    t: &'t TensorTape,
    x: &[TVar<'t>],
    steps: usize,
) -> (TVar<'t>, TVar<'t>) {
    let body = SoftBody::new(
        mesh,
        MaterialModel::NeoHookean,
        t.constant(mesh.rest_tensor()),
        x[0],
        0.3,
        t.scalar(100.0),
    );
    let sys = body
        .system(5e-4)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_ground(maya::dynamics::Ground::floor(2), t.scalar(1e5));
    let x0 = t.constant(mesh.rest_tensor());
    sys.rollout_final(&x0, &x[1], steps).unwrap()
}

/// A soft block dropped on the ground (the pipeline's half-plane penalty
/// contact on its vertices): it lands and stays above the ground within
/// the penalty's compliance, and the gradient through contact matches
/// central differences.
#[test]
fn a_soft_block_lands_on_the_ground_and_its_gradient_holds_through_contact() {
    let mesh = rectangle([0.0, 0.05], 0.4, 0.2, 4, 2, Diagonal::Alternating).unwrap();
    let youngs = Tensor::from_fn(&[mesh.n_triangles()], |e| {
        5e3 * (1.0 + 0.1 * (e[0] as f64).sin())
    });
    let v0 = Tensor::from_fn(
        &[mesh.n_vertices(), 2],
        |ix| if ix[1] == 1 { -1.0 } else { 0.1 },
    );
    let t = TensorTape::new();
    let (x, v) = drop_block(
        &mesh,
        &t,
        &[t.constant(youngs.clone()), t.constant(v0.clone())],
        1200,
    );
    let (x, v) = (x.value(), v.value());
    let lowest = x
        .data
        .iter()
        .skip(1)
        .step_by(2)
        .fold(f64::INFINITY, |m, &y| m.min(y));
    // Within the penalty's compliance: a bottom vertex (about 1.6 kg with
    // its share of the block) landing at 1 m/s sinks about v·√(m/k) = 4 mm.
    assert!(
        lowest > -5e-3 && lowest < 0.02,
        "lowest vertex at y = {lowest}"
    );
    // No damping anywhere: the block bounces, but contact creates no
    // energy (it fell 5 cm at 1 m/s: √(1 + 2g·0.05) ≈ 1.4 m/s at most).
    let fastest = v.data.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(fastest < 3.0, "fastest vertex at {fastest} m/s");
    let mean_y: f64 = x.data.iter().skip(1).step_by(2).sum::<f64>() / mesh.n_vertices() as f64;
    assert!(
        mean_y > 0.05,
        "the block stays above the ground: mean y = {mean_y}"
    );
    // 0.06 s: the bottom row is in contact from step 100 or so.
    let r = gradcheck(
        |t, x| {
            let (x, v) = drop_block(&mesh, t, x, 160);
            x.square().sum().add(&v.square().sum().scalar_mul(1e-3))
        },
        &[youngs, v0],
    );
    println!("soft block on the ground: {r}");
    assert!(r.passed, "{r}");
}

/// The Lamé fields and the density are free fields too.
#[test]
fn gradients_reach_the_lame_fields_and_the_density() {
    let mesh = strip(3, 2);
    let nt = mesh.n_triangles();
    for model in MODELS {
        let r = gradcheck(
            |t, x| {
                let body = SoftBody::try_from_lame(
                    &mesh,
                    model,
                    t.constant(mesh.rest_tensor()),
                    x[0],
                    x[1],
                    x[2],
                )
                .unwrap();
                let sys = body
                    .system(1e-3)
                    .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
                    .with_fixed(&mesh.vertices_where(|p| p[0] == 0.0));
                let v0 = t.constant(Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
                    0.1 * (ix[0] as f64 + ix[1] as f64).sin()
                }));
                let (x, _) = sys
                    .rollout_final(&t.constant(mesh.rest_tensor()), &v0, 20)
                    .unwrap();
                x.square().sum()
            },
            &[
                Tensor::from_fn(&[nt], |e| 800.0 * (1.0 + 0.1 * (e[0] as f64).cos())),
                Tensor::from_fn(&[nt], |e| 1200.0 * (1.0 + 0.1 * (e[0] as f64).sin())),
                Tensor::from_fn(&[nt], |e| 2.0 + 0.1 * e[0] as f64),
            ],
        );
        println!("{model:?}, Lamé and density: {r}");
        assert!(r.passed, "{model:?}: {r}");
    }
}
