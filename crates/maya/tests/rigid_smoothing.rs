//! The smoothed penalty makes a bounce's gradient continuous across the
//! moment of impact; the exact ReLU penalty does not.
//!
//! A ball dropped from height h₀ bounces once; L = its height at
//! T = 0.25 s, in flight after the bounce.
//! As h₀ sweeps over a few millimetres, the step at which contact begins
//! moves by several steps. Under ReLU, ∂L/∂h₀ jumps each time it moves
//! (the penetration depth at the first contact step restarts from 0);
//! under softplus the whole step map is C^∞, so ∂L/∂h₀ varies smoothly.

use maya::contact::{damping_for_restitution, Ground, Penalty};
use maya::rigid::{Material, Shape, World};
use maya::TensorTape;

/// ∂L/∂h₀ on a grid of drop heights.
fn gradients(penalty: Penalty, heights: &[f64]) -> Vec<f64> {
    let mut w = World::new(5e-4);
    w.set_ground(Ground::horizontal(0.0));
    w.penalty = penalty;
    let r = 0.1;
    w.add_body(Shape::circle(r), 1.0 / (std::f64::consts::PI * r * r)); // 1 kg
    let k = 1e4;
    let material = Material {
        stiffness: k,
        damping: damping_for_restitution(0.5, k, 1.0),
        friction: 0.0,
        restitution: 0.0,
    };
    heights
        .iter()
        .map(|&h| {
            let t = TensorTape::new();
            let s0 = w.state(&t, &[[0.0, r + h, 0.0]], &[[0.0; 3]]);
            let params = w.params(&t, material);
            let end = w.rollout(&s0, &params, 500).unwrap();
            let g = t.grad(end.pose.slice(1, 1..2).sum());
            g[s0.pose.idx()].data[1]
        })
        .collect()
}

/// Largest jump between neighbouring samples, relative to the range of
/// the samples.
fn jumpiness(g: &[f64]) -> f64 {
    let max_jump = g
        .windows(2)
        .map(|p| (p[1] - p[0]).abs())
        .fold(0.0, f64::max);
    let lo = g.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = g.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    eprintln!("dL/dh0 in [{lo:.4}, {hi:.4}], largest neighbour jump {max_jump:.2e}");
    max_jump / (hi - lo)
}

#[test]
fn bounce_gradient_is_continuous_across_impact_only_when_smoothed() {
    // Drop heights 100–103 mm: impact at 1.4 m/s, 0.7 mm of travel per
    // step, so the first contact step moves by ~4 steps over the grid.
    let heights: Vec<f64> = (0..160).map(|i| 0.100 + 0.003 * i as f64 / 159.0).collect();
    let smooth = gradients(Penalty::Softplus { width: 1e-3 }, &heights);
    let relu = gradients(Penalty::Relu, &heights);
    let (js, jr) = (jumpiness(&smooth), jumpiness(&relu));
    eprintln!("largest neighbour jump / range of dL/dh0: softplus {js:.3}, relu {jr:.3}");
    // Softplus: 160 samples of a smooth function, so neighbours differ by
    // a small fraction of the range.
    assert!(js < 0.05, "softplus gradient jumps: {js}");
    // ReLU: jumps of a sizeable part of the range where the contact step
    // changes.
    assert!(jr > 0.2, "relu gradient has no jumps: {jr}");
}
