//! Throw a ball so that, after bouncing once, it lands at a target.
//!
//! A ball leaves `start` with velocity v₀ = (vx, vy), falls, bounces once
//! on the floor (restitution and friction, which also spins it up), and
//! flies on. Its landing point is where that second flight meets the floor
//! again: the discrete flight of semi-implicit Euler lies exactly on the
//! parabola y(τ) = y + (v_y − g dt/2) τ − g τ²/2 from any state in it, so
//! once the bounce is over, the landing point is
//!
//! ```text
//! x_land = x + vx τ*,  τ* = (u + √(u² + 2g (y − r))) / g,  u = v_y − g dt/2,
//! ```
//!
//! the same whichever step of the flight it is computed from. The loss
//! ½ (x_land − x_target)² is then a smooth function of v₀ (softplus
//! contact), differentiated through the whole rollout, and plain gradient
//! descent on v₀ finds the throw.
//!
//! ```
//! use maya::rigid::examples::throw::{solve, ThrowProblem};
//! let problem = ThrowProblem { target_x: 2.0, ..ThrowProblem::default() };
//! let fit = solve(&problem, [1.0, 0.0], 1e-3, 50).unwrap();
//! assert!((fit.landing_x - 2.0).abs() < 1e-3);
//! ```

use crate::contact::{damping_for_restitution, Ground, Penalty};
use crate::error::{Error, Result};
use crate::rigid::{Material, Shape, World};
use crate::tensor::Tensor;
use crate::{TVar, TensorTape};

/// The throwing problem. Defaults: a 1 kg ball of radius 0.1 m thrown from
/// 1 m up towards x = 3 m; stiffness 1e4 N/m, restitution 0.6, μ = 0.3;
/// dt = 0.25 ms (the friction of an impact at ~5 m/s stays stable for
/// ε = 0.1 m/s, see [`crate::contact`]); softplus width 1 mm; learning
/// rate 1 s⁻² (∂x_land/∂vx is about the flight time, ~1 s).
#[derive(Clone, Debug)]
pub struct ThrowProblem {
    /// Where the ball's centre starts (m).
    pub start: [f64; 2],
    /// Ball radius (m).
    pub radius: f64,
    /// Ball mass (kg).
    pub mass: f64,
    /// Where the ball should land (m).
    pub target_x: f64,
    /// Coefficient of restitution of the bounce.
    pub restitution: f64,
    /// Contact stiffness (N/m).
    pub stiffness: f64,
    /// Friction coefficient.
    pub friction: f64,
    /// Time step (s).
    pub dt: f64,
    /// Gradient-descent step size η (s⁻²): v₀ ← v₀ − η ∂L/∂v₀ with
    /// L = ½ (x_land − target)². Stable while η |∂x_land/∂v₀|² < 2.
    pub learning_rate: f64,
}

impl Default for ThrowProblem {
    fn default() -> Self {
        ThrowProblem {
            start: [0.0, 1.0],
            radius: 0.1,
            mass: 1.0,
            target_x: 3.0,
            restitution: 0.6,
            stiffness: 1e4,
            friction: 0.3,
            dt: 2.5e-4,
            learning_rate: 1.0,
        }
    }
}

/// The outcome of [`solve`].
#[derive(Clone, Debug)]
pub struct ThrowFit {
    /// The initial velocity found (m/s).
    pub velocity: [f64; 2],
    /// Where that throw lands (m).
    pub landing_x: f64,
    /// Gradient-descent iterations taken.
    pub iterations: usize,
    /// The landing point after each iteration's throw (m).
    pub history: Vec<f64>,
}

impl ThrowProblem {
    fn world(&self) -> Result<World> {
        let mut w = World::try_new(self.dt)?;
        w.set_ground(Ground::horizontal(0.0));
        w.penalty = Penalty::Softplus { width: 1e-3 };
        w.friction_regularization = 0.1;
        let area = std::f64::consts::PI * self.radius * self.radius;
        w.try_add_body(Shape::try_circle(self.radius)?, self.mass / area)?;
        Ok(w)
    }

