//! Shapes of a step's inputs, resolved once per call: environments, nodes,
//! coordinates, masses and the parameters of every element; and the split
//! of the nodes into chunks for threads.

use super::element::{DynElement, Nodes};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How the mass acts on a node's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MassModel {
    /// A point mass: every coordinate has the node's mass m (particles,
    /// mesh vertices). Inputs `[q, v, m, params…]`.
    Particle,
    /// A 2D rigid body (x, y, θ): mass m on x and y, moment of inertia I on
    /// θ. Inputs `[q, v, m, I, params…]`.
    Rigid,
}

impl MassModel {
    /// The step's name in error messages.
    pub(crate) fn op_name(self) -> &'static str {
        match self {
            MassModel::Particle => "particle_step",
            MassModel::Rigid => "rigid_step",
        }
    }

    /// Index of the first parameter among a step's inputs.
    pub(crate) fn first_param(self) -> usize {
        match self {
            MassModel::Particle => 3,
            MassModel::Rigid => 4,
        }
    }
}

/// Errors with [`Error::Parameter`] for a mass (or inertia) that is not
/// positive and finite.
pub(crate) fn check_masses(name: &'static str, m: &Tensor) -> Result<()> {
    match m.data.iter().find(|&&x| !(x > 0.0 && x.is_finite())) {
        Some(&bad) => Err(Error::Parameter {
            name,
            value: bad,
            reason: "masses and inertias must be positive and finite",
        }),
        None => Ok(()),
    }
}

/// Shapes of one step's inputs, resolved.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub batch: usize,
    pub n: usize,
    pub dim: usize,
    pub spatial: usize,
    pub model: MassModel,
    pub mass_batched: bool,
    /// Per parameter (all elements, in input order): its per-environment
    /// length and whether it carries a batch axis.
    pub params: Vec<(usize, bool)>,
}

/// A run of consecutive nodes of one environment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chunk {
    pub b: usize,
    pub lo: usize,
    pub hi: usize,
}

impl Layout {
    /// Resolves and checks the shapes of `inputs` for `elements`, each with
    /// the parameters it declares (`shapes_of` yields them in input order).
    pub(crate) fn new(
        op: &'static str,
        model: MassModel,
        inputs: &[&Tensor],
        param_shapes: &dyn Fn(usize, usize) -> Vec<(&'static str, Vec<usize>)>,
        elements: &[&dyn DynElement],
    ) -> Result<Layout> {
        let (q, v, m) = (inputs[0], inputs[1], inputs[2]);
        if q.shape != v.shape {
            return Err(Error::Shape {
                op,
                lhs: q.shape.clone(),
                rhs: v.shape.clone(),
                hint: "positions and velocities must have the same shape, [N, D] or [B, N, D]",
            });
        }
        let (batch, n, dim, batched) = match q.shape[..] {
            [n, d] => (1, n, d, false),
            [b, n, d] => (b, n, d, true),
            _ => {
                return Err(Error::Shape {
                    op,
                    lhs: q.shape.clone(),
                    rhs: v.shape.clone(),
                    hint: "positions and velocities must have shape [N, D] or [B, N, D]",
                })
            }
        };
        let spatial = match model {
            MassModel::Particle => dim,
            MassModel::Rigid if dim == 3 => 2,
            MassModel::Rigid => {
                return Err(Error::Shape {
                    op,
                    lhs: q.shape.clone(),
                    rhs: vec![n, 3],
                    hint: "a 2D rigid body has 3 coordinates (x, y, θ) per body",
                })
            }
        };
        let mass_batched = batched && m.shape == [batch, n];
        let masses: &[&Tensor] = match model {
            MassModel::Particle => &inputs[2..3],
            MassModel::Rigid => &inputs[2..4],
        };
        for x in masses {
            if x.shape != [n] && !(batched && x.shape == [batch, n]) || x.shape != m.shape {
                return Err(Error::Shape {
                    op,
                    lhs: q.shape.clone(),
                    rhs: x.shape.clone(),
                    hint: "masses (and inertias) must have shape [N] (or [B, N]) for positions [N, D] (or [B, N, D])",
                });
            }
        }
        for e in elements {
            e.check(n, dim)?;
        }
        let mut params = Vec::new();
        let first = model.first_param();
        for (k, (name, shape)) in param_shapes(n, spatial).into_iter().enumerate() {
            let x = inputs[first + k];
            let len: usize = shape.iter().product();
            let mut with_batch = vec![batch];
            with_batch.extend_from_slice(&shape);
            if x.shape == shape {
                params.push((len, false));
            } else if batched && x.shape == with_batch {
                params.push((len, true));
            } else {
                return Err(Error::Shape {
                    op: name,
                    lhs: shape,
                    rhs: x.shape.clone(),
                    hint: "an element's parameter has its per-environment shape, or [B, ...] for B environments",
                });
            }
        }
        Ok(Layout {
            batch,
            n,
            dim,
            spatial,
            model,
            mass_batched,
            params,
        })
    }

    /// The chunks of a step: fixed runs of `chunk` nodes when every force
    /// is local (so sums do not depend on the thread count), else one
    /// chunk per environment.
    pub(crate) fn chunks(&self, local: bool, chunk: usize) -> Vec<Chunk> {
        let step = if local { chunk } else { self.n.max(1) };
        let mut out = Vec::new();
        for b in 0..self.batch {
            let mut lo = 0;
            while lo < self.n {
                let hi = (lo + step).min(self.n);
                out.push(Chunk { b, lo, hi });
                lo = hi;
            }
        }
        out
    }

    /// Range of the chunk's coordinates in a `[B, N, D]` array.
    pub(crate) fn coords(&self, c: Chunk) -> std::ops::Range<usize> {
        (c.b * self.n + c.lo) * self.dim..(c.b * self.n + c.hi) * self.dim
    }

    /// Range of the chunk's nodes in an array shaped like the masses.
    pub(crate) fn node_range(&self, c: Chunk) -> std::ops::Range<usize> {
        let o = if self.mass_batched { c.b * self.n } else { 0 };
        o + c.lo..o + c.hi
    }

    /// The parameters of environment `b`, in input order.
    pub(crate) fn env_params<'a>(&self, inputs: &[&'a Tensor], b: usize) -> Vec<&'a [f64]> {
        let first = self.model.first_param();
        self.params
            .iter()
            .enumerate()
            .map(|(j, &(len, batched))| {
                let x = &inputs[first + j].data;
                if batched {
                    &x[b * len..(b + 1) * len]
                } else {
                    &x[..]
                }
            })
            .collect()
    }

    /// The nodes of a chunk at state (q, v) (full `[B, N, D]` arrays).
    pub(crate) fn nodes<'a>(
        &self,
        inputs: &[&'a Tensor],
        q: &'a [f64],
        v: &'a [f64],
        c: Chunk,
    ) -> Nodes<'a> {
        let r = self.node_range(c);
        let inertia: &[f64] = match self.model {
            MassModel::Particle => &[],
            MassModel::Rigid => &inputs[3].data[r.clone()],
        };
        Nodes {
            dim: self.dim,
            spatial: self.spatial,
            q,
            v,
            mass: &inputs[2].data[r],
            inertia,
            first: c.lo,
            env: c.b,
        }
    }

    /// Zeroed per-chunk parameter gradient buffers.
    pub(crate) fn param_grads(&self) -> Vec<Vec<f64>> {
        self.params.iter().map(|&(len, _)| vec![0.0; len]).collect()
    }
}

