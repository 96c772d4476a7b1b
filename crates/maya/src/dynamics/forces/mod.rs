//! Forces on particles, composable in a
//! [`ParticleSystem`](crate::dynamics::ParticleSystem).
//!
//! A force is a tape-free description (the [`Force`] trait: its forward and
//! its adjoint over raw slices) plus its parameters, which are tape values
//! passed to the fused particle step as inputs. The step kernel sums every
//! force of a system into one buffer and integrates, so a whole step is one
//! tape node however many forces act.
//!
//! | force | F on particle i | parameters (per environment) |
//! |---|---|---|
//! | [`Gravity`] | mᵢ·g | g: `[D]` |
//! | [`Drag`] | −c·vᵢ | c: `[]` |
//! | [`Ground`] | k·relu(h − n·pᵢ)·n | k: `[]` |
//! | [`SpringNetwork`](crate::dynamics::SpringNetwork) | Σ over springs | k, L (, damping): `[S]` |
//!
//! Each parameter may also carry a leading batch axis `[B, …]`, one value
//! per environment, when the state is batched `[B, N, D]`.

mod drag;
mod gravity;
mod ground;

pub use drag::Drag;
pub use gravity::Gravity;
pub use ground::Ground;

use crate::error::Result;
use std::any::Any;

/// The particles a force acts on: a run of consecutive particles of one
/// environment (all of them for a non-local force).
pub struct Span<'a> {
    /// Spatial dimension D.
    pub dim: usize,
    /// Positions, `len × D` row-major.
    pub p: &'a [f64],
    /// Velocities, `len × D`.
    pub v: &'a [f64],
    /// Masses, `len`.
    pub m: &'a [f64],
}

impl Span<'_> {
    /// Number of particles.
    pub fn len(&self) -> usize {
        self.m.len()
    }

    /// Whether the span holds no particle.
    pub fn is_empty(&self) -> bool {
        self.m.is_empty()
    }
}

/// Gradients a force's adjoint accumulates into, for one [`Span`].
pub struct SpanGrads<'a> {
    /// ∂L/∂p, `len × D`.
    pub p: &'a mut [f64],
    /// ∂L/∂v, `len × D`.
    pub v: &'a mut [f64],
    /// ∂L/∂m, `len`.
    pub m: &'a mut [f64],
    /// ∂L/∂(each parameter), at the parameter's per-environment shape.
    pub params: &'a mut [Vec<f64>],
    /// Whether the masses need their gradient (a force may skip `m`).
    pub needs_mass: bool,
    /// Whether each parameter needs its gradient (a force may skip it).
    pub needs_params: &'a [bool],
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

/// A force on particles: its forward (accumulate F) and adjoint over raw
/// slices, for one environment.
///
/// Implement it to add a force; the particle step kernel handles shapes,
/// batching, threads and the tape. The adjoint **accumulates**, like
/// [`Kernel::vjp`](crate::Kernel::vjp).
///
/// ```
/// use maya::dynamics::{Force, Span, SpanGrads};
/// /// A linear spring to the origin: F = −κ p.
/// struct Tether;
/// impl Force for Tether {
///     fn name(&self) -> &'static str { "tether" }
///     fn param_shapes(&self, _n: usize, _d: usize) -> Vec<Vec<usize>> { vec![vec![]] }
///     fn accumulate(&self, s: &Span, params: &[&[f64]], f: &mut [f64]) {
///         for (f, p) in f.iter_mut().zip(s.p) { *f -= params[0][0] * p; }
///     }
///     fn vjp(&self, s: &Span, params: &[&[f64]], grad_f: &[f64], g: &mut SpanGrads) {
///         for i in 0..grad_f.len() {
///             g.p[i] -= params[0][0] * grad_f[i];
///             g.params[0][0] -= grad_f[i] * s.p[i];
///         }
///     }
/// }
/// ```
pub trait Force: Any + Send + Sync {
    /// The force's name, for error messages.
    fn name(&self) -> &'static str;

    /// The shape of each parameter for one environment of `n` particles in
    /// `d` dimensions (the step also accepts `[B, …]` for B environments).
    fn param_shapes(&self, n: usize, d: usize) -> Vec<Vec<usize>>;

    /// Whether the force on a particle depends on that particle only; the
    /// step then splits particles into chunks across threads. Default: yes.
    fn is_local(&self) -> bool {
        true
    }

    /// Checks the force against a system of `n` particles in `d` dimensions
    /// (indices in range, vector lengths). Default: nothing to check.
    fn check(&self, n: usize, d: usize) -> Result<()> {
        let _ = (n, d);
        Ok(())
    }

    /// Adds the force on each particle of the span into `f` (`len × D`).
    fn accumulate(&self, span: &Span, params: &[&[f64]], f: &mut [f64]);

    /// Adds the adjoint: given `grad_f` = ∂L/∂F (`len × D`), adds
    /// (∂F/∂·)ᵀ·grad_f into the state, mass and parameter gradients.
    fn vjp(&self, span: &Span, params: &[&[f64]], grad_f: &[f64], grads: &mut SpanGrads);
}