    /// The landing point of a throw at `velocity` (m/s), and its gradient
    /// ∂x_land/∂v₀. Errors if the ball has not bounced and taken off again
    /// within 10 s of simulated time.
    pub fn landing(&self, velocity: [f64; 2]) -> Result<(f64, [f64; 2])> {
        let w = self.world()?;
        let k = self.stiffness;
        let c = damping_for_restitution(self.restitution, k, self.mass);
        let material = Material {
            stiffness: k,
            damping: c,
            friction: self.friction,
            restitution: 0.0,
        };
        let t = TensorTape::new();
        let [x0, y0] = self.start;
        let mut s = w.try_state(&t, &[[x0, y0, 0.0]], &[[velocity[0], velocity[1], 0.0]])?;
        let v0 = s.velocity;
        let params = w.params(&t, material);
        let (r, g) = (self.radius, -w.gravity[1]);
        let margin = w.penalty.margin();
        let mut touched = false;
        let max_steps = (10.0 / self.dt) as usize;
        loop {
            let (y, vy) = (
                s.pose.with_value(|q| q.data[1]),
                s.velocity.with_value(|v| v.data[1]),
            );
            let depth = r - y;
            touched |= depth > 0.0;
            if touched && depth < -margin && vy > 0.0 {
                break;
            }
            if s.step >= max_steps {
                return Err(Error::NotConverged {
                    solver: "throw to target (waiting for the landing)",
                    step: Some(s.step),
                    iters: s.step,
                    residual: depth,
                    detail: format!("; the ball had not landed within max_steps = {max_steps}"),
                });
            }
            s = w.try_step(&s, &params)?;
        }
        // x_land = x + vx τ*, τ* = (u + √(u² + 2g(y − r)))/g, u = vy − g dt/2.
        let (x, y) = (col(&s.pose, 0), col(&s.pose, 1));
        let (vx, vy) = (col(&s.velocity, 0), col(&s.velocity, 1));
        let u = vy.add_scalar(-g * self.dt / 2.0);
        let root = u.mul(&u).add(&y.add_scalar(-r).scalar_mul(2.0 * g)).sqrt();
        let tau = u.add(&root).scalar_mul(1.0 / g);
        let landing = x.add(&vx.mul(&tau));
        let grad = t.grad(landing);
        let gv: &Tensor = &grad[v0.idx()];
        Ok((landing.item(), [gv.data[0], gv.data[1]]))
    }
}

impl ThrowProblem {
    /// The ball's path (x, y) every `stride` steps of a throw at `velocity`,
    /// up to its second landing (or 10 s of simulated time).
    pub fn path(&self, velocity: [f64; 2], stride: usize) -> Result<Vec<[f64; 2]>> {
        let w = self.world()?;
        let material = Material {
            stiffness: self.stiffness,
            damping: damping_for_restitution(self.restitution, self.stiffness, self.mass),
            friction: self.friction,
            restitution: 0.0,
        };
        let t = TensorTape::new();
        let [x0, y0] = self.start;
        let mut s = w.try_state(&t, &[[x0, y0, 0.0]], &[[velocity[0], velocity[1], 0.0]])?;
        let params = w.params(&t, material);
        let (mut touched, mut left) = (false, false);
        let mut path = Vec::new();
        for step in 0..(10.0 / self.dt) as usize {
            let (x, y) = s.pose.with_value(|q| (q.data[0], q.data[1]));
            if step % stride.max(1) == 0 {
                path.push([x, y]);
            }
            let touching = y < self.radius;
            touched |= touching;
            left |= touched && !touching;
            if left && touching {
                path.push([x, y]);
                break;
            }
            s = w.try_step(&s, &params)?;
        }
        Ok(path)
    }
}

fn col<'t>(v: &TVar<'t>, j: usize) -> TVar<'t> {
    v.slice(1, j..j + 1).sum()
}

/// Gradient descent on v₀ for ½ (x_land − target)², from `initial` (m/s),
/// until |x_land − target| < `tolerance` (m) or `max_iters` throws.
/// Errors with [`Error::NotConverged`] if it runs out of iterations.
pub fn solve(
    problem: &ThrowProblem,
    initial: [f64; 2],
    tolerance: f64,
    max_iters: usize,
) -> Result<ThrowFit> {
    solve_with(problem, initial, tolerance, max_iters, &mut |_, _, _| {})
}

/// [`solve`], calling `on_iter(iteration, loss, velocity)` before each
/// update, with loss = ½ (x_land − target)².
pub fn solve_with(
    problem: &ThrowProblem,
    initial: [f64; 2],
    tolerance: f64,
    max_iters: usize,
    on_iter: &mut dyn FnMut(usize, f64, [f64; 2]),
) -> Result<ThrowFit> {
    let mut v = initial;
    let mut history = Vec::new();
    for it in 0..max_iters {
        let (x, grad) = problem.landing(v)?;
        history.push(x);
        let err = x - problem.target_x;
        on_iter(it, 0.5 * err * err, v);
        if err.abs() < tolerance {
            return Ok(ThrowFit {
                velocity: v,
                landing_x: x,
                iterations: it,
                history,
            });
        }
        // ∂½err²/∂v₀ = err ∂x_land/∂v₀.
        for j in 0..2 {
            v[j] -= problem.learning_rate * err * grad[j];
        }
    }
    Err(Error::NotConverged {
        solver: "throw to target (gradient descent)",
        step: None,
        iters: max_iters,
        residual: history.last().map_or(f64::NAN, |x| x - problem.target_x),
        detail: format!("; the landing must come within {tolerance} m of the target"),
    })
}
