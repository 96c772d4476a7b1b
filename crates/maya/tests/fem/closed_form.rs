//! Soft bodies against closed forms: the fixed–fixed bar's exact discrete
//! wave under semi-implicit Euler (value and ∂/∂E), and backward Euler's
//! exact energy decrease for linear elasticity. And the errors a soft body
//! raises: an explicit time step past the stability bound, an element
//! turned inside out (which, at which step, its det F), a bad Poisson ratio.

use maya::dynamics::Integrator;
use maya::fem::{rectangle, triangle_energy, Diagonal, MaterialModel, SoftBody, TriMesh};
use maya::{Error, Tensor, TensorTape};

const L: f64 = 1.0;
const H: f64 = 0.25;
const NX: usize = 16;
const NY: usize = 2;
const AMPLITUDE: f64 = 1e-3;

/// u_x(X, t_n) = A sin(kX) g(θ), g(θ) = cos((n + ½)θ)/cos(θ/2), with
/// θ = 2 asin(ω_h dt/2), ω_h = (2c/h) sin(kh/2), c = √(E/ρ) (ν = 0, so
/// λ = 0 and the bar's y-stresses vanish), k = π/L, h = L/nx; and its
/// derivative in E (ω_h ∝ √E): A sin(kX) g′(θ)·(dt/cos(θ/2))·ω_h/(2E).
fn bar_wave(x: f64, n: usize, youngs: f64, dt: f64) -> (f64, f64) {
    let (k, h) = (std::f64::consts::PI / L, L / NX as f64);
    let omega = 2.0 * youngs.sqrt() / h * (k * h / 2.0).sin();
    let theta = 2.0 * (omega * dt / 2.0).asin();
    let a = n as f64 + 0.5;
    let g = (a * theta).cos() / (theta / 2.0).cos();
    let dg = (-a * (a * theta).sin() * (theta / 2.0).cos()
        + 0.5 * (a * theta).cos() * (theta / 2.0).sin())
        / (theta / 2.0).cos().powi(2);
    let shape = AMPLITUDE * (k * x).sin();
    let dtheta_de = dt / (theta / 2.0).cos() * omega / (2.0 * youngs);
    (shape * g, shape * dg * dtheta_de)
}

#[test]
fn the_fixed_fixed_bar_follows_its_exact_discrete_wave() {
    let mesh = rectangle([0.0, 0.0], L, H, NX, NY, Diagonal::Right).unwrap();
    let (youngs, dt, steps) = (1e4, 2e-4, 300);
    let t = TensorTape::new();
    let e = t.var(Tensor::scalar(youngs));
    let body = SoftBody::new(
        &mesh,
        MaterialModel::LinearElastic,
        t.constant(mesh.rest_tensor()),
        e,
        0.0,
        t.scalar(1.0),
    );
    let ends = mesh.vertices_where(|p| p[0] == 0.0 || p[0] == L);
    let sys = body.system(dt).with_fixed(&ends);
    let k = std::f64::consts::PI / L;
    let x0 = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        let p = mesh.vertices()[ix[0]];
        p[ix[1]]
            + if ix[1] == 0 {
                AMPLITUDE * (k * p[0]).sin()
            } else {
                0.0
            }
    });
    let x0 = t.constant(x0);
    let traj = sys
        .rollout(
            &x0,
            &t.constant(Tensor::zeros(&[mesh.n_vertices(), 2])),
            steps,
        )
        .unwrap();
    let mut worst: f64 = 0.0;
    for n in [1, 7, 100, steps] {
        let x = traj.positions[n].value();
        for (v, p) in mesh.vertices().iter().enumerate() {
            let (u, _) = bar_wave(p[0], n, youngs, dt);
            worst = worst.max((x.data[2 * v] - p[0] - u).abs());
            worst = worst.max((x.data[2 * v + 1] - p[1]).abs());
        }
    }
    println!("bar wave: max |u − exact| = {worst:e} (A = {AMPLITUDE})");
    assert!(worst < 1e-10 * AMPLITUDE, "max error {worst:e}");
    // ∂u/∂E at one vertex at the last step.
    let probe = 5 * (NY + 1) + 1;
    let (_, du_de) = bar_wave(mesh.vertices()[probe][0], steps, youngs, dt);
    let g = t.grad(traj.positions[steps].at(&[probe, 0])).wrt(&e).data[0];
    println!("∂u/∂E: tape {g:e}, closed form {du_de:e}");
    assert!((g - du_de).abs() < 1e-8 * du_de.abs(), "{g} vs {du_de}");
}

