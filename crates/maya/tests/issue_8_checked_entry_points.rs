//! Issue 8: entry points that silently did the wrong thing.
//!
//! - `demos::example_main` panicked on an unknown name instead of returning
//!   an error; it now returns `Error::Unknown` listing the demos.
//! - `Optimizer::step`, `minimize` and `lbfgs` zipped parameters with
//!   gradients, so a missing gradient or one of the wrong shape was
//!   silently truncated; each now returns an error naming the parameter
//!   index and both shapes.
//! - The unchecked accumulation loops (`matmul_acc`, `slice_add_into`,
//!   `sum_axis_add_into`) are no longer public; a `compile_fail` doctest in
//!   `tensor::cpu` keeps them so.

use maya::demos::example_main;
use maya::optim::{lbfgs, minimize, Adam, LbfgsOptions, MinimizeOptions, Optimizer, Sgd};
use maya::{Error, Tensor};

#[test]
fn example_main_of_an_unknown_demo_is_an_error_listing_the_demos() {
    let e = example_main("juggle").unwrap_err();
    assert_eq!(
        e,
        Error::Unknown {
            what: "demo",
            name: "juggle".into(),
            known: vec![
                "throw",
                "sysid",
                "cloth",
                "oscillator",
                "soft-fit",
                "shape-opt",
                "billiards",
                "contact-models"
            ],
        }
    );
    assert_eq!(
        e.to_string(),
        "unknown demo `juggle`; the known ones are: throw, sysid, cloth, oscillator, soft-fit, shape-opt, billiards, contact-models"
    );
}

/// Two parameters, of shapes [2] and [3].
fn params() -> Vec<Tensor> {
    vec![Tensor::ones(&[2]), Tensor::ones(&[3])]
}

#[test]
fn a_missing_gradient_is_an_error_not_a_skipped_parameter() {
    for opt in [
        &mut Sgd::new(0.1) as &mut dyn Optimizer,
        &mut Adam::new(0.1),
    ] {
        let mut p = params();
        let e = opt.try_step(&mut p, &[Tensor::ones(&[2])]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::GradientCount {
                    expected: 2,
                    got: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        // Nothing moved.
        assert_eq!(p, params());
    }
}

#[test]
fn a_gradient_of_the_wrong_shape_names_the_parameter_and_both_shapes() {
    let mut p = params();
    let grads = [Tensor::ones(&[2]), Tensor::ones(&[2])];
    let e = Sgd::new(0.1).try_step(&mut p, &grads).unwrap_err();
    assert_eq!(
        e,
        Error::GradientShape {
            op: "Sgd::step",
            index: 1,
            param: vec![3],
            grad: vec![2],
        }
    );
    assert_eq!(
        e.to_string(),
        "Sgd::step: the gradient of parameter 1 has shape [2] but the parameter has shape [3]; each gradient must have its parameter's shape"
    );
    // Adam would otherwise update two of the three entries of parameter 1.
    let e = Adam::new(0.1).try_step(&mut p, &grads).unwrap_err();
    assert!(matches!(e, Error::GradientShape { index: 1, .. }), "{e:?}");
    assert_eq!(p, params());
}

#[test]
#[should_panic(expected = "Adam::step: got 3 gradient(s) for 2 parameter(s)")]
fn step_panics_on_too_many_gradients() {
    let grads = [Tensor::ones(&[2]), Tensor::ones(&[3]), Tensor::ones(&[1])];
    Adam::new(0.1).step(&mut params(), &grads);
}

/// An objective whose gradient of parameter 1 has 2 elements, not 3.
fn short_gradient(p: &[Tensor]) -> maya::Result<(f64, Vec<Tensor>)> {
    let loss = p.iter().flat_map(|t| &t.data).map(|x| x * x).sum();
    Ok((loss, vec![p[0].clone(), Tensor::ones(&[2])]))
}

#[test]
fn minimize_and_lbfgs_reject_gradients_that_do_not_match() {
    let expected = |op| Error::GradientShape {
        op,
        index: 1,
        param: vec![3],
        grad: vec![2],
    };
    let e = minimize(
        &mut short_gradient,
        params(),
        &mut Sgd::new(0.1),
        &MinimizeOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e, expected("minimize"));
    let e = lbfgs(&mut short_gradient, params(), &LbfgsOptions::default()).unwrap_err();
    assert_eq!(e, expected("lbfgs"));
    // One gradient for two parameters.
    let mut one = |p: &[Tensor]| maya::Result::Ok((0.0, vec![p[0].clone()]));
    let e = lbfgs(&mut one, params(), &LbfgsOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::GradientCount {
                op: "lbfgs",
                expected: 2,
                got: 1
            }
        ),
        "{e:?}"
    );
}
