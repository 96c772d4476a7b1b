//! A soft bar clamped at its left edge, sagging under gravity (the bar of
//! the W5 benchmark: 4 × 1 m, Neo-Hookean, E ≈ 1e4 Pa, ν = 0.3): the
//! gradient of its final sag with respect to the Young's modulus of every
//! triangle, its initial velocity and its rest shape, two ways.
//!
//! - Explicit (semi-implicit Euler, dt = 5e-5), checkpointed: memory grows
//!   like √T, so a long horizon fits (`--steps 10000`).
//! - Implicit (backward Euler, dt = 1e-2): Newton per step, and the
//!   gradient by one transposed solve per step with the factorisation
//!   Newton ended with; the run prints the gradient's cost over the
//!   forward pass's.
//!
//! ```text
//! cargo run --release -p maya --example soft_bar -- [--ny 48] [--steps 10000] [--short]
//! ```

use maya::dynamics::Integrator;
use maya::fem::{rectangle, Diagonal, MaterialModel, SoftBody, TriMesh};
use maya::{Tensor, TensorTape};
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// (seconds, loss) of the run; gradients w.r.t. E, v0 and X when `grad`.
fn run(mesh: &TriMesh, integrator: Integrator, dt: f64, steps: usize, grad: bool) -> (f64, f64) {
    let start = Instant::now();
    let t = TensorTape::new();
    let leaf = |x: Tensor| if grad { t.var(x) } else { t.constant(x) };
    let youngs = leaf(Tensor::from_fn(&[mesh.n_triangles()], |e| {
        1e4 * (1.0 + 0.1 * ((e[0] % 7) as f64 - 3.0) / 3.0)
    }));
    let rest = leaf(mesh.rest_tensor());
    let v0 = leaf(Tensor::zeros(&[mesh.n_vertices(), 2]));
    let body = SoftBody::new(
        mesh,
        MaterialModel::NeoHookean,
        rest,
        youngs,
        0.3,
        t.scalar(1.0),
    );
    let sys = body
        .system(dt)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_fixed(&mesh.vertices_where(|p| p[0] == 0.0))
        .with_integrator(integrator);
    let x0 = t.constant(mesh.rest_tensor());
    let (x, _) = match integrator {
        Integrator::BackwardEuler => sys.rollout_final(&x0, &v0, steps),
        _ => sys.rollout_checkpointed(&x0, &v0, steps, None),
    }
    .expect("the bar stays upright");
    let loss = x.sub(&x0).square().sum();
    if grad {
        let g = t.grad_wrt(loss, &[youngs, v0, rest]);
        let sum: f64 = g[2].data.iter().sum();
        assert!(sum.abs() < 1e-9 * g[2].data.iter().map(|v| v.abs()).sum::<f64>());
    }
    (start.elapsed().as_secs_f64(), loss.item())
}

fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let ny = arg("--ny", if short { 4 } else { 48 });
    let steps = arg("--steps", if short { 100 } else { 10_000 });
    let mesh = rectangle([0.0, 0.0], 4.0, 1.0, 4 * ny, ny, Diagonal::Right).expect("a bar");
    println!(
        "bar: {} triangles, {} vertices",
        mesh.n_triangles(),
        mesh.n_vertices()
    );
    let (t, loss) = run(&mesh, Integrator::SemiImplicitEuler, 5e-5, steps, true);
    println!(
        "explicit, {steps} steps, checkpointed, forward + gradient: {t:.2} s (loss {loss:.6e})"
    );
    let implicit_steps = if short { 5 } else { 100 };
    let implicit_mesh = if short {
        mesh.clone()
    } else {
        rectangle([0.0, 0.0], 4.0, 1.0, 64, 16, Diagonal::Right).expect("a bar")
    };
    let (tf, lf) = run(
        &implicit_mesh,
        Integrator::BackwardEuler,
        1e-2,
        implicit_steps,
        false,
    );
    let (tg, lg) = run(
        &implicit_mesh,
        Integrator::BackwardEuler,
        1e-2,
        implicit_steps,
        true,
    );
    assert_eq!(lf, lg, "the same forward pass");
    println!(
        "backward Euler, {} triangles, {implicit_steps} steps: forward {tf:.3} s, forward + gradient {tg:.3} s ({:.2}×)",
        implicit_mesh.n_triangles(),
        tg / tf
    );
}
