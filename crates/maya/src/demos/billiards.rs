//! `billiards`: find the cue velocity that sends a chosen ball of a
//! triangle rack to a target point, through complementarity contact.
//!
//! A top-down table (no gravity, no ground, no friction between the balls):
//! a cue ball strikes a rack of six balls in three rows, with restitution
//! e = 0.9. The target is where a hidden shot (`SHOT`) sends the
//! chosen ball (the lower corner of the back row) at time T, so it can be
//! reached; the loss |p(T) − target|² is minimised over the cue velocity
//! (vx, vy) by L-BFGS, differentiating through every impulse of the break
//! (each step's implicit-function gradient, with the time-of-impact
//! correction of restitution). Other cue velocities reach the same point,
//! so the fit need not recover the hidden shot.
//!
//! κ is the `simulation` preset's 1e-8 J, chosen by measurement: from the
//! same start the fit ends 2e-6 m from the target at κ = 1e-8 J (76
//! evaluations), 8e-5 m at 1e-5 J (the `gradients` preset, 61) and 1e-4 m
//! at 1e-3 J, after 559 evaluations. The loss is piecewise smooth (which
//! ball strikes which changes with the cue velocity), and flat where the
//! chosen ball is never struck.

use super::{Curve, DemoOptions, DemoReport, Figure};
use crate::contact::{ComplementarityOptions, ContactModel};
use crate::error::Result;
use crate::optim::{lbfgs, LbfgsOptions};
use crate::physics::{rollout, Record};
use crate::rigid::{Material, Shape, World};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use std::f64::consts::PI;

/// Ball radius (m).
const RADIUS: f64 = 0.05;
/// Ball mass (kg).
const MASS: f64 = 0.17;
/// The gap between neighbouring balls of the rack (m): above the
/// activation distance, so the rack is at rest until struck.
const RACK_GAP: f64 = 0.012;
/// Restitution between balls.
const RESTITUTION: f64 = 0.9;
/// Time step (s) and horizon T (s).
const DT: f64 = 2.5e-3;
const HORIZON: f64 = 1.0;
/// The ball sent to the target: the lower corner of the back row.
const CHOSEN: usize = 4;
/// The shot to reproduce: the target is where this cue velocity (m/s)
/// sends the chosen ball, so it is reachable whatever the restitution.
const SHOT: [f64; 2] = [2.4, -0.1];
/// The first guess of the cue velocity (m/s): a slightly off-centre
/// strike on the apex.
const GUESS: [f64; 2] = [2.0, -0.05];

/// The table: a cue ball (body 0) and the rack (bodies 1..=6).
struct Table {
    world: World,
    start: Vec<[f64; 3]>,
    steps: usize,
    target: [f64; 2],
}

impl Table {
    fn new(steps: usize) -> Table {
        // κ = 1e-8 J, d̂ = 1 cm: above the 6.5 mm a 2.6 m/s ball travels
        // per step.
        let options = ComplementarityOptions::simulation();
        let mut world = World::new(DT).with_contact(ContactModel::Complementarity(options));
        world.gravity = [0.0, 0.0];
        let density = MASS / (PI * RADIUS * RADIUS);
        let mut start = vec![[0.0, 0.0, 0.0]];
        let spacing = 2.0 * RADIUS + RACK_GAP;
        for row in 0..3 {
            for k in 0..=row {
                let x = 1.0 + row as f64 * spacing * 3f64.sqrt() / 2.0;
                let y = (k as f64 - row as f64 / 2.0) * spacing;
                start.push([x, y, 0.0]);
            }
        }
        for _ in &start {
            world.add_body(Shape::circle(RADIUS), density);
        }
        Table {
            world,
            start,
            steps,
            target: [0.0; 2],
        }
    }

    fn material() -> Material {
        Material {
            stiffness: 0.0,
            damping: 0.0,
            friction: 0.0,
            restitution: RESTITUTION,
        }
    }

    /// The initial state with the cue velocity `cue` (a `[3]` tape value).
    fn state<'t>(&self, t: &'t TensorTape, cue: TVar<'t>) -> Result<crate::rigid::RigidState<'t>> {
        let pose: Vec<TVar> = self
            .start
            .iter()
            .map(|p| t.constant(Tensor::from_data(p.to_vec(), vec![3])))
            .collect();
        let mut velocity = vec![cue];
        velocity.extend((1..self.start.len()).map(|_| t.constant(Tensor::zeros(&[3]))));
        self.world.try_state_from_parts(&pose, &velocity)
    }

    /// The loss |p(T) − target|² and its gradient w.r.t. (vx, vy).
    fn loss_and_grad(&self, v: &[f64]) -> Result<(f64, [f64; 2])> {
        let t = TensorTape::new();
        let cue = t.var(Tensor::from_data(vec![v[0], v[1], 0.0], vec![3]));
        let s0 = self.state(&t, cue)?;
        let params = self.world.params(&t, Self::material());
        let end = self.world.rollout(&s0, &params, self.steps)?;
        let target = t.constant(Tensor::from_data(self.target.to_vec(), vec![2]));
        let p = end.pose.try_slice(0, CHOSEN..CHOSEN + 1)?.reshape(&[3]);
        let loss = (p.try_slice(0, 0..2)? - target).square().sum();
        let g = t.try_grad(loss)?;
        let gv = &g[cue.idx()].data;
        Ok((loss.item(), [gv[0], gv[1]]))
    }

