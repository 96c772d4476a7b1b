//! The three closed-form scenes of the `contact-models` demo, each
//! simulated under a given contact model and setting, with its value and
//! gradient.
//!
//! - **bounce**: a ball (r = 0.1 m, 1 kg) moving down at v onto the ground
//!   without gravity, e = 1: y(T) = 2r − y₀ − v_y T, ∂y/∂(y₀, v_y) = (−1, −T).
//! - **inelastic**: a head-on collision of 1 kg and 3 kg balls, e = 0, no
//!   gravity: x₂(T) = x₂ + v₂T + (m₁/M)[(v₁ − v₂)T − g₀] and its gradients
//!   w.r.t. x₁, x₂, v₁, v₂, m₁, m₂.
//! - **slide**: a 1 kg box sliding to rest on the ground under Coulomb
//!   friction: d = v₀²/(2μg), ∂d/∂v₀ = v₀/(μg), ∂d/∂μ = −v₀²/(2μ²g).
//!
//! Impacts fall inside a step for every step size used.

use crate::contact::{ComplementarityOptions, ContactModel, Ground, Penalty};
use crate::error::Result;
use crate::rigid::{Material, RigidParams, RigidState, Shape, World};
use crate::tape::{TVar, TensorTape};
use std::f64::consts::PI;
use std::time::Instant;

/// A contact model and its setting.
#[derive(Clone, Copy, Debug)]
pub(super) enum Setting {
    /// Penalty contact of stiffness k (N/m) with `penalty` (ReLU or a
    /// softplus), stepped at `fraction` of [`World::stable_time_step`].
    Penalty {
        stiffness: f64,
        penalty: Penalty,
        fraction: f64,
    },
    /// Complementarity contact at κ (J), step `dt` (s).
    Complementarity { kappa: f64, dt: f64 },
}

impl Setting {
    /// "penalty" or "complementarity".
    pub(super) fn model(&self) -> &'static str {
        match self {
            Setting::Penalty { .. } => "penalty",
            Setting::Complementarity { .. } => "complementarity",
        }
    }

    /// The setting in words, e.g. `k = 1e4 N/m, dt = stable/10`.
    pub(super) fn label(&self) -> String {
        match self {
            Setting::Penalty {
                stiffness,
                penalty,
                fraction,
            } => {
                let shape = match penalty {
                    Penalty::Relu => "ReLU".to_string(),
                    Penalty::Softplus { width } => format!("softplus w = {} mm", width * 1e3),
                };
                format!("k = {stiffness:.0e} N/m, {shape}, dt = {fraction} × stable")
            }
            Setting::Complementarity { kappa, dt } => {
                format!("κ = {kappa:.0e} J, h = {} ms", dt * 1e3)
            }
        }
    }
}

/// What one simulation gave.
#[derive(Clone, Debug)]
pub(super) struct Outcome {
    /// The scene's output (m).
    pub value: f64,
    /// Its gradient, in the order of [`Scene::closed_form`]'s.
    pub gradient: Vec<f64>,
    /// The step used (s) and the number of steps.
    pub dt: f64,
    pub steps: usize,
    /// Wall time of the rollout and its gradient, per step (s): the
    /// fastest of three runs.
    pub seconds_per_step: f64,
}

/// A scene with a closed form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Scene {
    Bounce,
    Inelastic,
    Slide,
}

const R: f64 = 0.1;
/// Bounce: start height (m), downward speed (m/s), horizon (s).
const BOUNCE: (f64, f64, f64) = (0.3137, 1.0, 0.5);
/// Inelastic: masses (kg), positions (m), velocities (m/s), horizon (s).
const MASSES: [f64; 2] = [1.0, 3.0];
const X0: [f64; 2] = [0.0, 0.2537];
const V0: [f64; 2] = [1.0, -0.5];
const COLLIDE_T: f64 = 0.08;
/// Slide: initial speed (m/s), friction, gravity (m/s²), horizon (s).
const SLIDE: (f64, f64, f64, f64) = (1.0, 0.5, 9.81, 0.3);

impl Scene {
    pub(super) const ALL: [Scene; 3] = [Scene::Bounce, Scene::Inelastic, Scene::Slide];

