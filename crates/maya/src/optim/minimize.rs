//! The objective and optimiser traits, clipping, finiteness checks and the
//! first-order driver.

use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

/// A differentiable objective: the loss and its gradient (one tensor per
/// parameter, same shapes) at `params`.
pub trait Objective {
    /// Evaluates loss and gradient.
    fn loss_and_grad(&mut self, params: &[Tensor]) -> Result<(f64, Vec<Tensor>)>;
}

impl<F: FnMut(&[Tensor]) -> Result<(f64, Vec<Tensor>)>> Objective for F {
    fn loss_and_grad(&mut self, params: &[Tensor]) -> Result<(f64, Vec<Tensor>)> {
        self(params)
    }
}

/// An [`Objective`] from a loss recorded on a tape: each evaluation records
/// `loss(tape, params)` on a fresh [`TensorTape`] and sweeps it back.
///
/// A loss that is not one element is reported as an error.
pub fn tape_objective<F>(loss: F) -> impl Objective
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    move |params: &[Tensor]| {
        let tape = TensorTape::new();
        let vars: Vec<TVar> = params.iter().map(|p| tape.var(p.clone())).collect();
        let l = loss(&tape, &vars);
        let grads = tape.try_grad(l)?;
        let value = l.item();
        Ok((value, vars.iter().map(|v| grads[v.idx()].clone()).collect()))
    }
}

/// A first-order optimiser: updates parameters in place from gradients.
pub trait Optimizer {
    /// One update of `params` given `grads`, one per parameter with its
    /// shape. Returns [`Error::GradientCount`] or [`Error::GradientShape`]
    /// (naming the parameter and both shapes) when they do not match, and
    /// [`Error::Parameter`] for an invalid hyperparameter (such as a
    /// learning rate set to a non-finite or non-positive value); the
    /// parameters are then left unchanged.
    fn try_step(&mut self, params: &mut [Tensor], grads: &[Tensor]) -> Result<()>;

    /// [`Optimizer::try_step`], panicking with its error.
    #[track_caller]
    fn step(&mut self, params: &mut [Tensor], grads: &[Tensor]) {
        self.try_step(params, grads).or_panic()
    }
}

/// Checks that `grads` holds one gradient per parameter, each of its
/// parameter's shape: [`Error::GradientCount`] or [`Error::GradientShape`]
/// (naming the parameter index and both shapes) otherwise. `op` names the
/// caller in the error.
///
/// ```
/// use maya::{optim::check_gradients, Error, Tensor};
/// let params = [Tensor::zeros(&[2]), Tensor::zeros(&[3])];
/// let e = check_gradients("step", &params, &[Tensor::zeros(&[2]), Tensor::zeros(&[2])]);
/// assert!(matches!(e, Err(Error::GradientShape { index: 1, .. })));
/// ```
pub fn check_gradients(op: &'static str, params: &[Tensor], grads: &[Tensor]) -> Result<()> {
    if grads.len() != params.len() {
        return Err(Error::GradientCount {
            op,
            expected: params.len(),
            got: grads.len(),
        });
    }
    match params
        .iter()
        .zip(grads)
        .position(|(p, g)| p.shape != g.shape)
    {
        Some(index) => Err(Error::GradientShape {
            op,
            index,
            param: params[index].shape.clone(),
            grad: grads[index].shape.clone(),
        }),
        None => Ok(()),
    }
}

/// Checks a learning rate: finite and positive ([`Error::Parameter`] named
/// "learning rate" otherwise).
pub(crate) fn check_learning_rate(lr: f64) -> Result<()> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::Parameter {
            name: "learning rate",
            value: lr,
            reason:
                "it must be finite and positive (a negative rate climbs the loss, zero never moves)",
        })
    }
}

/// Checks that a hyperparameter lies in `[0, 1)` ([`Error::Parameter`]
/// otherwise).
pub(crate) fn check_unit_interval(name: &'static str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::Parameter {
            name,
            value,
            reason: "it must lie in [0, 1)",
        })
    }
}

/// Options of [`minimize`]. Defaults: 1000 iterations, no tolerance, no
/// clipping.
#[derive(Clone, Copy, Debug)]
pub struct MinimizeOptions {
    /// Maximum number of iterations (gradient evaluations).
    pub max_iters: usize,
    /// Stop once the loss is at or below this value.
    pub loss_tol: f64,
    /// Stop once the gradient's global 2-norm is at or below this value.
    pub grad_tol: f64,
    /// Rescale the gradient to this global 2-norm when it is larger.
    pub clip_norm: Option<f64>,
}

