//! [`Scheme`]: time stepping and its adjoint, written once for every
//! explicit scheme as a Runge–Kutta–Nyström tableau.
//!
//! For q̈ = a(q, q̇), stage s evaluates the acceleration aₛ at
//!
//! ```text
//! qₛ = q + dt·(cₛ·v + dt·Σ_{j<s} Aₛⱼ aⱼ),   vₛ = v + dt·Σ_{j<s} Āₛⱼ aⱼ,
//! ```
//!
//! and the step ends at
//!
//! ```text
//! q' = q + dt·(v + dt·Σⱼ bⱼ aⱼ),   v' = v + dt·Σⱼ b̄ⱼ aⱼ.
//! ```
//!
//! Adjoint, with ḡq' = ∂L/∂q', ḡv' = ∂L/∂v': ḡq += ḡq', ḡv += dt·ḡq' + ḡv',
//! ḡaⱼ += dt·(dt·bⱼ·ḡq' + b̄ⱼ·ḡv'); then from the last stage down, the
//! forces' adjoint turns ḡaₛ into ḡqₛ, ḡvₛ, and ḡq += ḡqₛ,
//! ḡv += cₛ·dt·ḡqₛ + ḡvₛ, ḡaⱼ += dt·(dt·Aₛⱼ·ḡqₛ + Āₛⱼ·ḡvₛ) for j < s.
//!
//! | scheme | stages | order | symplectic | b | b̄ |
//! |---|---|---|---|---|---|
//! | [`Euler`] | 1 | 1 | no | 0 | 1 |
//! | [`SemiImplicitEuler`] | 1 | 1 | yes | 1 | 1 |
//! | [`VelocityVerlet`] | 2 | 2 | yes (for a(q)) | ½, 0 | ½, ½ |
//! | [`Rk4`] | 4 | 4 | no | ⅙, ⅙, ⅙, 0 | ⅙, ⅓, ⅓, ⅙ |
//!
//! With a constant acceleration every stage sees the same a, and a step is
//! q' = q + dt·(v + dt·β·a), v' = v + dt·β̄·a with β = Σb, β̄ = Σb̄: the free
//! fused steps ([`euler_step`](crate::euler_step), …) are that case.
//! Backward Euler, an implicit scheme, is solved by Newton instead
//! (see [`Integrator::BackwardEuler`](crate::dynamics::Integrator::BackwardEuler)).

/// The coefficients of an explicit Runge–Kutta–Nyström scheme (see the
/// module docs): stage `s` has `c[s]`, `a[s][j]` and `abar[s][j]` for
/// j < s; the update has `b` and `bbar`.
#[derive(Clone, Copy, Debug)]
pub struct Tableau {
    /// Stage times cₛ (stage 0 must have c = 0: it sees the step's start).
    pub c: &'static [f64],
    /// Position coefficients Aₛⱼ (times dt²), one row per stage.
    pub a: &'static [&'static [f64]],
    /// Velocity coefficients Āₛⱼ (times dt), one row per stage.
    pub abar: &'static [&'static [f64]],
    /// Position weights bⱼ (times dt²).
    pub b: &'static [f64],
    /// Velocity weights b̄ⱼ (times dt).
    pub bbar: &'static [f64],
}

impl Tableau {
    /// Number of stages (force evaluations per step).
    pub const fn stages(&self) -> usize {
        self.b.len()
    }

    /// (β, β̄) = (Σb, Σb̄): the scheme's weights for a constant
    /// acceleration (a `const fn`, so kernels fold them in).
    pub const fn constant_weights(&self) -> (f64, f64) {
        let (mut beta, mut beta_bar, mut j) = (0.0, 0.0, 0);
        while j < self.b.len() {
            beta += self.b[j];
            beta_bar += self.bbar[j];
            j += 1;
        }
        (beta, beta_bar)
    }
}

/// An explicit time-stepping scheme, given by its [`Tableau`]. The update
/// and its adjoint are written once, over the tableau, in this module.
///
/// ```
/// use maya::physics::{Scheme, SemiImplicitEuler, Rk4};
/// assert_eq!(SemiImplicitEuler::TABLEAU.stages(), 1);
/// // With a constant acceleration, RK4 is exact: q' = q + dt·v + dt²/2·a.
/// let (beta, beta_bar) = Rk4::TABLEAU.constant_weights();
/// assert!((beta - 0.5).abs() < 1e-15 && (beta_bar - 1.0).abs() < 1e-15);
/// ```
pub trait Scheme: Copy + Send + Sync + 'static {
    /// The scheme's name (for error messages and kernel names).
    const NAME: &'static str;
    /// Its coefficients.
    const TABLEAU: Tableau;
}

/// Explicit (forward) Euler: q' = q + dt·v, v' = v + dt·a. First order, not
/// symplectic: an oscillator's energy grows by (1 + ω²dt²) per step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Euler;

