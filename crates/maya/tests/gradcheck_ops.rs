//! Every differentiable op of the tensor tape against central differences.
//!
//! Each case is one line through [`check_op`] (tinygrad's `helper_test_op`):
//! deterministic inputs of the given shapes, the op as a closure, and
//! `maya::gradcheck` with its default tolerances (rtol = 1e-6, atol = 1e-8).
//! Inputs are kept away from kinks and poles: `_positive` draws from
//! [0.5, 2) for ln, sqrt, powf; `_nonzero` keeps |x| ≥ 0.2 for relu, abs and
//! divisors. The property tests at the end draw the shapes at random.

use maya::{gradcheck, GradcheckReport, TVar, Tensor, TensorTape};
use proptest::prelude::*;

/// Where the inputs of an op are drawn from.
#[derive(Clone, Copy, Debug)]
enum Domain {
    /// Uniform in [-1, 1).
    Any,
    /// Uniform in [0.5, 2): for ln, sqrt and powf.
    Positive,
    /// |x| uniform in [0.2, 1.2), either sign: for relu, abs and divisors.
    NonZero,
}

fn input(shape: &[usize], seed: u64, domain: Domain) -> Tensor {
    let mut x = Tensor::rand_uniform(shape, seed);
    for v in &mut x.data {
        *v = match domain {
            Domain::Any => *v,
            Domain::Positive => 0.5 + 0.75 * (*v + 1.0),
            Domain::NonZero => v.signum() * (0.2 + v.abs()),
        };
    }
    x
}

fn report_for<F>(domain: Domain, shapes: &[&[usize]], seed: u64, f: F) -> GradcheckReport
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let inputs: Vec<Tensor> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| input(s, seed.wrapping_add(1000 * i as u64 + 1), domain))
        .collect();
    gradcheck(f, &inputs)
}

#[track_caller]
fn check_in<F>(domain: Domain, shapes: &[&[usize]], f: F)
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let report = report_for(domain, shapes, 42, f);
    assert!(report.passed, "shapes {shapes:?} ({domain:?}): {report}");
    assert!(report.checked > 0 || shapes.iter().any(|s| s.contains(&0)));
}

/// Gradcheck of `f` at inputs uniform in [-1, 1) of the given shapes.
#[track_caller]
fn check_op<F>(shapes: &[&[usize]], f: F)
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    check_in(Domain::Any, shapes, f)
}

/// [`check_op`] at inputs in [0.5, 2).
#[track_caller]
fn check_op_positive<F>(shapes: &[&[usize]], f: F)
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    check_in(Domain::Positive, shapes, f)
}

/// [`check_op`] at inputs with |x| in [0.2, 1.2).
#[track_caller]
fn check_op_nonzero<F>(shapes: &[&[usize]], f: F)
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    check_in(Domain::NonZero, shapes, f)
}

/// Shape pairs for binary ops: equal, both sides broadcast, trailing-axis
/// broadcast, scalar on either side, and a rank-3 mix.
const BROADCAST_PAIRS: &[[&[usize]; 2]] = &[
    [&[2, 3], &[2, 3]],
    [&[3, 1], &[1, 4]],
    [&[2, 3], &[3]],
    [&[3], &[2, 3]],
    [&[], &[2, 2]],
    [&[2, 2], &[]],
    [&[2, 1, 3], &[4, 1]],
    [&[1], &[5]],
];

/// Shapes for elementwise ops: scalar, vector, matrix, rank 3.
const SHAPES: &[&[usize]] = &[&[], &[5], &[2, 3], &[2, 3, 4]];

// ---------------------------------------------------------------- binary

#[test]
fn add_sub_mul_with_broadcasting() {
    for pair in BROADCAST_PAIRS {
        check_op(pair, |_, v| v[0].add(&v[1]));
        check_op(pair, |_, v| v[0].sub(&v[1]));
        check_op(pair, |_, v| v[0].mul(&v[1]));
    }
}

