//! Newton's method with a backtracking (Armijo) line search, for the
//! square systems of [`ImplicitProblem`].

use super::factorization::Factorization;
use super::linear::SparseSolver;
use super::triplets::Triplets;
use super::ImplicitProblem;
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Stopping rule and line search of [`try_newton_solve`], and the solver
/// that factors the Jacobians.
///
/// Newton stops at the first iterate x with
///
/// ```text
/// ‖r(x)‖∞ ≤ atol + rtol · ‖r(x₀)‖∞   or   ‖d‖∞ ≤ xtol · ‖x‖∞,
/// ```
///
/// d = −J⁻¹r being the Newton correction at x (in the quadratic regime,
/// the error of x), and returns an error, never an iterate, if that does
/// not happen within `max_iter` steps.
///
/// ```
/// use maya::tape::NewtonOptions;
/// let strict = NewtonOptions { atol: 1e-14, step: 7, ..NewtonOptions::default() };
/// assert_eq!(strict.max_iter, 50);
/// ```
#[derive(Clone, Debug)]
pub struct NewtonOptions {
    /// Most Newton steps. Default 50: from a starting point inside the
    /// basin Newton converges quadratically (a handful of steps); the line
    /// search may need a few dozen from far away; more than 50 means the
    /// problem or the guess needs attention.
    pub max_iter: usize,
    /// Absolute tolerance on ‖r‖∞, in r's units. Default 1e-12: for r of
    /// order one (forces in N, SI units) x* is then within ‖J⁻¹‖·1e-12 of
    /// the root. The node exists for its gradient, whose error is
    /// proportional to that of x*, and Newton's quadratic convergence makes
    /// the last digits cheap (rarely more than one extra step over 1e-8).
    /// Where r's terms are so large that its rounding floor ε·|terms|
    /// lies above atol, `rtol` or `xtol` ends the solve instead.
    pub atol: f64,
    /// Tolerance relative to the first residual ‖r(x₀)‖∞. Default 1e-12:
    /// a problem whose terms are large (stiff springs) has a large r(x₀)
    /// and a rounding floor to match, which `atol` alone cannot meet.
    pub rtol: f64,
    /// Tolerance on the Newton correction relative to x. Default 1e-14
    /// (≈ 45 ε): x then changes only in its last few bits, which is as
    /// converged as f64 allows even when ‖r‖ is stuck at a rounding floor
    /// above `atol`. 0 disables the test.
    pub xtol: f64,
    /// Sufficient-decrease constant c of the Armijo test
    /// φ(x + α d) ≤ φ(x) + c α φ'(x; d), in (0, 1). Default 1e-4
    /// (Nocedal & Wright): accept any step that achieves a little of the
    /// decrease the linear model predicts.
    pub armijo: f64,
    /// Most halvings of the step length α in one line search. Default 30
    /// (α ≥ 2⁻³⁰ ≈ 1e-9): a shorter step makes no progress in f64.
    pub max_backtracks: usize,
    /// The time step (or call) reported in errors. Default 0.
    pub step: usize,
    /// The sparse solver; its clones share the symbolic analysis, so
    /// keeping one in options reused across calls (time steps) analyses a
    /// Jacobian's pattern once.
    pub solver: SparseSolver,
}

impl Default for NewtonOptions {
    fn default() -> NewtonOptions {
        NewtonOptions {
            max_iter: 50,
            atol: 1e-12,
            rtol: 1e-12,
            xtol: 1e-14,
            armijo: 1e-4,
            max_backtracks: 30,
            step: 0,
            solver: SparseSolver::new(),
        }
    }
}

/// The result of [`try_newton_solve`]; see [`newton_solve`] for an
/// example.
#[derive(Debug)]
pub struct NewtonSolution {
    /// The root x*.
    pub x: Vec<f64>,
    /// Newton steps taken.
    pub iters: usize,
    /// ‖r(x*)‖∞.
    pub residual: f64,
    /// The factorisation of J(x*), when asked for.
    pub factorization: Option<Factorization>,
}

/// Solves r(x, θ) = 0 by Newton's method from `x0`; see
/// [`try_newton_solve`]. Panics on failure.
///
/// ```
/// use maya::tape::{newton_solve, HangingChain, NewtonOptions};
/// use maya::Tensor;
/// // One spring (k = 100 N/m, rest 1 m) holding 1 kg under g = 10 m/s²:
/// // it stretches by mg/k = 0.1 m.
/// let chain = HangingChain::pinned(1, 1.0, 10.0);
/// let (k, m) = (Tensor::full(&[1], 100.0), Tensor::full(&[1], 1.0));
/// let x0 = chain.initial_guess();
/// let sol = newton_solve(&chain, &x0.data, &[&k, &m], &NewtonOptions::default(), false);
/// assert!((sol.x[1] + 1.1).abs() < 1e-12);
/// ```
#[track_caller]
pub fn newton_solve<P: ImplicitProblem>(
    problem: &P,
    x0: &[f64],
    theta: &[&Tensor],
    options: &NewtonOptions,
    factor_at_solution: bool,
) -> NewtonSolution {
    try_newton_solve(problem, x0, theta, options, factor_at_solution).or_panic()
}

