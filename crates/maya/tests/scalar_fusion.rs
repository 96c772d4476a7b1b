//! The fused scalar tape (a statement's partials combined in the handle,
//! a node only for a value reading more than four nodes) against the
//! per-op tape (`set_fusion(false)`: a node for every op) and against
//! central differences.

use maya::{gradcheck_scalar, Tape, Var};

/// Gradients of `f` with respect to its inputs, with fusion on or off,
/// and the number of nodes recorded (the sink and inputs included).
fn grads<F>(inputs: &[f64], fused: bool, f: &F) -> (f64, Vec<f64>, usize)
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let t = Tape::new();
    t.set_fusion(fused);
    let vars: Vec<Var> = inputs.iter().map(|&x| t.var(x)).collect();
    let y = f(&t, &vars);
    let g = t.grad(y);
    (y.value(), vars.iter().map(|v| g.wrt(*v)).collect(), t.len())
}

/// The fused and per-op gradients of `f` agree to 1e-12 (relative), and
/// both pass a central-difference gradcheck (rtol 1e-6). Returns the node
/// counts (fused, per-op).
#[track_caller]
fn check<F>(inputs: &[f64], f: F) -> (usize, usize)
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let (v_fused, g_fused, n_fused) = grads(inputs, true, &f);
    let (v_per_op, g_per_op, n_per_op) = grads(inputs, false, &f);
    assert_eq!(v_fused, v_per_op, "the value does not depend on fusion");
    for (i, (a, b)) in g_fused.iter().zip(&g_per_op).enumerate() {
        let scale = a.abs().max(b.abs()).max(1e-300);
        assert!(
            (a - b).abs() <= 1e-12 * scale,
            "input {i}: fused {a}, per-op {b}"
        );
    }
    let report = gradcheck_scalar(&f, inputs);
    assert!(report.passed, "inputs {inputs:?}: {report}");
    (n_fused, n_per_op)
}

#[test]
fn a_chain_reading_three_inputs_records_no_node() {
    // x ← sin(x)·a + x·b + 0.01, 50 times: every x reads only x₀, a and b.
    let (fused, per_op) = check(&[0.9, 0.1, 0.5], |_, v| {
        let (a, b, mut x) = (v[0], v[1], v[2]);
        for _ in 0..50 {
            x = x.sin() * a + x * b + 0.01;
        }
        x
    });
    assert_eq!(fused, 4, "the sink and the three inputs");
    assert_eq!(per_op, 4 + 5 * 50, "five ops per step");
}

#[test]
fn a_statement_reading_more_than_four_nodes_is_one_node() {
    // Six inputs: the products overflow the handle's four lanes once.
    let (fused, per_op) = check(&[0.3, -1.1, 0.7, 2.0, -0.4, 1.5], |_, v| {
        v[0] * v[1] + v[2] * v[3] + (v[4] * v[5]).sin() + v[0].exp()
    });
    assert_eq!(fused, 7 + 1);
    assert!(per_op > fused);
}

#[test]
fn a_loop_over_many_inputs_records_a_node_per_statement_at_most() {
    // A running sum of squares over 12 inputs, then a product with the sum
    // of the inputs: both sides read many nodes (the general merge).
    let inputs: Vec<f64> = (0..12).map(|i| 0.1 * i as f64 - 0.45).collect();
    let (fused, per_op) = check(&inputs, |_, v| {
        let mut s = v[0] * v[0];
        let mut lin = v[0];
        for &x in &v[1..] {
            s = s + x * x;
            lin = lin + 2.0 * x;
        }
        (s * lin).tanh() + (s + lin).sqrt()
    });
    // Sink and inputs, two statements per step, four ops at the end.
    assert!(fused <= 13 + 2 * 11 + 4, "fused {fused}");
    assert!(fused < per_op, "fused {fused}, per-op {per_op}");
}

#[test]
fn statements_that_merge_two_wide_handles() {
    // u and w read three nodes each, two of them shared, in other lanes.
    check(&[0.8, 1.7, -0.6, 0.4], |_, v| {
        let u = v[0] * v[1] + v[2];
        let w = v[3] * v[2] + v[0].cos();
        let z = u * w + (u - w).exp();
        z / (1.0 + v[1] * v[1])
    });
}

#[test]
fn a_composition_of_everything() {
    check(&[0.8, 1.7, -0.6], |_, v| {
        let (x, y, z) = (v[0], v[1], v[2]);
        let u = (x * y).sin() / y + (2.0 - z).ln() * x.exp();
        let w = u.tanh().powi(3) + x.powf(1.5) - z.abs().sqrt() + y.pow(x);
        (w.max(z) + z.min(x) * 0.5 + (z.relu() - 1.0).cos() + x.tan()) / (1.0 + y) - -x
    });
}

