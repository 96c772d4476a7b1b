//! Issue 9: conveniences a JAX user expects. `TVar::at` takes one element
//! differentiably (shape `[]`), and `maya::jacobian` / `TensorTape::jacobian`
//! return the Jacobian, shape `out.shape ++ x.shape`, by reverse sweeps.
//! Each is checked against a closed form.

use maya::{gradcheck, jacobian, Error, Tensor, TensorTape};

#[test]
fn at_takes_one_element_with_a_one_hot_gradient() {
    let t = TensorTape::new();
    // x[i, j] = 10 i + j, so x[1, 2] = 12.
    let x = t.var(Tensor::from_data(
        vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0],
        vec![2, 3],
    ));
    let y = x.at(&[1, 2]);
    assert_eq!(y.shape(), Vec::<usize>::new());
    assert_eq!(y.item(), 12.0);
    // ∂(x[1, 2]²)/∂x = 2 · 12 at [1, 2] (flat index 1 · 3 + 2 = 5), 0 elsewhere.
    let g = t.grad(y.square());
    assert_eq!(g[x.idx()].data, vec![0.0, 0.0, 0.0, 0.0, 0.0, 24.0]);
}

#[test]
fn at_passes_gradcheck_in_a_composite() {
    // f = x[0, 1, 1] · sin(x[1, 0, 1]) over a [2, 2, 2] tensor.
    let x = Tensor::rand_uniform(&[2, 2, 2], 11);
    let report = gradcheck(
        |_t, v| v[0].at(&[0, 1, 1]).mul(&v[0].at(&[1, 0, 1]).sin()),
        &[x],
    );
    assert!(report.passed, "{report}");
}

#[test]
fn at_with_a_bad_index_names_the_index_and_the_shape() {
    let t = TensorTape::new();
    let x = t.var(Tensor::zeros(&[2, 3]));
    // Column 3 is past the end of an axis of length 3.
    let e = x.try_at(&[1, 3]).unwrap_err();
    assert_eq!(
        e,
        Error::ElementIndex {
            op: "at",
            index: vec![1, 3],
            shape: vec![2, 3]
        }
    );
    assert_eq!(
        e.to_string(),
        "at: index [1, 3] is not an element of a tensor of shape [2, 3]: give one index per axis (2), each below that axis's length"
    );
    // One index for two axes.
    assert!(matches!(x.try_at(&[1]), Err(Error::ElementIndex { .. })));
}

#[test]
fn jacobian_of_a_small_nonlinear_map_is_its_closed_form() {
    // f(x) = [sin x₀ · x₁, x₀²]: J = [[cos x₀ · x₁, sin x₀], [2 x₀, 0]].
    let (a, b) = (0.7f64, -1.3f64);
    let x = Tensor::from_data(vec![a, b], vec![2]);
    let j = jacobian(
        |t, x| {
            let (x0, x1) = (x.at(&[0]), x.at(&[1]));
            t.stack(&[x0.sin().mul(&x1), x0.square()], 0)
        },
        &x,
    )
    .unwrap();
    assert_eq!(j.shape, vec![2, 2]);
    let expected = [a.cos() * b, a.sin(), 2.0 * a, 0.0];
    for (got, want) in j.data.iter().zip(expected) {
        assert!((got - want).abs() < 1e-15, "{:?} vs {expected:?}", j.data);
    }
}

#[test]
fn jacobian_of_a_matmul_is_a_times_the_identity() {
    // Y = A X with A [2, 3], X [3, 2]: ∂Y[i, j]/∂X[k, l] = A[i, k] δ(j, l),
    // so J has shape [2, 2] ++ [3, 2].
    let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]);
    let x = Tensor::rand_uniform(&[3, 2], 5);
    let j = jacobian(|t, x| t.constant(a.clone()).matmul(&x), &x).unwrap();
    assert_eq!(j.shape, vec![2, 2, 3, 2]);
    for i in 0..2 {
        for jj in 0..2 {
            for k in 0..3 {
                for l in 0..2 {
                    let want = if jj == l { a.data[i * 3 + k] } else { 0.0 };
                    let got = j.data[((i * 2 + jj) * 3 + k) * 2 + l];
                    assert_eq!(got, want, "J[{i}, {jj}, {k}, {l}]");
                }
            }
        }
    }
}

#[test]
fn tape_jacobian_of_a_scalar_output_is_its_gradient() {
    // y = Σ x², shape []: J has shape [] ++ [3] and equals 2x.
    let t = TensorTape::new();
    let x = t.var(Tensor::from_data(vec![1.0, -2.0, 0.5], vec![3]));
    let y = x.square().sum();
    let j = t.jacobian(y, x);
    assert_eq!(j.shape, vec![3]);
    assert_eq!(j.data, vec![2.0, -4.0, 1.0]);
}

#[test]
fn tape_jacobian_with_a_foreign_handle_is_an_error() {
    let (t1, t2) = (TensorTape::new(), TensorTape::new());
    let x = t1.var(Tensor::zeros(&[2]));
    let y = t2.var(Tensor::zeros(&[2]));
    assert_eq!(
        t1.try_jacobian(y, x).unwrap_err(),
        Error::ForeignHandle { op: "jacobian" }
    );
}