/// E = ½vᵀMv + U(x) with U = Σ A ψ = ½uᵀKu for linear elasticity:
/// E_{n+1} − E_n = −½‖v_{n+1} − v_n‖²_M − ½‖u_{n+1} − u_n‖²_K, where
/// ½‖w‖²_K = U(X + w).
#[test]
fn backward_euler_dissipates_exactly_the_energy_of_its_increments() {
    let mesh = rectangle([0.0, 0.0], 1.0, 0.5, 6, 3, Diagonal::Alternating).unwrap();
    let t = TensorTape::new();
    let (mu, lam) = maya::fem::lame(5e3, 0.3);
    let body = SoftBody::new(
        &mesh,
        MaterialModel::LinearElastic,
        t.constant(mesh.rest_tensor()),
        t.scalar(5e3),
        0.3,
        t.scalar(1.0),
    );
    let clamped = mesh.vertices_where(|p| p[0] == 0.0);
    let sys = body
        .system(0.02)
        .with_fixed(&clamped)
        .with_integrator(Integrator::BackwardEuler);
    let v0 = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        let p = mesh.vertices()[ix[0]];
        if p[0] == 0.0 {
            0.0
        } else {
            (0.4 * p[0] + 0.3 * (ix[1] as f64)).sin()
        }
    });
    let x0 = t.constant(mesh.rest_tensor());
    let traj = sys.rollout(&x0, &t.constant(v0), 10).unwrap();
    let b = body.rest.dm_inv.value().data;
    let area = body.rest.area.value().data;
    let m = body.rest.mass.value().data;
    let rest = mesh.rest_tensor().data;
    let potential = |w: &[f64]| -> f64 {
        // U at rest + w.
        mesh.triangles()
            .iter()
            .enumerate()
            .map(|(e, tri)| {
                let c = |v: usize| [rest[2 * v] + w[2 * v], rest[2 * v + 1] + w[2 * v + 1]];
                let bm = [[b[4 * e], b[4 * e + 1]], [b[4 * e + 2], b[4 * e + 3]]];
                let x = [c(tri[0]), c(tri[1]), c(tri[2])];
                triangle_energy(MaterialModel::LinearElastic, &x, &bm, area[e], mu, lam).unwrap()
            })
            .sum()
    };
    let kinetic = |v: &[f64]| -> f64 {
        (0..m.len())
            .map(|i| 0.5 * m[i] * (v[2 * i].powi(2) + v[2 * i + 1].powi(2)))
            .sum()
    };
    let state = |n: usize| {
        (
            traj.positions[n].value().data,
            traj.velocities[n].value().data,
        )
    };
    let mut total_loss = 0.0;
    for n in 0..10 {
        let ((x0, v0), (x1, v1)) = (state(n), state(n + 1));
        let u = |x: &[f64]| {
            x.iter()
                .zip(&rest)
                .map(|(a, b)| a - b)
                .collect::<Vec<f64>>()
        };
        let (u0, u1) = (u(&x0), u(&x1));
        let change = kinetic(&v1) + potential(&u1) - kinetic(&v0) - potential(&u0);
        let dv: Vec<f64> = v1.iter().zip(&v0).map(|(a, b)| a - b).collect();
        let du: Vec<f64> = u1.iter().zip(&u0).map(|(a, b)| a - b).collect();
        let loss = kinetic(&dv) + potential(&du);
        let energy = kinetic(&v0) + potential(&u0);
        assert!(
            (change + loss).abs() < 1e-10 * energy,
            "step {n}: ΔE = {change:e}, dissipation {loss:e}"
        );
        total_loss += loss;
    }
    assert!(
        total_loss > 1e-3 * (kinetic(&state(0).1)),
        "backward Euler dissipates"
    );
}

