//! Optimiser checks: Rosenbrock minimised from (−1.2, 1) to within 1e-6 of
//! its minimum (1, 1), with gradients from maya's tape; non-finite losses and
//! gradients stop with an error naming the iteration and parameter.

use maya::optim::{
    lbfgs, minimize, tape_objective, Adam, LbfgsOptions, MinimizeOptions, Objective, Sgd,
};
use maya::{Error, TVar, Tensor, TensorTape};

/// f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1).
fn rosenbrock<'t>(_t: &'t TensorTape, p: &[TVar<'t>]) -> TVar<'t> {
    let x = p[0].slice(0, 0..1);
    let y = p[0].slice(0, 1..2);
    let a = (1.0 - x).square();
    let b = (y - x.square()).square() * 100.0;
    (a + b).sum()
}

fn start() -> Vec<Tensor> {
    vec![Tensor::from_data(vec![-1.2, 1.0], vec![2])]
}

fn distance_to_minimum(p: &Tensor) -> f64 {
    ((p.data[0] - 1.0).powi(2) + (p.data[1] - 1.0).powi(2)).sqrt()
}

#[test]
fn tape_gradient_of_rosenbrock_is_analytic() {
    // ∂f/∂x = −2(1 − x) − 400 x (y − x²), ∂f/∂y = 200 (y − x²).
    let (x, y) = (-1.2f64, 1.0f64);
    let mut f = tape_objective(rosenbrock);
    let (loss, g) = f.loss_and_grad(&start()).unwrap();
    assert!((loss - ((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2))).abs() < 1e-12);
    assert!((g[0].data[0] - (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x))).abs() < 1e-10);
    assert!((g[0].data[1] - 200.0 * (y - x * x)).abs() < 1e-10);
}

#[test]
fn lbfgs_minimises_rosenbrock() {
    let mut f = tape_objective(rosenbrock);
    let r = lbfgs(&mut f, start(), &LbfgsOptions::default()).unwrap();
    let d = distance_to_minimum(&r.params[0]);
    assert!(
        d < 1e-6,
        "L-BFGS ended {d:e} from (1, 1) after {} iterations",
        r.iters
    );
    assert!(r.iters < 200);
}

#[test]
fn adam_minimises_rosenbrock() {
    // A decaying learning rate lets Adam's steps shrink near the minimum.
    let mut f = tape_objective(rosenbrock);
    let mut adam = Adam::new(0.05).with_decay(0.9995);
    let opts = MinimizeOptions {
        max_iters: 30_000,
        ..Default::default()
    };
    let r = minimize(&mut f, start(), &mut adam, &opts).unwrap();
    let d = distance_to_minimum(&r.params[0]);
    assert!(
        d < 1e-6,
        "Adam ended {d:e} from (1, 1), loss {:e}",
        r.final_loss()
    );
}

#[test]
fn sgd_with_momentum_descends_a_quadratic() {
    // f = Σ (θ − 3)², gradient 2(θ − 3); momentum 0.9 and η = 0.05 contract.
    let mut f = tape_objective(|_t, p| p[0].add_scalar(-3.0).square().sum());
    let mut sgd = Sgd::new(0.05).with_momentum(0.9);
    let opts = MinimizeOptions {
        max_iters: 500,
        ..Default::default()
    };
    let r = minimize(&mut f, vec![Tensor::zeros(&[4])], &mut sgd, &opts).unwrap();
    assert!(r.params[0].data.iter().all(|x| (x - 3.0).abs() < 1e-8));
    assert!(r.losses[0] > 1e6 * r.final_loss());
}

#[test]
fn diverging_optimisation_stops_with_non_finite_error() {
    // f = Σ θ⁴ with a huge step overflows within a few iterations.
    let mut f = tape_objective(|_t, p| p[0].powf(4.0).sum());
    let opts = MinimizeOptions {
        max_iters: 100,
        ..Default::default()
    };
    let e = minimize(
        &mut f,
        vec![Tensor::full(&[2], 10.0)],
        &mut Sgd::new(10.0),
        &opts,
    )
    .unwrap_err();
    match e {
        Error::NonFinite { what, step } => {
            assert!(step > 0 && step < 100, "step {step}");
            assert!(
                what.contains("parameter 0") || what.contains("loss"),
                "{what}"
            );
        }
        other => panic!("expected NonFinite, got {other}"),
    }
}