#[test]
fn div_with_broadcasting() {
    for pair in BROADCAST_PAIRS {
        check_op_nonzero(pair, |_, v| v[0].div(&v[1]));
    }
}

#[test]
// `scalar_mul(&v)` exercises the `&TVar` operand on purpose.
#[allow(clippy::needless_borrows_for_generic_args)]
fn scalar_mul_by_f64_and_by_one_element_value() {
    for &shape in SHAPES {
        check_op(&[shape], |_, v| v[0].scalar_mul(-1.75));
        // The factor is a taped value of shape [] or [1]: both get gradients.
        check_op(&[shape, &[]], |_, v| v[0].scalar_mul(v[1]));
        check_op(&[shape, &[1]], |_, v| v[0].scalar_mul(&v[1]));
        check_op(&[shape, &[1, 1, 1, 1]], |_, v| v[0].scalar_mul(v[1]));
    }
}

#[test]
fn scalar_mul_by_a_one_element_value_keeps_the_shape() {
    // s has one element but shape [1, 1]: x·s still has x's shape [3].
    let t = TensorTape::new();
    let x = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0], vec![3]));
    let s = t.var(Tensor::from_data(vec![2.0], vec![1, 1]));
    let y = x.scalar_mul(s);
    assert_eq!(y.shape(), vec![3]);
    assert_eq!(y.value().data, vec![2.0, 4.0, 6.0]);
    // L = Σ s xᵢ: ∂L/∂s = Σ xᵢ = 6 (in s's shape), ∂L/∂xᵢ = s = 2.
    let g = t.grad(y.sum());
    assert_eq!(g[s.idx()], Tensor::from_data(vec![6.0], vec![1, 1]));
    assert_eq!(g[x.idx()].data, vec![2.0; 3]);
}

// ----------------------------------------------------------------- unary

#[test]
fn smooth_unaries_on_every_shape() {
    for &shape in SHAPES {
        check_op(&[shape], |_, v| v[0].neg());
        check_op(&[shape], |_, v| v[0].exp());
        check_op(&[shape], |_, v| v[0].sin());
        check_op(&[shape], |_, v| v[0].cos());
        check_op(&[shape], |_, v| v[0].tanh());
        check_op(&[shape], |_, v| v[0].square());
        check_op(&[shape], |_, v| v[0].add_scalar(0.3));
    }
}

#[test]
fn unaries_that_need_positive_inputs() {
    for &shape in SHAPES {
        check_op_positive(&[shape], |_, v| v[0].ln());
        check_op_positive(&[shape], |_, v| v[0].sqrt());
        for p in [2.5, 0.5, -1.5, 3.0] {
            check_op_positive(&[shape], move |_, v| v[0].powf(p));
        }
    }
}

#[test]
fn kinked_unaries_away_from_zero() {
    for &shape in SHAPES {
        check_op_nonzero(&[shape], |_, v| v[0].relu());
        check_op_nonzero(&[shape], |_, v| v[0].abs());
    }
}

#[test]
fn powf_zero_is_constant() {
    // x⁰ = 1 for every x, so the gradient is 0; the check compares it with a
    // central difference that is also 0.
    check_op_positive(&[&[4]], |_, v| v[0].powf(0.0));
}

// ---------------------------------------------------------------- matmul

#[test]
fn matmul_2d_batched_and_broadcast_batches() {
    let cases: &[[&[usize]; 2]] = &[
        [&[3, 4], &[4, 5]],
        [&[1, 3], &[3, 1]],
        [&[2, 3, 4], &[2, 4, 5]],
        // The left operand is shared by both batch entries: its gradient
        // sums over the batch.
        [&[3, 4], &[2, 4, 5]],
        [&[2, 3, 4], &[4, 5]],
        // Batch axes [2, 1] and [3] broadcast to [2, 3].
        [&[2, 1, 3, 4], &[3, 4, 2]],
        [&[1, 3, 4], &[4, 2]],
    ];
    for pair in cases {
        check_op(pair, |_, v| v[0].matmul(&v[1]));
    }
}

