//! Checked mode names the first op whose value (forward) or gradient
//! (backward) turned non-finite, on both tapes; with it off, nothing is
//! reported.

use maya::{Error, Pass, Tape, Tensor, TensorTape};

fn non_finite(op: &'static str, node: usize, shapes: &[&[usize]], pass: Pass) -> Error {
    Error::NonFiniteOp {
        op,
        node,
        input_shapes: shapes.iter().map(|s| s.to_vec()).collect(),
        pass,
    }
}

// ------------------------------------------------------------ tensor tape

#[test]
fn tensor_ln_of_a_negative_entry_is_reported_in_the_forward_sweep() {
    let t = TensorTape::new();
    t.set_checked(true);
    let x = t.var(Tensor::from_data(vec![1.0, -2.0, 3.0], vec![3]));
    let y = x.scalar_mul(2.0); // node 0: [2, -4, 6], finite
    assert_eq!(t.first_non_finite(), None);
    let z = y.ln(); // node 1: ln(-4) = NaN
    let expected = non_finite("ln", 1, &[&[3]], Pass::Forward);
    assert_eq!(t.first_non_finite(), Some(expected.clone()));
    // Later ops see the NaN too, but the first report stays.
    let w = z.exp().add(&y.ln()); // nodes 2, 3, 4: all NaN
    let loss = w.sqrt().sum();
    assert_eq!(t.first_non_finite(), Some(expected.clone()));
    assert_eq!(t.try_grad(loss).unwrap_err(), expected);
}

#[test]
fn tensor_binary_op_reports_both_input_shapes() {
    // 1 / 0 = inf in the second column; the op's inputs are [2, 3] and [3].
    let t = TensorTape::new();
    t.set_checked(true);
    let a = t.var(Tensor::ones(&[2, 3]));
    let b = t.var(Tensor::from_data(vec![1.0, 0.0, 2.0], vec![3]));
    let q = a.div(&b); // node 0
    let _ = q.sum();
    assert_eq!(
        t.first_non_finite(),
        Some(non_finite("div", 0, &[&[2, 3], &[3]], Pass::Forward))
    );
}

#[test]
fn tensor_sqrt_at_zero_is_reported_in_the_backward_sweep() {
    // x = [0, 1, 4]: y = x² = [0, 1, 16] and s = √y = [0, 1, 4] are finite,
    // but ∂s/∂y = 1/(2√y) is infinite at y = 0.
    let t = TensorTape::new();
    t.set_checked(true);
    let x = t.var(Tensor::from_data(vec![0.0, 1.0, 4.0], vec![3]));
    let y = x.square(); // node 0
    let s = y.sqrt(); // node 1
    let loss = s.sum(); // node 2
    assert_eq!(t.first_non_finite(), None);
    assert_eq!(
        t.try_grad(loss).unwrap_err(),
        non_finite("sqrt", 1, &[&[3]], Pass::Backward)
    );
    // A loss that does not go through the bad gradient is fine.
    let g = t.try_grad(y.sum()).expect("∂Σx²/∂x = 2x is finite");
    // ∂Σx²/∂x = 2x = [0, 2, 8].
    assert_eq!(g[x.idx()].data, vec![0.0, 2.0, 8.0]);
}

#[test]
fn tensor_tape_with_checked_mode_off_reports_nothing() {
    let t = TensorTape::new();
    assert!(!t.is_checked());
    let x = t.var(Tensor::from_data(vec![1.0, -2.0, 3.0], vec![3]));
    let loss = x.ln().sum();
    assert_eq!(t.first_non_finite(), None);
    let g = t.try_grad(loss).expect("no check, no error");
    // ∂ln x/∂x = 1/x = [1, -0.5, 1/3]: finite even where ln x is NaN.
    assert_eq!(g[x.idx()].data, vec![1.0, -0.5, 1.0 / 3.0]);

    let x = t.var(Tensor::from_data(vec![0.0, 1.0], vec![2]));
    let g = t
        .try_grad(x.square().sqrt().sum())
        .expect("no check, no error");
    // ∂√(x²)/∂x = 2x / (2√(x²)) is 0/0 = NaN at x = 0 and 1 at x = 1.
    assert!(g[x.idx()].data[0].is_nan());
    assert_eq!(g[x.idx()].data[1], 1.0);
}

