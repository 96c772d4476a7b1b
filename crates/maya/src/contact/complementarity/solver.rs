//! The Mehrotra predictor–corrector interior point method that solves one
//! step's problem to its central point (z ∘ s = κ_i exactly, to `tol`).
//!
//! Unknowns: v, and per contact z = (λₙ, λ₊, λ₋, γ) and s = (sₙ, s₊, s₋,
//! s_γ). Residuals: F₁ = M(v − v_free) − Σ Gᵀ z, R = s − (A z + G v + c),
//! F₂ = z ∘ s − target. Newton eliminates ds and then each contact's dz
//! (dz = B⁻¹(−F₂ + Z R − Z G dv), B = S + Z A), leaving
//! H dv = −F₁ + Σ Gᵀ B⁻¹(−F₂ + Z R) with H = M + Σ Gᵀ B⁻¹ Z G. Each
//! iteration factors H once and solves twice: the affine step (target 0)
//! gives σ = (μ_aff/μ)³, the corrector aims each product at
//! max(σ min(μ, zₖsₖ), κ_i) with the second-order term dz_aff ∘ ds_aff
//! (plain Newton once the target is κ_i).
//!
//! Two safeguards, measured on the 100-box pile of `maya bench --workload
//! R1c` (27.8 iterations per step on average and 44 at most without them;
//! 19.6 and 30 with them), where the plain method jammed or stalled from
//! some starts. The first iteration (the start is not centred), and each
//! after a step cut below a tenth of the way to the boundary (a product
//! zₖsₖ racing to 0 ahead of the others), only recentres: every product
//! aims at max(μ, κ_i), without the second-order term. Once a full step
//! stops reducing the residual (a fixed point of the corrector, its
//! second-order term holding
//! some products a few κ_i off), the rest are plain Newton steps to κ_i.

use super::system::{Block, System};
use crate::error::{Error, Result};

/// A converged central point.
#[derive(Clone, Debug)]
pub(crate) struct Solution {
    pub v: Vec<f64>,
    /// Per contact (λₙ, λ₊, λ₋, γ).
    pub z: Vec<f64>,
    pub iters: usize,
}

/// The solver named in errors.
const SOLVER: &str = "complementarity contact (interior point)";

/// What an iteration aims each product zₖsₖ at.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Mehrotra's predictor–corrector (the default).
    Mehrotra,
    /// μ (or κ_i if larger), no second-order term: after a short step.
    Recentre,
    /// κ_i, plain Newton: once the corrector stalls, for good.
    Endgame,
}

/// How much of the cold start a warm start keeps (measured on R1c: 17.6
/// iterations per step at 3, 18.2 at 1; at 0 it jams).
const WARM_COLD_SHARE: f64 = 3.0;

/// The step cut below which the next iteration recentres.
const RECENTRE_BELOW: f64 = 0.1;

/// The state the safeguards look at.
struct Safeguard {
    last_alpha: f64,
    last_residual: f64,
    endgame: bool,
}

impl Default for Safeguard {
    fn default() -> Safeguard {
        Safeguard {
            // The start is not centred: the first iteration recentres.
            last_alpha: 0.0,
            last_residual: f64::INFINITY,
            endgame: false,
        }
    }
}

impl Safeguard {
    /// The mode of the iteration starting at `residual`.
    fn mode(&mut self, residual: f64) -> Mode {
        if self.last_alpha >= TO_BOUNDARY && residual > 0.9 * self.last_residual {
            self.endgame = true;
        }
        self.last_residual = residual;
        if self.endgame {
            Mode::Endgame
        } else if self.last_alpha < RECENTRE_BELOW {
            Mode::Recentre
        } else {
            Mode::Mehrotra
        }
    }
}

/// Fraction of the step to the boundary z, s > 0 taken.
const TO_BOUNDARY: f64 = 0.99;

fn b_apply(b: &Block, x: [f64; 4]) -> [f64; 4] {
    b.map(|row| (0..4).map(|c| row[c] * x[c]).sum())
}

fn quad(x: &[f64], i: usize) -> [f64; 4] {
    [x[4 * i], x[4 * i + 1], x[4 * i + 2], x[4 * i + 3]]
}

/// The largest α with x + α dx ≥ 0 (infinite if dx ≥ 0).
fn max_step(x: &[f64], dx: &[f64]) -> f64 {
    x.iter()
        .zip(dx)
        .filter(|(_, d)| **d < 0.0)
        .fold(f64::INFINITY, |a, (x, d)| a.min(-x / d))
}

