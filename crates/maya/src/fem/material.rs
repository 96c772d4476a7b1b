//! Hyperelastic material models in plane strain, per unit reference area:
//! the energy density ψ(F), the first Piola–Kirchhoff stress P = ∂ψ/∂F and
//! its differential dP = `C[dF]` (the true one, not projected to PSD).
//!
//! Every model is linear in the Lamé parameters, ψ = μ ψ_μ + λ ψ_λ, so each
//! function returns the two basis terms and the material adjoint is free:
//! ∂ψ/∂μ = ψ_μ, ∂P/∂μ = P_μ. With J = det F and cof F = J F⁻ᵀ:
//!
//! | model | ψ_μ | ψ_λ | P_μ | P_λ |
//! |---|---|---|---|---|
//! | linear, ε = sym F − I | ε:ε | (tr ε)²/2 | 2ε | tr ε I |
//! | StVK, G = (FᵀF − I)/2 | G:G | (tr G)²/2 | 2FG | tr G F |
//! | fixed corotated | ‖F − R‖² | (J − 1)²/2 | 2(F − R) | (J − 1) cof F |
//! | Neo-Hookean | (‖F‖² − 2)/2 − ln J | (ln J)²/2 | F − F⁻ᵀ | ln J F⁻ᵀ |
//!
//! **Callers guarantee J > 0** (the element kernels return an error for an
//! inverted element before calling here): Neo-Hookean takes ln J and gives
//! NaN otherwise. The corotated rotation R is the closed-form 2D polar
//! factor, R = [[c, −s], [s, c]] with (c, s) = (F₁₁ + F₂₂, F₂₁ − F₁₂)/r and
//! r = ‖(F₁₁ + F₂₂, F₂₁ − F₁₂)‖ ≥ 2√J: it is undefined only at r = 0, where
//! J = −(F₁₁² + F₁₂²) ≤ 0; there R is taken as I and dR as 0.
//!
//! Linear elasticity is not rotation invariant: a rigid rotation by θ has
//! energy 2(μ + λ)(1 − cos θ)² and produces forces. The other three are
//! invariant (ψ(QF) = ψ(F) for every rotation Q).

use super::mat2;
pub use super::mat2::Mat2;
use crate::error::{Error, OrPanic, Result};

/// Hyperelastic material models (plane strain, per unit reference area).
///
/// ```
/// use maya::fem::MaterialModel;
/// // Uniaxial strain F = diag(s, 1): P₁₁ = (2μ + λ)(s − 1) for corotated.
/// let (mu, lam, s) = (2.0, 3.0, 1.1);
/// let p = MaterialModel::Corotated.stress(&[[s, 0.0], [0.0, 1.0]], mu, lam);
/// assert!((p[0][0] - (2.0 * mu + lam) * (s - 1.0)).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaterialModel {
    /// ψ = μ ε:ε + λ/2 (tr ε)², ε = sym(F) − I. Not rotation invariant.
    LinearElastic,
    /// ψ = μ G:G + λ/2 (tr G)², G = (FᵀF − I)/2.
    StVenantKirchhoff,
    /// Fixed corotated: ψ = μ‖F − R‖² + λ/2 (J − 1)², R the polar rotation.
    Corotated,
    /// ψ = μ/2 (‖F‖² − 2) − μ ln J + λ/2 (ln J)².
    NeoHookean,
}

/// The corotated rotation R(F) as (c, s) with R = [[c, −s], [s, c]], and
/// r = ‖(F₁₁ + F₂₂, F₂₁ − F₁₂)‖ (0 where R is undefined; then R = I).
#[inline(always)]
fn polar_rotation(f: &Mat2) -> (f64, f64, f64) {
    let (a, b) = (f[0][0] + f[1][1], f[1][0] - f[0][1]);
    let r = a.hypot(b);
    if r > 0.0 {
        (a / r, b / r, r)
    } else {
        (1.0, 0.0, 0.0)
    }
}

