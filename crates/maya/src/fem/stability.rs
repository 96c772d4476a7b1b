//! The explicit stability check of an elastic mesh: a necessary condition,
//! as for springs (`physics/stability.rs`): it never rejects a stable
//! system.
//!
//! For each triangle e, the Rayleigh quotient ρ = zᵀK_e z / zᵀM z of its
//! stiffest mode z (K_e its stiffness at rest, M the lumped masses of its
//! three vertices — the whole vertex masses, not only the triangle's
//! share) is a lower bound of the system's fastest ω²: the global K is K_e
//! plus the other triangles' stiffnesses, positive semi-definite at rest,
//! so the global Rayleigh quotient of z is at least ρ. A time step past the
//! scheme's bound for ρ therefore blows up; the stiffest triangle is
//! checked as a spring of stiffness zᵀK_e z/zᵀz on mass zᵀMz/zᵀz. A mesh
//! can still be unstable below it (its fastest mode spans several
//! triangles): a rollout then stops with an inverted element or a
//! non-finite state, blaming the time step.

use super::material::MaterialModel;
use super::triangle::triangle_stiffness;
use crate::error::Result;
use crate::physics::StabilityLimit;
use crate::tensor::Tensor;

/// Power iterations for a triangle's stiffest mode (any vector gives a
/// valid lower bound; these converge it to a few digits).
const ITERATIONS: usize = 30;

/// Checks the stiffest of `triangles` under `model` against `limit`;
/// `params` are (μ, λ, B, A), each unbatched or with a leading batch axis,
/// and `masses` `[N]` or `[B, N]`.
pub(crate) fn check_elements(
    model: MaterialModel,
    triangles: &[[usize; 3]],
    params: &[&Tensor],
    masses: &Tensor,
    limit: &StabilityLimit,
) -> Result<()> {
    let t = triangles.len();
    let n = masses.shape.last().copied().unwrap_or(0);
    let envs = masses.numel() / n.max(1);
    let batches = params.iter().map(|p| p.numel()).max().unwrap_or(0) / (4 * t).max(1);
    let mut worst = (0.0, 1.0, 0usize);
    for b in 0..envs.max(batches).max(1) {
        let row = |p: &Tensor, len: usize| {
            let k = if p.numel() > len { b * len } else { 0 };
            p.data[k..k + len].to_vec()
        };
        let (mu, lam, dm_inv, area) = (
            row(params[0], t),
            row(params[1], t),
            row(params[2], 4 * t),
            row(params[3], t),
        );
        let m = row(masses, n);
        for (e, tri) in triangles.iter().enumerate() {
            let bm = [
                [dm_inv[4 * e], dm_inv[4 * e + 1]],
                [dm_inv[4 * e + 2], dm_inv[4 * e + 3]],
            ];
            let det = bm[0][0] * bm[1][1] - bm[0][1] * bm[1][0];
            // The rest corners from Dm = B⁻¹ (F = I there).
            let dm = [
                [bm[1][1] / det, -bm[0][1] / det],
                [-bm[1][0] / det, bm[0][0] / det],
            ];
            let x = [[0.0, 0.0], [dm[0][0], dm[1][0]], [dm[0][1], dm[1][1]]];
            let k = triangle_stiffness(model, &x, &bm, area[e], mu[e], lam[e]);
            let mass: [f64; 6] = std::array::from_fn(|j| m[tri[j / 2]]);
            let (stiffness, mode_mass) = stiffest_mode(&k, &mass);
            if stiffness / mode_mass > worst.0 / worst.1 {
                worst = (stiffness, mode_mass, e);
            }
        }
    }
    let (k, m, e) = worst;
    let tri = triangles[e];
    limit.check(
        || {
            format!(
                "element {e} (vertices {}, {}, {}) of the {} mesh in its stiffest mode",
                tri[0],
                tri[1],
                tri[2],
                model.name()
            )
        },
        k,
        0.0,
        m,
    )
}

/// (zᵀKz/zᵀz, zᵀMz/zᵀz) for the stiffest mode z of the pencil (K, M)
/// found by power iteration on M^{-1/2} K M^{-1/2}.
fn stiffest_mode(k: &[[f64; 6]; 6], mass: &[f64; 6]) -> (f64, f64) {
    let s: [f64; 6] = std::array::from_fn(|j| 1.0 / mass[j].sqrt());
    // A start with every corner moving against the others.
    let mut u: [f64; 6] = [1.0, 0.3, -0.7, 0.9, -0.2, -1.1];
    for _ in 0..ITERATIONS {
        let z: [f64; 6] = std::array::from_fn(|j| s[j] * u[j]);
        let kz: [f64; 6] = std::array::from_fn(|r| (0..6).map(|c| k[r][c] * z[c]).sum());
        let next: [f64; 6] = std::array::from_fn(|j| s[j] * kz[j]);
        let norm = next.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm.is_nan() || norm <= 0.0 {
            return (0.0, 1.0);
        }
        u = next.map(|v| v / norm);
    }
    let z: [f64; 6] = std::array::from_fn(|j| s[j] * u[j]);
    let zz: f64 = z.iter().map(|v| v * v).sum();
    let kzz: f64 = (0..6)
        .map(|r| z[r] * (0..6).map(|c| k[r][c] * z[c]).sum::<f64>())
        .sum();
    let mzz: f64 = (0..6).map(|j| mass[j] * z[j] * z[j]).sum();
    (kzz / zz, mzz / zz)
}
