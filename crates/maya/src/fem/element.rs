//! [`Elastic`]: the elastic forces of a triangle mesh as one
//! [`Element`] of the physics pipeline, so a soft body is stepped by the
//! one step kernel, under every scheme (explicit, and backward Euler
//! through [`Element::jacobian`] and [`Element::potential`]).
//!
//! Parameters, per environment: μ `[T]`, λ `[T]` (Lamé, Pa), B = Dm⁻¹
//! `[T, 2, 2]` and the rest areas `[T]` — the outputs of
//! [`rest_geometry`](super::rest_geometry), so gradients reach the rest
//! shape. Forward, per triangle: F = Ds·B and the corner forces
//! f = −∂(Aψ)/∂x ([`triangle_forces`]); adjoint: the same triangle's
//! [`triangle_forces_vjp`] (a Hessian–vector product in x, and the
//! material and rest-shape terms), scattered back in triangle order, so
//! results do not depend on threads.
//!
//! det F ≤ 0 is [`Error::InvertedElement`] (a rollout fills in the step);
//! in backward Euler's line search it is a point outside the domain that
//! the search steps back from (the J > 0 filter).

use super::material::MaterialModel;
use super::triangle::{
    triangle_energy, triangle_forces, triangle_forces_vjp, triangle_stiffness, Corners,
};
use crate::error::{Error, Result};
use crate::physics::{Element, NodeGrads, Nodes, StabilityLimit, Triplets};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The elastic forces of a triangle mesh under one material model (see
/// the module's doc). Usually built by
/// [`SoftBody`](super::SoftBody), which also computes its parameters.
///
/// ```
/// use maya::fem::{Elastic, MaterialModel};
/// use maya::physics::Element;
/// use std::sync::Arc;
/// let e = Elastic::new(MaterialModel::NeoHookean, Arc::new(vec![[0, 1, 2]]));
/// assert_eq!(e.param_names(), &["mu", "lambda", "dm_inv", "area"]);
/// assert_eq!(e.param_shapes(3, 2)[2], vec![1, 2, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Elastic {
    model: MaterialModel,
    triangles: Arc<Vec<[usize; 3]>>,
}

impl Elastic {
    /// The elastic forces of `triangles` (vertex indices,
    /// counter-clockwise in the rest shape) under `model`.
    pub fn new(model: MaterialModel, triangles: Arc<Vec<[usize; 3]>>) -> Elastic {
        Elastic { model, triangles }
    }

    /// The material model.
    pub fn model(&self) -> MaterialModel {
        self.model
    }

    /// The triangles.
    pub fn triangles(&self) -> &[[usize; 3]] {
        &self.triangles
    }

    fn inverted(&self, e: usize, det: f64) -> Error {
        Error::InvertedElement {
            element: e,
            corners: self.triangles[e],
            step: None,
            det,
        }
    }
}

/// One triangle's parameters: (B, A, μ, λ).
#[inline(always)]
fn triangle_params(params: &[&[f64]], e: usize) -> ([[f64; 2]; 2], f64, f64, f64) {
    let b = &params[2][4 * e..4 * e + 4];
    ([[b[0], b[1]], [b[2], b[3]]], params[3][e], params[0][e], params[1][e])
}

/// The corners of triangle `tri` in the flat `[N, 2]` array `q`.
#[inline(always)]
fn corners(q: &[f64], tri: &[usize; 3]) -> Corners {
    let p = |v: usize| [q[2 * v], q[2 * v + 1]];
    [p(tri[0]), p(tri[1]), p(tri[2])]
}

impl Element for Elastic {
    type Saved = ();

