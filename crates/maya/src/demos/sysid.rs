//! `sysid`: recover the spring stiffness k and drag c of a mass-spring grid
//! from a noisy observed trajectory generated with hidden true values.
//!
//! A 4 × 4 grid (structural and shear springs, unit masses) starts
//! stretched and falls under gravity while it oscillates; positions are
//! observed every 5 steps with uniform noise of ±5 mm. The fit minimises
//! the mean of |p_t(k, c) − observed_t|² over θ = (ln k, ln c) (positive, and of
//! similar scale) with L-BFGS, differentiating through the whole rollout.

use super::{Curve, DemoOptions, DemoReport, Figure};
use crate::dynamics::{ParticleSystem, SpringNetwork};
use crate::error::Result;
use crate::optim::{lbfgs, LbfgsOptions};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

const SIDE: usize = 4;
const TRUE_K: f64 = 60.0;
const TRUE_C: f64 = 0.4;
const GUESS: [f64; 2] = [45.0, 0.8];
const NOISE: f64 = 5e-3;
const DT: f64 = 0.01;
const OBSERVE_EVERY: usize = 5;

struct Problem {
    network: SpringNetwork,
    rest: Tensor,
    p0: Tensor,
    steps: usize,
    observed: Vec<Tensor>,
}

impl Problem {
    fn new(steps: usize) -> Result<Problem> {
        let network = SpringNetwork::grid(SIDE, SIDE);
        let rest_positions = SpringNetwork::grid_positions(SIDE, SIDE, 0.25, [0.0, 2.0]);
        let rest = network.lengths(&rest_positions);
        // Stretched by 30 % along x to start an oscillation.
        let mut p0 = rest_positions.clone();
        p0.data.iter_mut().step_by(2).for_each(|x| *x *= 1.3);
        let mut problem = Problem {
            network,
            rest,
            p0,
            steps,
            observed: Vec::new(),
        };
        let truth = problem.simulate_values(TRUE_K, TRUE_C)?;
        problem.observed = truth
            .into_iter()
            .enumerate()
            .map(|(i, mut p)| {
                let noise = Tensor::rand_uniform(&p.shape, 1000 + i as u64);
                p.data
                    .iter_mut()
                    .zip(&noise.data)
                    .for_each(|(x, e)| *x += NOISE * e);
                p
            })
            .collect();
        Ok(problem)
    }

    /// The observed positions (every `OBSERVE_EVERY` steps) for (k, c) on
    /// the tape.
    fn simulate<'t>(&self, t: &'t TensorTape, k: &TVar<'t>, c: &TVar<'t>) -> Result<Vec<TVar<'t>>> {
        let n = SIDE * SIDE;
        let k_per_spring = t.constant(Tensor::ones(&[self.network.len()])).try_mul(k)?;
        let sys = ParticleSystem::try_new(t.constant(Tensor::ones(&[n])), DT)?
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
            .with_drag(*c)
            .with_springs(
                self.network.clone(),
                k_per_spring,
                t.constant(self.rest.clone()),
                None,
            );
        let traj = sys.rollout(
            &t.constant(self.p0.clone()),
            &t.constant(Tensor::zeros(&[n, 2])),
            self.steps,
        )?;
        Ok(traj
            .positions
            .into_iter()
            .skip(OBSERVE_EVERY)
            .step_by(OBSERVE_EVERY)
            .collect())
    }

    fn simulate_values(&self, k: f64, c: f64) -> Result<Vec<Tensor>> {
        let t = TensorTape::new();
        let xs = self.simulate(
            &t,
            &t.constant(Tensor::scalar(k)),
            &t.constant(Tensor::scalar(c)),
        )?;
        Ok(xs.iter().map(|x| x.value()).collect())
    }

    /// L(θ) and ∂L/∂θ for θ = (ln k, ln c).
    fn loss_and_grad(&self, theta: &Tensor) -> Result<(f64, Vec<Tensor>)> {
        let t = TensorTape::new();
        let th = t.var(theta.clone());
        let k = th.slice(0, 0..1).exp().reshape(&[]);
        let c = th.slice(0, 1..2).exp().reshape(&[]);
        let xs = self.simulate(&t, &k, &c)?;
        let mut loss = t.scalar(0.0);
        for (x, obs) in xs.iter().zip(&self.observed) {
            loss = loss + (*x - t.constant(obs.clone())).square().sum();
        }
        // The mean squared error keeps L-BFGS's first step (along −∇L, of
        // unit length) from leaping to absurd stiffnesses.
        let loss = loss.scalar_mul(1.0 / (xs.len() * SIDE * SIDE * 2) as f64);
        let g = t.try_grad_wrt(loss, &[th])?;
        Ok((loss.item(), g))
    }

    /// The path of the bottom-left corner particle (index 0) at observations.
    fn corner_path(&self, states: &[Tensor]) -> Vec<[f64; 2]> {
        states.iter().map(|p| [p.data[0], p.data[1]]).collect()
    }
}

pub(super) fn run(
    options: &DemoOptions,
    on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let steps = if options.short { 150 } else { 300 };
    let problem = Problem::new(steps)?;
    let mut iter = 0;
    let mut objective = |params: &[Tensor]| -> Result<(f64, Vec<Tensor>)> {
        let out = problem.loss_and_grad(&params[0])?;
        on_iter(iter, out.0);
        iter += 1;
        Ok(out)
    };
    let theta0 = Tensor::from_data(vec![GUESS[0].ln(), GUESS[1].ln()], vec![2]);
    let options = LbfgsOptions {
        max_iters: 100,
        grad_tol: 1e-9,
        ..LbfgsOptions::default()
    };
    let fit = lbfgs(&mut objective, vec![theta0], &options)?;
    let (k, c) = (fit.params[0].data[0].exp(), fit.params[0].data[1].exp());
    let path = |k: f64, c: f64| -> Result<Vec<[f64; 2]>> {
        Ok(problem.corner_path(&problem.simulate_values(k, c)?))
    };
    let curves = vec![
        Curve {
            label: format!("initial guess k = {}, c = {}", GUESS[0], GUESS[1]),
            points: path(GUESS[0], GUESS[1])?,
            is_target: false,
        },
        Curve {
            label: format!("fitted k = {k:.2}, c = {c:.3}"),
            points: path(k, c)?,
            is_target: false,
        },
        Curve {
            label: format!("noisy observations (true k = {TRUE_K}, c = {TRUE_C})"),
            points: problem.corner_path(&problem.observed),
            is_target: true,
        },
    ];
    Ok(DemoReport {
        name: "sysid",
        losses: fit.losses,
        figures: vec![Figure {
            stem: "trajectory".into(),
            title: "System identification: corner particle of a falling spring grid".into(),
            x_label: "x [m]".into(),
            y_label: "y [m]".into(),
            curves,
        }],
        metrics: vec![
            ("k fitted".into(), k),
            ("k true".into(), TRUE_K),
            ("k rel. error".into(), (k - TRUE_K).abs() / TRUE_K),
            ("c fitted".into(), c),
            ("c true".into(), TRUE_C),
            ("c rel. error".into(), (c - TRUE_C).abs() / TRUE_C),
        ],
        mesh_figures: Vec::new(),
        tables: Vec::new(),
        bar_charts: Vec::new(),
    })
}
