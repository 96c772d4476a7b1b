//! Scenes a user can write and watch: a rigid world or a particle/spring
//! system described in a JSON file, loaded, checked, saved and simulated.
//!
//! A scene file is an object tagged by `"kind"`: `"rigid"` ([`RigidScene`]:
//! bodies with shapes, masses and initial poses, a ground, the contact
//! model) or `"particles"` ([`ParticleScene`]: particles or a grid, springs,
//! pins, drag, a ground, the integrator); both give the time step, the
//! number of steps and of frames to record. `maya run scene.json`
//! simulates one and writes its trajectory and an animation.
//!
//! ```
//! use maya::scene::Scene;
//! let json = r#"{
//!   "kind": "rigid",
//!   "name": "two boxes",
//!   "dt": 0.0005,
//!   "steps": 1000,
//!   "ground": {"height": 0},
//!   "contact": {"stiffness": 2e4, "damping": 50, "friction": 0.5},
//!   "bodies": [
//!     {"shape": {"box": {"width": 0.2, "height": 0.2}}, "mass": 1, "position": [0, 0.1]},
//!     {"shape": {"box": {"width": 0.2, "height": 0.2}}, "mass": 1, "position": [0.02, 0.4],
//!      "angle": 0.05}
//!   ]
//! }"#;
//! let scene = Scene::from_json(json).unwrap();
//! let traj = scene.simulate().unwrap();
//! assert_eq!(traj.frames.len(), 101); // the initial state and 100 frames
//! let top = traj.last().positions[1];
//! assert!(top[1] > 0.25 && top[1] < 0.35); // the second box landed on the first
//! ```
//!
//! Errors name the field and, for JSON text, the line and column
//! ([`Error::Scene`]): an unknown field (a typo), a
//! missing one, a value of the wrong type, and a value that fails a check
//! (a negative radius, a non-convex polygon, a spring joining a particle
//! that does not exist, dt ≤ 0):
//!
//! ```
//! use maya::scene::Scene;
//! let json = "{\"kind\": \"rigid\", \"name\": \"x\", \"dt\": 0.001, \"steps\": 10,
//!   \"contact\": {\"stiffness\": 1e4},
//!   \"bodies\": [{\"shape\": {\"circle\": {\"radius\": -0.1}}, \"mass\": 1,
//!                \"position\": [0, 1]}]}";
//! let e = Scene::from_json(json).unwrap_err().to_string();
//! assert!(e.starts_with("scene JSON line 3"), "{e}");
//! assert!(e.contains("field `bodies[0].shape.circle.radius`: -0.1 must be positive"), "{e}");
//! ```
//!
//! The world's own checks surface as their errors: a time step past the
//! contact's stability bound ([`Error::TimeStep`]),
//! bodies that start overlapping
//! ([`Error::InitialOverlap`]), a spring past
//! its stability bound ([`Error::Stability`]).
//!
//! To differentiate through a scene, build it on a tape with
//! [`RigidScene::build`] or [`ParticleScene::build`] and
//! [`Leaf::Variable`].

mod common;
mod io;
mod particle_model;
mod particles;
mod rigid;
mod trajectory;

use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use common::GroundSpec;
pub use particle_model::ParticleModel;
pub use particles::{
    GridSpec, IntegratorSpec, ParticleGround, ParticleScene, ParticleSpec, ParticlesKind,
    SpringGroup,
};
pub use rigid::{BodySpec, ContactSpec, PenaltySpec, RigidKind, RigidModel, RigidScene, ShapeSpec};
pub use trajectory::{Frame, GroundLine, Outline, SceneGeometry, SceneTrajectory};

/// A scene: a rigid world or a particle system, tagged in JSON by
/// `"kind"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scene {
    /// `"kind": "rigid"`.
    Rigid(RigidScene),
    /// `"kind": "particles"`.
    Particles(ParticleScene),
}

/// How [`RigidScene::build`] and [`ParticleScene::build`] put the scene's
/// numbers on a tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// As constants: nothing is recorded for gradients.
    Constant,
    /// As variables: gradients reach the initial state and every parameter.
    Variable,
}