#[test]
fn a_fused_value_has_no_index_until_recorded() {
    let t = Tape::new();
    let x = t.var(0.7);
    let y = x.sin() * x;
    assert!(y.try_idx().is_err());
    let e = t.grad(y).try_wrt(y).unwrap_err();
    assert!(e.to_string().contains("record"), "{e}");
    // Recorded, y is a node and the gradient with respect to it is that of
    // the per-op tape: f = y² + x, ∂f/∂y = 2y.
    let y = y.record();
    let f = y * y + x;
    let g = t.grad(f);
    let want = 2.0 * (0.7f64.sin() * 0.7);
    assert!((g[y.idx()] - want).abs() <= 1e-15 * want);
    // ∂f/∂x = 2y·(cos x · x + sin x) + 1, through the recorded node.
    let want_x = want * (0.7f64.cos() * 0.7 + 0.7f64.sin()) + 1.0;
    assert!((g[x.idx()] - want_x).abs() <= 1e-14 * want_x);
}

#[test]
fn per_op_mode_gives_every_value_an_index() {
    let t = Tape::new();
    t.set_fusion(false);
    assert!(!t.is_fused());
    let x = t.var(1.2);
    let y = x * x;
    let f = y.exp();
    // ∂f/∂y = e^y.
    assert_eq!(t.grad(f)[y.idx()], y.value().exp());
}

#[test]
fn an_infinite_partial_times_zero_adds_nothing() {
    // √x at x = 0 has partial inf; times the constant 0 it is dropped, as
    // the per-op sweep skips a zero adjoint: ∂f/∂x = 2, not NaN.
    let (_, fused, _) = grads(&[0.0], true, &|_, v| v[0].sqrt() * 0.0 + v[0] * 2.0);
    let (_, per_op, _) = grads(&[0.0], false, &|_, v| v[0].sqrt() * 0.0 + v[0] * 2.0);
    assert_eq!(fused, vec![2.0]);
    assert_eq!(per_op, vec![2.0]);
}

#[test]
#[should_panic(expected = "another tape")]
fn an_operator_on_handles_of_two_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.var(1.0) * t2.var(2.0);
}

#[test]
fn a_fused_value_of_another_tape_is_an_error() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let x = t1.var(1.0);
    let y = x.sin() * 2.0;
    assert!(t2.try_grad(y).is_err());
    assert!(y.try_mul(t2.var(1.0)).is_err());
}

#[test]
fn clearing_a_fused_tape_keeps_gradients() {
    let mut t = Tape::with_capacity(8);
    let mut first = 0.0;
    for round in 0..2 {
        t.clear();
        let (a, x) = (t.var(0.9), t.var(0.5));
        let mut y = x;
        for _ in 0..10 {
            y = y.sin() * a + y * 0.1;
        }
        let g = t.grad(y).wrt(a);
        if round == 0 {
            first = g;
        } else {
            assert_eq!(g, first);
        }
    }
}

/// W1's loop, x ← sin(x)·a + x·b + 0.01, `k` times, with the loss scaled
/// by 1e300: (loss, [∂L/∂a, ∂L/∂b, ∂L/∂x₀], nodes recorded).
fn scaled_chain(k: usize, fused: bool) -> (f64, Vec<f64>, usize) {
    grads(&[0.9, 0.1, 0.5], fused, &|_, v| {
        let (a, b) = (v[0], v[1]);
        let mut x = v[2];
        for _ in 0..k {
            x = x.sin() * a + x * b + 0.01;
        }
        x * 1e300
    })
}

#[test]
fn a_long_contracting_chain_keeps_its_tiny_partials_exact() {
    // ∂x_k/∂x₀ ≈ 0.93ᵏ is about 1e-378 at k = 12 000: below f64's range,
    // while ∂L/∂x₀ = 1e300 · that ≈ 1e-78 is not. A handle that carried
    // the product alone would lose it to underflow (a subnormal or 0 times
    // 1e300); the tape records the handle whenever a partial leaves
    // [2⁻⁶⁰⁰, 2⁶⁰⁰], and the sweep multiplies the pieces from the top, as
    // the per-op tape does.
    let k = 12_000;
    let (v_fused, g_fused, n_fused) = scaled_chain(k, true);
    let (v_per_op, g_per_op, n_per_op) = scaled_chain(k, false);
    assert_eq!(v_fused, v_per_op);
    let dx0 = g_per_op[2];
    assert!(
        dx0.is_normal() && dx0 < 1e-60 && dx0 > 1e-100,
        "per-op ∂L/∂x₀ = {dx0:e}"
    );
    for (i, (a, b)) in g_fused.iter().zip(&g_per_op).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs(),
            "input {i}: fused {a:e}, per-op {b:e}"
        );
    }
    // A handful of nodes (one each time ∂x/∂x₀ falls by 2⁶⁰⁰ or so, and a
    // few as a, b and the new node meet again), not one per op.
    assert!(n_fused > 4 && n_fused < 60, "fused tape: {n_fused} nodes");
    assert!(n_per_op > 5 * k, "per-op tape: {n_per_op} nodes");
}
