//! Misuse is caught, not turned into a wrong answer: each `try_` form
//! returns the matching `maya::Error` variant with its fields, and each
//! panicking form panics with a message that names the shapes or index.

use maya::{Error, Tape, Tensor, TensorTape};

fn var<'t>(t: &'t TensorTape, shape: &[usize]) -> maya::TVar<'t> {
    t.var(Tensor::zeros(shape))
}

// ------------------------------------------------------- from_data length

#[test]
fn from_data_with_the_wrong_length_is_an_error() {
    // [2, 3] holds 2·3 = 6 elements; 5 were given.
    let e = Tensor::try_from_data(vec![1.0; 5], vec![2, 3]).unwrap_err();
    assert!(
        matches!(&e, Error::DataLength { len: 5, shape, expected: 6, .. } if shape == &[2, 3]),
        "{e:?}"
    );
}

#[test]
#[should_panic(expected = "data of length 5 cannot have shape [2, 3]")]
fn from_data_with_the_wrong_length_panics() {
    Tensor::from_data(vec![1.0; 5], vec![2, 3]);
}

// -------------------------------------------------------------- broadcast

#[test]
fn shapes_that_do_not_broadcast_are_an_error() {
    // Aligned on the right, 3 and 4 differ and neither is 1.
    let t = TensorTape::new();
    let (a, b) = (var(&t, &[2, 3]), var(&t, &[4]));
    for (op, e) in [
        ("add", a.try_add(&b).unwrap_err()),
        ("sub", a.try_sub(&b).unwrap_err()),
        ("mul", a.try_mul(&b).unwrap_err()),
        ("div", a.try_div(&b).unwrap_err()),
    ] {
        assert!(
            matches!(&e, Error::Shape { op: o, lhs, rhs, .. }
                if *o == op && lhs == &[2, 3] && rhs == &[4]),
            "{e:?}"
        );
    }
}

#[test]
#[should_panic(expected = "add: incompatible shapes [2, 3] and [4]")]
fn add_of_shapes_that_do_not_broadcast_panics() {
    let t = TensorTape::new();
    let _ = var(&t, &[2, 3]) + var(&t, &[4]);
}

#[test]
#[should_panic(expected = "mul: incompatible shapes [2, 3] and [4]")]
fn mul_of_shapes_that_do_not_broadcast_panics() {
    let t = TensorTape::new();
    var(&t, &[2, 3]).mul(&var(&t, &[4]));
}

// ----------------------------------------------------------------- matmul

#[test]
fn matmul_of_mismatched_shapes_is_an_error() {
    // [2, 3] @ [4, 5]: the inner dimensions 3 and 4 differ.
    let t = TensorTape::new();
    let e = var(&t, &[2, 3]).try_matmul(&var(&t, &[4, 5])).unwrap_err();
    assert!(
        matches!(&e, Error::Shape { op: "matmul", lhs, rhs, .. } if lhs == &[2, 3] && rhs == &[4, 5]),
        "{e:?}"
    );
    // Batch axes 2 and 3 do not broadcast.
    let e = var(&t, &[2, 3, 4])
        .try_matmul(&var(&t, &[3, 4, 5]))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Shape { op: "matmul", lhs, rhs, .. } if lhs == &[2, 3, 4] && rhs == &[3, 4, 5]),
        "{e:?}"
    );
    // A vector is not a matrix.
    let e = var(&t, &[3]).try_matmul(&var(&t, &[3, 2])).unwrap_err();
    assert!(matches!(&e, Error::Shape { op: "matmul", .. }), "{e:?}");
}

#[test]
#[should_panic(expected = "matmul: incompatible shapes [2, 3] and [4, 5]")]
fn matmul_of_mismatched_shapes_panics() {
    let t = TensorTape::new();
    var(&t, &[2, 3]).matmul(&var(&t, &[4, 5]));
}

// ------------------------------------------------------- non-scalar loss

#[test]
fn grad_of_a_non_scalar_loss_is_an_error() {
    let t = TensorTape::new();
    let x = var(&t, &[2, 3]);
    let y = x.exp();
    let e = t.try_grad(y).unwrap_err();
    assert!(
        matches!(&e, Error::NotScalar { op: "grad", shape } if shape == &[2, 3]),
        "{e:?}"
    );
    // One element in any shape is a valid loss.
    assert!(t.try_grad(y.sum().reshape(&[1, 1])).is_ok());
}

#[test]
#[should_panic(expected = "grad: needs a one-element value, got shape [2, 3]")]
fn grad_of_a_non_scalar_loss_panics() {
    let t = TensorTape::new();
    t.grad(var(&t, &[2, 3]));
}

// --------------------------------------------------------- foreign handles

