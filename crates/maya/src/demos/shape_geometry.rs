//! The geometry of a rest shape under design, for `shape-opt`: its total
//! area and the correction that restores it, and triangle quality — plain
//! values to accept or refuse a step, and a penalty on the tape.
//!
//! The total area A = Σₑ ½ (b − a) × (c − a) of a mesh depends on its
//! boundary vertices alone (an inner vertex's terms cancel): ∂A/∂a =
//! ½ (b_y − c_y, c_x − b_x) per triangle (a, b, c), cyclically.

use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

fn corner(x: &Tensor, v: usize) -> [f64; 2] {
    [x.data[2 * v], x.data[2 * v + 1]]
}

fn signed_area(x: &Tensor, tri: &[usize; 3]) -> f64 {
    let [a, b, c] = tri.map(|v| corner(x, v));
    0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
}

/// The total (signed) area of `triangles` at positions `x` `[V, 2]`.
pub(crate) fn total_area(triangles: &[[usize; 3]], x: &Tensor) -> f64 {
    triangles.iter().map(|t| signed_area(x, t)).sum()
}

/// ∂A/∂x `[V, 2]` of the total area.
pub(crate) fn area_gradient(triangles: &[[usize; 3]], x: &Tensor) -> Tensor {
    let mut g = Tensor::zeros(&x.shape);
    for tri in triangles {
        for k in 0..3 {
            let (b, c) = (corner(x, tri[(k + 1) % 3]), corner(x, tri[(k + 2) % 3]));
            g.data[2 * tri[k]] += 0.5 * (b[1] - c[1]);
            g.data[2 * tri[k] + 1] += 0.5 * (c[0] - b[0]);
        }
    }
    g
}

/// Moves the vertices where `mask` `[V, 2]` is 1 along the masked area
/// gradient until the total area is `target` to 1e-12 relative (Newton on
/// a quadratic: two or three steps). [`Error::Solve`] if it cannot (no
/// design vertex on the boundary, or ten steps were not enough).
pub(crate) fn correct_area(
    triangles: &[[usize; 3]],
    x: &mut Tensor,
    mask: &Tensor,
    target: f64,
) -> Result<()> {
    let mut miss = total_area(triangles, x) - target;
    for _ in 0..10 {
        if miss.abs() <= 1e-12 * target.abs() {
            return Ok(());
        }
        let g = area_gradient(triangles, x);
        let g: Vec<f64> = g.data.iter().zip(&mask.data).map(|(g, m)| g * m).collect();
        let norm2: f64 = g.iter().map(|v| v * v).sum();
        if norm2 == 0.0 {
            break;
        }
        for (xi, gi) in x.data.iter_mut().zip(&g) {
            *xi -= miss / norm2 * gi;
        }
        miss = total_area(triangles, x) - target;
    }
    Err(Error::Solve {
        solver: "shape-opt area correction",
        step: 0,
        iters: 10,
        residual: miss,
        reason: format!("the total area stays {miss:e} from its target {target}; the design must move boundary vertices"),
    })
}

/// The vertex pairs joined by an edge of `triangles`, each once, as
/// neighbour lists of `n` vertices.
pub(crate) fn neighbours(triangles: &[[usize; 3]], n: usize) -> Vec<Vec<usize>> {
    let mut lists = vec![Vec::new(); n];
    for tri in triangles {
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            lists[a].push(b);
            lists[b].push(a);
        }
    }
    for list in &mut lists {
        list.sort_unstable();
        list.dedup();
    }
    lists
}

/// A field `[V, 2]` smoothed over the mesh: `sweeps` diffusion steps
/// v_i ← m_i (v_i + ω Σ_(j ~ i) (v_j − v_i)), ω = 1/(2 · the largest
/// vertex degree), with m the 0/1 `mask` (held entries stay 0). Each step
/// is symmetric and positive semi-definite, so the result s of a gradient g
/// has g·s ≥ 0: still a descent direction. Applied to a shape gradient it
/// is a Sobolev gradient, without the element-scale zig-zags of the
/// per-vertex gradient, and it spreads the boundary's motion into the
/// interior.
pub(crate) fn smooth(
    field: &Tensor,
    neighbours: &[Vec<usize>],
    mask: &Tensor,
    sweeps: usize,
) -> Tensor {
    let degree = neighbours.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let omega = 0.5 / degree as f64;
    let mut v: Vec<f64> = field
        .data
        .iter()
        .zip(&mask.data)
        .map(|(g, m)| g * m)
        .collect();
    for _ in 0..sweeps {
        let before = v.clone();
        for (i, list) in neighbours.iter().enumerate() {
            for k in 0..2 {
                let flow: f64 = list
                    .iter()
                    .map(|&j| before[2 * j + k] - before[2 * i + k])
                    .sum();
                v[2 * i + k] = mask.data[2 * i + k] * (before[2 * i + k] + omega * flow);
            }
        }
    }
    Tensor::from_data(v, field.shape.clone())
}

