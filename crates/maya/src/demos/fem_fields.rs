//! What the finite-element demos share: nodal loads of an edge traction,
//! the Cauchy and von Mises stress of each triangle, and mesh panels.
//!
//! The Cauchy stress of a triangle is σ = P Fᵀ / J, with P the first
//! Piola–Kirchhoff stress of its material ([`MaterialModel::stress`]), F its
//! deformation gradient ([`deformation_gradient`]) and J = det F. In plane
//! strain σ also has an out-of-plane component σ_zz; the von Mises stress
//! drawn here is that of the in-plane components alone,
//! σ_vm = √(σ_xx² − σ_xx σ_yy + σ_yy² + 3 σ_xy²).

use super::MeshPanel;
use crate::error::{Error, Result};
use crate::fem::{deformation_gradient, Mat2, MaterialModel};
use crate::tensor::Tensor;

/// The rows of a `[V, 2]` tensor as points.
pub(crate) fn points(x: &Tensor) -> Vec<[f64; 2]> {
    x.data.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}

/// Consistent nodal loads `[V, 2]` of a uniform traction `traction` (N/m)
/// on the boundary path through `edge` (vertex indices in order along the
/// path): each segment of length ℓ gives ℓ/2 · traction to both its ends.
pub(crate) fn edge_traction(vertices: &[[f64; 2]], edge: &[usize], traction: [f64; 2]) -> Tensor {
    let mut f = Tensor::zeros(&[vertices.len(), 2]);
    for w in edge.windows(2) {
        let (a, b) = (vertices[w[0]], vertices[w[1]]);
        let half = 0.5 * (b[0] - a[0]).hypot(b[1] - a[1]);
        for v in w {
            for (k, t) in traction.iter().enumerate() {
                f.data[2 * v + k] += half * t;
            }
        }
    }
    f
}

/// The Cauchy stress σ = P Fᵀ / J at deformation gradient `f` (det F > 0)
/// of `model` with Lamé parameters (μ, λ).
pub(crate) fn cauchy_stress(model: MaterialModel, f: &Mat2, mu: f64, lam: f64) -> Mat2 {
    let p = model.stress(f, mu, lam);
    let j = f[0][0] * f[1][1] - f[0][1] * f[1][0];
    let mut sigma = [[0.0; 2]; 2];
    for (r, row) in sigma.iter_mut().enumerate() {
        for (c, s) in row.iter_mut().enumerate() {
            // (P Fᵀ)_rc = Σ_k P_rk F_ck.
            *s = (p[r][0] * f[c][0] + p[r][1] * f[c][1]) / j;
        }
    }
    sigma
}

/// The von Mises stress of the in-plane components of σ (see the module's
/// doc).
pub(crate) fn von_mises(s: &Mat2) -> f64 {
    let (xx, yy, xy) = (s[0][0], s[1][1], 0.5 * (s[0][1] + s[1][0]));
    (xx * xx - xx * yy + yy * yy + 3.0 * xy * xy).sqrt()
}

/// The von Mises stress of every triangle of a body at positions `x`
/// `[V, 2]`, with B = Dm⁻¹ `dm_inv` `[T, 2, 2]` and Lamé fields `mu`,
/// `lambda` `[T]`. An inverted triangle is [`Error::InvertedElement`].
pub(crate) fn von_mises_field(
    model: MaterialModel,
    triangles: &[[usize; 3]],
    x: &Tensor,
    dm_inv: &Tensor,
    mu: &Tensor,
    lambda: &Tensor,
) -> Result<Vec<f64>> {
    triangles
        .iter()
        .enumerate()
        .map(|(e, tri)| {
            let corner = |k: usize| [x.data[2 * tri[k]], x.data[2 * tri[k] + 1]];
            let b = &dm_inv.data[4 * e..4 * e + 4];
            let f = deformation_gradient(
                &[corner(0), corner(1), corner(2)],
                &[[b[0], b[1]], [b[2], b[3]]],
            );
            let det = f[0][0] * f[1][1] - f[0][1] * f[1][0];
            // det F ≤ 0, or NaN.
            if det.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                return Err(Error::InvertedElement {
                    element: e,
                    corners: *tri,
                    step: None,
                    det,
                });
            }
            Ok(von_mises(&cauchy_stress(
                model,
                &f,
                mu.data[e],
                lambda.data[e],
            )))
        })
        .collect()
}

