//! The finite-element kernels against exact answers: the nonlinear patch
//! test, rigid motions, the conservation laws of rotation-invariant
//! energies, the material gradient at fixed Poisson ratio, and the rest-shape
//! gradient (translation, rotation, the Eshelby form, central differences).

use maya::fem::{
    lame, rest_geometry, rest_shape, rest_shape_vjp, triangle_energy, triangle_energy_grads,
    triangle_forces, triangle_forces_vjp, Corners, Mat2, MaterialModel,
};
use maya::{Tensor, TensorTape};
use std::sync::Arc;

const MU: f64 = 1.3;
const LAM: f64 = 2.1;

fn uniform(n: usize, seed: u64) -> Vec<f64> {
    Tensor::rand_uniform(&[n], seed).data
}

fn mat_mul(a: &Mat2, b: &Mat2) -> Mat2 {
    let e = |i: usize, j: usize| a[i][0] * b[0][j] + a[i][1] * b[1][j];
    [[e(0, 0), e(0, 1)], [e(1, 0), e(1, 1)]]
}

fn apply(f: &Mat2, p: [f64; 2], t: [f64; 2]) -> [f64; 2] {
    [
        f[0][0] * p[0] + f[0][1] * p[1] + t[0],
        f[1][0] * p[0] + f[1][1] * p[1] + t[1],
    ]
}

fn rotation(theta: f64) -> Mat2 {
    let (s, c) = theta.sin_cos();
    [[c, -s], [s, c]]
}

/// A 3×3-cell mesh of [0, 1.5] × [0, 1.2] (16 vertices, 18 triangles, the
/// 4 interior vertices jittered by up to 0.2 h), counter-clockwise.
struct Mesh {
    tris: Arc<Vec<[usize; 3]>>,
    x: Vec<[f64; 2]>,
    interior: Vec<usize>,
}

fn jittered_mesh() -> Mesh {
    let n = 3;
    let (hx, hy) = (0.5, 0.4);
    let id = |i: usize, j: usize| j * (n + 1) + i;
    let noise = uniform(2 * (n + 1) * (n + 1), 5);
    let (mut x, mut interior) = (Vec::new(), Vec::new());
    for j in 0..=n {
        for i in 0..=n {
            let inside = i > 0 && i < n && j > 0 && j < n;
            let k = 2 * id(i, j);
            let jitter = if inside { 0.2 } else { 0.0 };
            x.push([
                hx * (i as f64 + jitter * noise[k]),
                hy * (j as f64 + jitter * noise[k + 1]),
            ]);
            if inside {
                interior.push(id(i, j));
            }
        }
    }
    let mut tris = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let (a, b, c, d) = (id(i, j), id(i + 1, j), id(i + 1, j + 1), id(i, j + 1));
            tris.extend_from_slice(&[[a, b, c], [a, c, d]]);
        }
    }
    Mesh {
        tris: Arc::new(tris),
        x,
        interior,
    }
}

/// B and A per triangle from the rest-geometry tape node.
fn rest_of(mesh: &Mesh) -> Vec<(Mat2, f64)> {
    let t = TensorTape::new();
    let flat: Vec<f64> = mesh.x.iter().flatten().copied().collect();
    let x = t.var(Tensor::from_data(flat, vec![mesh.x.len(), 2]));
    let density = t.constant(Tensor::ones(&[mesh.tris.len()]));
    let rest = rest_geometry(&mesh.tris, &x, &density);
    let (b, a) = (rest.dm_inv.value().data, rest.area.value().data);
    (0..mesh.tris.len())
        .map(|e| {
            let m = [[b[4 * e], b[4 * e + 1]], [b[4 * e + 2], b[4 * e + 3]]];
            (m, a[e])
        })
        .collect()
}

/// The summed internal forces per vertex, with the deformed positions `x`.
fn assemble(model: MaterialModel, mesh: &Mesh, x: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut force = vec![[0.0; 2]; x.len()];
    for (tri, (b, area)) in mesh.tris.iter().zip(rest_of(mesh)) {
        let corners = tri.map(|v| x[v]);
        let f = triangle_forces(model, &corners, &b, area, MU, LAM).unwrap();
        for (c, &v) in tri.iter().enumerate() {
            force[v][0] += f[c][0];
            force[v][1] += f[c][1];
        }
    }
    force
}