/// 4√3 A / Σ edge² of one triangle (1 when equilateral, ≤ 0 when flat or
/// inverted).
fn quality(x: &Tensor, tri: &[usize; 3]) -> f64 {
    let [a, b, c] = tri.map(|v| corner(x, v));
    let sq = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
    4.0 * 3f64.sqrt() * signed_area(x, tri) / (sq(a, b) + sq(b, c) + sq(c, a))
}

/// The smallest ratio of a triangle's quality at `x` to its `initial` one.
pub(crate) fn min_quality_ratio(triangles: &[[usize; 3]], x: &Tensor, initial: &[f64]) -> f64 {
    triangles
        .iter()
        .zip(initial)
        .map(|(t, q0)| quality(x, t) / q0)
        .fold(f64::INFINITY, f64::min)
}

/// Σₑ relu(r − qₑ/qₑ⁰)² on the tape, qₑ the quality of triangle e at `x`
/// `[V, 2]` and qₑ⁰ = `initial[e]`.
pub(crate) fn quality_penalty<'t>(
    t: &'t TensorTape,
    triangles: &[[usize; 3]],
    x: &TVar<'t>,
    initial: &[f64],
    r: f64,
) -> Result<TVar<'t>> {
    let n = triangles.len();
    let corner = |k: usize| {
        let idx: Vec<usize> = triangles.iter().map(|tri| tri[k]).collect();
        x.index_select(0, &idx)
    };
    let (p0, p1, p2) = (corner(0), corner(1), corner(2));
    let (e1, e2, e3) = (p1.try_sub(&p0)?, p2.try_sub(&p0)?, p2.try_sub(&p1)?);
    let part = |e: &TVar<'t>, k: usize| e.slice(1, k..k + 1);
    let cross = part(&e1, 0)
        .try_mul(&part(&e2, 1))?
        .try_sub(&part(&e1, 1).try_mul(&part(&e2, 0))?)?;
    let sum_sq = e1
        .square()
        .try_add(&e2.square())?
        .try_add(&e3.square())?
        .sum_axis(1, true);
    // 4√3 A = 2√3 × cross; divided by qₑ⁰ per triangle.
    let scale = t.constant(Tensor::from_fn(&[n, 1], |e| {
        2.0 * 3f64.sqrt() / initial[e[0]]
    }));
    let ratio = cross.try_div(&sum_sq)?.try_mul(&scale)?;
    Ok((-ratio).add_scalar(r).relu().square().sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::{rectangle, Diagonal};
    use crate::gradcheck;

    fn jittered() -> (Vec<[usize; 3]>, Tensor, Tensor) {
        let mesh = rectangle([0.0, 0.0], 2.0, 1.0, 4, 2, Diagonal::Alternating).unwrap();
        let mut x = mesh.rest_tensor();
        let noise = Tensor::rand_uniform(&x.shape, 3);
        x.data
            .iter_mut()
            .zip(&noise.data)
            .for_each(|(x, e)| *x += 0.05 * e);
        // Design: every vertex off the left edge.
        let mask = Tensor::from_fn(&x.shape, |ix| {
            if mesh.vertices()[ix[0]][0] > 0.0 {
                1.0
            } else {
                0.0
            }
        });
        (mesh.triangles().to_vec(), x, mask)
    }

    #[test]
    fn the_area_gradient_matches_central_differences_and_vanishes_inside() {
        let (tris, x, _) = jittered();
        let g = area_gradient(&tris, &x);
        let h = 1e-6;
        for i in 0..x.data.len() {
            let (mut up, mut down) = (x.clone(), x.clone());
            up.data[i] += h;
            down.data[i] -= h;
            let fd = (total_area(&tris, &up) - total_area(&tris, &down)) / (2.0 * h);
            assert!(
                (fd - g.data[i]).abs() < 1e-9,
                "coordinate {i}: {fd} vs {}",
                g.data[i]
            );
        }
        // Vertex (1, 1) of the 5 × 3 grid, index 1·3 + 1 = 4, is inside.
        assert!(g.data[8].abs() < 1e-14 && g.data[9].abs() < 1e-14);
    }

    #[test]
    fn area_correction_restores_the_area_moving_only_design_vertices() {
        let (tris, x, mask) = jittered();
        let target = total_area(&tris, &x);
        let mut moved = x.clone();
        moved.data.iter_mut().for_each(|v| *v *= 1.1);
        let mut corrected = moved.clone();
        correct_area(&tris, &mut corrected, &mask, target).unwrap();
        assert!((total_area(&tris, &corrected) - target).abs() <= 1e-12 * target);
        for i in 0..x.data.len() {
            if mask.data[i] == 0.0 {
                assert_eq!(corrected.data[i], moved.data[i]);
            }
        }
        // Nothing to move: an error that says so.
        let mut stuck = moved.clone();
        let e = correct_area(&tris, &mut stuck, &Tensor::zeros(&x.shape), target).unwrap_err();
        assert!(e.to_string().contains("area"), "{e}");
    }

    /// Smoothing keeps held entries at 0, is a descent direction (g·Sg ≥ 0
    /// for any g), leaves a constant field inside alone and damps the
    /// zig-zag of alternating signs.
    #[test]
    fn smoothing_is_masked_symmetric_and_damps_zig_zags() {
        let (tris, x, mask) = jittered();
        let links = neighbours(&tris, x.shape[0]);
        for seed in 0..5 {
            let g = Tensor::rand_uniform(&x.shape, 100 + seed);
            let s = smooth(&g, &links, &mask, 10);
            for i in 0..g.data.len() {
                if mask.data[i] == 0.0 {
                    assert_eq!(s.data[i], 0.0);
                }
            }
            let gs: f64 = g.data.iter().zip(&s.data).map(|(a, b)| a * b).sum();
            assert!(gs > 0.0, "seed {seed}: g·Sg = {gs}");
            // Symmetry: h·Sg = g·Sh.
            let h = Tensor::rand_uniform(&x.shape, 200 + seed);
            let sh = smooth(&h, &links, &Tensor::ones(&x.shape), 3);
            let sg = smooth(&g, &links, &Tensor::ones(&x.shape), 3);
            let (hsg, gsh): (f64, f64) = (
                h.data.iter().zip(&sg.data).map(|(a, b)| a * b).sum(),
                g.data.iter().zip(&sh.data).map(|(a, b)| a * b).sum(),
            );
            assert!((hsg - gsh).abs() < 1e-12, "{hsg} vs {gsh}");
        }
        let ones = Tensor::ones(&x.shape);
        let constant = smooth(&ones, &links, &ones, 20);
        assert!(constant.data.iter().all(|v| (v - 1.0).abs() < 1e-12));
        // Alternating signs along the grid (i + j odd or even).
        let zig = Tensor::from_fn(&x.shape, |ix| {
            if (ix[0] / 3 + ix[0] % 3) % 2 == 0 {
                1.0
            } else {
                -1.0
            }
        });
        let damped = smooth(&zig, &links, &ones, 20);
        let peak = damped.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(peak < 0.5, "zig-zag left at {peak}");
    }

    #[test]
    fn quality_is_one_for_an_equilateral_triangle() {
        let x = Tensor::from_data(vec![0.0, 0.0, 1.0, 0.0, 0.5, 0.75f64.sqrt()], vec![3, 2]);
        assert!((quality(&x, &[0, 1, 2]) - 1.0).abs() < 1e-15);
        assert!((min_quality_ratio(&[[0, 1, 2]], &x, &[0.5]) - 2.0).abs() < 1e-15);
    }

    #[test]
    fn the_quality_penalty_matches_its_definition_and_central_differences() {
        let (tris, x, _) = jittered();
        let initial: Vec<f64> = tris.iter().map(|t| quality(&x, t) * 1.3).collect();
        let want: f64 = tris
            .iter()
            .zip(&initial)
            .map(|(t, q0)| (0.9 - quality(&x, t) / q0).max(0.0).powi(2))
            .sum();
        assert!(want > 0.0, "some triangles are penalised");
        let tape = TensorTape::new();
        let got = quality_penalty(&tape, &tris, &tape.var(x.clone()), &initial, 0.9)
            .unwrap()
            .item();
        assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
        let r = gradcheck(
            |t, v| quality_penalty(t, &tris, &v[0], &initial, 0.9).unwrap(),
            &[x],
        );
        assert!(r.passed, "{r}");
    }
}
