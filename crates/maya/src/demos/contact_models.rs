//! `contact-models`: the same three closed-form scenes (an elastic bounce,
//! an inelastic collision of unequal masses, a box sliding to rest) under
//! penalty contact (softplus at two stiffnesses, its width above the travel
//! per step, and ReLU) and complementarity contact at three κ, each compared in value and gradient with the hard-contact closed form
//! (see the scenes' module, `contact_scenes.rs`).
//!
//! The report holds a table (scene, model, setting, steps, value error,
//! gradient error, time per step), a bar chart of the gradient errors on a
//! log scale, and every error as a metric named `scene/model setting/what`
//! (e.g. `inelastic/complementarity κ = 1e-10 J, h = 5 ms/gradient error`).
//! For the sliding box a row gives the exact hard-contact distance of
//! semi-implicit Euler at the complementarity step: its error against the
//! continuum is the time discretisation's, not the contact model's.

use super::contact_scenes::{gradient_error, Scene, Setting};
use super::{BarChart, BarSeries, DemoOptions, DemoReport, Table};
use crate::contact::Penalty;
use crate::error::Result;

/// The complementarity step (s).
const H: f64 = 5e-3;

/// Every setting compared, penalty first.
pub(super) const SETTINGS: [Setting; 6] = [
    Setting::Penalty {
        stiffness: 1e4,
        penalty: Penalty::Softplus { width: 1e-3 },
        fraction: 0.1,
    },
    Setting::Penalty {
        stiffness: 1e6,
        penalty: Penalty::Softplus { width: 2e-4 },
        fraction: 0.05,
    },
    Setting::Penalty {
        stiffness: 1e6,
        penalty: Penalty::Relu,
        fraction: 0.05,
    },
    Setting::Complementarity {
        kappa: 1e-10,
        dt: H,
    },
    Setting::Complementarity { kappa: 1e-6, dt: H },
    Setting::Complementarity { kappa: 1e-3, dt: H },
];

/// The scene's short name in metric names.
fn key(scene: Scene) -> &'static str {
    match scene {
        Scene::Bounce => "bounce",
        Scene::Inelastic => "inelastic",
        Scene::Slide => "slide",
    }
}

pub(super) fn run(
    _options: &DemoOptions,
    _on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let mut rows = Vec::new();
    let mut metrics = Vec::new();
    let mut series: Vec<BarSeries> = SETTINGS
        .iter()
        .map(|s| BarSeries {
            label: format!("{}, {}", s.model(), s.label()),
            values: Vec::new(),
        })
        .collect();
    for scene in Scene::ALL {
        let (want, want_grad) = scene.closed_form();
        for (setting, bars) in SETTINGS.iter().zip(&mut series) {
            let got = scene.simulate(setting)?;
            let value_error = (got.value - want).abs();
            let grad_error = gradient_error(&got.gradient, &want_grad);
            bars.values.push(grad_error);
            let name = format!("{}/{} {}", key(scene), setting.model(), setting.label());
            metrics.push((format!("{name}/value error"), value_error));
            metrics.push((format!("{name}/gradient error"), grad_error));
            if let (Scene::Slide, Setting::Complementarity { dt, .. }) = (scene, *setting) {
                let (d, g) = Scene::discrete_slide(dt);
                metrics.push((
                    format!("{name}/value error (discrete)"),
                    (got.value - d).abs(),
                ));
                metrics.push((
                    format!("{name}/gradient error (discrete)"),
                    gradient_error(&got.gradient, &g),
                ));
            }
            rows.push(vec![
                scene.name().to_string(),
                setting.model().to_string(),
                setting.label(),
                format!("{} × {:.2e} s", got.steps, got.dt),
                format!("{value_error:.1e}"),
                format!("{grad_error:.1e}"),
                format!("{:.1}", got.seconds_per_step * 1e6),
            ]);
        }
        if scene == Scene::Slide {
            let (d, g) = Scene::discrete_slide(H);
            rows.push(vec![
                scene.name().to_string(),
                "closed form".into(),
                format!("hard contact, semi-implicit Euler, h = {} ms", H * 1e3),
                format!("{} × {H:.2e} s", (scene.horizon() / H).round()),
                format!("{:.1e}", (d - want).abs()),
                format!("{:.1e}", gradient_error(&g, &want_grad)),
                "-".into(),
            ]);
        }
    }
    let table = Table {
        stem: "errors".into(),
        title: "Contact models against the hard-contact closed forms \
                (value error in m; gradient error: worst entry, relative)"
            .into(),
        columns: [
            "scene",
            "model",
            "setting",
            "steps",
            "value error",
            "gradient error",
            "µs/step (with gradient)",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    };
    let chart = BarChart {
        stem: "gradient_error".into(),
        title: "Gradient error against the closed form, per contact model".into(),
        y_label: "worst relative gradient error (log scale)".into(),
        log_scale: true,
        groups: Scene::ALL.iter().map(|s| s.name().to_string()).collect(),
        series,
    };
    Ok(DemoReport {
        name: "contact-models",
        losses: Vec::new(),
        figures: Vec::new(),
        metrics,
        mesh_figures: Vec::new(),
        tables: vec![table],
        bar_charts: vec![chart],
    })
}