/// A fresh gradient slot takes the product written over it, any other the
/// product added: an input also read by an op recorded after the product
/// (its gradient exists before the product's adjoint runs), one read by an
/// op recorded before it (the product's adjoint writes first, that op adds
/// after), an input used twice, and a batch summed into a shared operand.
#[test]
fn matmul_gradients_add_to_and_write_over_their_slots_correctly() {
    let square: &[&[usize]] = &[&[3, 3], &[3, 3]];
    check_op(square, |_, v| v[0].matmul(&v[1]) + v[0]);
    check_op(square, |_, v| {
        let s = v[0].sin();
        v[0].matmul(&v[1]) * s
    });
    check_op(square, |_, v| v[0].matmul(&v[0]) + v[1].matmul(&v[0]));
    check_op(&[&[2, 3, 3], &[3, 3]], |_, v| {
        let s = v[1].sin();
        v[0].matmul(&v[1]) + s
    });
}

/// The matmul adjoint takes one of three paths: both gradients side by
/// side on one thread each (small products), each product split across
/// threads (large ones), or one gradient only (the other input constant).
/// Each against the closed form dA = W Bᵀ, dB = Aᵀ W of L = Σ (A B) ⊙ W,
/// summed naively here.
#[test]
fn matmul_gradients_on_every_thread_path_match_the_closed_form() {
    // Under 2²¹ multiply-adds both products run on one thread, from 2²¹
    // side by side, from 2²⁵ (340³) one after the other, each split.
    for (m, k, n) in [(5, 7, 3), (160, 150, 170), (340, 340, 340)] {
        let (a0, b0, w0) = (
            input(&[m, k], 1, Domain::Any),
            input(&[k, n], 2, Domain::Any),
            input(&[m, n], 3, Domain::Any),
        );
        let mut da = vec![0.0; m * k];
        let mut db = vec![0.0; k * n];
        for i in 0..m {
            for j in 0..n {
                let wij = w0.data[i * n + j];
                for p in 0..k {
                    da[i * k + p] += wij * b0.data[p * n + j];
                    db[p * n + j] += a0.data[i * k + p] * wij;
                }
            }
        }
        let close = |got: &Tensor, want: &[f64], what: &str| {
            for (q, (g, w)) in got.data.iter().zip(want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                    "{what}[{q}] at {m}x{k}x{n}: {g} vs {w}"
                );
            }
        };
        for (need_a, need_b) in [(true, true), (true, false), (false, true)] {
            let t = TensorTape::new();
            let leaf = |x: &Tensor, need: bool| {
                if need {
                    t.var(x.clone())
                } else {
                    t.constant(x.clone())
                }
            };
            let (a, b) = (leaf(&a0, need_a), leaf(&b0, need_b));
            let loss = (a.matmul(&b) * t.constant(w0.clone())).sum();
            let g = t.grad(loss);
            if need_a {
                close(&g[a.idx()], &da, "dA");
            }
            if need_b {
                close(&g[b.idx()], &db, "dB");
            }
        }
    }
}

// ------------------------------------------------------------ reductions

#[test]
fn sum_and_mean_over_everything() {
    for &shape in SHAPES {
        check_op(&[shape], |_, v| v[0].sum());
        check_op(&[shape], |_, v| v[0].mean());
    }
}

#[test]
fn sum_axis_and_mean_axis_over_each_axis() {
    let shape: &[usize] = &[2, 3, 4];
    for axis in 0..3 {
        for keepdim in [false, true] {
            check_op(&[shape], move |_, v| v[0].sum_axis(axis, keepdim));
            check_op(&[shape], move |_, v| v[0].mean_axis(axis, keepdim));
        }
    }
    check_op(&[&[5]], |_, v| v[0].sum_axis(0, false));
    check_op(&[&[5]], |_, v| v[0].mean_axis(0, true));
}

// ---------------------------------------------------------------- layout

