//! A worked implicit problem: the static equilibrium of a hanging chain.

use super::triplets::Triplets;
use super::ImplicitProblem;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The static equilibrium of a chain of N particles in 2D joined by
/// springs, hanging under gravity from one or two fixed anchors.
///
/// Springs join consecutive particles, and the end particles to the
/// anchors that are set: spring s (of S = N − 1 + #anchors) joins ends a
/// and b, with stiffness kₛ (N/m) and rest length L (m); particle i has
/// mass mᵢ (kg). The equilibrium minimises the potential energy
///
/// ```text
/// E(x) = Σₛ ½ kₛ (‖x_b − x_a‖ − L)² − Σᵢ mᵢ g·xᵢ,
/// ```
///
/// so it is the root of r = ∇E, with, for d = x_b − x_a, ℓ = ‖d‖, u = d/ℓ,
///
/// ```text
/// r_b += kₛ(ℓ − L) u,  r_a −= kₛ(ℓ − L) u,  rᵢ −= mᵢ g,
/// J = ∇²E: blocks ±Kₛ, Kₛ = kₛ[(1 − L/ℓ) I + (L/ℓ) u uᵀ],
/// ∂r_b/∂kₛ = (ℓ − L) u = −∂r_a/∂kₛ,  ∂rᵢ/∂mᵢ = −g.
/// ```
///
/// θ = [k (shape `[S]`), m (shape `[N]`)]; x has shape `[N, 2]` (m). J is
/// symmetric, and positive definite wherever every spring is stretched
/// and at least one anchor is set.
///
/// ```
/// use maya::tape::{HangingChain, NewtonOptions};
/// use maya::{Tensor, TensorTape};
/// // One 1 kg mass on a spring (k = 50 N/m, L = 1 m), g = 10 m/s²: it
/// // hangs at y = −(L + mg/k) = −1.2, and ∂y/∂k = mg/k² = 0.004.
/// let chain = HangingChain::pinned(1, 1.0, 10.0);
/// let t = TensorTape::new();
/// let (k, m) = (t.var(Tensor::full(&[1], 50.0)), t.constant(Tensor::full(&[1], 1.0)));
/// let x = t.solve_implicit(chain, &chain.initial_guess(), &[k, m], &NewtonOptions::default());
/// assert!((x.value().data[1] + 1.2).abs() < 1e-12);
/// let y = x.slice(1, 1..2).sum();
/// assert!((t.grad(y)[k.idx()].data[0] - 0.004).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HangingChain {
    /// Number of free particles N.
    pub particles: usize,
    /// Rest length L of every spring (m).
    pub rest_length: f64,
    /// Gravitational acceleration g (m/s²), a 2D vector.
    pub gravity: [f64; 2],
    /// The anchor before particle 0, if any (m).
    pub left: Option<[f64; 2]>,
    /// The anchor after particle N − 1, if any (m).
    pub right: Option<[f64; 2]>,
}

/// One end of a spring.
#[derive(Clone, Copy)]
enum End {
    Anchor([f64; 2]),
    Particle(usize),
}

impl HangingChain {
    /// N particles hanging from an anchor at the origin under gravity of
    /// magnitude `g` along −y.
    pub fn pinned(particles: usize, rest_length: f64, g: f64) -> HangingChain {
        HangingChain {
            particles,
            rest_length,
            gravity: [0.0, -g],
            left: Some([0.0, 0.0]),
            right: None,
        }
    }

    /// N particles between anchors at (0, 0) and (`span`, 0).
    ///
    /// ```
    /// use maya::tape::HangingChain;
    /// // 3 particles make 4 springs between the two anchors.
    /// let chain = HangingChain::suspended(3, 1.0, 2.5, 9.81);
    /// assert_eq!(chain.springs(), 4);
    /// assert_eq!(chain.right, Some([2.5, 0.0]));
    /// ```
    pub fn suspended(particles: usize, rest_length: f64, span: f64, g: f64) -> HangingChain {
        HangingChain {
            right: Some([span, 0.0]),
            ..HangingChain::pinned(particles, rest_length, g)
        }
    }

    /// Number of springs S = N − 1 + number of anchors.
    pub fn springs(&self) -> usize {
        self.particles.saturating_sub(1)
            + self.left.is_some() as usize
            + self.right.is_some() as usize
    }