/// dR at F in direction dF: R's angle θ = atan2(b, a) moves by
/// dθ = (a db − b da)/r², and dR = dθ [[−s, −c], [c, −s]].
#[inline(always)]
fn rotation_differential(f: &Mat2, df: &Mat2, c: f64, s: f64, r: f64) -> Mat2 {
    if r == 0.0 {
        return mat2::ZERO;
    }
    let (a, b) = (f[0][0] + f[1][1], f[1][0] - f[0][1]);
    let (da, db) = (df[0][0] + df[1][1], df[1][0] - df[0][1]);
    let dtheta = (a * db - b * da) / (r * r);
    [[-s * dtheta, -c * dtheta], [c * dtheta, -s * dtheta]]
}

/// Green strain G = (FᵀF − I)/2.
#[inline(always)]
fn green_strain(f: &Mat2) -> Mat2 {
    let c = mat2::mul_at(f, f);
    [
        [0.5 * (c[0][0] - 1.0), 0.5 * c[0][1]],
        [0.5 * c[1][0], 0.5 * (c[1][1] - 1.0)],
    ]
}

/// Small strain ε = sym(F) − I.
#[inline(always)]
fn small_strain(f: &Mat2) -> Mat2 {
    mat2::sub(&mat2::sym(f), &mat2::IDENTITY)
}

impl MaterialModel {
    /// The four models, in declaration order.
    pub const ALL: [MaterialModel; 4] = [
        MaterialModel::LinearElastic,
        MaterialModel::StVenantKirchhoff,
        MaterialModel::Corotated,
        MaterialModel::NeoHookean,
    ];

    /// Every model here is linear in the Lamé parameters:
    /// ψ(F) = μ ψ_μ(F) + λ ψ_λ(F). Returns (ψ_μ, ψ_λ). Needs det F > 0
    /// (Neo-Hookean takes ln J).
    ///
    /// ```
    /// use maya::fem::MaterialModel;
    /// // At rest every model stores nothing.
    /// let identity = [[1.0, 0.0], [0.0, 1.0]];
    /// assert_eq!(MaterialModel::NeoHookean.energy_basis(&identity), (0.0, 0.0));
    /// ```
    #[inline]
    pub fn energy_basis(self, f: &Mat2) -> (f64, f64) {
        match self {
            MaterialModel::LinearElastic => {
                let e = small_strain(f);
                let tr = mat2::trace(&e);
                (mat2::ddot(&e, &e), 0.5 * tr * tr)
            }
            MaterialModel::StVenantKirchhoff => {
                let g = green_strain(f);
                let tr = mat2::trace(&g);
                (mat2::ddot(&g, &g), 0.5 * tr * tr)
            }
            MaterialModel::Corotated => {
                let (c, s, _) = polar_rotation(f);
                let d = [[f[0][0] - c, f[0][1] + s], [f[1][0] - s, f[1][1] - c]];
                let j1 = mat2::det(f) - 1.0;
                (mat2::ddot(&d, &d), 0.5 * j1 * j1)
            }
            MaterialModel::NeoHookean => {
                let ln_j = mat2::det(f).ln();
                (0.5 * (mat2::ddot(f, f) - 2.0) - ln_j, 0.5 * ln_j * ln_j)
            }
        }
    }

    /// P(F) = μ P_μ(F) + λ P_λ(F) (first Piola–Kirchhoff stress). Returns
    /// (P_μ, P_λ). Needs det F > 0.
    ///
    /// ```
    /// use maya::fem::MaterialModel;
    /// // Neo-Hookean under uniaxial strain diag(s, 1): P₂₂ = λ ln s.
    /// let s: f64 = 1.2;
    /// let (_, p_lam) = MaterialModel::NeoHookean.stress_basis(&[[s, 0.0], [0.0, 1.0]]);
    /// assert!((p_lam[1][1] - s.ln()).abs() < 1e-15);
    /// ```
    #[inline]
    pub fn stress_basis(self, f: &Mat2) -> (Mat2, Mat2) {
        match self {
            MaterialModel::LinearElastic => {
                let e = small_strain(f);
                let tr = mat2::trace(&e);
                (mat2::scale(&e, 2.0), mat2::scale(&mat2::IDENTITY, tr))
            }
            MaterialModel::StVenantKirchhoff => {
                let g = green_strain(f);
                let p_mu = mat2::scale(&mat2::mul(f, &g), 2.0);
                (p_mu, mat2::scale(f, mat2::trace(&g)))
            }
            MaterialModel::Corotated => {
                let (c, s, _) = polar_rotation(f);
                let rot = [[c, -s], [s, c]];
                let p_mu = mat2::scale(&mat2::sub(f, &rot), 2.0);
                (p_mu, mat2::scale(&mat2::cofactor(f), mat2::det(f) - 1.0))
            }
            MaterialModel::NeoHookean => {
                let j = mat2::det(f);
                let f_inv_t = mat2::scale(&mat2::cofactor(f), 1.0 / j);
                (mat2::sub(f, &f_inv_t), mat2::scale(&f_inv_t, j.ln()))
            }
        }
    }

