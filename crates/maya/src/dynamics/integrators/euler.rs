//! Explicit Euler: p' = p + dt·v, v' = v + dt·a.
//!
//! Adjoint, with ḡp = ∂L/∂p', ḡv = ∂L/∂v':
//!
//! ∂L/∂p = ḡp, ∂L/∂v = ḡv + dt·ḡp, ∂L/∂a = dt·ḡv (summed over broadcast
//! axes).

use super::constant::try_constant_step;
use crate::error::OrPanic;
use crate::error::Result;
use crate::physics::Euler;
use crate::tape::TVar;

/// The same step composed from elementary ops (the fused kernel's
/// reference in tests).
pub fn reference<'t>(p: &TVar<'t>, v: &TVar<'t>, a: &TVar<'t>, dt: f64) -> (TVar<'t>, TVar<'t>) {
    (p.add(&v.scalar_mul(dt)), v.add(&a.scalar_mul(dt)))
}

/// One explicit Euler step: p' = p + dt·v, v' = v + dt·a.
///
/// `p` and `v` have one shape; `a` broadcasts to it (e.g. one gravity vector
/// for all particles). One fused tape node. Not symplectic: on an
/// oscillator its energy grows by (1 + ω²dt²) per step; prefer
/// [`semi_implicit_euler_step`](crate::semi_implicit_euler_step) or
/// [`velocity_verlet_step`](crate::dynamics::velocity_verlet_step).
///
/// Panics on mismatched shapes or a non-positive `dt`; see
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
    try_euler_step(p, v, a, dt).or_panic()
}

/// [`euler_step`], returning an error for bad shapes or `dt`.
pub fn try_euler_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> Result<(TVar<'t>, TVar<'t>)> {
    try_constant_step::<Euler>(p, v, a, dt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck;
    use crate::tensor::Tensor;

    #[test]
    fn gradcheck_batched() {
        let p = Tensor::rand_uniform(&[2, 3, 2], 1);
        let v = Tensor::rand_uniform(&[2, 3, 2], 2);
        let a = Tensor::rand_uniform(&[2, 3, 2], 3);
        let r = gradcheck(
            |_t, x| {
                let (p1, v1) = euler_step(&x[0], &x[1], &x[2], 0.1);
                p1.mul(&v1).sin()
            },
            &[p, v, a],
        );
        assert!(r.passed, "{r}");
    }
}
