//! Meshes coloured by a value per triangle (PNG and SVG), drawn to scale,
//! with a shared colour bar, and their data as CSV.
//!
//! A [`MeshFigure`]'s panels share one bounding box, so shapes compare at a
//! glance, and one colour scale (viridis, linear or log₁₀), shown by the
//! colour bar on the right.

use crate::plot::register_font;
use anyhow::{anyhow, bail, Context, Result};
use maya::demos::{MeshFigure, MeshPanel};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

/// Width of the colour bar's area (label and ticks included), in pixels.
const BAR_WIDTH: u32 = 190;
const TITLE_HEIGHT: u32 = 56;
/// Per panel, beside the plotting area: the caption, the axes' labels and
/// the margins.
const CAPTION: u32 = 30;
const X_AXIS: u32 = 44;
const Y_AXIS: u32 = 64;
const MARGIN: u32 = 10;
const EDGE: RGBAColor = RGBAColor(30, 30, 30, 0.35);

/// How values become colours: the range, and whether it is logarithmic.
#[derive(Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Scale {
    fn of(fig: &MeshFigure) -> Result<Scale> {
        let Some([lo, hi]) = fig.value_range() else {
            bail!("mesh figure `{}` has no finite value to colour", fig.stem);
        };
        if fig.log_scale && lo <= 0.0 {
            bail!(
                "mesh figure `{}` asks for a log scale but has a value {lo} ≤ 0",
                fig.stem
            );
        }
        // A constant field still needs a range to draw its colour bar.
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else if fig.log_scale {
            (lo / 1.1, hi * 1.1)
        } else {
            (
                lo - 0.5 * lo.abs().max(1e-12),
                hi + 0.5 * hi.abs().max(1e-12),
            )
        };
        Ok(Scale {
            lo,
            hi,
            log: fig.log_scale,
        })
    }

    /// Where `v` falls in the range, 0 to 1 (clamped).
    fn fraction(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    fn color(&self, v: f64) -> RGBColor {
        ViridisRGB::get_color(self.fraction(v))
    }

    /// The value at fraction `t` of the range.
    fn value(&self, t: f64) -> f64 {
        if self.log {
            (self.lo.ln() + t * (self.hi.ln() - self.lo.ln())).exp()
        } else {
            self.lo + t * (self.hi - self.lo)
        }
    }
}

