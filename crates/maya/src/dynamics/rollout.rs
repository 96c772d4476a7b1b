//! Rollouts: T steps of a [`ParticleSystem`], recorded plainly (every state
//! kept), reduced to the final state, or in checkpointed segments (memory
//! ∝ √T). Every rollout checks the state after each step and stops with
//! [`Error::NonFinite`] naming the particle and the step.

use super::particle_step::{ParticleStep, StepSpec};
use super::particles::ParticleSystem;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

/// The states of a rollout: `positions[t]`, `velocities[t]` after t steps
/// (index 0 is the initial state).
#[derive(Clone, Debug)]
pub struct Trajectory<'t> {
    /// Positions p₀ … p_T.
    pub positions: Vec<TVar<'t>>,
    /// Velocities v₀ … v_T.
    pub velocities: Vec<TVar<'t>>,
}

impl<'t> Trajectory<'t> {
    /// The final state (p_T, v_T).
    pub fn last(&self) -> (TVar<'t>, TVar<'t>) {
        let t = self.positions.len() - 1;
        (self.positions[t], self.velocities[t])
    }
}

/// How often (in steps) a rollout checks its state for non-finite
/// entries. Every entry of p and v evolves as x' = x + (…), so a non-finite
/// entry stays non-finite: a check every few steps finds every failure, and
/// the steps since the last good check are then re-examined one by one to
/// name the first bad step.
const CHECK_EVERY: usize = 32;

/// Whether every entry is finite: x·0 is 0 for finite x and NaN otherwise;
/// four accumulators keep the pass vectorisable.
pub(crate) fn all_finite(x: &Tensor) -> bool {
    let mut acc = [0.0f64; 4];
    let chunks = x.data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            acc[k] += c[k] * 0.0;
        }
    }
    let t: f64 = tail.iter().map(|v| v * 0.0).sum();
    (acc[0] + acc[1] + acc[2] + acc[3] + t) == 0.0
}

/// Errors with [`Error::NonFinite`] if `x` has a non-finite entry, naming
/// the first such particle (and environment) and the step.
pub(crate) fn check_finite(x: &Tensor, what: &str, step: usize) -> Result<()> {
    if all_finite(x) {
        return Ok(());
    }
    let d = *x.shape.last().unwrap_or(&1);
    let first = x.data.iter().position(|v| !v.is_finite()).unwrap_or(0);
    let particle = first / d.max(1);
    let what = match x.shape[..] {
        [_, n, _] => format!(
            "{what} of particle {} in environment {}",
            particle % n,
            particle / n
        ),
        _ => format!("{what} of particle {particle}"),
    };
    Err(Error::NonFinite { what, step })
}

fn check_state(p: &Tensor, v: &Tensor, step: usize) -> Result<()> {
    check_finite(p, "position", step)?;
    check_finite(v, "velocity", step)
}

/// Runs `steps` steps from `(p, v)` on `tape`, numbering them from
/// `first_step`. When no input needs a gradient, steps run off the tape
/// (nothing recorded) and only the final state is pushed, as constants.
pub(crate) fn run_steps<'t>(
    tape: &'t TensorTape,
    spec: &StepSpec,
    state: (TVar<'t>, TVar<'t>),
    rest: &[TVar<'t>],
    first_step: usize,
    steps: usize,
    mut keep: Option<&mut Trajectory<'t>>,
) -> Result<(TVar<'t>, TVar<'t>)> {
    let (mut p, mut v) = state;
    // The masses were checked when the system was built; check them once
    // here rather than at every step.
    rest[0].with_value(super::particle_step::check_masses)?;
    let inv_mass = rest[0].with_value(|m| m.data.iter().map(|m| 1.0 / m).collect::<Vec<f64>>());
    let spec = &StepSpec {
        check_masses: false,
        inv_mass: Some(std::sync::Arc::new(inv_mass)),
        ..spec.clone()
    };
    let end = first_step + steps;
    let needs_grad = p.requires_grad() || v.requires_grad() || rest.iter().any(TVar::requires_grad);
    if !needs_grad && keep.is_none() {
        let mut kernel = ParticleStep {
            spec: spec.clone(),
            step: None,
        };
        let rest_values: Vec<Tensor> = rest.iter().map(TVar::value).collect();
        // Two pairs of buffers, swapped every step: the state stays in cache.
        let (mut spare_p, mut spare_v) = (p.value(), v.value());
        let mut advance = |pv: &mut Tensor, vv: &mut Tensor, step: Option<usize>| -> Result<()> {
            let mut refs = vec![&*pv, &*vv];
            refs.extend(rest_values.iter());
            kernel.step = step;
            kernel.step_into(&refs, &mut spare_p, &mut spare_v)?;
            std::mem::swap(pv, &mut spare_p);
            std::mem::swap(vv, &mut spare_v);
            Ok(())
        };
        let (mut pv, mut vv) = (p.value(), v.value());
        let mut good = (pv.clone(), vv.clone(), first_step);
        for s in first_step..end {
            advance(&mut pv, &mut vv, None)?;
            if (s + 1 - first_step).is_multiple_of(CHECK_EVERY) || s + 1 == end {
                if !(all_finite(&pv) && all_finite(&vv)) {
                    // Replay from the last good state, checking every step.
                    let (mut rp, mut rv, from) = good;
                    for t in from..=s {
                        advance(&mut rp, &mut rv, Some(t + 1))?;
                    }
                    return check_state(&pv, &vv, s + 1)
                        .map(|_| unreachable!("the state is non-finite"));
                }
                good.0.data.copy_from_slice(&pv.data);
                good.1.data.copy_from_slice(&vv.data);
                good.2 = s + 1;
            }
        }
        return Ok((tape.constant(pv), tape.constant(vv)));
    }
    let mut xs = vec![p, v];
    xs.extend_from_slice(rest);
    let mut pending = Vec::with_capacity(CHECK_EVERY);
    for s in first_step..end {
        xs[0] = p;
        xs[1] = v;
        let kernel = ParticleStep {
            spec: spec.clone(),
            step: None,
        };
        let out = tape.try_apply(kernel, &xs)?;
        (p, v) = (out[0], out[1]);
        pending.push((p, v));
        if (s + 1 - first_step).is_multiple_of(CHECK_EVERY) || s + 1 == end {
            let ok = p.with_value(all_finite) && v.with_value(all_finite);
            if !ok {
                let first = s + 1 - pending.len();
                for (j, (p, v)) in pending.iter().enumerate() {
                    p.with_value(|pv| v.with_value(|vv| check_state(pv, vv, first + j + 1)))?;
                }
            }
            pending.clear();
        }
        if let Some(traj) = keep.as_deref_mut() {
            traj.positions.push(p);
            traj.velocities.push(v);
        }
    }
    Ok((p, v))
}

