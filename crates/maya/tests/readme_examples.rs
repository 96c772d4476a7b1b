//! The examples of the README, as written (only `use` lines may differ).

#[test]
fn scalar_example() {
    use maya::Tape;

    let t = Tape::new();
    let x = t.var(1.3);

    // f(x) = exp(sin(x²))
    let y = (x * x).sin().exp();

    let grads = t.grad(y);
    println!("∂f/∂x = {}", grads[x.idx()]);

    // f'(x) = 2x · cos(x²) · exp(sin(x²)) ≈ -0.83454 at x = 1.3 (the old
    // README's comment, -0.7497, was wrong).
    let exact = 2.0 * 1.3 * (1.3f64 * 1.3).cos() * (1.3f64 * 1.3).sin().exp();
    assert!((grads[x.idx()] - exact).abs() < 1e-12);
    assert!((exact - (-0.83454)).abs() < 1e-5);
}

#[test]
fn matmul_example() {
    use maya::{Tensor, TensorTape};

    let t = TensorTape::new();
    let a = t.var(Tensor::from_data(
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        vec![2, 3],
    ));
    let b = t.var(Tensor::from_data(
        vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0],
        vec![3, 2],
    ));

    let c = a.matmul(&b); // 2×2 result
    let loss = c.sum(); // scalar
    let grads = t.grad(loss);

    // grads[a.idx()] is ∂loss/∂A = ∂loss/∂C · B^T, shape [2, 3]
    // grads[b.idx()] is ∂loss/∂B = A^T · ∂loss/∂C, shape [3, 2]

    // ∂loss/∂C is all ones, so ∂loss/∂A[i][k] = Σ_j B[k][j] (row sums of B:
    // 15, 19, 23) and ∂loss/∂B[k][j] = Σ_i A[i][k] (column sums of A: 5, 7, 9).
    assert_eq!(grads[a.idx()].shape, vec![2, 3]);
    assert_eq!(
        grads[a.idx()].data,
        vec![15.0, 19.0, 23.0, 15.0, 19.0, 23.0]
    );
    assert_eq!(grads[b.idx()].shape, vec![3, 2]);
    assert_eq!(grads[b.idx()].data, vec![5.0, 5.0, 7.0, 7.0, 9.0, 9.0]);
}

#[test]
fn rollout_example() {
    use maya::{semi_implicit_euler_step, Tensor, TensorTape};

    let t = TensorTape::new();
    let mut p = t.var(Tensor::from_data(vec![0.0], vec![1]));
    let mut v = t.var(Tensor::from_data(vec![1.5], vec![1]));
    let v0_idx = v.idx();
    let a = t.var(Tensor::from_data(vec![-9.81], vec![1]));

    // Roll out 10 steps under constant gravity.
    for _ in 0..10 {
        let (np, nv) = semi_implicit_euler_step(&p, &v, &a, 0.05);
        p = np;
        v = nv;
    }

    // Take ∂(sum p_final)/∂v_0. Should equal N·dt = 0.5.
    let loss = p.sum();
    let grads = t.grad(loss);
    assert!((grads[v0_idx].data[0] - 0.5).abs() < 1e-10);
}