/// A panel of `triangles` at `vertices`, coloured by `values`.
pub(crate) fn panel(
    label: String,
    vertices: &Tensor,
    triangles: &[[usize; 3]],
    values: Vec<f64>,
) -> MeshPanel {
    MeshPanel {
        label,
        vertices: points(vertices),
        triangles: triangles.to_vec(),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::{lame, rectangle, Diagonal};

    /// A small simple shear γ of linear elasticity: σ_xy = μγ, the rest
    /// O(γ²), so σ_vm = √3 μ γ.
    #[test]
    fn simple_shear_has_von_mises_root_three_mu_gamma() {
        let (mu, lam) = lame(1e4, 0.3);
        let gamma = 1e-7;
        let s = cauchy_stress(
            MaterialModel::LinearElastic,
            &[[1.0, gamma], [0.0, 1.0]],
            mu,
            lam,
        );
        let expected = 3f64.sqrt() * mu * gamma;
        assert!((von_mises(&s) - expected).abs() < 1e-6 * expected, "{s:?}");
    }

    /// A Neo-Hookean dilation F = aI: P = μ(a − 1/a) I + λ ln(a²)/a I, so
    /// σ = P Fᵀ / a² = (μ(a² − 1) + λ ln a²)/a² I, whose in-plane von Mises
    /// stress is |σ_xx|.
    #[test]
    fn neo_hookean_dilation_is_hydrostatic() {
        let (mu, lam, a) = (3.0, 5.0, 1.2);
        let s = cauchy_stress(MaterialModel::NeoHookean, &[[a, 0.0], [0.0, a]], mu, lam);
        let p = (mu * (a * a - 1.0) + lam * (a * a).ln()) / (a * a);
        for (r, row) in s.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let want = if r == c { p } else { 0.0 };
                assert!((v - want).abs() < 1e-12, "σ[{r}][{c}] = {v}, want {want}");
            }
        }
        assert!((von_mises(&s) - p.abs()).abs() < 1e-12);
    }

    /// A uniform traction's nodal loads add up to traction × length, and an
    /// end vertex gets half of an inner one's share on a uniform edge.
    #[test]
    fn edge_traction_sums_to_the_resultant() {
        let mesh = rectangle([0.0, 0.0], 2.0, 1.0, 4, 4, Diagonal::Right).unwrap();
        let mut edge = mesh.vertices_where(|p| p[0] == 2.0);
        edge.sort_by(|a, b| mesh.vertices()[*a][1].total_cmp(&mesh.vertices()[*b][1]));
        let f = edge_traction(mesh.vertices(), &edge, [3.0, -1.0]);
        let total: [f64; 2] = [0, 1].map(|k| f.data.iter().skip(k).step_by(2).sum());
        assert!((total[0] - 3.0).abs() < 1e-12 && (total[1] + 1.0).abs() < 1e-12);
        assert!((f.data[2 * edge[0]] - 0.5 * f.data[2 * edge[1]]).abs() < 1e-12);
    }

    #[test]
    fn an_inverted_triangle_is_an_error() {
        let b = Tensor::from_data(vec![1.0, 0.0, 0.0, 1.0], vec![1, 2, 2]);
        let x = Tensor::from_data(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0], vec![3, 2]);
        let one = Tensor::ones(&[1]);
        let e = von_mises_field(MaterialModel::NeoHookean, &[[0, 1, 2]], &x, &b, &one, &one);
        assert!(
            matches!(e, Err(Error::InvertedElement { element: 0, .. })),
            "{e:?}"
        );
    }
}