    pub(super) fn name(&self) -> &'static str {
        match self {
            Scene::Bounce => "bounce (e = 1)",
            Scene::Inelastic => "inelastic collision (e = 0)",
            Scene::Slide => "box sliding to rest",
        }
    }

    pub(super) fn horizon(&self) -> f64 {
        match self {
            Scene::Bounce => BOUNCE.2,
            Scene::Inelastic => COLLIDE_T,
            Scene::Slide => SLIDE.3,
        }
    }

    /// The hard-contact (continuum) value and gradient.
    pub(super) fn closed_form(&self) -> (f64, Vec<f64>) {
        match self {
            Scene::Bounce => {
                let (y0, v, t) = BOUNCE;
                // v_y = −v: y(T) = 2r − y₀ − v_y T.
                (2.0 * R - y0 + v * t, vec![-1.0, -t])
            }
            Scene::Inelastic => {
                let [m1, m2] = MASSES;
                let m = m1 + m2;
                let (w, g0, t) = (V0[0] - V0[1], X0[1] - X0[0] - 2.0 * R, COLLIDE_T);
                let tc = g0 / w;
                let value = X0[1] + V0[1] * t + (m1 / m) * (w * t - g0);
                let grad = vec![
                    m1 / m,
                    m2 / m,
                    m1 * t / m,
                    m2 * t / m,
                    m2 / (m * m) * w * (t - tc),
                    -m1 / (m * m) * w * (t - tc),
                ];
                (value, grad)
            }
            Scene::Slide => {
                let (v0, mu, g, _) = SLIDE;
                let d = v0 * v0 / (2.0 * mu * g);
                (d, vec![v0 / (mu * g), -d / mu])
            }
        }
    }

    /// The exact stopping distance and gradient of hard Coulomb contact
    /// under semi-implicit Euler at step h (slide only): K = ⌈v₀/(μgh)⌉ − 1
    /// steps of deceleration, d = hKv₀ − μgh²K(K+1)/2.
    pub(super) fn discrete_slide(h: f64) -> (f64, Vec<f64>) {
        let (v0, mu, g, _) = SLIDE;
        let k = (v0 / (mu * g * h)).ceil() - 1.0;
        let d = h * k * v0 - mu * g * h * h * k * (k + 1.0) / 2.0;
        (d, vec![h * k, -g * h * h * k * (k + 1.0) / 2.0])
    }

    fn world(&self, dt: f64, setting: &Setting) -> World {
        let model = match *setting {
            Setting::Penalty { .. } => ContactModel::Penalty,
            Setting::Complementarity { kappa, dt } => {
                // d̂ above twice the travel per step (speeds ≤ 1.5 m/s).
                ContactModel::Complementarity(ComplementarityOptions {
                    kappa,
                    activation_distance: (3.0 * dt).max(5e-3),
                    max_iter: 100,
                    tol: 1e-12,
                    warm_start: false,
                })
            }
        };
        let mut w = World::new(dt).with_contact(model);
        if let Setting::Penalty { penalty, .. } = *setting {
            w.penalty = penalty;
        }
        let circle = |m: f64| m / (PI * R * R);
        match self {
            Scene::Bounce => {
                w.gravity = [0.0, 0.0];
                w.set_ground(Ground::horizontal(0.0));
                w.add_body(Shape::circle(R), circle(1.0));
            }
            Scene::Inelastic => {
                w.gravity = [0.0, 0.0];
                w.add_body(Shape::circle(R), circle(MASSES[0]));
                w.add_body(Shape::circle(R), circle(MASSES[1]));
            }
            Scene::Slide => {
                w.gravity = [0.0, -SLIDE.2];
                w.set_ground(Ground::horizontal(0.0));
                w.add_body(Shape::rect(2.0 * R, 2.0 * R), 1.0 / (4.0 * R * R));
            }
        }
        w
    }

    /// The material: elastic (undamped) or critically damped penalty
    /// contact, or the restitution itself under complementarity.
    fn material(&self, setting: &Setting) -> Material {
        let (elastic, friction, mass) = match self {
            Scene::Bounce => (true, 0.0, 1.0),
            Scene::Inelastic => (false, 0.0, MASSES[0] * MASSES[1] / (MASSES[0] + MASSES[1])),
            Scene::Slide => (false, SLIDE.1, 1.0),
        };
        match *setting {
            Setting::Penalty { stiffness, .. } => Material {
                stiffness,
                // e = 0 needs at least critical damping, 2√(km).
                damping: if elastic {
                    0.0
                } else {
                    2.0 * (stiffness * mass).sqrt()
                },
                friction,
                restitution: 0.0,
            },
            Setting::Complementarity { .. } => Material {
                stiffness: 0.0,
                damping: 0.0,
                friction,
                restitution: if elastic { 1.0 } else { 0.0 },
            },
        }
    }

    /// The initial poses and velocities; a box under penalty contact
    /// starts at its resting depth d on two corners, k ψ(d) = m g/2.
    fn initial(&self, setting: &Setting) -> [Vec<[f64; 3]>; 2] {
        match self {
            Scene::Slide => {
                let depth = match *setting {
                    Setting::Penalty {
                        stiffness,
                        penalty: Penalty::Softplus { width },
                        ..
                    } => width * ((SLIDE.2 / 2.0) / (stiffness * width)).exp_m1().ln(),
                    Setting::Penalty { stiffness, .. } => SLIDE.2 / 2.0 / stiffness,
                    Setting::Complementarity { .. } => 0.0,
                };
                [vec![[0.0, R - depth, 0.0]], vec![[SLIDE.0, 0.0, 0.0]]]
            }
            Scene::Bounce => [vec![[0.0, BOUNCE.0, 0.0]], vec![[0.0, -BOUNCE.1, 0.0]]],
            Scene::Inelastic => [
                vec![[X0[0], 0.0, 0.0], [X0[1], 0.0, 0.0]],
                vec![[V0[0], 0.0, 0.0], [V0[1], 0.0, 0.0]],
            ],
        }
    }

    /// The step and number of steps of `setting` over the horizon.
    fn steps(&self, world: &World, setting: &Setting) -> (f64, usize) {
        let t = self.horizon();
        let dt = match *setting {
            Setting::Penalty {
                stiffness,
                fraction,
                ..
            } => {
                let mp = world.mass_properties();
                let mass: Vec<f64> = mp.iter().map(|m| m.mass).collect();
                let inertia: Vec<f64> = mp.iter().map(|m| m.inertia).collect();
                fraction * world.stable_time_step(stiffness, &mass, &inertia).0
            }
            Setting::Complementarity { dt, .. } => dt,
        };
        let steps = (t / dt).ceil() as usize;
        (t / steps as f64, steps)
    }

    /// Simulates the scene under `setting`: its value and gradient, timed
    /// as the fastest of three runs.
    pub(super) fn simulate(&self, setting: &Setting) -> Result<Outcome> {
        let probe = self.world(1.0, setting);
        let (dt, steps) = self.steps(&probe, setting);
        let world = self.world(dt, setting);
        let [pose, velocity] = self.initial(setting);
        let mut fastest = f64::INFINITY;
        let mut result = (0.0, Vec::new());
        for _ in 0..3 {
            let start = Instant::now();
            let t = TensorTape::new();
            let s0 = world.try_state(&t, &pose, &velocity)?;
            let params = world.params(&t, self.material(setting));
            let end = world.rollout(&s0, &params, steps)?;
            result = self.measure(&t, &s0, &params, &end)?;
            fastest = fastest.min(start.elapsed().as_secs_f64());
        }
        Ok(Outcome {
            value: result.0,
            gradient: result.1,
            dt,
            steps,
            seconds_per_step: fastest / steps as f64,
        })
    }

    fn measure<'t>(
        &self,
        t: &'t TensorTape,
        s0: &RigidState<'t>,
        params: &RigidParams<'t>,
        end: &RigidState<'t>,
    ) -> Result<(f64, Vec<f64>)> {
        let output: TVar = match self {
            Scene::Bounce => end.pose.at(&[0, 1]),
            Scene::Inelastic => end.pose.at(&[1, 0]),
            Scene::Slide => end.pose.at(&[0, 0]),
        };
        let g = t.try_grad(output)?;
        let (q, v) = (&g[s0.pose.idx()].data, &g[s0.velocity.idx()].data);
        let gradient = match self {
            Scene::Bounce => vec![q[1], v[1]],
            Scene::Inelastic => {
                let m = &g[params.mass.idx()].data;
                vec![q[0], q[3], v[0], v[3], m[0], m[1]]
            }
            Scene::Slide => vec![v[0], g[params.material.idx()].data[2]],
        };
        Ok((output.item(), gradient))
    }
}

/// The worst entry's error of `got` against `want`, relative to
/// max(|want|, 1e-3·max|want|).
pub(super) fn gradient_error(got: &[f64], want: &[f64]) -> f64 {
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1e-3 * scale))
        .fold(0.0, f64::max)
}