fn bar() -> TriMesh {
    rectangle([0.0, 0.0], 2.0, 0.5, 8, 2, Diagonal::Right).unwrap()
}

#[test]
fn an_explicit_step_past_the_elements_stability_bound_is_refused() {
    let mesh = bar();
    let t = TensorTape::new();
    let body = SoftBody::new(
        &mesh,
        MaterialModel::NeoHookean,
        t.constant(mesh.rest_tensor()),
        t.scalar(1e4),
        0.3,
        t.scalar(1.0),
    );
    // h = 0.25, c = √((λ + 2μ)/ρ) ≈ 116 m/s: dt_crit ≈ 0.69 h/c ≈ 1.5e-3.
    let zero = t.constant(Tensor::zeros(&[mesh.n_vertices(), 2]));
    let x0 = t.constant(mesh.rest_tensor());
    assert!(body.system(1e-3).rollout_final(&x0, &zero, 10).is_ok());
    let e = body.system(5e-3).rollout_final(&x0, &zero, 10).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Stability { .. }), "{msg}");
    assert!(
        msg.contains("element 3") && msg.contains("neo-hookean"),
        "{msg}"
    );
    // Backward Euler takes the same step.
    let be = body.system(5e-3).with_integrator(Integrator::BackwardEuler);
    assert!(be.rollout_final(&x0, &zero, 10).is_ok());
}

#[test]
fn an_element_turned_inside_out_is_named_with_its_step_and_det_f() {
    let mesh = bar();
    let t = TensorTape::new();
    let body = SoftBody::new(
        &mesh,
        MaterialModel::LinearElastic,
        t.constant(mesh.rest_tensor()),
        t.scalar(1e3),
        0.3,
        t.scalar(1.0),
    );
    // The top-right corner thrown down through the bar at 200 m/s (linear
    // elasticity has no barrier against inversion; Neo-Hookean's ln J
    // pushes back when the step resolves it).
    let corner = mesh.n_vertices() - 1;
    let v0 = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        if ix[0] == corner && ix[1] == 1 {
            -200.0
        } else {
            0.0
        }
    });
    let x0 = t.constant(mesh.rest_tensor());
    let e = body
        .system(1e-4)
        .rollout_final(&x0, &t.constant(v0), 100)
        .unwrap_err();
    match &e {
        Error::InvertedElement {
            corners, step, det, ..
        } => {
            assert!(corners.contains(&corner), "{e}");
            assert!(step.is_some_and(|s| (5..=40).contains(&s)), "{e}");
            assert!(*det <= 0.0, "{e}");
        }
        other => panic!("expected an inverted element, got {other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("inverted") && msg.contains("at step") && msg.contains("det F"),
        "{msg}"
    );
}

#[test]
fn a_poisson_ratio_outside_plane_strains_range_is_refused() {
    let mesh = bar();
    let t = TensorTape::new();
    for nu in [0.5, -1.0, f64::NAN] {
        let e = SoftBody::try_new(
            &mesh,
            MaterialModel::NeoHookean,
            t.constant(mesh.rest_tensor()),
            t.scalar(1e3),
            nu,
            t.scalar(1.0),
        )
        .err()
        .expect("refused");
        assert!(e.to_string().contains("Poisson"), "{e}");
    }
}

