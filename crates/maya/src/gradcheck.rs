//! Public gradient checking against central finite differences.
//!
//! The check projects the function's output onto fixed pseudo-random weights
//! (L = Σ wᵢ yᵢ), so every output element takes part, then compares the
//! tape's ∂L/∂x with the central difference (L(x + h) − L(x − h)) / 2h for
//! every input element, with h = eps · max(1, |x|). An element passes when
//! |analytic − numeric| ≤ atol + rtol · |numeric| (the criterion of warp's
//! `gradcheck`).

use crate::scalar::{Tape, Var};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use std::fmt;

/// Tolerances and step of [`gradcheck_with`].
#[derive(Clone, Copy, Debug)]
pub struct GradcheckConfig {
    /// Relative finite-difference step: h = eps · max(1, |x|). Default 1e-6,
    /// which balances truncation (∝ h²) and rounding (∝ 1e-16/h) in f64.
    pub eps: f64,
    /// Absolute tolerance. Default 1e-8.
    pub atol: f64,
    /// Relative tolerance. Default 1e-6.
    pub rtol: f64,
    /// Seed of the output projection weights.
    pub seed: u64,
}

impl Default for GradcheckConfig {
    fn default() -> Self {
        GradcheckConfig {
            eps: 1e-6,
            atol: 1e-8,
            rtol: 1e-6,
            seed: 0x5EED,
        }
    }
}

/// The worst element found by a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mismatch {
    /// Which input.
    pub input: usize,
    /// Which element of it (row-major).
    pub element: usize,
    /// The tape's gradient.
    pub analytic: f64,
    /// The central difference.
    pub numeric: f64,
}

/// The outcome of a gradient check.
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    /// Whether every element met the tolerance.
    pub passed: bool,
    /// Largest |analytic − numeric| over all elements.
    pub max_abs_err: f64,
    /// Largest |analytic − numeric| / max(|numeric|, atol/rtol).
    pub max_rel_err: f64,
    /// The element with the largest error relative to its tolerance.
    pub worst: Option<Mismatch>,
    /// Number of input elements checked.
    pub checked: usize,
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck {}: {} elements, max abs err {:e}, max rel err {:e}",
            if self.passed { "passed" } else { "FAILED" },
            self.checked,
            self.max_abs_err,
            self.max_rel_err
        )?;
        if let Some(w) = self.worst {
            write!(
                f,
                "; worst: input {} element {}: analytic {:e} vs numeric {:e}",
                w.input, w.element, w.analytic, w.numeric
            )?;
        }
        Ok(())
    }
}

/// Checks the tape's gradient of `f` at `inputs` against central
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
pub fn gradcheck_with<F>(config: &GradcheckConfig, f: F, inputs: &[Tensor]) -> GradcheckReport
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let tape = TensorTape::new();
    let vars: Vec<TVar> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    let y = f(&tape, &vars);
    let weights = Tensor::rand_uniform(&y.shape(), config.seed);
    let w = tape.constant(weights.clone());
    let grads = tape.grad(y.mul(&w).sum());
    let projected = |xs: &[Tensor]| -> f64 {
        let t = TensorTape::new();
        let vs: Vec<TVar> = xs.iter().map(|x| t.constant(x.clone())).collect();
        let out = f(&t, &vs).value();
        out.data.iter().zip(&weights.data).map(|(a, b)| a * b).sum()
    };
    let mut probe = inputs.to_vec();
    let analytic = |i: usize, e: usize| grads[vars[i].idx()].data[e];
    compare(config, inputs, &mut probe, analytic, |xs| projected(xs))
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
    let config = GradcheckConfig::default();
    let tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|&x| tape.var(x)).collect();
    let grads = tape.grad(f(&tape, &vars));
    let as_tensors: Vec<Tensor> = inputs.iter().map(|&x| Tensor::scalar(x)).collect();
    let mut probe = as_tensors.clone();
    let value = |xs: &[Tensor]| {
        let t = Tape::new();
        let vs: Vec<Var> = xs.iter().map(|x| t.var(x.data[0])).collect();
        f(&t, &vs).value()
    };
    compare(
        &config,
        &as_tensors,
        &mut probe,
        |i, _| grads[vars[i].idx()],
        value,
    )
}

fn compare(
    config: &GradcheckConfig,
    inputs: &[Tensor],
    probe: &mut [Tensor],
    analytic: impl Fn(usize, usize) -> f64,
    value: impl Fn(&[Tensor]) -> f64,
) -> GradcheckReport {
    let mut report = GradcheckReport {
        passed: true,
        max_abs_err: 0.0,
        max_rel_err: 0.0,
        worst: None,
        checked: 0,
    };
    let mut worst_ratio = -1.0;
    for (i, x) in inputs.iter().enumerate() {
        for e in 0..x.numel() {
            let x0 = x.data[e];
            let h = config.eps * x0.abs().max(1.0);
            probe[i].data[e] = x0 + h;
            let up = value(probe);
            probe[i].data[e] = x0 - h;
            let down = value(probe);
            probe[i].data[e] = x0;
            let numeric = (up - down) / (2.0 * h);
            let a = analytic(i, e);
            let err = (a - numeric).abs();
            let tol = config.atol + config.rtol * numeric.abs();
            let ratio = if err.is_nan() {
                f64::INFINITY
            } else {
                err / tol
            };
            report.checked += 1;
            report.max_abs_err = report.max_abs_err.max(err);
            report.max_rel_err = report
                .max_rel_err
                .max(err / numeric.abs().max(config.atol / config.rtol));
            if ratio > worst_ratio {
                worst_ratio = ratio;
                report.worst = Some(Mismatch {
                    input: i,
                    element: e,
                    analytic: a,
                    numeric,
                });
            }
            if err.is_nan() || err > tol {
                report.passed = false;
            }
        }
    }
    report
}
