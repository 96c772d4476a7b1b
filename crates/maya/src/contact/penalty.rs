//! The normal contact force: a penalty spring on the penetration depth,
//! with a damper gated by the same contact function.
//!
//! fₙ = k ψ(d) − c ψ′(d) vₙ, where ψ is
//!
//! * [`Penalty::Relu`]: ψ(d) = max(d, 0), ψ′ = 1[d > 0]. The exact
//!   penalty: no force before contact. Its gradient is correct almost
//!   everywhere, but jumps when the step at which contact starts changes,
//!   so a loss is only piecewise smooth in, say, a drop height.
//! * [`Penalty::Softplus`]: ψ(d) = w ln(1 + e^{d/w}), ψ′ = σ(d/w). C^∞: the
//!   force, and every gradient through it, vary continuously. The price is a
//!   force of k w ln 2 at d = 0 (bodies rest about 0.5–1 w deeper, or
//!   hover when mg < k w ln 2) and an exponentially small force before
//!   contact; pick w well below the length scale that matters (1e-3 of a
//!   body size is a good start) and above the depth change per step.
//!
//! Contacts with ψ′(d) below e⁻³⁰ ≈ 1e-13 (d < −30 w) are skipped.
//!
//! Damping and restitution: for a body of mass m on a stiff ground contact
//! (ReLU), the contact is a damped oscillator over half a period, and the
//! coefficient of restitution is e = exp(−πζ/√(1 − ζ²)), ζ = c / (2√(k m))
//! ([`restitution_from_damping`], inverse [`damping_for_restitution`]). The
//! damper is not clamped, so it pulls slightly at the end of an impact: this
//! is what makes e follow the formula exactly (a clamped damper ends the
//! contact earlier and bounces higher).

use crate::geometry::math::Real;

/// How penetration depth d (m) turns into spring force: ψ(d) in
/// fₙ = k ψ(d) − c ψ′(d) vₙ.
///
/// ```
/// use maya::contact::Penalty;
/// let relu = Penalty::Relu;
/// assert_eq!(relu.eval(-0.1), (0.0, 0.0, 0.0));
/// let soft = Penalty::Softplus { width: 1e-3 };
/// let (psi, dpsi, _) = soft.eval(0.0);
/// assert!((psi - 1e-3 * 2f64.ln()).abs() < 1e-15 && dpsi == 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Penalty {
    /// ψ(d) = max(d, 0): exact, kinked at contact.
    Relu,
    /// ψ(d) = w ln(1 + e^{d/w}): smooth, with width w (m).
    Softplus {
        /// Width w (m) of the smoothed kink, > 0.
        width: f64,
    },
}

impl Penalty {
    /// (ψ(d), ψ′(d), ψ″(d)).
    pub fn eval(&self, d: f64) -> (f64, f64, f64) {
        match *self {
            Penalty::Relu => {
                if d > 0.0 {
                    (d, 1.0, 0.0)
                } else {
                    (0.0, 0.0, 0.0)
                }
            }
            Penalty::Softplus { width: w } => {
                let z = d / w;
                let (psi, sig) = if z > 0.0 {
                    let e = (-z).exp();
                    (d + w * e.ln_1p(), 1.0 / (1.0 + e))
                } else {
                    let e = z.exp();
                    (w * e.ln_1p(), e / (1.0 + e))
                };
                (psi, sig, sig * (1.0 - sig) / w)
            }
        }
    }

    /// (ψ(d), ψ′(d)) over any [`Real`].
    pub(crate) fn eval_real<T: Real>(&self, d: T) -> (T, T) {
        match *self {
            Penalty::Relu => {
                if d.val() > 0.0 {
                    (d, d.lift(1.0))
                } else {
                    (d.lift(0.0), d.lift(0.0))
                }
            }
            Penalty::Softplus { width: w } => {
                let z = d / w;
                if z.val() > 0.0 {
                    let e = (-z).exp();
                    (d + (e + 1.0).ln() * w, (e + 1.0).lift(1.0) / (e + 1.0))
                } else {
                    let e = z.exp();
                    ((e + 1.0).ln() * w, e / (e + 1.0))
                }
            }
        }
    }

    /// Depth (m) below which a contact is skipped: 0 for ReLU, 30 w for
    /// softplus (where ψ′ < 1e-13).
    pub fn margin(&self) -> f64 {
        match *self {
            Penalty::Relu => 0.0,
            Penalty::Softplus { width } => 30.0 * width,
        }
    }

    /// Checks the width of a softplus penalty.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        match *self {
            Penalty::Softplus { width } if !(width > 0.0 && width.is_finite()) => {
                Err(crate::Error::Parameter {
                    name: "softplus width",
                    value: width,
                    reason: "must be positive and finite (m)",
                })
            }
            _ => Ok(()),
        }
    }
}