/// Solves r(x, θ) = 0 by Newton's method from `x0`.
///
/// Each iteration factors J = ∂r/∂x with `options.solver` and takes the
/// Newton step d = −J⁻¹r, shortened by halving α until it passes the
/// Armijo test on a merit φ: the problem's energy E when it has one and d
/// descends it (φ' = rᵀd < 0), or ½‖r‖² (φ' = −‖r‖² for the exact
/// Newton step). Either test accepts: E steers Newton to minima far from
/// the root, and ½‖r‖² keeps quadratic convergence near it, where changes
/// of E sink below its rounding error. A trial point with a non-finite
/// residual is rejected (a shorter step is tried).
///
/// With `factor_at_solution`, J is factored at the converged x* too and
/// returned (the adjoint's factorisation); without, the solve ends as
/// soon as the tolerance is met.
///
/// Errors name the problem, `options.step`, the iterations made and the
/// residual ‖r‖∞: [`Error::NotConverged`] for no convergence in `max_iter`
/// steps; [`Error::Solve`] with a reason for a singular Jacobian, a non-finite residual at x₀ or
/// a non-finite step, or a line search that finds no decrease.
/// [`Error::Parameter`] for invalid options.
///
/// ```
/// use maya::tape::{try_newton_solve, HangingChain, NewtonOptions};
/// use maya::{Error, Tensor};
/// let chain = HangingChain::pinned(4, 1.0, 9.81);
/// let (k, m) = (Tensor::full(&[4], 100.0), Tensor::full(&[4], 1.0));
/// let x0 = chain.initial_guess();
/// let sol = try_newton_solve(&chain, &x0.data, &[&k, &m], &NewtonOptions::default(), true).unwrap();
/// assert!(sol.residual <= 1e-12 && sol.factorization.is_some());
/// // Two steps do not bring the diagonal guess down to the vertical.
/// let two = NewtonOptions { max_iter: 2, ..NewtonOptions::default() };
/// let e = try_newton_solve(&chain, &x0.data, &[&k, &m], &two, false).unwrap_err();
/// assert!(matches!(e, Error::NotConverged { iters: 2, .. }));
/// ```
pub fn try_newton_solve<P: ImplicitProblem>(
    problem: &P,
    x0: &[f64],
    theta: &[&Tensor],
    options: &NewtonOptions,
    factor_at_solution: bool,
) -> Result<NewtonSolution> {
    check_options(options)?;
    let mut newton = Newton {
        problem,
        theta,
        options,
        x: x0.to_vec(),
        r: vec![0.0; x0.len()],
        iters: 0,
    };
    newton.residual_at_start()?;
    let tol = options.atol + options.rtol * norm_inf(&newton.r);
    let mut jacobian = Triplets::new();
    loop {
        let residual = norm_inf(&newton.r);
        let converged = residual <= tol;
        if converged && !factor_at_solution {
            return Ok(newton.finish(None));
        }
        if !converged && newton.iters >= options.max_iter {
            return Err(Error::NotConverged {
                solver: problem.name(),
                step: Some(options.step),
                iters: newton.iters,
                residual,
                detail: format!(
                    "; Newton must reach max|r| ≤ {tol:.1e} within max_iter = {}",
                    options.max_iter
                ),
            });
        }
        let factor = newton.factor(&mut jacobian)?;
        if converged {
            return Ok(newton.finish(Some(factor)));
        }
        let d = newton.direction(&factor)?;
        if norm_inf(&d) <= options.xtol * norm_inf(&newton.x) {
            // x cannot move by more than its last bits: converged, and
            // `factor` is J at this very x.
            return Ok(newton.finish(factor_at_solution.then_some(factor)));
        }
        newton.line_search(&d)?;
        newton.iters += 1;
    }
}

/// [`Error::Parameter`] for options no solve can use.
fn check_options(o: &NewtonOptions) -> Result<()> {
    let bad = |name, value, reason| {
        Err(Error::Parameter {
            name,
            value,
            reason,
        })
    };
    if !(o.atol >= 0.0 && o.rtol >= 0.0 && o.atol + o.rtol > 0.0) {
        return bad(
            "NewtonOptions::atol",
            o.atol,
            "atol and rtol must be ≥ 0, not both 0",
        );
    }
    if o.xtol.is_nan() || o.xtol < 0.0 {
        return bad("NewtonOptions::xtol", o.xtol, "must be ≥ 0");
    }
    if !(o.armijo > 0.0 && o.armijo < 1.0) {
        return bad("NewtonOptions::armijo", o.armijo, "must lie in (0, 1)");
    }
    Ok(())
}

