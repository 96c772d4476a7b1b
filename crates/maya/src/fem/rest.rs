//! The rest geometry of a triangle mesh as one differentiable tape node:
//! B = Dm⁻¹, the rest areas A and the lumped masses, from the rest positions
//! X and the densities, with its hand-written adjoint.
//!
//! Per triangle, Dm = [X₁ − X₀, X₂ − X₀], A = det Dm / 2 and B = Dm⁻¹; per
//! vertex, m_v = Σ over the triangles holding v of ρ_e A_e / 3. The adjoint
//! uses dB = −B dDm B and dA = A tr(B dDm):
//!
//! Dm̄ = −Bᵀ B̄ Bᵀ + Ā A Bᵀ, with Ā_e = ā_e + ρ_e/3 Σ_{v ∈ e} m̄_v and
//! ρ̄_e = A_e/3 Σ_{v ∈ e} m̄_v; then X̄₁ += `Dm̄[:,0]`, X̄₂ += `Dm̄[:,1]`,
//! X̄₀ −= both ([`rest_shape_vjp`]).

use super::mat2::{self, Mat2};
use super::triangle::Corners;
use crate::error::{Error, OrPanic, Result};
use crate::tape::{Kernel, TVar};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The smallest rest area accepted, relative to the square of the mesh's
/// longest rest edge: A > `MIN_AREA_RATIO` · ℓ_max².
pub const MIN_AREA_RATIO: f64 = 1e-12;

/// The rest geometry of a triangle mesh as tape values, a differentiable
/// function of the rest positions (and of the densities, through the mass).
///
/// ```
/// use maya::fem::rest_geometry;
/// use maya::{Tensor, TensorTape};
/// use std::sync::Arc;
/// let t = TensorTape::new();
/// // The unit square, split along its diagonal (0, 2).
/// let x = t.var(Tensor::from_data(vec![0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], vec![4, 2]));
/// let density = t.var(Tensor::from_data(vec![3.0, 3.0], vec![2]));
/// let rest = rest_geometry(&Arc::new(vec![[0, 1, 2], [0, 2, 3]]), &x, &density);
/// assert_eq!(rest.area.value().data, vec![0.5, 0.5]);
/// // Vertices 0 and 2 touch both triangles: m = 2 · 3 · 0.5 / 3.
/// assert_eq!(rest.mass.value().data, vec![1.0, 0.5, 1.0, 0.5]);
/// assert_eq!(rest.dm_inv.shape(), vec![2, 2, 2]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RestGeometry<'t> {
    /// B = Dm⁻¹ per triangle, [T, 2, 2] (Dm = [X1 − X0, X2 − X0]).
    pub dm_inv: TVar<'t>,
    /// Rest area per triangle, `[T]` (det Dm / 2).
    pub area: TVar<'t>,
    /// Lumped mass per vertex, `[V]`: m_v = Σ over triangles holding v of
    /// ρ_e A_e / 3 (0 for a vertex in no triangle).
    pub mass: TVar<'t>,
}

/// Dm = [X₁ − X₀, X₂ − X₀] of one rest triangle.
#[inline(always)]
fn rest_edge_matrix(x: &Corners) -> Mat2 {
    [
        [x[1][0] - x[0][0], x[2][0] - x[0][0]],
        [x[1][1] - x[0][1], x[2][1] - x[0][1]],
    ]
}

/// (B = Dm⁻¹, A = det Dm / 2) of one rest triangle; A ≤ 0 for a clockwise
/// or flat one (then B is not finite).
///
/// ```
/// use maya::fem::rest_shape;
/// let (b, area) = rest_shape(&[[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]]);
/// assert_eq!((b, area), ([[0.5, 0.0], [0.0, 0.25]], 4.0));
/// ```
#[inline]
pub fn rest_shape(x: &Corners) -> (Mat2, f64) {
    let dm = rest_edge_matrix(x);
    (mat2::inverse(&dm), 0.5 * mat2::det(&dm))
}

