//! Regularised Coulomb friction, smooth in the slip velocity.
//!
//! fₜ = −μ k ψ(d) · s(vₜ), s(v) = v / √(v² + ε²), s′(v) = ε² / (v² + ε²)^{3/2}.
//!
//! The friction bound μ k ψ(d) uses the elastic part of the normal force: it
//! is never negative and is smooth, while the damped normal force turns
//! slightly negative as an impact ends. s saturates to ±1 (Coulomb) once
//! |vₜ| ≫ ε and is linear (viscous, coefficient μkψ/ε) below it, so a body
//! held by friction creeps at about vₜ = ε r/√(1 − r²), r = tan α / μ on a
//! slope of angle α. Smaller ε creeps less but makes friction stiffer: an
//! explicit step of a body of (effective) mass m needs ε > dt μ fₙ / 2m, or
//! the slip velocity chatters about 0 with amplitude ~dt μ fₙ/m, and
//! gradients through the chatter grow without bound (1e16 after a second
//! of a 100-box pile, measured). The rigid step therefore raises ε per
//! contact to
//!
//! ```text
//! ε_c² = ε² + (dt μ k ψ(d) w)²,   w = 1/mₐ + (rₐ × t)²/Iₐ + 1/m_b + (r_b × t)²/I_b,
//! ```
//!
//! the slip at which one explicit step of the linear part of the law would
//! just stop the slip: w is the inverse effective mass of the contact
//! along t. This is smooth and differentiable (in the masses and inertias
//! too) and turns off as dt → 0; the base ε (the `World`'s
//! `friction_regularization`) still sets the creep under static loads.

use super::penalty::Penalty;
use crate::geometry::math::Real;

/// fₜ = −μ k ψ(d) vₜ/√(vₜ² + ε²): friction force (N) along the tangent, at
/// depth `d` (m) and slip velocity `vt` (m/s), with regularisation `eps`
/// (m/s).
///
/// ```
/// use maya::contact::{friction_force, Penalty};
/// // Fast slip: the Coulomb bound μ k d = 0.5 · 1e4 · 0.01 = 50 N, opposing.
/// let f = friction_force(Penalty::Relu, 1e4, 0.5, 0.01, 10.0, 1e-3);
/// assert!((f + 50.0).abs() < 1e-6);
/// ```
pub fn friction_force(penalty: Penalty, k: f64, mu: f64, d: f64, vt: f64, eps: f64) -> f64 {
    let (psi, _, _) = penalty.eval(d);
    friction_from_bound(mu * k * psi, vt, eps * eps)
}

/// fₜ = −b·vₜ/√(vₜ² + ε²) for the bound b = μkψ(d) and ε² given: the one
/// definition of the friction law, over any [`Real`].
#[inline(always)]
pub(crate) fn friction_from_bound<T: Real>(bound: T, vt: T, eps2: T) -> T {
    -(bound * vt / (vt * vt + eps2).sqrt())
}

/// Adjoint of [`friction_force`]: adds `grad_out`·∂fₜ/∂(k, μ, d, vₜ, ε²)
/// to `grad` = [k, μ, d, vₜ, ε²]: ∂fₜ/∂k = −μψs, ∂fₜ/∂μ = −kψs,
/// ∂fₜ/∂d = −μkψ′s, ∂fₜ/∂vₜ = −μkψ s′, ∂fₜ/∂ε² = μkψ vₜ / (2 (vₜ² + ε²)^{3/2}).
#[allow(clippy::too_many_arguments)]
pub fn friction_force_vjp(
    penalty: Penalty,
    k: f64,
    mu: f64,
    d: f64,
    vt: f64,
    eps: f64,
    grad_out: f64,
    grad: &mut [f64; 5],
) {
    let (psi, dpsi, _) = penalty.eval(d);
    let q = vt * vt + eps * eps;
    let s = vt / q.sqrt();
    let q32 = q * q.sqrt();
    let ds = eps * eps / q32;
    grad[0] -= grad_out * mu * psi * s;
    grad[1] -= grad_out * k * psi * s;
    grad[2] -= grad_out * mu * k * dpsi * s;
    grad[3] -= grad_out * mu * k * psi * ds;
    grad[4] += grad_out * mu * k * psi * vt / (2.0 * q32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vjp_matches_differences() {
        let p = Penalty::Softplus { width: 0.01 };
        let x = [200.0, 0.4, 0.003, 0.02];
        let f = |x: [f64; 4]| friction_force(p, x[0], x[1], x[2], x[3], 0.05);
        let mut g = [0.0; 5];
        friction_force_vjp(p, x[0], x[1], x[2], x[3], 0.05, 1.0, &mut g);
        for i in 0..5 {
            let fd = if i < 4 {
                let h = 1e-6 * x[i].abs();
                let (mut up, mut dn) = (x, x);
                up[i] += h;
                dn[i] -= h;
                (f(up) - f(dn)) / (2.0 * h)
            } else {
                // ∂/∂ε² = ∂/∂ε / (2ε).
                let h = 1e-8;
                let fe = |e: f64| friction_force(p, x[0], x[1], x[2], x[3], e);
                (fe(0.05 + h) - fe(0.05 - h)) / (2.0 * h) / 0.1
            };
            assert!(
                (g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "{i}: {} vs {fd}",
                g[i]
            );
        }
    }
}
