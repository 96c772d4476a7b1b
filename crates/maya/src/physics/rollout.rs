//! The one rollout: T steps of any model, recorded in full, reduced to the
//! last state, or in checkpointed segments (memory ∝ √T). Every rollout
//! checks the state and stops with [`Error::NonFinite`] naming the node
//! and the step.

use super::layout::{all_finite, check_state, MassModel};
use super::memory::{segment_len, Footprint};
use super::multistep::Ran;
pub use super::record::Record;
use super::stepper::Stepper;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The states of a rollout: `positions[t]`, `velocities[t]` after t steps
/// (index 0 is the initial state). With [`Record::Last`] or
/// [`Record::Checkpointed`] it holds the initial and the final state only.
#[derive(Clone, Debug)]
pub struct Trajectory<'t> {
    /// Positions (generalised coordinates).
    pub positions: Vec<TVar<'t>>,
    /// Velocities.
    pub velocities: Vec<TVar<'t>>,
}

impl<'t> Trajectory<'t> {
    /// The final state (q_T, v_T).
    pub fn last(&self) -> (TVar<'t>, TVar<'t>) {
        let t = self.positions.len() - 1;
        (self.positions[t], self.velocities[t])
    }
}

/// A model the one rollout can step: what it is made of (tape-free) plus
/// how its parameters enter the step.
pub trait Model<'t> {
    /// The model's parameters (tape values), if kept apart from the model
    /// (`()` when the model holds them).
    type Params;

    /// The step's inputs after the state (masses, (inertias,) every
    /// element's parameters), and its step function.
    #[doc(hidden)]
    fn stepper(&self, params: &Self::Params) -> Result<(Arc<dyn Stepper>, Vec<TVar<'t>>)>;
}

/// Runs `steps` steps of `model` from `state0 = (q₀, v₀)` and records them
/// as `record` says. Errors with [`Error::NonFinite`] (naming the node and
/// the step t whose state first went non-finite; a message that the time
/// step is the likely cause), or with the first error of a step; before
/// running, with the model's checks (parameter values, stability bounds)
/// and with [`Error::Memory`] if the recording is estimated
/// ([`recording_bytes`]) over the tape's
/// [memory budget](TensorTape::set_memory_budget).
///
/// ```
/// use maya::dynamics::ParticleSystem;
/// use maya::physics::{rollout, Record};
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.1)
///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, -10.0], vec![2])));
/// let q0 = t.constant(Tensor::zeros(&[1, 2]));
/// let v0 = t.var(Tensor::from_data(vec![1.0, 0.0], vec![1, 2]));
/// let traj = rollout(&sys, (q0, v0), &(), 10, Record::All).unwrap();
/// assert_eq!(traj.positions.len(), 11);
/// let (q, _) = traj.last();
/// // x = 10 steps · 0.1 s · 1 m/s, so ∂x/∂vx₀ = 1 s.
/// assert!((t.grad(q.slice(1, 0..1).sum())[v0.idx()].data[0] - 1.0).abs() < 1e-12);
/// ```
pub fn rollout<'t, M: Model<'t>>(
    model: &M,
    state0: (TVar<'t>, TVar<'t>),
    params: &M::Params,
    steps: usize,
    record: Record,
) -> Result<Trajectory<'t>> {
    rollout_from(model, state0, 0, params, steps, record)
}

/// The bytes a [`rollout`] of `steps` steps recorded as `record` is
/// estimated to hold on its tape (what is checked against the tape's
/// [memory budget](TensorTape::set_memory_budget); see `physics/memory.rs`
/// for what it counts and how it was measured). Runs the model's checks,
/// no step.
///
/// ```
/// use maya::dynamics::ParticleSystem;
/// use maya::physics::{recording_bytes, Record};
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1000])), 1e-3);
/// let (p0, v0) = (t.constant(Tensor::zeros(&[1000, 3])), t.var(Tensor::ones(&[1000, 3])));
/// let all = recording_bytes(&sys, (p0, v0), &(), 10_000, Record::All).unwrap();
/// // 10⁴ steps × 2 states × 24 kB ≈ 480 MB, plus headers.
/// assert!(all > 480_000_000 && all < 490_000_000);
/// let seg = Record::Checkpointed { segment: None };
/// assert!(recording_bytes(&sys, (p0, v0), &(), 10_000, seg).unwrap() < all / 40);
/// ```
pub fn recording_bytes<'t, M: Model<'t>>(
    model: &M,
    state0: (TVar<'t>, TVar<'t>),
    params: &M::Params,
    steps: usize,
    record: Record,
) -> Result<u64> {
    let (stepper, rest) = model.stepper(params)?;
    let (q0, v0) = state0;
    Ok(Footprint::new(stepper.as_ref(), &q0, &v0, &rest).estimate(steps, record))
}

