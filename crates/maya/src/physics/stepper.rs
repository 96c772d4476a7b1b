//! [`Stepper`]: a model's step function, as the one rollout drives it:
//! record a step on a tape, or run it off the tape into buffers.

use super::layout::{check_masses, MassModel};
use super::local::LocalForces;
use super::scheme::Scheme;
use super::spec::StepSpec;
use super::step::StepKernel;
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

    /// Runs one step off the tape into `q1`, `v1` (overwritten).
    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()>;
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
        let inv = rest[0].with_value(|m| m.data.iter().map(|m| 1.0 / m).collect::<Vec<f64>>());
        let spec = StepSpec {
            model: self.spec.model,
            local: self.spec.local.clone(),
            elements: self.spec.elements.clone(),
            dt: self.spec.dt,
            inv_mass: Some(Arc::new(inv)),
            check_masses: false,
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

    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()> {
        let kernel = StepKernel::<L, S>::new(Arc::clone(&self.spec), None);
        // Off the tape nothing needs a gradient: no force is saved.
        let none = vec![false; inputs.len()];
        kernel.step_into(inputs, &none, q1, v1).map(|_| ())
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
        };
        tape.try_apply(kernel, inputs)
    }

    fn step_into(&self, inputs: &[&Tensor], q1: &mut Tensor, v1: &mut Tensor) -> Result<()> {
        let kernel = super::backward_euler::BackwardEulerStep {
            spec: Arc::clone(&self.spec),
            options: self.options.clone(),
        };
        kernel.step_into(inputs, false, q1, v1).map(|_| ())
    }
}
