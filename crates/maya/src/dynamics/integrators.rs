//! Time integrators for ẋ = v, v̇ = a, as compositions of tape ops.

use crate::error::{Error, Result};
use crate::tape::TVar;

fn check_dt(dt: f64) -> Result<()> {
    if dt > 0.0 && dt.is_finite() {
        Ok(())
    } else {
        Err(Error::Parameter {
            name: "dt",
            value: dt,
            reason: "the time step must be positive and finite",
        })
    }
}

/// One explicit Euler step: p' = p + dt·v, v' = v + dt·a.
///
/// `a` broadcasts against `v` (e.g. one gravity vector for all particles).
/// Panics on shapes that do not broadcast or a non-positive `dt`; see
/// [`try_euler_step`].
///
/// ```
/// use maya::{euler_step, Tensor, TensorTape};
/// let t = TensorTape::new();
/// let p = t.var(Tensor::from_data(vec![0.0], vec![1]));
/// let v = t.var(Tensor::from_data(vec![1.0], vec![1]));
/// let a = t.var(Tensor::from_data(vec![-10.0], vec![1]));
/// let (p1, v1) = euler_step(&p, &v, &a, 0.1);
/// assert_eq!((p1.item(), v1.item()), (0.1, 0.0));
/// ```
#[track_caller]
pub fn euler_step<'t>(p: &TVar<'t>, v: &TVar<'t>, a: &TVar<'t>, dt: f64) -> (TVar<'t>, TVar<'t>) {
    try_euler_step(p, v, a, dt).unwrap_or_else(|e| panic!("{e}"))
}

/// [`euler_step`], returning an error for bad shapes or `dt`.
pub fn try_euler_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> Result<(TVar<'t>, TVar<'t>)> {
    check_dt(dt)?;
    let new_p = p.try_add(&v.scalar_mul(dt))?;
    let new_v = v.try_add(&a.scalar_mul(dt))?;
    Ok((new_p, new_v))
}

/// One semi-implicit (symplectic) Euler step: v' = v + dt·a, p' = p + dt·v'.
///
/// Panics on shapes that do not broadcast or a non-positive `dt`; see
/// [`try_semi_implicit_euler_step`].
///
/// ```
/// use maya::{semi_implicit_euler_step, Tensor, TensorTape};
/// let t = TensorTape::new();
/// let p = t.var(Tensor::from_data(vec![0.0], vec![1]));
/// let v = t.var(Tensor::from_data(vec![1.0], vec![1]));
/// let a = t.var(Tensor::from_data(vec![-10.0], vec![1]));
/// let (p1, v1) = semi_implicit_euler_step(&p, &v, &a, 0.1);
/// assert_eq!(v1.item(), 0.0);
/// assert_eq!(p1.item(), 0.0);
/// ```
#[track_caller]
pub fn semi_implicit_euler_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> (TVar<'t>, TVar<'t>) {
    try_semi_implicit_euler_step(p, v, a, dt).unwrap_or_else(|e| panic!("{e}"))
}

/// [`semi_implicit_euler_step`], returning an error for bad shapes or `dt`.
pub fn try_semi_implicit_euler_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> Result<(TVar<'t>, TVar<'t>)> {
    check_dt(dt)?;
    let new_v = v.try_add(&a.scalar_mul(dt))?;
    let new_p = p.try_add(&new_v.scalar_mul(dt))?;
    Ok((new_p, new_v))
}
