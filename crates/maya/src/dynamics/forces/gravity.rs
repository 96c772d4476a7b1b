//! Gravity: F = m·g on every particle.
//!
//! Adjoint: ∂L/∂g += Σᵢ mᵢ·ḡFᵢ, ∂L/∂mᵢ += ḡFᵢ·g.

use super::{Force, Span, SpanGrads};

/// Uniform gravity: Fᵢ = mᵢ·g, with g (m/s², shape `[D]`, e.g. `[0, 0,
/// −9.81]`) a parameter of the system.
///
/// ```
/// use maya::dynamics::ParticleSystem;
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.1)
///     .with_gravity(t.var(Tensor::from_data(vec![0.0, -10.0], vec![2])));
/// let p = t.constant(Tensor::zeros(&[1, 2]));
/// let (_, v1) = sys.step(&p, &p);
/// assert_eq!(v1.value().data, vec![0.0, -1.0]);
/// ```
pub struct Gravity;

impl Force for Gravity {
    fn name(&self) -> &'static str {
        "gravity"
    }

    fn param_shapes(&self, _n: usize, d: usize) -> Vec<Vec<usize>> {
        vec![vec![d]]
    }

    fn accumulate(&self, s: &Span, params: &[&[f64]], f: &mut [f64]) {
        let g = params[0];
        dispatch_dim!(s.dim, |d| accumulate(d, g, s.m, f))
    }

    fn vjp(&self, s: &Span, params: &[&[f64]], grad_f: &[f64], g: &mut SpanGrads) {
        if !(g.needs_mass || g.needs_params[0]) {
            return; // F = m g depends on nothing else
        }
        let grav = params[0];
        let (gg, gm) = (&mut g.params[0], &mut *g.m);
        dispatch_dim!(s.dim, |d| adjoint(d, grav, s.m, grad_f, gg, gm))
    }
}

/// F_i += m_i g.
#[inline(always)]
fn accumulate(d: usize, g: &[f64], m: &[f64], f: &mut [f64]) {
    for (i, &m) in m.iter().enumerate() {
        for k in 0..d {
            f[i * d + k] += m * g[k];
        }
    }
}

/// ∂L/∂g += Σ m_i ḡF_i, ∂L/∂m_i += ḡF_i·g.
#[inline(always)]
fn adjoint(d: usize, g: &[f64], m: &[f64], grad_f: &[f64], grad_g: &mut [f64], grad_m: &mut [f64]) {
    for (i, &m) in m.iter().enumerate() {
        let mut dm = 0.0;
        for k in 0..d {
            grad_g[k] += m * grad_f[i * d + k];
            dm += grad_f[i * d + k] * g[k];
        }
        grad_m[i] += dm;
    }
}
