//! Physics checks against closed forms: a projectile (exact at the discrete
//! level for semi-implicit Euler), a harmonic oscillator (RK4 converges as
//! dt⁴, in value and in ∂x(T)/∂k), and the long-run energy of velocity
//! Verlet against explicit Euler.

use maya::dynamics::{rk4_step_with, velocity_verlet_step, ParticleSystem};
use maya::{euler_step, semi_implicit_euler_step, Tensor, TensorTape};

#[test]
fn projectile_is_exact_for_semi_implicit_euler() {
    // v_n = v₀ + n·dt·g and p_N = p₀ + dt·Σ_{n=1..N} v_n
    //     = p₀ + N·dt·v₀ + dt²·g·N(N+1)/2, so ∂p_N/∂v₀ = N·dt exactly.
    let (n, dt) = (100usize, 0.01);
    let (v0, g) = ([3.0, 4.0, 0.5], [0.0, 0.0, -9.81]);
    let t = TensorTape::new();
    let v0v = t.var(Tensor::from_data(v0.to_vec(), vec![1, 3]));
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), dt)
        .with_gravity(t.constant(Tensor::from_data(g.to_vec(), vec![3])));
    let (p, _) = sys
        .rollout_final(&t.constant(Tensor::zeros(&[1, 3])), &v0v, n)
        .unwrap();
    let nf = n as f64;
    for k in 0..3 {
        let exact = nf * dt * v0[k] + dt * dt * g[k] * nf * (nf + 1.0) / 2.0;
        assert!((p.value().data[k] - exact).abs() < 1e-12, "axis {k}");
    }
    let grad = t.grad_wrt(p.sum(), &[v0v]);
    for k in 0..3 {
        assert!((grad[0].data[k] - nf * dt).abs() < 1e-12);
    }

    // The same with the free-standing fused step.
    let t = TensorTape::new();
    let v0v = t.var(Tensor::from_data(v0.to_vec(), vec![3]));
    let gv = t.constant(Tensor::from_data(g.to_vec(), vec![3]));
    let (mut p, mut v) = (t.constant(Tensor::zeros(&[3])), v0v);
    for _ in 0..n {
        (p, v) = semi_implicit_euler_step(&p, &v, &gv, dt);
    }
    let grad = t.grad_wrt(p.sum(), &[v0v]);
    assert!(grad[0].data.iter().all(|g| (g - nf * dt).abs() < 1e-12));
}

/// x(T) and ∂x(T)/∂k for ẍ = −k x, x(0) = x₀, ẋ(0) = 0, by RK4 with step dt.
fn oscillator_rk4(k: f64, x0: f64, t_end: f64, dt: f64) -> (f64, f64) {
    let t = TensorTape::new();
    let kv = t.scalar(k);
    let (mut x, mut v) = (
        t.constant(Tensor::from_data(vec![x0], vec![1])),
        t.constant(Tensor::zeros(&[1])),
    );
    let steps = (t_end / dt).round() as usize;
    for _ in 0..steps {
        (x, v) = rk4_step_with(&x, &v, dt, |x, _v| Ok(x.scalar_mul(kv).neg())).unwrap();
    }
    let g = t.grad_wrt(x.sum(), &[kv]);
    (x.item(), g[0].item())
}

#[test]
fn rk4_converges_as_dt_to_the_fourth_in_value_and_gradient() {
    // x(T) = x₀ cos(√k T), ∂x(T)/∂k = −x₀ sin(√k T) · T / (2√k).
    let (k, x0, t_end) = (4.0f64, 1.0, 2.0);
    let w = k.sqrt();
    let exact = x0 * (w * t_end).cos();
    let exact_dk = -x0 * (w * t_end).sin() * t_end / (2.0 * w);
    let dts = [0.2, 0.1, 0.05, 0.025];
    let results: Vec<(f64, f64)> = dts
        .iter()
        .map(|&dt| oscillator_rk4(k, x0, t_end, dt))
        .collect();
    let errs: Vec<f64> = results.iter().map(|r| (r.0 - exact).abs()).collect();
    let errs_dk: Vec<f64> = results.iter().map(|r| (r.1 - exact_dk).abs()).collect();
    for i in 1..dts.len() {
        // Halving dt divides a fourth-order error by 2⁴ = 16.
        let ratio = errs[i - 1] / errs[i];
        assert!(
            (12.0..20.0).contains(&ratio),
            "value error ratio {ratio} at dt = {}",
            dts[i]
        );
        let ratio_dk = errs_dk[i - 1] / errs_dk[i];
        assert!(
            (12.0..20.0).contains(&ratio_dk),
            "gradient error ratio {ratio_dk} at dt = {}",
            dts[i]
        );
    }
    assert!(errs[3] < 1e-6 && errs_dk[3] < 1e-6, "{errs:?} {errs_dk:?}");
}

