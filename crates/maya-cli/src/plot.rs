//! PNG and SVG plots of demo figures and loss curves (plotters, with a
//! vendored font so no system font library is needed).

use anyhow::{anyhow, Context, Result};
use maya::demos::Figure;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 640);

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the vendored font is a valid TTF"));
    });
}

/// Iterates are drawn from light to dark blue, the last in red.
fn iterate_color(i: usize, n: usize) -> RGBColor {
    if i + 1 == n {
        return RGBColor(200, 30, 30);
    }
    let s = if n > 1 {
        i as f64 / (n - 1) as f64
    } else {
        0.0
    };
    RGBColor((170.0 - 140.0 * s) as u8, (190.0 - 120.0 * s) as u8, 255)
}

fn bounds(points: impl Iterator<Item = [f64; 2]>) -> ([f64; 2], [f64; 2]) {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points.filter(|p| p[0].is_finite() && p[1].is_finite()) {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    for k in 0..2 {
        let pad = 0.05 * (hi[k] - lo[k]).max(1e-9);
        lo[k] -= pad;
        hi[k] += pad;
    }
    (lo, hi)
}

fn draw_figure<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (lo, hi) = bounds(fig.curves.iter().flat_map(|c| c.points.iter().copied()));
    let mut chart = ChartBuilder::on(&root)
        .caption(&fig.title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(lo[0]..hi[0], lo[1]..hi[1])
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(&fig.x_label)
        .y_desc(&fig.y_label)
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let iterates = fig.curves.iter().filter(|c| !c.is_target).count();
    let mut k = 0;
    for curve in &fig.curves {
        let pts = curve.points.iter().map(|p| (p[0], p[1]));
        if curve.is_target {
            chart
                .draw_series(pts.map(|p| Circle::new(p, 3, BLACK.filled())))
                .map_err(|e| anyhow!("{e}"))?
                .label(&curve.label)
                .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.filled()));
        } else {
            let color = iterate_color(k, iterates);
            k += 1;
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(|e| anyhow!("{e}"))?
                .label(&curve.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn draw_loss<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    losses: &[f64],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let positive: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .filter(|(_, l)| **l > 0.0 && l.is_finite())
        .map(|(i, l)| (i as f64, *l))
        .collect();
    let lo = positive
        .iter()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .min(1.0);
    let hi = positive
        .iter()
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(lo * 10.0);
    let n = losses.len().max(2) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..n - 1.0, (lo * 0.5..hi * 2.0).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("loss (log scale)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(LineSeries::new(positive, BLUE.stroke_width(2)))
        .map_err(|e| anyhow!("{e}"))?
        .label("loss")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Writes `dir/stem.png` and `dir/stem.svg` with `draw`.
fn both_formats(
    dir: &Path,
    stem: &str,
    draw_png: impl FnOnce(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
    draw_svg: impl FnOnce(DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<Vec<PathBuf>> {
    register_font();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    draw_png(BitMapBackend::new(&png, SIZE).into_drawing_area())
        .with_context(|| format!("drawing {}", png.display()))?;
    draw_svg(SVGBackend::new(&svg, SIZE).into_drawing_area())
        .with_context(|| format!("drawing {}", svg.display()))?;
    Ok(vec![png, svg])
}

/// Draws a trajectory figure as PNG and SVG in `dir`.
pub fn figure(dir: &Path, fig: &Figure) -> Result<Vec<PathBuf>> {
    both_formats(
        dir,
        &fig.stem,
        |a| draw_figure(a, fig),
        |a| draw_figure(a, fig),
    )
}

/// Draws a loss curve (log scale) as PNG and SVG in `dir`.
pub fn loss_curve(dir: &Path, title: &str, losses: &[f64]) -> Result<Vec<PathBuf>> {
    both_formats(
        dir,
        "loss",
        |a| draw_loss(a, title, losses),
        |a| draw_loss(a, title, losses),
    )
}
