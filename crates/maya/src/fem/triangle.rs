//! One P1 triangle: its elastic energy and corner forces, and their adjoints
//! in positions, rest shape and material, forward and adjoint side by side.
//!
//! With the edge matrix Ds = [x₁ − x₀, x₂ − x₀] (edges as columns), the
//! rest-shape matrix B = Dm⁻¹ and the rest area A:
//!
//! - F = Ds B, energy A ψ(F), H = −A P(F) Bᵀ; the corner forces are
//!   f₁ = `H[:,0]`, f₂ = `H[:,1]`, f₀ = −f₁ − f₂ (so Σf = 0).
//! - A direction dx gives dF = dDs B, dP = `C[dF]` (the material's
//!   [`stress_differential`](MaterialModel::stress_differential)) and
//!   dH = −A dP Bᵀ: the one routine behind the stiffness, its products and
//!   the adjoint in x.
//! - The adjoint of the forces, from W = ∂L/∂H (`W[:,0]` = ḡ₁ − ḡ₀,
//!   `W[:,1]` = ḡ₂ − ḡ₀) and P̄ = ∂L/∂P = −A W B: Ā = −W : P Bᵀ,
//!   μ̄ = P̄ : P_μ, λ̄ = P̄ : P_λ, F̄ = `C[P̄]` (C is self-adjoint), then
//!   Ds̄ = F̄ Bᵀ and B̄ = Dsᵀ F̄ − A Wᵀ P.
//!
//! Everything here works on stack arrays and inlines; nothing allocates.

use super::mat2::{self, Mat2};
use super::material::MaterialModel;

/// The corners of one triangle: 3 points, counter-clockwise.
///
/// ```
/// use maya::fem::Corners;
/// let x: Corners = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
/// assert_eq!(x[2], [0.0, 1.0]);
/// ```
pub type Corners = [[f64; 2]; 3];

/// Gradients of a triangle's forces' adjoint (or of its energy), one field
/// per argument of the kernel.
///
/// ```
/// use maya::fem::TriangleGrads;
/// let g = TriangleGrads::default();
/// assert_eq!(g.area, 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TriangleGrads {
    /// With respect to the three corners.
    pub x: Corners,
    /// With respect to B = Dm⁻¹.
    pub b: Mat2,
    /// With respect to the rest area A.
    pub area: f64,
    /// With respect to μ.
    pub mu: f64,
    /// With respect to λ.
    pub lam: f64,
}

/// Ds = [x₁ − x₀, x₂ − x₀]: the edges from corner 0, as columns.
#[inline(always)]
fn edge_matrix(x: &Corners) -> Mat2 {
    [
        [x[1][0] - x[0][0], x[2][0] - x[0][0]],
        [x[1][1] - x[0][1], x[2][1] - x[0][1]],
    ]
}

/// Corner vectors from a 2×2 matrix of columns: c₁ = `M[:,0]`, c₂ = `M[:,1]`,
/// c₀ = −c₁ − c₂. Maps H to the forces, and Ds̄ to the corner gradients.
#[inline(always)]
fn corners_from_columns(m: &Mat2) -> Corners {
    [
        [-m[0][0] - m[0][1], -m[1][0] - m[1][1]],
        [m[0][0], m[1][0]],
        [m[0][1], m[1][1]],
    ]
}

/// The adjoint of [`corners_from_columns`]: `W[:,0]` = g₁ − g₀,
/// `W[:,1]` = g₂ − g₀.
#[inline(always)]
fn columns_from_corners(g: &Corners) -> Mat2 {
    [
        [g[1][0] - g[0][0], g[2][0] - g[0][0]],
        [g[1][1] - g[0][1], g[2][1] - g[0][1]],
    ]
}

/// F = Ds B with Ds = [x₁ − x₀, x₂ − x₀] (edges as columns) and B = Dm⁻¹.
///
/// ```
/// use maya::fem::deformation_gradient;
/// // Rest triangle (0,0), (1,0), (0,1): Dm = I, so F = Ds.
/// let x = [[0.0, 0.0], [2.0, 0.0], [0.5, 1.0]];
/// let identity = [[1.0, 0.0], [0.0, 1.0]];
/// assert_eq!(deformation_gradient(&x, &identity), [[2.0, 0.5], [0.0, 1.0]]);
/// ```
#[inline]
pub fn deformation_gradient(x: &Corners, b: &Mat2) -> Mat2 {
    mat2::mul(&edge_matrix(x), b)
}

