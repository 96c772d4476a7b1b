//! [`ParticleScene`]: a particle/spring system in a file (particles, a
//! grid shorthand, springs, pins, gravity, drag, ground, integrator) and
//! how it becomes a [`ParticleSystem`] and a simulation.
//!
//! The pipeline has no pinned particles; a scene pins them as the cloth
//! demo does: after each step their positions and velocities are reset
//! through a mask, p' = p + m ⊙ (p̃ − p), v' = m ⊙ ṽ (m = 0 on pinned
//! particles), which a tape differentiates.

use super::common::{
    at_least_one, finite_all, non_negative, positive, Checked, Field, GroundSpec, Invalid,
};
use super::particle_model::ParticleModel;
use super::trajectory::{Frame, GroundLine, SceneGeometry, SceneTrajectory};
use super::{default_frames, default_gravity, Leaf};
use crate::dynamics::{Integrator, ParticleSystem, SpringNetwork};
use crate::error::Result;
use crate::geometry::HalfPlane;
use crate::tape::TensorTape;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The tag of a particle scene: `"kind": "particles"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticlesKind {
    /// A particle/spring system.
    #[default]
    Particles,
}

/// A 2D particle/spring system. Particles are numbered from 0: the grid's
/// first (if any), then those of `particles`; springs and pins use these
/// numbers.
///
/// ```
/// use maya::scene::Scene;
/// let json = r#"{"kind": "particles", "name": "pendulum", "dt": 0.001, "steps": 500,
///   "particles": [{"position": [0, 0], "mass": 1}, {"position": [1, 0], "mass": 1}],
///   "springs": [{"pairs": [[0, 1]], "stiffness": 1e4}],
///   "pinned": [0]}"#;
/// let traj = Scene::from_json(json).unwrap().simulate().unwrap();
/// let [x, y] = traj.last().positions[1];
/// assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.01); // swings on its stiff spring
/// assert_eq!(traj.last().positions[0], [0.0, 0.0]); // the pin holds
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticleScene {
    /// Always `particles`.
    pub kind: ParticlesKind,
    /// The scene's name (the output folder of `maya run`).
    pub name: String,
    /// What it shows (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Time step (s).
    pub dt: f64,
    /// Steps to simulate.
    pub steps: usize,
    /// Frames to record after the initial one (optional, default 100).
    #[serde(default = "default_frames")]
    pub frames: usize,
    /// The scheme (optional, default `semi_implicit_euler`).
    #[serde(default)]
    pub integrator: IntegratorSpec,
    /// Gravity (m/s²) (optional, default (0, −9.81)).
    #[serde(default = "default_gravity")]
    pub gravity: [f64; 2],
    /// Linear drag c (kg/s), F = −c v (optional, default 0).
    #[serde(default)]
    pub drag: f64,
    /// Penalty ground (optional: none when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<ParticleGround>,
    /// A grid of particles joined by springs (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<GridSpec>,
    /// Particles, after the grid's (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub particles: Vec<ParticleSpec>,
    /// Groups of springs, besides the grid's (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub springs: Vec<SpringGroup>,
    /// Particles held at their initial positions (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pinned: Vec<usize>,
}

/// The time-stepping scheme (see [`Integrator`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegratorSpec {
    /// [`Integrator::SemiImplicitEuler`].
    #[default]
    SemiImplicitEuler,
    /// [`Integrator::Euler`].
    Euler,
    /// [`Integrator::VelocityVerlet`].
    VelocityVerlet,
    /// [`Integrator::Rk4`].
    Rk4,
    /// [`Integrator::BackwardEuler`].
    BackwardEuler,
}

impl From<IntegratorSpec> for Integrator {
    fn from(s: IntegratorSpec) -> Integrator {
        match s {
            IntegratorSpec::SemiImplicitEuler => Integrator::SemiImplicitEuler,
            IntegratorSpec::Euler => Integrator::Euler,
            IntegratorSpec::VelocityVerlet => Integrator::VelocityVerlet,
            IntegratorSpec::Rk4 => Integrator::Rk4,
            IntegratorSpec::BackwardEuler => Integrator::BackwardEuler,
        }
    }
}

/// A penalty ground for particles: the half-plane of [`GroundSpec`] and a
/// stiffness, F = k·max(h − n·p, 0)·n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticleGround {
    /// Outward normal (optional, default (0, 1)).
    #[serde(default = "up")]
    pub normal: [f64; 2],
    /// Offset of the surface along the unit normal (m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<f64>,
    /// A point on the surface, instead of `height` (m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<[f64; 2]>,
    /// Stiffness k (N/m).
    pub stiffness: f64,
}

