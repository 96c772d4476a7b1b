//! Worked problems: optimisation through simulation, end to end.
//!
//! Each demo builds a problem, optimises it, and returns a [`DemoReport`]
//! with the loss history, figures of the trajectories (first, intermediate
//! and final iterates beside the target) and the figures that matter. The
//! `maya demo NAME` command and the `examples/` programs are thin shells
//! over [`DemoInfo::run`]; drawing lives in the command-line crate.

mod billiards;
mod cloth;
mod contact_models;
mod contact_scenes;
mod fem_fields;
mod oscillator;
mod shape_geometry;
mod shape_opt;
mod soft_fit;
mod sysid;
mod tables;
mod throw;

pub use tables::{BarChart, BarSeries, Table};

use crate::error::{Error, Result};

/// A labelled polyline.
#[derive(Clone, Debug)]
pub struct Curve {
    /// Legend entry.
    pub label: String,
    /// Points (x, y) in order.
    pub points: Vec<[f64; 2]>,
    /// Whether this is the target (drawn as markers, not a line).
    pub is_target: bool,
}

/// A titled 2D plot of curves.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem for its outputs (e.g. `trajectory`).
    pub stem: String,
    /// Title.
    pub title: String,
    /// Horizontal axis label, with units.
    pub x_label: String,
    /// Vertical axis label, with units.
    pub y_label: String,
    /// The curves.
    pub curves: Vec<Curve>,
}

/// One triangle mesh coloured by a value per triangle: a panel of a
/// [`MeshFigure`].
#[derive(Clone, Debug)]
pub struct MeshPanel {
    /// Caption of the panel.
    pub label: String,
    /// Vertex positions (m).
    pub vertices: Vec<[f64; 2]>,
    /// Triangles, as vertex indices (counter-clockwise).
    pub triangles: Vec<[usize; 3]>,
    /// One value per triangle, which sets its colour.
    pub values: Vec<f64>,
}

/// Meshes drawn to scale (equal aspect) in panels, coloured through one
/// colour map with one colour bar shared by every panel.
///
/// ```
/// use maya::demos::{MeshFigure, MeshPanel};
/// let panel = MeshPanel {
///     label: "one triangle".into(),
///     vertices: vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
///     triangles: vec![[0, 1, 2]],
///     values: vec![2.0],
/// };
/// let fig = MeshFigure { stem: "field".into(), title: "A field".into(),
///     value_label: "E [Pa]".into(), log_scale: false, range: None, panels: vec![panel] };
/// assert_eq!(fig.value_range(), Some([2.0, 2.0]));
/// let clipped = MeshFigure { range: Some([0.0, 1.0]), ..fig };
/// assert_eq!(clipped.value_range(), Some([0.0, 1.0]));
/// ```
#[derive(Clone, Debug)]
pub struct MeshFigure {
    /// File stem for its outputs (e.g. `field`).
    pub stem: String,
    /// Title.
    pub title: String,
    /// The colour bar's label, with units.
    pub value_label: String,
    /// Whether colours follow log₁₀ of the values (all positive).
    pub log_scale: bool,
    /// The colour bar's range; values outside it take its end colours.
    /// `None`: from the smallest to the largest value.
    pub range: Option<[f64; 2]>,
    /// The panels, in reading order.
    pub panels: Vec<MeshPanel>,
}

impl MeshFigure {
    /// The colour bar's range: [`Self::range`] when set, else the smallest
    /// and largest finite value over every panel (`None` when there is
    /// none).
    pub fn value_range(&self) -> Option<[f64; 2]> {
        if self.range.is_some() {
            return self.range;
        }
        let finite = self
            .panels
            .iter()
            .flat_map(|p| p.values.iter().copied())
            .filter(|v| v.is_finite());
        finite.fold(None, |r, v| match r {
            None => Some([v, v]),
            Some([lo, hi]) => Some([lo.min(v), hi.max(v)]),
        })
    }
}

/// What a demo returns.
#[derive(Clone, Debug)]
pub struct DemoReport {
    /// The demo's name.
    pub name: &'static str,
    /// The loss at every optimiser iteration.
    pub losses: Vec<f64>,
    /// Trajectory figures.
    pub figures: Vec<Figure>,
    /// Named results (recovered parameters, truths, errors), in order.
    pub metrics: Vec<(String, f64)>,
    /// Figures of fields on meshes (none for the particle demos).
    pub mesh_figures: Vec<MeshFigure>,
    /// Tables of results (printed, and written as CSV).
    pub tables: Vec<Table>,
    /// Grouped bar charts.
    pub bar_charts: Vec<BarChart>,
}