/// The elastic forces on the three corners, f = −∂(A ψ(F))/∂x: with
/// H = −A P Bᵀ, f₁ = `H[:,0]`, f₂ = `H[:,1]`, f₀ = −f₁ − f₂.
/// `Err(det F)` when det F ≤ 0 (or is NaN); the caller turns it into
/// `Error::InvertedElement`.
///
/// ```
/// use maya::fem::{triangle_forces, MaterialModel};
/// let identity = [[1.0, 0.0], [0.0, 1.0]];
/// // Stretch the unit right triangle along x by 10 %: corner 1 is pulled back.
/// let x = [[0.0, 0.0], [1.1, 0.0], [0.0, 1.0]];
/// let f = triangle_forces(MaterialModel::NeoHookean, &x, &identity, 0.5, 1.0, 1.0).unwrap();
/// assert!(f[1][0] < 0.0);
/// // Flipped: an error carrying det F.
/// let flipped = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]];
/// assert_eq!(triangle_forces(MaterialModel::NeoHookean, &flipped, &identity, 0.5, 1.0, 1.0), Err(-1.0));
/// ```
#[inline]
pub fn triangle_forces(
    model: MaterialModel,
    x: &Corners,
    b: &Mat2,
    area: f64,
    mu: f64,
    lam: f64,
) -> Result<Corners, f64> {
    let f = deformation_gradient(x, b);
    let j = mat2::det(&f);
    if j.is_nan() || j <= 0.0 {
        return Err(j);
    }
    let p = model.stress(&f, mu, lam);
    Ok(corners_from_columns(&mat2::scale(
        &mat2::mul_bt(&p, b),
        -area,
    )))
}

/// A ψ(F): the triangle's elastic energy. `Err(det F)` when det F ≤ 0.
///
/// ```
/// use maya::fem::{triangle_energy, MaterialModel};
/// let identity = [[1.0, 0.0], [0.0, 1.0]];
/// let rest = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
/// assert_eq!(triangle_energy(MaterialModel::Corotated, &rest, &identity, 0.5, 1.0, 1.0), Ok(0.0));
/// ```
#[inline]
pub fn triangle_energy(
    model: MaterialModel,
    x: &Corners,
    b: &Mat2,
    area: f64,
    mu: f64,
    lam: f64,
) -> Result<f64, f64> {
    let f = deformation_gradient(x, b);
    let j = mat2::det(&f);
    if j.is_nan() || j <= 0.0 {
        return Err(j);
    }
    Ok(area * model.energy(&f, mu, lam))
}

/// Given ḡ = ∂L/∂f (3 corners × 2), returns (∂f/∂·)ᵀ ḡ for x (this is −K ḡ,
/// K the stiffness, symmetric), B, area, μ and λ. Assumes det F > 0 (the
/// forward checked it).
///
/// ```
/// use maya::fem::{triangle_forces, triangle_forces_vjp, MaterialModel};
/// let (b, model) = ([[1.0, 0.0], [0.0, 1.0]], MaterialModel::StVenantKirchhoff);
/// let x = [[0.0, 0.0], [1.1, 0.1], [-0.1, 0.9]];
/// let f = triangle_forces(model, &x, &b, 0.5, 2.0, 3.0).unwrap();
/// // The forces are linear in μ: ∂(ḡ·f)/∂μ = ḡ·f_μ, with f_μ = f(μ = 1, λ = 0).
/// let f_mu = triangle_forces(model, &x, &b, 0.5, 1.0, 0.0).unwrap();
/// let g = triangle_forces_vjp(model, &x, &b, 0.5, 2.0, 3.0, &f);
/// let expected: f64 = (0..3).map(|c| f[c][0] * f_mu[c][0] + f[c][1] * f_mu[c][1]).sum();
/// assert!((g.mu - expected).abs() < 1e-12 * expected.abs());
/// ```
#[inline]
pub fn triangle_forces_vjp(
    model: MaterialModel,
    x: &Corners,
    b: &Mat2,
    area: f64,
    mu: f64,
    lam: f64,
    grad_f: &Corners,
) -> TriangleGrads {
    let ds = edge_matrix(x);
    let f = mat2::mul(&ds, b);
    let w = columns_from_corners(grad_f);
    let (p_mu, p_lam) = model.stress_basis(&f);
    let p = mat2::combine(mu, &p_mu, lam, &p_lam);
    let p_bar = mat2::scale(&mat2::mul(&w, b), -area);
    let f_bar = model.stress_differential(&f, mu, lam, &p_bar);
    let b_bar = mat2::add(
        &mat2::mul_at(&ds, &f_bar),
        &mat2::scale(&mat2::mul_at(&w, &p), -area),
    );
    TriangleGrads {
        x: corners_from_columns(&mat2::mul_bt(&f_bar, b)),
        b: b_bar,
        area: -mat2::ddot(&w, &mat2::mul_bt(&p, b)),
        mu: mat2::ddot(&p_bar, &p_mu),
        lam: mat2::ddot(&p_bar, &p_lam),
    }
}