/// The adjoint of [`rest_shape`]: given B̄ = ∂L/∂B and Ā = ∂L/∂A of one
/// triangle, its rest corners' gradients ∂L/∂X (they sum to zero).
///
/// ```
/// use maya::fem::{rest_shape, rest_shape_vjp};
/// // ∂A/∂X: moving the apex (0, 1) of the unit right triangle up by h adds h/2.
/// let x = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
/// let (b, area) = rest_shape(&x);
/// let g = rest_shape_vjp(&b, area, &[[0.0; 2]; 2], 1.0);
/// assert!((g[2][1] - 0.5).abs() < 1e-15 && g[2][0].abs() < 1e-15);
/// ```
#[inline]
pub fn rest_shape_vjp(b: &Mat2, area: f64, grad_b: &Mat2, grad_area: f64) -> Corners {
    // Dm̄ = −Bᵀ B̄ Bᵀ + Ā A Bᵀ.
    let through_b = mat2::mul_bt(&mat2::mul_at(b, grad_b), b);
    let dm_bar = mat2::combine(-1.0, &through_b, grad_area * area, &mat2::transpose(b));
    [
        [-dm_bar[0][0] - dm_bar[0][1], -dm_bar[1][0] - dm_bar[1][1]],
        [dm_bar[0][0], dm_bar[1][0]],
        [dm_bar[0][1], dm_bar[1][1]],
    ]
}

/// Checks that every corner index is below `n_vertices` and that no
/// triangle repeats a corner.
fn check_topology(triangles: &[[usize; 3]], n_vertices: usize) -> Result<()> {
    for (e, tri) in triangles.iter().enumerate() {
        if let Some(&v) = tri.iter().find(|&&v| v >= n_vertices) {
            return Err(Error::Mesh {
                reason: format!(
                    "triangle {e} (corners {tri:?}) names vertex {v}, but the mesh has {n_vertices} vertices"
                ),
            });
        }
        if tri[0] == tri[1] || tri[1] == tri[2] || tri[0] == tri[2] {
            return Err(Error::Mesh {
                reason: format!("triangle {e} repeats a corner: {tri:?}"),
            });
        }
    }
    Ok(())
}

/// The corners of triangle `tri` in the row-major `[V, 2]` data `x`.
#[inline(always)]
fn corners(x: &[f64], tri: &[usize; 3]) -> Corners {
    tri.map(|v| [x[2 * v], x[2 * v + 1]])
}

/// The tape node: inputs X [V, 2] and density `[T]`; outputs
/// (dm_inv [T, 2, 2], area `[T]`, mass `[V]`).
struct RestGeometryKernel {
    triangles: Arc<Vec<[usize; 3]>>,
}

impl RestGeometryKernel {
    /// The inputs' shapes, checked: (V, T).
    fn sizes(&self, x: &Tensor, density: &Tensor) -> Result<usize> {
        let n_tri = self.triangles.len();
        if x.shape.len() != 2 || x.shape[1] != 2 || density.shape != [n_tri] {
            return Err(Error::Shape {
                op: "rest_geometry",
                lhs: x.shape.clone(),
                rhs: density.shape.clone(),
                hint: "needs rest positions [V, 2] and one density per triangle [T]",
            });
        }
        Ok(x.shape[0])
    }
}

impl Kernel for RestGeometryKernel {
    type Saved = ();

