//! W5 `fem-explicit`: a 4 × 1 bar clamped at its left edge, P1 triangles,
//! compressible Neo-Hookean (plane strain), lumped mass, gravity,
//! semi-implicit Euler, dt = 5e-5, T = 200 steps; gradients w.r.t. the
//! Young's modulus field, the initial velocity and the rest positions.

use super::{Outcome, Workload};
use maya::fem::{MaterialModel, SoftBody, TriMesh};
use maya::{Tensor, TensorTape};

const DT: f64 = 5e-5;
const STEPS: usize = 200;
const NU: f64 = 0.3;

pub fn workload() -> Workload {
    Workload {
        name: "fem-explicit",
        alias: "W5",
        sizes: &[16, 48],
        prepare,
    }
}

/// The bar's mesh exactly as BENCHMARKS.md numbers it: vertex i(ny+1) + j
/// at (4i/nx, j/ny), squares in order i then j, each split (a, b, c),
/// (a, c, d).
pub fn bar(ny: usize) -> TriMesh {
    let nx = 4 * ny;
    let idx = |i: usize, j: usize| i * (ny + 1) + j;
    let mut vertices = Vec::with_capacity((nx + 1) * (ny + 1));
    for i in 0..=nx {
        for j in 0..=ny {
            vertices.push([(4 * i) as f64 / nx as f64, j as f64 / ny as f64]);
        }
    }
    let mut triangles = Vec::with_capacity(2 * nx * ny);
    for i in 0..nx {
        for j in 0..ny {
            let (a, b, c, d) = (idx(i, j), idx(i + 1, j), idx(i + 1, j + 1), idx(i, j + 1));
            triangles.push([a, b, c]);
            triangles.push([a, c, d]);
        }
    }
    TriMesh::new(vertices, triangles).expect("the W5 bar is a valid mesh")
}

fn prepare(ny: usize, grad: bool) -> Box<dyn FnMut() -> Outcome> {
    let mesh = bar(ny);
    let (v_count, t_count) = (mesh.n_vertices(), mesh.n_triangles());
    let x_rest = mesh.rest_tensor();
    let youngs = Tensor::from_fn(&[t_count], |e| {
        1e4 * (1.0 + 0.1 * ((e[0] % 7) as f64 - 3.0) / 3.0)
    });
    let v0 = Tensor::from_fn(&[v_count, 2], |ix| {
        if ix[1] == 0 {
            0.0
        } else {
            -0.5 * x_rest.data[2 * ix[0]]
        }
    });
    let clamped: Vec<usize> = (0..=ny).collect();
    // v ← s·(…): the clamped vertices' initial velocity has no effect.
    let free = Tensor::from_fn(&[v_count, 1], |ix| if ix[0] <= ny { 0.0 } else { 1.0 });
    Box::new(move || {
        let t = TensorTape::new();
        let leaf = |x: &Tensor| {
            if grad {
                t.var(x.clone())
            } else {
                t.constant(x.clone())
            }
        };
        let (e, v0, x) = (leaf(&youngs), leaf(&v0), leaf(&x_rest));
        let body = SoftBody::new(&mesh, MaterialModel::NeoHookean, x, e, NU, t.scalar(1.0));
        let system = body
            .system(DT)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
            .with_fixed(&clamped);
        let x0 = t.constant(x_rest.clone());
        let (x_end, _) = system
            .rollout_final(&x0, &v0.mul(&t.constant(free.clone())), STEPS)
            .expect("W5 keeps det F > 0");
        let loss = x_end.sub(&t.constant(x_rest.clone())).square().sum();
        if !grad {
            return Outcome {
                sums: Vec::new(),
                loss: loss.item(),
                checks: vec![],
            };
        }
        let g = t.grad_wrt(loss, &[e, v0, x]);
        let xdx: f64 = x_rest.data.iter().zip(&g[2].data).map(|(a, b)| a * b).sum();
        let last = &g[2].data[2 * (v_count - 1)..];
        Outcome {
            sums: Vec::new(),
            loss: loss.item(),
            checks: vec![
                ("sum dL/dE", vec![g[0].data.iter().sum()]),
                ("dL/dE[0]", vec![g[0].data[0]]),
                ("sum dL/dv0", vec![g[1].data.iter().sum()]),
                ("sum X.dL/dX", vec![xdx]),
                ("dL/dX[V-1]", last.to_vec()),
            ],
        }
    })
}
