//! Every function of the scalar tape against central differences, with
//! `maya::gradcheck_scalar` and its default tolerances (rtol = 1e-6).

use maya::{gradcheck_scalar, Tape, Var};

/// Gradcheck of `f` at `inputs`; fails with the report.
#[track_caller]
fn check<F>(inputs: &[f64], f: F)
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let report = gradcheck_scalar(f, inputs);
    assert!(report.passed, "inputs {inputs:?}: {report}");
    assert_eq!(report.checked, inputs.len());
}

/// Points of either sign, away from 0.
const POINTS: [f64; 4] = [-1.3, -0.4, 0.7, 2.1];
/// Positive points for ln, sqrt and powers.
const POSITIVE: [f64; 4] = [0.3, 0.9, 1.6, 4.2];

#[test]
fn arithmetic_between_two_vars() {
    for a in POINTS {
        for b in POINTS {
            check(&[a, b], |_, v| v[0] + v[1]);
            check(&[a, b], |_, v| v[0] - v[1]);
            check(&[a, b], |_, v| v[0] * v[1]);
            check(&[a, b], |_, v| v[0] / v[1]);
        }
    }
}

#[test]
fn arithmetic_with_a_constant_on_the_right() {
    for a in POINTS {
        check(&[a], |_, v| v[0] + 2.5);
        check(&[a], |_, v| v[0] - 2.5);
        check(&[a], |_, v| v[0] * -2.5);
        check(&[a], |_, v| v[0] / -2.5);
    }
}

#[test]
fn arithmetic_with_a_constant_on_the_left() {
    for a in POINTS {
        check(&[a], |_, v| 2.5 + v[0]);
        check(&[a], |_, v| 2.5 - v[0]);
        check(&[a], |_, v| -2.5 * v[0]);
        check(&[a], |_, v| -2.5 / v[0]);
    }
}

#[test]
fn negation() {
    for a in POINTS {
        check(&[a], |_, v| -v[0]);
    }
}

#[test]
fn smooth_functions() {
    for a in POINTS {
        check(&[a], |_, v| v[0].sin());
        check(&[a], |_, v| v[0].cos());
        check(&[a], |_, v| v[0].exp());
        check(&[a], |_, v| v[0].tanh());
    }
    // tan away from its poles at ±π/2.
    for a in [-1.2, -0.3, 0.5, 1.1] {
        check(&[a], |_, v| v[0].tan());
    }
}

#[test]
fn functions_of_positive_arguments() {
    for a in POSITIVE {
        check(&[a], |_, v| v[0].ln());
        check(&[a], |_, v| v[0].sqrt());
        for p in [2.5, 0.5, -1.5, 0.0] {
            check(&[a], move |_, v| v[0].powf(p));
        }
    }
}

#[test]
fn integer_powers_of_either_sign() {
    for a in POINTS {
        for n in [-3, -1, 0, 1, 2, 5] {
            check(&[a], move |_, v| v[0].powi(n));
        }
    }
}

#[test]
fn pow_of_two_vars() {
    // aᵇ with a > 0 so that ∂/∂b = aᵇ ln a exists.
    for a in POSITIVE {
        for b in POINTS {
            check(&[a, b], |_, v| v[0].pow(v[1]));
        }
    }
}

#[test]
fn kinked_functions_away_from_their_kinks() {
    for a in POINTS {
        check(&[a], |_, v| v[0].abs());
        check(&[a], |_, v| v[0].relu());
    }
}

#[test]
fn max_and_min_with_either_argument_larger() {
    for (a, b) in [(0.7, -0.4), (-0.4, 0.7), (2.1, 1.9), (-1.3, -1.1)] {
        check(&[a, b], |_, v| v[0].max(v[1]));
        check(&[a, b], |_, v| v[0].min(v[1]));
    }
}

#[test]
fn max_and_min_send_the_gradient_to_one_argument() {
    // max(a, b) = a when a > b, so ∂/∂a = 1 and ∂/∂b = 0; min the reverse.
    let t = Tape::new();
    let (a, b) = (t.var(3.0), t.var(-1.0));
    let g = t.grad(a.max(b));
    assert_eq!((g[a.idx()], g[b.idx()]), (1.0, 0.0));
    let g = t.grad(a.min(b));
    assert_eq!((g[a.idx()], g[b.idx()]), (0.0, 1.0));
}

#[test]
fn a_composition_of_everything() {
    check(&[0.8, 1.7, -0.6], |_, v| {
        let (x, y, z) = (v[0], v[1], v[2]);
        let u = (x * y).sin() / y + (2.0 - z).ln() * x.exp();
        let w = u.tanh().powi(3) + x.powf(1.5) - z.abs().sqrt() + y.pow(x);
        (w.max(z) + z.min(x) * 0.5 + (z.relu() - 1.0).cos() + x.tan()) / (1.0 + y)
    });
}

#[test]
fn clearing_the_tape_and_recording_again_gives_the_same_gradients() {
    // f(x, y) = sin(x y) + x² / y, recorded twice on one tape.
    fn record(t: &Tape) -> (f64, f64) {
        let (x, y) = (t.var(0.9), t.var(1.4));
        let f = (x * y).sin() + x.powi(2) / y;
        let g = t.grad(f);
        (g[x.idx()], g[y.idx()])
    }
    let mut t = Tape::new();
    let first = record(&t);
    let len = t.len();
    t.clear();
    assert!(t.is_empty());
    let second = record(&t);
    assert_eq!(first, second);
    // The same recording takes the same number of nodes (no stale nodes
    // left over from before `clear`).
    assert_eq!(t.len(), len);
    // ∂f/∂x = y cos(x y) + 2x/y, ∂f/∂y = x cos(x y) − x²/y².
    let (x, y) = (0.9f64, 1.4f64);
    let exact = (
        y * (x * y).cos() + 2.0 * x / y,
        x * (x * y).cos() - x * x / (y * y),
    );
    assert!((second.0 - exact.0).abs() < 1e-14);
    assert!((second.1 - exact.1).abs() < 1e-14);
}

#[test]
fn grad_into_a_reused_buffer_matches_grad() {
    let t = Tape::new();
    let (x, y) = (t.var(0.9), t.var(1.4));
    let f = (x * y).sin() + x.powi(2) / y;
    let mut buf = maya::Gradients::new();
    t.grad_into(f, &mut buf);
    let fresh = t.grad(f);
    assert_eq!(buf.as_slice(), fresh.as_slice());
    // A second call overwrites (does not add to) the buffer.
    t.grad_into(f, &mut buf);
    assert_eq!(buf.as_slice(), fresh.as_slice());
}

#[test]
fn a_var_used_many_times_accumulates() {
    // f = x·x + x + 3x = x² + 4x, so f'(x) = 2x + 4 = 7 at x = 1.5.
    let t = Tape::new();
    let x = t.var(1.5);
    let f = x * x + x + 3.0 * x;
    assert_eq!(t.grad(f)[x.idx()], 7.0);
}

#[test]
fn an_unused_branch_with_an_infinite_partial_does_not_poison_gradients() {
    // √x is recorded at x = 0 (partial 1/(2√0) = inf) but f = 2x does not
    // use it, so ∂f/∂x = 2 and nothing may flow back from the √ node.
    let t = Tape::new();
    let x = t.var(0.0);
    let _unused = x.sqrt();
    let f = x * 2.0;
    assert_eq!(t.grad(f)[x.idx()], 2.0);
    // The same in checked mode: no error, as no gradient on f's path is bad.
    t.set_checked(true);
    assert_eq!(t.try_grad(f).expect("f's gradient is finite")[x.idx()], 2.0);
}
