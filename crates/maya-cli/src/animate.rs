//! Pictures of a simulated scene, drawn to scale with plotters: an
//! animated GIF of the bodies (or particles and springs) moving, and a
//! still of the paths (PNG and SVG).

use crate::gif_out::GifWriter;
use crate::plot::{both_formats, register_font};
use crate::view::{ground_segment, radius_line, world_outline, Window};
use anyhow::{anyhow, Context, Result};
use maya::scene::{Frame, Outline, SceneTrajectory};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Picture size (pixels).
pub const SIZE: (u32, u32) = (720, 480);
/// Height of the title strip above the chart.
const TITLE: u32 = 32;
const MARGIN: u32 = 10;
const X_LABELS: u32 = 36;
const Y_LABELS: u32 = 56;

/// The plotting area's size: the window is fitted to it, so that a metre
/// is as many pixels across as up.
fn plot_pixels() -> (u32, u32) {
    (
        SIZE.0 - 2 * MARGIN - Y_LABELS,
        SIZE.1 - TITLE - 2 * MARGIN - X_LABELS,
    )
}

/// The window to draw `traj` in.
pub fn window(traj: &SceneTrajectory) -> Window {
    let (w, h) = plot_pixels();
    Window::fit(traj, w, h)
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{e}")
}

/// Colours of bodies without one of their own.
const PALETTE: [RGBColor; 6] = [
    RGBColor(214, 72, 72),
    RGBColor(62, 118, 196),
    RGBColor(238, 170, 60),
    RGBColor(84, 160, 110),
    RGBColor(140, 100, 180),
    RGBColor(90, 90, 90),
];
const GROUND_FILL: RGBColor = RGBColor(222, 214, 200);
const GROUND_LINE: RGBColor = RGBColor(110, 90, 70);
const SPRING: RGBColor = RGBColor(70, 110, 170);
const PARTICLE: RGBColor = RGBColor(25, 45, 90);
const CLOTH: RGBColor = RGBColor(190, 214, 236);
const PIN: RGBColor = RGBColor(200, 30, 30);
const MESH_LIGHT: RGBColor = RGBColor(240, 240, 240);
const MESH_BOLD: RGBColor = RGBColor(215, 215, 215);

fn body_color(traj: &SceneTrajectory, b: usize) -> RGBColor {
    let given = traj.geometry.colors.get(b).and_then(|c| c.as_deref());
    match given.and_then(parse_hex) {
        Some(c) => c,
        None => PALETTE[b % PALETTE.len()],
    }
}

/// "#rrggbb" as a colour.
fn parse_hex(s: &str) -> Option<RGBColor> {
    let h = s.strip_prefix('#')?;
    let byte = |i: usize| u8::from_str_radix(h.get(i..i + 2)?, 16).ok();
    Some(RGBColor(byte(0)?, byte(2)?, byte(4)?))
}

/// The title strip and a chart of `view` with axes in metres.
fn chart<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    view: &Window,
    title: &str,
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (top, rest) = root.split_vertically(TITLE);
    top.draw_text(
        title,
        &("sans-serif", 19).into_font().color(&BLACK),
        (12, 8),
    )
    .map_err(err)?;
    let decimals = tick_decimals(view);
    let tick = move |v: &f64| {
        let s = format!("{v:.decimals$}");
        // No "-0.0" for a tick a rounding error below zero.
        if s.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            s.trim_start_matches('-').to_string()
        } else {
            s
        }
    };
    let mut chart = ChartBuilder::on(&rest)
        .margin(MARGIN)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(view.lo[0]..view.hi[0], view.lo[1]..view.hi[1])
        .map_err(err)?;
    debug_assert_eq!(chart.plotting_area().dim_in_pixel(), plot_pixels());
    chart
        .configure_mesh()
        .x_desc("x [m]")
        .y_desc("y [m]")
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(MESH_LIGHT)
        .bold_line_style(MESH_BOLD)
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Decimals for tick labels about a tenth of the window apart.
fn tick_decimals(view: &Window) -> usize {
    let span = (view.hi[0] - view.lo[0]).max(view.hi[1] - view.lo[1]);
    (-(span / 10.0).log10().floor()).clamp(0.0, 6.0) as usize
}

fn pt(p: [f64; 2]) -> (f64, f64) {
    (p[0], p[1])
}

