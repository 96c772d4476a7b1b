//! Static equilibrium of soft bodies (`ParticleSystem::equilibrium`):
//! patch tests, the Timoshenko cantilever and its P1 locking, and
//! gradients with known answers (d tip/dE = −tip/E, Σ Eₑ ∂C/∂Eₑ = −C,
//! ∂C/∂f = 2u) and against central differences.

use maya::fem::{rectangle, Diagonal, MaterialModel, SoftBody, TriMesh};
use maya::{gradcheck, NewtonOptions, TVar, Tensor, TensorTape};

/// A unit square, 4 × 4 cells, interior vertices jittered by up to 0.2 h.
fn jittered_square() -> TriMesh {
    let mesh = rectangle([0.0, 0.0], 1.0, 1.0, 4, 4, Diagonal::Alternating).unwrap();
    let h = 0.25;
    let vertices = mesh
        .vertices()
        .iter()
        .enumerate()
        .map(|(v, p)| {
            let interior = p[0] > 0.0 && p[0] < 1.0 && p[1] > 0.0 && p[1] < 1.0;
            if interior {
                let s = v as f64;
                [
                    p[0] + 0.2 * h * (1.7 * s).sin(),
                    p[1] + 0.2 * h * (2.3 * s).cos(),
                ]
            } else {
                *p
            }
        })
        .collect();
    TriMesh::new(vertices, mesh.triangles().to_vec()).unwrap()
}

/// With x = F₀X + b prescribed on the boundary and no load, every
/// material's equilibrium is x = F₀X + b inside too (the patch test; for
/// linear elasticity, any linear displacement field).
#[test]
fn patch_tests_reproduce_homogeneous_deformations_for_every_material() {
    let mesh = jittered_square();
    let boundary =
        mesh.vertices_where(|p| p[0] == 0.0 || p[0] == 1.0 || p[1] == 0.0 || p[1] == 1.0);
    let f0 = [[1.1, 0.15], [-0.05, 0.93]];
    let b = [0.3, -0.2];
    let exact = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        let p = mesh.vertices()[ix[0]];
        f0[ix[1]][0] * p[0] + f0[ix[1]][1] * p[1] + b[ix[1]]
    });
    for model in [
        MaterialModel::LinearElastic,
        MaterialModel::StVenantKirchhoff,
        MaterialModel::Corotated,
        MaterialModel::NeoHookean,
    ] {
        let t = TensorTape::new();
        let body = SoftBody::new(
            &mesh,
            model,
            t.constant(mesh.rest_tensor()),
            t.scalar(1e3),
            0.3,
            t.scalar(1.0),
        );
        // Boundary at F₀X + b, the interior starts at rest, moved by b.
        let start = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
            if boundary.contains(&ix[0]) {
                exact.data[2 * ix[0] + ix[1]]
            } else {
                mesh.vertices()[ix[0]][ix[1]] + b[ix[1]]
            }
        });
        let sys = body.system(1.0).with_fixed(&boundary);
        let x = sys.equilibrium(&t.constant(start)).unwrap().value();
        let err = x
            .data
            .iter()
            .zip(&exact.data)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-11, "{model:?}: max |x − (F₀X + b)| = {err:e}");
    }
}

const LENGTH: f64 = 10.0;
const DEPTH: f64 = 1.0;
const YOUNGS: f64 = 1e3;
const SHEAR: f64 = 1e-2;

