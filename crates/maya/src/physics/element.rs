//! [`Element`]: the one extension point for physics. A force on the nodes
//! of a model (particles, rigid bodies, next the vertices of a mesh) with
//! its hand-written adjoint, its declared parameters and its saved state.
//!
//! The step kernel (`physics/step.rs`) sums the forces of every element of a
//! model, applies the inverse mass and the [scheme](super::Scheme); in the
//! backward sweep it hands each element ḡF = ∂L/∂F and the element adds
//! (∂F/∂·)ᵀ ḡF into the gradients of the state, the masses and its
//! parameters. Implicit schemes also ask for ∂F/∂q and ∂F/∂v
//! ([`Element::jacobian`]) and, for their line search, a potential
//! ([`Element::potential`]).

use super::stability::StabilityLimit;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::any::Any;

/// The nodes an element acts on: one environment, or (for a local element)
/// a run of consecutive nodes of one environment.
///
/// `dim` is the number of coordinates per node: D for particles in D
/// dimensions; 3 for a 2D rigid body (x, y, θ), whose first `spatial`
/// = 2 coordinates are a position and the third an angle.
#[derive(Clone, Copy)]
pub struct Nodes<'a> {
    /// Coordinates per node.
    pub dim: usize,
    /// Spatial dimension (the translational coordinates come first).
    pub spatial: usize,
    /// Generalised positions, `len × dim`.
    pub q: &'a [f64],
    /// Generalised velocities, `len × dim`.
    pub v: &'a [f64],
    /// Masses (kg), `len`.
    pub mass: &'a [f64],
    /// Moments of inertia (kg·m²) of rigid bodies, `len`; empty for
    /// particles.
    pub inertia: &'a [f64],
    /// Index of the first node in the model (for error messages).
    pub first: usize,
    /// The environment (batch entry) these nodes belong to.
    pub env: usize,
}

impl Nodes<'_> {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.mass.len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.mass.is_empty()
    }
}

/// The gradients an element's adjoint accumulates into, for one [`Nodes`].
pub struct NodeGrads<'a> {
    /// ∂L/∂q, `len × dim`.
    pub q: &'a mut [f64],
    /// ∂L/∂v, `len × dim`.
    pub v: &'a mut [f64],
    /// ∂L/∂m, `len`.
    pub mass: &'a mut [f64],
    /// ∂L/∂I, `len` (empty for particles).
    pub inertia: &'a mut [f64],
    /// ∂L/∂(each parameter), at the parameter's per-environment shape.
    pub params: &'a mut [Vec<f64>],
    /// Whether the masses (and inertias) need their gradient.
    pub needs_mass: bool,
    /// Whether each parameter needs its gradient.
    pub needs_params: &'a [bool],
}

pub use crate::tape::Triplets;

/// A force on the nodes of a model, with its adjoint.
///
/// Implement [`Element::force`] and [`Element::vjp`] (and declare the
/// parameters); the step kernel handles shapes, batches, threads, the
/// scheme and the tape. The adjoint **accumulates**, like
/// [`Kernel::vjp`](crate::Kernel::vjp). Check a new element with
/// [`gradcheck`](crate::gradcheck()) through a rollout.
///
/// ```
/// use maya::physics::{Element, NodeGrads, Nodes};
/// use maya::Result;
/// /// A linear spring to the origin: F = −κ q.
/// struct Tether;
/// impl Element for Tether {
///     type Saved = ();
///     fn name(&self) -> &'static str { "tether" }
///     fn param_names(&self) -> &'static [&'static str] { &["kappa"] }
///     fn param_shapes(&self, _n: usize, _d: usize) -> Vec<Vec<usize>> { vec![vec![]] }
///     fn force(&self, s: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<()> {
///         for (f, q) in f.iter_mut().zip(s.q) { *f -= params[0][0] * q; }
///         Ok(())
///     }
///     fn vjp(&self, _: &(), s: &Nodes, params: &[&[f64]], grad_f: &[f64], g: &mut NodeGrads) -> Result<()> {
///         for i in 0..grad_f.len() {
///             g.q[i] -= params[0][0] * grad_f[i];
///             g.params[0][0] -= grad_f[i] * s.q[i];
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Element: Send + Sync + 'static {
    /// What `force` keeps for `vjp` (e.g. a contact list); `()` if nothing.
    type Saved: Send + Sync + 'static;

    /// The element's name, for error messages.
    fn name(&self) -> &'static str;

    /// The parameters' names, in order (for error messages).
    fn param_names(&self) -> &'static [&'static str];

    /// The shape of each parameter for one environment of `n` nodes with
    /// `spatial` translational dimensions (the step also accepts `[B, …]`
    /// for B environments).
    fn param_shapes(&self, n: usize, spatial: usize) -> Vec<Vec<usize>>;

    /// Whether the force on a node depends on that node only; the step
    /// then splits nodes into chunks across threads. Default: no.
    fn is_local(&self) -> bool {
        false
    }

    /// Checks the element against a model of `n` nodes with `dim`
    /// coordinates each (indices in range, vector lengths). Default:
    /// nothing to check.
    fn check(&self, n: usize, dim: usize) -> Result<()> {
        let _ = (n, dim);
        Ok(())
    }

    /// Checks the parameters' values when a step or a rollout starts
    /// (once per rollout): a non-finite or out-of-range value is an
    /// [`Error::ParameterValue`] naming it; with `limit` (an explicit
    /// scheme) a stiffness or damping past the scheme's stability bound on
    /// `masses` (`[N]` or `[B, N]`) is an [`Error::Stability`] naming the
    /// element. `params` are as given to the model (per-environment shape,
    /// or with a leading `[B]`); the step rejects other shapes afterwards,
    /// so they may be skipped here. Default: nothing to check.
    fn check_values(
        &self,
        params: &[&Tensor],
        masses: &Tensor,
        limit: Option<&StabilityLimit>,
    ) -> Result<()> {
        let _ = (params, masses, limit);
        Ok(())
    }

    /// Adds the force on each node into `f` (`len × dim`).
    fn force(&self, nodes: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<Self::Saved>;

    /// Given `grad_f` = ∂L/∂F (`len × dim`), adds (∂F/∂·)ᵀ·grad_f into the
    /// state, mass and parameter gradients.
    fn vjp(
        &self,
        saved: &Self::Saved,
        nodes: &Nodes,
        params: &[&[f64]],
        grad_f: &[f64],
        grads: &mut NodeGrads,
    ) -> Result<()>;

    /// For implicit schemes: adds `−∂F/∂q − s_v·∂F/∂v` (the force's
    /// contribution to the step's Jacobian, with `s_v` = ∂v/∂q of the
    /// scheme, 1/dt for backward Euler) as triplets over the environment's
    /// coordinates. Default: [`Error::Parameter`] saying the element
    /// cannot be stepped implicitly.
    fn jacobian(
        &self,
        nodes: &Nodes,
        params: &[&[f64]],
        s_v: f64,
        out: &mut Triplets,
    ) -> Result<()> {
        let _ = (nodes, params, s_v, out);
        Err(not_implicit(self.name()))
    }

    /// For the line search of implicit schemes: the potential whose
    /// gradient in q is −F, with velocities v = (q − q₀)/dt (for a
    /// dissipative force, its dissipation potential times dt). `None` when
    /// the force has none; the search then uses the residual norm.
    fn potential(&self, nodes: &Nodes, params: &[&[f64]], dt: f64) -> Option<f64> {
        let _ = (nodes, params, dt);
        None
    }
}