#[test]
fn transpose_2d_and_batched() {
    for shape in [&[3, 4][..], &[2, 3, 4], &[2, 1, 3, 4], &[1, 5]] {
        check_op(&[shape], |_, v| v[0].transpose());
    }
}

#[test]
fn reshape_to_several_shapes() {
    for target in [&[6, 4][..], &[24], &[4, 3, 2], &[1, 24, 1]] {
        check_op(&[&[2, 3, 4]], move |_, v| v[0].reshape(target));
    }
    check_op(&[&[]], |_, v| v[0].reshape(&[1, 1]));
}

#[test]
fn slice_along_each_axis() {
    check_op(&[&[5]], |_, v| v[0].slice(0, 1..4));
    check_op(&[&[3, 4]], |_, v| v[0].slice(0, 2..3));
    check_op(&[&[3, 4]], |_, v| v[0].slice(1, 1..3));
    check_op(&[&[2, 3, 4]], |_, v| v[0].slice(1, 0..2));
    check_op(&[&[2, 3, 4]], |_, v| v[0].slice(2, 3..4));
    // The whole axis, and an empty range (no output, so a zero gradient).
    check_op(&[&[2, 3]], |_, v| v[0].slice(1, 0..3));
    check_op(&[&[2, 3]], |_, v| v[0].slice(1, 2..2));
}

#[test]
fn concat_along_several_axes() {
    check_op(&[&[2, 3], &[1, 3], &[4, 3]], |t, v| t.concat(v, 0));
    check_op(&[&[2, 3], &[2, 1]], |t, v| t.concat(v, 1));
    check_op(&[&[2, 3, 1], &[2, 3, 2]], |t, v| t.concat(v, 2));
    check_op(&[&[2, 1, 4], &[2, 2, 4]], |t, v| t.concat(v, 1));
    check_op(&[&[3]], |t, v| t.concat(&[v[0]], 0));
}

#[test]
fn stack_along_several_axes() {
    for axis in 0..3 {
        check_op(&[&[2, 3], &[2, 3], &[2, 3]], move |t, v| t.stack(v, axis));
    }
    check_op(&[&[], &[]], |t, v| t.stack(v, 0));
}

// ----------------------------------------------------------------- index

#[test]
fn index_select_and_gather_with_repeated_indices() {
    check_op(&[&[4, 3]], |_, v| v[0].index_select(0, &[3, 0, 3, 1, 3]));
    check_op(&[&[4, 3]], |_, v| v[0].index_select(1, &[2, 2, 0]));
    check_op(&[&[2, 3, 4]], |_, v| v[0].index_select(1, &[1, 1, 2, 0]));
    check_op(&[&[2, 3, 4]], |_, v| v[0].gather(2, &[3, 3]));
    check_op(&[&[5]], |_, v| v[0].gather(0, &[4, 0, 4, 4]));
}

#[test]
fn index_add_with_repeated_indices() {
    check_op(&[&[4, 3], &[5, 3]], |_, v| {
        v[0].index_add(0, &[0, 2, 0, 3, 0], &v[1])
    });
    check_op(&[&[2, 4], &[2, 3]], |_, v| {
        v[0].index_add(1, &[3, 3, 1], &v[1])
    });
    check_op(&[&[2, 3, 2], &[2, 3, 3]], |_, v| {
        v[0].index_add(2, &[1, 0, 1], &v[1])
    });
}

#[test]
fn scatter_add_with_repeated_indices() {
    check_op(&[&[5, 3]], |_, v| v[0].scatter_add(0, &[1, 1, 0, 3, 1], 4));
    check_op(&[&[2, 3]], |_, v| v[0].scatter_add(1, &[2, 2, 2], 3));
    check_op(&[&[4]], |_, v| v[0].scatter_add(0, &[0, 5, 5, 2], 6));
}

// ------------------------------------------------------------- operators