    /// The differential dP = μ dP_μ + λ dP_λ at F in direction dF (the TRUE,
    /// unprojected one). Returns (dP_μ, dP_λ). Each is the Hessian of its
    /// energy term applied to dF, so it is self-adjoint: A : dP(B) =
    /// B : dP(A), which the element adjoints use. Needs det F > 0.
    ///
    /// ```
    /// use maya::fem::MaterialModel;
    /// // Linear elasticity: dP_μ = 2 sym(dF), dP_λ = tr(dF) I.
    /// let df = [[0.0, 1.0], [0.0, 0.0]];
    /// let (d_mu, d_lam) = MaterialModel::LinearElastic.stress_differential_basis(&[[1.0, 0.0], [0.0, 1.0]], &df);
    /// assert_eq!(d_mu, [[0.0, 1.0], [1.0, 0.0]]);
    /// assert_eq!(d_lam, [[0.0, 0.0], [0.0, 0.0]]);
    /// ```
    #[inline]
    pub fn stress_differential_basis(self, f: &Mat2, df: &Mat2) -> (Mat2, Mat2) {
        match self {
            MaterialModel::LinearElastic => (
                mat2::scale(&mat2::sym(df), 2.0),
                mat2::scale(&mat2::IDENTITY, mat2::trace(df)),
            ),
            MaterialModel::StVenantKirchhoff => {
                // dG = sym(Fᵀ dF); tr dG = F : dF.
                let g = green_strain(f);
                let dg = mat2::sym(&mat2::mul_at(f, df));
                let d_mu = mat2::add(&mat2::mul(df, &g), &mat2::mul(f, &dg));
                let d_lam = mat2::combine(mat2::ddot(f, df), f, mat2::trace(&g), df);
                (mat2::scale(&d_mu, 2.0), d_lam)
            }
            MaterialModel::Corotated => {
                // dJ = cof F : dF; cof is linear in 2D.
                let (c, s, r) = polar_rotation(f);
                let dr = rotation_differential(f, df, c, s, r);
                let cof = mat2::cofactor(f);
                let d_lam = mat2::combine(
                    mat2::ddot(&cof, df),
                    &cof,
                    mat2::det(f) - 1.0,
                    &mat2::cofactor(df),
                );
                (mat2::scale(&mat2::sub(df, &dr), 2.0), d_lam)
            }
            MaterialModel::NeoHookean => {
                // d(F⁻ᵀ) = −F⁻ᵀ dFᵀ F⁻ᵀ; d ln J = F⁻ᵀ : dF.
                let j = mat2::det(f);
                let f_inv_t = mat2::scale(&mat2::cofactor(f), 1.0 / j);
                let d_inv_t = mat2::mul(&mat2::mul_bt(&f_inv_t, df), &f_inv_t);
                let d_mu = mat2::add(df, &d_inv_t);
                let d_lam = mat2::combine(mat2::ddot(&f_inv_t, df), &f_inv_t, -j.ln(), &d_inv_t);
                (d_mu, d_lam)
            }
        }
    }