#[test]
fn newton_that_does_not_converge_names_the_step_iterations_and_residual() {
    let mesh = bar();
    let t = TensorTape::new();
    let body = SoftBody::new(
        &mesh,
        MaterialModel::NeoHookean,
        t.constant(mesh.rest_tensor()),
        t.scalar(1e3),
        0.3,
        t.scalar(1.0),
    );
    let sys = body
        .system(0.05)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_fixed(&mesh.vertices_where(|p| p[0] == 0.0))
        .with_integrator(Integrator::BackwardEuler)
        .with_newton_options(maya::NewtonOptions {
            max_iter: 1,
            ..maya::NewtonOptions::default()
        });
    let x0 = t.constant(mesh.rest_tensor());
    let zero = t.constant(Tensor::zeros(&[mesh.n_vertices(), 2]));
    let e = sys.rollout_final(&x0, &zero, 5).unwrap_err();
    match &e {
        Error::NotConverged {
            step,
            iters,
            residual,
            ..
        } => {
            assert_eq!((*step, *iters), (Some(1), 1), "{e}");
            assert!(*residual > 0.0, "{e}");
        }
        other => panic!("expected a solver error, got {other}"),
    }
}

/// A body held nowhere has no unique equilibrium: its stiffness matrix is
/// singular (rigid motions), and the static solve says so.
#[test]
fn a_static_solve_of_a_floating_body_reports_its_singular_matrix() {
    let mesh = bar();
    let t = TensorTape::new();
    let body = SoftBody::new(
        &mesh,
        MaterialModel::LinearElastic,
        t.constant(mesh.rest_tensor()),
        t.scalar(1e3),
        0.3,
        t.scalar(1.0),
    );
    let load = Tensor::from_fn(
        &[mesh.n_vertices(), 2],
        |ix| if ix[1] == 1 { -1.0 } else { 0.0 },
    );
    let sys = body.system(1.0).with_load(t.constant(load));
    let e = sys
        .equilibrium(&t.constant(mesh.rest_tensor()))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Solve { .. }), "{msg}");
    assert!(
        msg.contains("static equilibrium") && msg.contains("cannot be factored"),
        "{msg}"
    );
}

/// Bad material values are refused when a soft body's system steps, naming
/// the element; a field of the wrong length and a mesh used with another
/// vertex count are refused by name too.
#[test]
fn bad_material_fields_and_mismatched_meshes_are_named() {
    let mesh = bar();
    let nt = mesh.n_triangles();
    let t = TensorTape::new();
    let x0 = t.constant(mesh.rest_tensor());
    let zero = t.constant(Tensor::zeros(&[mesh.n_vertices(), 2]));
    let mu = Tensor::from_fn(&[nt], |e| if e[0] == 5 { -1.0 } else { 1e3 });
    let body = SoftBody::try_from_lame(
        &mesh,
        MaterialModel::NeoHookean,
        t.constant(mesh.rest_tensor()),
        t.constant(mu),
        t.scalar(1e3),
        t.scalar(1.0),
    )
    .unwrap();
    let e = body.system(1e-4).rollout_final(&x0, &zero, 2).unwrap_err();
    assert!(
        matches!(&e, Error::ParameterValue { name, .. } if name == "μ of element 5"),
        "{e}"
    );
    let e = SoftBody::try_new(
        &mesh,
        MaterialModel::NeoHookean,
        t.constant(mesh.rest_tensor()),
        t.constant(Tensor::ones(&[nt + 1])),
        0.3,
        t.scalar(1.0),
    )
    .err()
    .expect("refused");
    assert!(
        matches!(e, Error::Shape { .. }) && e.to_string().contains("Young"),
        "{e}"
    );
    // The mesh's elastic element on a system of another vertex count.
    let other = rectangle([0.0, 0.0], 1.0, 1.0, 1, 1, Diagonal::Right).unwrap();
    let body = SoftBody::new(
        &other,
        MaterialModel::NeoHookean,
        t.constant(other.rest_tensor()),
        t.scalar(1e3),
        0.3,
        t.scalar(1.0),
    );
    let (element, params) = body.elastic();
    let sys = maya::dynamics::ParticleSystem::new(t.constant(Tensor::ones(&[5])), 1e-4)
        .with_force(element, &params);
    let five = t.constant(Tensor::zeros(&[5, 2]));
    let e = sys.rollout_final(&five, &five, 1).unwrap_err();
    assert!(
        matches!(e, Error::Mesh { .. }) && e.to_string().contains("4 vertices"),
        "{e}"
    );
}