impl<'t> ParticleSystem<'t> {
    /// Runs `steps` steps from `(p0, v0)` and returns every state, each a
    /// tape value (one fused node per step).
    ///
    /// Errors with [`Error::NonFinite`] (naming the particle and the step
    /// t ≥ 1 whose state first went non-finite), or for bad shapes.
    ///
    /// ```
    /// use maya::dynamics::ParticleSystem;
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.1)
    ///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, -10.0], vec![2])));
    /// let p0 = t.constant(Tensor::zeros(&[1, 2]));
    /// let v0 = t.var(Tensor::from_data(vec![1.0, 0.0], vec![1, 2]));
    /// let traj = sys.rollout(&p0, &v0, 10).unwrap();
    /// assert_eq!(traj.positions.len(), 11);
    /// ```
    pub fn rollout(&self, p0: &TVar<'t>, v0: &TVar<'t>, steps: usize) -> Result<Trajectory<'t>> {
        let mut traj = Trajectory {
            positions: vec![*p0],
            velocities: vec![*v0],
        };
        let rest = self.inputs_after_state();
        run_steps(
            p0.tape(),
            &self.spec(),
            (*p0, *v0),
            &rest,
            0,
            steps,
            Some(&mut traj),
        )?;
        Ok(traj)
    }

    /// Runs `steps` steps and returns the final state. When nothing in the
    /// system needs a gradient, the steps run without recording anything.
    /// Errors as [`Self::rollout`].
    pub fn rollout_final(
        &self,
        p0: &TVar<'t>,
        v0: &TVar<'t>,
        steps: usize,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        let rest = self.inputs_after_state();
        run_steps(p0.tape(), &self.spec(), (*p0, *v0), &rest, 0, steps, None)
    }

    /// Runs `steps` steps in checkpointed segments of `segment` steps
    /// (default ⌈√steps⌉) and returns the final state.
    ///
    /// Each segment is one tape node keeping only its input and output
    /// states; the backward sweep recomputes one segment at a time. Memory:
    /// about (T/S + S) states instead of T, for one extra forward pass.
    /// Gradients are identical to [`Self::rollout_final`]'s. Errors as
    /// [`Self::rollout`], with the global step number.
    ///
    /// ```
    /// use maya::dynamics::ParticleSystem;
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let c = t.scalar(0.5);
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 0.01).with_drag(c);
    /// let p0 = t.constant(Tensor::zeros(&[3, 2]));
    /// let v0 = t.var(Tensor::ones(&[3, 2]));
    /// let (p, _) = sys.rollout_checkpointed(&p0, &v0, 1000, None).unwrap();
    /// assert!(t.len() < 200); // ~√1000 segments, not 1000 states
    /// let g = t.grad_wrt(p.sum(), &[c]);
    /// assert!(g[0].item() < 0.0);
    /// ```
    pub fn rollout_checkpointed(
        &self,
        p0: &TVar<'t>,
        v0: &TVar<'t>,
        steps: usize,
        segment: Option<usize>,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        let seg = segment
            .unwrap_or_else(|| (steps as f64).sqrt().ceil() as usize)
            .max(1);
        let spec = self.spec();
        let rest = self.inputs_after_state();
        let tape = p0.tape();
        let (mut p, mut v) = (*p0, *v0);
        let mut start = 0;
        while start < steps {
            let len = seg.min(steps - start);
            let spec = spec.clone();
            let mut xs = vec![p, v];
            xs.extend_from_slice(&rest);
            let out = tape.try_checkpoint(&xs, move |inner, x| {
                let (p, v) = run_steps(inner, &spec, (x[0], x[1]), &x[2..], start, len, None)?;
                Ok(vec![p, v])
            })?;
            (p, v) = (out[0], out[1]);
            start += len;
        }
        Ok((p, v))
    }
}