    /// ψ(F) at (μ, λ). Needs det F > 0.
    ///
    /// ```
    /// use maya::fem::MaterialModel;
    /// // StVK under uniaxial strain diag(s, 1): G₁₁ = (s² − 1)/2 = g and
    /// // ψ = μ g² + λ g²/2.
    /// let (s, mu, lam) = (1.2_f64, 2.0, 3.0);
    /// let g = (s * s - 1.0) / 2.0;
    /// let psi = MaterialModel::StVenantKirchhoff.energy(&[[s, 0.0], [0.0, 1.0]], mu, lam);
    /// assert!((psi - (mu + lam / 2.0) * g * g).abs() < 1e-15);
    /// ```
    #[inline]
    pub fn energy(self, f: &Mat2, mu: f64, lam: f64) -> f64 {
        let (e_mu, e_lam) = self.energy_basis(f);
        mu * e_mu + lam * e_lam
    }

    /// P(F) at (μ, λ). Needs det F > 0. See [`MaterialModel::stress_basis`].
    #[inline]
    pub fn stress(self, f: &Mat2, mu: f64, lam: f64) -> Mat2 {
        let (p_mu, p_lam) = self.stress_basis(f);
        mat2::combine(mu, &p_mu, lam, &p_lam)
    }

    /// dP at F in direction dF, at (μ, λ). Needs det F > 0. See
    /// [`MaterialModel::stress_differential_basis`].
    #[inline]
    pub fn stress_differential(self, f: &Mat2, mu: f64, lam: f64, df: &Mat2) -> Mat2 {
        let (d_mu, d_lam) = self.stress_differential_basis(f, df);
        mat2::combine(mu, &d_mu, lam, &d_lam)
    }

    /// The model's name: "linear-elastic", "stvk", "corotated" or
    /// "neo-hookean" (as [`MaterialModel::from_name`] reads it).
    ///
    /// ```
    /// use maya::fem::MaterialModel;
    /// assert_eq!(MaterialModel::NeoHookean.name(), "neo-hookean");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            MaterialModel::LinearElastic => "linear-elastic",
            MaterialModel::StVenantKirchhoff => "stvk",
            MaterialModel::Corotated => "corotated",
            MaterialModel::NeoHookean => "neo-hookean",
        }
    }

    /// The model called `name` (see [`MaterialModel::name`]), or
    /// [`Error::Unknown`] listing the known names.
    ///
    /// ```
    /// use maya::fem::MaterialModel;
    /// assert_eq!(MaterialModel::from_name("stvk").unwrap(), MaterialModel::StVenantKirchhoff);
    /// assert!(MaterialModel::from_name("rubber").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<MaterialModel> {
        MaterialModel::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| Error::Unknown {
                what: "material model",
                name: name.to_string(),
                known: MaterialModel::ALL.iter().map(|m| m.name()).collect(),
            })
    }
}

/// (μ, λ) from Young's modulus E and Poisson ratio ν, plane strain:
/// μ = E/(2(1 + ν)), λ = Eν/((1 + ν)(1 − 2ν)).
///
/// ```
/// use maya::fem::lame;
/// let (mu, lam) = lame(1e4, 0.25);
/// assert!((mu - 4e3).abs() < 1e-9 && (lam - 4e3).abs() < 1e-9);
/// ```
///
/// Panics for E ≤ 0 or ν outside (−1, 1/2); see [`try_lame`].
#[track_caller]
pub fn lame(e: f64, nu: f64) -> (f64, f64) {
    try_lame(e, nu).or_panic()
}

