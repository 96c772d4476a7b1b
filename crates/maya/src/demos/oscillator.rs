//! `oscillator`: fit the natural frequency ω and damping ratio ζ of
//! ẍ = −ω² x − 2ζω ẋ to noisy samples of x(t), simulating with RK4 on the
//! scalar tape, and compare the tape's gradient with the analytic one.
//!
//! From x(0) = 1, ẋ(0) = 0 the exact solution is
//! x(t) = e^{−at} (cos bt + (a/b) sin bt), a = ζω, b = ω√(1 − ζ²), so
//! ∂x/∂a = −t x + e^{−at} sin(bt)/b and
//! ∂x/∂b = e^{−at} (−t sin bt − (a/b²) sin bt + (a/b) t cos bt),
//! with ∂a/∂ω = ζ, ∂a/∂ζ = ω, ∂b/∂ω = √(1 − ζ²), ∂b/∂ζ = −ωζ/√(1 − ζ²).

use super::{snapshot_iters, Curve, DemoOptions, DemoReport, Figure};
use crate::error::Result;
use crate::optim::{minimize_with, Adam, MinimizeOptions, Objective};
use crate::scalar::{Tape, Var};
use crate::tensor::Tensor;

const TRUE_OMEGA: f64 = 2.0;
const TRUE_ZETA: f64 = 0.1;
const GUESS: [f64; 2] = [1.6, 0.3];
const NOISE: f64 = 0.02;
const DURATION: f64 = 8.0;
/// Samples are taken every this many RK4 steps.
const STEPS_PER_SAMPLE: usize = 10;

/// The problem: noisy samples and the RK4 step.
pub(crate) struct Oscillator {
    pub dt: f64,
    pub steps: usize,
    pub data: Vec<f64>,
}

impl Oscillator {
    pub fn new(dt: f64) -> Oscillator {
        let steps = (DURATION / dt).round() as usize;
        let noise = Tensor::rand_uniform(&[steps / STEPS_PER_SAMPLE], 42);
        let data = (0..steps / STEPS_PER_SAMPLE)
            .map(|i| exact(TRUE_OMEGA, TRUE_ZETA, sample_time(i, dt)).0 + NOISE * noise.data[i])
            .collect();
        Oscillator { dt, steps, data }
    }

    /// Simulates on the scalar tape from (ω, ζ); returns x at the sample
    /// times. Scalar ODEs are the scalar tape's home ground: about 40 nodes
    /// per RK4 step, no allocation per node.
    pub fn simulate<'t>(&self, t: &'t Tape, omega: Var<'t>, zeta: Var<'t>) -> Vec<Var<'t>> {
        let k = omega * omega; // ω²
        let c = omega * zeta * 2.0; // 2ζω
        let accel = |x: Var<'t>, v: Var<'t>| -(k * x + c * v);
        let (mut x, mut v) = (t.var(1.0), t.var(0.0));
        let mut samples = Vec::with_capacity(self.data.len());
        let h = self.dt;
        for step in 1..=self.steps {
            // Classic RK4 on (x, v).
            let (k1x, k1v) = (v, accel(x, v));
            let (x2, v2) = (x + k1x * (h / 2.0), v + k1v * (h / 2.0));
            let (k2x, k2v) = (v2, accel(x2, v2));
            let (x3, v3) = (x + k2x * (h / 2.0), v + k2v * (h / 2.0));
            let (k3x, k3v) = (v3, accel(x3, v3));
            let (x4, v4) = (x + k3x * h, v + k3v * h);
            let (k4x, k4v) = (v4, accel(x4, v4));
            x = x + (k1x + k2x * 2.0 + k3x * 2.0 + k4x) * (h / 6.0);
            v = v + (k1v + k2v * 2.0 + k3v * 2.0 + k4v) * (h / 6.0);
            if step % STEPS_PER_SAMPLE == 0 {
                samples.push(x);
            }
        }
        samples
    }

    /// L = Σᵢ (x(tᵢ) − dataᵢ)² and its gradient (∂L/∂ω, ∂L/∂ζ) from the
    /// tape.
    pub fn loss_and_grad(&self, omega: f64, zeta: f64) -> (f64, [f64; 2]) {
        let t = Tape::with_capacity(45 * self.steps);
        let (w, z) = (t.var(omega), t.var(zeta));
        let xs = self.simulate(&t, w, z);
        let mut loss = t.var(0.0);
        for (x, d) in xs.iter().zip(&self.data) {
            let r = *x - *d;
            loss = loss + r * r;
        }
        let g = t.grad(loss);
        (loss.value(), [g.wrt(w), g.wrt(z)])
    }

    /// The loss and its gradient from the exact solution and its analytic
    /// derivatives.
    pub fn analytic(&self, omega: f64, zeta: f64) -> (f64, [f64; 2]) {
        let mut loss = 0.0;
        let mut grad = [0.0; 2];
        for (i, d) in self.data.iter().enumerate() {
            let (x, dx) = exact(omega, zeta, sample_time(i, self.dt));
            loss += (x - d).powi(2);
            grad[0] += 2.0 * (x - d) * dx[0];
            grad[1] += 2.0 * (x - d) * dx[1];
        }
        (loss, grad)
    }
}

