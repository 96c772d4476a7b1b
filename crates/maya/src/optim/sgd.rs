//! Stochastic gradient descent with (heavy-ball) momentum.
//!
//! u ← μ u + g;  θ ← θ − η u. With μ = 0 this is plain gradient descent.

use super::minimize::Optimizer;
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
    pub fn new(lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: 0.0,
            velocity: Vec::new(),
        }
    }

    /// Sets the momentum μ.
    pub fn with_momentum(mut self, momentum: f64) -> Sgd {
        self.momentum = momentum;
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [Tensor], grads: &[Tensor]) {
        if self.velocity.len() != params.len() {
            self.velocity = params.iter().map(|p| Tensor::zeros(&p.shape)).collect();
        }
        for ((p, g), u) in params.iter_mut().zip(grads).zip(&mut self.velocity) {
            for ((p, g), u) in p.data.iter_mut().zip(&g.data).zip(&mut u.data) {
                *u = self.momentum * *u + g;
                *p -= self.lr * *u;
            }
        }
    }
}