/// [`lame`], returning [`Error::Parameter`] for a Young's modulus that is
/// not finite and positive, or a Poisson ratio outside (−1, 1/2) (where μ
/// or λ would be infinite or negative).
pub fn try_lame(e: f64, nu: f64) -> Result<(f64, f64)> {
    if !(e.is_finite() && e > 0.0) {
        return Err(Error::Parameter {
            name: "Young's modulus E",
            value: e,
            reason: "must be finite and positive",
        });
    }
    if !(nu > -1.0 && nu < 0.5) {
        return Err(Error::Parameter {
            name: "Poisson ratio ν",
            value: nu,
            reason: "must lie in (−1, 1/2) (1/2 is incompressible: λ infinite)",
        });
    }
    Ok((
        e / (2.0 * (1.0 + nu)),
        e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::testing::{fd_columns, flat2, random_f, rel_error, unflat2, uniform};

    /// Random deformation gradients per model (J in [0.7, 1.4]).
    const SEEDS: u64 = 8;

    #[test]
    fn stress_is_the_derivative_of_the_energy() {
        let mut worst = 0.0_f64;
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let f = random_f(seed);
                let (p_mu, p_lam) = model.stress_basis(&f);
                let columns = fd_columns(&flat2(&f), |v| {
                    let (a, b) = model.energy_basis(&unflat2(v));
                    vec![a, b]
                });
                let numeric_mu: Vec<f64> = columns.iter().map(|c| c[0]).collect();
                let numeric_lam: Vec<f64> = columns.iter().map(|c| c[1]).collect();
                let err = rel_error(&flat2(&p_mu), &numeric_mu)
                    .max(rel_error(&flat2(&p_lam), &numeric_lam));
                assert!(
                    err < 1e-6,
                    "{model:?}, F = {f:?}: P vs FD of ψ, rel err {err:e}"
                );
                worst = worst.max(err);
            }
        }
        eprintln!("P vs FD of ψ: max rel err {worst:e}");
    }

    #[test]
    fn stress_differential_is_the_derivative_of_the_stress() {
        let mut worst = 0.0_f64;
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let f = random_f(seed);
                let columns = fd_columns(&flat2(&f), |v| {
                    let (a, b) = model.stress_basis(&unflat2(v));
                    [flat2(&a), flat2(&b)].concat()
                });
                for (i, numeric) in columns.iter().enumerate() {
                    let mut df = [[0.0; 2]; 2];
                    df[i / 2][i % 2] = 1.0;
                    let (d_mu, d_lam) = model.stress_differential_basis(&f, &df);
                    let err = rel_error(&[flat2(&d_mu), flat2(&d_lam)].concat(), numeric);
                    assert!(
                        err < 1e-6,
                        "{model:?}, F = {f:?}, dF = e{i}: rel err {err:e}"
                    );
                    worst = worst.max(err);
                }
                // The convenience form combines the bases at (μ, λ).
                let df = unflat2(&uniform(4, seed + 99));
                let (d_mu, d_lam) = model.stress_differential_basis(&f, &df);
                let combined = model.stress_differential(&f, 1.5, 0.5, &df);
                let expected = mat2::combine(1.5, &d_mu, 0.5, &d_lam);
                assert!(rel_error(&flat2(&combined), &flat2(&expected)) < 1e-15);
            }
        }
        eprintln!("dP vs FD of P: max rel err {worst:e}");
    }

    #[test]
    fn stress_differential_is_self_adjoint() {
        // a : C[b] = b : C[a]: the element adjoints rely on it.
        for model in MaterialModel::ALL {
            for seed in 0..SEEDS {
                let f = random_f(seed);
                let a = unflat2(&uniform(4, 3 * seed + 1));
                let b = unflat2(&uniform(4, 3 * seed + 2));
                let ab = mat2::ddot(&a, &model.stress_differential(&f, 1.3, 2.1, &b));
                let ba = mat2::ddot(&b, &model.stress_differential(&f, 1.3, 2.1, &a));
                assert!(
                    (ab - ba).abs() <= 1e-13 * ab.abs().max(1.0),
                    "{model:?}: {ab} vs {ba}"
                );
            }
        }
    }

    #[test]
    fn uniaxial_strain_matches_the_closed_forms() {
        let (mu, lam) = (1.3, 2.1);
        for s in [0.8_f64, 1.25, 1.5] {
            let f = [[s, 0.0], [0.0, 1.0]];
            let expected = [
                (
                    MaterialModel::NeoHookean,
                    mu * (s - 1.0 / s) + lam * s.ln() / s,
                    lam * s.ln(),
                ),
                (
                    MaterialModel::StVenantKirchhoff,
                    s * (2.0 * mu + lam) * (s * s - 1.0) / 2.0,
                    lam * (s * s - 1.0) / 2.0,
                ),
                (
                    MaterialModel::Corotated,
                    (2.0 * mu + lam) * (s - 1.0),
                    lam * (s - 1.0) * s,
                ),
                (
                    MaterialModel::LinearElastic,
                    (2.0 * mu + lam) * (s - 1.0),
                    lam * (s - 1.0),
                ),
            ];
            for (model, p11, p22) in expected {
                let p = model.stress(&f, mu, lam);
                let err = rel_error(&flat2(&p), &[p11, 0.0, 0.0, p22]);
                assert!(
                    err < 1e-13,
                    "{model:?} at s = {s}: P = {p:?}, expected P11 = {p11}, P22 = {p22}"
                );
            }
        }
    }

    #[test]
    fn rigid_rotations_store_no_energy_except_in_linear_elasticity() {
        let (mu, lam, theta) = (1.3, 2.1, 0.7_f64);
        let (sin, cos) = theta.sin_cos();
        let rot = [[cos, -sin], [sin, cos]];
        for model in MaterialModel::ALL {
            let psi = model.energy(&rot, mu, lam);
            let p = model.stress(&rot, mu, lam);
            if model == MaterialModel::LinearElastic {
                // ε = (cos θ − 1) I: ψ = 2(μ + λ)(1 − cos θ)², P = 2(μ + λ)(cos θ − 1) I.
                let expected = 2.0 * (mu + lam) * (1.0 - cos).powi(2);
                assert!(
                    (psi - expected).abs() < 1e-14 && psi > 0.01,
                    "{psi} vs {expected}"
                );
                let diag = 2.0 * (mu + lam) * (cos - 1.0);
                assert!(rel_error(&flat2(&p), &[diag, 0.0, 0.0, diag]) < 1e-14);
            } else {
                assert!(psi.abs() < 1e-14, "{model:?}: ψ = {psi:e}");
                assert!(
                    p.iter().flatten().all(|v| v.abs() < 1e-14),
                    "{model:?}: P = {p:?}"
                );
                // And ψ(Q F) = ψ(F) away from rest.
                for seed in 0..SEEDS {
                    let f = random_f(seed);
                    let (a, b) = (
                        model.energy(&mat2::mul(&rot, &f), mu, lam),
                        model.energy(&f, mu, lam),
                    );
                    assert!((a - b).abs() < 1e-13 * b.max(1.0), "{model:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn corotated_is_finite_where_its_rotation_is_undefined() {
        // F₁₁ + F₂₂ = 0 = F₂₁ − F₁₂ (J = −5): R is taken as I, dR as 0.
        let f = [[1.0, 2.0], [2.0, -1.0]];
        let (p_mu, _) = MaterialModel::Corotated.stress_basis(&f);
        assert_eq!(p_mu, [[0.0, 4.0], [4.0, -4.0]]);
        let (d_mu, d_lam) =
            MaterialModel::Corotated.stress_differential_basis(&f, &[[0.3, 0.1], [0.2, 0.4]]);
        assert!(d_mu.iter().chain(&d_lam).flatten().all(|v| v.is_finite()));
    }

    #[test]
    fn lame_inverts_the_engineering_constants() {
        for (e, nu) in [(1e4, 0.3), (2.5, -0.2), (7.0, 0.0)] {
            let (mu, lam) = lame(e, nu);
            // E = μ(3λ + 2μ)/(λ + μ), ν = λ/(2(λ + μ)).
            assert!((mu * (3.0 * lam + 2.0 * mu) / (lam + mu) - e).abs() < 1e-12 * e);
            assert!((lam / (2.0 * (lam + mu)) - nu).abs() < 1e-15);
        }
        assert!(matches!(try_lame(1.0, 0.5), Err(Error::Parameter { value, .. }) if value == 0.5));
        assert!(matches!(try_lame(0.0, 0.3), Err(Error::Parameter { value, .. }) if value == 0.0));
        assert!(try_lame(f64::NAN, 0.3).is_err() && try_lame(1.0, f64::NAN).is_err());
    }

    #[test]
    fn names_round_trip() {
        for model in MaterialModel::ALL {
            assert_eq!(MaterialModel::from_name(model.name()), Ok(model));
        }
        let err = MaterialModel::from_name("rubber").unwrap_err().to_string();
        assert!(
            err.contains("rubber") && err.contains("neo-hookean"),
            "{err}"
        );
    }
}