fn sample_time(i: usize, dt: f64) -> f64 {
    ((i + 1) * STEPS_PER_SAMPLE) as f64 * dt
}

/// x(t) and (∂x/∂ω, ∂x/∂ζ) of the exact solution.
pub(crate) fn exact(omega: f64, zeta: f64, t: f64) -> (f64, [f64; 2]) {
    let s = (1.0 - zeta * zeta).sqrt();
    let (a, b) = (zeta * omega, omega * s);
    let e = (-a * t).exp();
    let (sn, cs) = (b * t).sin_cos();
    let x = e * (cs + a / b * sn);
    let dx_da = -t * x + e * sn / b;
    let dx_db = e * (-t * sn - a / (b * b) * sn + a / b * t * cs);
    let d_omega = dx_da * zeta + dx_db * s;
    let d_zeta = dx_da * omega + dx_db * (-omega * zeta / s);
    (x, [d_omega, d_zeta])
}

pub(super) fn run(
    options: &DemoOptions,
    on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let dt = if options.short { 0.01 } else { 0.005 };
    let max_iters = if options.short { 300 } else { 600 };
    let problem = Oscillator::new(dt);
    let trajectory = |params: &Tensor| -> Vec<[f64; 2]> {
        let t = Tape::new();
        let xs = problem.simulate(&t, t.var(params.data[0]), t.var(params.data[1]));
        xs.iter()
            .enumerate()
            .map(|(i, x)| [sample_time(i, dt), x.value()])
            .collect()
    };
    let snaps = snapshot_iters(max_iters);
    let mut curves = Vec::new();
    let mut objective = |params: &[Tensor]| -> Result<(f64, Vec<Tensor>)> {
        let (loss, g) = problem.loss_and_grad(params[0].data[0], params[0].data[1]);
        Ok((loss, vec![Tensor::from_data(g.to_vec(), vec![2])]))
    };
    let mut snapshotting = SnapshotObjective {
        inner: &mut objective,
        iter: 0,
        snaps: &snaps,
        record: |iter: usize, p: &Tensor| {
            curves.push(Curve {
                label: format!("iteration {iter}"),
                points: trajectory(p),
                is_target: false,
            })
        },
    };
    let opts = MinimizeOptions {
        max_iters,
        ..Default::default()
    };
    let guess = Tensor::from_data(GUESS.to_vec(), vec![2]);
    let mut adam = Adam::new(0.02).with_decay(0.995);
    let report = minimize_with(
        &mut snapshotting,
        vec![guess.clone()],
        &mut adam,
        &opts,
        on_iter,
    )?;
    let fitted = &report.params[0];
    curves.push(Curve {
        label: format!("final (iteration {})", report.iters),
        points: trajectory(fitted),
        is_target: false,
    });
    curves.push(Curve {
        label: "noisy data".into(),
        points: problem
            .data
            .iter()
            .enumerate()
            .map(|(i, &d)| [sample_time(i, dt), d])
            .collect(),
        is_target: true,
    });
    // Gradient check at the initial guess, tape through RK4 vs analytic, on
    // a fine step so that RK4's O(dt⁴) discretisation error is below 1e-9.
    let fine = Oscillator::new(0.002);
    let (_, tape_grad) = fine.loss_and_grad(GUESS[0], GUESS[1]);
    let (_, exact_grad) = fine.analytic(GUESS[0], GUESS[1]);
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    Ok(DemoReport {
        name: "oscillator",
        losses: report.losses,
        figures: vec![Figure {
            stem: "trajectory".into(),
            title: "Damped oscillator: RK4 fit to noisy data".into(),
            x_label: "time t [s]".into(),
            y_label: "position x [m]".into(),
            curves,
        }],
        metrics: vec![
            ("omega fitted".into(), fitted.data[0]),
            ("omega true".into(), TRUE_OMEGA),
            ("zeta fitted".into(), fitted.data[1]),
            ("zeta true".into(), TRUE_ZETA),
            ("dL/domega tape".into(), tape_grad[0]),
            ("dL/domega analytic".into(), exact_grad[0]),
            ("dL/dzeta tape".into(), tape_grad[1]),
            ("dL/dzeta analytic".into(), exact_grad[1]),
            (
                "gradient rel. error".into(),
                rel(tape_grad[0], exact_grad[0]).max(rel(tape_grad[1], exact_grad[1])),
            ),
        ],
        mesh_figures: Vec::new(),
        tables: Vec::new(),
        bar_charts: Vec::new(),
    })
}

/// Wraps an objective to record the trajectory at chosen iterations.
struct SnapshotObjective<'a, O, R> {
    inner: &'a mut O,
    iter: usize,
    snaps: &'a [usize],
    record: R,
}

impl<O: Objective, R: FnMut(usize, &Tensor)> Objective for SnapshotObjective<'_, O, R> {
    fn loss_and_grad(&mut self, params: &[Tensor]) -> Result<(f64, Vec<Tensor>)> {
        if self.snaps.contains(&self.iter) {
            (self.record)(self.iter, &params[0]);
        }
        self.iter += 1;
        self.inner.loss_and_grad(params)
    }
}
