//! Semi-implicit (symplectic) Euler: v' = v + dt·a, p' = p + dt·v'.
//!
//! Adjoint, with ḡp = ∂L/∂p', ḡv = ∂L/∂v' and u = ḡv + dt·ḡp (the total
//! gradient reaching v'):
//!
//! ∂L/∂p = ḡp, ∂L/∂v = u, ∂L/∂a = dt·u (summed over broadcast axes).

use super::constant::try_constant_step;
use crate::error::OrPanic;
use crate::error::Result;
use crate::physics::SemiImplicitEuler;
use crate::tape::TVar;

/// The same step composed from elementary ops (the fused kernel's
/// reference in tests).
pub fn reference<'t>(p: &TVar<'t>, v: &TVar<'t>, a: &TVar<'t>, dt: f64) -> (TVar<'t>, TVar<'t>) {
    let v1 = v.add(&a.scalar_mul(dt));
    let p1 = p.add(&v1.scalar_mul(dt));
    (p1, v1)
}

/// One semi-implicit (symplectic) Euler step: v' = v + dt·a, p' = p + dt·v'.
///
/// `p` and `v` have one shape (`[N, D]`, `[B, N, D]`, …); `a` broadcasts
/// to it. One fused tape node. Exact for constant `a` at the discrete level:
/// after N steps from v₀, ∂p_N/∂v₀ = N·dt.
///
/// Panics on mismatched shapes or a non-positive `dt`; see
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
    try_semi_implicit_euler_step(p, v, a, dt).or_panic()
}

/// [`semi_implicit_euler_step`], returning an error for bad shapes or `dt`.
pub fn try_semi_implicit_euler_step<'t>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> Result<(TVar<'t>, TVar<'t>)> {
    try_constant_step::<SemiImplicitEuler>(p, v, a, dt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;
    use crate::{gradcheck, TensorTape};

    #[test]
    fn gradcheck_broadcast_acceleration() {
        let p = Tensor::rand_uniform(&[4, 3], 1);
        let v = Tensor::rand_uniform(&[4, 3], 2);
        let a = Tensor::rand_uniform(&[3], 3);
        let r = gradcheck(
            |_t, x| {
                let (p1, v1) = semi_implicit_euler_step(&x[0], &x[1], &x[2], 0.1);
                p1.mul(&v1)
            },
            &[p, v, a],
        );
        assert!(r.passed, "{r}");
    }

    #[test]
    fn rejects_mismatched_state() {
        let t = TensorTape::new();
        let p = t.var(Tensor::zeros(&[4, 3]));
        let v = t.var(Tensor::zeros(&[4, 2]));
        let a = t.var(Tensor::zeros(&[3]));
        assert!(try_semi_implicit_euler_step(&p, &v, &a, 0.1).is_err());
    }
}
