//! Stochastic gradient descent with (heavy-ball) momentum.
//!
//! u ← μ u + g;  θ ← θ − η u. With μ = 0 this is plain gradient descent.

use super::minimize::{check_gradients, check_learning_rate, check_unit_interval, Optimizer};
use crate::error::OrPanic;
use crate::error::Result;
use crate::tensor::Tensor;

/// SGD with momentum.
///
/// ```
/// use maya::optim::{Optimizer, Sgd};
/// use maya::Tensor;
/// let mut p = vec![Tensor::scalar(1.0)];
/// Sgd::new(0.1).step(&mut p, &[Tensor::scalar(2.0)]);
/// assert!((p[0].item() - 0.8).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    /// Learning rate η.
    pub lr: f64,
    /// Momentum μ in [0, 1); 0 by default.
    pub momentum: f64,
    velocity: Vec<Tensor>,
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    ///
    /// Panics on a learning rate that is not finite and positive; see
    /// [`Sgd::try_new`].
    #[track_caller]
    pub fn new(lr: f64) -> Sgd {
        Sgd::try_new(lr).or_panic()
    }

    /// [`Sgd::new`], returning [`Error::Parameter`](crate::Error::Parameter)
    /// (named "learning rate", with its value) for a learning rate that is
    /// not finite and positive.
    ///
    /// ```
    /// use maya::optim::Sgd;
    /// let e = Sgd::try_new(-0.5).unwrap_err();
    /// assert!(e.to_string().starts_with("learning rate = -0.5 is invalid"));
    /// ```
    pub fn try_new(lr: f64) -> Result<Sgd> {
        check_learning_rate(lr)?;
        Ok(Sgd {
            lr,
            momentum: 0.0,
            velocity: Vec::new(),
        })
    }

    /// Sets the momentum μ (in [0, 1); checked at each step).
    pub fn with_momentum(mut self, momentum: f64) -> Sgd {
        self.momentum = momentum;
        self
    }
}

impl Optimizer for Sgd {
    fn try_step(&mut self, params: &mut [Tensor], grads: &[Tensor]) -> Result<()> {
        check_learning_rate(self.lr)?;
        check_unit_interval("momentum", self.momentum)?;
        check_gradients("Sgd::step", params, grads)?;
        // New parameters (in number or shape) start from rest.
        let same = self.velocity.len() == params.len()
            && self
                .velocity
                .iter()
                .zip(params.iter())
                .all(|(u, p)| u.shape == p.shape);
        if !same {
            self.velocity = params.iter().map(|p| Tensor::zeros(&p.shape)).collect();
        }
        for ((p, g), u) in params.iter_mut().zip(grads).zip(&mut self.velocity) {
            for ((p, g), u) in p.data.iter_mut().zip(&g.data).zip(&mut u.data) {
                *u = self.momentum * *u + g;
                *p -= self.lr * *u;
            }
        }
        Ok(())
    }
}
