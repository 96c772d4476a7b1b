//! [`Stepper`]: a model's step function, as the one rollout drives it:
//! record a step on a tape, or run it off the tape into buffers.

use super::block::BlockKernel;
use super::layout::{check_masses, MassModel};
use super::local::LocalForces;
use super::multistep::Ran;
use super::scheme::Scheme;
use super::spec::StepSpec;
use super::step::{StepKernel, CHUNK};
use crate::error::Result;
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use std::marker::PhantomData;
use std::sync::Arc;

/// A model's step, for the rollout. Implemented by the explicit step
/// kernel over any [`LocalForces`] and [`Scheme`], and by implicit schemes.
#[doc(hidden)]
pub trait Stepper: Send + Sync {
    /// How the mass acts (particles or rigid bodies).
    fn model(&self) -> MassModel;

    /// The same step specialised for a rollout whose inputs after the state
    /// are `rest` (e.g. with the inverse masses computed once, after
    /// checking them once).
    fn prepared(&self, rest: &[TVar<'_>]) -> Result<Arc<dyn Stepper>>;

    /// Records step `step` (numbered from 0) on `tape`: inputs
    /// `[q, v, rest…]`, outputs `[q', v']`.
    fn record<'t>(
        &self,
        tape: &'t TensorTape,
        inputs: &[TVar<'t>],
        step: usize,
    ) -> Result<Vec<TVar<'t>>>;

    /// Records `steps` steps (numbered from 0 within the block) as one
    /// node on `tape`, inputs as for [`Stepper::record`]; `Ok(None)` when
    /// this stepper has no such node for the state (the caller records
    /// step by step). Default: `Ok(None)`.
    fn record_block<'t>(
        &self,
        tape: &'t TensorTape,
        inputs: &[TVar<'t>],
        steps: usize,
    ) -> Result<Option<Vec<TVar<'t>>>> {
        let _ = (tape, inputs, steps);
        Ok(None)
    }

    /// Whether [`Stepper::record_block`] records blocks for a state of
    /// shape `state` (for the memory estimate). Default: no.
    fn records_blocks(&self, state: &[usize]) -> bool {
        let _ = state;
        false
    }

    /// Runs one step off the tape into `q1`, `v1` (overwritten).
    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()>;

    /// Runs `steps` steps off the tape on the state (`q`, `v`) in place,
    /// with the inputs after the state `rest`, in one call;
    /// [`Ran::No`] (state untouched) when this stepper has no such path,
    /// and the caller steps one by one. Default: [`Ran::No`].
    fn run_local(
        &self,
        rest: &[&Tensor],
        q: &mut Tensor,
        v: &mut Tensor,
        steps: usize,
    ) -> Result<Ran> {
        let _ = (rest, q, v, steps);
        Ok(Ran::No)
    }

    /// Estimated bytes a recorded step keeps for its adjoint besides its
    /// outputs, for a state of shape `state` and inputs `rest` after it
    /// (see `physics/memory.rs`).
    fn saved_bytes(&self, state: &[usize], rest: &[TVar<'_>]) -> u64;

    /// Whether a step depends only on its inputs, so that a checkpointed
    /// replay repeats the forward pass bit for bit (not so for a solver
    /// warm-started from the step before).
    fn replays_exactly(&self) -> bool {
        true
    }
}

/// (environments, nodes per environment, coordinates per node) of a state
/// shape `[N, D]` or `[B, N, D]`.
fn envs_nodes_coords(state: &[usize]) -> (usize, usize, usize) {
    match *state {
        [n, d] => (1, n, d),
        [b, n, d] => (b, n, d),
        _ => (1, 0, 0),
    }
}

/// Checks the masses (and inertias) among a rollout's inputs once.
fn check_rest_masses(model: MassModel, rest: &[TVar<'_>]) -> Result<()> {
    rest[0].with_value(|m| check_masses("mass", m))?;
    if model == MassModel::Rigid {
        rest[1].with_value(|i| check_masses("inertia", i))?;
    }
    Ok(())
}

/// The explicit step kernel as a [`Stepper`].
pub(crate) struct Explicit<L, S> {
    pub spec: Arc<StepSpec<L>>,
    pub scheme: PhantomData<S>,
}

impl<L: LocalForces, S: Scheme> Explicit<L, S> {
    pub(crate) fn new(spec: StepSpec<L>) -> Explicit<L, S> {
        Explicit {
            spec: Arc::new(spec),
            scheme: PhantomData,
        }
    }
}

impl<L: LocalForces + Clone, S: Scheme> Stepper for Explicit<L, S> {
    fn model(&self) -> MassModel {
        self.spec.model
    }

    fn prepared(&self, rest: &[TVar<'_>]) -> Result<Arc<dyn Stepper>> {
        check_rest_masses(self.spec.model, rest)?;
        let inv = rest[0].with_value(|m| self.spec.inverse(m));
        let spec = StepSpec {
            model: self.spec.model,
            local: self.spec.local.clone(),
            elements: self.spec.elements.clone(),
            dt: self.spec.dt,
            inv_mass: Some(Arc::new(inv)),
            check_masses: false,
            fixed: self.spec.fixed.clone(),
        };
        Ok(Arc::new(Explicit::<L, S>::new(spec)))
    }

    fn record<'t>(
        &self,
        tape: &'t TensorTape,
        inputs: &[TVar<'t>],
        _step: usize,
    ) -> Result<Vec<TVar<'t>>> {
        tape.try_apply(
            StepKernel::<L, S>::new(Arc::clone(&self.spec), None),
            inputs,
        )
    }

    /// One stage and local forces only: a [`BlockKernel`].
    fn record_block<'t>(
        &self,
        tape: &'t TensorTape,
        inputs: &[TVar<'t>],
        steps: usize,
    ) -> Result<Option<Vec<TVar<'t>>>> {
        if !self.records_blocks(&inputs[0].shape()) {
            return Ok(None);
        }
        let kernel = BlockKernel::<L, S>::new(Arc::clone(&self.spec), steps);
        tape.try_apply(kernel, inputs).map(Some)
    }

    fn records_blocks(&self, state: &[usize]) -> bool {
        let (_, _, dim) = envs_nodes_coords(state);
        super::multistep::runs_local::<L, S>(&self.spec, dim)
    }

    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()> {
        let kernel = StepKernel::<L, S>::new(Arc::clone(&self.spec), None);
        // Off the tape nothing needs a gradient: no force is saved.
        let none = vec![false; inputs.len()];
        kernel.step_into(inputs, &none, q1, v1).map(|_| ())
    }

    /// Every force local and one stage: [`run_local`](super::multistep::run_local).
    fn run_local(
        &self,
        rest: &[&Tensor],
        q: &mut Tensor,
        v: &mut Tensor,
        steps: usize,
    ) -> Result<Ran> {
        super::multistep::run_local::<L, S>(&self.spec, rest, q, v, steps)
    }

    /// One-stage schemes: per chunk of nodes its saved list (the
    /// elements' boxed states) and, when the masses need a gradient, the
    /// net force. Multi-stage schemes save nothing (they recompute).
    fn saved_bytes(&self, state: &[usize], rest: &[TVar<'_>]) -> u64 {
        if S::TABLEAU.stages() > 1 {
            return 0;
        }
        let (b, n, d) = envs_nodes_coords(state);
        let masses = match self.spec.model {
            MassModel::Particle => &rest[..1.min(rest.len())],
            MassModel::Rigid => &rest[..2.min(rest.len())],
        };
        let force = if masses.iter().any(TVar::requires_grad) {
            8 * (b * n * d) as u64
        } else {
            0
        };
        let chunks = if self.spec.all_local() {
            b * n.div_ceil(CHUNK)
        } else {
            b
        };
        force + (chunks * (64 + 16 * self.spec.elements.len())) as u64
    }
}

/// The backward-Euler step as a [`Stepper`].
pub(crate) struct Implicit<L> {
    pub spec: Arc<StepSpec<L>>,
    pub options: crate::tape::NewtonOptions,
}

impl<L: LocalForces + Clone> Stepper for Implicit<L> {
    fn model(&self) -> MassModel {
        self.spec.model
    }

    fn prepared(&self, rest: &[TVar<'_>]) -> Result<Arc<dyn Stepper>> {
        check_rest_masses(self.spec.model, rest)?;
        Ok(Arc::new(Implicit {
            spec: Arc::clone(&self.spec),
            options: self.options.clone(),
        }))
    }

    fn record<'t>(
        &self,
        tape: &'t TensorTape,
        inputs: &[TVar<'t>],
        step: usize,
    ) -> Result<Vec<TVar<'t>>> {
        let kernel = super::backward_euler::BackwardEulerStep {
            spec: Arc::clone(&self.spec),
            options: crate::tape::NewtonOptions {
                step: step + 1,
                ..self.options.clone()
            },
            quasi_static: false,
        };
        tape.try_apply(kernel, inputs)
    }

    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()> {
        let kernel = super::backward_euler::BackwardEulerStep {
            spec: Arc::clone(&self.spec),
            options: self.options.clone(),
            quasi_static: false,
        };
        kernel.step_into(inputs, false, q1, v1).map(|_| ())
    }

    /// The factorisation of each environment's Jacobian (see
    /// [`factor_bytes`]).
    fn saved_bytes(&self, state: &[usize], _rest: &[TVar<'_>]) -> u64 {
        let (b, n, d) = envs_nodes_coords(state);
        b as u64 * factor_bytes(n * d)
    }
}

/// Estimated bytes of a sparse factorisation of an n × n Jacobian of a
/// model whose nodes interact with a few neighbours (a cloth, a chain):
/// 50·n·log₂n, fitted to spring sheets of 8², 16² and 32² particles (45 to
/// 52 bytes per coordinate and log₂n: the factor's fill grows like
/// n·log n under a fill-reducing order on a 2D grid).
fn factor_bytes(n: usize) -> u64 {
    let n = n as f64;
    (50.0 * n * n.max(2.0).log2()) as u64
}

/// Records the static equilibrium of a model on `tape`: inputs `[q, v,
/// rest…]` as for a step (q: the fixed nodes' prescribed positions and the
/// free nodes' initial guess; v unused), outputs `[x, 0]`, differentiated
/// by the implicit function theorem.
pub(crate) fn record_equilibrium<'t, L: LocalForces>(
    spec: StepSpec<L>,
    options: crate::tape::NewtonOptions,
    tape: &'t TensorTape,
    inputs: &[TVar<'t>],
) -> Result<Vec<TVar<'t>>> {
    let kernel = super::backward_euler::BackwardEulerStep {
        spec: Arc::new(spec),
        options,
        quasi_static: true,
    };
    tape.try_apply(kernel, inputs)
}