#[test]
// The `&a + &b` forms are part of the API under test, not needless borrows.
#[allow(clippy::op_ref)]
fn operator_forms() {
    let pair: &[&[usize]] = &[&[3, 1], &[1, 4]];
    check_op(pair, |_, v| v[0] + v[1]);
    check_op(pair, |_, v| v[0] - v[1]);
    check_op(pair, |_, v| v[0] * v[1]);
    check_op_nonzero(pair, |_, v| v[0] / v[1]);
    check_op(pair, |_, v| &v[0] + &v[1]);
    check_op(pair, |_, v| &v[0] - &v[1]);
    check_op(pair, |_, v| &v[0] * &v[1]);
    check_op_nonzero(pair, |_, v| &v[0] / &v[1]);

    let one: &[&[usize]] = &[&[2, 3]];
    check_op(one, |_, v| v[0] + 2.0);
    check_op(one, |_, v| 2.0 + v[0]);
    check_op(one, |_, v| v[0] - 2.0);
    check_op(one, |_, v| 2.0 - v[0]);
    check_op(one, |_, v| v[0] * 2.0);
    check_op(one, |_, v| 2.0 * v[0]);
    check_op(one, |_, v| v[0] / 2.0);
    check_op_nonzero(one, |_, v| 1.0 / v[0]);
    check_op_nonzero(one, |_, v| -3.0 / v[0]);
    check_op(one, |_, v| -v[0]);
    check_op(one, |_, v| -&v[0]);
}

#[test]
fn a_composed_model() {
    // A two-layer network's loss: every op above in one graph.
    check_op(&[&[5, 3], &[3, 4], &[4]], |_, v| {
        let h = (v[0].matmul(&v[1]) + v[2]).tanh();
        (h.square().mean_axis(1, false) - 0.5).exp().mean()
    });
}

// ----------------------------------------------------- empty tensors

#[test]
fn ops_on_tensors_with_no_elements() {
    // Nothing to check element-wise, but every op must run and give the
    // right shape; an empty sum is 0.
    check_op(&[&[0, 3]], |_, v| v[0].transpose());
    check_op(&[&[2, 0, 3]], |_, v| v[0].transpose());
    check_op(&[&[0]], |_, v| v[0].exp());
    check_op(&[&[2, 0], &[0, 3]], |_, v| v[0].matmul(&v[1]));
    check_op(&[&[2, 0]], |_, v| v[0].sum_axis(1, false));
    check_op(&[&[2, 0], &[2, 3]], |t, v| t.concat(v, 1));
    let t = TensorTape::new();
    let a = t.var(Tensor::zeros(&[2, 0]));
    let b = t.var(Tensor::zeros(&[0, 3]));
    // [2, 0] @ [0, 3] sums over an empty axis: a [2, 3] of zeros.
    assert_eq!(a.matmul(&b).value(), Tensor::zeros(&[2, 3]));
    assert_eq!(a.transpose().shape(), vec![0, 2]);
    assert_eq!(a.sum().item(), 0.0);
}

// ---------------------------------------------- the check itself can fail

/// y = 2x with a deliberately wrong adjoint (x̄ += 3ȳ).
struct WrongDouble;

impl maya::Kernel for WrongDouble {
    type Saved = ();