impl DemoReport {
    /// The value of a named metric.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// Options shared by every demo.
#[derive(Clone, Copy, Debug, Default)]
pub struct DemoOptions {
    /// A shortened configuration (fewer steps or iterations) for tests and
    /// CI; it still converges to the demo's stated tolerance.
    pub short: bool,
}

/// The entry point of a demo: options and a progress callback
/// `(iteration, loss)`.
type DemoFn = fn(&DemoOptions, &mut dyn FnMut(usize, f64)) -> Result<DemoReport>;

/// A demo's name and one-line description.
#[derive(Clone, Copy, Debug)]
pub struct DemoInfo {
    /// Name, as `maya demo NAME` takes it.
    pub name: &'static str,
    /// What it solves.
    pub about: &'static str,
    run: DemoFn,
}

/// Every demo, the headline one first.
pub const DEMOS: &[DemoInfo] = &[
    DemoInfo {
        name: "throw",
        about: "find the launch velocity of a ball that bounces once and lands on a target (rigid body + contact)",
        run: throw::run,
    },
    DemoInfo {
        name: "sysid",
        about: "recover spring stiffness and drag of a mass-spring grid from a noisy observed trajectory (L-BFGS)",
        run: sysid::run,
    },
    DemoInfo {
        name: "cloth",
        about: "optimise per-spring stiffness of a hanging grid so it sags into a target shape (Adam)",
        run: cloth::run,
    },
    DemoInfo {
        name: "oscillator",
        about: "fit the frequency and damping of an oscillator to noisy data through RK4; autodiff vs analytic gradient",
        run: oscillator::run,
    },
    DemoInfo {
        name: "soft-fit",
        about: "recover a Young's-modulus field (a stiff inclusion) of a plate from its static displacements (FEM, L-BFGS)",
        run: soft_fit::run,
    },
    DemoInfo {
        name: "shape-opt",
        about: "optimise the rest shape of a cantilever for a stiffer tip at fixed area (FEM statics, Adam)",
        run: shape_opt::run,
    },
    DemoInfo {
        name: "billiards",
        about: "find the cue velocity that sends a ball of a struck rack to a target (complementarity contact, L-BFGS)",
        run: billiards::run,
    },
    DemoInfo {
        name: "contact-models",
        about: "penalty vs complementarity contact on a bounce, an inelastic collision and a sliding box: value and gradient errors against closed forms",
        run: contact_models::run,
    },
];

/// Looks a demo up by name.
pub fn find(name: &str) -> Option<&'static DemoInfo> {
    DEMOS.iter().find(|d| d.name == name)
}

/// [`find`], returning [`Error::Unknown`] (listing every demo) for a name
/// that is not a demo.
///
/// ```
/// let e = maya::demos::try_find("juggle").unwrap_err();
/// assert!(e.to_string().contains("throw, sysid, cloth, oscillator, soft-fit, shape-opt, billiards, contact-models"));
/// ```
pub fn try_find(name: &str) -> Result<&'static DemoInfo> {
    find(name).ok_or_else(|| Error::Unknown {
        what: "demo",
        name: name.to_string(),
        known: DEMOS.iter().map(|d| d.name).collect(),
    })
}

impl DemoInfo {
    /// Runs the demo, calling `on_iter(iteration, loss)` as it optimises.
    pub fn run(
        &self,
        options: &DemoOptions,
        on_iter: &mut dyn FnMut(usize, f64),
    ) -> Result<DemoReport> {
        (self.run)(options, on_iter)
    }
}

/// Iterations at which to keep a snapshot of the trajectory: the first, two
/// intermediate ones, and (separately) the final one.
pub(crate) fn snapshot_iters(max_iters: usize) -> [usize; 3] {
    [0, max_iters / 40, max_iters / 12]
}

/// The body of the `examples/NAME.rs` programs: runs demo `name` (short when
/// the command line has `--short`) and prints its loss and metrics.
///
/// Returns [`Error::Unknown`], listing the demos, for a name that is not a
/// demo, and the demo's own error if it fails.
pub fn example_main(name: &str) -> Result<()> {
    let short = std::env::args().any(|a| a == "--short");
    let demo = try_find(name)?;
    let report = demo.run(&DemoOptions { short }, &mut |_, _| {})?;
    let last = report.losses.last().copied().unwrap_or(f64::NAN);
    println!(
        "{name}: {} iterations, final loss {last:.4e}",
        report.losses.len()
    );
    for (metric, value) in &report.metrics {
        println!("  {metric:<24} {value:.10e}");
    }
    Ok(())
}
