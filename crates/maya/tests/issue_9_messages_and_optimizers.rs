//! Issue 9: error messages that named the wrong thing, and optimiser
//! settings that were accepted and then misbehaved.
//!
//! - A reversed slice `2..1` said "index 2 is out of range"; it now says
//!   the range is reversed and names it.
//! - `stack` on a bad axis named an internal (expanded) shape; it now names
//!   the axis and the values' shape.
//! - `transpose` of a vector said "incompatible shapes [3] and []"; it now
//!   says it needs at least 2 axes and names the shape.
//! - `Adam::new(NaN)` ran and reported a non-finite loss; a negative rate
//!   climbed the loss. Both are rejected at construction, for SGD too.
//! - `minimize` and L-BFGS number their evaluations the same way, from 0.

use maya::optim::{lbfgs, minimize, Adam, LbfgsOptions, MinimizeOptions, Optimizer, Sgd};
use maya::{Error, Tensor, TensorTape};

// ------------------------------------------------------------ messages

#[test]
#[allow(clippy::reversed_empty_ranges)] // the reversed range is the point
fn a_reversed_slice_says_so_and_names_the_range() {
    let t = TensorTape::new();
    let x = t.var(Tensor::zeros(&[4, 2]));
    let e = x.try_slice(0, 2..1).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Range {
                op: "slice",
                axis: 0,
                start: 2,
                end: 1,
                len: 4,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("slice: range 2..1 along axis 0 (length 4) is reversed"),
        "{text}"
    );
    assert!(!text.contains("out of range"), "{text}");
    // An empty range start..start is valid: 2..2 has no element.
    assert_eq!(x.slice(0, 2..2).shape(), vec![0, 2]);
}

#[test]
#[should_panic(expected = "slice: range 3..1 along axis 1 (length 5) is reversed")]
#[allow(clippy::reversed_empty_ranges)] // the reversed range is the point
fn a_reversed_slice_panics_with_the_range() {
    let t = TensorTape::new();
    t.var(Tensor::zeros(&[2, 5])).slice(1, 3..1);
}

#[test]
fn stack_on_a_bad_axis_names_the_axis_and_the_input_shape() {
    // Values of shape [3] stack along a new axis 0 or 1 (0..=ndim); 5 is
    // past it. The message names [3], not the internal [3, 1].
    let t = TensorTape::new();
    let (a, b) = (t.var(Tensor::zeros(&[3])), t.var(Tensor::ones(&[3])));
    let e = t.try_stack(&[a, b], 5).unwrap_err();
    assert_eq!(
        e,
        Error::NewAxis {
            op: "stack",
            axis: 5,
            shape: vec![3]
        }
    );
    assert_eq!(
        e.to_string(),
        "stack: cannot insert a new axis 5 into values of shape [3]: the new axis must be in 0..=1"
    );
    // The last valid axis is ndim = 1: [3] and [3] stack into [3, 2].
    assert_eq!(t.stack(&[a, b], 1).shape(), vec![3, 2]);
}

#[test]
fn transpose_of_a_vector_says_it_needs_two_axes() {
    let t = TensorTape::new();
    let e = t.var(Tensor::zeros(&[3])).try_transpose().unwrap_err();
    assert!(
        matches!(&e, Error::Rank { op: "transpose", shape, .. } if shape == &[3]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "transpose: needs at least 2 axes (it swaps the last two), got shape [3] with 1 axis"
    );
}

#[test]
#[should_panic(
    expected = "transpose: needs at least 2 axes (it swaps the last two), got shape [] with 0 axes"
)]
fn transpose_of_a_scalar_panics_naming_the_shape() {
    let t = TensorTape::new();
    t.scalar(1.0).transpose();
}

// ------------------------------------------------------ learning rates

#[test]
fn non_finite_or_non_positive_learning_rates_are_rejected() {
    for lr in [f64::NAN, f64::INFINITY, -0.1, 0.0] {
        for e in [
            Adam::try_new(lr).unwrap_err(),
            Sgd::try_new(lr).unwrap_err(),
        ] {
            match &e {
                Error::Parameter { name, value, .. } => {
                    assert_eq!(*name, "learning rate");
                    assert!(value.to_bits() == lr.to_bits(), "{e}");
                }
                other => panic!("expected Parameter, got {other:?}"),
            }
            assert!(
                e.to_string()
                    .starts_with(&format!("learning rate = {lr} is invalid")),
                "{e}"
            );
        }
    }
    assert!(Adam::try_new(1e-3).is_ok() && Sgd::try_new(1e-3).is_ok());
}

#[test]
#[should_panic(expected = "learning rate = NaN is invalid: it must be finite and positive")]
fn adam_new_with_nan_panics_naming_the_learning_rate() {
    Adam::new(f64::NAN);
}

#[test]
#[should_panic(expected = "learning rate = -0.5 is invalid")]
fn sgd_new_with_a_negative_rate_panics() {
    Sgd::new(-0.5);
}

#[test]
fn a_learning_rate_changed_after_construction_is_caught_at_the_step() {
    // lr is a public field; the step checks it again and leaves θ alone.
    let mut sgd = Sgd::new(0.1);
    sgd.lr = -0.1;
    let mut p = vec![Tensor::scalar(1.0)];
    let e = sgd.try_step(&mut p, &[Tensor::scalar(1.0)]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Parameter {
                name: "learning rate",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(p[0].item(), 1.0);
    let mut adam = Adam::new(0.1);
    adam.beta1 = 1.0;
    let e = adam.try_step(&mut p, &[Tensor::scalar(1.0)]).unwrap_err();
    assert!(matches!(e, Error::Parameter { name: "beta1", .. }), "{e}");
}

// -------------------------------------------------- evaluation numbering

/// f(x) = (x − 3)⁴, which neither driver finishes in 4 evaluations, made
/// NaN at its 4th evaluation, i.e. evaluation 3 counting from 0.
fn nan_at_fourth_evaluation() -> impl FnMut(&[Tensor]) -> maya::Result<(f64, Vec<Tensor>)> {
    let mut calls = 0;
    move |p: &[Tensor]| {
        calls += 1;
        let x = p[0].data[0];
        let loss = if calls == 4 {
            f64::NAN
        } else {
            (x - 3.0).powi(4)
        };
        Ok((
            loss,
            vec![Tensor::from_data(vec![4.0 * (x - 3.0).powi(3)], vec![1])],
        ))
    }
}

#[test]
fn minimize_and_lbfgs_number_evaluations_alike() {
    let start = || vec![Tensor::zeros(&[1])];
    let opts = MinimizeOptions::default();
    let first_order = minimize(
        &mut nan_at_fourth_evaluation(),
        start(),
        &mut Sgd::new(1e-3),
        &opts,
    )
    .unwrap_err();
    let quasi_newton = lbfgs(
        &mut nan_at_fourth_evaluation(),
        start(),
        &LbfgsOptions::default(),
    )
    .unwrap_err();
    // Three good evaluations (0, 1, 2) came before the bad one: step 3.
    let expected = Error::NonFinite {
        what: "loss (NaN)".into(),
        step: 3,
    };
    assert_eq!(first_order, expected);
    assert_eq!(quasi_newton, expected);
}
