//! [`StabilityLimit`]: the explicit stability bound of a time step for one
//! damped spring, m ẍ = −k x − c ẋ, under each explicit scheme; the checks
//! of a model's springs, ground and drag use it before a step or a
//! rollout starts ([`Element::check_values`](super::Element::check_values)).
//!
//! | scheme | bound used | why it is necessary |
//! |---|---|---|
//! | semi-implicit Euler | (√(c² + 4km) − c)/k; 2/√(k/m) for c = 0; 2m/c for k = 0 | its exact limit for one spring: the step has an eigenvalue ≤ −1 iff dt²k/m + 2dt·c/m ≥ 4 |
//! | explicit Euler, velocity Verlet | dt·\|λ\| < 2, λ the fastest rate of m ẍ = −kx − cẋ: 2/√(k/m) if c² ≤ 4km, else 4m/(c + √(c² − 4km)) | their stable dt·λ lie in \|z\| ≤ 2 (Euler: the disc \|1 + z\| ≤ 1; Verlet: checked numerically over damping ratios 0…100) |
//! | RK4 | dt·\|λ\| < 2√2 undamped, 2.97 damped, 2.79 on the real axis (overdamped, drag) | RK4's region meets the imaginary axis at ±2√2 i, reaches \|z\| = 2.9601 at arg z ≈ 98°, and the real axis at −2.7853 |
//!
//! For velocity Verlet and an undamped spring this is semi-implicit
//! Euler's bound (both are leapfrog then). With damping, Verlet is stable a
//! little past semi-implicit Euler's damped bound (damping ratio 0.2:
//! 1.76/ω against 1.64/ω), so the damped formula of semi-implicit Euler
//! would reject stable Verlet systems; the disc bound does not.
//!
//! Explicit Euler gains energy on an undamped spring at any dt; its bound
//! catches the blow-up regime only.
//!
//! **Networks.** A spring between particles a and b is checked on its
//! effective mass m = m_a·m_b/(m_a + m_b). This is a *necessary* condition
//! for the whole system (it never rejects a stable system): the Rayleigh
//! quotient of the spring's axial mode (a and b moved apart along the
//! spring by 1/m_a and 1/m_b) is k/m + (the other forces' share ≥ 0), so
//! the stiffest mode is at least as fast. For semi-implicit Euler with
//! damping the argument is exact: written as
//! M x″ + (−2M + dt·C + dt²K) x′ + (M − dt·C) x = 0, the step has a real
//! eigenvalue below −1 as soon as 4M − 2dt·C − dt²K is not positive
//! definite, and the axial mode gives it the value (4 − 2dt·c/m − dt²k/m)/m
//! minus the other forces' (non-negative) share. (Stiffness here is the
//! linearisation about a state with no spring compressed, as at rest.) A
//! network can still be unstable below every spring's bound: its stiffest
//! mode is faster than any one spring's; the rollout's blow-up detector
//! reports that, blaming the time step.

use crate::error::{Error, Result};