/// Semi-implicit (symplectic) Euler: v' = v + dt·a, q' = q + dt·v'. First
/// order and symplectic: the default for stiff contact and springs.
#[derive(Clone, Copy, Debug, Default)]
pub struct SemiImplicitEuler;

/// Velocity Verlet: q' = q + dt·v + dt²/2·a(q, v), v' = v + dt/2·(a₀ + a₁),
/// with a₁ evaluated at (q', v + dt·a₀). Second order; symplectic for
/// forces that depend on positions only. Two force evaluations per step.
#[derive(Clone, Copy, Debug, Default)]
pub struct VelocityVerlet;

/// Classical fourth-order Runge–Kutta on (q, v), four force evaluations
/// per step. Exact for a constant acceleration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rk4;

impl Scheme for Euler {
    const NAME: &'static str = "euler";
    const TABLEAU: Tableau = Tableau {
        c: &[0.0],
        a: &[&[]],
        abar: &[&[]],
        b: &[0.0],
        bbar: &[1.0],
    };
}

impl Scheme for SemiImplicitEuler {
    const NAME: &'static str = "semi_implicit_euler";
    const TABLEAU: Tableau = Tableau {
        c: &[0.0],
        a: &[&[]],
        abar: &[&[]],
        b: &[1.0],
        bbar: &[1.0],
    };
}

impl Scheme for VelocityVerlet {
    const NAME: &'static str = "velocity_verlet";
    const TABLEAU: Tableau = Tableau {
        c: &[0.0, 1.0],
        a: &[&[], &[0.5]],
        abar: &[&[], &[1.0]],
        b: &[0.5, 0.0],
        bbar: &[0.5, 0.5],
    };
}

impl Scheme for Rk4 {
    const NAME: &'static str = "rk4";
    const TABLEAU: Tableau = Tableau {
        c: &[0.0, 0.5, 0.5, 1.0],
        a: &[&[], &[0.0], &[0.25, 0.0], &[0.0, 0.5, 0.0]],
        abar: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
        b: &[1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 0.0],
        bbar: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    };
}

/// One coordinate of a step with a constant acceleration `a`:
/// q' = q + dt·(v + dt·β·a), v' = v + dt·β̄·a. (For semi-implicit Euler,
/// β = β̄ = 1, this is v' = v + dt·a, q' = q + dt·v' to the last bit.)
#[inline(always)]
pub(crate) fn advance(weights: (f64, f64), dt: f64, q: f64, v: f64, a: f64) -> (f64, f64) {
    let (beta, beta_bar) = weights;
    let v1 = v + dt * (beta_bar * a);
    let q1 = if beta == beta_bar {
        q + dt * (v + dt * (beta * a))
    } else {
        q + dt * (v + (dt * beta) * a)
    };
    (q1, v1)
}

/// The adjoint of [`advance`] for one coordinate: returns (ḡq, ḡv, ḡa)
/// from (ḡq', ḡv').
#[inline(always)]
pub(crate) fn advance_adjoint(weights: (f64, f64), dt: f64, gq1: f64, gv1: f64) -> (f64, f64, f64) {
    let (beta, beta_bar) = weights;
    let gv = gv1 + dt * gq1;
    let ga = dt * (dt * beta * gq1 + beta_bar * gv1);
    (gq1, gv, ga)
}

/// The state at which stage `s` evaluates the acceleration, from the
/// step's start (q, v) and the earlier stages' accelerations `acc[j]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_state(
    t: &Tableau,
    s: usize,
    dt: f64,
    q: &[f64],
    v: &[f64],
    acc: &[Vec<f64>],
    qs: &mut [f64],
    vs: &mut [f64],
) {
    for i in 0..q.len() {
        let (mut dq, mut dv) = (0.0, 0.0);
        for j in 0..s {
            dq += t.a[s][j] * acc[j][i];
            dv += t.abar[s][j] * acc[j][i];
        }
        qs[i] = q[i] + dt * (t.c[s] * v[i] + dt * dq);
        vs[i] = v[i] + dt * dv;
    }
}

/// The step's end from its start and every stage's acceleration.
pub(crate) fn combine(
    t: &Tableau,
    dt: f64,
    q: &[f64],
    v: &[f64],
    acc: &[Vec<f64>],
    q1: &mut [f64],
    v1: &mut [f64],
) {
    for i in 0..q.len() {
        let (mut dq, mut dv) = (0.0, 0.0);
        for (j, a) in acc.iter().enumerate() {
            dq += t.b[j] * a[i];
            dv += t.bbar[j] * a[i];
        }
        q1[i] = q[i] + dt * (v[i] + dt * dq);
        v1[i] = v[i] + dt * dv;
    }
}