/// The bounding box of every panel's vertices, padded by 4 %.
fn bounds(panels: &[MeshPanel]) -> ([f64; 2], [f64; 2]) {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in panels.iter().flat_map(|p| &p.vertices) {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let pad = 0.04 * (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-9);
    ([lo[0] - pad, lo[1] - pad], [hi[0] + pad, hi[1] + pad])
}

/// Canvas size and panel columns: panels one per row (two columns from
/// four panels on), each as wide as the canvas allows and as high as the
/// shapes' aspect ratio then needs.
fn layout(fig: &MeshFigure) -> ((u32, u32), usize) {
    let n = fig.panels.len().max(1);
    let cols = if n >= 4 { 2 } else { 1 };
    let rows = n.div_ceil(cols) as u32;
    let width = if cols == 2 { 1400 } else { 1200 };
    let (lo, hi) = bounds(&fig.panels);
    let aspect = ((hi[1] - lo[1]) / (hi[0] - lo[0])).clamp(0.05, 2.0);
    let plot_w = (width - BAR_WIDTH) / cols as u32 - Y_AXIS - 2 * MARGIN;
    let row = (plot_w as f64 * aspect) as u32 + CAPTION + X_AXIS + 2 * MARGIN;
    ((width, TITLE_HEIGHT + rows * row), cols)
}

/// The axis ranges that hold `box_` centred in a plotting area of
/// `pixels` (width, height) with one unit as many pixels across as up: the
/// box's shorter side (relative to the area's) is widened.
fn equal_aspect(box_: ([f64; 2], [f64; 2]), pixels: (u32, u32)) -> [std::ops::Range<f64>; 2] {
    let (lo, hi) = box_;
    let (w, h) = (pixels.0.max(1) as f64, pixels.1.max(1) as f64);
    let per_pixel = ((hi[0] - lo[0]) / w).max((hi[1] - lo[1]) / h);
    let centre = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])];
    let half = [0.5 * per_pixel * w, 0.5 * per_pixel * h];
    [0, 1].map(|k| centre[k] - half[k]..centre[k] + half[k])
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &MeshPanel,
    box_: ([f64; 2], [f64; 2]),
    scale: Scale,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let builder = |x: std::ops::Range<f64>, y: std::ops::Range<f64>| {
        ChartBuilder::on(area)
            .caption(&panel.label, ("sans-serif", 19))
            .margin(MARGIN)
            .x_label_area_size(X_AXIS)
            .y_label_area_size(Y_AXIS)
            .build_cartesian_2d(x, y)
            .map_err(|e| anyhow!("{e}"))
    };
    // Measure the plotting area, then draw with equal aspect.
    let (lo, hi) = box_;
    let pixels = builder(lo[0]..hi[0], lo[1]..hi[1])?
        .plotting_area()
        .dim_in_pixel();
    let [x, y] = equal_aspect(box_, pixels);
    let mut chart = builder(x, y)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x [m]")
        .y_desc("y [m]")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let corners = |tri: &[usize; 3]| -> Vec<(f64, f64)> {
        tri.iter()
            .map(|&v| (panel.vertices[v][0], panel.vertices[v][1]))
            .collect()
    };
    chart
        .draw_series(
            panel
                .triangles
                .iter()
                .zip(&panel.values)
                .map(|(tri, v)| Polygon::new(corners(tri), scale.color(*v).filled())),
        )
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(panel.triangles.iter().map(|tri| {
            let mut ring = corners(tri);
            ring.push(ring[0]);
            PathElement::new(ring, EDGE.stroke_width(1))
        }))
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// The colour bar's ticks: 1-2-5 values in each decade (every integer
/// multiple when that leaves fewer than three) for a log scale, multiples of
/// a 1-2-5 step for a linear one; each with its label.
fn ticks(scale: Scale) -> Vec<(f64, String)> {
    let label = |v: f64, step: f64| {
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        format!("{v:.decimals$}")
    };
    let within = |v: f64| v >= scale.lo * (1.0 - 1e-9) && v <= scale.hi * (1.0 + 1e-9);
    if scale.log {
        let decades = scale.lo.log10().floor() as i32..=scale.hi.log10().ceil() as i32;
        let pick = |mantissas: &[f64]| -> Vec<(f64, String)> {
            decades
                .clone()
                .flat_map(|d| {
                    mantissas
                        .iter()
                        .map(move |m| (m * 10f64.powi(d), 10f64.powi(d)))
                })
                .filter(|(v, _)| within(*v))
                .map(|(v, step)| (v, label(v, step)))
                .collect()
        };
        let ticks = pick(&[1.0, 2.0, 5.0]);
        if ticks.len() >= 3 {
            ticks
        } else {
            pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        }
    } else {
        let raw = (scale.hi - scale.lo) / 6.0;
        let power = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * power);
        let first = (scale.lo / step).ceil() as i64;
        let last = (scale.hi / step).floor() as i64;
        (first..=last)
            .map(|k| k as f64 * step)
            .map(|v| (v, label(v, step)))
            .collect()
    }
}

