//! Classical fourth-order Runge–Kutta for ṗ = v, v̇ = a.
//!
//! With a constant over the step (state independent), the stages are
//! k₁ = (v, a), k₂ = k₃ = (v + dt/2·a, a), k₄ = (v + dt·a, a), and
//! p' = p + dt/6·(k₁ + 2k₂ + 2k₃ + k₄)ₚ = p + dt·v + dt²/2·a,
//! v' = v + dt·a (exact for constant a). Adjoint, with ḡp = ∂L/∂p',
//! ḡv = ∂L/∂v':
//!
//! ∂L/∂p = ḡp, ∂L/∂v = ḡv + dt·ḡp, ∂L/∂a = dt·ḡv + dt²/2·ḡp.
//!
//! With a state-dependent a(p, v) ([`rk4_step_with`]), the four evaluations
//! of the closure are recorded on the tape and the stage arithmetic is fused
//! into [`lincomb`](super::lincomb) nodes.

use super::{check_dt, constant::try_constant_step, lincomb::LinComb};
use crate::error::OrPanic;
use crate::error::Result;
use crate::physics::Rk4;
use crate::tape::TVar;

/// The constant-acceleration step composed from elementary ops, stage by
/// stage (the fused kernel's reference in tests).
pub fn reference<'t>(p: &TVar<'t>, v: &TVar<'t>, a: &TVar<'t>, dt: f64) -> (TVar<'t>, TVar<'t>) {
    let (k1p, k1v) = (*v, *a);
    let (k2p, k2v) = (v.add(&k1v.scalar_mul(dt / 2.0)), *a);
    let (k3p, k3v) = (v.add(&k2v.scalar_mul(dt / 2.0)), *a);
    let (k4p, k4v) = (v.add(&k3v.scalar_mul(dt)), *a);
    let sum = |k1: TVar<'t>, k2: TVar<'t>, k3: TVar<'t>, k4: TVar<'t>| {
        k1.add(&k2.scalar_mul(2.0))
            .add(&k3.scalar_mul(2.0))
            .add(&k4)
            .scalar_mul(dt / 6.0)
    };
    let p1 = p.add(&sum(k1p, k2p, k3p, k4p));
    let v1 = v.add(&sum(k1v, k2v, k3v, k4v));
    (p1, v1)
}

/// One RK4 step with an acceleration constant over the step (state
/// independent): p' = p + dt·v + dt²/2·a, v' = v + dt·a, one fused node.
///
/// For an acceleration that depends on the state, use [`rk4_step_with`].
/// Panics on mismatched shapes or a non-positive `dt`; see [`try_rk4_step`].
///
/// ```
/// use maya::{dynamics::rk4_step, Tensor, TensorTape};
/// let t = TensorTape::new();
/// let p = t.var(Tensor::from_data(vec![0.0], vec![1]));
/// let v = t.var(Tensor::from_data(vec![1.0], vec![1]));
/// let g = t.constant(Tensor::from_data(vec![-10.0], vec![1]));
/// let (p1, v1) = rk4_step(&p, &v, &g, 0.1);
/// assert!((p1.item() - 0.05).abs() < 1e-15); // 0.1 − 10·0.01/2
/// assert!(v1.item().abs() < 1e-15);
/// ```
#[track_caller]
pub fn rk4_step<'t>(p: &TVar<'t>, v: &TVar<'t>, a: &TVar<'t>, dt: f64) -> (TVar<'t>, TVar<'t>) {
    try_rk4_step(p, v, a, dt).or_panic()
}

/// [`rk4_step`], returning an error for bad shapes or `dt`.
pub fn try_rk4_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> Result<(TVar<'t>, TVar<'t>)> {
    try_constant_step::<Rk4>(p, v, a, dt)
}

/// One RK4 step with a state-dependent acceleration `accel(p, v)`, a closure
/// that records its ops on the tape: gradients flow through it, into the
/// state and into any tape value it captures (a stiffness, a mass).
///
/// Records four evaluations of `accel` and six fused combination nodes.
/// Global error O(dt⁴).
///
/// ```
/// use maya::{dynamics::rk4_step_with, Tensor, TensorTape};
/// // Harmonic oscillator ẍ = −k x with a differentiable stiffness.
/// let t = TensorTape::new();
/// let k = t.scalar(4.0);
/// let (mut x, mut v) = (t.var(Tensor::from_data(vec![1.0], vec![1])), t.constant(Tensor::zeros(&[1])));
/// for _ in 0..100 {
///     (x, v) = rk4_step_with(&x, &v, 0.01, |x, _v| Ok(x.scalar_mul(k).neg())).unwrap();
/// }
/// assert!((x.item() - 2f64.cos()).abs() < 1e-7); // x(1) = cos(√k·1), error O(dt⁴)
/// let dk = t.grad(x.sum())[k.idx()].item(); // −sin(2)/(2·2)
/// assert!((dk + 2f64.sin() / 4.0).abs() < 1e-6);
/// ```
pub fn rk4_step_with<'t, F>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    dt: f64,
    mut accel: F,
) -> Result<(TVar<'t>, TVar<'t>)>
where
    F: FnMut(&TVar<'t>, &TVar<'t>) -> Result<TVar<'t>>,
{
    check_dt(dt)?;
    p.same_tape(v, "rk4_step_with")?;
    let tape = p.tape;
    let comb = |xs: &[TVar<'t>], c: &[f64]| tape.try_apply1(LinComb { coeffs: c.to_vec() }, xs);
    let h = dt / 2.0;
    let a1 = accel(p, v)?;
    let (p2, v2) = (comb(&[*p, *v], &[1.0, h])?, comb(&[*v, a1], &[1.0, h])?);
    let a2 = accel(&p2, &v2)?;
    let (p3, v3) = (comb(&[*p, v2], &[1.0, h])?, comb(&[*v, a2], &[1.0, h])?);
    let a3 = accel(&p3, &v3)?;
    let (p4, v4) = (comb(&[*p, v3], &[1.0, dt])?, comb(&[*v, a3], &[1.0, dt])?);
    let a4 = accel(&p4, &v4)?;
    let w = [1.0, dt / 6.0, dt / 3.0, dt / 3.0, dt / 6.0];
    let p1 = comb(&[*p, *v, v2, v3, v4], &w)?;
    let v1 = comb(&[*v, a1, a2, a3, a4], &w)?;
    Ok((p1, v1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck;
    use crate::tensor::Tensor;

    #[test]
    fn gradcheck_constant_acceleration() {
        let r = gradcheck(
            |_t, x| {
                let (p1, v1) = rk4_step(&x[0], &x[1], &x[2], 0.2);
                p1.mul(&v1)
            },
            &[
                Tensor::rand_uniform(&[3, 2], 1),
                Tensor::rand_uniform(&[3, 2], 2),
                Tensor::rand_uniform(&[2], 3),
            ],
        );
        assert!(r.passed, "{r}");
    }
}