impl System<'_> {
    /// Residuals F₁ and R at (v, z, s), and the largest relative residual
    /// (of F₁, R and z ∘ s − κ_i) with the contact it belongs to.
    fn residuals(
        &self,
        v: &[f64],
        z: &[f64],
        s: &[f64],
    ) -> (Vec<f64>, Vec<f64>, f64, Option<usize>) {
        let n = self.dofs();
        let mut f1: Vec<f64> = (0..n)
            .map(|j| self.mass[j] * (v[j] - self.v_free[j]))
            .collect();
        let mut scale: Vec<f64> = (0..n)
            .map(|j| self.mass[j] * (v[j].abs() + self.v_free[j].abs()))
            .collect();
        let mut r = vec![0.0; 4 * self.contacts.len()];
        let (mut worst, mut at) = (0.0f64, None);
        for i in 0..self.contacts.len() {
            let (zi, si) = (quad(z, i), quad(s, i));
            self.gt_add(i, zi.map(|x| -x), &mut f1);
            self.gt_abs_add(i, zi, &mut scale);
            let (az, gv, c) = (self.a_dot(&zi), self.g_dot(i, v), self.c(i));
            let (kappa, gv_abs) = (self.kappa_i(i), self.g_abs_dot(i, v));
            let az_abs = self.a_dot(&zi.map(f64::abs)).map(f64::abs);
            let az_abs = [
                az_abs[0],
                az_abs[1],
                az_abs[2],
                az_abs[3] + 2.0 * (zi[1].abs() + zi[2].abs()),
            ];
            for k in 0..4 {
                r[4 * i + k] = si[k] - (az[k] + gv[k] + c[k]);
                let size = si[k].abs() + az_abs[k] + gv_abs[k] + c[k].abs() + f64::MIN_POSITIVE;
                let rel =
                    (r[4 * i + k].abs() / size).max((zi[k] * si[k] - kappa).abs() / self.kappa);
                if rel > worst || rel.is_nan() {
                    (worst, at) = (rel, Some(i));
                }
            }
        }
        for j in 0..n {
            // Not f64::max, which would drop a NaN.
            let rel = f1[j].abs() / (scale[j] + f64::MIN_POSITIVE);
            if rel > worst || rel.is_nan() {
                worst = rel;
            }
        }
        (f1, r, worst, at)
    }

    /// One Newton direction with the factorisation `lu` (and B⁻¹ per
    /// contact) for the complementarity residual `f2`.
    #[allow(clippy::too_many_arguments)]
    fn direction(
        &self,
        lu: &super::factored::Factored,
        binv: &[Block],
        z: &[f64],
        f1: &[f64],
        r: &[f64],
        f2: &[f64],
        iters: usize,
    ) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        let m = self.contacts.len();
        let mut rhs: Vec<f64> = f1.iter().map(|x| -x).collect();
        let mut base = Vec::with_capacity(m);
        for i in 0..m {
            let (zi, ri, fi) = (quad(z, i), quad(r, i), quad(f2, i));
            let w = b_apply(&binv[i], std::array::from_fn(|k| -fi[k] + zi[k] * ri[k]));
            self.gt_add(i, w, &mut rhs);
            base.push(w);
        }
        let dv = lu.solve(&rhs, false, self.step, iters)?;
        let (mut dz, mut ds) = (vec![0.0; 4 * m], vec![0.0; 4 * m]);
        for i in 0..m {
            let (zi, ri) = (quad(z, i), quad(r, i));
            let gdv = self.g_dot(i, &dv);
            let corr = b_apply(&binv[i], std::array::from_fn(|k| zi[k] * gdv[k]));
            let dzi: [f64; 4] = std::array::from_fn(|k| base[i][k] - corr[k]);
            let adz = self.a_dot(&dzi);
            for k in 0..4 {
                dz[4 * i + k] = dzi[k];
                ds[4 * i + k] = adz[k] + gdv[k] - ri[k];
            }
        }
        Ok((dv, dz, ds))
    }

    /// An interior starting point: v = v_free, slacks above the free
    /// motion's, impulses of an effective mass times the speed scale.
    fn start(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let m = self.contacts.len();
        let v = self.v_free.clone();
        let (mut z, mut s) = (vec![0.0; 4 * m], vec![0.0; 4 * m]);
        for i in 0..m {
            let a: Vec<f64> = (0..4)
                .map(|k| self.g_dot(i, &v)[k] + self.c(i)[k])
                .collect();
            let speed = a.iter().fold(1e-2f64, |x, y| x.max(y.abs()));
            let c = &self.contacts[i];
            let mut inv = 0.0;
            for (side, body) in [(0, Some(c.a)), (1, c.b)] {
                if let Some(b) = body {
                    inv += (0..3)
                        .map(|k| c.n[side][k].powi(2) / self.mass[3 * b + k])
                        .sum::<f64>();
                }
            }
            for k in 0..4 {
                s[4 * i + k] = a[k].max(0.0) + speed;
                z[4 * i + k] = speed / inv;
            }
        }
        (v, z, s)
    }

    /// Solves to the central point, or [`Error::NotConverged`] naming the
    /// step, the iterations, the residual and the contact furthest from
    /// it ([`Error::Solve`] for a singular system or a non-finite iterate).
    ///
    /// `warm` holds, per contact, the impulses it had at the previous step
    /// (if any, else empty): they are added to the cold start's, which
    /// keeps every product off the boundary (a start on the central path of
    /// the previous step jams).
    pub(crate) fn solve(
        &self,
        max_iter: usize,
        tol: f64,
        warm: &[Option<[f64; 4]>],
    ) -> Result<Solution> {
        let m = self.contacts.len();
        let (mut v, mut z, mut s) = self.start();
        for (i, previous) in warm.iter().enumerate() {
            if let Some(previous) = previous {
                for k in 0..4 {
                    z[4 * i + k] = previous[k] + WARM_COLD_SHARE * z[4 * i + k];
                }
            }
        }
        if m == 0 {
            return Ok(Solution { v, z, iters: 0 });
        }
        let kappa: Vec<f64> = (0..4 * m).map(|k| self.kappa_i(k / 4)).collect();
        let mut guard = Safeguard::default();
        for iters in 0..=max_iter {
            let (f1, r, residual, at) = self.residuals(&v, &z, &s);
            let fail = |reason: String| Error::Solve {
                solver: SOLVER,
                step: self.step,
                iters,
                residual,
                reason,
            };
            if !residual.is_finite() {
                return Err(fail("a non-finite iterate".into()));
            }
            if residual <= tol {
                return Ok(Solution { v, z, iters });
            }
            if iters == max_iter {
                let worst = at.map_or(String::new(), |i| {
                    let c = &self.contacts[i];
                    let other =
                        c.b.map_or("the ground".to_string(), |b| format!("body {b}"));
                    format!(
                        "; contact {i} (body {} on {other}) is furthest from its central point",
                        c.a
                    )
                });
                return Err(Error::NotConverged {
                    solver: SOLVER,
                    step: Some(self.step),
                    iters,
                    residual,
                    detail: format!("; max_iter = {max_iter}{worst}"),
                });
            }
            let (lu, binv) = self.factor(&z, &s)?;
            // Predictor: the affine direction (target 0).
            let f2: Vec<f64> = z.iter().zip(&s).map(|(z, s)| z * s).collect();
            let (_, dz, ds) = self.direction(&lu, &binv, &z, &f1, &r, &f2, iters)?;
            let alpha = max_step(&z, &dz).min(max_step(&s, &ds)).min(1.0);
            let mu = f2.iter().sum::<f64>() / (4 * m) as f64;
            let mu_aff = (0..4 * m)
                .map(|k| (z[k] + alpha * dz[k]) * (s[k] + alpha * ds[k]))
                .sum::<f64>()
                / (4 * m) as f64;
            let sigma = (mu_aff / mu).powi(3);
            // Corrector: towards max(σ min(μ, zₖsₖ), κ_i), with the second-order term
            // while continuing; plain Newton once the target is κ_i (the
            // term, of the size of the affine step towards 0, would
            // otherwise hold the iterate off the central point).
            let mode = guard.mode(residual);
            let f2: Vec<f64> = (0..4 * m)
                .map(|k| {
                    let sigma_mu = sigma * mu.min(z[k] * s[k]);
                    match mode {
                        Mode::Recentre => return z[k] * s[k] - mu.max(kappa[k]),
                        Mode::Endgame => return z[k] * s[k] - kappa[k],
                        Mode::Mehrotra => {}
                    }
                    if sigma_mu > kappa[k] {
                        z[k] * s[k] - sigma_mu + dz[k] * ds[k]
                    } else {
                        z[k] * s[k] - kappa[k]
                    }
                })
                .collect();
            let (dv, dz, ds) = self.direction(&lu, &binv, &z, &f1, &r, &f2, iters)?;
            let alpha = (TO_BOUNDARY * max_step(&z, &dz).min(max_step(&s, &ds))).min(1.0);
            guard.last_alpha = alpha;
            for (x, d) in v.iter_mut().zip(&dv) {
                *x += alpha * d;
            }
            for k in 0..4 * m {
                z[k] += alpha * dz[k];
                s[k] += alpha * ds[k];
            }
        }
        unreachable!("the loop returns at iters == max_iter")
    }
}
