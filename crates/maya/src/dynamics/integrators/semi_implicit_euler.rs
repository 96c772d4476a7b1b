//! Semi-implicit (symplectic) Euler: v' = v + dt·a, p' = p + dt·v'.
//!
//! Adjoint, with ḡp = ∂L/∂p', ḡv = ∂L/∂v' and u = ḡv + dt·ḡp (the total
//! gradient reaching v'):
//!
//! ∂L/∂p = ḡp, ∂L/∂v = u, ∂L/∂a = dt·u (summed over broadcast axes).

use super::{accumulate_broadcast, check_dt, check_state, zip2_chunks, zip3_chunks};
use crate::error::Result;
use crate::tape::{Kernel, TVar};
use crate::tensor::Tensor;

/// The fused kernel: inputs `[p, v, a]`, outputs `[p', v']`.
pub(crate) struct SemiImplicitEuler {
    pub dt: f64,
}

impl Kernel for SemiImplicitEuler {
    type Saved = ();

    fn name(&self) -> &'static str {
        "semi_implicit_euler_step"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let (p, v) = (inputs[0], inputs[1]);
        let a = check_state(self.name(), p, v, inputs[2])?;
        let dt = self.dt;
        let (mut p1, mut v1) = (p.clone(), v.clone());
        zip2_chunks(&mut p1.data, &mut v1.data, |o, p1, v1| {
            let a = &a.data[o..o + p1.len()];
            for i in 0..p1.len() {
                v1[i] += dt * a[i];
                p1[i] += dt * v1[i];
            }
        });
        Ok((vec![p1, v1], ()))
    }

    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let dt = self.dt;
        let (gp1, gv1) = (&grad_outputs[0].data, &grad_outputs[1].data);
        let [grad_p, grad_v, grad_a] = grad_inputs else {
            unreachable!("three inputs")
        };
        let same = inputs[2].shape == inputs[1].shape;
        let mut full = if same {
            None
        } else {
            Some(Tensor::zeros(&inputs[1].shape))
        };
        let ga: &mut Tensor = full.as_mut().unwrap_or(grad_a);
        zip3_chunks(
            &mut grad_p.data,
            &mut grad_v.data,
            &mut ga.data,
            |o, gp, gv, ga| {
                for i in 0..gp.len() {
                    let u = gv1[o + i] + dt * gp1[o + i];
                    gp[i] += gp1[o + i];
                    gv[i] += u;
                    ga[i] += dt * u;
                }
            },
        );
        if let Some(full) = full {
            accumulate_broadcast(grad_a, &full);
        }
        Ok(())
    }
}

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
    p.same_tape(v, "semi_implicit_euler_step")?;
    p.same_tape(a, "semi_implicit_euler_step")?;
    let out = p.tape.try_apply(SemiImplicitEuler { dt }, &[*p, *v, *a])?;
    Ok((out[0], out[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
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
