//! Public gradient checking against central finite differences.
//!
//! The check compares the whole Jacobian, entry by entry, as warp's
//! `gradcheck` does: the tape's ∂yᵢ/∂xₑ (one reverse sweep per output
//! element yᵢ, seeded with the unit vector of yᵢ) against the central
//! difference (yᵢ(x + h) − yᵢ(x − h)) / 2h of every input element xₑ, with
//! h = eps · max(1, |xₑ|). An entry passes when
//!
//! |analytic − numeric| ≤ atol + rtol · |numeric| + 4 ε max|yᵢ(x ± h)| / h,
//!
//! warp's criterion plus the rounding floor of the difference itself: each
//! evaluated output carries a few ulps (ε = 2.2e-16 relative) of rounding,
//! which the difference divides by h, so no finite difference resolves an
//! entry more finely than that.
//!
//! Checking entries, not one projection Σ wᵢ yᵢ of all outputs, keeps
//! outputs of different scales apart: with exp at x = [−5, 20], a projected
//! sum holds e²⁰ ≈ 4.9e8, whose rounding (ε · 4.9e8 ≈ 1e-7) over 2h = 2e-6
//! is ≈ 0.05, several times the derivative ∂e⁻⁵/∂x ≈ 6.7e-3 it must
//! resolve; entry by entry, each derivative is resolved to about 1e-10 of
//! itself, and an adjoint wrong on the small outputs only is still caught.
//!
//! Cost: numel(output) reverse sweeps, 2 · numel(inputs) evaluations of the
//! function, and memory for the numel(output) × numel(inputs) Jacobian.

use crate::scalar::{Tape, Var};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use std::fmt;

/// Rounding allowance of one evaluated output, in units of ε|y|: the
/// difference of two such values, over 2h, is resolved to 2 · this · ε|y| / 2h.
const ROUNDING_ULPS: f64 = 4.0;

/// Tolerances and step of [`gradcheck_with`].
#[derive(Clone, Copy, Debug)]
pub struct GradcheckConfig {
    /// Relative finite-difference step: h = eps · max(1, |x|). Default 1e-6,
    /// which balances truncation (∝ h²) and rounding (∝ 1e-16/h) in f64.
    pub eps: f64,
    /// Absolute tolerance per Jacobian entry. Default 1e-8.
    pub atol: f64,
    /// Relative tolerance per Jacobian entry. Default 1e-6.
    pub rtol: f64,
}

impl Default for GradcheckConfig {
    fn default() -> Self {
        GradcheckConfig {
            eps: 1e-6,
            atol: 1e-8,
            rtol: 1e-6,
        }
    }
}

/// The worst Jacobian entry found by a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mismatch {
    /// Which input.
    pub input: usize,
    /// Which element of it (row-major).
    pub element: usize,
    /// Which element of the output (row-major).
    pub output: usize,
    /// The tape's ∂output/∂element.
    pub analytic: f64,
    /// The central difference.
    pub numeric: f64,
    /// The tolerance this entry had to meet.
    pub tolerance: f64,
}

/// The outcome of a gradient check.
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    /// Whether every Jacobian entry met the tolerance.
    pub passed: bool,
    /// Largest |analytic − numeric| over all entries.
    pub max_abs_err: f64,
    /// Largest |analytic − numeric| / max(|numeric|, atol/rtol) over all
    /// entries.
    pub max_rel_err: f64,
    /// The entry with the largest error relative to its tolerance.
    pub worst: Option<Mismatch>,
    /// Number of input elements checked.
    pub checked: usize,
    /// Number of output elements checked.
    pub outputs: usize,
    /// Number of Jacobian entries over their tolerance.
    pub failed: usize,
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck {}: {} input × {} output elements, {} entries over tolerance, max abs err {:e}, max rel err {:e}",
            if self.passed { "passed" } else { "FAILED" },
            self.checked,
            self.outputs,
            self.failed,
            self.max_abs_err,
            self.max_rel_err
        )?;
        if let Some(w) = self.worst {
            write!(
                f,
                "; worst: ∂output[{}]/∂input {}[{}]: analytic {:e} vs numeric {:e} (tolerance {:e})",
                w.output, w.input, w.element, w.analytic, w.numeric, w.tolerance
            )?;
        }
        Ok(())
    }
}