    fn name(&self) -> &'static str {
        "wrong_double"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> maya::Result<(Vec<Tensor>, ())> {
        let x = inputs[0];
        let y = x.data.iter().map(|v| 2.0 * v).collect();
        Ok((vec![Tensor::from_data(y, x.shape.clone())], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        _inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> maya::Result<()> {
        for (g, o) in grad_inputs[0].data.iter_mut().zip(&grad_outputs[0].data) {
            *g += 3.0 * o;
        }
        Ok(())
    }
}

#[test]
fn a_wrong_adjoint_fails_the_check() {
    let report = report_for(Domain::Any, &[&[2, 3]], 42, |t, v| {
        t.apply(WrongDouble, &[v[0]])[0]
    });
    assert!(!report.passed, "{report}");
    // The adjoint is 3/2 of the true gradient at every element, so the
    // relative error is |3w − 2w| / |2w| = 0.5.
    assert!((report.max_rel_err - 0.5).abs() < 1e-6, "{report}");
}

// ------------------------------------------------------ property tests

/// A shape of rank 0–3 with axes of length 1–4.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=4, 0..=3)
}

/// Two shapes that broadcast: both are the output shape with some leading
/// axes dropped and some axes set to 1.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (
        prop::collection::vec((1usize..=4, any::<bool>(), any::<bool>()), 0..=3),
        0usize..=3,
        0usize..=3,
    )
        .prop_map(|(axes, drop_a, drop_b)| {
            let pick = |drop: usize, ones: &dyn Fn(&(usize, bool, bool)) -> bool| {
                let drop = drop.min(axes.len());
                axes[drop..]
                    .iter()
                    .map(|ax| if ones(ax) { 1 } else { ax.0 })
                    .collect::<Vec<usize>>()
            };
            (pick(drop_a, &|ax| ax.1), pick(drop_b, &|ax| ax.2))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn binary_ops_on_random_broadcast_pairs((a, b) in broadcast_pair(), seed in any::<u64>()) {
        let shapes: &[&[usize]] = &[&a, &b];
        let reports = [
            report_for(Domain::Any, shapes, seed, |_, v| v[0].add(&v[1])),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].sub(&v[1])),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].mul(&v[1])),
            report_for(Domain::NonZero, shapes, seed, |_, v| v[0].div(&v[1])),
        ];
        for r in reports {
            prop_assert!(r.passed, "{:?} and {:?}: {}", a, b, r);
        }
    }

    #[test]
    fn unary_ops_on_random_shapes(s in shape(), seed in any::<u64>()) {
        let shapes: &[&[usize]] = &[&s];
        let reports = [
            report_for(Domain::Any, shapes, seed, |_, v| v[0].exp()),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].sin()),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].cos()),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].tanh()),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].square()),
            report_for(Domain::Any, shapes, seed, |_, v| -v[0]),
            report_for(Domain::Positive, shapes, seed, |_, v| v[0].ln()),
            report_for(Domain::Positive, shapes, seed, |_, v| v[0].sqrt()),
            report_for(Domain::Positive, shapes, seed, |_, v| v[0].powf(1.7)),
            report_for(Domain::NonZero, shapes, seed, |_, v| v[0].relu()),
            report_for(Domain::NonZero, shapes, seed, |_, v| v[0].abs()),
        ];
        for r in reports {
            prop_assert!(r.passed, "{:?}: {}", s, r);
        }
    }

    #[test]
    fn reductions_on_random_shapes(
        s in prop::collection::vec(1usize..=4, 1..=4),
        axis in any::<prop::sample::Index>(),
        keepdim in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let axis = axis.index(s.len());
        let shapes: &[&[usize]] = &[&s];
        let reports = [
            report_for(Domain::Any, shapes, seed, |_, v| v[0].sum()),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].mean()),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].sum_axis(axis, keepdim)),
            report_for(Domain::Any, shapes, seed, |_, v| v[0].mean_axis(axis, keepdim)),
        ];
        for r in reports {
            prop_assert!(r.passed, "{:?} axis {} keepdim {}: {}", s, axis, keepdim, r);
        }
    }

    #[test]
    fn matmul_on_random_dims(
        (m, k, n) in (1usize..=5, 1usize..=5, 1usize..=5),
        (batch_a, batch_b) in broadcast_pair(),
        seed in any::<u64>(),
    ) {
        let a = [batch_a.as_slice(), &[m, k]].concat();
        let b = [batch_b.as_slice(), &[k, n]].concat();
        let shapes: &[&[usize]] = &[&a, &b];
        let r = report_for(Domain::Any, shapes, seed, |_, v| v[0].matmul(&v[1]));
        prop_assert!(r.passed, "{:?} @ {:?}: {}", a, b, r);
    }
}