#[test]
fn velocity_verlet_energy_stays_bounded_where_euler_grows() {
    // ẍ = −x (k = m = 1), E = (v² + x²)/2 = 1/2 from x₀ = 1, v₀ = 0.
    let (dt, steps) = (0.05, 100_000);
    let energy = |x: f64, v: f64| 0.5 * (x * x + v * v);

    let t = TensorTape::new();
    let (mut x, mut v) = (
        t.constant(Tensor::from_data(vec![1.0], vec![1])),
        t.constant(Tensor::zeros(&[1])),
    );
    let mut a = x.neg();
    let mut worst = 0.0f64;
    for _ in 0..steps {
        (x, v, a) = velocity_verlet_step(&x, &v, &a, dt, |x| Ok(x.neg())).unwrap();
        worst = worst.max((energy(x.item(), v.item()) - 0.5).abs());
    }
    // Verlet conserves a shadow energy within O(dt²): |E − E₀| ≤ dt²/8 ·
    // 2E₀ = 3.1e-4 for all time; no drift after 10⁵ steps (t = 5000).
    assert!(worst < 4e-4, "Verlet energy error {worst}");

    // Explicit Euler multiplies E by (1 + dt²) every step: after 10⁵ steps
    // by e^(10⁵·ln(1.0025)) ≈ e^250, so it has blown far past 10⁶ E₀.
    let t = TensorTape::new();
    let (mut x, mut v) = (
        t.constant(Tensor::from_data(vec![1.0], vec![1])),
        t.constant(Tensor::zeros(&[1])),
    );
    let mut growth = Vec::new();
    for step in 0..steps {
        let a = x.neg();
        (x, v) = euler_step(&x, &v, &a, dt);
        if step % 10_000 == 9_999 {
            growth.push(energy(x.item(), v.item()));
        }
    }
    assert!(
        growth.windows(2).all(|w| w[1] > w[0]),
        "Euler energy should grow: {growth:?}"
    );
    assert!(growth[growth.len() - 1] > 1e6);
}

/// RK4 and velocity Verlet on a harmonic oscillator (one particle on a
/// spring of rest length 0 to a fixed heavy partner): after one period
/// T = 2π/ω the velocity returns to 0. Its error is the phase error times
/// ω: O(dt⁴) for RK4 and O(dt²) for Verlet, so halving dt divides it by
/// ~16 and ~4.
#[test]
fn higher_order_schemes_converge_at_their_order() {
    use maya::dynamics::{Integrator, ParticleSystem, SpringNetwork};
    let err = |integrator: Integrator, steps: usize| {
        let t = TensorTape::new();
        // Particle 1 is 1e12 times heavier: it stays put; ω² = k/m = 4.
        let m = t.constant(Tensor::from_data(vec![1.0, 1e12], vec![2]));
        let period = std::f64::consts::PI; // 2π/ω with ω = 2
        let net = SpringNetwork::new(2, vec![(0, 1)]).unwrap();
        let sys = ParticleSystem::new(m, period / steps as f64)
            .with_springs(
                net,
                t.constant(Tensor::from_data(vec![4.0], vec![1])),
                t.constant(Tensor::zeros(&[1])),
                None,
            )
            .with_integrator(integrator);
        let p0 = t.constant(Tensor::from_data(vec![1.0, 0.0, 0.0, 0.0], vec![2, 2]));
        let v0 = t.constant(Tensor::zeros(&[2, 2]));
        let (_, v) = sys.rollout_final(&p0, &v0, steps).unwrap();
        v.value().data[0].abs()
    };
    let (r1, r2) = (err(Integrator::Rk4, 40), err(Integrator::Rk4, 80));
    assert!(
        r1 < 1e-4 && (12.0..20.0).contains(&(r1 / r2)),
        "RK4 {r1} {r2}"
    );
    let (v1, v2) = (
        err(Integrator::VelocityVerlet, 40),
        err(Integrator::VelocityVerlet, 80),
    );
    assert!((3.0..5.0).contains(&(v1 / v2)), "Verlet {v1} {v2}");
}