    fn name(&self) -> &'static str {
        match self.model {
            MaterialModel::LinearElastic => "elastic (linear)",
            MaterialModel::StVenantKirchhoff => "elastic (St. Venant–Kirchhoff)",
            MaterialModel::Corotated => "elastic (corotated)",
            MaterialModel::NeoHookean => "elastic (Neo-Hookean)",
        }
    }

    fn param_names(&self) -> &'static [&'static str] {
        &["mu", "lambda", "dm_inv", "area"]
    }

    fn param_shapes(&self, _n: usize, _spatial: usize) -> Vec<Vec<usize>> {
        let t = self.triangles.len();
        vec![vec![t], vec![t], vec![t, 2, 2], vec![t]]
    }

    fn check(&self, n: usize, dim: usize) -> Result<()> {
        if dim != 2 {
            return Err(Error::Shape {
                op: "elastic",
                lhs: vec![n, dim],
                rhs: vec![n, 2],
                hint: "a triangle mesh's vertices have 2 coordinates",
            });
        }
        for (e, tri) in self.triangles.iter().enumerate() {
            if let Some(&v) = tri.iter().find(|&&v| v >= n) {
                return Err(Error::Mesh {
                    reason: format!(
                        "triangle {e} has corner {v}, but the system has {n} vertices"
                    ),
                });
            }
        }
        Ok(())
    }

    fn check_values(
        &self,
        params: &[&Tensor],
        masses: &Tensor,
        limit: Option<&StabilityLimit>,
    ) -> Result<()> {
        let t = self.triangles.len();
        let bad = |what: &str, e: usize, value: f64, reason: &'static str| {
            Err(Error::ParameterValue {
                name: format!("{what} of element {e}"),
                value,
                reason,
            })
        };
        let (mu, lam, area) = (&params[0].data, &params[1].data, &params[3].data);
        for j in 0..mu.len().min(lam.len()) {
            let e = j % t.max(1);
            if !(mu[j].is_finite() && mu[j] > 0.0) {
                return bad("μ", e, mu[j], "the shear modulus must be finite and > 0");
            }
            if !(lam[j].is_finite() && lam[j] + mu[j] > 0.0) {
                return bad(
                    "λ",
                    e,
                    lam[j],
                    "λ must be finite with λ + μ > 0 (a positive 2D bulk modulus)",
                );
            }
        }
        if let Some(j) = area.iter().position(|a| !(a.is_finite() && *a > 0.0)) {
            return bad("rest area", j % t.max(1), area[j], "must be finite and > 0");
        }
        if let Some(j) = params[2].data.iter().position(|b| !b.is_finite()) {
            return bad("Dm⁻¹", (j / 4) % t.max(1), params[2].data[j], "must be finite");
        }
        match limit {
            Some(limit) if params.iter().all(|p| p.shape.len() == 1 || p.shape.len() == 3) => {
                super::stability::check_elements(self, params, masses, limit)
            }
            _ => Ok(()),
        }
    }

    fn force(&self, nodes: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<()> {
        for (e, tri) in self.triangles.iter().enumerate() {
            let (b, area, mu, lam) = triangle_params(params, e);
            let x = corners(nodes.q, tri);
            let fe = triangle_forces(self.model, &x, &b, area, mu, lam)
                .map_err(|det| self.inverted(e, det))?;
            for (c, &v) in tri.iter().enumerate() {
                f[2 * v] += fe[c][0];
                f[2 * v + 1] += fe[c][1];
            }
        }
        Ok(())
    }

    fn vjp(
        &self,
        _saved: &(),
        nodes: &Nodes,
        params: &[&[f64]],
        grad_f: &[f64],
        grads: &mut NodeGrads,
    ) -> Result<()> {
        let needs = grads.needs_params;
        for (e, tri) in self.triangles.iter().enumerate() {
            let (b, area, mu, lam) = triangle_params(params, e);
            let x = corners(nodes.q, tri);
            let g = corners(grad_f, tri);
            let tg = triangle_forces_vjp(self.model, &x, &b, area, mu, lam, &g);
            for (c, &v) in tri.iter().enumerate() {
                grads.q[2 * v] += tg.x[c][0];
                grads.q[2 * v + 1] += tg.x[c][1];
            }
            if needs[0] {
                grads.params[0][e] += tg.mu;
            }
            if needs[1] {
                grads.params[1][e] += tg.lam;
            }
            if needs[2] {
                let gb = &mut grads.params[2][4 * e..4 * e + 4];
                gb[0] += tg.b[0][0];
                gb[1] += tg.b[0][1];
                gb[2] += tg.b[1][0];
                gb[3] += tg.b[1][1];
            }
            if needs[3] {
                grads.params[3][e] += tg.area;
            }
        }
        Ok(())
    }

    /// K = −∂f/∂x per triangle (the true stiffness; the force does not
    /// depend on velocities).
    fn jacobian(
        &self,
        nodes: &Nodes,
        params: &[&[f64]],
        _s_v: f64,
        out: &mut Triplets,
    ) -> Result<()> {
        for (e, tri) in self.triangles.iter().enumerate() {
            let (b, area, mu, lam) = triangle_params(params, e);
            let x = corners(nodes.q, tri);
            let det = super::triangle::deformation_gradient(&x, &b);
            let j = det[0][0] * det[1][1] - det[0][1] * det[1][0];
            if !(j > 0.0) {
                return Err(self.inverted(e, j));
            }
            let k = triangle_stiffness(self.model, &x, &b, area, mu, lam);
            for (r, row) in k.iter().enumerate() {
                for (c, &value) in row.iter().enumerate() {
                    out.push(2 * tri[r / 2] + r % 2, 2 * tri[c / 2] + c % 2, value);
                }
            }
        }
        Ok(())
    }

    /// Σ A·ψ(F); +∞ when an element is inverted, so that a line search
    /// steps back (the J > 0 filter).
    fn potential(&self, nodes: &Nodes, params: &[&[f64]], _dt: f64) -> Option<f64> {
        let mut energy = 0.0;
        for (e, tri) in self.triangles.iter().enumerate() {
            let (b, area, mu, lam) = triangle_params(params, e);
            let x = corners(nodes.q, tri);
            match triangle_energy(self.model, &x, &b, area, mu, lam) {
                Ok(u) => energy += u,
                Err(_) => return Some(f64::INFINITY),
            }
        }
        Some(energy)
    }
}