/// ‖v‖∞, NaN if an entry is NaN.
fn norm_inf(v: &[f64]) -> f64 {
    v.iter().fold(
        0.0,
        |m: f64, x| if x.is_nan() { f64::NAN } else { m.max(x.abs()) },
    )
}

/// The state of one solve.
struct Newton<'a, P> {
    problem: &'a P,
    theta: &'a [&'a Tensor],
    options: &'a NewtonOptions,
    x: Vec<f64>,
    r: Vec<f64>,
    iters: usize,
}

impl<P: ImplicitProblem> Newton<'_, P> {
    /// r(x₀), which must be finite.
    fn residual_at_start(&mut self) -> Result<()> {
        self.problem.residual(&self.x, self.theta, &mut self.r)?;
        match self.r.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(i) => Err(self.fail(format!(
                "the residual is not finite at the initial guess (entry {i} is {})",
                self.r[i]
            ))),
        }
    }

    /// Factors J(x); a failure (singular J) becomes this solve's error.
    fn factor(&self, jacobian: &mut Triplets) -> Result<Factorization> {
        jacobian.clear();
        self.problem.jacobian(&self.x, self.theta, jacobian)?;
        let n = self.x.len();
        let symmetric = self.problem.symmetric();
        self.options
            .solver
            .try_factor(n, jacobian, symmetric)
            .map_err(|e| match e {
                Error::Solve { reason, .. } => self.fail(format!(
                    "the Jacobian ∂r/∂x at iteration {} cannot be factored: {reason}",
                    self.iters
                )),
                other => other,
            })
    }

    /// The Newton correction d = −J⁻¹r, which must be finite.
    fn direction(&self, factor: &Factorization) -> Result<Vec<f64>> {
        let mut d = self.r.clone();
        factor.solve_in_place(&mut d);
        d.iter_mut().for_each(|v| *v = -*v);
        if !d.iter().all(|v| v.is_finite()) {
            return Err(self.fail(format!(
                "the Newton step at iteration {} is not finite",
                self.iters
            )));
        }
        Ok(d)
    }

    /// Halves α from 1 until x + αd passes the Armijo test on E or on
    /// ½‖r‖²; then moves there.
    fn line_search(&mut self, d: &[f64]) -> Result<()> {
        let c = self.options.armijo;
        let half_r2 = 0.5 * dot(&self.r, &self.r);
        // The energy is used only where d descends it.
        let energy = self
            .problem
            .merit(&self.x, self.theta)
            .map(|e| (e, dot(&self.r, d)))
            .filter(|(e, slope)| e.is_finite() && *slope < 0.0);
        let (mut trial, mut r_trial) = (vec![0.0; self.x.len()], vec![0.0; self.x.len()]);
        let mut alpha = 1.0;
        let (mut non_finite, mut inverted) = (false, false);
        for _ in 0..=self.options.max_backtracks {
            for ((t, x), d) in trial.iter_mut().zip(&self.x).zip(d) {
                *t = x + alpha * d;
            }
            r_trial.iter_mut().for_each(|v| *v = 0.0);
            match self.problem.residual(&trial, self.theta, &mut r_trial) {
                // Outside the domain (an element turned inside out): step
                // back, as from a non-finite residual.
                Err(Error::InvertedElement { .. }) => {
                    inverted = true;
                    alpha *= 0.5;
                    continue;
                }
                other => other?,
            }
            if r_trial.iter().all(|v| v.is_finite()) {
                let by_residual =
                    0.5 * dot(&r_trial, &r_trial) <= (1.0 - 2.0 * c * alpha) * half_r2;
                let by_energy = energy.is_some_and(|(e0, slope)| {
                    let e = self.problem.merit(&trial, self.theta);
                    e.is_some_and(|e| e <= e0 + c * alpha * slope)
                });
                if by_residual || by_energy {
                    std::mem::swap(&mut self.x, &mut trial);
                    std::mem::swap(&mut self.r, &mut r_trial);
                    return Ok(());
                }
            } else {
                non_finite = true;
            }
            alpha *= 0.5;
        }
        Err(self.fail(format!(
            "the line search found no decrease of the merit along the Newton step at iteration {} \
             in {} halvings{}{}; if max|r| is at its rounding floor, raise atol",
            self.iters,
            self.options.max_backtracks,
            if non_finite {
                " (some trial residuals were not finite)"
            } else {
                ""
            },
            if inverted {
                " (some trial points inverted an element)"
            } else {
                ""
            }
        )))
    }

    fn finish(self, factorization: Option<Factorization>) -> NewtonSolution {
        NewtonSolution {
            residual: norm_inf(&self.r),
            x: self.x,
            iters: self.iters,
            factorization,
        }
    }

    fn fail(&self, reason: String) -> Error {
        Error::Solve {
            solver: self.problem.name(),
            step: self.options.step,
            iters: self.iters,
            residual: norm_inf(&self.r),
            reason,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