    fn name(&self) -> &'static str {
        "rest_geometry"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let (x, density) = (inputs[0], inputs[1]);
        let n_vertices = self.sizes(x, density)?;
        let tris = &self.triangles[..];
        check_topology(tris, n_vertices)?;
        let longest_sq = tris
            .iter()
            .map(|tri| {
                let c = corners(&x.data, tri);
                (0..3)
                    .map(|i| {
                        let (p, q) = (c[i], c[(i + 1) % 3]);
                        (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)
                    })
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        let min_area = MIN_AREA_RATIO * longest_sq;
        let mut dm_inv = Vec::with_capacity(4 * tris.len());
        let mut area = Vec::with_capacity(tris.len());
        let mut mass = vec![0.0; n_vertices];
        for (e, tri) in tris.iter().enumerate() {
            let (b, a) = rest_shape(&corners(&x.data, tri));
            // A NaN area comes from non-finite positions.
            if a.is_nan() || a <= min_area {
                return Err(Error::DegenerateElement {
                    element: e,
                    area: a,
                    corners: *tri,
                    min_area,
                });
            }
            let rho = density.data[e];
            if !(rho.is_finite() && rho > 0.0) {
                return Err(Error::ParameterValue {
                    name: format!("density of triangle {e}"),
                    value: rho,
                    reason: "must be finite and positive",
                });
            }
            dm_inv.extend_from_slice(&[b[0][0], b[0][1], b[1][0], b[1][1]]);
            area.push(a);
            for &v in tri {
                mass[v] += rho * a / 3.0;
            }
        }
        let n_tri = tris.len();
        Ok((
            vec![
                Tensor::from_data(dm_inv, vec![n_tri, 2, 2]),
                Tensor::from_data(area, vec![n_tri]),
                Tensor::from_data(mass, vec![n_vertices]),
            ],
            (),
        ))
    }

    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let density = inputs[1];
        let (dm_inv, area) = (&outputs[0].data, &outputs[1].data);
        let (grad_b, grad_area, grad_mass) = (
            &grad_outputs[0].data,
            &grad_outputs[1].data,
            &grad_outputs[2].data,
        );
        let [grad_x, grad_density] = grad_inputs else {
            unreachable!("rest_geometry has two inputs")
        };
        for (e, tri) in self.triangles.iter().enumerate() {
            let mass_bar: f64 = tri.iter().map(|&v| grad_mass[v]).sum();
            let a = area[e];
            if needs_grad[1] {
                grad_density.data[e] += a / 3.0 * mass_bar;
            }
            if needs_grad[0] {
                let b = [
                    [dm_inv[4 * e], dm_inv[4 * e + 1]],
                    [dm_inv[4 * e + 2], dm_inv[4 * e + 3]],
                ];
                let b_bar = [
                    [grad_b[4 * e], grad_b[4 * e + 1]],
                    [grad_b[4 * e + 2], grad_b[4 * e + 3]],
                ];
                let a_bar = grad_area[e] + density.data[e] / 3.0 * mass_bar;
                let g = rest_shape_vjp(&b, a, &b_bar, a_bar);
                for (c, &v) in tri.iter().enumerate() {
                    grad_x.data[2 * v] += g[c][0];
                    grad_x.data[2 * v + 1] += g[c][1];
                }
            }
        }
        Ok(())
    }
}

/// Records one tape node: inputs X [V, 2] and density `[T]` (per triangle),
/// outputs (dm_inv, area, mass), with its hand-written adjoint.
///
/// Errors:
/// - [`Error::Shape`] for X not [V, 2] or density not `[T]`;
/// - [`Error::Mesh`] for a corner index out of range or repeated;
/// - [`Error::DegenerateElement`] for a rest area A ≤ min_area: clockwise,
///   flat or tiny, with min_area = [`MIN_AREA_RATIO`] · ℓ_max² (ℓ_max the
///   mesh's longest rest edge), or not finite;
/// - [`Error::ParameterValue`] for a density that is not finite and
///   positive.
///
/// ```
/// use maya::fem::try_rest_geometry;
/// use maya::{Error, Tensor, TensorTape};
/// use std::sync::Arc;
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0], vec![3, 2]));
/// let density = t.constant(Tensor::ones(&[1]));
/// // Clockwise: corners 0, 2, 1.
/// let err = try_rest_geometry(&Arc::new(vec![[0, 2, 1]]), &x, &density).unwrap_err();
/// assert!(matches!(err, Error::DegenerateElement { element: 0, area, .. } if area == -0.5));
/// ```
pub fn try_rest_geometry<'t>(
    triangles: &Arc<Vec<[usize; 3]>>,
    x_rest: &TVar<'t>,
    density: &TVar<'t>,
) -> Result<RestGeometry<'t>> {
    x_rest.same_tape(density, "rest_geometry")?;
    let kernel = RestGeometryKernel {
        triangles: Arc::clone(triangles),
    };
    let out = x_rest.tape.try_apply(kernel, &[*x_rest, *density])?;
    Ok(RestGeometry {
        dm_inv: out[0],
        area: out[1],
        mass: out[2],
    })
}

