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
//! material and rest-shape terms). Triangles run in parallel chunks, each
//! writing its own corners' values; a per-vertex gather then sums them in
//! triangle order (the mesh's [`Incidence`](super::Incidence)), so results
//! are the same on any number of threads.
//!
//! det F ≤ 0 is [`Error::InvertedElement`] (a rollout fills in the step);
//! in backward Euler's line search it is a point outside the domain that
//! the search steps back from (the J > 0 filter).

use super::material::MaterialModel;
use super::mesh::TriMesh;
use super::triangle::{
    triangle_energy, triangle_forces, triangle_forces_vjp, triangle_stiffness, Corners,
    TriangleGrads,
};
use crate::error::{Error, Result};
use crate::physics::{Element, NodeGrads, Nodes, StabilityLimit, Triplets};
use crate::tensor::Tensor;
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Triangles per parallel chunk (fixed: the sums do not depend on it).
const CHUNK: usize = 1024;
/// From this many triangles, chunks run in parallel and gather per vertex;
/// below it, one thread scatters into the vertices in triangle order (a
/// step of a small mesh is shorter than handing work to threads). Which
/// path runs depends on the mesh alone, never on the thread count.
const PAR_MIN: usize = 8192;

/// The elastic forces of a triangle mesh under one material model (see
/// the module's doc). Usually built by
/// [`SoftBody`](super::SoftBody), which also computes its parameters.
///
/// ```
/// use maya::fem::{rectangle, Diagonal, Elastic, MaterialModel};
/// use maya::physics::Element;
/// let mesh = rectangle([0.0, 0.0], 1.0, 1.0, 1, 1, Diagonal::Right).unwrap();
/// let e = Elastic::new(MaterialModel::NeoHookean, &mesh);
/// assert_eq!(e.param_names(), &["mu", "lambda", "dm_inv", "area"]);
/// assert_eq!(e.param_shapes(4, 2)[2], vec![2, 2, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Elastic {
    model: MaterialModel,
    triangles: Arc<Vec<[usize; 3]>>,
    /// Per vertex, the slots 3·triangle + corner of its corners, sorted by
    /// triangle (`gather[offsets[v]..offsets[v + 1]]`).
    offsets: Arc<Vec<usize>>,
    gather: Arc<Vec<u32>>,
    /// Triangles from which the parallel path runs ([`PAR_MIN`]).
    par_min: usize,
    /// A per-corner buffer (`[T·3, 2]`) kept between steps: the parallel
    /// path overwrites every entry, so it is neither reallocated nor
    /// zeroed each step.
    spare: Arc<Mutex<Vec<f64>>>,
}