fn max_abs(v: &[[f64; 2]]) -> f64 {
    v.iter().flatten().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn nonlinear_patch_test_interior_forces_vanish() {
    let mesh = jittered_mesh();
    let f0 = [[1.15, 0.2], [-0.1, 0.9]];
    let x: Vec<[f64; 2]> = mesh.x.iter().map(|&p| apply(&f0, p, [0.3, -0.7])).collect();
    let total_area: f64 = rest_of(&mesh).iter().map(|(_, a)| a).sum();
    assert!((total_area - 1.5 * 1.2).abs() < 1e-14);
    let mut worst = 0.0_f64;
    for model in MaterialModel::ALL {
        let force = assemble(model, &mesh, &x);
        let scale = max_abs(&force);
        assert!(scale > 0.1, "{model:?}: the boundary carries the load");
        for &v in &mesh.interior {
            let rel = force[v][0].abs().max(force[v][1].abs()) / scale;
            assert!(
                rel < 1e-13,
                "{model:?}: interior vertex {v} force {:?}",
                force[v]
            );
            worst = worst.max(rel);
        }
        // The boundary reactions' virial: Σ_v f_v X_vᵀ = −(Σ A) P(F₀).
        let p = model.stress(&f0, MU, LAM);
        for i in 0..2 {
            for j in 0..2 {
                let virial: f64 = force.iter().zip(&mesh.x).map(|(f, x)| f[i] * x[j]).sum();
                let expected = -total_area * p[i][j];
                assert!(
                    (virial - expected).abs() < 1e-13 * scale,
                    "{model:?} [{i}][{j}]: {virial} vs {expected}"
                );
            }
        }
    }
    eprintln!("patch test: max interior |f| / max |f| = {worst:e}");
}

#[test]
fn rigid_motions_store_no_energy_except_in_linear_elasticity() {
    let mesh = jittered_mesh();
    let (theta, shift) = (0.9_f64, [2.0, -1.0]);
    let rot = rotation(theta);
    let x: Vec<[f64; 2]> = mesh.x.iter().map(|&p| apply(&rot, p, shift)).collect();
    for model in MaterialModel::ALL {
        let force = assemble(model, &mesh, &x);
        for (tri, (b, area)) in mesh.tris.iter().zip(rest_of(&mesh)) {
            let energy = triangle_energy(model, &tri.map(|v| x[v]), &b, area, MU, LAM).unwrap();
            if model == MaterialModel::LinearElastic {
                // ε = (cos θ − 1) I in every triangle: ψ = 2(μ + λ)(1 − cos θ)².
                let expected = area * 2.0 * (MU + LAM) * (1.0 - theta.cos()).powi(2);
                assert!((energy - expected).abs() < 1e-13 && energy > 1e-3 * area);
            } else {
                assert!(energy.abs() < 1e-14, "{model:?}: energy {energy:e}");
            }
        }
        if model == MaterialModel::LinearElastic {
            assert!(
                max_abs(&force) > 0.1,
                "linear elasticity resists a rotation"
            );
        } else {
            assert!(
                max_abs(&force) < 1e-13,
                "{model:?}: forces {:e}",
                max_abs(&force)
            );
        }
    }
}

#[test]
fn forces_conserve_momentum_and_angular_momentum() {
    for seed in 0..8 {
        let u = uniform(6, 100 + seed);
        let x: Corners = [
            [0.3 * u[0], 0.3 * u[1]],
            [1.2 + 0.3 * u[2], 0.3 * u[3]],
            [0.3 * u[4], 0.9 + 0.3 * u[5]],
        ];
        let (b, area) = rest_shape(&[[0.0, 0.0], [1.0, 0.1], [0.2, 1.0]]);
        for model in MaterialModel::ALL {
            let f = triangle_forces(model, &x, &b, area, MU, LAM).unwrap();
            let scale = f.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
            let (sx, sy) = (f[0][0] + f[1][0] + f[2][0], f[0][1] + f[1][1] + f[2][1]);
            assert!(
                sx.abs().max(sy.abs()) < 1e-14 * scale,
                "{model:?}: Σf = ({sx}, {sy})"
            );
            let torque: f64 = (0..3).map(|c| x[c][0] * f[c][1] - x[c][1] * f[c][0]).sum();
            if model == MaterialModel::LinearElastic {
                assert!(torque.abs() > 1e-3 * scale, "linear: torque {torque}");
            } else {
                assert!(
                    torque.abs() < 1e-14 * scale,
                    "{model:?}: Σ x × f = {torque:e}"
                );
            }
        }
    }
}

#[test]
fn force_gradient_in_youngs_modulus_is_force_over_e() {
    // μ = aE, λ = bE at fixed ν, so f is linear in E: ∂(ḡ·f)/∂E = ḡ·f/E.
    let (e, nu) = (3.0, 0.3);
    let (mu, lam) = lame(e, nu);
    let x = [[0.1, -0.1], [1.3, 0.2], [-0.2, 0.8]];
    let (b, area) = rest_shape(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]);
    let grad_f = [[0.3, -1.0], [0.7, 0.2], [-0.4, 0.5]];
    for model in MaterialModel::ALL {
        let f = triangle_forces(model, &x, &b, area, mu, lam).unwrap();
        let g = triangle_forces_vjp(model, &x, &b, area, mu, lam, &grad_f);
        let via_lame = (mu * g.mu + lam * g.lam) / e;
        let dot: f64 = (0..3)
            .map(|c| grad_f[c][0] * f[c][0] + grad_f[c][1] * f[c][1])
            .sum();
        assert!(
            (via_lame - dot / e).abs() < 1e-13 * dot.abs(),
            "{model:?}: {via_lame} vs {}",
            dot / e
        );
    }
}