#[test]
fn non_finite_gradient_names_the_parameter() {
    // √θ at θ = 0 has an infinite derivative: parameter 1, element 0.
    let mut f = tape_objective(|_t, p| p[0].sum() + p[1].sqrt().sum());
    let params = vec![Tensor::ones(&[2]), Tensor::zeros(&[1])];
    let e = minimize(
        &mut f,
        params.clone(),
        &mut Sgd::new(0.1),
        &MinimizeOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::NonFinite {
            what: "gradient of parameter 1 (element 0: inf)".into(),
            step: 0
        }
    );
    let e = lbfgs(&mut f, params, &LbfgsOptions::default()).unwrap_err();
    assert!(matches!(e, Error::NonFinite { step: 0, .. }), "{e}");
}

#[test]
fn clipping_bounds_the_step() {
    // With the gradient clipped to norm 1, one SGD step of η = 1 moves θ by
    // exactly 1 however steep the loss.
    let mut f = tape_objective(|_t, p| p[0].scalar_mul(1e6).sum());
    let opts = MinimizeOptions {
        max_iters: 2,
        clip_norm: Some(1.0),
        ..Default::default()
    };
    let r = minimize(&mut f, vec![Tensor::zeros(&[1])], &mut Sgd::new(1.0), &opts).unwrap();
    assert!((r.params[0].item() + 2.0).abs() < 1e-12);
}

/// A loss linear over a stretch (−x for x < 5) has equal gradients at two
/// points, a curvature pair s·y = 0 that gives argmin's L-BFGS non-finite
/// directions: that is an error naming the optimiser, and otherwise the
/// parameters returned are those of the lowest loss evaluated.
#[test]
fn lbfgs_names_non_finite_proposals_and_returns_its_best_point() {
    use maya::optim::{lbfgs, LbfgsOptions, Objective};
    /// −x, turning up past x = 5 into a parabola when `bounded`.
    struct Ramp(Vec<f64>, bool);
    impl Objective for Ramp {
        fn loss_and_grad(&mut self, p: &[Tensor]) -> maya::Result<(f64, Vec<Tensor>)> {
            let x = p[0].data[0];
            let (f, g) = if x < 5.0 || !self.1 {
                (-x, -1.0)
            } else {
                (-x + (x - 5.0).powi(2), -1.0 + 2.0 * (x - 5.0))
            };
            self.0.push(f);
            Ok((f, vec![Tensor::from_data(vec![g], vec![1])]))
        }
    }
    // With a minimum past the flat stretch: the lowest loss evaluated.
    let mut ramp = Ramp(Vec::new(), true);
    let options = LbfgsOptions::default();
    let report = lbfgs(
        &mut ramp,
        vec![Tensor::from_data(vec![0.0], vec![1])],
        &options,
    )
    .expect("the ramp has a minimum at x = 5.5");
    let lowest = ramp.0.iter().copied().fold(f64::INFINITY, f64::min);
    let x = report.params[0].data[0];
    let at = if x < 5.0 { -x } else { -x + (x - 5.0).powi(2) };
    assert_eq!(at, lowest, "returned x = {x}, losses {:?}", ramp.0);
    // Without one (a ramp down forever): the line search runs off to
    // infinity, which is an error naming L-BFGS, not a returned point.
    let mut ramp = Ramp(Vec::new(), false);
    let e = lbfgs(
        &mut ramp,
        vec![Tensor::from_data(vec![0.0], vec![1])],
        &options,
    )
    .map(|r| r.params[0].data[0])
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, maya::Error::Solve { .. }) && msg.contains("L-BFGS") && msg.contains("inf"),
        "{msg}"
    );
}
