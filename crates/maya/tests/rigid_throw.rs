//! The worked throwing problem: gradient descent on the initial velocity
//! of a ball so that, after one bounce, it lands at a target.

use maya::rigid::examples::throw::{solve, ThrowProblem};

#[test]
fn landing_gradient_matches_finite_differences() {
    let p = ThrowProblem::default();
    let v = [1.5, 0.5];
    let (_, g) = p.landing(v).unwrap();
    for j in 0..2 {
        let h = 1e-6;
        let (mut up, mut dn) = (v, v);
        up[j] += h;
        dn[j] -= h;
        let fd = (p.landing(up).unwrap().0 - p.landing(dn).unwrap().0) / (2.0 * h);
        eprintln!(
            "dx_land/dv0[{j}]: tape {:.6}, central difference {fd:.6}",
            g[j]
        );
        assert!(
            (g[j] - fd).abs() < 1e-4 * fd.abs().max(1.0),
            "{j}: {} vs {fd}",
            g[j]
        );
    }
}

#[test]
fn gradient_descent_lands_the_ball_on_target() {
    for target in [3.0, 1.2] {
        let p = ThrowProblem {
            target_x: target,
            ..ThrowProblem::default()
        };
        let fit = solve(&p, [1.0, 0.0], 1e-3, 30).unwrap();
        eprintln!(
            "target {target}: v0 = {:?}, lands at {:.5} after {} iterations: {:?}",
            fit.velocity, fit.landing_x, fit.iterations, fit.history
        );
        assert!((fit.landing_x - target).abs() < 1e-3);
    }
}