/// The cantilever of Timoshenko and Goodier (ν = 0, so plane strain is
/// plane stress): x ∈ [0, L], y ∈ [−D/2, D/2], the exact displacements
/// prescribed on x = 0, a parabolic shear of resultant P on x = L as
/// consistent nodal loads. Returns the body's pieces for `youngs` (a
/// scalar or per-triangle tape value).
fn cantilever<'t>(t: &'t TensorTape, mesh: &TriMesh, youngs: TVar<'t>, load: TVar<'t>) -> TVar<'t> {
    let body = SoftBody::new(
        mesh,
        MaterialModel::LinearElastic,
        t.constant(mesh.rest_tensor()),
        youngs,
        0.0,
        t.scalar(1.0),
    );
    let root = mesh.vertices_where(|p| p[0] == 0.0);
    let i = DEPTH.powi(3) / 12.0;
    let start = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        let p = mesh.vertices()[ix[0]];
        let u = if p[0] == 0.0 && ix[1] == 0 {
            // u_x(0, y) = −P y (2 + ν)(y² − D²/4)/(6EI), u_y(0, y) = 0.
            -SHEAR * p[1] * 2.0 * (p[1] * p[1] - DEPTH * DEPTH / 4.0) / (6.0 * YOUNGS * i)
        } else {
            0.0
        };
        p[ix[1]] + u
    });
    let sys = body
        .system(1.0)
        .with_load(load)
        .with_fixed(&root)
        .with_newton_options(NewtonOptions {
            atol: 1e-14,
            ..NewtonOptions::default()
        });
    sys.equilibrium(&t.constant(start)).unwrap()
}

/// Consistent nodal loads of τ(y) = P/(2I)(D²/4 − y²) on the edge x = L
/// (Simpson's rule is exact for τ times a hat function).
fn end_shear(mesh: &TriMesh) -> Tensor {
    let i = DEPTH.powi(3) / 12.0;
    let tau = |y: f64| SHEAR / (2.0 * i) * (DEPTH * DEPTH / 4.0 - y * y);
    let mut edge = mesh.vertices_where(|p| p[0] == LENGTH);
    edge.sort_by(|a, b| mesh.vertices()[*a][1].total_cmp(&mesh.vertices()[*b][1]));
    let mut f = Tensor::zeros(&[mesh.n_vertices(), 2]);
    for w in edge.windows(2) {
        let (ya, yb) = (mesh.vertices()[w[0]][1], mesh.vertices()[w[1]][1]);
        let (len, ym) = (yb - ya, 0.5 * (ya + yb));
        // ∫ τ N_a = len/6 (τ(a)·1 + 4τ(m)·½ + τ(b)·0), and N_b likewise.
        f.data[2 * w[0] + 1] += len / 6.0 * (tau(ya) + 2.0 * tau(ym));
        f.data[2 * w[1] + 1] += len / 6.0 * (2.0 * tau(ym) + tau(yb));
    }
    f
}

fn tip_vertex(mesh: &TriMesh) -> usize {
    mesh.vertices_where(|p| p[0] == LENGTH && p[1] == 0.0)[0]
}

#[test]
fn the_cantilever_converges_to_timoshenkos_tip_deflection_with_p1_locking() {
    let i = DEPTH.powi(3) / 12.0;
    let exact = SHEAR * LENGTH.powi(3) / (3.0 * YOUNGS * i)
        + 4.0 * SHEAR * DEPTH * DEPTH * LENGTH / (24.0 * YOUNGS * i);
    // Tip over exact on the structured right-diagonal mesh (P1 locks in
    // bending: it needs 8 element rows for 5 %).
    let expected = [(20, 2, 0.535), (40, 4, 0.821), (80, 8, 0.948)];
    let mut errors = Vec::new();
    for (nx, ny, ratio) in expected {
        let mesh = rectangle([0.0, -DEPTH / 2.0], LENGTH, DEPTH, nx, ny, Diagonal::Right).unwrap();
        let t = TensorTape::new();
        let x = cantilever(&t, &mesh, t.scalar(YOUNGS), t.constant(end_shear(&mesh)));
        let tip = x.value().data[2 * tip_vertex(&mesh) + 1];
        println!(
            "{nx}×{ny}: tip {tip:e}, exact {exact:e}, ratio {:.4}",
            tip / exact
        );
        assert!(
            (tip / exact - ratio).abs() < 2e-3,
            "{nx}×{ny}: ratio {}",
            tip / exact
        );
        errors.push(exact - tip);
    }
    assert!(
        errors[1] / errors[2] > 3.2,
        "error ratio {}",
        errors[1] / errors[2]
    );
}