/// The ground: the part of the window inside it, shaded, and its line.
fn draw_ground<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    traj: &SceneTrajectory,
    view: &Window,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some(g) = traj.geometry.ground else {
        return Ok(());
    };
    let region: Vec<(f64, f64)> = view.ground_region(&g).into_iter().map(pt).collect();
    if region.len() >= 3 {
        chart
            .draw_series(std::iter::once(Polygon::new(region, GROUND_FILL.filled())))
            .map_err(err)?;
    }
    if let Some([a, b]) = ground_segment(view, &g) {
        let line = PathElement::new(vec![pt(a), pt(b)], GROUND_LINE.stroke_width(2));
        chart.draw_series(std::iter::once(line)).map_err(err)?;
    }
    Ok(())
}

/// One frame's bodies, or particles and springs; `faded` draws them pale
/// (the initial state in the still of the paths), otherwise in their
/// exact colours (which the GIF's palette holds).
fn draw_state<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    traj: &SceneTrajectory,
    f: &Frame,
    faded: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let alpha = if faded { 0.25 } else { 1.0 };
    for (b, outline) in traj.geometry.bodies.iter().enumerate() {
        let pts: Vec<(f64, f64)> = world_outline(outline, f, b).into_iter().map(pt).collect();
        let color = body_color(traj, b);
        let fill = color.mix(alpha).filled();
        // The outline and radius line in white on a dark body.
        let luma = 0.3 * color.0 as f64 + 0.59 * color.1 as f64 + 0.11 * color.2 as f64;
        let dark = luma < 60.0;
        let edge = if dark { WHITE } else { BLACK }.mix(if faded { 0.3 } else { 1.0 });
        let mut closed = pts.clone();
        closed.push(pts[0]);
        chart
            .draw_series(std::iter::once(Polygon::new(pts, fill)))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                closed,
                edge.stroke_width(1),
            )))
            .map_err(err)?;
        if let Outline::Circle { radius } = outline {
            let [c, rim] = radius_line(*radius, f, b);
            let line = PathElement::new(vec![pt(c), pt(rim)], edge.stroke_width(2));
            chart.draw_series(std::iter::once(line)).map_err(err)?;
        }
    }
    let cells = traj.geometry.cells.iter().map(|cell| {
        let pts: Vec<(f64, f64)> = cell.iter().map(|&i| pt(f.positions[i])).collect();
        Polygon::new(pts, CLOTH.mix(alpha).filled())
    });
    chart.draw_series(cells).map_err(err)?;
    let hidden = cell_diagonals(traj);
    let springs = traj.geometry.springs.iter();
    let springs = springs.filter(|s| !hidden.contains(*s)).map(|&[a, b]| {
        let (pa, pb) = (pt(f.positions[a]), pt(f.positions[b]));
        PathElement::new(vec![pa, pb], SPRING.mix(alpha).stroke_width(1))
    });
    chart.draw_series(springs).map_err(err)?;
    if traj.geometry.bodies.is_empty() {
        let dots = f
            .positions
            .iter()
            .map(|&p| Circle::new(pt(p), 3, PARTICLE.mix(alpha).filled()));
        chart.draw_series(dots).map_err(err)?;
    }
    let pins = traj.geometry.pinned.iter().map(|&i| {
        let p = pt(f.positions[i]);
        TriangleMarker::new(p, 8, PIN.mix(alpha).filled())
    });
    chart.draw_series(pins).map_err(err)?;
    Ok(())
}

/// The springs across a grid's cells (its shear springs), which are not
/// drawn: the cells are, and the springs along their edges. Drawing them
/// too would triple the size of the GIF of a cloth.
fn cell_diagonals(traj: &SceneTrajectory) -> HashSet<[usize; 2]> {
    let mut set = HashSet::new();
    for c in &traj.geometry.cells {
        for [a, b] in [[c[0], c[2]], [c[1], c[3]]] {
            set.insert([a, b]);
            set.insert([b, a]);
        }
    }
    set
}

/// The GIF's frame delay: the simulated time between frames, held
/// between 20 ms and 200 ms.
fn frame_delay_ms(traj: &SceneTrajectory) -> u32 {
    let n = traj.frames.len().max(2) - 1;
    let per_frame = traj.last().time / n as f64;
    (per_frame * 1000.0).round().clamp(20.0, 200.0) as u32
}

