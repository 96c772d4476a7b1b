//! [`StepSpec`]: the tape-free description of a model's step (mass model,
//! local forces, elements, time step), shared by the explicit step kernel,
//! the multi-stage schemes and backward Euler, with what they all do with
//! it: resolve the inputs' layout, invert the masses, run the elements'
//! adjoints.

use super::element::{DynElement, NodeGrads, Nodes};
use super::layout::{check_masses, ChunkGrads, Layout, MassModel};
use super::local::LocalForces;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;

/// The most coordinates per node.
pub const MAX_DIM: usize = 8;

/// The tape-free description of a model's step.
pub(crate) struct StepSpec<L> {
    pub model: MassModel,
    pub local: L,
    /// Elements besides the local forces, each with its parameter count.
    pub elements: Vec<(Arc<dyn DynElement>, usize)>,
    pub dt: f64,
    /// 1/m of a rollout's masses, computed once (the masses of a rollout
    /// are one tape value); `None`: computed per step.
    pub inv_mass: Option<Arc<Vec<f64>>>,
    /// Whether forward checks the masses (a rollout checks them once).
    pub check_masses: bool,
    /// Fixed (kinematic) nodes, per node of one environment: no force
    /// moves them (their inverse mass is 0), so they keep their velocity —
    /// zero for a clamped node. `None`: every node is free.
    pub fixed: Option<Arc<Vec<bool>>>,
}

impl<L: LocalForces> StepSpec<L> {
    pub(crate) fn layout(&self, op: &'static str, inputs: &[&Tensor]) -> Result<Layout> {
        let dyns: Vec<&dyn DynElement> = self.elements.iter().map(|(e, _)| e.as_ref()).collect();
        let shapes = |n: usize, spatial: usize| {
            let mut all = self.local.params(n, spatial);
            for (e, np) in &self.elements {
                let names = e.param_names();
                let shapes = e.param_shapes(n, spatial);
                all.extend(
                    shapes
                        .into_iter()
                        .take(*np)
                        .enumerate()
                        .map(|(k, s)| (names.get(k).copied().unwrap_or(e.name()), s)),
                );
            }
            all
        };
        let lay = Layout::new(op, self.model, inputs, &shapes, &dyns)?;
        self.local.check(lay.spatial)?;
        if lay.dim > MAX_DIM {
            return Err(Error::Parameter {
                name: "coordinates per node",
                value: lay.dim as f64,
                reason: "the step kernel supports up to 8 coordinates per node",
            });
        }
        if self.check_masses {
            check_masses("mass", inputs[2])?;
            if self.model == MassModel::Rigid {
                check_masses("inertia", inputs[3])?;
            }
        }
        Ok(lay)
    }

    pub(crate) fn n_local_params(&self, lay: &Layout) -> usize {
        self.local.params(lay.n, lay.spatial).len()
    }

    pub(crate) fn all_local(&self) -> bool {
        self.elements.iter().all(|(e, _)| e.is_local())
    }

    /// (1/m, 1/I) per node, shaped like the masses; 0 for fixed nodes.
    pub(crate) fn inverse_masses(&self, inputs: &[&Tensor]) -> (Cow<'_, [f64]>, Vec<f64>) {
        let inv_m = match &self.inv_mass {
            Some(cached) if cached.len() == inputs[2].numel() => Cow::Borrowed(&cached[..]),
            _ => Cow::Owned(self.inverse(inputs[2])),
        };
        let inv_i = match self.model {
            MassModel::Rigid => self.inverse(inputs[3]),
            MassModel::Particle => Vec::new(),
        };
        (inv_m, inv_i)
    }

    /// 1/m per entry of `m` (`[N]` or `[B, N]`), 0 where the node is fixed.
    pub(crate) fn inverse(&self, m: &Tensor) -> Vec<f64> {
        let mut inv: Vec<f64> = m.data.iter().map(|m| 1.0 / m).collect();
        if let Some(fixed) = &self.fixed {
            for (w, &f) in inv.iter_mut().zip(fixed.iter().cycle()) {
                if f {
                    *w = 0.0;
                }
            }
        }
        inv
    }

    /// Whether node `i` (of an environment) is fixed.
    #[inline]
    pub(crate) fn is_fixed(&self, i: usize) -> bool {
        self.fixed.as_ref().is_some_and(|f| f[i])
    }
}

/// The elements' saved states of one evaluation, in element order.
pub(crate) type Saved = Vec<Box<dyn Any + Send + Sync>>;

/// Runs every element's adjoint for ḡF = `gf` into the state gradients
/// and the chunk's parameter gradients (elements' parameters start after
/// the `offset` local ones).
#[allow(clippy::too_many_arguments)]
pub(crate) fn element_adjoints(
    elements: &[(Arc<dyn DynElement>, usize)],
    saved: &Saved,
    nodes: &Nodes,
    params: &[&[f64]],
    offset: usize,
    gf: &[f64],
    gq: &mut [f64],
    gv: &mut [f64],
    grads: &mut ChunkGrads,
    needs_mass: bool,
    needs_params: &[bool],
) -> Result<()> {
    let mut k = offset;
    let mut rest = params;
    for ((e, np), e_saved) in elements.iter().zip(saved) {
        let (mine, others) = rest.split_at(*np);
        let mut sub = NodeGrads {
            q: &mut *gq,
            v: &mut *gv,
            mass: &mut grads.mass,
            inertia: &mut grads.inertia,
            params: &mut grads.params[k..k + np],
            needs_mass,
            needs_params: &needs_params[k..k + np],
        };
        e.vjp(e_saved.as_ref(), nodes, mine, gf, &mut sub)?;
        rest = others;
        k += np;
    }
    Ok(())
}