pub(crate) fn not_implicit(name: &'static str) -> Error {
    Error::Unsupported {
        what: name,
        reason: "this element has no force Jacobian, so it cannot be stepped by an implicit scheme",
    }
}

/// The object-safe face of [`Element`], for models that hold a list of
/// elements of different types.
pub(crate) trait DynElement: Send + Sync {
    fn name(&self) -> &'static str;
    fn param_names(&self) -> &'static [&'static str];
    fn param_shapes(&self, n: usize, spatial: usize) -> Vec<Vec<usize>>;
    fn is_local(&self) -> bool;
    fn check(&self, n: usize, dim: usize) -> Result<()>;
    fn check_values(
        &self,
        params: &[&Tensor],
        masses: &Tensor,
        limit: Option<&StabilityLimit>,
    ) -> Result<()>;
    fn force(
        &self,
        nodes: &Nodes,
        params: &[&[f64]],
        f: &mut [f64],
    ) -> Result<Box<dyn Any + Send + Sync>>;
    fn vjp(
        &self,
        saved: &(dyn Any + Send + Sync),
        nodes: &Nodes,
        params: &[&[f64]],
        grad_f: &[f64],
        grads: &mut NodeGrads,
    ) -> Result<()>;
    fn jacobian(
        &self,
        nodes: &Nodes,
        params: &[&[f64]],
        s_v: f64,
        out: &mut Triplets,
    ) -> Result<()>;
    fn potential(&self, nodes: &Nodes, params: &[&[f64]], dt: f64) -> Option<f64>;
}

impl<E: Element> DynElement for E {
    fn name(&self) -> &'static str {
        Element::name(self)
    }
    fn param_names(&self) -> &'static [&'static str] {
        Element::param_names(self)
    }
    fn param_shapes(&self, n: usize, spatial: usize) -> Vec<Vec<usize>> {
        Element::param_shapes(self, n, spatial)
    }
    fn is_local(&self) -> bool {
        Element::is_local(self)
    }
    fn check(&self, n: usize, dim: usize) -> Result<()> {
        Element::check(self, n, dim)
    }
    fn check_values(
        &self,
        params: &[&Tensor],
        masses: &Tensor,
        limit: Option<&StabilityLimit>,
    ) -> Result<()> {
        Element::check_values(self, params, masses, limit)
    }
    fn force(
        &self,
        nodes: &Nodes,
        params: &[&[f64]],
        f: &mut [f64],
    ) -> Result<Box<dyn Any + Send + Sync>> {
        Ok(Box::new(Element::force(self, nodes, params, f)?))
    }
    fn vjp(
        &self,
        saved: &(dyn Any + Send + Sync),
        nodes: &Nodes,
        params: &[&[f64]],
        grad_f: &[f64],
        grads: &mut NodeGrads,
    ) -> Result<()> {
        let saved = saved
            .downcast_ref::<E::Saved>()
            .expect("the saved state comes from this element's forward");
        Element::vjp(self, saved, nodes, params, grad_f, grads)
    }
    fn jacobian(
        &self,
        nodes: &Nodes,
        params: &[&[f64]],
        s_v: f64,
        out: &mut Triplets,
    ) -> Result<()> {
        Element::jacobian(self, nodes, params, s_v, out)
    }
    fn potential(&self, nodes: &Nodes, params: &[&[f64]], dt: f64) -> Option<f64> {
        Element::potential(self, nodes, params, dt)
    }
}

/// Checks that an element got as many parameters as it declares.
pub(crate) fn check_param_count(e: &dyn DynElement, got: usize) -> Result<()> {
    let names = e.param_names();
    if names.len() == got {
        return Ok(());
    }
    Err(Error::ParamCount {
        element: e.name(),
        expected: names.len(),
        got,
        names: names.join(", "),
    })
}

/// Σᵢ aᵢ·bᵢ with four interleaved accumulators (a fixed order, so the result
/// does not depend on anything but the inputs), for adjoint reductions.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
