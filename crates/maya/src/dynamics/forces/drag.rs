//! Linear drag: F = −c·v.
//!
//! Adjoint: ∂L/∂v += −c·ḡF, ∂L/∂c += −Σᵢ ḡFᵢ·vᵢ.

use super::{dot, Force, Span, SpanGrads};

/// Linear (viscous) drag Fᵢ = −c·vᵢ, with c (kg/s, shape `[]`) a parameter of
/// the system.
///
/// ```
/// use maya::dynamics::ParticleSystem;
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.1).with_drag(t.scalar(2.0));
/// let p = t.constant(Tensor::zeros(&[1, 2]));
/// let v = t.var(Tensor::from_data(vec![1.0, -1.0], vec![1, 2]));
/// let (_, v1) = sys.step(&p, &v); // v' = v − dt·c·v = 0.8 v
/// assert!((v1.value().data[0] - 0.8).abs() < 1e-15);
/// ```
pub struct Drag;

impl Force for Drag {
    fn name(&self) -> &'static str {
        "drag"
    }

    fn param_shapes(&self, _n: usize, _d: usize) -> Vec<Vec<usize>> {
        vec![vec![]]
    }

    fn accumulate(&self, s: &Span, params: &[&[f64]], f: &mut [f64]) {
        let c = params[0][0];
        for (f, v) in f.iter_mut().zip(s.v) {
            *f -= c * v;
        }
    }

    fn vjp(&self, s: &Span, params: &[&[f64]], grad_f: &[f64], g: &mut SpanGrads) {
        let c = params[0][0];
        for (gv, gf) in g.v.iter_mut().zip(grad_f) {
            *gv -= c * gf;
        }
        if g.needs_params[0] {
            g.params[0][0] -= dot(grad_f, s.v);
        }
    }
}