#[test]
fn tensor_checked_mode_can_be_switched_on_late() {
    // Ops recorded before checked mode are not scanned; the first bad op
    // after it is, with its node index counted from the tape's start.
    let t = TensorTape::new();
    let x = t.var(Tensor::from_data(vec![-1.0], vec![1]));
    let _ = x.ln(); // node 0, unchecked
    t.set_checked(true);
    assert_eq!(t.first_non_finite(), None);
    let _ = x.sqrt(); // node 1: √−1 = NaN
    assert_eq!(
        t.first_non_finite(),
        Some(non_finite("sqrt", 1, &[&[1]], Pass::Forward))
    );
}

// ------------------------------------------------------------ scalar tape

#[test]
fn scalar_ln_of_a_negative_number_is_reported_in_the_forward_sweep() {
    // Node 0 is the tape's sink, so x is node 1, a node 2 and ln node 3.
    let t = Tape::new();
    t.set_checked(true);
    let x = t.var(-2.0);
    let a = x * 1.5; // node 2: -3
    assert_eq!(t.first_non_finite(), None);
    let b = a.ln(); // node 3: NaN
    let expected = non_finite("ln", 3, &[&[]], Pass::Forward);
    assert_eq!(t.first_non_finite(), Some(expected.clone()));
    let c = b.exp() + a.sqrt(); // nodes 4-6: NaN, but the first report stays
    assert_eq!(t.first_non_finite(), Some(expected.clone()));
    assert_eq!(t.try_grad(c).unwrap_err(), expected);
}

#[test]
fn scalar_binary_op_reports_two_inputs() {
    // 1 / 0 = inf: x is node 1, y node 2, the division node 3.
    let t = Tape::new();
    t.set_checked(true);
    let (x, y) = (t.var(1.0), t.var(0.0));
    let _ = x / y;
    assert_eq!(
        t.first_non_finite(),
        Some(non_finite("div", 3, &[&[], &[]], Pass::Forward))
    );
}

#[test]
fn scalar_sqrt_at_zero_is_reported_in_the_backward_sweep() {
    // x = 0 (node 1), y = x·x = 0 (node 2), s = √y = 0 (node 3), finite; but
    // ∂s/∂y = 1/(2√y) = inf.
    let t = Tape::new();
    t.set_checked(true);
    let x = t.var(0.0);
    let s = (x * x).sqrt();
    let loss = s + 1.0; // node 4
    assert_eq!(t.first_non_finite(), None);
    assert_eq!(
        t.try_grad(loss).unwrap_err(),
        non_finite("sqrt", 3, &[&[]], Pass::Backward)
    );
}

#[test]
fn scalar_tape_with_checked_mode_off_reports_nothing() {
    let t = Tape::new();
    let x = t.var(-2.0);
    let y = x.ln();
    assert!(y.value().is_nan());
    assert_eq!(t.first_non_finite(), None);
    // ∂ln x/∂x = 1/x = -0.5.
    assert_eq!(t.try_grad(y).expect("no check, no error")[x.idx()], -0.5);
    let z = t.var(0.0);
    let g = t.try_grad(z.sqrt()).expect("no check, no error");
    // ∂√z/∂z = 1/(2·0) = inf.
    assert_eq!(g[z.idx()], f64::INFINITY);
}

#[test]
fn scalar_checked_mode_names_the_right_op_after_clear() {
    // After clear() the node indices start again at 1; the report must name
    // the op at the failing node (sqrt), not a neighbour.
    let mut t = Tape::new();
    t.set_checked(true);
    let x = t.var(1.0);
    let _ = x.sin() * 2.0;
    t.clear();
    let x = t.var(0.0); // node 1
    let s = x.sqrt(); // node 2: value 0, ∂/∂x = inf
    let loss = s * 3.0; // node 3
    assert_eq!(
        t.try_grad(loss).unwrap_err(),
        non_finite("sqrt", 2, &[&[]], Pass::Backward)
    );
    // The failing node may also be the loss itself, the last node.
    assert_eq!(
        t.try_grad(s).unwrap_err(),
        non_finite("sqrt", 2, &[&[]], Pass::Backward)
    );
}

#[test]
fn scalar_backward_report_does_not_block_other_gradients() {
    // A gradient that went bad in one sweep is that sweep's error; no value
    // is non-finite, so a later loss that avoids it differentiates cleanly.
    let t = Tape::new();
    t.set_checked(true);
    let x = t.var(0.0);
    let s = x.sqrt(); // node 2
    assert_eq!(
        t.try_grad(s).unwrap_err(),
        non_finite("sqrt", 2, &[&[]], Pass::Backward)
    );
    assert_eq!(t.first_non_finite(), None);
    let y = t.var(2.0);
    let f = y * y;
    // ∂y²/∂y = 2y = 4.
    assert_eq!(t.try_grad(f).expect("f is finite")[y.idx()], 4.0);
}