/// A vertical colour bar with its ticks and rotated label, in pixels.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    scale: Scale,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = (h as i32 / 10, h as i32 - h as i32 / 10);
    let (left, right) = (20, 56);
    let y_of = |t: f64| bottom - (t * (bottom - top) as f64).round() as i32;
    const BANDS: usize = 256;
    for k in 0..BANDS {
        let (a, b) = (k as f64 / BANDS as f64, (k + 1) as f64 / BANDS as f64);
        let color = scale.color(scale.value(0.5 * (a + b)));
        area.draw(&Rectangle::new(
            [(left, y_of(b)), (right, y_of(a))],
            color.filled(),
        ))
        .map_err(|e| anyhow!("{e}"))?;
    }
    area.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| anyhow!("{e}"))?;
    let style =
        TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (v, text) in ticks(scale) {
        let y = y_of(scale.fraction(v));
        area.draw(&PathElement::new(
            vec![(right, y), (right + 6, y)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| anyhow!("{e}"))?;
        area.draw(&Text::new(text, (right + 9, y), style.clone()))
            .map_err(|e| anyhow!("{e}"))?;
    }
    let rotated = TextStyle::from(
        ("sans-serif", 17)
            .into_font()
            .transform(FontTransform::Rotate90),
    )
    .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        label.to_string(),
        (right + 100, (top + bottom) / 2),
        rotated,
    ))
    .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    fig: &MeshFigure,
    scale: Scale,
    cols: usize,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let root = root
        .titled(&fig.title, ("sans-serif", 26))
        .map_err(|e| anyhow!("{e}"))?;
    let (w, _) = root.dim_in_pixel();
    let (panels, bar) = root.split_horizontally(w - BAR_WIDTH);
    let rows = fig.panels.len().div_ceil(cols);
    let box_ = bounds(&fig.panels);
    for (panel, area) in fig.panels.iter().zip(panels.split_evenly((rows, cols))) {
        draw_panel(&area, panel, box_, scale)?;
    }
    draw_colour_bar(&bar, &fig.value_label, scale)?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Every triangle of every panel as a `panel,triangle,x0,y0,x1,y1,x2,y2,value`
