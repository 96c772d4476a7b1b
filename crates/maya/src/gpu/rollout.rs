//! Device rollouts of a [`DeviceParticleSystem`](super::DeviceParticleSystem):
//! the step recipe (which kernel, time step, gravity) apart from the tape
//! values it reads, so a checkpointed segment can carry it; and the loop
//! that checks the state on the device every few steps.

use super::kernels;
use super::ops::particle_step;
use super::springs::{spring_step, DeviceSprings};
use crate::error::{Error, Result};
use crate::tape::Value;
use crate::TVar;

/// How often (in steps) a device rollout checks its state: one tree sum of
/// p and v on the device, one value read back. A non-finite entry stays
/// non-finite (x' = x + …), so a non-finite sum finds every failure; the
/// states since the last check are then read back to name the first bad
/// step. (The host rollout checks as often.)
pub(crate) const CHECK_EVERY: usize = 32;

/// Which device kernel a step runs.
#[derive(Clone)]
pub(crate) enum Forces {
    /// The fused spring step over this network; parameters k and rest `[S]`.
    Springs(DeviceSprings),
    /// The W2 step: drag and the floor z = 0; parameters c and k, `[]`.
    DragAndFloor,
}

/// One step's recipe: everything but the tape values it reads. `'static`,
/// so a checkpointed segment can own it.
#[derive(Clone)]
pub(crate) struct Recipe {
    pub forces: Forces,
    pub dt: f64,
    pub gravity: [f64; 3],
}

impl Recipe {
    /// One step from `(p, v)` with masses `m` and the forces' two
    /// parameters: one tape node.
    pub fn step<'t>(
        &self,
        p: &TVar<'t>,
        v: &TVar<'t>,
        m: &TVar<'t>,
        params: &[TVar<'t>],
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        let (dt, g) = (self.dt, self.gravity);
        match &self.forces {
            Forces::Springs(springs) => {
                spring_step(springs, p, v, m, &params[0], &params[1], dt, g)
            }
            Forces::DragAndFloor => particle_step(p, v, m, &params[0], &params[1], dt, g),
        }
    }

    /// Steps `first + 1 ..= first + steps` from `(p, v)` (on the device),
    /// checking the state every [`CHECK_EVERY`] steps and after the last:
    /// the first state with a non-finite entry is [`Error::NonFinite`]
    /// naming its step.
    pub fn run<'t>(
        &self,
        state: (TVar<'t>, TVar<'t>),
        m: &TVar<'t>,
        params: &[TVar<'t>],
        first: usize,
        steps: usize,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        let (mut p, mut v) = state;
        let mut pending = Vec::with_capacity(CHECK_EVERY);
        for s in 1..=steps {
            (p, v) = self.step(&p, &v, m, params)?;
            pending.push((p, v));
            if s % CHECK_EVERY == 0 || s == steps {
                if !finite_sum(&p, &v)? {
                    first_non_finite(&pending, first + s - pending.len())?;
                }
                pending.clear();
            }
        }
        Ok((p, v))
    }
}

/// Whether Σp + Σv is finite, summed on the device (one value read back).
/// A non-finite entry makes it non-finite; so, rarely, does an overflow.
fn finite_sum(p: &TVar<'_>, v: &TVar<'_>) -> Result<bool> {
    let total = TVar::with_raw_values(&[*p, *v], "device rollout check", |x, _| {
        match (x[0], x[1]) {
            (Value::Device(p), Value::Device(v)) => {
                kernels::add(&kernels::sum(p)?, &kernels::sum(v)?)?.to_host()
            }
            (p, v) => {
                let (p, v) = (p.to_host()?, v.to_host()?);
                Ok(crate::Tensor::scalar(
                    p.data.iter().chain(&v.data).sum::<f64>(),
                ))
            }
        }
    })??;
    Ok(total.data[0].is_finite())
}

/// Reads back `states` (those after steps `before + 1`, …) in order and
/// returns [`Error::NonFinite`] for the first with a non-finite entry; Ok
/// when every entry is finite (the sum overflowed).
fn first_non_finite(states: &[(TVar<'_>, TVar<'_>)], before: usize) -> Result<()> {
    for (j, (p, v)) in states.iter().enumerate() {
        for (x, what) in [(p, "position"), (v, "velocity")] {
            if let Some(i) = x.try_value()?.data.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    what: format!(
                        "{what} entry {i} on the device (a time step too large for the \
                         stiffest force, or a spring of non-zero rest length whose ends meet)"
                    ),
                    step: before + j + 1,
                });
            }
        }
    }
    Ok(())
}
