//! Velocity Verlet for ṗ = v, v̇ = a(p): symplectic and second order, the
//! integrator to use for conservative systems (its energy error stays
//! bounded over long runs).
//!
//! p' = p + dt·v + dt²/2·a(p),  v' = v + dt/2·(a(p) + a(p')).
//!
//! The two updates are fused [`lincomb`](super::lincomb) nodes (adjoints
//! ∂p'/∂(p, v, a) = (1, dt, dt²/2), ∂v'/∂(v, a, a') = (1, dt/2, dt/2)); the
//! force closure between them records its own ops.

use super::{check_dt, lincomb::LinComb};
use crate::error::Result;
use crate::tape::TVar;

/// One velocity Verlet step. `a` is the acceleration at `p` (from the
/// previous step, or `accel(p)` at the start); returns `(p', v', a')` with
/// `a' = accel(p')`, to pass to the next step, so each step evaluates the
/// force once.
///
/// `accel` records its ops on the tape; gradients flow through it and into
/// any tape value it captures.
///
/// ```
/// use maya::{dynamics::velocity_verlet_step, Tensor, TensorTape};
/// let t = TensorTape::new();
/// let k = t.scalar(1.0);
/// let (mut x, mut v) = (t.var(Tensor::from_data(vec![1.0], vec![1])), t.constant(Tensor::zeros(&[1])));
/// let mut a = x.scalar_mul(k).neg(); // ẍ = −k x
/// for _ in 0..1000 {
///     (x, v, a) = velocity_verlet_step(&x, &v, &a, 0.01, |x| Ok(x.scalar_mul(k).neg())).unwrap();
/// }
/// let energy = 0.5 * v.item().powi(2) + 0.5 * x.item().powi(2);
/// assert!((energy - 0.5).abs() < 1e-4);
/// ```
pub fn velocity_verlet_step<'t, F>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
    mut accel: F,
) -> Result<(TVar<'t>, TVar<'t>, TVar<'t>)>
where
    F: FnMut(&TVar<'t>) -> Result<TVar<'t>>,
{
    check_dt(dt)?;
    p.same_tape(v, "velocity_verlet_step")?;
    p.same_tape(a, "velocity_verlet_step")?;
    let tape = p.tape;
    let p1 = tape.try_apply1(
        LinComb {
            coeffs: vec![1.0, dt, 0.5 * dt * dt],
        },
        &[*p, *v, *a],
    )?;
    let a1 = accel(&p1)?;
    let v1 = tape.try_apply1(
        LinComb {
            coeffs: vec![1.0, 0.5 * dt, 0.5 * dt],
        },
        &[*v, *a, a1],
    )?;
    Ok((p1, v1, a1))
}

/// The same step composed from elementary ops (reference in tests).
pub fn reference<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
    accel: impl Fn(&TVar<'t>) -> TVar<'t>,
) -> (TVar<'t>, TVar<'t>, TVar<'t>) {
    let p1 = p.add(&v.scalar_mul(dt)).add(&a.scalar_mul(0.5 * dt * dt));
    let a1 = accel(&p1);
    let v1 = v.add(&a.add(&a1).scalar_mul(0.5 * dt));
    (p1, v1, a1)
}
