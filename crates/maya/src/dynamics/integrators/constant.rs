//! The free fused steps with a given (constant over the step) acceleration:
//! one kernel for every [`Scheme`], whose update and adjoint are the
//! scheme's ([`advance`], [`advance_adjoint`]).
//!
//! Inputs `[p, v, a]` (`a` broadcasts to v's shape), outputs `[p', v']`:
//! p' = p + dt·(v + dt·β·a), v' = v + dt·β̄·a with (β, β̄) the scheme's
//! constant weights; adjoint ∂L/∂p = ḡp, ∂L/∂v = ḡv + dt·ḡp,
//! ∂L/∂a = dt·(dt·β·ḡp + β̄·ḡv) (summed over broadcast axes).

use super::{accumulate_broadcast, check_dt, check_state, zip2_chunks, zip3_chunks};
use crate::error::Result;
use crate::physics::{advance, advance_adjoint, Scheme};
use crate::tape::{Kernel, TVar};
use crate::tensor::Tensor;
use std::marker::PhantomData;

/// The fused kernel of scheme `S` with a given acceleration.
pub(crate) struct ConstantStep<S> {
    dt: f64,
    scheme: PhantomData<S>,
}

impl<S: Scheme> Kernel for ConstantStep<S> {
    type Saved = ();

    fn name(&self) -> &'static str {
        S::NAME
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let (p, v) = (inputs[0], inputs[1]);
        let a = check_state(S::NAME, p, v, inputs[2])?;
        let (dt, w) = (self.dt, const { S::TABLEAU.constant_weights() });
        let (mut p1, mut v1) = (p.clone(), v.clone());
        zip2_chunks(&mut p1.data, &mut v1.data, |o, p1, v1| {
            let a = &a.data[o..o + p1.len()];
            for i in 0..p1.len() {
                (p1[i], v1[i]) = advance(w, dt, p1[i], v1[i], a[i]);
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
        let (dt, w) = (self.dt, const { S::TABLEAU.constant_weights() });
        let (gp1, gv1) = (&grad_outputs[0].data, &grad_outputs[1].data);
        let [grad_p, grad_v, grad_a] = grad_inputs else {
            unreachable!("three inputs")
        };
        let mut full =
            (inputs[2].shape != inputs[1].shape).then(|| Tensor::zeros(&inputs[1].shape));
        let ga: &mut Tensor = full.as_mut().unwrap_or(grad_a);
        zip3_chunks(
            &mut grad_p.data,
            &mut grad_v.data,
            &mut ga.data,
            |o, gp, gv, ga| {
                for i in 0..gp.len() {
                    let (dp, dv, da) = advance_adjoint(w, dt, gp1[o + i], gv1[o + i]);
                    gp[i] += dp;
                    gv[i] += dv;
                    ga[i] += da;
                }
            },
        );
        if let Some(full) = full {
            accumulate_broadcast(grad_a, &full);
        }
        Ok(())
    }
}

/// Records one step of scheme `S` with the given acceleration.
pub(crate) fn try_constant_step<'t, S: Scheme>(
    p: &TVar<'t>,
    v: &TVar<'t>,
    a: &TVar<'t>,
    dt: f64,
) -> Result<(TVar<'t>, TVar<'t>)> {
    check_dt(dt)?;
    p.same_tape(v, S::NAME)?;
    p.same_tape(a, S::NAME)?;
    let kernel = ConstantStep::<S> {
        dt,
        scheme: PhantomData,
    };
    let out = p.tape.try_apply(kernel, &[*p, *v, *a])?;
    Ok((out[0], out[1]))
}