/// K dx: the element stiffness K = −∂f/∂x applied to a corner displacement
/// `dx` (a Hessian-vector product of A ψ, without forming K). Assumes
/// det F > 0.
///
/// ```
/// use maya::fem::{triangle_stiffness, triangle_stiffness_product, MaterialModel};
/// let (b, model) = ([[1.0, 0.0], [0.0, 1.0]], MaterialModel::NeoHookean);
/// let x = [[0.0, 0.0], [1.1, 0.1], [-0.1, 0.9]];
/// let dx = [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]; // corner 1, along x: column 2 of K
/// let kdx = triangle_stiffness_product(model, &x, &b, 0.5, 2.0, 3.0, &dx);
/// let k = triangle_stiffness(model, &x, &b, 0.5, 2.0, 3.0);
/// assert!((kdx[2][1] - k[5][2]).abs() < 1e-12);
/// ```
#[inline]
pub fn triangle_stiffness_product(
    model: MaterialModel,
    x: &Corners,
    b: &Mat2,
    area: f64,
    mu: f64,
    lam: f64,
    dx: &Corners,
) -> Corners {
    let f = deformation_gradient(x, b);
    let df = deformation_gradient(dx, b);
    let dp = model.stress_differential(&f, mu, lam, &df);
    corners_from_columns(&mat2::scale(&mat2::mul_bt(&dp, b), area))
}

/// The element stiffness K = −∂f/∂x = ∂²(Aψ)/∂x² (6×6, coordinates ordered
/// x0x, x0y, x1x, x1y, x2x, x2y), the TRUE Hessian (not projected). Assumes
/// det F > 0. Symmetric to round-off.
///
/// ```
/// use maya::fem::{triangle_stiffness, MaterialModel};
/// let b = [[1.0, 0.0], [0.0, 1.0]];
/// let rest = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
/// let k = triangle_stiffness(MaterialModel::LinearElastic, &rest, &b, 0.5, 1.0, 0.0);
/// // A rigid translation along x costs nothing: every row sums to 0 over the x columns.
/// for row in &k {
///     assert!((row[0] + row[2] + row[4]).abs() < 1e-15);
/// }
/// ```
#[inline]
pub fn triangle_stiffness(
    model: MaterialModel,
    x: &Corners,
    b: &Mat2,
    area: f64,
    mu: f64,
    lam: f64,
) -> [[f64; 6]; 6] {
    let f = deformation_gradient(x, b);
    let mut k = [[0.0; 6]; 6];
    // Moving corner 1 (2) along axis `comp` puts row 0 (1) of B into row
    // `comp` of dF; corner 0's columns follow by translation invariance.
    for node in 1..3 {
        for comp in 0..2 {
            let mut df = mat2::ZERO;
            df[comp] = b[node - 1];
            let dp = model.stress_differential(&f, mu, lam, &df);
            let column = corners_from_columns(&mat2::scale(&mat2::mul_bt(&dp, b), area));
            for (c, v) in column.iter().enumerate() {
                k[2 * c][2 * node + comp] = v[0];
                k[2 * c + 1][2 * node + comp] = v[1];
            }
        }
    }
    for row in &mut k {
        for comp in 0..2 {
            row[comp] = -(row[2 + comp] + row[4 + comp]);
        }
    }
    k
}