/// The colours a frame is drawn in, for the GIF's palette.
fn exact_colors(traj: &SceneTrajectory) -> Vec<[u8; 3]> {
    let mut colors = vec![
        CLOTH,
        GROUND_FILL,
        GROUND_LINE,
        SPRING,
        PARTICLE,
        PIN,
        MESH_LIGHT,
        MESH_BOLD,
    ];
    colors.extend((0..traj.geometry.bodies.len()).map(|b| body_color(traj, b)));
    colors.into_iter().map(|c| [c.0, c.1, c.2]).collect()
}

/// Writes `dir/animation.gif`: every frame, to scale, with the time; the
/// last held for a second and a half.
pub fn gif(dir: &Path, traj: &SceneTrajectory) -> Result<PathBuf> {
    register_font();
    let path = dir.join("animation.gif");
    let view = window(traj);
    let delay = frame_delay_ms(traj);
    let mut out = GifWriter::create(&path, SIZE, delay, &exact_colors(traj))?;
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    let steps = traj.last().step;
    for f in &traj.frames {
        let title = format!(
            "{}    t = {:.3} s    (step {} of {})",
            traj.name, f.time, f.step, steps
        );
        {
            let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
            let mut chart = chart(&root, &view, &title)?;
            draw_ground(&mut chart, traj, &view)?;
            draw_state(&mut chart, traj, f, false)?;
            root.present().map_err(err)?;
        }
        out.add(&pixels)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    out.finish(1500)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The bodies or particles whose paths the still draws: every body, or
/// 8 free particles spread over the initial shape (each the farthest
/// from those already picked, starting from the farthest from the
/// centre).
fn traced(traj: &SceneTrajectory) -> Vec<usize> {
    let start = &traj.frames[0].positions;
    if !traj.geometry.bodies.is_empty() {
        return (0..start.len()).collect();
    }
    let free: Vec<usize> = (0..start.len())
        .filter(|i| !traj.geometry.pinned.contains(i))
        .collect();
    let n = free.len().max(1) as f64;
    let centre = [0, 1].map(|k| free.iter().map(|&i| start[i][k]).sum::<f64>() / n);
    let dist = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let mut nearest: Vec<f64> = free.iter().map(|&i| dist(start[i], centre)).collect();
    let mut picks = Vec::new();
    while picks.len() < 8.min(free.len()) {
        let (k, _) = nearest
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("a free particle is left");
        let pick = free[k];
        picks.push(pick);
        for (d, &i) in nearest.iter_mut().zip(&free) {
            *d = d.min(dist(start[i], start[pick]));
        }
    }
    picks
}

/// A path's colour: the body's, darkened for a pale body (on white).
fn path_color(traj: &SceneTrajectory, i: usize) -> RGBColor {
    if traj.geometry.bodies.is_empty() {
        return PIN;
    }
    let c = body_color(traj, i);
    if c.0 as u32 + c.1 as u32 + c.2 as u32 > 600 {
        RGBColor(120, 120, 120)
    } else {
        c
    }
}

fn draw_paths<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    traj: &SceneTrajectory,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let view = window(traj);
    let title = format!(
        "{}: paths over {:.2} s (start pale, end solid)",
        traj.name,
        traj.last().time
    );
    let mut chart = chart(&root, &view, &title)?;
    draw_ground(&mut chart, traj, &view)?;
    draw_state(&mut chart, traj, &traj.frames[0], true)?;
    draw_state(&mut chart, traj, traj.last(), false)?;
    for i in traced(traj) {
        let path: Vec<(f64, f64)> = traj.frames.iter().map(|f| pt(f.positions[i])).collect();
        let line = PathElement::new(path, path_color(traj, i).mix(0.8).stroke_width(2));
        chart.draw_series(std::iter::once(line)).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Writes `dir/paths.png` and `dir/paths.svg`: the start (pale), the
/// paths and the end.
pub fn paths(dir: &Path, traj: &SceneTrajectory) -> Result<Vec<PathBuf>> {
    both_formats(
        dir,
        "paths",
        SIZE,
        |a| draw_paths(a, traj),
        |a| draw_paths(a, traj),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours_parse_and_bad_ones_do_not() {
        assert_eq!(parse_hex("#ff8000"), Some(RGBColor(255, 128, 0)));
        assert_eq!(parse_hex("ff8000"), None);
        assert_eq!(parse_hex("#ff80"), None);
    }
}
