//! A stiff cloth: a sheet of springs 100× stiffer than the cloth demo's
//! (k = 3·10⁴ N/m) at a 10× larger step (dt = 0.05 s). Semi-implicit Euler
//! is unstable there (it needs dt < 2/√(k/m)), so its step refuses to run;
//! backward Euler solves each step by Newton and differentiates it by the
//! implicit function theorem. Prints the explicit refusal, then backward Euler's cost per step,
//! forward and with the gradient of the sag with respect to every spring.
//! The top row is pinned by resetting it after each step, as the cloth
//! demo does; at this step that lets the sheet sag about 0.1 m lower than
//! the converged (small-dt) answer, a first-order artefact of pinning
//! outside the solve that true fixed nodes will remove.
//!
//!     cargo run --release -p maya --example stiff_cloth [-- --short]

use maya::dynamics::{Integrator, ParticleSystem, SpringNetwork};
use maya::{Tensor, TensorTape};
use std::time::Instant;

fn main() -> maya::Result<()> {
    let short = std::env::args().any(|a| a == "--short");
    let (side, steps) = if short { (8, 5) } else { (32, 20) };
    let n = side * side;
    let p0 = SpringNetwork::grid_positions(side, side, 0.1, [0.0, 0.0]);
    let net = SpringNetwork::grid(side, side);
    let rest = net.lengths(&p0);
    let run = |integrator: Integrator, grad: bool| -> maya::Result<f64> {
        let t = TensorTape::new();
        let k = t.var(Tensor::full(&[net.len()], 3e4));
        let sys = ParticleSystem::try_new(t.constant(Tensor::ones(&[n])), 0.05)?
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
            .with_springs(net.clone(), k, t.constant(rest.clone()), None)
            .with_integrator(integrator);
        // The top row (j = side − 1) is pinned, as in the cloth demo.
        let mask = t.constant(Tensor::from_fn(&[n, 1], |ij| {
            f64::from(ij[0] % side != side - 1)
        }));
        let (mut p, mut v) = (t.constant(p0.clone()), t.constant(Tensor::zeros(&[n, 2])));
        for _ in 0..steps {
            let (pf, vf) = sys.try_step(&p, &v)?;
            p = p.add(&pf.sub(&p).mul(&mask));
            v = vf.mul(&mask);
        }
        let sag = p.slice(1, 1..2).sum().scalar_mul(-1.0 / n as f64);
        if grad {
            let g = t.try_grad_wrt(sag, &[k])?;
            println!(
                "  ∂(mean sag)/∂k summed over springs: {:.3e} m/(N/m)",
                g[0].data.iter().sum::<f64>()
            );
        }
        Ok(sag.item())
    };
    match run(Integrator::SemiImplicitEuler, false) {
        Err(e) => println!("semi-implicit Euler: {e}"),
        Ok(s) => println!("semi-implicit Euler: mean sag {s:.3e} m (unstable)"),
    }
    let start = Instant::now();
    let sag = run(Integrator::BackwardEuler, false)?;
    let fwd = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "backward Euler, {side}×{side} sheet, {} springs: mean height {:.4} m after {steps} steps",
        net.len(),
        -sag
    );
    let start = Instant::now();
    run(Integrator::BackwardEuler, true)?;
    let both = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "  per step: forward {:.2} ms, forward + gradient {:.2} ms",
        1e3 * fwd,
        1e3 * both
    );
    Ok(())
}
