//! Optimisers over tape parameters: SGD with momentum, Adam, and L-BFGS.
//!
//! Parameters are a list of tensors. An [`Objective`] returns the loss and
//! its gradient at given parameters — usually by recording the loss on a
//! fresh [`TensorTape`](crate::TensorTape) (see [`tape_objective`]).
//! [`minimize`] drives a first-order [`Optimizer`] with gradient clipping and
//! stops with [`Error::NonFinite`](crate::Error::NonFinite) naming the
//! evaluation (numbered from 0) and parameter when the loss or a gradient
//! turns non-finite; [`lbfgs`] does the same through argmin's L-BFGS, with
//! the same numbering. Gradients that do not match the parameters in number
//! or shape are an error, never truncated; learning rates must be finite
//! and positive ([`Adam::try_new`], [`Sgd::try_new`]).
//!
//! ```
//! use maya::optim::{minimize, tape_objective, Adam, MinimizeOptions};
//! use maya::Tensor;
//! // Minimise (x − 3)² from x = 0.
//! let mut f = tape_objective(|_t, p| p[0].add_scalar(-3.0).square().sum());
//! let opts = MinimizeOptions { max_iters: 2000, ..Default::default() };
//! let report = minimize(&mut f, vec![Tensor::scalar(0.0)], &mut Adam::new(0.1), &opts).unwrap();
//! assert!((report.params[0].item() - 3.0).abs() < 1e-3);
//! ```

mod adam;
mod lbfgs;
mod minimize;
mod sgd;

pub use adam::Adam;
pub use lbfgs::{lbfgs, LbfgsOptions};
pub use minimize::{
    check_finite, check_gradients, clip_grad_norm, minimize, minimize_with, tape_objective,
    MinimizeOptions, MinimizeReport, Objective, Optimizer,
};
pub use sgd::Sgd;