/// The adjoint of [`combine`]: adds into ḡq, ḡv and every ḡaⱼ.
pub(crate) fn combine_adjoint(
    t: &Tableau,
    dt: f64,
    gq1: &[f64],
    gv1: &[f64],
    gq: &mut [f64],
    gv: &mut [f64],
    gacc: &mut [Vec<f64>],
) {
    for i in 0..gq1.len() {
        gq[i] += gq1[i];
        gv[i] += gv1[i] + dt * gq1[i];
        for (j, ga) in gacc.iter_mut().enumerate() {
            ga[i] += dt * (dt * t.b[j] * gq1[i] + t.bbar[j] * gv1[i]);
        }
    }
}

/// The adjoint of [`stage_state`]: from ḡqₛ, ḡvₛ into ḡq, ḡv and the
/// earlier stages' ḡaⱼ.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_state_adjoint(
    t: &Tableau,
    s: usize,
    dt: f64,
    gqs: &[f64],
    gvs: &[f64],
    gq: &mut [f64],
    gv: &mut [f64],
    gacc: &mut [Vec<f64>],
) {
    for i in 0..gqs.len() {
        gq[i] += gqs[i];
        gv[i] += t.c[s] * dt * gqs[i] + gvs[i];
        for j in 0..s {
            gacc[j][i] += dt * (dt * t.a[s][j] * gqs[i] + t.abar[s][j] * gvs[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each tableau against its scheme written out by hand, on q̈ = −q
    /// (a(q) = −q, velocity-free) for one step from (q, v) = (1, 0.5).
    #[test]
    fn tableaus_match_the_schemes_written_out() {
        let (q, v, dt) = (1.0f64, 0.5f64, 0.1f64);
        let accel = |q: f64| -q;
        let run = |t: &Tableau| {
            let mut acc: Vec<Vec<f64>> = Vec::new();
            for s in 0..t.stages() {
                let (mut qs, mut vs) = ([0.0], [0.0]);
                stage_state(t, s, dt, &[q], &[v], &acc, &mut qs, &mut vs);
                acc.push(vec![accel(qs[0])]);
            }
            let (mut q1, mut v1) = ([0.0], [0.0]);
            combine(t, dt, &[q], &[v], &acc, &mut q1, &mut v1);
            (q1[0], v1[0])
        };
        // Semi-implicit Euler: v' = v + dt·a(q), q' = q + dt·v'.
        let v1 = v + dt * accel(q);
        assert_eq!(run(&SemiImplicitEuler::TABLEAU), (q + dt * v1, v1));
        // Velocity Verlet: q' = q + dt v + dt²/2 a(q), v' = v + dt/2 (a(q) + a(q')).
        let q1 = q + dt * v + 0.5 * dt * dt * accel(q);
        let want = (q1, v + 0.5 * dt * (accel(q) + accel(q1)));
        let got = run(&VelocityVerlet::TABLEAU);
        assert!((got.0 - want.0).abs() < 1e-15 && (got.1 - want.1).abs() < 1e-15);
        // RK4 on y = (q, v), y' = (v, −q): the classical stages.
        let f = |y: [f64; 2]| [y[1], -y[0]];
        let ax = |y: [f64; 2], k: [f64; 2], h: f64| [y[0] + h * k[0], y[1] + h * k[1]];
        let y = [q, v];
        let k1 = f(y);
        let k2 = f(ax(y, k1, dt / 2.0));
        let k3 = f(ax(y, k2, dt / 2.0));
        let k4 = f(ax(y, k3, dt));
        let rk = |i: usize| y[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        let got = run(&Rk4::TABLEAU);
        assert!((got.0 - rk(0)).abs() < 1e-15 && (got.1 - rk(1)).abs() < 1e-15);
    }

    /// The adjoint of the stage and combine maps is their transpose:
    /// ⟨ḡ, J·δ⟩ = ⟨Jᵀ·ḡ, δ⟩ for a random direction, with constant stage
    /// accelerations as extra inputs.
    #[test]
    fn adjoint_is_the_transpose() {
        let t = Rk4::TABLEAU;
        let dt = 0.3;
        let (gq1, gv1) = ([0.9], [-0.6]);
        let (mut gq, mut gv) = ([0.0], [0.0]);
        let mut gacc = vec![vec![0.0]; 4];
        combine_adjoint(&t, dt, &gq1, &gv1, &mut gq, &mut gv, &mut gacc);
        // combine is linear in (q, v, acc): J·δ is combine(δ) with the
        // constant part removed (combine is homogeneous here).
        let (dq, dv, da) = (0.5, -1.5, [0.2, 0.1, -0.7, 0.3]);
        let dacc: Vec<Vec<f64>> = da.iter().map(|&x| vec![x]).collect();
        let (mut q1, mut v1) = ([0.0], [0.0]);
        combine(&t, dt, &[dq], &[dv], &dacc, &mut q1, &mut v1);
        let lhs = gq1[0] * q1[0] + gv1[0] * v1[0];
        let rhs = gq[0] * dq + gv[0] * dv + (0..4).map(|j| gacc[j][0] * da[j]).sum::<f64>();
        assert!((lhs - rhs).abs() < 1e-14, "{lhs} vs {rhs}");
    }
}