    /// A starting guess of shape [N, 2] with every spring stretched by
    /// 10% (ℓ = 1.1 L), so that J is positive definite there: with both
    /// anchors, on a circular arc sagging below the line between them
    /// (away from the unstable, upside-down equilibrium), or on a straight
    /// line if the anchors are farther apart than that; with one anchor,
    /// down a 45° diagonal from it; with none, along +x from the origin.
    ///
    /// ```
    /// use maya::tape::HangingChain;
    /// // Anchors 2.5 m apart, 4 springs of rest length 1: each chord of the
    /// // sagging arc is 1.1 m long, and the arc hangs below the anchors.
    /// let x = HangingChain::suspended(3, 1.0, 2.5, 9.81).initial_guess().data;
    /// let chord = (x[0] * x[0] + x[1] * x[1]).sqrt();
    /// assert!((chord - 1.1).abs() < 1e-12 && x[3] < 0.0);
    /// ```
    pub fn initial_guess(&self) -> Tensor {
        let (n, c) = (self.particles, 1.1 * self.rest_length);
        let diagonal = |p: [f64; 2], sx: f64, j: f64| {
            let h = c * j / std::f64::consts::SQRT_2;
            [p[0] + sx * h, p[1] - h]
        };
        let data = (0..n)
            .flat_map(|i| match (self.left, self.right) {
                (Some(a), Some(b)) => arc_point(a, b, c, n + 1, i + 1),
                (Some(a), None) => diagonal(a, 1.0, (i + 1) as f64),
                (None, Some(b)) => diagonal(b, -1.0, (n - i) as f64),
                (None, None) => [c * i as f64, 0.0],
            })
            .collect();
        Tensor::from_data(data, vec![n, 2])
    }

    /// The potential energy E(x) (J) for stiffnesses `k` and masses `m`
    /// (slices of S and N entries; shorter ones panic).
    ///
    /// ```
    /// use maya::tape::HangingChain;
    /// // A 2 kg mass 1.5 m below the anchor on a spring of rest length 1
    /// // and k = 40: E = ½·40·0.5² − 2·(−9.81)·(−1.5) = 5 − 29.43.
    /// let e = HangingChain::pinned(1, 1.0, 9.81).energy(&[0.0, -1.5], &[40.0], &[2.0]);
    /// assert!((e - (5.0 - 29.43)).abs() < 1e-12);
    /// ```
    pub fn energy(&self, x: &[f64], k: &[f64], m: &[f64]) -> f64 {
        let springs: f64 = (0..self.springs())
            .map(|s| {
                let (_, _, l) = self.geometry(s, x);
                0.5 * k[s] * (l - self.rest_length).powi(2)
            })
            .sum();
        let g = self.gravity;
        let gravity: f64 = (0..self.particles)
            .map(|i| m[i] * (g[0] * x[2 * i] + g[1] * x[2 * i + 1]))
            .sum();
        springs - gravity
    }

    /// The ends of spring s.
    fn ends(&self, s: usize) -> (End, End) {
        let first = s as isize - self.left.is_some() as isize;
        let end = |i: isize| match i {
            -1 => End::Anchor(self.left.expect("spring -1 exists only with a left anchor")),
            i if i as usize == self.particles => End::Anchor(
                self.right
                    .expect("spring N exists only with a right anchor"),
            ),
            i => End::Particle(i as usize),
        };
        (end(first), end(first + 1))
    }

    /// Ends, unit direction u and length ℓ of spring s.
    fn geometry(&self, s: usize, x: &[f64]) -> ((End, End), [f64; 2], f64) {
        let (a, b) = self.ends(s);
        let pos = |e: End| match e {
            End::Anchor(p) => p,
            End::Particle(i) => [x[2 * i], x[2 * i + 1]],
        };
        let (pa, pb) = (pos(a), pos(b));
        let d = [pb[0] - pa[0], pb[1] - pa[1]];
        let l = d[0].hypot(d[1]);
        ((a, b), [d[0] / l, d[1] / l], l)
    }

    /// [`Error::Shape`] unless x, k and m fit the chain.
    fn check(&self, x: &[f64], theta: &[&Tensor]) -> Result<()> {
        let want = [
            (vec![self.particles * 2], x.len(), "x has 2N entries"),
            (
                vec![self.springs()],
                theta.first().map_or(0, |k| k.numel()),
                "θ[0] = k has one stiffness per spring",
            ),
            (
                vec![self.particles],
                theta.get(1).map_or(0, |m| m.numel()),
                "θ[1] = m has one mass per particle",
            ),
        ];
        for (expected, got, hint) in want {
            if expected[0] != got {
                return Err(Error::Shape {
                    op: "HangingChain",
                    lhs: vec![got],
                    rhs: expected,
                    hint,
                });
            }
        }
        Ok(())
    }
}