/// Gradients of the energy A ψ with respect to x (= −f), B, area, μ and λ:
/// for potentials and quasi-static adjoints. Assumes det F > 0.
///
/// ```
/// use maya::fem::{triangle_energy, triangle_energy_grads, MaterialModel};
/// let (b, model) = ([[1.0, 0.0], [0.0, 1.0]], MaterialModel::NeoHookean);
/// let x = [[0.0, 0.0], [1.1, 0.1], [-0.1, 0.9]];
/// // The energy is linear in the area: ∂(Aψ)/∂A = ψ.
/// let g = triangle_energy_grads(model, &x, &b, 0.5, 2.0, 3.0);
/// let e = triangle_energy(model, &x, &b, 0.5, 2.0, 3.0).unwrap();
/// assert!((g.area - e / 0.5).abs() < 1e-15);
/// ```
#[inline]
pub fn triangle_energy_grads(
    model: MaterialModel,
    x: &Corners,
    b: &Mat2,
    area: f64,
    mu: f64,
    lam: f64,
) -> TriangleGrads {
    let ds = edge_matrix(x);
    let f = mat2::mul(&ds, b);
    let (psi_mu, psi_lam) = model.energy_basis(&f);
    let p = model.stress(&f, mu, lam);
    TriangleGrads {
        x: corners_from_columns(&mat2::scale(&mat2::mul_bt(&p, b), area)),
        b: mat2::scale(&mat2::mul_at(&ds, &p), area),
        area: mu * psi_mu + lam * psi_lam,
        mu: area * psi_mu,
        lam: area * psi_lam,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::testing::{
        deform, fd_columns, flat2, flat_corners, random_f, random_rest, rel_error, unflat2,
        unflat_corners, uniform,
    };

    const SEEDS: u64 = 6;
    const MU: f64 = 1.3;
    const LAM: f64 = 2.1;

    /// One deformed triangle: (x, B, area), with J in [0.7, 1.4].
    fn case(seed: u64) -> (Corners, Mat2, f64) {
        let (rest, b, area) = random_rest(seed);
        let u = uniform(2, seed + 500);
        (deform(&rest, &random_f(seed), [u[0], u[1]]), b, area)
    }

    /// Every argument of the kernels as one vector: x (6), B (4), A, μ, λ.
    fn pack(x: &Corners, b: &Mat2, area: f64, mu: f64, lam: f64) -> Vec<f64> {
        [flat_corners(x), flat2(b), vec![area, mu, lam]].concat()
    }

    fn unpack(p: &[f64]) -> (Corners, Mat2, f64, f64, f64) {
        (
            unflat_corners(&p[..6]),
            unflat2(&p[6..10]),
            p[10],
            p[11],
            p[12],
        )
    }

    fn grads_vec(g: &TriangleGrads) -> Vec<f64> {
        pack(&g.x, &g.b, g.area, g.mu, g.lam)
    }

    /// The worst relative error of `analytic` against `numeric` per group
    /// (x, B, area, μ, λ), so that each group is measured on its own scale.
    fn group_error(analytic: &[f64], numeric: &[f64]) -> f64 {
        [0..6, 6..10, 10..11, 11..12, 12..13]
            .into_iter()
            .map(|r| rel_error(&analytic[r.clone()], &numeric[r]))
            .fold(0.0, f64::max)
    }

    #[test]
    fn forces_are_minus_the_energy_gradient() {
        let mut worst = 0.0_f64;
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let (x, b, area) = case(seed);
                let f = triangle_forces(model, &x, &b, area, MU, LAM).unwrap();
                let numeric: Vec<f64> = fd_columns(&flat_corners(&x), |v| {
                    vec![-triangle_energy(model, &unflat_corners(v), &b, area, MU, LAM).unwrap()]
                })
                .concat();
                let err = rel_error(&flat_corners(&f), &numeric);
                assert!(err < 1e-6, "{model:?} seed {seed}: rel err {err:e}");
                worst = worst.max(err);
            }
        }
        eprintln!("forces vs −FD of energy: max rel err {worst:e}");
    }

    #[test]
    fn stiffness_is_symmetric_and_minus_the_force_jacobian() {
        let (mut worst, mut asym) = (0.0_f64, 0.0_f64);
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let (x, b, area) = case(seed);
                let k = triangle_stiffness(model, &x, &b, area, MU, LAM);
                let scale = k.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
                for (i, row) in k.iter().enumerate() {
                    for (j, kij) in row.iter().enumerate() {
                        asym = asym.max((kij - k[j][i]).abs() / scale);
                    }
                }
                let columns = fd_columns(&flat_corners(&x), |v| {
                    let f = triangle_forces(model, &unflat_corners(v), &b, area, MU, LAM).unwrap();
                    flat_corners(&f).iter().map(|v| -v).collect()
                });
                let analytic: Vec<f64> = (0..6).flat_map(|j| k.map(|row| row[j])).collect();
                let err = rel_error(&analytic, &columns.concat());
                assert!(err < 1e-6, "{model:?} seed {seed}: rel err {err:e}");
                worst = worst.max(err);
                // The matrix-free product agrees with the matrix.
                let dx = unflat_corners(&uniform(6, seed + 77));
                let kdx = triangle_stiffness_product(model, &x, &b, area, MU, LAM, &dx);
                let dense: Vec<f64> = k
                    .iter()
                    .map(|row| row.iter().zip(flat_corners(&dx)).map(|(a, d)| a * d).sum())
                    .collect();
                assert!(rel_error(&flat_corners(&kdx), &dense) < 1e-12);
            }
        }
        assert!(asym < 1e-13, "asymmetry {asym:e}");
        eprintln!("stiffness vs −FD of forces: max rel err {worst:e}; asymmetry {asym:e}");
    }

    #[test]
    fn forces_vjp_matches_central_differences() {
        let mut worst = 0.0_f64;
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let (x, b, area) = case(seed);
                let grad_f = unflat_corners(&uniform(6, seed + 1234));
                let g = triangle_forces_vjp(model, &x, &b, area, MU, LAM, &grad_f);
                let numeric = fd_columns(&pack(&x, &b, area, MU, LAM), |p| {
                    let (x, b, area, mu, lam) = unpack(p);
                    let f = triangle_forces(model, &x, &b, area, mu, lam).unwrap();
                    let dot = flat_corners(&f)
                        .into_iter()
                        .zip(flat_corners(&grad_f))
                        .map(|(a, b)| a * b);
                    vec![dot.sum()]
                })
                .concat();
                let err = group_error(&grads_vec(&g), &numeric);
                assert!(
                    err < 1e-6,
                    "{model:?} seed {seed}: rel err {err:e}\n{g:?}\n{numeric:?}"
                );
                worst = worst.max(err);
                // The x part is −K ḡ.
                let k_g = triangle_stiffness_product(model, &x, &b, area, MU, LAM, &grad_f);
                let minus: Vec<f64> = flat_corners(&k_g).iter().map(|v| -v).collect();
                assert!(rel_error(&flat_corners(&g.x), &minus) < 1e-12);
            }
        }
        eprintln!("forces VJP (x, B, A, μ, λ) vs FD: max rel err {worst:e}");
    }

    #[test]
    fn energy_grads_match_central_differences() {
        let mut worst = 0.0_f64;
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let (x, b, area) = case(seed);
                let g = triangle_energy_grads(model, &x, &b, area, MU, LAM);
                let numeric = fd_columns(&pack(&x, &b, area, MU, LAM), |p| {
                    let (x, b, area, mu, lam) = unpack(p);
                    vec![triangle_energy(model, &x, &b, area, mu, lam).unwrap()]
                })
                .concat();
                let err = group_error(&grads_vec(&g), &numeric);
                assert!(err < 1e-6, "{model:?} seed {seed}: rel err {err:e}");
                worst = worst.max(err);
            }
        }
        eprintln!("energy grads (x, B, A, μ, λ) vs FD: max rel err {worst:e}");
    }

    #[test]
    fn inverted_and_flat_triangles_are_errors_carrying_det_f() {
        let identity = mat2::IDENTITY;
        // Corners 1 and 2 swapped: F = [[0, 1], [1, 0]], det F = −1.
        let flipped = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]];
        // All on one line: det F = 0.
        let flat = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]];
        for model in MaterialModel::ALL {
            assert_eq!(
                triangle_forces(model, &flipped, &identity, 0.5, MU, LAM),
                Err(-1.0)
            );
            assert_eq!(
                triangle_energy(model, &flipped, &identity, 0.5, MU, LAM),
                Err(-1.0)
            );
            assert_eq!(
                triangle_forces(model, &flat, &identity, 0.5, MU, LAM),
                Err(0.0)
            );
            let nan = [[f64::NAN, 0.0], [1.0, 0.0], [0.0, 1.0]];
            assert!(triangle_forces(model, &nan, &identity, 0.5, MU, LAM)
                .unwrap_err()
                .is_nan());
        }
    }
}
