//! The implicit node: equilibrium of a hanging chain solved by Newton and
//! differentiated by the implicit function theorem, against central
//! differences, a closed form, the closure form, and its failure modes.

use maya::tape::{
    newton_solve, HangingChain, ImplicitProblem, NewtonOptions, SparseSolver, Triplets,
};
use maya::{gradcheck, Error, Result, TVar, Tensor, TensorTape};

const G: f64 = 9.81;

/// Stiffnesses 80…120 N/m and masses 0.1…0.3 kg, varied so that no two
/// springs or particles are alike.
fn params(chain: &HangingChain) -> (Tensor, Tensor) {
    let k = Tensor::from_fn(&[chain.springs()], |i| {
        80.0 + 40.0 * ((i[0] as f64) * 0.7).sin().abs()
    });
    let m = Tensor::from_fn(&[chain.particles], |i| {
        0.1 + 0.2 * ((i[0] as f64) * 1.3).cos().abs()
    });
    (k, m)
}

/// Central differences of x*(θ) with step 1e-6·k amplify errors of x* by
/// ~1e6: the default tolerances (‖r‖∞ ≤ 1e-12) must leave x* exact to
/// ~1e-13 for these checks to pass, and they are not loosened here.
fn check_chain(chain: HangingChain) {
    let (k, m) = params(&chain);
    let x0 = chain.initial_guess();
    let report = gradcheck(
        move |t: &TensorTape, v: &[TVar]| {
            t.solve_implicit(chain, &x0, v, &NewtonOptions::default())
        },
        &[k, m],
    );
    eprintln!(
        "{} particles, anchors {:?}/{:?}: {report}",
        chain.particles, chain.left, chain.right
    );
    assert!(report.passed, "{report}");
    assert!(report.max_rel_err <= 1e-6, "{report}");
}

#[test]
fn gradcheck_pinned_chain_wrt_stiffness_and_mass() {
    for n in [3, 6, 12] {
        check_chain(HangingChain::pinned(n, 0.5, G));
    }
}

#[test]
fn gradcheck_suspended_chain_wrt_stiffness_and_mass() {
    // Spans shorter than the chain's rest length (N + 1)·L: it sags.
    for n in [3, 6, 12] {
        check_chain(HangingChain::suspended(n, 0.5, 0.35 * (n + 1) as f64, G));
    }
}

#[test]
fn single_spring_matches_the_closed_form() {
    // One mass m on a spring k, rest length L: k(ℓ − L) = m g, so it hangs
    // at depth d = L + m g/k = 1 + 2·9.81/50 = 1.3924 below the anchor,
    // with ∂d/∂k = −m g/k² = −0.007848 and ∂d/∂m = g/k = 0.1962; it does
    // not move sideways.
    let (k0, m0, l) = (50.0, 2.0, 1.0);
    let chain = HangingChain::pinned(1, l, G);
    let t = TensorTape::new();
    let (k, m) = (t.var(Tensor::full(&[1], k0)), t.var(Tensor::full(&[1], m0)));
    let x = t.solve_implicit(
        chain,
        &chain.initial_guess(),
        &[k, m],
        &NewtonOptions::default(),
    );
    let depth = x.slice(1, 1..2).sum().scalar_mul(-1.0);
    assert!((depth.item() - (l + m0 * G / k0)).abs() < 1e-12);
    assert!(x.value().data[0].abs() < 1e-12);
    let g = t.grad(depth);
    assert!((g[k.idx()].data[0] - (-m0 * G / (k0 * k0))).abs() < 1e-14);
    assert!((g[m.idx()].data[0] - G / k0).abs() < 1e-14);
}

/// r(x, θ) = ∇E of a chain pinned at the origin, in tape ops: spring s
/// joins node s and s + 1 of P = [anchor; x], pulling with
/// fₛ = kₛ(ℓₛ − L)/ℓₛ · dₛ; particle i feels fᵢ − fᵢ₊₁ − mᵢ g.
fn chain_residual<'s>(tape: &'s TensorTape, x: TVar<'s>, th: &[TVar<'s>], l: f64) -> TVar<'s> {
    let n = x.shape()[0];
    let p = tape.concat(&[tape.constant(Tensor::zeros(&[1, 2])), x], 0);
    let d = p.slice(0, 1..n + 1).sub(&p.slice(0, 0..n));
    let len = d.square().sum_axis(1, true).sqrt();
    let f = th[0]
        .reshape(&[n, 1])
        .mul(&len.add_scalar(-l))
        .div(&len)
        .mul(&d);
    let next = tape.concat(
        &[f.slice(0, 1..n), tape.constant(Tensor::zeros(&[1, 2]))],
        0,
    );
    let g = tape.constant(Tensor::from_data(vec![0.0, -G], vec![2]));
    f.sub(&next).sub(&th[1].reshape(&[n, 1]).mul(&g))
}