/// Linear statics: u(E) = u(1)/E, so d tip/dE = −tip/E and Σₑ Eₑ ∂tip/∂Eₑ
/// = −tip; for the compliance C = f·u, Σₑ Eₑ ∂C/∂Eₑ = −C and ∂C/∂f = 2u.
#[test]
fn static_gradients_have_their_known_answers() {
    let mesh = rectangle([0.0, -DEPTH / 2.0], LENGTH, DEPTH, 20, 2, Diagonal::Right).unwrap();
    let nt = mesh.n_triangles();
    let t = TensorTape::new();
    let youngs = t.var(Tensor::from_fn(&[nt], |e| {
        YOUNGS * (1.0 + 0.3 * (e[0] as f64 * 0.7).sin())
    }));
    let load = t.var(end_shear(&mesh));
    let x = cantilever(&t, &mesh, youngs, load);
    let u = x.sub(&t.constant(mesh.rest_tensor()));
    let tip = u.at(&[tip_vertex(&mesh), 1]);
    let g = t.grad(tip);
    let e = youngs.value().data;
    let sum: f64 = g.wrt(&youngs).data.iter().zip(&e).map(|(g, e)| g * e).sum();
    assert!(
        (sum + tip.item()).abs() < 1e-9 * tip.item().abs(),
        "Σ E ∂tip/∂E = {sum}, tip = {}",
        tip.item()
    );
    // Compliance.
    let t = TensorTape::new();
    let youngs = t.var(Tensor::from_fn(&[nt], |e| {
        YOUNGS * (1.0 + 0.3 * (e[0] as f64 * 0.7).sin())
    }));
    let load = t.var(end_shear(&mesh));
    let x = cantilever(&t, &mesh, youngs, load);
    let u = x.sub(&t.constant(mesh.rest_tensor()));
    let c = load.mul(&u).sum();
    let g = t.grad_wrt(c, &[youngs, load]);
    let sum: f64 = g[0]
        .data
        .iter()
        .zip(&youngs.value().data)
        .map(|(g, e)| g * e)
        .sum();
    assert!(
        (sum + c.item()).abs() < 1e-9 * c.item(),
        "Σ E ∂C/∂E = {sum}, C = {}",
        c.item()
    );
    // ∂C/∂f = 2u on the free vertices (the root is held, its load does no work).
    let uv = u.value();
    for v in mesh.vertices_where(|p| p[0] > 0.0) {
        for k in 0..2 {
            let (gf, uk) = (g[1].data[2 * v + k], uv.data[2 * v + k]);
            assert!(
                (gf - 2.0 * uk).abs() < 1e-9 * uv.data.iter().fold(0.0f64, |m, x| m.max(x.abs())),
                "v {v}: {gf} vs 2u = {}",
                2.0 * uk
            );
        }
    }
}

/// Nonlinear statics against central differences: a Neo-Hookean block
/// hanging from its top edge under gravity and a load, w.r.t. the modulus
/// field, the load and the rest positions.
#[test]
fn nonlinear_static_gradients_match_central_differences() {
    let mesh = rectangle([0.0, 0.0], 1.0, 1.0, 3, 3, Diagonal::Alternating).unwrap();
    let (nv, nt) = (mesh.n_vertices(), mesh.n_triangles());
    let top = mesh.vertices_where(|p| p[1] == 1.0);
    let r = gradcheck(
        |t, x| {
            let body = SoftBody::new(
                &mesh,
                MaterialModel::NeoHookean,
                x[2],
                x[0],
                0.35,
                t.scalar(50.0),
            );
            let sys = body
                .system(1.0)
                .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
                .with_load(x[1])
                .with_fixed(&top)
                .with_newton_options(NewtonOptions {
                    atol: 1e-13,
                    ..NewtonOptions::default()
                });
            let eq = sys.equilibrium(&t.constant(mesh.rest_tensor())).unwrap();
            eq.square().sum()
        },
        &[
            Tensor::from_fn(&[nt], |e| 2e3 * (1.0 + 0.2 * (e[0] as f64).cos())),
            Tensor::from_fn(&[nv, 2], |ix| 5.0 * ((ix[0] + 2 * ix[1]) as f64).sin()),
            mesh.rest_tensor(),
        ],
    );
    println!("static Neo-Hookean: {r}");
    assert!(r.passed, "{r}");
}