/// [`rollout`] from a state numbered `first_step` (errors name steps from
/// there).
pub(crate) fn rollout_from<'t, M: Model<'t>>(
    model: &M,
    state0: (TVar<'t>, TVar<'t>),
    first_step: usize,
    params: &M::Params,
    steps: usize,
    record: Record,
) -> Result<Trajectory<'t>> {
    let (stepper, rest) = model.stepper(params)?;
    let (q0, v0) = state0;
    q0.same_tape(&v0, "rollout")?;
    q0.with_value(|q| v0.with_value(|v| check_state(q, v, stepper.model(), first_step)))?;
    let tape = q0.tape();
    Footprint::new(stepper.as_ref(), &q0, &v0, &rest).check(tape, steps, record)?;
    let mut traj = Trajectory {
        positions: vec![q0],
        velocities: vec![v0],
    };
    let last = match record {
        Record::All => run_steps(
            tape,
            &stepper,
            (q0, v0),
            &rest,
            first_step,
            steps,
            Some(&mut traj),
        )?,
        Record::Last => run_steps(tape, &stepper, (q0, v0), &rest, first_step, steps, None)?,
        Record::Checkpointed { segment } => {
            if !stepper.replays_exactly() {
                return Err(Error::Parameter {
                    name: "warm_start",
                    value: 1.0,
                    reason: "a warm-started step depends on the step before, so a checkpointed \
                             replay would not repeat the forward pass; turn warm starts off \
                             for checkpointed rollouts",
                });
            }
            let seg = segment_len(segment, steps);
            let (mut q, mut v) = (q0, v0);
            let mut start = first_step;
            while start < first_step + steps {
                let len = seg.min(first_step + steps - start);
                let stepper = Arc::clone(&stepper);
                let mut xs = vec![q, v];
                xs.extend_from_slice(&rest);
                let out = tape.try_checkpoint(&xs, move |inner, x| {
                    let (q, v) =
                        run_steps(inner, &stepper, (x[0], x[1]), &x[2..], start, len, None)?;
                    Ok(vec![q, v])
                })?;
                (q, v) = (out[0], out[1]);
                start += len;
            }
            (q, v)
        }
    };
    if record != Record::All {
        traj.positions.push(last.0);
        traj.velocities.push(last.1);
    }
    Ok(traj)
}

/// How often (in steps) a rollout checks its state for non-finite entries.
/// A non-finite entry of q or v stays non-finite (x' = x + …), so a check
/// every few steps finds every failure; the steps since the last good check
/// are then re-examined one by one to name the first bad step.
const CHECK_EVERY: usize = super::record::BLOCK;

