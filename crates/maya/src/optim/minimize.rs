//! The objective and optimiser traits, clipping, finiteness checks and the
//! first-order driver.

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
    /// One update of `params` given `grads` (same shapes).
    fn step(&mut self, params: &mut [Tensor], grads: &[Tensor]);
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
#[derive(Clone, Debug)]
pub struct MinimizeReport {
    /// The final parameters.
    pub params: Vec<Tensor>,
    /// The loss at each evaluated iterate, in order.
    pub losses: Vec<f64>,
    /// Number of iterations made.
    pub iters: usize,
}

impl MinimizeReport {
    /// The last loss evaluated.
    pub fn final_loss(&self) -> f64 {
        self.losses.last().copied().unwrap_or(f64::NAN)
    }
}

/// Returns an error naming the iteration and parameter (and element) when
/// the loss or a gradient entry is not finite.
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
        optimizer.step(&mut params, &grads);
    }
    Ok(MinimizeReport {
        params,
        iters: options.max_iters,
        losses,
    })
}
