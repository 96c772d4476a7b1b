//! Adam (Kingma & Ba, 2015) with optional exponential learning-rate decay.
//!
//! m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
//! θ ← θ − ηₜ m̂ / (√v̂ + ε), with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ) and
//! ηₜ = η γᵗ. Adam's step does not shrink with the gradient, so reaching a
//! minimum to high precision needs γ < 1.

use super::minimize::{check_gradients, check_learning_rate, check_unit_interval, Optimizer};
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The Adam optimiser.
///
/// ```
/// use maya::optim::{Adam, Optimizer};
/// use maya::Tensor;
/// let mut p = vec![Tensor::scalar(1.0)];
/// Adam::new(0.1).step(&mut p, &[Tensor::scalar(5.0)]);
/// // The first step has length η whatever the gradient's size.
/// assert!((p[0].item() - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    /// Learning rate η.
    pub lr: f64,
    /// First-moment decay β₁; 0.9 by default (the paper's).
    pub beta1: f64,
    /// Second-moment decay β₂; 0.999 by default (the paper's).
    pub beta2: f64,
    /// ε in the denominator; 1e-8 by default (the paper's).
    pub eps: f64,
    /// Learning-rate decay γ per step; 1 (none) by default.
    pub decay: f64,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    t: i32,
}

impl Adam {
    /// Adam with learning rate `lr` and the paper's defaults.
    ///
    /// Panics on a learning rate that is not finite and positive; see
    /// [`Adam::try_new`].
    #[track_caller]
    pub fn new(lr: f64) -> Adam {
        Adam::try_new(lr).or_panic()
    }

    /// [`Adam::new`], returning [`Error::Parameter`] (named "learning rate",
    /// with its value) for a learning rate that is not finite and positive.
    ///
    /// ```
    /// use maya::optim::Adam;
    /// let e = Adam::try_new(f64::NAN).unwrap_err();
    /// assert!(e.to_string().starts_with("learning rate = NaN is invalid"));
    /// assert!(Adam::try_new(-0.1).is_err());
    /// ```
    pub fn try_new(lr: f64) -> Result<Adam> {
        check_learning_rate(lr)?;
        Ok(Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            decay: 1.0,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        })
    }

    /// Sets the per-step learning-rate decay γ (finite and positive; checked
    /// at each step).
    pub fn with_decay(mut self, decay: f64) -> Adam {
        self.decay = decay;
        self
    }
}

impl Adam {
    /// Checks the hyperparameters, which are public fields and may have
    /// changed since construction.
    fn check(&self) -> Result<()> {
        check_learning_rate(self.lr)?;
        check_unit_interval("beta1", self.beta1)?;
        check_unit_interval("beta2", self.beta2)?;
        for (name, value) in [("eps", self.eps), ("decay", self.decay)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::Parameter {
                    name,
                    value,
                    reason: "it must be finite and positive",
                });
            }
        }
        Ok(())
    }
}

impl Optimizer for Adam {
    fn try_step(&mut self, params: &mut [Tensor], grads: &[Tensor]) -> Result<()> {
        self.check()?;
        check_gradients("Adam::step", params, grads)?;
        // New parameters (in number or shape) start from fresh moments.
        let same = self.m.len() == params.len()
            && self
                .m
                .iter()
                .zip(params.iter())
                .all(|(m, p)| m.shape == p.shape);
        if !same {
            self.m = params.iter().map(|p| Tensor::zeros(&p.shape)).collect();
            self.v = self.m.clone();
            self.t = 0;
        }
        self.t += 1;
        let c1 = 1.0 - self.beta1.powi(self.t);
        let c2 = 1.0 - self.beta2.powi(self.t);
        let lr = self.lr * self.decay.powi(self.t - 1);
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            for (((p, g), m), v) in p
                .data
                .iter_mut()
                .zip(&g.data)
                .zip(&mut m.data)
                .zip(&mut v.data)
            {
                *m = self.beta1 * *m + (1.0 - self.beta1) * g;
                *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + self.eps);
            }
        }
        Ok(())
    }
}