impl Default for MinimizeOptions {
    fn default() -> Self {
        MinimizeOptions {
            max_iters: 1000,
            loss_tol: f64::NEG_INFINITY,
            grad_tol: 0.0,
            clip_norm: None,
        }
    }
}

/// What [`minimize`] and [`lbfgs`](super::lbfgs) return.
///
/// Evaluations of the objective are numbered from 0: `losses[k]` is the
/// loss of evaluation k, and an [`Error::NonFinite`] from either driver
/// names that same k as its `step`. For [`minimize`] an evaluation is an
/// iteration; L-BFGS may evaluate several times per iteration (its line
/// search), and each evaluation counts.
#[derive(Clone, Debug)]
pub struct MinimizeReport {
    /// The final parameters.
    pub params: Vec<Tensor>,
    /// The loss at each evaluation, in order.
    pub losses: Vec<f64>,
    /// Number of iterations made: optimiser steps for [`minimize`],
    /// L-BFGS iterations for [`lbfgs`](super::lbfgs).
    pub iters: usize,
}

impl MinimizeReport {
    /// The last loss evaluated.
    pub fn final_loss(&self) -> f64 {
        self.losses.last().copied().unwrap_or(f64::NAN)
    }
}

/// Returns an error naming the iteration and parameter (and element) when
/// the loss or a gradient entry is not finite. `iter` is the 0-based index
/// of the evaluation, as [`MinimizeReport`] numbers them.
pub fn check_finite(iter: usize, loss: f64, grads: &[Tensor]) -> Result<()> {
    if !loss.is_finite() {
        return Err(Error::NonFinite {
            what: format!("loss ({loss})"),
            step: iter,
        });
    }
    for (p, g) in grads.iter().enumerate() {
        if let Some(e) = g.data.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("gradient of parameter {p} (element {e}: {})", g.data[e]),
                step: iter,
            });
        }
    }
    Ok(())
}

/// The global 2-norm of `grads`; rescales them to `max_norm` when larger.
///
/// ```
/// use maya::{optim::clip_grad_norm, Tensor};
/// let mut g = vec![Tensor::from_data(vec![3.0, 4.0], vec![2])];
/// assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
/// assert!((g[0].data[0] - 0.6).abs() < 1e-15);
/// ```
pub fn clip_grad_norm(grads: &mut [Tensor], max_norm: f64) -> f64 {
    let norm = global_norm(grads);
    if norm > max_norm {
        let s = max_norm / norm;
        grads
            .iter_mut()
            .flat_map(|g| g.data.iter_mut())
            .for_each(|x| *x *= s);
    }
    norm
}

fn global_norm(grads: &[Tensor]) -> f64 {
    grads
        .iter()
        .flat_map(|g| &g.data)
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
}

/// Minimises `objective` from `params` with a first-order `optimizer`.
///
/// Stops with [`Error::NonFinite`] naming the evaluation (numbered from 0,
/// as [`MinimizeReport`] says) when the loss or a gradient is not finite,
/// with [`Error::GradientCount`] or [`Error::GradientShape`] when the
/// objective's gradients do not match the parameters, and with the
/// objective's or optimiser's own error.
pub fn minimize(
    objective: &mut impl Objective,
    params: Vec<Tensor>,
    optimizer: &mut impl Optimizer,
    options: &MinimizeOptions,
) -> Result<MinimizeReport> {
    minimize_with(objective, params, optimizer, options, |_, _| {})
}

/// [`minimize`], calling `on_iter(iteration, loss)` after each evaluation
/// (for progress bars and logs).
pub fn minimize_with(
    objective: &mut impl Objective,
    mut params: Vec<Tensor>,
    optimizer: &mut impl Optimizer,
    options: &MinimizeOptions,
    mut on_iter: impl FnMut(usize, f64),
) -> Result<MinimizeReport> {
    let mut losses = Vec::new();
    for iter in 0..options.max_iters {
        let (loss, mut grads) = objective.loss_and_grad(&params)?;
        check_gradients("minimize", &params, &grads)?;
        check_finite(iter, loss, &grads)?;
        losses.push(loss);
        on_iter(iter, loss);
        let norm = match options.clip_norm {
            Some(max) => clip_grad_norm(&mut grads, max),
            None => global_norm(&grads),
        };
        if loss <= options.loss_tol || norm <= options.grad_tol {
            return Ok(MinimizeReport {
                params,
                losses,
                iters: iter,
            });
        }
        optimizer.try_step(&mut params, &grads)?;
    }
    Ok(MinimizeReport {
        params,
        iters: options.max_iters,
        losses,
    })
}