impl Leaf {
    pub(crate) fn on(self, tape: &TensorTape, x: Tensor) -> TVar<'_> {
        match self {
            Leaf::Constant => tape.constant(x),
            Leaf::Variable => tape.var(x),
        }
    }
}

pub(crate) fn default_frames() -> usize {
    100
}

pub(crate) fn default_gravity() -> [f64; 2] {
    [0.0, -9.81]
}

impl Scene {
    /// Reads and checks a scene from JSON text; errors name the field, the
    /// line and the column ([`Error::Scene`]).
    pub fn from_json(text: &str) -> Result<Scene> {
        io::parse(text, None)
    }

    /// Reads and checks a scene file; errors name the file, the field, the
    /// line and the column ([`Error::Scene`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Scene> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Scene {
            file: Some(name.clone()),
            field: String::new(),
            line: None,
            column: None,
            reason: format!("cannot read the scene file: {e}"),
        })?;
        io::parse(&text, Some(&name))
    }

    /// The scene as pretty-printed JSON, which [`Scene::from_json`] reads
    /// back to the same scene.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scene serialises to JSON")
    }

    /// Writes [`Scene::to_json`] to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json() + "\n").map_err(|e| Error::Scene {
            file: Some(path.display().to_string()),
            field: String::new(),
            line: None,
            column: None,
            reason: format!("cannot write the scene file: {e}"),
        })
    }

    /// The scene's name.
    pub fn name(&self) -> &str {
        match self {
            Scene::Rigid(s) => &s.name,
            Scene::Particles(s) => &s.name,
        }
    }

    /// The scene's description.
    pub fn description(&self) -> &str {
        match self {
            Scene::Rigid(s) => &s.description,
            Scene::Particles(s) => &s.description,
        }
    }

    /// The steps to simulate.
    pub fn steps(&self) -> usize {
        match self {
            Scene::Rigid(s) => s.steps,
            Scene::Particles(s) => s.steps,
        }
    }

    /// The scene with `steps` steps instead.
    pub fn with_steps(mut self, steps: usize) -> Scene {
        match &mut self {
            Scene::Rigid(s) => s.steps = steps,
            Scene::Particles(s) => s.steps = steps,
        }
        self
    }

    /// The scene recording `frames` frames (after the initial one) instead.
    pub fn with_frames(mut self, frames: usize) -> Scene {
        match &mut self {
            Scene::Rigid(s) => s.frames = frames,
            Scene::Particles(s) => s.frames = frames,
        }
        self
    }

    /// Checks every value: [`Error::Scene`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(common::Invalid::into_error)
    }

    pub(crate) fn check(&self) -> common::Checked {
        match self {
            Scene::Rigid(s) => s.validate(),
            Scene::Particles(s) => s.validate(),
        }
    }

    /// Simulates the scene (no gradients) and returns its frames.
    pub fn simulate(&self) -> Result<SceneTrajectory> {
        self.simulate_with(&mut |_, _| {})
    }

    /// [`Scene::simulate`], calling `on_frame(done, total)` after each
    /// recorded frame (for a progress bar).
    pub fn simulate_with(&self, on_frame: &mut dyn FnMut(usize, usize)) -> Result<SceneTrajectory> {
        match self {
            Scene::Rigid(s) => s.simulate_with(on_frame),
            Scene::Particles(s) => s.simulate_with(on_frame),
        }
    }
}

impl<'de> Deserialize<'de> for Scene {
    /// Chooses the type by `"kind"`. Reading through
    /// [`Scene::from_json`] or [`Scene::load`] instead also checks the
    /// values and gives errors their line.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Scene, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(d)?;
        match value.get("kind").and_then(|k| k.as_str()) {
            Some("rigid") => RigidScene::deserialize(value)
                .map(Scene::Rigid)
                .map_err(D::Error::custom),
            Some("particles") => ParticleScene::deserialize(value)
                .map(Scene::Particles)
                .map_err(D::Error::custom),
            Some(other) => Err(D::Error::unknown_variant(other, &["rigid", "particles"])),
            None => Err(D::Error::missing_field("kind")),
        }
    }
}
