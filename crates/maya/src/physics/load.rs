//! [`NodalLoad`]: a given force on every node, held over the step —
//! external loads on particles and mesh vertices, wrenches (fx, fy, τ) on
//! rigid bodies. F += W; adjoint ∂L/∂W += ḡF. Conservative (potential
//! −W·q, no Jacobian), so it also steps under backward Euler.

use super::element::{Element, NodeGrads, Nodes, Triplets};
use crate::error::Result;

/// A given force on each node: parameter `[N, D]` (D coordinates per
/// node: the spatial ones for particles, (fx, fy, τ) for rigid bodies).
///
/// ```
/// use maya::dynamics::ParticleSystem;
/// use maya::physics::NodalLoad;
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let load = t.var(Tensor::from_data(vec![2.0, 0.0], vec![1, 2])); // 2 N along x
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.1)
///     .with_force(NodalLoad::particles(), &[load]);
/// let zero = t.constant(Tensor::zeros(&[1, 2]));
/// let (x, _) = sys.rollout_final(&zero, &zero, 10).unwrap();
/// // Semi-implicit Euler: x_T = dt²·T(T+1)/2·F/m = 1.1 m, ∂x_T/∂F = 0.55.
/// assert!((x.value().data[0] - 1.1).abs() < 1e-12);
/// assert!((t.grad(x.at(&[0, 0])).wrt(&load).data[0] - 0.55).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NodalLoad {
    /// Whether the nodes are rigid bodies, with one more coordinate (the
    /// angle, loaded by a torque) than their spatial dimension.
    rigid: bool,
}

impl NodalLoad {
    /// A load on particles or mesh vertices: `[N, D]`.
    pub fn particles() -> NodalLoad {
        NodalLoad { rigid: false }
    }

    /// A wrench (fx, fy, τ) on 2D rigid bodies: `[N, 3]`.
    pub fn rigid() -> NodalLoad {
        NodalLoad { rigid: true }
    }
}

impl Element for NodalLoad {
    type Saved = ();

    fn name(&self) -> &'static str {
        if self.rigid {
            "wrench"
        } else {
            "load"
        }
    }

    fn param_names(&self) -> &'static [&'static str] {
        if self.rigid {
            &["wrench"]
        } else {
            &["load"]
        }
    }

    fn param_shapes(&self, n: usize, spatial: usize) -> Vec<Vec<usize>> {
        vec![vec![n, spatial + self.rigid as usize]]
    }

    fn force(&self, _s: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<()> {
        for (f, w) in f.iter_mut().zip(params[0]) {
            *f += w;
        }
        Ok(())
    }

    fn vjp(
        &self,
        _: &(),
        _s: &Nodes,
        _p: &[&[f64]],
        grad_f: &[f64],
        g: &mut NodeGrads,
    ) -> Result<()> {
        if g.needs_params[0] {
            for (acc, gf) in g.params[0].iter_mut().zip(grad_f) {
                *acc += gf;
            }
        }
        Ok(())
    }

    /// A given force does not depend on the state: no entries.
    fn jacobian(&self, _: &Nodes, _: &[&[f64]], _s_v: f64, _out: &mut Triplets) -> Result<()> {
        Ok(())
    }

    /// −W·q.
    fn potential(&self, nodes: &Nodes, params: &[&[f64]], _dt: f64) -> Option<f64> {
        Some(-super::dot(nodes.q, params[0]))
    }
}
