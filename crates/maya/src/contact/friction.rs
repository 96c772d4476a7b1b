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
//! explicit step needs dt < 2 ε m / (μ fₙ) for a body of (effective) mass
//! m, or the slip velocity chatters about 0 with amplitude ~dt μ fₙ/m and
//! gradients turn to noise. Resting under gravity (fₙ ≈ mg) this is
//! dt < 2ε/(μg); during an impact at speed v on a contact of angular
//! frequency ω = √(k/m), fₙ peaks near m v ω, which asks for
//! ε ≳ 1.5 μ v ω dt (the factor 3 of a disc's effective tangential mass,
//! halved).

use super::penalty::Penalty;

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
    -mu * k * psi * vt / (vt * vt + eps * eps).sqrt()
}

/// Adjoint of [`friction_force`]: adds `grad_out`·∂fₜ/∂(k, μ, d, vₜ) to
/// `grad` = [k, μ, d, vₜ]: ∂fₜ/∂k = −μψs, ∂fₜ/∂μ = −kψs,
/// ∂fₜ/∂d = −μkψ′s, ∂fₜ/∂vₜ = −μkψ s′.
#[allow(clippy::too_many_arguments)]
pub fn friction_force_vjp(
    penalty: Penalty,
    k: f64,
    mu: f64,
    d: f64,
    vt: f64,
    eps: f64,
    grad_out: f64,
    grad: &mut [f64; 4],
) {
    let (psi, dpsi, _) = penalty.eval(d);
    let q = vt * vt + eps * eps;
    let s = vt / q.sqrt();
    let ds = eps * eps / (q * q.sqrt());
    grad[0] -= grad_out * mu * psi * s;
    grad[1] -= grad_out * k * psi * s;
    grad[2] -= grad_out * mu * k * dpsi * s;
    grad[3] -= grad_out * mu * k * psi * ds;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vjp_matches_differences() {
        let p = Penalty::Softplus { width: 0.01 };
        let x = [200.0, 0.4, 0.003, 0.02];
        let f = |x: [f64; 4]| friction_force(p, x[0], x[1], x[2], x[3], 0.05);
        let mut g = [0.0; 4];
        friction_force_vjp(p, x[0], x[1], x[2], x[3], 0.05, 1.0, &mut g);
        for i in 0..4 {
            let h = 1e-6 * x[i].abs();
            let (mut up, mut dn) = (x, x);
            up[i] += h;
            dn[i] -= h;
            let fd = (f(up) - f(dn)) / (2.0 * h);
            assert!(
                (g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "{i}: {} vs {fd}",
                g[i]
            );
        }
    }
}
