//! PNG and SVG grouped bar charts of demo results (plotters).

use crate::plot::both_formats;
use anyhow::{anyhow, Result};
use maya::demos::BarChart;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

const SIZE: (u32, u32) = (1100, 680);

/// A distinct colour per series: three reds, three blues, then greens and
/// purple (so three settings of one kind beside three of another read as
/// two families).
fn series_color(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 9] = [
        RGBColor(178, 24, 43),
        RGBColor(214, 96, 77),
        RGBColor(244, 165, 130),
        RGBColor(33, 102, 172),
        RGBColor(67, 147, 195),
        RGBColor(146, 197, 222),
        RGBColor(27, 120, 55),
        RGBColor(127, 191, 123),
        RGBColor(118, 42, 131),
    ];
    PALETTE[i % PALETTE.len()]
}

/// The vertical range: the drawable values' span, padded (a decade each
/// way on a log scale).
fn value_range(chart: &BarChart) -> (f64, f64) {
    let drawable = |v: &f64| v.is_finite() && (!chart.log_scale || *v > 0.0);
    let values = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter())
        .filter(|v| drawable(v));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    match (chart.log_scale, lo.is_finite()) {
        // The top third is left for the group names and the legend.
        (true, true) => {
            let (lo, hi) = (lo / 10.0, hi * 5.0);
            (lo, hi * (hi / lo).powf(0.55))
        }
        (true, false) => (1e-16, 1.0),
        (false, true) => (lo.min(0.0), hi.max(0.0) * 1.8 + 1e-12),
        (false, false) => (0.0, 1.0),
    }
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &BarChart) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let groups = chart.groups.len().max(1);
    let n = chart.series.len().max(1);
    let (lo, hi) = value_range(chart);
    let base = if chart.log_scale { lo } else { 0.0 };
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&chart.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80);
    let x_range = 0.0..groups as f64;
    // The group names sit above the tallest bar.
    let top = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter())
        .filter(|v| v.is_finite())
        .fold(base, |m, v| m.max(*v));
    let name_y = if chart.log_scale {
        top * 5.0
    } else {
        top * 1.1
    };
    // One bar per series in each group, in the middle 80 % of the group.
    let width = 0.8 / n as f64;
    let bar = |g: usize, s: usize| {
        let x0 = g as f64 + 0.1 + s as f64 * width;
        (x0, x0 + width * 0.9)
    };
    macro_rules! draw_bars {
        ($ctx:expr) => {{
            let mut ctx = $ctx;
            ctx.configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_desc(&chart.y_label)
                .y_label_formatter(&|v| format!("{v:.0e}"))
                .label_style(("sans-serif", 16))
                .draw()
                .map_err(|e| anyhow!("{e}"))?;
            for (s, series) in chart.series.iter().enumerate() {
                let color = series_color(s);
                let bars = series
                    .values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite() && (!chart.log_scale || **v > 0.0))
                    .map(|(g, v)| {
                        let (x0, x1) = bar(g, s);
                        Rectangle::new([(x0, base), (x1, *v)], color.filled())
                    });
                ctx.draw_series(bars)
                    .map_err(|e| anyhow!("{e}"))?
                    .label(&series.label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled())
                    });
            }
            let names = chart.groups.iter().enumerate().map(|(g, name)| {
                Text::new(name.clone(), (g as f64 + 0.1, name_y), ("sans-serif", 18))
            });
            ctx.draw_series(names).map_err(|e| anyhow!("{e}"))?;
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| anyhow!("{e}"))?;
        }};
    }
    if chart.log_scale {
        draw_bars!(builder
            .build_cartesian_2d(x_range, (lo..hi).log_scale())
            .map_err(|e| anyhow!("{e}"))?);
    } else {
        draw_bars!(builder
            .build_cartesian_2d(x_range, lo..hi)
            .map_err(|e| anyhow!("{e}"))?);
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Draws a bar chart as PNG and SVG in `dir`.
pub fn bar_chart(dir: &Path, chart: &BarChart) -> Result<Vec<PathBuf>> {
    both_formats(
        dir,
        &chart.stem,
        SIZE,
        |a| draw(a, chart),
        |a| draw(a, chart),
    )
}