/// Checks the tape's Jacobian of `f` at `inputs` against central
/// differences, with the default [`GradcheckConfig`].
///
/// ```
/// use maya::{gradcheck, Tensor};
/// let x = Tensor::from_data(vec![0.3, -1.2, 2.0], vec![3]);
/// let report = gradcheck(|_t, v| v[0].sin().mul(&v[0]), &[x]);
/// assert!(report.passed, "{report}");
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor]) -> GradcheckReport
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    gradcheck_with(&GradcheckConfig::default(), f, inputs)
}

/// [`gradcheck`] with explicit tolerances.
///
/// Panics if the backward sweep fails (a kernel's adjoint returns an error)
/// or if `f` returns outputs of another size at a perturbed input.
pub fn gradcheck_with<F>(config: &GradcheckConfig, f: F, inputs: &[Tensor]) -> GradcheckReport
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    check_tensor_fn(config, Differences::Central, f, inputs)
}

/// [`gradcheck_with`] against Richardson-extrapolated central differences
/// (4 D(h/2) − D(h))/3, whose truncation error is O(h⁴) instead of O(h²):
/// for functions with large higher derivatives on a small length scale
/// (contact forces within micrometres, say), where plain central
/// differences cannot reach 1e-6 relative at any h.
///
/// ```
/// use maya::{gradcheck_richardson, GradcheckConfig, Tensor};
/// let x = Tensor::from_data(vec![0.3, 1.7], vec![2]);
/// // (sin 40x)/40: derivatives grow 40× per order.
/// fn f<'t>(_t: &'t maya::TensorTape, v: &[maya::TVar<'t>]) -> maya::TVar<'t> {
///     v[0].scalar_mul(40.0).sin().scalar_mul(1.0 / 40.0)
/// }
/// let config = GradcheckConfig { eps: 1e-4, atol: 1e-10, rtol: 1e-7 };
/// assert!(gradcheck_richardson(&config, f, &[x.clone()]).passed);
/// assert!(!maya::gradcheck_with(&config, f, &[x]).passed);
/// ```
pub fn gradcheck_richardson<F>(config: &GradcheckConfig, f: F, inputs: &[Tensor]) -> GradcheckReport
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    check_tensor_fn(config, Differences::Richardson, f, inputs)
}

/// The finite differences a check compares with.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Differences {
    /// (y(x + h) − y(x − h)) / 2h.
    Central,
    /// (4 D(h/2) − D(h))/3 of central differences D.
    Richardson,
}

fn check_tensor_fn<F>(
    config: &GradcheckConfig,
    differences: Differences,
    f: F,
    inputs: &[Tensor],
) -> GradcheckReport
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let tape = TensorTape::new();
    let vars: Vec<TVar> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    let y = f(&tape, &vars);
    let mut seed = Tensor::zeros(&y.shape());
    // Row i of the Jacobian: the gradients of yᵢ, one sweep each.
    let rows: Vec<Vec<Tensor>> = (0..seed.numel())
        .map(|i| {
            seed.data[i] = 1.0;
            let row = tape
                .try_grad_seeded(&[(y, seed.clone())], &vars)
                .unwrap_or_else(|e| panic!("gradcheck: the backward sweep failed: {e}"));
            seed.data[i] = 0.0;
            row
        })
        .collect();
    let outputs = |xs: &[Tensor]| -> Vec<f64> {
        let t = TensorTape::new();
        let vs: Vec<TVar> = xs.iter().map(|x| t.constant(x.clone())).collect();
        f(&t, &vs).value().data
    };
    compare(
        config,
        differences,
        inputs,
        |out, i, e| rows[out][i].data[e],
        rows.len(),
        outputs,
    )
}