/// Per-chunk gradients of the masses, inertias and parameters, summed into
/// the step's input gradients in chunk order after a parallel adjoint.
pub(crate) struct ChunkGrads {
    pub mass: Vec<f64>,
    pub inertia: Vec<f64>,
    pub params: Vec<Vec<f64>>,
}

impl ChunkGrads {
    /// Zeroed buffers for the chunk `c`; without `with_mass` the mass
    /// buffer is empty (nothing may write it: no element acts and the
    /// masses need no gradient).
    pub(crate) fn new(lay: &Layout, c: Chunk, with_mass: bool) -> ChunkGrads {
        let len = c.hi - c.lo;
        ChunkGrads {
            mass: if with_mass {
                vec![0.0; len]
            } else {
                Vec::new()
            },
            inertia: if lay.model == MassModel::Rigid {
                vec![0.0; len]
            } else {
                Vec::new()
            },
            params: lay.param_grads(),
        }
    }

    /// Adds the chunk's gradients into the step's input gradients
    /// (`grads[2..]`: mass, (inertia,) parameters).
    pub(crate) fn add_into(&self, lay: &Layout, c: Chunk, grads: &mut [&mut Tensor]) {
        let r = lay.node_range(c);
        for (a, g) in grads[2].data[r.clone()].iter_mut().zip(&self.mass) {
            *a += g;
        }
        if lay.model == MassModel::Rigid {
            for (a, g) in grads[3].data[r].iter_mut().zip(&self.inertia) {
                *a += g;
            }
        }
        let first = lay.model.first_param();
        for (j, (g, &(len, batched))) in self.params.iter().zip(&lay.params).enumerate() {
            let off = if batched { c.b * len } else { 0 };
            for (a, g) in grads[first + j].data[off..off + len].iter_mut().zip(g) {
                *a += g;
            }
        }
    }
}

/// Whether every entry is finite: x·0 is 0 for finite x and NaN otherwise;
/// four accumulators keep the pass vectorisable.
pub(crate) fn all_finite(x: &Tensor) -> bool {
    let mut acc = [0.0f64; 4];
    let chunks = x.data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            acc[k] += c[k] * 0.0;
        }
    }
    let t: f64 = tail.iter().map(|v| v * 0.0).sum();
    (acc[0] + acc[1] + acc[2] + acc[3] + t) == 0.0
}

/// [`Error::NonFinite`] if q or v has a non-finite entry, naming the first
/// such node (and environment) and the step.
pub(crate) fn check_state(q: &Tensor, v: &Tensor, model: MassModel, step: usize) -> Result<()> {
    for (x, what) in [(q, "position"), (v, "velocity")] {
        if all_finite(x) {
            continue;
        }
        let d = *x.shape.last().unwrap_or(&1);
        let first = x.data.iter().position(|v| !v.is_finite()).unwrap_or(0);
        let node = first / d.max(1);
        let what = match (model, &x.shape[..]) {
            (MassModel::Rigid, _) => format!("state of body {node}"),
            (_, [_, n, _]) => format!(
                "{what} of particle {} in environment {}",
                node % n,
                node / n
            ),
            _ => format!("{what} of particle {node}"),
        };
        return Err(Error::NonFinite { what, step });
    }
    Ok(())
}
