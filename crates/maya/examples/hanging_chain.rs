//! A chain hanging between two anchors: its equilibrium is solved by
//! Newton's method inside one tape node, and the sensitivity of its sag
//! to every spring's stiffness comes from the implicit function theorem
//! (one transposed solve, no unrolled iterations).
//!
//!     cargo run --release --example hanging_chain [-- --short]

use maya::tape::{HangingChain, NewtonOptions};
use maya::{Tensor, TensorTape};

/// The sag (m): depth of the middle particle below the anchors, for
/// springs of stiffness `k` (N/m); and ∂sag/∂k.
fn sag(chain: HangingChain, k: Tensor) -> Result<(f64, Vec<f64>), maya::Error> {
    let t = TensorTape::new();
    let k = t.var(k);
    let m = t.constant(Tensor::full(&[chain.particles], 0.2)); // kg
    let options = NewtonOptions::default();
    let x = t.try_solve_implicit(chain, &chain.initial_guess(), &[k, m], &options)?;
    let mid = chain.particles / 2;
    let sag = x
        .slice(0, mid..mid + 1)
        .slice(1, 1..2)
        .sum()
        .scalar_mul(-1.0);
    let grad = t.try_grad(sag)?;
    Ok((sag.item(), grad[k.idx()].data.clone()))
}

fn main() -> Result<(), maya::Error> {
    let short = std::env::args().any(|a| a == "--short");
    let n = if short { 5 } else { 25 }; // odd: the middle particle is the lowest
                                        // 1 m links; the anchors are 70% of the chain's rest length apart.
    let chain = HangingChain::suspended(n, 1.0, 0.7 * (n + 1) as f64, 9.81);
    let k = Tensor::full(&[chain.springs()], 500.0);
    let (s, grad) = sag(chain, k)?;
    println!(
        "{n} particles, {} springs of 500 N/m: sag {s:.6} m",
        chain.springs()
    );
    for (i, g) in grad.iter().enumerate() {
        println!("  ∂sag/∂k[{i:2}] = {g:+.4e} m per N/m");
    }
    // Stiffening every spring by δ changes the sag by δ·Σₛ ∂sag/∂kₛ;
    // check it against two re-solves (a central difference).
    let (delta, springs) = (1e-2, chain.springs());
    let (s_up, _) = sag(chain, Tensor::full(&[springs], 500.0 + delta))?;
    let (s_down, _) = sag(chain, Tensor::full(&[springs], 500.0 - delta))?;
    let predicted: f64 = grad.iter().sum();
    let measured = (s_up - s_down) / (2.0 * delta);
    println!(
        "uniform stiffening: ∂sag/∂k = {predicted:+.8e} (implicit), {measured:+.8e} (re-solves)"
    );
    Ok(())
}