#[test]
fn tensor_handles_from_another_tape_are_an_error() {
    let (t1, t2) = (TensorTape::new(), TensorTape::new());
    let (a, b) = (var(&t1, &[2]), var(&t2, &[2]));
    assert_eq!(
        a.try_add(&b).unwrap_err(),
        Error::ForeignHandle { op: "add" }
    );
    assert_eq!(
        a.try_mul(&b).unwrap_err(),
        Error::ForeignHandle { op: "mul" }
    );
    let (m1, m2) = (var(&t1, &[2, 2]), var(&t2, &[2, 2]));
    assert_eq!(
        m1.try_matmul(&m2).unwrap_err(),
        Error::ForeignHandle { op: "matmul" }
    );
    assert_eq!(
        a.try_index_add(0, &[0, 1], &b).unwrap_err(),
        Error::ForeignHandle { op: "index_add" }
    );
    assert_eq!(
        t1.try_grad(b.sum()).unwrap_err(),
        Error::ForeignHandle { op: "grad" }
    );
    // Nothing was recorded on t1 by the failed calls: a, m1 and nothing else.
    assert_eq!(t1.len(), 2);
}

#[test]
#[should_panic(expected = "add: the handle belongs to another tape")]
fn tensor_handle_from_another_tape_panics_in_a_binary_op() {
    let (t1, t2) = (TensorTape::new(), TensorTape::new());
    let _ = var(&t1, &[2]) + var(&t2, &[2]);
}

#[test]
#[should_panic(expected = "grad: the handle belongs to another tape")]
fn tensor_handle_from_another_tape_panics_in_grad() {
    let (t1, t2) = (TensorTape::new(), TensorTape::new());
    t1.grad(var(&t2, &[]));
}

#[test]
fn scalar_handles_from_another_tape_are_an_error() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let (a, b) = (t1.var(1.0), t2.var(2.0));
    for (op, e) in [
        ("add", a.try_add(b)),
        ("sub", a.try_sub(b)),
        ("mul", a.try_mul(b)),
        ("div", a.try_div(b)),
        ("max", a.try_max(b)),
        ("min", a.try_min(b)),
        ("pow", a.try_pow(b)),
    ] {
        assert_eq!(e.unwrap_err(), Error::ForeignHandle { op });
    }
    assert_eq!(
        t1.try_grad(b).unwrap_err(),
        Error::ForeignHandle { op: "grad" }
    );
}

#[test]
#[should_panic(expected = "mul: the handle belongs to another tape")]
fn scalar_handle_from_another_tape_panics_in_a_binary_op() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.var(1.0) * t2.var(2.0);
}

#[test]
#[should_panic(expected = "grad: the handle belongs to another tape")]
fn scalar_handle_from_another_tape_panics_in_grad() {
    let (t1, t2) = (Tape::new(), Tape::new());
    t1.grad(t2.var(1.0));
}

// ----------------------------------------------------------------- slice

#[test]
fn slice_out_of_range_is_an_error() {
    // Axis 0 of [4, 2] has length 4; the range 2..6 ends past it at 6.
    let t = TensorTape::new();
    let x = var(&t, &[4, 2]);
    let e = x.try_slice(0, 2..6).unwrap_err();
    assert_eq!(
        e,
        Error::Range {
            op: "slice",
            axis: 0,
            start: 2,
            end: 6,
            len: 4,
            problem: "ends past the end of the axis",
        }
    );
    // Axis 2 does not exist in a rank-2 tensor.
    let e = x.try_slice(2, 0..1).unwrap_err();
    assert!(
        matches!(&e, Error::Axis { op: "slice", axis: 2, shape } if shape == &[4, 2]),
        "{e:?}"
    );
}

#[test]
#[should_panic(
    expected = "slice: range 2..6 along axis 0 (length 4) ends past the end of the axis"
)]
fn slice_out_of_range_panics() {
    let t = TensorTape::new();
    var(&t, &[4, 2]).slice(0, 2..6);
}

// ---------------------------------------------------------- index_select

#[test]
fn index_select_out_of_range_is_an_error() {
    // Axis 1 of [2, 3] has length 3, so index 3 is one past the end.
    let t = TensorTape::new();
    let x = var(&t, &[2, 3]);
    let e = x.try_index_select(1, &[0, 3, 1]).unwrap_err();
    assert_eq!(
        e,
        Error::Index {
            op: "index_select",
            index: 3,
            len: 3
        }
    );
    // The same check guards index_add and scatter_add.
    let src = var(&t, &[2, 2]);
    let e = x.try_index_add(1, &[0, 7], &src).unwrap_err();
    assert_eq!(
        e,
        Error::Index {
            op: "index_add",
            index: 7,
            len: 3
        }
    );
    let e = src.try_scatter_add(1, &[4, 0], 4).unwrap_err();
    assert_eq!(
        e,
        Error::Index {
            op: "index_add",
            index: 4,
            len: 4
        }
    );
}

#[test]
#[should_panic(expected = "index_select: index 3 is out of range for length 3")]
fn index_select_out_of_range_panics() {
    let t = TensorTape::new();
    var(&t, &[2, 3]).index_select(1, &[0, 3, 1]);
}

