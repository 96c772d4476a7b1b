//! Issue 9: `gradcheck` failed correct gradients when the outputs differ in
//! scale. It projected all outputs onto random weights (L = Σ wᵢ yᵢ) and
//! differenced L, so the rounding of large outputs swamped the derivatives
//! of small ones: exp at x = [−5, 20] reported a 27 % error. It now
//! compares the Jacobian entry by entry: correct adjoints pass whatever the
//! scales, and an adjoint wrong by 1 % fails, even on the small outputs only.

use maya::{gradcheck, Kernel, Result, Tensor};

/// x = [−5, 20]: y = eˣ ≈ [6.7e-3, 4.9e8], nine decades apart.
fn mixed_scales() -> Tensor {
    Tensor::from_data(vec![-5.0, 20.0], vec![2])
}

/// y = eˣ with an adjoint scaled by `factor(y)`: 1 is the true derivative.
struct ScaledExp(fn(f64) -> f64);

impl Kernel for ScaledExp {
    type Saved = ();
    fn name(&self) -> &'static str {
        "scaled_exp"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let x = inputs[0];
        let y = x.data.iter().map(|v| v.exp()).collect();
        Ok((vec![Tensor::from_data(y, x.shape.clone())], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        _inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let (y, grad_out) = (outputs[0], grad_outputs[0]);
        for ((g, y), o) in grad_inputs[0]
            .data
            .iter_mut()
            .zip(&y.data)
            .zip(&grad_out.data)
        {
            *g += (self.0)(*y) * y * o;
        }
        Ok(())
    }
}

#[test]
fn exp_at_outputs_nine_decades_apart_passes() {
    // ∂eˣ/∂x = eˣ. Entry by entry, the central difference with
    // h = 1e-6 · max(1, |x|) has truncation h²/6 relative (≤ 7e-11 at
    // x = 20) and rounding ≈ ε/h relative (≈ 2.2e-16 / 1e-6 = 2.2e-10 at
    // x = −5), so the error is far below rtol = 1e-6.
    let report = gradcheck(|_t, v| v[0].exp(), &[mixed_scales()]);
    assert!(report.passed, "{report}");
    assert!(report.max_rel_err < 1e-8, "{report}");
    // Two inputs, two outputs: four Jacobian entries, none over tolerance.
    assert_eq!((report.checked, report.outputs, report.failed), (2, 2, 0));
}

#[test]
fn the_same_through_a_custom_kernel_passes() {
    let report = gradcheck(
        |t, v| t.apply(ScaledExp(|_| 1.0), &[v[0]])[0],
        &[mixed_scales()],
    );
    assert!(report.passed, "{report}");
}

#[test]
fn an_adjoint_wrong_by_one_percent_fails() {
    let report = gradcheck(
        |t, v| t.apply(ScaledExp(|_| 1.01), &[v[0]])[0],
        &[mixed_scales()],
    );
    assert!(!report.passed, "{report}");
    // analytic = 1.01 · numeric on the diagonal, so the relative error is
    // |1.01 J − J| / |J| = 0.01 where |J| = e²⁰ is above atol/rtol = 1e-2
    // (at x = −5, |J| = 6.7e-3 is below it: 0.01 · 6.7e-3 / 1e-2 = 6.7e-3).
    assert!((report.max_rel_err - 0.01).abs() < 1e-6, "{report}");
    // Both diagonal entries fail; the off-diagonal zeros agree.
    assert_eq!(report.failed, 2, "{report}");
}

#[test]
fn an_adjoint_wrong_on_the_small_outputs_only_fails() {
    // Wrong by 1 % where y < 1, i.e. on e⁻⁵ only: the error 0.01 · 6.7e-3 =
    // 6.7e-5 is invisible beside e²⁰ in any sum, but not entry by entry,
    // where the tolerance is atol + rtol · 6.7e-3 ≈ 1.7e-8.
    let small_wrong = |y: f64| if y < 1.0 { 1.01 } else { 1.0 };
    let report = gradcheck(
        |t, v| t.apply(ScaledExp(small_wrong), &[v[0]])[0],
        &[mixed_scales()],
    );
    assert!(!report.passed, "{report}");
    assert_eq!(report.failed, 1, "{report}");
    let worst = report.worst.unwrap();
    assert_eq!(
        (worst.input, worst.element, worst.output),
        (0, 0, 0),
        "{report}"
    );
    // analytic 1.01 e⁻⁵ against numeric e⁻⁵.
    let e5 = (-5.0f64).exp();
    assert!((worst.analytic - 1.01 * e5).abs() < 1e-15, "{report}");
    assert!((worst.numeric - e5).abs() < 1e-12, "{report}");
}

/// y = [1e-3 x₀x₁, 1e6 (x₀ + x₁)]: every output depends on every input, at
/// scales nine decades apart. The adjoint of the small output is 1 % wrong.
struct DenseSmallWrong;

impl Kernel for DenseSmallWrong {
    type Saved = ();
    fn name(&self) -> &'static str {
        "dense_small_wrong"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let x = &inputs[0].data;
        let y = vec![1e-3 * x[0] * x[1], 1e6 * (x[0] + x[1])];
        Ok((vec![Tensor::from_data(y, vec![2])], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let (x, go) = (&inputs[0].data, &grad_outputs[0].data);
        // True: ∂y₀/∂x = 1e-3 [x₁, x₀], ∂y₁/∂x = 1e6 [1, 1]; y₀'s is × 1.01.
        grad_inputs[0].data[0] += 1.01e-3 * x[1] * go[0] + 1e6 * go[1];
        grad_inputs[0].data[1] += 1.01e-3 * x[0] * go[0] + 1e6 * go[1];
        Ok(())
    }
}

#[test]
fn a_dense_adjoint_wrong_on_the_small_output_only_fails() {
    // At x = [1.5, 2]: ∂y₀/∂x₀ = 2e-3, off by 2e-5 ≫ atol + rtol · 2e-3;
    // in a weighted sum it would hide under rtol · 1e6 = 1.
    let x = Tensor::from_data(vec![1.5, 2.0], vec![2]);
    let report = gradcheck(|t, v| t.apply(DenseSmallWrong, &[v[0]])[0], &[x]);
    assert!(!report.passed, "{report}");
    // The two entries of row 0 fail, those of row 1 pass.
    assert_eq!(report.failed, 2, "{report}");
    assert_eq!(report.worst.unwrap().output, 0, "{report}");
    // The report names the entry, both values and the tolerance.
    let text = report.to_string();
    assert!(
        text.contains("FAILED") && text.contains("∂output[0]/∂input 0"),
        "{text}"
    );
}