/// Central differences of a scalar function of the rest corners.
fn fd_rest(rest: &Corners, g: impl Fn(&Corners) -> f64) -> Corners {
    let mut out = [[0.0; 2]; 3];
    for c in 0..3 {
        for k in 0..2 {
            let h = 1e-6;
            let (mut up, mut down) = (*rest, *rest);
            up[c][k] += h;
            down[c][k] -= h;
            out[c][k] = (g(&up) - g(&down)) / (2.0 * h);
        }
    }
    out
}

fn rel_error(a: &Corners, n: &Corners) -> f64 {
    let scale = n.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
    a.iter()
        .flatten()
        .zip(n.iter().flatten())
        .map(|(a, n)| (a - n).abs() / n.abs().max(1e-3 * scale))
        .fold(0.0, f64::max)
}

#[test]
fn rest_shape_gradients_of_an_element() {
    let rest: Corners = [[0.1, 0.05], [1.1, -0.1], [0.2, 0.95]];
    let x: Corners = [[0.3, 0.1], [1.4, 0.2], [0.1, 1.1]];
    let grad_f = [[0.3, -1.0], [0.7, 0.2], [-0.4, 0.5]];
    let (b, area) = rest_shape(&rest);
    let (mut worst_energy, mut worst_force) = (0.0_f64, 0.0_f64);
    for model in MaterialModel::ALL {
        // The energy A ψ through B and A.
        let energy = |r: &Corners| {
            let (b, a) = rest_shape(r);
            triangle_energy(model, &x, &b, a, MU, LAM).unwrap()
        };
        let numeric = fd_rest(&rest, energy);
        let g = triangle_energy_grads(model, &x, &b, area, MU, LAM);
        let analytic = rest_shape_vjp(&b, area, &g.b, g.area);
        let err = rel_error(&analytic, &numeric);
        assert!(err < 1e-6, "{model:?}: ∂(Aψ)/∂X rel err {err:e}");
        worst_energy = worst_energy.max(err);
        let scale = numeric
            .iter()
            .flatten()
            .fold(0.0_f64, |m, v| m.max(v.abs()));
        // Translation: the corner gradients sum to 0 (measured by FD).
        for k in 0..2 {
            let sum: f64 = numeric.iter().map(|c| c[k]).sum();
            assert!(sum.abs() < 1e-8 * scale, "{model:?}: Σ ∂(Aψ)/∂X = {sum:e}");
        }
        // Rotating the rest shape leaves an isotropic, frame-invariant ψ unchanged.
        let torque: f64 = (0..3)
            .map(|c| rest[c][0] * numeric[c][1] - rest[c][1] * numeric[c][0])
            .sum();
        if model != MaterialModel::LinearElastic {
            assert!(
                torque.abs() < 1e-8 * scale,
                "{model:?}: Σ X × ∂(Aψ)/∂X = {torque:e}"
            );
        }
        // Eshelby: ∂(Aψ)/∂Dm = A(ψ I − FᵀP) Dm⁻ᵀ, whose columns are X̄₁ and X̄₂.
        let ds = [
            [x[1][0] - x[0][0], x[2][0] - x[0][0]],
            [x[1][1] - x[0][1], x[2][1] - x[0][1]],
        ];
        let f = mat_mul(&ds, &b);
        let (psi, p) = (model.energy(&f, MU, LAM), model.stress(&f, MU, LAM));
        let ftp = [
            [
                f[0][0] * p[0][0] + f[1][0] * p[1][0],
                f[0][0] * p[0][1] + f[1][0] * p[1][1],
            ],
            [
                f[0][1] * p[0][0] + f[1][1] * p[1][0],
                f[0][1] * p[0][1] + f[1][1] * p[1][1],
            ],
        ];
        let eshelby = [[psi - ftp[0][0], -ftp[0][1]], [-ftp[1][0], psi - ftp[1][1]]];
        let bt = [[b[0][0], b[1][0]], [b[0][1], b[1][1]]];
        let dm_bar = mat_mul(&eshelby, &bt);
        for (c, col) in [(1, 0), (2, 1)] {
            for k in 0..2 {
                let expected = area * dm_bar[k][col];
                assert!(
                    (analytic[c][k] - expected).abs() < 1e-12 * scale,
                    "{model:?}: Eshelby corner {c}"
                );
            }
        }
        // The forces' adjoint through B and A, against FD of ḡ·f.
        let loss = |r: &Corners| {
            let (b, a) = rest_shape(r);
            let f = triangle_forces(model, &x, &b, a, MU, LAM).unwrap();
            (0..3)
                .map(|c| grad_f[c][0] * f[c][0] + grad_f[c][1] * f[c][1])
                .sum::<f64>()
        };
        let numeric = fd_rest(&rest, loss);
        let g = triangle_forces_vjp(model, &x, &b, area, MU, LAM, &grad_f);
        let err = rel_error(&rest_shape_vjp(&b, area, &g.b, g.area), &numeric);
        assert!(err < 1e-6, "{model:?}: ∂(ḡ·f)/∂X rel err {err:e}");
        worst_force = worst_force.max(err);
    }
    eprintln!("rest-shape grads vs FD: energy {worst_energy:e}, forces' adjoint {worst_force:e}");
}