/// [`try_rest_geometry`], panicking with the error's message.
///
/// ```
/// use maya::fem::rest_geometry;
/// use maya::{Tensor, TensorTape};
/// use std::sync::Arc;
/// let t = TensorTape::new();
/// let x = t.var(Tensor::from_data(vec![0.0, 0.0, 2.0, 0.0, 0.0, 1.0], vec![3, 2]));
/// let rest = rest_geometry(&Arc::new(vec![[0, 1, 2]]), &x, &t.constant(Tensor::ones(&[1])));
/// assert_eq!(rest.dm_inv.value().data, vec![0.5, 0.0, 0.0, 1.0]);
/// ```
#[track_caller]
pub fn rest_geometry<'t>(
    triangles: &Arc<Vec<[usize; 3]>>,
    x_rest: &TVar<'t>,
    density: &TVar<'t>,
) -> RestGeometry<'t> {
    try_rest_geometry(triangles, x_rest, density).or_panic()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::testing::uniform;
    use crate::{gradcheck, TensorTape};

    /// The square [0, n]² as an (n+1)² grid, each cell split along its
    /// diagonal (a, c) into (a, b, c) and (a, c, d); interior vertices
    /// jittered by up to `jitter`.
    fn grid(n: usize, jitter: f64, seed: u64) -> (Arc<Vec<[usize; 3]>>, Tensor) {
        let id = |i: usize, j: usize| j * (n + 1) + i;
        let noise = uniform(2 * (n + 1) * (n + 1), seed);
        let mut x = Vec::new();
        for j in 0..=n {
            for i in 0..=n {
                let interior = i > 0 && i < n && j > 0 && j < n;
                let k = 2 * id(i, j);
                let (dx, dy) = if interior {
                    (jitter * noise[k], jitter * noise[k + 1])
                } else {
                    (0.0, 0.0)
                };
                x.extend_from_slice(&[i as f64 + dx, j as f64 + dy]);
            }
        }
        let mut tris = Vec::new();
        for j in 0..n {
            for i in 0..n {
                let (a, b, c, d) = (id(i, j), id(i + 1, j), id(i + 1, j + 1), id(i, j + 1));
                tris.extend_from_slice(&[[a, b, c], [a, c, d]]);
            }
        }
        let v = (n + 1) * (n + 1);
        (Arc::new(tris), Tensor::from_data(x, vec![v, 2]))
    }

    /// A hexagonal fan of 6 triangles around vertex 0, jittered.
    fn fan(seed: u64) -> (Arc<Vec<[usize; 3]>>, Tensor) {
        let noise = uniform(14, seed);
        let mut x = vec![0.1 * noise[0], 0.1 * noise[1]];
        for k in 0..6 {
            let t = std::f64::consts::PI / 3.0 * k as f64;
            let r = 1.0 + 0.2 * noise[2 + 2 * k];
            x.extend_from_slice(&[r * t.cos(), r * (t + 0.1 * noise[3 + 2 * k]).sin()]);
        }
        let tris = (0..6).map(|k| [0, 1 + k, 1 + (k + 1) % 6]).collect();
        (Arc::new(tris), Tensor::from_data(x, vec![7, 2]))
    }

    fn densities(n: usize, seed: u64) -> Tensor {
        Tensor::from_data(uniform(n, seed).iter().map(|u| 1.5 + u).collect(), vec![n])
    }

    #[test]
    fn rest_geometry_passes_gradcheck() {
        let meshes = [
            (
                Arc::new(vec![[0, 1, 2]]),
                Tensor::from_data(vec![0.1, -0.2, 1.3, 0.1, 0.2, 0.9], vec![3, 2]),
            ),
            grid(2, 0.25, 7),
            fan(11),
        ];
        for (tris, x) in meshes {
            let density = densities(tris.len(), 3);
            let report = gradcheck(
                |t, v| {
                    let rest = rest_geometry(&tris, &v[0], &v[1]);
                    let n = rest.dm_inv.shape()[0];
                    t.concat(&[rest.dm_inv.reshape(&[4 * n]), rest.area, rest.mass], 0)
                },
                &[x, density],
            );
            assert!(report.passed, "{} triangles: {report}", tris.len());
            eprintln!(
                "rest_geometry, {} triangles: max rel err {:e}",
                tris.len(),
                report.max_rel_err
            );
        }
    }

    #[test]
    fn rest_geometry_values_on_the_unjittered_grid() {
        let (tris, x) = grid(2, 0.0, 0);
        let t = TensorTape::new();
        let rest = rest_geometry(&tris, &t.var(x), &t.constant(Tensor::full(&[8], 6.0)));
        assert_eq!(rest.area.value().data, vec![0.5; 8]);
        // (a, b, c): Dm = [[1, 1], [0, 1]], B = [[1, −1], [0, 1]];
        // (a, c, d): Dm = [[1, 0], [1, 1]], B = [[1, 0], [−1, 1]].
        assert_eq!(
            rest.dm_inv.value().data[..8],
            [1.0, -1.0, 0.0, 1.0, 1.0, 0.0, -1.0, 1.0]
        );
        // m_v = 6 · 0.5 / 3 = 1 per triangle holding v: the centre holds 6, corner (0, 0) holds 2.
        let mass = rest.mass.value().data;
        assert_eq!((mass[4], mass[0], mass[2]), (6.0, 2.0, 1.0));
        assert_eq!(mass.iter().sum::<f64>(), 6.0 * 4.0);
    }

    fn run(tris: Vec<[usize; 3]>, x: Vec<f64>, density: Vec<f64>) -> Result<()> {
        let t = TensorTape::new();
        let n = x.len() / 2;
        let x = t.var(Tensor::from_data(x, vec![n, 2]));
        let d = t.var(Tensor::from_data(density.clone(), vec![density.len()]));
        try_rest_geometry(&Arc::new(tris), &x, &d).map(|_| ())
    }

    const SQUARE: [f64; 8] = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];

    #[test]
    fn clockwise_and_flat_triangles_are_degenerate() {
        // Triangle 1 is clockwise (a, d, c): area −0.5.
        let err = run(vec![[0, 1, 2], [0, 3, 2]], SQUARE.to_vec(), vec![1.0; 2]).unwrap_err();
        assert!(
            matches!(err, Error::DegenerateElement { element: 1, area, corners: [0, 3, 2], .. } if area == -0.5),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("element 1") && msg.contains("-5e-1"), "{msg}");
        // Vertex 2 on the line through 0 and 1: area 0.
        let line = vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
        let err = run(vec![[0, 1, 2]], line, vec![1.0]).unwrap_err();
        assert!(
            matches!(err, Error::DegenerateElement { element: 0, area, .. } if area == 0.0),
            "{err:?}"
        );
        assert!(err.to_string().contains("area 0e0"), "{err}");
        // A sliver with area 1e-13 next to a unit edge is below 1e-12 · 1², ...
        let sliver = vec![0.0, 0.0, 1.0, 0.0, 0.5, 2e-13];
        let err = run(vec![[0, 1, 2]], sliver, vec![1.0]).unwrap_err();
        assert!(
            matches!(err, Error::DegenerateElement { min_area, .. } if min_area == 1e-12),
            "{err:?}"
        );
        // ... but the threshold is relative: the unit square scaled by 1e-7 is fine.
        let tiny = SQUARE.iter().map(|v| v * 1e-7).collect();
        run(vec![[0, 1, 2], [0, 2, 3]], tiny, vec![1.0; 2]).unwrap();
        // Non-finite positions are refused too.
        let nan = vec![0.0, 0.0, f64::NAN, 0.0, 0.0, 1.0];
        assert!(matches!(
            run(vec![[0, 1, 2]], nan, vec![1.0]),
            Err(Error::DegenerateElement { .. })
        ));
    }

    #[test]
    fn bad_topology_shapes_and_densities_are_errors() {
        let err = run(vec![[0, 1, 2], [0, 2, 4]], SQUARE.to_vec(), vec![1.0; 2]).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, Error::Mesh { .. })
                && msg.contains("triangle 1")
                && msg.contains("vertex 4")
                && msg.contains("4 vertices"),
            "{msg}"
        );
        let err = run(vec![[0, 1, 1]], SQUARE.to_vec(), vec![1.0]).unwrap_err();
        assert!(
            matches!(err, Error::Mesh { .. }) && err.to_string().contains("repeats"),
            "{err}"
        );
        // One density for two triangles.
        let err = run(vec![[0, 1, 2], [0, 2, 3]], SQUARE.to_vec(), vec![1.0]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Shape {
                    op: "rest_geometry",
                    ..
                }
            ),
            "{err:?}"
        );
        // Positions [V, 3].
        let t = TensorTape::new();
        let x = t.var(Tensor::zeros(&[2, 3]));
        let err = try_rest_geometry(&Arc::new(vec![[0, 1, 2]]), &x, &t.var(Tensor::ones(&[1])))
            .unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err:?}");
        let err = run(vec![[0, 1, 2], [0, 2, 3]], SQUARE.to_vec(), vec![1.0, -2.0]).unwrap_err();
        assert!(err.to_string().contains("density of triangle 1"), "{err}");
    }
}