/// Runs `steps` steps from `state` on `tape`, numbering them from
/// `first_step`. When no input needs a gradient and no state is kept, the
/// steps run off the tape and only the final state is pushed, as constants.
pub(crate) fn run_steps<'t>(
    tape: &'t TensorTape,
    stepper: &Arc<dyn Stepper>,
    state: (TVar<'t>, TVar<'t>),
    rest: &[TVar<'t>],
    first_step: usize,
    steps: usize,
    mut keep: Option<&mut Trajectory<'t>>,
) -> Result<(TVar<'t>, TVar<'t>)> {
    let (mut q, mut v) = state;
    let stepper = stepper.prepared(rest)?;
    let model = stepper.model();
    let end = first_step + steps;
    let needs_grad = q.requires_grad() || v.requires_grad() || rest.iter().any(TVar::requires_grad);
    if !needs_grad && keep.is_none() {
        let rest_values: Vec<Tensor> = rest.iter().map(TVar::value).collect();
        // Two pairs of buffers, swapped every step: the state stays in cache.
        let (mut spare_q, mut spare_v) = (q.value(), v.value());
        let mut advance = |qv: &mut Tensor, vv: &mut Tensor| -> Result<()> {
            let mut refs = vec![&*qv, &*vv];
            refs.extend(rest_values.iter());
            stepper.step_into(&refs, &mut spare_q, &mut spare_v)?;
            std::mem::swap(qv, &mut spare_q);
            std::mem::swap(vv, &mut spare_v);
            Ok(())
        };
        let (mut qv, mut vv) = (q.value(), v.value());
        let rest_refs: Vec<&Tensor> = rest_values.iter().collect();
        // Every step in one call where the stepper can; on a non-finite
        // state, replay from the start to name the first bad step.
        match stepper.run_local(&rest_refs, &mut qv, &mut vv, steps)? {
            Ran::Finite => return Ok((tape.constant(qv), tape.constant(vv))),
            Ran::NonFinite => {
                let state = (q.value(), v.value());
                return Err(first_bad_step(
                    &*stepper,
                    &rest_values,
                    state,
                    first_step,
                    end,
                ));
            }
            Ran::No => {}
        }
        let mut good = (qv.clone(), vv.clone(), first_step);
        let mut s = first_step;
        while s < end {
            let block = CHECK_EVERY.min(end - s);
            for t in s..s + block {
                advance(&mut qv, &mut vv).map_err(|e| at_step(e, t + 1))?;
            }
            s += block;
            if !(all_finite(&qv) && all_finite(&vv)) {
                let (rq, rv, from) = good;
                return Err(first_bad_step(&*stepper, &rest_values, (rq, rv), from, s));
            }
            good.0.data.copy_from_slice(&qv.data);
            good.1.data.copy_from_slice(&vv.data);
            good.2 = s;
        }
        return Ok((tape.constant(qv), tape.constant(vv)));
    }
    let mut xs = vec![q, v];
    xs.extend_from_slice(rest);
    let mut pending = Vec::with_capacity(CHECK_EVERY);
    let mut s = first_step;
    while s < end {
        let block = CHECK_EVERY.min(end - s);
        // Without kept states, a block of steps as one node where the
        // stepper has one.
        if keep.is_none() {
            (xs[0], xs[1]) = (q, v);
            let out = stepper
                .record_block(tape, &xs, block)
                .map_err(|e| at_step(e, s + 1))?;
            if let Some(out) = out {
                if !(out[0].with_value(all_finite) && out[1].with_value(all_finite)) {
                    let rest_values: Vec<Tensor> = rest.iter().map(TVar::value).collect();
                    return Err(first_bad_step(
                        &*stepper,
                        &rest_values,
                        (q.value(), v.value()),
                        s,
                        s + block,
                    ));
                }
                (q, v) = (out[0], out[1]);
                s += block;
                continue;
            }
        }
        for s in s..s + block {
            (xs[0], xs[1]) = (q, v);
            let out = stepper
                .record(tape, &xs, s)
                .map_err(|e| at_step(e, s + 1))?;
            (q, v) = (out[0], out[1]);
            pending.push((q, v));
            if let Some(traj) = keep.as_deref_mut() {
                traj.positions.push(q);
                traj.velocities.push(v);
            }
        }
        if !(q.with_value(all_finite) && v.with_value(all_finite)) {
            let first = s + 1;
            for (j, (q, v)) in pending.iter().enumerate() {
                q.with_value(|qv| v.with_value(|vv| check_state(qv, vv, model, first + j)))
                    .map_err(|e| blame_dt(e, model))?;
            }
        }
        pending.clear();
        s += block;
    }
    Ok((q, v))
}

/// The error naming the first step in `from..to` whose state is not
/// finite, replaying them one by one off the tape from `state`, the
/// (finite) state before step `from`.
fn first_bad_step(
    stepper: &dyn Stepper,
    rest: &[Tensor],
    state: (Tensor, Tensor),
    from: usize,
    to: usize,
) -> Error {
    let model = stepper.model();
    let (mut q, mut v) = state;
    let (mut q1, mut v1) = (q.clone(), v.clone());
    for t in from..to {
        let mut refs = vec![&q, &v];
        refs.extend(rest.iter());
        if let Err(e) = stepper.step_into(&refs, &mut q1, &mut v1) {
            return at_step(e, t + 1);
        }
        std::mem::swap(&mut q, &mut q1);
        std::mem::swap(&mut v, &mut v1);
        if let Err(e) = check_state(&q, &v, model, t + 1) {
            return blame_dt(e, model);
        }
    }
    unreachable!("the replay meets the non-finite state")
}

/// A non-finite state in a particle rollout: most often an unstable time
/// step. (A rigid world checks its stability bound before it steps.)
fn blame_dt(e: Error, model: MassModel) -> Error {
    match e {
        Error::NonFinite { what, step } if model == MassModel::Particle => Error::NonFinite {
            what: format!("{what} (the time step is the likely cause: lower dt, soften the stiffest force, or use an implicit scheme)"),
            step,
        },
        e => e,
    }
}

/// Fills in the step of a solver error or an inverted element raised
/// inside a step.
fn at_step(e: Error, step: usize) -> Error {
    match e {
        Error::InvertedElement {
            element,
            corners,
            step: None,
            det,
        } => Error::InvertedElement {
            element,
            corners,
            step: Some(step),
            det,
        },
        Error::Solve {
            solver,
            iters,
            residual,
            reason,
            ..
        } => Error::Solve {
            solver,
            step,
            iters,
            residual,
            reason,
        },
        Error::NotConverged {
            solver,
            iters,
            residual,
            detail,
            ..
        } => Error::NotConverged {
            solver,
            step: Some(step),
            iters,
            residual,
            detail,
        },
        Error::DegenerateContact {
            body,
            other,
            reason,
            ..
        } => Error::DegenerateContact {
            body,
            other,
            step,
            reason,
        },
        e => e,
    }
}