/// The rigid-body example of the README, as written, and what it shows:
/// the object ball is hit off-centre (it sits 1 cm above the line of the
/// shot), so it leaves upwards, and aiming the cue ball higher (vy > 0)
/// hits it fuller and sends it less far up.
#[test]
fn rigid_example() {
    use maya::rigid::{Material, Shape, World};
    use maya::{Tensor, TensorTape};

    let mut world = World::new(1e-3); // dt = 1 ms
    world.gravity = [0.0, 0.0]; // a table seen from above
    let r = 0.03;
    let ball = 0.17 / (std::f64::consts::PI * r * r); // 170 g per ball
    world.add_body(Shape::circle(r), ball); // 0: the cue ball
    world.add_body(Shape::circle(r), ball); // 1: the object ball

    let t = TensorTape::new();
    let row = |v: [f64; 3]| Tensor::from_data(v.to_vec(), vec![3]);
    let cue = t.var(row([1.0, 0.0, 0.0])); // (vx, vy, ω) of the cue ball
    let state = world.state_from_parts(
        &[
            t.constant(row([0.0, 0.0, 0.0])),
            t.constant(row([0.3, 0.01, 0.0])),
        ],
        &[cue, t.constant(row([0.0; 3]))],
    );
    let material = Material {
        stiffness: 1e4,
        damping: 0.0,
        friction: 0.0,
        restitution: 0.0,
    };
    let end = world
        .rollout(&state, &world.params(&t, material), 500)
        .unwrap();
    let y = end.pose.at(&[1, 1]); // where the object ball is after 0.5 s
    let g = t.grad(y);
    println!(
        "y = {:.4} m, ∂y/∂(vx, vy) of the cue = {:?}",
        y.item(),
        &g.wrt(&cue).data[..2]
    );

    let dy = &g.wrt(&cue).data;
    assert!(
        y.item() > 0.01,
        "the object ball leaves upwards: {}",
        y.item()
    );
    assert!(dy[1] < 0.0, "a fuller hit sends it less far up: {dy:?}");
    // Central differences of the simulation in vy agree with the tape.
    let y_at = |vy: f64| {
        let t = TensorTape::new();
        let s = world.state(
            &t,
            &[[0.0; 3], [0.3, 0.01, 0.0]],
            &[[1.0, vy, 0.0], [0.0; 3]],
        );
        let end = world.rollout(&s, &world.params(&t, material), 500).unwrap();
        end.pose.value().data[4]
    };
    let h = 1e-6;
    let fd = (y_at(h) - y_at(-h)) / (2.0 * h);
    assert!(
        (dy[1] - fd).abs() < 1e-6 * fd.abs().max(1.0),
        "{} vs {fd}",
        dy[1]
    );
}

#[test]
fn soft_body_example() {
    use maya::fem::{rectangle, Diagonal, MaterialModel, SoftBody};
    use maya::{Tensor, TensorTape};

    // A 4 m × 0.5 m cantilever, clamped at x = 0, 1 kN down at its tip.
    let mesh = rectangle([0.0, 0.0], 4.0, 0.5, 32, 4, Diagonal::Alternating).unwrap();
    let t = TensorTape::new();
    let youngs = t.var(Tensor::full(&[mesh.n_triangles()], 1e7)); // Pa, one per triangle
    let rest = t.var(mesh.rest_tensor()); // the rest shape, a variable too
    let body = SoftBody::new(
        &mesh,
        MaterialModel::NeoHookean,
        rest,
        youngs,
        0.3,
        t.scalar(1e3),
    );
    let tip = mesh.vertices_where(|p| p[0] == 4.0 && p[1] == 0.0)[0];
    let load = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
        if ix[0] == tip && ix[1] == 1 {
            -1e3
        } else {
            0.0
        }
    });
    let system = body
        .system(1e-3)
        .with_load(t.constant(load))
        .with_fixed(&mesh.vertices_where(|p| p[0] == 0.0));
    let x = system.equilibrium(&t.constant(mesh.rest_tensor())).unwrap(); // Newton, one tape node
    let deflection = x.at(&[tip, 1]).sub(&rest.at(&[tip, 1]));
    let g = t.grad(deflection);
    println!("tip deflection {:.4} m", deflection.item());
    println!("∂/∂E of the first triangle: {:e}", g.wrt(&youngs).data[0]);
    println!(
        "∂/∂(rest shape) of the tip: {:?}",
        &g.wrt(&rest).data[2 * tip..2 * tip + 2]
    );

    // Beam theory (E I = 1e7 · 0.5³/12, plane strain stiffer by 1/(1 − ν²)),
    // with P1's locking at 4 element rows: the same order, somewhat less.
    let beam = 1e3 * 4f64.powi(3) / (3.0 * 1e7 * 0.5f64.powi(3) / 12.0);
    let d = -deflection.item();
    assert!(d > 0.5 * beam * (1.0 - 0.09) && d < beam, "{d} vs {beam}");
    // Stiffer, less deflection: Σₑ Eₑ·∂(deflection)/∂Eₑ = −deflection for
    // linear elasticity, nearly so at these small strains.
    let sum: f64 = g.wrt(&youngs).data.iter().sum::<f64>() * 1e7;
    assert!(
        (sum + deflection.item()).abs() < 0.05 * d,
        "{sum} vs {}",
        deflection.item()
    );
}