/// Checks the gradient of a scalar-tape function `f` at `inputs` against
/// central differences.
///
/// ```
/// use maya::gradcheck_scalar;
/// let report = gradcheck_scalar(|_t, v| (v[0] * v[1]).sin() / v[1], &[0.7, 1.9]);
/// assert!(report.passed, "{report}");
/// ```
pub fn gradcheck_scalar<F>(f: F, inputs: &[f64]) -> GradcheckReport
where
    F: for<'t> Fn(&'t Tape, &[Var<'t>]) -> Var<'t>,
{
    let tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|&x| tape.var(x)).collect();
    let grads = tape.grad(f(&tape, &vars));
    let as_tensors: Vec<Tensor> = inputs.iter().map(|&x| Tensor::scalar(x)).collect();
    let value = |xs: &[Tensor]| {
        let t = Tape::new();
        let vs: Vec<Var> = xs.iter().map(|x| t.var(x.data[0])).collect();
        vec![f(&t, &vs).value()]
    };
    compare(
        &GradcheckConfig::default(),
        Differences::Central,
        &as_tensors,
        |_, i, _| grads[vars[i].idx()],
        1,
        value,
    )
}

/// Compares `analytic(output, input, element)` with central differences of
/// `value` (the flat outputs), entry by entry.
fn compare(
    config: &GradcheckConfig,
    differences: Differences,
    inputs: &[Tensor],
    analytic: impl Fn(usize, usize, usize) -> f64,
    n_out: usize,
    value: impl Fn(&[Tensor]) -> Vec<f64>,
) -> GradcheckReport {
    let mut report = GradcheckReport {
        passed: true,
        max_abs_err: 0.0,
        max_rel_err: 0.0,
        worst: None,
        checked: 0,
        outputs: n_out,
        failed: 0,
    };
    let mut worst_ratio = -1.0;
    let mut probe = inputs.to_vec();
    for (i, x) in inputs.iter().enumerate() {
        for e in 0..x.numel() {
            let x0 = x.data[e];
            let h = config.eps * x0.abs().max(1.0);
            let mut central = |h: f64| {
                probe[i].data[e] = x0 + h;
                let up = value(&probe);
                probe[i].data[e] = x0 - h;
                let down = value(&probe);
                probe[i].data[e] = x0;
                assert!(
                    up.len() == n_out && down.len() == n_out,
                    "gradcheck: the function returned {} and {} output elements at perturbed inputs, {n_out} at the inputs given",
                    up.len(),
                    down.len()
                );
                up.iter()
                    .zip(&down)
                    .map(|(u, d)| ((u - d) / (2.0 * h), u.abs().max(d.abs())))
                    .collect::<Vec<_>>()
            };
            let wide = central(h);
            // Each central difference is resolved to 2 ULPS ε|y| / 2h; the
            // extrapolation weighs the one at h/2 by 4/3 (rounding at h/2
            // is twice that at h) and the one at h by 1/3: 3× in all.
            let (numerics, rounding): (Vec<(f64, f64)>, f64) = match differences {
                Differences::Central => (wide, 1.0),
                Differences::Richardson => {
                    let narrow = central(h / 2.0);
                    let mixed = narrow
                        .iter()
                        .zip(&wide)
                        .map(|(n, w)| ((4.0 * n.0 - w.0) / 3.0, n.1.max(w.1)))
                        .collect();
                    (mixed, 3.0)
                }
            };
            report.checked += 1;
            for (out, &(numeric, size)) in numerics.iter().enumerate() {
                let a = analytic(out, i, e);
                let err = (a - numeric).abs();
                let floor = rounding * ROUNDING_ULPS * f64::EPSILON * size / h;
                let tol = config.atol + config.rtol * numeric.abs() + floor;
                let ratio = if err.is_nan() {
                    f64::INFINITY
                } else {
                    err / tol
                };
                report.max_abs_err = report.max_abs_err.max(err);
                report.max_rel_err = report
                    .max_rel_err
                    .max(err / numeric.abs().max(config.atol / config.rtol));
                if ratio > worst_ratio {
                    worst_ratio = ratio;
                    report.worst = Some(Mismatch {
                        input: i,
                        element: e,
                        output: out,
                        analytic: a,
                        numeric,
                        tolerance: tol,
                    });
                }
                if err.is_nan() || err > tol {
                    report.passed = false;
                    report.failed += 1;
                }
            }
        }
    }
    report
}