fn up() -> [f64; 2] {
    [0.0, 1.0]
}

/// A `rows × cols` grid: particle `r·cols + c` (row r from the top,
/// column c from the left) starts at `origin + (c·spacing, −r·spacing)`,
/// joined to its neighbours across, down and on both diagonals by springs
/// at rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    /// Rows (≥ 1).
    pub rows: usize,
    /// Columns (≥ 1).
    pub cols: usize,
    /// Distance between neighbours (m).
    pub spacing: f64,
    /// Where the top-left particle starts (m).
    pub origin: [f64; 2],
    /// Mass of each particle (kg).
    pub mass: f64,
    /// Stiffness of each spring (N/m).
    pub stiffness: f64,
    /// Damping of each spring (kg/s) (optional, default 0).
    #[serde(default)]
    pub damping: f64,
    /// Initial velocity of every particle (m/s) (optional, default 0).
    #[serde(default)]
    pub velocity: [f64; 2],
}

impl GridSpec {
    /// The cells: particles (r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c).
    fn cells(&self) -> Vec<[usize; 4]> {
        let id = |r: usize, c: usize| r * self.cols + c;
        let mut cells = Vec::new();
        for r in 0..self.rows.saturating_sub(1) {
            for c in 0..self.cols.saturating_sub(1) {
                cells.push([id(r, c), id(r, c + 1), id(r + 1, c + 1), id(r + 1, c)]);
            }
        }
        cells
    }
}

/// One particle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticleSpec {
    /// Initial position (m).
    pub position: [f64; 2],
    /// Initial velocity (m/s) (optional, default 0).
    #[serde(default)]
    pub velocity: [f64; 2],
    /// Mass (kg).
    pub mass: f64,
}

/// Springs that share their stiffness and damping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpringGroup {
    /// The particles each spring joins.
    pub pairs: Vec<[usize; 2]>,
    /// Stiffness k (N/m).
    pub stiffness: f64,
    /// Damping c (kg/s) (optional, default 0).
    #[serde(default)]
    pub damping: f64,
    /// Rest length (m) (optional: each spring's initial length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_length: Option<f64>,
}

/// The checked scene as flat arrays.
struct Assembled {
    masses: Vec<f64>,
    p0: Vec<f64>,
    v0: Vec<f64>,
    pairs: Vec<(usize, usize)>,
    stiffness: Vec<f64>,
    rest: Vec<f64>,
    damping: Vec<f64>,
    ground: Option<(HalfPlane, f64)>,
}

impl Assembled {
    fn distance(&self, a: usize, b: usize) -> f64 {
        let p = &self.p0;
        (p[2 * b] - p[2 * a]).hypot(p[2 * b + 1] - p[2 * a + 1])
    }
}

impl ParticleScene {
    /// Checks every value, naming the first bad field.
    pub(crate) fn validate(&self) -> Checked {
        self.assemble().map(|_| ())
    }

    fn assemble(&self) -> Checked<Assembled> {
        positive(&Field::root("dt"), self.dt)?;
        at_least_one(&Field::root("steps"), self.steps)?;
        at_least_one(&Field::root("frames"), self.frames)?;
        finite_all(&Field::root("gravity"), &self.gravity)?;
        non_negative(&Field::root("drag"), self.drag)?;
        let mut out = Assembled {
            masses: Vec::new(),
            p0: Vec::new(),
            v0: Vec::new(),
            pairs: Vec::new(),
            stiffness: Vec::new(),
            rest: Vec::new(),
            damping: Vec::new(),
            ground: None,
        };
        if let Some(g) = &self.ground {
            let f = Field::root("ground");
            let plane = GroundSpec {
                normal: g.normal,
                height: g.height,
                point: g.point,
            };
            let plane = plane.checked(&f)?;
            non_negative(&f.key("stiffness"), g.stiffness)?;
            out.ground = Some((plane, g.stiffness));
        }
        if let Some(g) = &self.grid {
            self.add_grid(g, &mut out)?;
        }
        let listed = Field::root("particles");
        for (i, p) in self.particles.iter().enumerate() {
            let f = listed.index(i);
            finite_all(&f.key("position"), &p.position)?;
            finite_all(&f.key("velocity"), &p.velocity)?;
            positive(&f.key("mass"), p.mass)?;
            out.masses.push(p.mass);
            out.p0.extend(p.position);
            out.v0.extend(p.velocity);
        }
        let n = out.masses.len();
        if n == 0 {
            return Err(listed.invalid("a particle scene needs particles: `particles` or `grid`"));
        }
        let count = |i: usize| self.describe_index(i, n);
        for (g, group) in self.springs.iter().enumerate() {
            let f = Field::root("springs").index(g);
            non_negative(&f.key("stiffness"), group.stiffness)?;
            non_negative(&f.key("damping"), group.damping)?;
            if let Some(l) = group.rest_length {
                non_negative(&f.key("rest_length"), l)?;
            }
            for (s, &[a, b]) in group.pairs.iter().enumerate() {
                let pair = f.key("pairs").index(s);
                for (end, i) in [a, b].into_iter().enumerate() {
                    if i >= n {
                        return Err(pair.index(end).invalid(count(i)));
                    }
                }
                if a == b {
                    return Err(pair.invalid(format!("a spring joins particle {a} to itself")));
                }
                out.pairs.push((a, b));
                out.stiffness.push(group.stiffness);
                out.damping.push(group.damping);
                let rest = group.rest_length.unwrap_or_else(|| out.distance(a, b));
                out.rest.push(rest);
            }
        }
        for (k, &i) in self.pinned.iter().enumerate() {
            if i >= n {
                return Err(Field::root("pinned").index(k).invalid(count(i)));
            }
        }
        Ok(out)
    }