/// fₙ = k ψ(d) − c ψ′(d) vₙ: normal force (N) at depth `d` (m) and normal
/// relative velocity `vn` (m/s, > 0 separating), stiffness `k` (N/m),
/// damping `c` (N·s/m).
///
/// ```
/// use maya::contact::{normal_force, Penalty};
/// // 1 cm deep, approaching at 1 m/s: 1e4 · 0.01 + 10 · 1 = 110 N.
/// assert_eq!(normal_force(Penalty::Relu, 1e4, 10.0, 0.01, -1.0), 110.0);
/// ```
pub fn normal_force(penalty: Penalty, k: f64, c: f64, d: f64, vn: f64) -> f64 {
    normal_force_real(penalty, k, c, d, vn).0
}

/// (fₙ, ψ(d), ψ′(d)) over any [`Real`]: the one definition of the normal
/// law, used by [`normal_force`], the rigid contact element and its
/// scalar-tape reference.
#[inline(always)]
pub(crate) fn normal_force_real<T: Real>(penalty: Penalty, k: T, c: T, d: T, vn: T) -> (T, T, T) {
    let (psi, dpsi) = penalty.eval_real(d);
    (k * psi - c * dpsi * vn, psi, dpsi)
}

/// Adjoint of [`normal_force`]: adds `grad_out`·∂fₙ/∂(k, c, d, vₙ) to
/// `grad` = [k, c, d, vₙ]:
/// ∂fₙ/∂k = ψ, ∂fₙ/∂c = −ψ′vₙ, ∂fₙ/∂d = kψ′ − cψ″vₙ, ∂fₙ/∂vₙ = −cψ′.
pub fn normal_force_vjp(
    penalty: Penalty,
    k: f64,
    c: f64,
    d: f64,
    vn: f64,
    grad_out: f64,
    grad: &mut [f64; 4],
) {
    let (psi, dpsi, ddpsi) = penalty.eval(d);
    grad[0] += grad_out * psi;
    grad[1] -= grad_out * dpsi * vn;
    grad[2] += grad_out * (k * dpsi - c * ddpsi * vn);
    grad[3] -= grad_out * c * dpsi;
}

/// Coefficient of restitution of a body of mass `m` (kg) bouncing on a
/// ReLU contact of stiffness `k` (N/m) and damping `c` (N·s/m):
/// e = exp(−πζ/√(1 − ζ²)), ζ = c/(2√(km)); 0 when ζ ≥ 1 (overdamped).
///
/// ```
/// use maya::contact::{damping_for_restitution, restitution_from_damping};
/// let c = damping_for_restitution(0.5, 1e5, 2.0);
/// assert!((restitution_from_damping(1e5, c, 2.0) - 0.5).abs() < 1e-12);
/// ```
pub fn restitution_from_damping(k: f64, c: f64, m: f64) -> f64 {
    let zeta = c / (2.0 * (k * m).sqrt());
    if zeta >= 1.0 {
        0.0
    } else {
        (-std::f64::consts::PI * zeta / (1.0 - zeta * zeta).sqrt()).exp()
    }
}

/// The damping c (N·s/m) that gives restitution `e` ∈ (0, 1] to a body of
/// mass `m` on stiffness `k`: ζ = −ln e / √(π² + ln² e), c = 2ζ√(km).
pub fn damping_for_restitution(e: f64, k: f64, m: f64) -> f64 {
    let l = e.ln();
    let zeta = -l / (std::f64::consts::PI.powi(2) + l * l).sqrt();
    2.0 * zeta * (k * m).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_derivatives_match_differences() {
        let p = Penalty::Softplus { width: 0.01 };
        for d in [-0.2, -0.01, 0.0, 0.003, 0.05] {
            let h = 1e-7;
            let (_, s, ds) = p.eval(d);
            let fd1 = (p.eval(d + h).0 - p.eval(d - h).0) / (2.0 * h);
            let fd2 = (p.eval(d + h).1 - p.eval(d - h).1) / (2.0 * h);
            assert!((s - fd1).abs() < 1e-7 && (ds - fd2).abs() < 1e-4 * ds.abs().max(1.0));
        }
        let mut g = [0.0; 4];
        normal_force_vjp(p, 100.0, 3.0, 0.004, -0.5, 1.0, &mut g);
        let f = |k, c, d, v| normal_force(p, k, c, d, v);
        let h = 1e-7;
        let fd_d = (f(100.0, 3.0, 0.004 + h, -0.5) - f(100.0, 3.0, 0.004 - h, -0.5)) / (2.0 * h);
        assert!((g[2] - fd_d).abs() < 1e-5, "{} vs {fd_d}", g[2]);
    }
}