/// record (numbers in Rust's shortest round-trip form).
fn write_csv(path: &Path, fig: &MeshFigure) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "panel", "triangle", "x0", "y0", "x1", "y1", "x2", "y2", "value",
    ])?;
    for panel in &fig.panels {
        for (e, (tri, v)) in panel.triangles.iter().zip(&panel.values).enumerate() {
            let mut record = vec![panel.label.clone(), e.to_string()];
            for &c in tri {
                let p = panel.vertices[c];
                record.extend([format!("{:?}", p[0]), format!("{:?}", p[1])]);
            }
            record.push(format!("{v:?}"));
            w.write_record(&record)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Draws `fig` as `dir/STEM.png` and `dir/STEM.svg` and writes its
/// triangles and values to `dir/STEM.csv`.
pub fn mesh_figure(dir: &Path, fig: &MeshFigure) -> Result<Vec<PathBuf>> {
    for (k, p) in fig.panels.iter().enumerate() {
        if p.values.len() != p.triangles.len() {
            bail!(
                "mesh figure `{}`, panel {k}: {} values for {} triangles",
                fig.stem,
                p.values.len(),
                p.triangles.len()
            );
        }
        if let Some(tri) = p
            .triangles
            .iter()
            .find(|t| t.iter().any(|&v| v >= p.vertices.len()))
        {
            bail!(
                "mesh figure `{}`, panel {k}: triangle {tri:?} past the {} vertices",
                fig.stem,
                p.vertices.len()
            );
        }
    }
    let scale = Scale::of(fig)?;
    register_font();
    let (size, cols) = layout(fig);
    let png = dir.join(format!("{}.png", fig.stem));
    let svg = dir.join(format!("{}.svg", fig.stem));
    let csv = dir.join(format!("{}.csv", fig.stem));
    draw(
        BitMapBackend::new(&png, size).into_drawing_area(),
        fig,
        scale,
        cols,
    )
    .with_context(|| format!("drawing {}", png.display()))?;
    draw(
        SVGBackend::new(&svg, size).into_drawing_area(),
        fig,
        scale,
        cols,
    )
    .with_context(|| format!("drawing {}", svg.display()))?;
    write_csv(&csv, fig).with_context(|| format!("writing {}", csv.display()))?;
    Ok(vec![png, svg, csv])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(values: Vec<f64>, log_scale: bool) -> MeshFigure {
        MeshFigure {
            stem: "field".into(),
            title: "a field".into(),
            value_label: "v".into(),
            log_scale,
            range: None,
            panels: vec![MeshPanel {
                label: "square".into(),
                vertices: vec![[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0]],
                triangles: vec![[0, 1, 2], [0, 2, 3]],
                values,
            }],
        }
    }

    #[test]
    fn log_ticks_are_one_two_five_and_linear_ticks_a_round_step() {
        let log = Scale {
            lo: 40.0,
            hi: 260.0,
            log: true,
        };
        let values: Vec<f64> = ticks(log).iter().map(|t| t.0).collect();
        assert_eq!(values, vec![50.0, 100.0, 200.0]);
        assert_eq!(ticks(log)[0].1, "50");
        // Under a decade with fewer than three 1-2-5 values: every integer.
        let narrow: Vec<String> = ticks(Scale {
            lo: 0.25,
            hi: 0.45,
            log: true,
        })
        .into_iter()
        .map(|t| t.1)
        .collect();
        assert_eq!(narrow, vec!["0.3", "0.4"]);
        let linear: Vec<String> = ticks(Scale {
            lo: 0.05,
            hi: 9.6,
            log: false,
        })
        .into_iter()
        .map(|t| t.1)
        .collect();
        assert_eq!(linear, vec!["2", "4", "6", "8"]);
        let small: Vec<String> = ticks(Scale {
            lo: -0.03,
            hi: 0.03,
            log: false,
        })
        .into_iter()
        .map(|t| t.1)
        .collect();
        assert_eq!(
            small,
            vec!["-0.03", "-0.02", "-0.01", "0.00", "0.01", "0.02", "0.03"]
        );
    }

    #[test]
    fn colours_run_from_the_low_to_the_high_end_and_clamp_outside() {
        let scale = Scale::of(&figure(vec![10.0, 1000.0], true)).unwrap();
        assert!(
            (scale.fraction(100.0) - 0.5).abs() < 1e-12,
            "log: 100 is half way"
        );
        assert_eq!(scale.color(1.0), scale.color(10.0));
        assert_eq!(scale.color(1e6), ViridisRGB::get_color(1.0));
        let constant = Scale::of(&figure(vec![3.0, 3.0], false)).unwrap();
        assert!(constant.lo < 3.0 && constant.hi > 3.0);
    }

    #[test]
    fn bad_figures_are_errors_that_say_why() {
        let dir = std::env::temp_dir();
        let e = mesh_figure(&dir, &figure(vec![1.0], false)).unwrap_err();
        assert!(e.to_string().contains("1 values for 2 triangles"), "{e}");
        let e = mesh_figure(&dir, &figure(vec![1.0, -1.0], true)).unwrap_err();
        assert!(e.to_string().contains("log scale"), "{e}");
        let e = mesh_figure(&dir, &figure(vec![f64::NAN, f64::NAN], false)).unwrap_err();
        assert!(e.to_string().contains("no finite value"), "{e}");
    }

    /// One metre is as many pixels across as up, and the box stays whole
    /// and centred, whichever way the area is wider.
    #[test]
    fn equal_aspect_widens_the_shorter_side() {
        let box_ = ([0.0, -0.5], [4.0, 0.5]);
        for pixels in [(800, 100), (800, 400), (300, 300)] {
            let [x, y] = equal_aspect(box_, pixels);
            let (sx, sy) = (
                (x.end - x.start) / pixels.0 as f64,
                (y.end - y.start) / pixels.1 as f64,
            );
            assert!(
                (sx - sy).abs() < 1e-12 * sx,
                "{pixels:?}: {sx} vs {sy} per pixel"
            );
            assert!(x.start <= 0.0 && x.end >= 4.0 && y.start <= -0.5 && y.end >= 0.5);
            assert!((x.start + x.end - 4.0).abs() < 1e-12 && (y.start + y.end).abs() < 1e-12);
        }
    }
}
