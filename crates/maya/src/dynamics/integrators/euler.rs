//! Explicit Euler: p' = p + dt·v, v' = v + dt·a.
//!
//! Adjoint, with ḡp = ∂L/∂p', ḡv = ∂L/∂v':
//!
//! ∂L/∂p = ḡp, ∂L/∂v = ḡv + dt·ḡp, ∂L/∂a = dt·ḡv (summed over broadcast
//! axes).

use super::{accumulate_broadcast, check_dt, check_state, zip2_chunks, zip3_chunks};
use crate::error::Result;
use crate::tape::{Kernel, TVar};
use crate::tensor::Tensor;

/// The fused kernel: inputs `[p, v, a]`, outputs `[p', v']`.
pub(crate) struct Euler {
    pub dt: f64,
}

impl Kernel for Euler {
    type Saved = ();

    fn name(&self) -> &'static str {
        "euler_step"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let (p, v) = (inputs[0], inputs[1]);
        let a = check_state(self.name(), p, v, inputs[2])?;
        let dt = self.dt;
        let (mut p1, mut v1) = (p.clone(), v.clone());
        zip2_chunks(&mut p1.data, &mut v1.data, |o, p1, v1| {
            let a = &a.data[o..o + p1.len()];
            for i in 0..p1.len() {
                p1[i] += dt * v1[i];
                v1[i] += dt * a[i];
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
                    gp[i] += gp1[o + i];
                    gv[i] += gv1[o + i] + dt * gp1[o + i];
                    ga[i] += dt * gv1[o + i];
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
    p.same_tape(v, "euler_step")?;
    p.same_tape(a, "euler_step")?;
    let out = p.tape.try_apply(Euler { dt }, &[*p, *v, *a])?;
    Ok((out[0], out[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck;

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
