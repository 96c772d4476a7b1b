//! L-BFGS through argmin (Moré–Thuente line search), over maya parameters.

use super::minimize::{check_finite, check_gradients, MinimizeReport, Objective};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use argmin::core::{CostFunction, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use std::cell::RefCell;

/// Options of [`lbfgs`].
#[derive(Clone, Copy, Debug)]
pub struct LbfgsOptions {
    /// Maximum number of iterations; 200 by default.
    pub max_iters: u64,
    /// Number of correction pairs kept; 10 by default (a common choice:
    /// more rarely helps, and costs memory per parameter).
    pub memory: usize,
    /// Stop when the gradient's 2-norm falls below this; 1e-10 by default.
    pub grad_tol: f64,
    /// Stop when the loss changes by less than this between iterations;
    /// 0 by default (off).
    pub cost_tol: f64,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions {
            max_iters: 200,
            memory: 10,
            grad_tol: 1e-10,
            cost_tol: 0.0,
        }
    }
}

/// One evaluation: the flat parameters, the loss and the flat gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The objective as argmin sees it: flat vectors, with the last evaluation
/// cached (argmin asks for cost and gradient separately) and the first
/// maya error kept to be returned as is.
struct Problem<'o, O> {
    objective: RefCell<&'o mut O>,
    shapes: Vec<Vec<usize>>,
    cache: RefCell<Option<Evaluation>>,
    losses: &'o RefCell<Vec<f64>>,
    error: &'o RefCell<Option<Error>>,
    /// The lowest loss evaluated and its parameters (argmin's own best can
    /// be a later point where the line search stopped on a flat stretch).
    best: &'o RefCell<Option<(f64, Vec<f64>)>>,
}

impl<O: Objective> Problem<'_, O> {
    fn unflatten(&self, flat: &[f64]) -> Vec<Tensor> {
        let mut offset = 0;
        self.shapes
            .iter()
            .map(|s| {
                let n: usize = s.iter().product();
                let t = Tensor::from_data(flat[offset..offset + n].to_vec(), s.clone());
                offset += n;
                t
            })
            .collect()
    }

    fn evaluate(&self, flat: &[f64]) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        if let Some((x, loss, grad)) = self.cache.borrow().as_ref()
            && x.as_slice() == flat
        {
            return Ok((*loss, grad.clone()));
        }
        if let Some(k) = flat.iter().position(|x| !x.is_finite()) {
            let evals = self.losses.borrow().len();
            let e = Error::Solve {
                solver: "L-BFGS (argmin's line search)",
                step: evals,
                iters: evals,
                residual: f64::NAN,
                reason: format!(
                    "it proposed non-finite parameters (entry {k} = {}): the loss may fall \
                     without bound along its search direction, or have a gradient of almost 0 \
                     on a flat stretch",
                    flat[k]
                ),
            };
            let message = e.to_string();
            self.error.borrow_mut().get_or_insert(e);
            return Err(argmin::core::Error::msg(message));
        }
        let params = self.unflatten(flat);
        let outcome =
            self.objective
                .borrow_mut()
                .loss_and_grad(&params)
                .and_then(|(loss, grads)| {
                    check_gradients("lbfgs", &params, &grads)?;
                    check_finite(self.losses.borrow().len(), loss, &grads)?;
                    Ok((loss, grads))
                });
        match outcome {
            Ok((loss, grads)) => {
                let grad: Vec<f64> = grads.into_iter().flat_map(|g| g.data).collect();
                self.losses.borrow_mut().push(loss);
                let mut best = self.best.borrow_mut();
                if best.as_ref().is_none_or(|(b, _)| loss < *b) {
                    *best = Some((loss, flat.to_vec()));
                }
                *self.cache.borrow_mut() = Some((flat.to_vec(), loss, grad.clone()));
                Ok((loss, grad))
            }
            Err(e) => {
                let message = e.to_string();
                self.error.borrow_mut().get_or_insert(e);
                Err(argmin::core::Error::msg(message))
            }
        }
    }
}

impl<O: Objective> CostFunction for Problem<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(p)?.0)
    }
}

impl<O: Objective> Gradient for Problem<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(p)?.1)
    }
}

/// Minimises `objective` from `params` with L-BFGS.
///
/// Returns [`Error::NonFinite`] (with the evaluation number, from 0 as
/// [`MinimizeReport`] numbers them, line-search evaluations included) if the
/// loss or a gradient turns non-finite, [`Error::GradientCount`] or
/// [`Error::GradientShape`] if the objective's gradients do not match the
/// parameters, the objective's own error if it fails, [`Error::Solve`] if
/// the line search proposes non-finite parameters, and
/// [`Error::NotConverged`] if argmin stops for another reason. The
/// parameters returned are those of the lowest loss evaluated.
///
/// ```
/// use maya::optim::{lbfgs, tape_objective, LbfgsOptions};
/// use maya::Tensor;
/// let mut f = tape_objective(|_t, p| p[0].add_scalar(-2.0).square().sum());
/// let r = lbfgs(&mut f, vec![Tensor::zeros(&[3])], &LbfgsOptions::default()).unwrap();
/// assert!(r.params[0].data.iter().all(|x| (x - 2.0).abs() < 1e-8));
/// ```
pub fn lbfgs<O: Objective>(
    objective: &mut O,
    params: Vec<Tensor>,
    options: &LbfgsOptions,
) -> Result<MinimizeReport> {
    let losses = RefCell::new(Vec::new());
    let error = RefCell::new(None);
    let lowest = RefCell::new(None);
    let problem = Problem {
        objective: RefCell::new(objective),
        shapes: params.iter().map(|p| p.shape.clone()).collect(),
        cache: RefCell::new(None),
        losses: &losses,
        error: &error,
        best: &lowest,
    };
    let init: Vec<f64> = params.iter().flat_map(|p| p.data.iter().copied()).collect();
    let init_copy = init.clone();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), options.memory)
        .with_tolerance_grad(options.grad_tol)
        .and_then(|s| s.with_tolerance_cost(options.cost_tol))
        .map_err(|_| Error::Parameter {
            name: "grad_tol/cost_tol",
            value: options.grad_tol,
            reason: "tolerances must be non-negative",
        })?;
    let run = Executor::new(problem, solver)
        .configure(|state| state.param(init).max_iters(options.max_iters))
        .run();
    if let Some(e) = error.take() {
        return Err(e);
    }
    let mut result = run.map_err(|e| Error::NotConverged {
        solver: "L-BFGS",
        step: None,
        iters: losses.borrow().len(),
        residual: f64::NAN,
        detail: format!("; argmin stopped: {e}"),
    })?;
    let state = result.state();
    // The lowest loss evaluated, which argmin's best point may not be.
    let best = lowest
        .take()
        .map(|(_, x)| x)
        .or_else(|| state.best_param.clone())
        .or_else(|| state.param.clone())
        .unwrap_or(init_copy);
    let iters = state.iter as usize;
    let problem = result
        .problem
        .take_problem()
        .expect("the executor hands the problem back");
    let params = problem.unflatten(&best);
    Ok(MinimizeReport {
        params,
        losses: losses.take(),
        iters,
    })
}
