//! Penalty ground contact: F = k·relu(h − n·p)·n.
//!
//! With the penetration δ = h − n·p (active only for δ > 0, relu'(0) = 0)
//! and s = ḡF·n, the adjoint is ∂L/∂k += relu(δ)·s, ∂L/∂p += −k·s·n
//! where δ > 0.

use super::{Force, Span, SpanGrads};
use crate::error::{Error, Result};

/// A ground plane {x : n·x = h} pushing back penetrating particles with a
/// penalty spring: Fᵢ = k·relu(h − n·pᵢ)·n, with the stiffness k (N/m,
/// shape `[]`) a parameter of the system. n should be a unit vector.
///
/// ```
/// use maya::dynamics::{Ground, ParticleSystem};
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.01)
///     .with_ground(Ground::new(&[0.0, 1.0], 0.0), t.scalar(1e4));
/// let p = t.constant(Tensor::from_data(vec![0.0, -0.01], vec![1, 2])); // 1 cm deep
/// let v = t.constant(Tensor::zeros(&[1, 2]));
/// let (_, v1) = sys.step(&p, &v); // v' = dt·k·0.01 = 1
/// assert!((v1.value().data[1] - 1.0).abs() < 1e-12);
/// ```
pub struct Ground {
    pub(crate) normal: Vec<f64>,
    pub(crate) height: f64,
}

impl Ground {
    /// The plane n·x = h with upward normal `normal` (length D).
    pub fn new(normal: &[f64], height: f64) -> Ground {
        Ground {
            normal: normal.to_vec(),
            height,
        }
    }

    /// The plane x_{D−1} = 0 (the floor z = 0 in 3D, y = 0 in 2D).
    pub fn floor(dim: usize) -> Ground {
        let mut normal = vec![0.0; dim];
        if let Some(last) = normal.last_mut() {
            *last = 1.0;
        }
        Ground::new(&normal, 0.0)
    }

    /// h − n·p for the particle at `p[..d]`.
    #[inline(always)]
    fn depth(&self, d: usize, p: &[f64]) -> f64 {
        let n = &self.normal[..d];
        let mut np = 0.0;
        for q in 0..d {
            np += n[q] * p[q];
        }
        self.height - np
    }

    /// ∂L/∂p −= k·(ḡF·n)·n where penetrating; returns ∂L/∂k.
    #[inline(always)]
    fn adjoint(&self, d: usize, k: f64, p: &[f64], grad_f: &[f64], grad_p: &mut [f64]) -> f64 {
        let n = &self.normal[..d];
        let mut gk = [0.0; 4];
        for (i, gf) in grad_f.chunks_exact(d).enumerate() {
            let depth = self.depth(d, &p[i * d..(i + 1) * d]);
            if depth > 0.0 {
                let mut sn = 0.0;
                for q in 0..d {
                    sn += gf[q] * n[q];
                }
                gk[i % 4] += depth * sn;
                for q in 0..d {
                    grad_p[i * d + q] -= k * sn * n[q];
                }
            }
        }
        (gk[0] + gk[1]) + (gk[2] + gk[3])
    }

    /// F += k·relu(h − n·p)·n for every particle.
    #[inline(always)]
    fn push(&self, d: usize, k: f64, p: &[f64], f: &mut [f64]) {
        let n = &self.normal[..d];
        for (i, fi) in f.chunks_exact_mut(d).enumerate() {
            let depth = self.depth(d, &p[i * d..(i + 1) * d]);
            // Branch-free: a particle above the plane gets k·0·n = 0.
            let push = k * depth.max(0.0);
            for q in 0..d {
                fi[q] += push * n[q];
            }
        }
    }
}

impl Force for Ground {
    fn name(&self) -> &'static str {
        "ground"
    }

    fn param_shapes(&self, _n: usize, _d: usize) -> Vec<Vec<usize>> {
        vec![vec![]]
    }

    fn check(&self, _n: usize, d: usize) -> Result<()> {
        if self.normal.len() != d {
            return Err(Error::Shape {
                op: "ground",
                lhs: vec![d],
                rhs: vec![self.normal.len()],
                hint: "the ground normal needs one component per spatial dimension",
            });
        }
        Ok(())
    }

    fn accumulate(&self, s: &Span, params: &[&[f64]], f: &mut [f64]) {
        let k = params[0][0];
        dispatch_dim!(s.dim, |d| self.push(d, k, s.p, f))
    }

    fn vjp(&self, s: &Span, params: &[&[f64]], grad_f: &[f64], g: &mut SpanGrads) {
        let k = params[0][0];
        let gk = dispatch_dim!(s.dim, |d| self.adjoint(d, k, s.p, grad_f, g.p));
        g.params[0][0] += gk;
    }
}