    /// Every ball's path (x, y) over the horizon, every `stride` steps.
    fn paths(&self, v: [f64; 2], stride: usize) -> Result<Vec<Vec<[f64; 2]>>> {
        let t = TensorTape::new();
        let s0 = self.state(
            &t,
            t.constant(Tensor::from_data(vec![v[0], v[1], 0.0], vec![3])),
        )?;
        let params = self.world.params(&t, Self::material());
        let traj = rollout(
            &self.world,
            (s0.pose, s0.velocity),
            &params,
            self.steps,
            Record::All,
        )?;
        let mut paths = vec![Vec::new(); self.start.len()];
        for (k, q) in traj.positions.iter().enumerate() {
            if k % stride == 0 || k == self.steps {
                let q = q.value();
                for (b, path) in paths.iter_mut().enumerate() {
                    path.push([q.data[3 * b], q.data[3 * b + 1]]);
                }
            }
        }
        Ok(paths)
    }
}

/// The evaluations worth drawing: the first, then each that sets a new
/// best loss while the loss is above `floor`, at most `most` in all.
fn improving(losses: &[f64], floor: f64, most: usize) -> Vec<usize> {
    let mut best = f64::INFINITY;
    let mut shown = Vec::new();
    for (k, &loss) in losses.iter().enumerate() {
        if loss < best && loss > floor && shown.len() < most {
            shown.push(k);
        }
        best = best.min(loss);
    }
    shown
}

pub(super) fn run(
    options: &DemoOptions,
    on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let steps = (HORIZON / DT).round() as usize;
    let mut table = Table::new(steps);
    table.target = *table.paths(SHOT, 1)?[CHOSEN]
        .last()
        .expect("a path has its start");
    let target_point = table.target;
    let max_iters = if options.short { 12 } else { 40 };
    let mut iterates: Vec<[f64; 2]> = Vec::new();
    let mut objective = |params: &[Tensor]| -> Result<(f64, Vec<Tensor>)> {
        let v = &params[0].data;
        let (loss, g) = table.loss_and_grad(v)?;
        on_iter(iterates.len(), loss);
        iterates.push([v[0], v[1]]);
        Ok((loss, vec![Tensor::from_data(g.to_vec(), vec![2])]))
    };
    let lbfgs_options = LbfgsOptions {
        max_iters: max_iters as u64,
        grad_tol: 1e-8,
        ..LbfgsOptions::default()
    };
    let guess = Tensor::from_data(GUESS.to_vec(), vec![2]);
    let fit = lbfgs(&mut objective, vec![guess], &lbfgs_options)?;
    let best = [fit.params[0].data[0], fit.params[0].data[1]];
    let stride = 4;
    let mut curves = Vec::new();
    for k in improving(&fit.losses, 1e-6, 4) {
        let v = iterates[k];
        curves.push(Curve {
            label: format!("evaluation {k}: cue v = ({:.3}, {:.3}) m/s", v[0], v[1]),
            points: table.paths(v, stride)?.swap_remove(CHOSEN),
            is_target: false,
        });
    }
    let final_paths = table.paths(best, stride)?;
    let end = *final_paths[CHOSEN].last().expect("a path has its start");
    let distance = ((end[0] - target_point[0]).powi(2) + (end[1] - target_point[1]).powi(2)).sqrt();
    curves.push(Curve {
        label: format!(
            "final: cue v = ({:.3}, {:.3}) m/s, {distance:.1e} m from the target",
            best[0], best[1]
        ),
        points: final_paths[CHOSEN].clone(),
        is_target: false,
    });
    let target = Curve {
        label: format!("target ({:.3}, {:.3}) m", target_point[0], target_point[1]),
        points: vec![target_point],
        is_target: true,
    };
    curves.push(target.clone());
    let mut table_curves: Vec<Curve> = final_paths
        .iter()
        .enumerate()
        .map(|(b, path)| Curve {
            label: match b {
                0 => "cue ball".to_string(),
                CHOSEN => format!("ball {b} (chosen)"),
                _ => format!("ball {b}"),
            },
            points: path.clone(),
            is_target: false,
        })
        .collect();
    // The chosen ball last, so it is drawn in the final iterate's colour.
    let chosen = table_curves.remove(CHOSEN);
    table_curves.push(chosen);
    table_curves.push(Curve {
        label: "start positions".into(),
        points: table.start.iter().map(|p| [p[0], p[1]]).collect(),
        is_target: true,
    });
    table_curves.push(target);
    let first = fit.losses[0];
    let last = fit.final_loss();
    let initial_distance = first.sqrt();
    Ok(DemoReport {
        name: "billiards",
        losses: fit.losses,
        figures: vec![
            Figure {
                stem: "trajectory".into(),
                title: "Billiards: the chosen ball's path as the cue velocity is optimised".into(),
                x_label: "x [m]".into(),
                y_label: "y [m]".into(),
                curves,
            },
            Figure {
                stem: "table".into(),
                title: format!("Billiards: every ball over T = {HORIZON} s with the optimised cue"),
                x_label: "x [m]".into(),
                y_label: "y [m]".into(),
                curves: table_curves,
            },
        ],
        metrics: vec![
            ("loss initial".into(), first),
            ("loss final".into(), last),
            ("loss reduction".into(), first / last),
            ("distance initial".into(), initial_distance),
            ("distance final".into(), distance),
            ("cue vx".into(), best[0]),
            ("cue vy".into(), best[1]),
            ("evaluations".into(), iterates.len() as f64),
        ],
        mesh_figures: Vec::new(),
        tables: Vec::new(),
        bar_charts: Vec::new(),
    })
}