/// The stability bound an explicit scheme puts on its time step, for the
/// checks of [`Element::check_values`](super::Element::check_values).
/// `None` where it is asked for stands for an implicit scheme (no bound).
///
/// ```
/// use maya::physics::StabilityLimit;
/// let lim = StabilityLimit::semi_implicit_euler(1e-2);
/// // A spring of k = 5e5 N/m on m = 0.5 kg needs dt < 2/√(k/m) = 2e-3 s.
/// assert!((lim.bound(5e5, 0.0, 0.5) - 2e-3).abs() < 1e-15);
/// assert!(lim.check(|| "spring 0".into(), 5e5, 0.0, 0.5).is_err());
/// assert!(lim.check(|| "spring 0".into(), 5e2, 0.0, 0.5).is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StabilityLimit {
    dt: f64,
    scheme: &'static str,
    family: Family,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Family {
    /// Semi-implicit Euler's exact bound for a damped spring.
    SemiImplicit,
    /// dt·|λ| below `imag` (undamped), `complex` (underdamped) or `real`
    /// (overdamped or pure damping).
    Disc {
        imag: (f64, &'static str),
        complex: (f64, &'static str),
        real: (f64, &'static str),
    },
}

const TWO: (f64, &str) = (2.0, "2");

impl StabilityLimit {
    /// Semi-implicit (symplectic) Euler at time step `dt`.
    pub fn semi_implicit_euler(dt: f64) -> StabilityLimit {
        StabilityLimit {
            dt,
            scheme: "semi-implicit Euler",
            family: Family::SemiImplicit,
        }
    }

    /// Explicit Euler at time step `dt`.
    pub fn euler(dt: f64) -> StabilityLimit {
        Self::disc(dt, "explicit Euler", TWO, TWO, TWO)
    }

    /// Velocity Verlet at time step `dt`.
    pub fn velocity_verlet(dt: f64) -> StabilityLimit {
        Self::disc(dt, "velocity Verlet", TWO, TWO, TWO)
    }

    /// Classical RK4 at time step `dt`.
    pub fn rk4(dt: f64) -> StabilityLimit {
        Self::disc(
            dt,
            "RK4",
            (2.0 * std::f64::consts::SQRT_2, "2√2"),
            (2.97, "2.97"),
            (2.79, "2.79"),
        )
    }

    fn disc(
        dt: f64,
        scheme: &'static str,
        imag: (f64, &'static str),
        complex: (f64, &'static str),
        real: (f64, &'static str),
    ) -> StabilityLimit {
        StabilityLimit {
            dt,
            scheme,
            family: Family::Disc {
                imag,
                complex,
                real,
            },
        }
    }

    /// The time step (s).
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The scheme's name.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The largest stable time step for stiffness `k` (N/m) and damping
    /// `c` (kg/s) on mass `m` (kg); infinite when both are 0.
    pub fn bound(&self, k: f64, c: f64, m: f64) -> f64 {
        self.bound_and_formula(k, c, m).0
    }

    /// The bound and how it is computed (for messages).
    fn bound_and_formula(&self, k: f64, c: f64, m: f64) -> (f64, String) {
        if k <= 0.0 && c <= 0.0 {
            return (f64::INFINITY, "∞".into());
        }
        match self.family {
            Family::SemiImplicit => {
                if k <= 0.0 {
                    (2.0 * m / c, "2m/c".into())
                } else if c <= 0.0 {
                    (2.0 / (k / m).sqrt(), "2/√(k/m)".into())
                } else {
                    (
                        ((c * c + 4.0 * k * m).sqrt() - c) / k,
                        "(√(c² + 4km) − c)/k".into(),
                    )
                }
            }
            Family::Disc {
                imag,
                complex,
                real,
            } => {
                if k <= 0.0 {
                    (real.0 * m / c, format!("{}m/c", real.1))
                } else if c * c >= 4.0 * k * m {
                    // Overdamped: both rates real, the faster
                    // (c + √(c² − 4km))/(2m).
                    let fast = (c + (c * c - 4.0 * k * m).sqrt()) / (2.0 * m);
                    (real.0 / fast, format!("{}·2m/(c + √(c² − 4km))", real.1))
                } else {
                    let rho = if c > 0.0 { complex } else { imag };
                    (rho.0 / (k / m).sqrt(), format!("{}/√(k/m)", rho.1))
                }
            }
        }
    }

    /// [`Error::Stability`] naming `element` (built only on failure) if
    /// this time step is not below the bound for `k`, `c` on `m`.
    pub fn check(&self, element: impl FnOnce() -> String, k: f64, c: f64, m: f64) -> Result<()> {
        let (bound, formula) = self.bound_and_formula(k, c, m);
        if self.dt < bound {
            return Ok(());
        }
        let stiffness_bound = if k > 0.0 {
            self.bound(k, 0.0, m)
        } else {
            f64::INFINITY
        };
        Err(Error::Stability {
            element: element(),
            scheme: self.scheme,
            dt: self.dt,
            bound,
            formula,
            stiffness_bound,
            stiffness: k,
            damping: c,
            mass: m,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step of a scheme on (x, v) at a time step.
    type Step<'a> = dyn Fn(f64, [f64; 2]) -> [f64; 2] + 'a;

    /// The largest dt (to 1e-3 relative) at which the step of m ẍ = −kx −
    /// cẋ under `scheme` keeps its spectral radius ≤ 1, by bisection on a
    /// 2 × 2 amplification matrix.
    fn true_bound(step: impl Fn(f64, [f64; 2]) -> [f64; 2], hi: f64) -> f64 {
        let radius = |dt: f64| {
            let (a, b) = (step(dt, [1.0, 0.0]), step(dt, [0.0, 1.0]));
            let (tr, det) = (a[0] + b[1], a[0] * b[1] - a[1] * b[0]);
            let disc = tr * tr / 4.0 - det;
            if disc >= 0.0 {
                (tr / 2.0).abs() + disc.sqrt()
            } else {
                det.abs().sqrt()
            }
        };
        // The first dt on a fine grid past which the step is unstable.
        let mut dt = hi / 4000.0;
        while dt < hi && radius(dt) <= 1.0 + 1e-12 {
            dt += hi / 4000.0;
        }
        dt
    }

    #[test]
    fn semi_implicit_bound_is_exact_for_one_damped_spring() {
        for (k, c, m) in [(1.0, 0.0, 1.0), (1.0, 0.4, 1.0), (4.0, 10.0, 0.5)] {
            let lim = StabilityLimit::semi_implicit_euler(1.0);
            let want = lim.bound(k, c, m);
            let got = true_bound(
                |dt, [x, v]| {
                    let v1 = v + dt * (-k * x - c * v) / m;
                    [x + dt * v1, v1]
                },
                4.0 * want,
            );
            assert!(
                (got - want).abs() < 2e-3 * want,
                "{k} {c} {m}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn disc_bounds_never_reject_a_stable_spring() {
        // Damping ratios 0 … 3 on k = m = 1: each scheme's true bound is at
        // most the checked one (RK4's by a hair near ζ ≈ 0.14).
        for i in 0..=60 {
            let c = 2.0 * 0.05 * i as f64;
            let acc = |x: f64, v: f64| -x - c * v;
            let euler = |dt: f64, [x, v]: [f64; 2]| [x + dt * v, v + dt * acc(x, v)];
            let verlet = |dt: f64, [x, v]: [f64; 2]| {
                let a0 = acc(x, v);
                let x1 = x + dt * v + dt * dt / 2.0 * a0;
                let a1 = acc(x1, v + dt * a0);
                [x1, v + dt / 2.0 * (a0 + a1)]
            };
            let rk4 = |dt: f64, [x, v]: [f64; 2]| {
                let f = |x: f64, v: f64| (v, acc(x, v));
                let k1 = f(x, v);
                let k2 = f(x + dt / 2.0 * k1.0, v + dt / 2.0 * k1.1);
                let k3 = f(x + dt / 2.0 * k2.0, v + dt / 2.0 * k2.1);
                let k4 = f(x + dt * k3.0, v + dt * k3.1);
                [
                    x + dt / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0),
                    v + dt / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1),
                ]
            };
            let cases: [(StabilityLimit, &Step<'_>); 3] = [
                (StabilityLimit::euler(1.0), &euler),
                (StabilityLimit::velocity_verlet(1.0), &verlet),
                (StabilityLimit::rk4(1.0), &rk4),
            ];
            for (lim, step) in cases {
                let checked = lim.bound(1.0, c, 1.0);
                let got = true_bound(step, 2.0 * checked);
                assert!(
                    got <= checked * 1.001,
                    "{} at c = {c}: stable to {got}, checked {checked}",
                    lim.scheme()
                );
            }
        }
    }
}
