//! The window a scene is drawn in: the region every body visits over the
//! trajectory (and a strip of the ground), widened to the aspect ratio of
//! the picture so that a metre is as long across as up; and the shapes in
//! world coordinates (outlines turned and moved, the ground clipped to the
//! window).

use maya::scene::{Frame, GroundLine, Outline, SceneTrajectory};

/// A rectangle of the plane, in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub lo: [f64; 2],
    pub hi: [f64; 2],
}

impl Window {
    /// The region every body (its whole outline) or particle visits,
    /// padded by 6 %, with the ground in view; then widened to
    /// `width`:`height` pixels.
    pub fn fit(traj: &SceneTrajectory, width: u32, height: u32) -> Window {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        let mut include = |p: [f64; 2]| {
            if p[0].is_finite() && p[1].is_finite() {
                for k in 0..2 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
        };
        for frame in &traj.frames {
            match traj.geometry.bodies.is_empty() {
                true => frame.positions.iter().for_each(|&p| include(p)),
                false => {
                    for (b, outline) in traj.geometry.bodies.iter().enumerate() {
                        world_outline(outline, frame, b)
                            .into_iter()
                            .for_each(&mut include);
                    }
                }
            }
        }
        if !(lo[0].is_finite() && lo[1].is_finite()) {
            (lo, hi) = ([-1.0, -1.0], [1.0, 1.0]);
        }
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-3);
        if let Some(g) = traj.geometry.ground {
            show_ground(&g, &mut lo, &mut hi, 0.08 * span);
        }
        let pad = 0.06 * span;
        let mut w = Window {
            lo: [lo[0] - pad, lo[1] - pad],
            hi: [hi[0] + pad, hi[1] + pad],
        };
        w.widen_to(width as f64 / height as f64);
        w
    }

    /// Widens the shorter side about the centre so that width/height =
    /// `aspect`.
    fn widen_to(&mut self, aspect: f64) {
        let (w, h) = (self.hi[0] - self.lo[0], self.hi[1] - self.lo[1]);
        if w / h < aspect {
            let extra = (h * aspect - w) / 2.0;
            self.lo[0] -= extra;
            self.hi[0] += extra;
        } else {
            let extra = (w / aspect - h) / 2.0;
            self.lo[1] -= extra;
            self.hi[1] += extra;
        }
    }

    /// The corners, counter-clockwise from the lower left.
    fn corners(&self) -> [[f64; 2]; 4] {
        let (lo, hi) = (self.lo, self.hi);
        [lo, [hi[0], lo[1]], hi, [lo[0], hi[1]]]
    }

    /// The part of the window inside the ground (n·x ≤ offset), as a
    /// polygon (empty when the ground is out of view).
    pub fn ground_region(&self, g: &GroundLine) -> Vec<[f64; 2]> {
        let side = |p: [f64; 2]| g.normal[0] * p[0] + g.normal[1] * p[1] - g.offset;
        let c = self.corners();
        let mut out = Vec::new();
        for i in 0..4 {
            let (a, b) = (c[i], c[(i + 1) % 4]);
            let (sa, sb) = (side(a), side(b));
            if sa <= 0.0 {
                out.push(a);
            }
            if (sa < 0.0) != (sb < 0.0) && sa != sb {
                let t = sa / (sa - sb);
                out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
            }
        }
        out
    }
}

/// Extends the box so that the ground line shows below (or beside) it,
/// by `margin` beyond the nearest body.
fn show_ground(g: &GroundLine, lo: &mut [f64; 2], hi: &mut [f64; 2], margin: f64) {
    // The axis the ground mostly faces along, and the other.
    let (up, across) = if g.normal[1].abs() >= g.normal[0].abs() {
        (1, 0)
    } else {
        (0, 1)
    };
    let n_up = g.normal[up];
    for x in [lo[across], hi[across]] {
        // Where the line crosses this edge, along the `up` axis.
        let at = (g.offset - g.normal[across] * x) / n_up;
        if n_up > 0.0 {
            lo[up] = lo[up].min(at - margin);
        } else {
            hi[up] = hi[up].max(at + margin);
        }
    }
}

/// Where the ground line crosses the window's edges (`None` when out of
/// view).
pub fn ground_segment(w: &Window, g: &GroundLine) -> Option<[[f64; 2]; 2]> {
    let side = |p: [f64; 2]| g.normal[0] * p[0] + g.normal[1] * p[1] - g.offset;
    let c = w.corners();
    let mut hits = Vec::new();
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        let (sa, sb) = (side(a), side(b));
        if (sa < 0.0) != (sb < 0.0) && sa != sb {
            let t = sa / (sa - sb);
            hits.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
        }
    }
    (hits.len() == 2).then(|| [hits[0], hits[1]])
}

/// The outline of body `b` in frame `f`, in world coordinates: a polygon's
/// vertices, or a circle as 48 points.
pub fn world_outline(outline: &Outline, f: &Frame, b: usize) -> Vec<[f64; 2]> {
    let [x, y] = f.positions[b];
    let theta = f.angles.get(b).copied().unwrap_or(0.0);
    let (c, s) = (theta.cos(), theta.sin());
    let place = |v: [f64; 2]| [x + c * v[0] - s * v[1], y + s * v[0] + c * v[1]];
    match outline {
        Outline::Circle { radius } => (0..48)
            .map(|k| {
                let a = k as f64 * std::f64::consts::TAU / 48.0;
                place([radius * a.cos(), radius * a.sin()])
            })
            .collect(),
        Outline::Polygon { vertices } => vertices.iter().map(|&v| place(v)).collect(),
    }
}

/// The radius line of circle `b` in frame `f` (centre to the rim at the
/// body's angle), which shows its rotation.
pub fn radius_line(radius: f64, f: &Frame, b: usize) -> [[f64; 2]; 2] {
    let [x, y] = f.positions[b];
    let theta = f.angles.get(b).copied().unwrap_or(0.0);
    [[x, y], [x + radius * theta.cos(), y + radius * theta.sin()]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widened_windows_keep_the_aspect_and_the_region() {
        let mut w = Window {
            lo: [0.0, 0.0],
            hi: [1.0, 2.0],
        };
        w.widen_to(1.5);
        let (dx, dy) = (w.hi[0] - w.lo[0], w.hi[1] - w.lo[1]);
        assert!((dx / dy - 1.5).abs() < 1e-12);
        assert!(w.lo[0] <= 0.0 && w.hi[0] >= 1.0 && w.lo[1] == 0.0 && w.hi[1] == 2.0);
    }

    #[test]
    fn the_ground_region_is_the_window_below_the_floor() {
        let w = Window {
            lo: [-1.0, -1.0],
            hi: [1.0, 1.0],
        };
        let floor = GroundLine {
            normal: [0.0, 1.0],
            offset: 0.0,
        };
        let region = w.ground_region(&floor);
        // The lower half: corners (−1, −1), (1, −1), (1, 0), (−1, 0).
        assert_eq!(region.len(), 4);
        let area: f64 = (0..4)
            .map(|i| {
                let (a, b) = (region[i], region[(i + 1) % 4]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum::<f64>()
            / 2.0;
        assert!((area - 2.0).abs() < 1e-12, "{area}");
        let below = GroundLine {
            normal: [0.0, 1.0],
            offset: -5.0,
        };
        assert!(w.ground_region(&below).is_empty());
    }
}