    /// "particle 40 does not exist: there are 40 (0–15 the grid's, …)".
    fn describe_index(&self, i: usize, n: usize) -> String {
        let grid = self.grid.as_ref().map_or(0, |g| g.rows * g.cols);
        let parts = match (grid, n - grid) {
            (0, _) => format!("numbered 0 to {}", n - 1),
            (g, 0) => format!("the grid's, numbered 0 to {}", g - 1),
            (g, _) => format!("0 to {} the grid's, {g} to {} those listed", g - 1, n - 1),
        };
        format!("particle {i} does not exist: there are {n} ({parts})")
    }

    fn add_grid(&self, g: &GridSpec, out: &mut Assembled) -> Checked {
        let f = Field::root("grid");
        at_least_one(&f.key("rows"), g.rows)?;
        at_least_one(&f.key("cols"), g.cols)?;
        positive(&f.key("spacing"), g.spacing)?;
        finite_all(&f.key("origin"), &g.origin)?;
        positive(&f.key("mass"), g.mass)?;
        non_negative(&f.key("stiffness"), g.stiffness)?;
        non_negative(&f.key("damping"), g.damping)?;
        finite_all(&f.key("velocity"), &g.velocity)?;
        for r in 0..g.rows {
            for c in 0..g.cols {
                out.masses.push(g.mass);
                out.p0.push(g.origin[0] + c as f64 * g.spacing);
                out.p0.push(g.origin[1] - r as f64 * g.spacing);
                out.v0.extend(g.velocity);
            }
        }
        for (a, b) in SpringNetwork::grid(g.rows, g.cols).pairs() {
            out.pairs.push((a, b));
            out.stiffness.push(g.stiffness);
            out.damping.push(g.damping);
            out.rest.push(out.distance(a, b));
        }
        Ok(())
    }

