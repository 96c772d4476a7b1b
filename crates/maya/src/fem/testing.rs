//! Test helpers of the element kernels: deterministic random inputs, f64
//! central differences and a scale-aware relative error.

use super::mat2::{self, Mat2};
use super::triangle::Corners;
use crate::tensor::Tensor;

/// `n` deterministic values, uniform in [−1, 1).
pub(crate) fn uniform(n: usize, seed: u64) -> Vec<f64> {
    Tensor::rand_uniform(&[n], seed).data
}

/// A random deformation gradient R(θ)(I + 0.3 U), U uniform in [−1, 1),
/// redrawn until J = det F lies in [0.7, 1.4].
pub(crate) fn random_f(seed: u64) -> Mat2 {
    (0..)
        .map(|k| {
            let u = uniform(5, seed.wrapping_mul(7919).wrapping_add(k));
            let s = [
                [1.0 + 0.3 * u[0], 0.3 * u[1]],
                [0.3 * u[2], 1.0 + 0.3 * u[3]],
            ];
            let theta = std::f64::consts::PI * u[4];
            let (sin, cos) = theta.sin_cos();
            mat2::mul(&[[cos, -sin], [sin, cos]], &s)
        })
        .find(|f| (0.7..=1.4).contains(&mat2::det(f)))
        .expect("an endless search")
}

/// A random counter-clockwise rest triangle near the unit right triangle:
/// its corners, B = Dm⁻¹ and area.
pub(crate) fn random_rest(seed: u64) -> (Corners, Mat2, f64) {
    let u = uniform(6, seed ^ 0xA5A5);
    let x = [
        [0.2 * u[0], 0.2 * u[1]],
        [1.0 + 0.2 * u[2], 0.2 * u[3]],
        [0.2 * u[4], 1.0 + 0.2 * u[5]],
    ];
    let (b, area) = super::rest::rest_shape(&x);
    (x, b, area)
}

/// Deformed corners x = F X + t of the rest corners X.
pub(crate) fn deform(rest: &Corners, f: &Mat2, t: [f64; 2]) -> Corners {
    rest.map(|p| {
        [
            f[0][0] * p[0] + f[0][1] * p[1] + t[0],
            f[1][0] * p[0] + f[1][1] * p[1] + t[1],
        ]
    })
}

/// The central-difference Jacobian of `g` at `p`, column by column:
/// column i is (g(p + h eᵢ) − g(p − h eᵢ)) / 2h with h = 1e-6 max(1, |pᵢ|).
pub(crate) fn fd_columns(p: &[f64], g: impl Fn(&[f64]) -> Vec<f64>) -> Vec<Vec<f64>> {
    let mut probe = p.to_vec();
    (0..p.len())
        .map(|i| {
            let h = 1e-6 * p[i].abs().max(1.0);
            probe[i] = p[i] + h;
            let up = g(&probe);
            probe[i] = p[i] - h;
            let down = g(&probe);
            probe[i] = p[i];
            up.iter()
                .zip(&down)
                .map(|(u, d)| (u - d) / (2.0 * h))
                .collect()
        })
        .collect()
}

/// The largest |a − n| / max(|n|, 1e-3 · max|n|) over the entries: the
/// relative error, with entries far below the largest measured against a
/// thousandth of it (a central difference resolves an entry only to about
/// 1e-10 of the function's scale).
pub(crate) fn rel_error(analytic: &[f64], numeric: &[f64]) -> f64 {
    assert_eq!(analytic.len(), numeric.len());
    let scale = numeric.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let floor = (1e-3 * scale).max(1e-300);
    analytic
        .iter()
        .zip(numeric)
        .map(|(a, n)| (a - n).abs() / n.abs().max(floor))
        .fold(0.0, f64::max)
}

/// Flattens a matrix, row-major.
pub(crate) fn flat2(m: &Mat2) -> Vec<f64> {
    vec![m[0][0], m[0][1], m[1][0], m[1][1]]
}

/// A matrix from 4 values, row-major.
pub(crate) fn unflat2(v: &[f64]) -> Mat2 {
    [[v[0], v[1]], [v[2], v[3]]]
}

/// Flattens corners: x0x, x0y, x1x, x1y, x2x, x2y.
pub(crate) fn flat_corners(c: &Corners) -> Vec<f64> {
    c.iter().flatten().copied().collect()
}

/// Corners from 6 values.
pub(crate) fn unflat_corners(v: &[f64]) -> Corners {
    [[v[0], v[1]], [v[2], v[3]], [v[4], v[5]]]
}
