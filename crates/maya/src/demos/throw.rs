//! `throw`: find the launch velocity of a ball that bounces once and lands
//! on a target, by gradient descent through the rigid-body simulation with
//! smoothed penalty contact (see [`crate::rigid::examples::throw`]).

use super::{snapshot_iters, Curve, DemoOptions, DemoReport, Figure};
use crate::error::Result;
use crate::rigid::examples::throw::{solve_with, ThrowProblem};

const TARGET_X: f64 = 3.0;
const INITIAL: [f64; 2] = [0.5, 0.0];
const TOLERANCE: f64 = 1e-4;

pub(super) fn run(
    options: &DemoOptions,
    on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let problem = ThrowProblem {
        target_x: TARGET_X,
        ..ThrowProblem::default()
    };
    let max_iters = 60;
    let stride = if options.short { 40 } else { 8 };
    let snaps = snapshot_iters(12);
    let mut kept = Vec::new();
    let mut losses = Vec::new();
    let fit = solve_with(
        &problem,
        INITIAL,
        TOLERANCE,
        max_iters,
        &mut |iter, loss, v| {
            losses.push(loss);
            on_iter(iter, loss);
            if snaps.contains(&iter) || iter == 1 {
                kept.push((iter, v));
            }
        },
    )?;
    kept.dedup_by_key(|(iter, _)| *iter);
    let mut curves = Vec::new();
    for (iter, v) in kept.into_iter().filter(|(iter, _)| *iter < fit.iterations) {
        curves.push(Curve {
            label: format!("iteration {iter}: v0 = ({:.2}, {:.2}) m/s", v[0], v[1]),
            points: problem.path(v, stride)?,
            is_target: false,
        });
    }
    curves.push(Curve {
        label: format!(
            "final (iteration {}): v0 = ({:.3}, {:.3}) m/s",
            fit.iterations, fit.velocity[0], fit.velocity[1]
        ),
        points: problem.path(fit.velocity, stride)?,
        is_target: false,
    });
    curves.push(Curve {
        label: format!("target x = {TARGET_X} m"),
        points: vec![[TARGET_X, problem.radius]],
        is_target: true,
    });
    Ok(DemoReport {
        name: "throw",
        losses,
        figures: vec![Figure {
            stem: "trajectory".into(),
            title: "Throw: one bounce, then land on the target".into(),
            x_label: "x [m]".into(),
            y_label: "height y [m]".into(),
            curves,
        }],
        metrics: vec![
            ("landing x".into(), fit.landing_x),
            ("target x".into(), TARGET_X),
            ("landing error".into(), (fit.landing_x - TARGET_X).abs()),
            ("vx0".into(), fit.velocity[0]),
            ("vy0".into(), fit.velocity[1]),
            ("iterations".into(), fit.iterations as f64),
        ],
        mesh_figures: Vec::new(),
        tables: Vec::new(),
        bar_charts: Vec::new(),
    })
}