#[test]
fn index_add_with_a_source_of_the_wrong_shape_is_an_error() {
    // Two indices along axis 0 of [3, 2] need a source of shape [2, 2].
    let t = TensorTape::new();
    let e = var(&t, &[3, 2])
        .try_index_add(0, &[0, 1], &var(&t, &[2, 3]))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Shape { op: "index_add", lhs, rhs, .. } if lhs == &[3, 2] && rhs == &[2, 3]),
        "{e:?}"
    );
}

// -------------------------------------------------------------- sum_axis

#[test]
fn sum_axis_with_a_bad_axis_is_an_error() {
    // [2, 3] has axes 0 and 1 only.
    let t = TensorTape::new();
    let x = var(&t, &[2, 3]);
    for keepdim in [false, true] {
        let e = x.try_sum_axis(2, keepdim).unwrap_err();
        assert!(
            matches!(&e, Error::Axis { op: "sum_axis", axis: 2, shape } if shape == &[2, 3]),
            "{e:?}"
        );
    }
    let e = x.try_mean_axis(5, false).unwrap_err();
    assert!(
        matches!(&e, Error::Axis { op: "mean_axis", axis: 5, shape } if shape == &[2, 3]),
        "{e:?}"
    );
}

#[test]
#[should_panic(expected = "sum_axis: axis 2 is out of range for a tensor of shape [2, 3]")]
fn sum_axis_with_a_bad_axis_panics() {
    let t = TensorTape::new();
    var(&t, &[2, 3]).sum_axis(2, false);
}

// --------------------------------------------------------------- reshape

#[test]
fn reshape_with_a_wrong_count_is_an_error() {
    // [2, 3] holds 6 elements, [4] holds 4.
    let t = TensorTape::new();
    let e = var(&t, &[2, 3]).try_reshape(&[4]).unwrap_err();
    assert!(
        matches!(&e, Error::Shape { op: "reshape", lhs, rhs, .. } if lhs == &[2, 3] && rhs == &[4]),
        "{e:?}"
    );
    let e = Tensor::zeros(&[2, 3]).try_reshape(&[4]).unwrap_err();
    assert!(matches!(&e, Error::Shape { op: "reshape", .. }), "{e:?}");
}

#[test]
#[should_panic(expected = "reshape: incompatible shapes [2, 3] and [4]")]
fn reshape_with_a_wrong_count_panics() {
    let t = TensorTape::new();
    var(&t, &[2, 3]).reshape(&[4]);
}

// ---------------------------------------------------------- concat, stack

#[test]
fn concat_of_mismatched_shapes_is_an_error() {
    // Along axis 0 the other axis must agree, and 3 ≠ 4.
    let t = TensorTape::new();
    let (a, b) = (var(&t, &[2, 3]), var(&t, &[2, 4]));
    let e = t.try_concat(&[a, b], 0).unwrap_err();
    assert!(
        matches!(&e, Error::Shape { op: "concat", lhs, rhs, .. } if lhs == &[2, 3] && rhs == &[2, 4]),
        "{e:?}"
    );
    // Along axis 1 they do agree.
    assert_eq!(t.concat(&[a, b], 1).shape(), vec![2, 7]);
    // A different rank never fits.
    let c = var(&t, &[2, 3, 1]);
    assert!(matches!(
        t.try_concat(&[a, c], 0).unwrap_err(),
        Error::Shape { op: "concat", .. }
    ));
    assert_eq!(
        t.try_concat(&[], 0).unwrap_err(),
        Error::Empty { op: "concat" }
    );
    // stack needs equal shapes.
    let e = t.try_stack(&[a, b], 0).unwrap_err();
    assert!(
        matches!(&e, Error::Shape { op: "stack", lhs, rhs, .. } if lhs == &[2, 3] && rhs == &[2, 4]),
        "{e:?}"
    );
}

#[test]
#[should_panic(expected = "concat: incompatible shapes [2, 3] and [2, 4]")]
fn concat_of_mismatched_shapes_panics() {
    let t = TensorTape::new();
    t.concat(&[var(&t, &[2, 3]), var(&t, &[2, 4])], 0);
}

// ---------------------------------------------------- other small misuse

#[test]
fn scalar_mul_by_a_value_of_several_elements_is_an_error() {
    let t = TensorTape::new();
    let (x, s) = (var(&t, &[2, 3]), var(&t, &[2]));
    let e = x.try_scalar_mul(s).unwrap_err();
    assert!(
        matches!(&e, Error::NotScalar { op: "scalar_mul", shape } if shape == &[2]),
        "{e:?}"
    );
}

#[test]
fn transpose_of_a_vector_is_an_error() {
    let t = TensorTape::new();
    let e = var(&t, &[3]).try_transpose().unwrap_err();
    assert!(
        matches!(&e, Error::Rank { op: "transpose", shape, .. } if shape == &[3]),
        "{e:?}"
    );
}