impl Elastic {
    /// The elastic forces of `mesh`'s triangles under `model`.
    pub fn new(model: MaterialModel, mesh: &TriMesh) -> Elastic {
        let incidence = mesh.incidence();
        let gather = incidence
            .entries
            .iter()
            .map(|&(t, c)| (3 * t + c as usize) as u32)
            .collect();
        Elastic {
            model,
            triangles: Arc::clone(mesh.triangles_arc()),
            offsets: Arc::new(incidence.offsets),
            gather: Arc::new(gather),
            par_min: PAR_MIN,
            spare: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A `[T·3, 2]` buffer whose every entry the caller overwrites: the
    /// kept one, or a new one if another call holds it.
    fn scratch(&self) -> Vec<f64> {
        let len = 6 * self.triangles.len();
        match self.spare.try_lock() {
            Ok(mut spare) if spare.len() == len => std::mem::take(&mut *spare),
            _ => vec![0.0; len],
        }
    }

    /// Keeps `buffer` for the next call.
    fn give_back(&self, buffer: Vec<f64>) {
        if let Ok(mut spare) = self.spare.try_lock() {
            *spare = buffer;
        }
    }

    /// Adds, per vertex, the sum of its corners' 2-vectors in `corners`
    /// (`[T·3, 2]`, flat) into `out` (`[V, 2]`), in triangle order.
    fn gather_into(&self, corners: &[f64], out: &mut [f64]) {
        let (pairs, _) = corners.as_chunks::<2>();
        // Vertices `first..` of a run into `out` (2 entries each).
        let run = |(k, out): (usize, &mut [f64])| {
            let (out, _) = out.as_chunks_mut::<2>();
            let first = k * CHUNK;
            for (i, o) in out.iter_mut().enumerate() {
                let v = first + i;
                let (mut x, mut y) = (0.0, 0.0);
                for &slot in &self.gather[self.offsets[v]..self.offsets[v + 1]] {
                    let p = pairs[slot as usize];
                    x += p[0];
                    y += p[1];
                }
                o[0] += x;
                o[1] += y;
            }
        };
        let n = self.offsets.len() - 1;
        let out = &mut out[..2 * n];
        if self.triangles.len() >= self.par_min {
            out.par_chunks_mut(2 * CHUNK).enumerate().for_each(run);
        } else {
            out.chunks_mut(2 * CHUNK).enumerate().for_each(run);
        }
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

/// A parameter gradient split into the slices of `chunks` triangle
/// chunks (`width` entries per triangle), or empty slices when it is not
/// needed.
fn split_grads(g: &mut [f64], need: bool, width: usize, chunks: usize) -> Vec<&mut [f64]> {
    if need {
        g.chunks_mut(width * CHUNK).collect()
    } else {
        (0..chunks).map(|_| &mut [][..]).collect()
    }
}

/// Adds triangle `e`'s parameter gradients into those that are needed.
#[inline(always)]
fn add_param_grads(tg: &TriangleGrads, e: usize, needs: &[bool], params: &mut [Vec<f64>]) {
    if needs[0] {
        params[0][e] += tg.mu;
    }
    if needs[1] {
        params[1][e] += tg.lam;
    }
    if needs[2] {
        let gb = &mut params[2][4 * e..4 * e + 4];
        gb[0] += tg.b[0][0];
        gb[1] += tg.b[0][1];
        gb[2] += tg.b[1][0];
        gb[3] += tg.b[1][1];
    }
    if needs[3] {
        params[3][e] += tg.area;
    }
}

/// One triangle's parameters: (B, A, μ, λ).
#[inline(always)]
fn triangle_params(params: &[&[f64]], e: usize) -> ([[f64; 2]; 2], f64, f64, f64) {
    let b = &params[2][4 * e..4 * e + 4];
    (
        [[b[0], b[1]], [b[2], b[3]]],
        params[3][e],
        params[0][e],
        params[1][e],
    )
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
        let vertices = self.offsets.len() - 1;
        if vertices != n {
            return Err(Error::Mesh {
                reason: format!(
                    "the mesh has {vertices} vertices, but the system has {n} particles"
                ),
            });
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
            return bad(
                "Dm⁻¹",
                (j / 4) % t.max(1),
                params[2].data[j],
                "must be finite",
            );
        }
        match limit {
            Some(limit)
                if params
                    .iter()
                    .all(|p| p.shape.len() == 1 || p.shape.len() == 3) =>
            {
                super::stability::check_elements(self.model, &self.triangles, params, masses, limit)
            }
            _ => Ok(()),
        }
    }

    fn force(&self, nodes: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<()> {
        if self.triangles.len() < self.par_min {
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
            return Ok(());
        }
        let mut per_corner = self.scratch();
        let chunk = |(k, out): (usize, &mut [f64])| -> Result<()> {
            for (i, out) in out.chunks_exact_mut(6).enumerate() {
                let e = k * CHUNK + i;
                let (b, area, mu, lam) = triangle_params(params, e);
                let x = corners(nodes.q, &self.triangles[e]);
                let fe = triangle_forces(self.model, &x, &b, area, mu, lam)
                    .map_err(|det| self.inverted(e, det))?;
                out.copy_from_slice(&[fe[0][0], fe[0][1], fe[1][0], fe[1][1], fe[2][0], fe[2][1]]);
            }
            Ok(())
        };
        if self.triangles.len() >= self.par_min {
            per_corner
                .par_chunks_mut(6 * CHUNK)
                .enumerate()
                .try_for_each(chunk)?;
        } else {
            per_corner
                .chunks_mut(6 * CHUNK)
                .enumerate()
                .try_for_each(chunk)?;
        }
        self.gather_into(&per_corner, f);
        self.give_back(per_corner);
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
        let t = self.triangles.len();
        if t < self.par_min {
            for (e, tri) in self.triangles.iter().enumerate() {
                let (b, area, mu, lam) = triangle_params(params, e);
                let x = corners(nodes.q, tri);
                let g = corners(grad_f, tri);
                let tg = triangle_forces_vjp(self.model, &x, &b, area, mu, lam, &g);
                for (c, &v) in tri.iter().enumerate() {
                    grads.q[2 * v] += tg.x[c][0];
                    grads.q[2 * v + 1] += tg.x[c][1];
                }
                add_param_grads(&tg, e, needs, grads.params);
            }
            return Ok(());
        }
        let mut per_corner = self.scratch();
        // Each chunk of triangles writes its corners and its own slots of
        // each parameter gradient (an empty slice where none is needed).
        let [g_mu, g_lam, g_b, g_area] = &mut grads.params[..4] else {
            unreachable!("four parameters")
        };
        let chunks = t.div_ceil(CHUNK);
        let split = |g, need, width| split_grads(g, need, width, chunks);
        let work: Vec<_> = per_corner
            .chunks_mut(6 * CHUNK)
            .zip(split(g_mu.as_mut_slice(), needs[0], 1))
            .zip(split(g_lam.as_mut_slice(), needs[1], 1))
            .zip(split(g_b.as_mut_slice(), needs[2], 4))
            .zip(split(g_area.as_mut_slice(), needs[3], 1))
            .enumerate()
            .collect();
        type Slots<'a> = (
            (
                ((&'a mut [f64], &'a mut [f64]), &'a mut [f64]),
                &'a mut [f64],
            ),
            &'a mut [f64],
        );
        let chunk = |(k, ((((gx, gm), gl), gb), ga)): (usize, Slots)| {
            for i in 0..gx.len() / 6 {
                let e = k * CHUNK + i;
                let tri = &self.triangles[e];
                let (b, area, mu, lam) = triangle_params(params, e);
                let x = corners(nodes.q, tri);
                let g = corners(grad_f, tri);
                let tg = triangle_forces_vjp(self.model, &x, &b, area, mu, lam, &g);
                gx[6 * i..6 * i + 6].copy_from_slice(&[
                    tg.x[0][0], tg.x[0][1], tg.x[1][0], tg.x[1][1], tg.x[2][0], tg.x[2][1],
                ]);
                if !gm.is_empty() {
                    gm[i] += tg.mu;
                }
                if !gl.is_empty() {
                    gl[i] += tg.lam;
                }
                if !gb.is_empty() {
                    let gb = &mut gb[4 * i..4 * i + 4];
                    gb[0] += tg.b[0][0];
                    gb[1] += tg.b[0][1];
                    gb[2] += tg.b[1][0];
                    gb[3] += tg.b[1][1];
                }
                if !ga.is_empty() {
                    ga[i] += tg.area;
                }
            }
        };
        if t >= self.par_min {
            work.into_par_iter().for_each(chunk);
        } else {
            work.into_iter().for_each(chunk);
        }
        self.gather_into(&per_corner, grads.q);
        self.give_back(per_corner);
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
            if j.is_nan() || j <= 0.0 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::{rectangle, rest_shape, Diagonal};

    /// The parallel path (chunks, then a per-vertex gather) against the
    /// serial scatter, on one mesh: forces and every adjoint to round-off.
    #[test]
    fn the_parallel_path_matches_the_serial_one() {
        let mesh = rectangle([0.0, 0.0], 3.0, 1.0, 48, 16, Diagonal::Alternating).unwrap();
        let (nv, nt) = (mesh.n_vertices(), mesh.n_triangles());
        let mut dm_inv = Vec::new();
        let mut area = Vec::new();
        for tri in mesh.triangles() {
            let x = [
                mesh.vertices()[tri[0]],
                mesh.vertices()[tri[1]],
                mesh.vertices()[tri[2]],
            ];
            let (b, a) = rest_shape(&x);
            dm_inv.extend([b[0][0], b[0][1], b[1][0], b[1][1]]);
            area.push(a);
        }
        let mu: Vec<f64> = (0..nt)
            .map(|e| 1e3 * (1.0 + 0.1 * (e as f64).sin()))
            .collect();
        let lam: Vec<f64> = (0..nt)
            .map(|e| 2e3 * (1.0 + 0.1 * (e as f64).cos()))
            .collect();
        let params: [&[f64]; 4] = [&mu, &lam, &dm_inv, &area];
        let q: Vec<f64> = (0..2 * nv)
            .map(|j| mesh.vertices()[j / 2][j % 2] + 0.01 * (j as f64 * 0.37).sin())
            .collect();
        let gf: Vec<f64> = (0..2 * nv).map(|j| (j as f64 * 0.11).cos()).collect();
        let mass = vec![1.0; nv];
        let nodes = Nodes {
            dim: 2,
            spatial: 2,
            q: &q,
            v: &q,
            mass: &mass,
            inertia: &[],
            first: 0,
            env: 0,
        };
        let run = |par_min: usize| {
            let mut e = Elastic::new(MaterialModel::NeoHookean, &mesh);
            e.par_min = par_min;
            let mut f = vec![0.0; 2 * nv];
            e.force(&nodes, &params, &mut f).unwrap();
            let (mut gq, mut gv, mut gm) = (vec![0.0; 2 * nv], vec![0.0; 2 * nv], vec![0.0; nv]);
            let mut gp = vec![
                vec![0.0; nt],
                vec![0.0; nt],
                vec![0.0; 4 * nt],
                vec![0.0; nt],
            ];
            let needs = [true; 4];
            let mut grads = NodeGrads {
                q: &mut gq,
                v: &mut gv,
                mass: &mut gm,
                inertia: &mut [],
                params: &mut gp,
                needs_mass: false,
                needs_params: &needs,
            };
            e.vjp(&(), &nodes, &params, &gf, &mut grads).unwrap();
            let mut all = f;
            all.extend(gq);
            all.extend(gp.into_iter().flatten());
            all
        };
        let (serial, parallel) = (run(usize::MAX), run(0));
        let scale = serial.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in serial.iter().zip(&parallel) {
            assert!((a - b).abs() <= 1e-13 * scale, "{a} vs {b}");
        }
    }
}