/// x* and (∂L/∂k, ∂L/∂m) for L = Σ wᵢ xᵢ*, from the hand-written problem
/// or from the closure.
fn solve_and_grad(closure: bool, chain: HangingChain, x0: &Tensor) -> (Tensor, Tensor, Tensor) {
    let (k0, m0) = params(&chain);
    let t = TensorTape::new();
    let (k, m) = (t.var(k0), t.var(m0));
    let l = chain.rest_length;
    let x = if closure {
        t.solve_implicit_with(
            x0,
            &[k, m],
            &NewtonOptions::default(),
            move |tape, x, th| Ok(chain_residual(tape, x, th, l)),
        )
    } else {
        t.solve_implicit(chain, x0, &[k, m], &NewtonOptions::default())
    };
    let w = t.constant(Tensor::rand_uniform(&x.shape(), 3));
    let g = t.grad(x.mul(&w).sum());
    (x.value(), g[k.idx()].clone(), g[m.idx()].clone())
}

fn rel_diff(a: &Tensor, b: &Tensor) -> f64 {
    let scale = b.data.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    a.max_abs_diff(b) / scale
}

#[test]
fn closure_form_matches_the_hand_written_form() {
    let chain = HangingChain::pinned(6, 0.5, G);
    let x0 = chain.initial_guess();
    let (xa, ka, ma) = solve_and_grad(false, chain, &x0);
    let (xb, kb, mb) = solve_and_grad(true, chain, &x0);
    let errs = [rel_diff(&xb, &xa), rel_diff(&kb, &ka), rel_diff(&mb, &ma)];
    eprintln!(
        "closure vs hand-written, relative differences (x*, ∂/∂k, ∂/∂m): {:.1e} {:.1e} {:.1e}",
        errs[0], errs[1], errs[2]
    );
    assert!(errs.iter().all(|&e| e < 1e-10), "{errs:?}");
}

#[test]
fn the_gradient_does_not_depend_on_the_starting_guess() {
    // Newton from a guess 1 mm off x* and from the far diagonal guess take
    // different paths (iteration counts differ) to the same root; the
    // adjoint sees only the root, so the gradients agree to rounding.
    let chain = HangingChain::pinned(6, 0.5, G);
    let far = chain.initial_guess();
    let (x_star, k_far, m_far) = solve_and_grad(false, chain, &far);
    let near = Tensor::from_fn(&x_star.shape, |i| {
        x_star.at(i) + 1e-3 * ((i[0] + i[1]) as f64).cos()
    });
    let (x_near, k_near, m_near) = solve_and_grad(false, chain, &near);
    let (k, m) = params(&chain);
    let iters = |x0: &Tensor| {
        newton_solve(
            &chain,
            &x0.data,
            &[&k, &m],
            &NewtonOptions::default(),
            false,
        )
        .iters
    };
    let (i_far, i_near) = (iters(&far), iters(&near));
    let errs = [
        rel_diff(&x_near, &x_star),
        rel_diff(&k_near, &k_far),
        rel_diff(&m_near, &m_far),
    ];
    eprintln!(
        "iterations far {i_far}, near {i_near}; relative differences (x*, ∂/∂k, ∂/∂m): {:.1e} {:.1e} {:.1e}",
        errs[0], errs[1], errs[2]
    );
    assert!(i_far > i_near + 2, "{i_far} vs {i_near}");
    assert!(errs.iter().all(|&e| e < 1e-10), "{errs:?}");
}

#[test]
fn one_shared_solver_analyses_the_jacobian_pattern_once() {
    // Every Newton iteration of both solves pushes the same pattern.
    let chain = HangingChain::pinned(12, 0.5, G);
    let (k, m) = params(&chain);
    let options = NewtonOptions {
        solver: SparseSolver::new(),
        ..NewtonOptions::default()
    };
    let first = newton_solve(
        &chain,
        &chain.initial_guess().data,
        &[&k, &m],
        &options,
        true,
    );
    let second = newton_solve(&chain, &first.x, &[&k, &m], &options, true);
    assert!(
        first.iters >= 3 && second.iters == 0,
        "{} {}",
        first.iters,
        second.iters
    );
    assert_eq!(options.solver.analyses(), 1);
    assert!(first.factorization.is_some_and(|f| f.is_cholesky()));
    let without = newton_solve(&chain, &first.x, &[&k, &m], &options, false);
    assert!(without.factorization.is_none());
}

#[test]
fn one_iteration_on_a_nonlinear_problem_is_a_solve_error() {
    // The diagonal guess is far from the vertical equilibrium: one Newton
    // step cannot reach it.
    let chain = HangingChain::pinned(6, 0.5, G);
    let (k, m) = params(&chain);
    let t = TensorTape::new();
    let (k, m) = (t.var(k), t.var(m));
    let options = NewtonOptions {
        max_iter: 1,
        step: 7,
        ..NewtonOptions::default()
    };
    let e = t
        .try_solve_implicit(chain, &chain.initial_guess(), &[k, m], &options)
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotConverged { solver: "hanging chain", step: Some(7), iters: 1, residual, .. } if *residual > 1e-3),
        "{e:?}"
    );
    let msg = e.to_string();
    for words in [
        "hanging chain did not converge at step 7",
        "max_iter = 1",
        "within 1 iterations",
        "residual",
    ] {
        assert!(msg.contains(words), "{msg}");
    }
}