    /// The system on `tape`, its initial state and parameters, as constants
    /// or as variables to differentiate with respect to; an
    /// [`Error::Scene`](crate::Error::Scene) naming the first bad field.
    ///
    /// ```
    /// use maya::scene::{Leaf, Scene};
    /// use maya::TensorTape;
    /// let json = r#"{"kind": "particles", "name": "chain", "dt": 0.002, "steps": 1500,
    ///   "drag": 0.2,
    ///   "grid": {"rows": 4, "cols": 1, "spacing": 0.1, "origin": [0, 0], "mass": 0.1,
    ///            "stiffness": 200, "damping": 0.5},
    ///   "pinned": [0]}"#;
    /// let Scene::Particles(scene) = Scene::from_json(json).unwrap() else { unreachable!() };
    /// let t = TensorTape::new();
    /// let m = scene.build(&t, Leaf::Variable).unwrap();
    /// let (mut p, mut v) = (m.positions, m.velocities);
    /// for _ in 0..scene.steps {
    ///     (p, v) = m.step(&p, &v).unwrap();
    /// }
    /// let k = m.stiffness.unwrap();
    /// let g = t.grad(p.at(&[3, 1])); // the lowest particle's height, after 3 s
    /// // At rest, spring j carries (3 − j)·m·g and stretches by that over k:
    /// // ∂y/∂kⱼ = (3 − j)·m·g/k².
    /// for (j, d) in g.wrt(&k).data.iter().enumerate() {
    ///     let rest = (3 - j) as f64 * 0.1 * 9.81 / 200f64.powi(2);
    ///     assert!((d - rest).abs() < 0.1 * rest, "spring {j}: {d} vs {rest}");
    /// }
    /// ```
    pub fn build<'t>(&self, tape: &'t TensorTape, leaf: Leaf) -> Result<ParticleModel<'t>> {
        let a = self.assemble().map_err(Invalid::into_error)?;
        let n = a.masses.len();
        let masses = leaf.on(tape, Tensor::from_data(a.masses.clone(), vec![n]));
        let gravity = leaf.on(tape, Tensor::from_data(self.gravity.to_vec(), vec![2]));
        let drag = leaf.on(tape, Tensor::scalar(self.drag));
        let mut system = ParticleSystem::try_new(masses, self.dt)?
            .with_integrator(self.integrator.into())
            .with_gravity(gravity)
            .with_drag(drag);
        let mut ground_stiffness = None;
        if let Some((plane, k)) = a.ground {
            let k = leaf.on(tape, Tensor::scalar(k));
            system = system.with_ground(plane, k);
            ground_stiffness = Some(k);
        }
        let (mut stiffness, mut rest_length, mut damping) = (None, None, None);
        if !a.pairs.is_empty() {
            let s = a.pairs.len();
            let network = SpringNetwork::new(n, a.pairs.clone())?;
            let k = leaf.on(tape, Tensor::from_data(a.stiffness.clone(), vec![s]));
            let l = leaf.on(tape, Tensor::from_data(a.rest.clone(), vec![s]));
            let damped = a.damping.iter().any(|&c| c > 0.0);
            let c = damped.then(|| leaf.on(tape, Tensor::from_data(a.damping.clone(), vec![s])));
            system = system.with_springs(network, k, l, c);
            (stiffness, rest_length, damping) = (Some(k), Some(l), c);
        }
        let mask = (!self.pinned.is_empty()).then(|| {
            let mut m = vec![1.0; n];
            for &i in &self.pinned {
                m[i] = 0.0;
            }
            tape.constant(Tensor::from_data(m, vec![n, 1]))
        });
        Ok(ParticleModel {
            system,
            positions: leaf.on(tape, Tensor::from_data(a.p0, vec![n, 2])),
            velocities: leaf.on(tape, Tensor::from_data(a.v0, vec![n, 2])),
            masses,
            gravity,
            drag,
            ground_stiffness,
            stiffness,
            rest_length,
            damping,
            pinned: self.pinned.clone(),
            mask,
        })
    }

    /// Simulates without gradients, recording the frames; `on_frame(done,
    /// total)` after each.
    pub(crate) fn simulate_with(
        &self,
        on_frame: &mut dyn FnMut(usize, usize),
    ) -> Result<SceneTrajectory> {
        let (mut q, mut v) = {
            let tape = TensorTape::new();
            let first = self.build(&tape, Leaf::Constant)?;
            (first.positions.value(), first.velocities.value())
        };
        let at = super::common::frame_steps(self.steps, self.frames);
        let mut frames = vec![self.frame(0, &q, &v)];
        for (k, w) in at.windows(2).enumerate() {
            // A fresh tape per frame: the steps between run off the tape.
            let tape = TensorTape::new();
            let model = self.build(&tape, Leaf::Constant)?;
            (q, v) = model.advance(&tape, q, v, w[0], w[1] - w[0])?;
            frames.push(self.frame(w[1], &q, &v));
            on_frame(k + 1, at.len() - 1);
        }
        Ok(SceneTrajectory {
            name: self.name.clone(),
            kind: "particles",
            dt: self.dt,
            frames,
            geometry: self.geometry()?,
        })
    }

    /// The springs, pins and ground line, for drawing.
    fn geometry(&self) -> Result<SceneGeometry> {
        let a = self.assemble().map_err(Invalid::into_error)?;
        Ok(SceneGeometry {
            springs: a.pairs.iter().map(|&(a, b)| [a, b]).collect(),
            cells: self.grid.as_ref().map_or_else(Vec::new, GridSpec::cells),
            pinned: self.pinned.clone(),
            ground: a.ground.map(|(g, _)| GroundLine {
                normal: [g.normal()[0], g.normal()[1]],
                offset: g.offset(),
            }),
            ..SceneGeometry::default()
        })
    }

    fn frame(&self, step: usize, q: &Tensor, v: &Tensor) -> Frame {
        let pairs = |x: &Tensor| x.data.chunks(2).map(|r| [r[0], r[1]]).collect();
        Frame {
            step,
            time: step as f64 * self.dt,
            positions: pairs(q),
            velocities: pairs(v),
            angles: Vec::new(),
            angular_velocities: Vec::new(),
        }
    }
}