/// Point j of m + 1 points from `a` (j = 0) to `b` (j = m) with chords
/// of length `c` on a circular arc sagging to the right of a → b (below,
/// for a left-to-right span), or on the straight segment when |b − a| ≥ m·c.
///
/// On a circle of radius R, m equal chords c = 2R sin(φ/m) subtend a
/// half-angle φ whose chord is the span: |b − a| = 2R sin φ. So φ solves
/// sin φ / sin(φ/m) = |b − a| / c, a function falling from m to 0 on
/// (0, π), found by bisection.
fn arc_point(a: [f64; 2], b: [f64; 2], c: f64, m: usize, j: usize) -> [f64; 2] {
    let (e, span) = {
        let d = [b[0] - a[0], b[1] - a[1]];
        let l = d[0].hypot(d[1]);
        ([d[0] / l, d[1] / l], l)
    };
    let mf = m as f64;
    let (along, down) = if span >= mf * c {
        (span * j as f64 / mf, 0.0)
    } else {
        let ratio = |phi: f64| phi.sin() / (phi / mf).sin();
        let (mut lo, mut hi) = (0.0, std::f64::consts::PI);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if ratio(mid) > span / c {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let phi = 0.5 * (lo + hi);
        let radius = c / (2.0 * (phi / mf).sin());
        let theta = -phi + 2.0 * phi * j as f64 / mf;
        // Centre at (span/2, R cos φ) in the frame (along e, left normal).
        let along = 0.5 * span + radius * theta.sin();
        (along, radius * (phi.cos() - theta.cos()))
    };
    // The left normal of e is (−e_y, e_x); `down` is ≤ 0 along it.
    [
        a[0] + along * e[0] - down * e[1],
        a[1] + along * e[1] + down * e[0],
    ]
}

/// Adds `v` into particle `e`'s two entries of `out` (anchors take none).
fn add_at(out: &mut [f64], e: End, v: [f64; 2]) {
    if let End::Particle(i) = e {
        out[2 * i] += v[0];
        out[2 * i + 1] += v[1];
    }
}

impl ImplicitProblem for HangingChain {
    fn name(&self) -> &'static str {
        "hanging chain"
    }

    fn residual(&self, x: &[f64], theta: &[&Tensor], r: &mut [f64]) -> Result<()> {
        self.check(x, theta)?;
        let (k, m, g) = (&theta[0].data, &theta[1].data, self.gravity);
        for (s, ks) in k.iter().enumerate() {
            let ((a, b), u, l) = self.geometry(s, x);
            let f = ks * (l - self.rest_length);
            add_at(r, b, [f * u[0], f * u[1]]);
            add_at(r, a, [-f * u[0], -f * u[1]]);
        }
        for (i, mi) in m.iter().enumerate() {
            add_at(r, End::Particle(i), [-mi * g[0], -mi * g[1]]);
        }
        Ok(())
    }

    fn jacobian(&self, x: &[f64], theta: &[&Tensor], jac: &mut Triplets) -> Result<()> {
        self.check(x, theta)?;
        for s in 0..self.springs() {
            let ((a, b), u, l) = self.geometry(s, x);
            let (k, ratio) = (theta[0].data[s], self.rest_length / l);
            let kk = |i: usize, j: usize| {
                let eye = if i == j { 1.0 - ratio } else { 0.0 };
                k * (eye + ratio * u[i] * u[j])
            };
            let block = [[kk(0, 0), kk(0, 1)], [kk(1, 0), kk(1, 1)]];
            let minus = block.map(|row| row.map(|v| -v));
            for (p, q, blk) in [
                (a, a, &block),
                (b, b, &block),
                (a, b, &minus),
                (b, a, &minus),
            ] {
                if let (End::Particle(i), End::Particle(j)) = (p, q) {
                    jac.push_block(2 * i, 2 * j, blk);
                }
            }
        }
        Ok(())
    }

    fn vjp_theta(
        &self,
        x: &[f64],
        theta: &[&Tensor],
        w: &[f64],
        grad_theta: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        self.check(x, theta)?;
        let at = |e: End| match e {
            End::Anchor(_) => [0.0, 0.0],
            End::Particle(i) => [w[2 * i], w[2 * i + 1]],
        };
        if needs_grad[0] {
            for s in 0..self.springs() {
                let ((a, b), u, l) = self.geometry(s, x);
                let (wa, wb) = (at(a), at(b));
                let stretch = l - self.rest_length;
                grad_theta[0].data[s] +=
                    stretch * ((wb[0] - wa[0]) * u[0] + (wb[1] - wa[1]) * u[1]);
            }
        }
        if needs_grad[1] {
            let g = self.gravity;
            for (i, gm) in grad_theta[1].data.iter_mut().enumerate() {
                *gm -= w[2 * i] * g[0] + w[2 * i + 1] * g[1];
            }
        }
        Ok(())
    }

    fn merit(&self, x: &[f64], theta: &[&Tensor]) -> Option<f64> {
        Some(self.energy(x, &theta[0].data, &theta[1].data))
    }

    fn symmetric(&self) -> bool {
        true
    }
}