#[test]
fn a_free_chain_without_gravity_has_a_singular_jacobian() {
    // No anchor and no gravity: E is invariant under translations, so
    // J = ∇²E has them in its null space, whatever the (stretched) shape.
    let chain = HangingChain {
        left: None,
        gravity: [0.0, 0.0],
        ..HangingChain::pinned(4, 1.0, G)
    };
    let x0 = Tensor::from_fn(&[4, 2], |i| {
        if i[1] == 0 {
            1.3 * i[0] as f64
        } else {
            0.1 * i[0] as f64
        }
    });
    let t = TensorTape::new();
    let (k, m) = params(&chain);
    let (k, m) = (t.var(k), t.var(m));
    let e = t
        .try_solve_implicit(chain, &x0, &[k, m], &NewtonOptions::default())
        .unwrap_err();
    assert!(matches!(&e, Error::Solve { iters: 0, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("Jacobian") && msg.contains("singular"),
        "{msg}"
    );
}

#[test]
fn a_rounding_floor_above_atol_ends_by_the_step_test() {
    // r(x, a) = 10⁶ (x³ − a), a = 3: r is rounded in steps of
    // 10⁶ · ulp(3) ≈ 4.4e-10, far above atol = 1e-12, and from a start
    // 1e-9 off the root rtol · ‖r(x₀)‖∞ ≈ 1e-14 is no help. The Newton
    // correction, though, falls below xtol · |x| and ends the solve at
    // x* = ∛3 with dx*/da = 1/(3x*²).
    let root = 3f64.cbrt();
    let x0 = Tensor::full(&[1], root * (1.0 + 1e-9));
    let solve = |options: &NewtonOptions| {
        let t = TensorTape::new();
        let a = t.var(Tensor::full(&[1], 3.0));
        let x = t.try_solve_implicit_with(&x0, &[a], options, |_t, x, th| {
            Ok(x.powf(3.0).sub(&th[0]).scalar_mul(1e6))
        })?;
        let g = t.grad(x.sum())[a.idx()].data[0];
        Ok::<_, Error>((x.item(), g))
    };
    let (x, g) = solve(&NewtonOptions::default()).unwrap();
    assert!(
        (x - root).abs() <= 4.0 * f64::EPSILON * root,
        "{x} vs {root}"
    );
    assert!((g - 1.0 / (3.0 * root * root)).abs() < 1e-14, "{g}");
    // Without the step test the floor is a failure, not a returned iterate.
    let no_xtol = NewtonOptions {
        xtol: 0.0,
        ..NewtonOptions::default()
    };
    let e = solve(&no_xtol).unwrap_err();
    assert!(matches!(&e, Error::Solve { .. }), "{e:?}");
    assert!(
        e.to_string().contains("line search found no decrease"),
        "{e}"
    );
}

/// r(x) = x − θ that reports NaN.
struct NanResidual;
impl ImplicitProblem for NanResidual {
    fn name(&self) -> &'static str {
        "nan residual"
    }
    fn residual(&self, _x: &[f64], _theta: &[&Tensor], r: &mut [f64]) -> Result<()> {
        r.fill(f64::NAN);
        Ok(())
    }
    fn jacobian(&self, x: &[f64], _theta: &[&Tensor], jac: &mut Triplets) -> Result<()> {
        (0..x.len()).for_each(|i| jac.push(i, i, 1.0));
        Ok(())
    }
    fn vjp_theta(
        &self,
        _: &[f64],
        _: &[&Tensor],
        w: &[f64],
        g: &mut [&mut Tensor],
        _: &[bool],
    ) -> Result<()> {
        g[0].data.iter_mut().zip(w).for_each(|(g, w)| *g -= w);
        Ok(())
    }
}

#[test]
fn a_nan_residual_is_a_solve_error() {
    let t = TensorTape::new();
    let theta = t.var(Tensor::ones(&[3]));
    let e = t
        .try_solve_implicit(
            NanResidual,
            &Tensor::zeros(&[3]),
            &[theta],
            &NewtonOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(&e, Error::Solve { solver: "nan residual", iters: 0, residual, .. } if residual.is_nan()),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("residual is not finite at the initial guess"),
        "{e}"
    );
}

#[test]
#[should_panic(expected = "nan residual failed at step 0")]
fn the_panicking_form_panics_with_the_same_message() {
    let t = TensorTape::new();
    let theta = t.var(Tensor::ones(&[1]));
    t.solve_implicit(
        NanResidual,
        &Tensor::zeros(&[1]),
        &[theta],
        &NewtonOptions::default(),
    );
}

#[test]
fn a_closure_residual_of_the_wrong_size_is_a_shape_error() {
    let t = TensorTape::new();
    let a = t.var(Tensor::ones(&[2]));
    let e = t
        .try_solve_implicit_with(
            &Tensor::zeros(&[3]),
            &[a],
            &NewtonOptions::default(),
            |_t, x, _th| Ok(x.sum()),
        )
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "solve_implicit_with",
                ..
            }
        ),
        "{e:?}"
    );
}
