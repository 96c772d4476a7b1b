//! [`SceneTrajectory`]: what a scene's simulation returns: the recorded
//! frames and everything needed to draw them to scale.

use serde::Serialize;

/// The recorded frames of a simulated scene and its drawable geometry.
/// Serialises to the `trajectory.json` that `maya run` writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SceneTrajectory {
    /// The scene's name.
    pub name: String,
    /// `"rigid"` or `"particles"`.
    pub kind: &'static str,
    /// Time step (s).
    pub dt: f64,
    /// The frames, the initial state first.
    pub frames: Vec<Frame>,
    /// Shapes, springs, pins and ground, for drawing.
    pub geometry: SceneGeometry,
}

/// The state after `step` steps: one entry per body or particle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frame {
    /// Steps taken.
    pub step: usize,
    /// Simulated time, step·dt (s).
    pub time: f64,
    /// Centre of mass (bodies) or position (particles), (x, y) in m.
    pub positions: Vec<[f64; 2]>,
    /// Velocity (vx, vy) in m/s.
    pub velocities: Vec<[f64; 2]>,
    /// Bodies' angles θ (rad); empty for particles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub angles: Vec<f64>,
    /// Bodies' angular velocities ω (rad/s); empty for particles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub angular_velocities: Vec<f64>,
}

/// The shape of one rigid body in its own frame, centred on its centre of
/// mass (turn by θ, then move to the position).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outline {
    /// A disc.
    Circle {
        /// Radius (m).
        radius: f64,
    },
    /// A convex polygon, counter-clockwise.
    Polygon {
        /// Vertices (m).
        vertices: Vec<[f64; 2]>,
    },
}

/// The ground line n·x = offset, n the unit outward normal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GroundLine {
    /// Unit normal, pointing out of the ground.
    pub normal: [f64; 2],
    /// Offset (m).
    pub offset: f64,
}

/// What to draw besides the positions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SceneGeometry {
    /// Each rigid body's outline; empty for particles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bodies: Vec<Outline>,
    /// Each body's colour ("#rrggbb") if the scene gave one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub colors: Vec<Option<String>>,
    /// Springs, as pairs of particle indices.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub springs: Vec<[usize; 2]>,
    /// The cells of a grid, as particle quadruples going round each cell
    /// (drawn as the cloth's surface).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<[usize; 4]>,
    /// Pinned particles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pinned: Vec<usize>,
    /// The ground, if any.
    pub ground: Option<GroundLine>,
}

impl SceneTrajectory {
    /// The last frame.
    ///
    /// ```
    /// use maya::scene::Scene;
    /// let json = r#"{"kind": "particles", "name": "drop", "dt": 0.01, "steps": 10,
    ///                "particles": [{"position": [0, 1], "mass": 1}]}"#;
    /// let traj = Scene::from_json(json).unwrap().simulate().unwrap();
    /// // Ten steps of semi-implicit Euler under g = 9.81: y = 1 − g·dt²·(1 + … + 10).
    /// let y = traj.last().positions[0][1];
    /// assert!((y - (1.0 - 9.81 * 1e-4 * 55.0)).abs() < 1e-12);
    /// ```
    pub fn last(&self) -> &Frame {
        self.frames
            .last()
            .expect("a trajectory has its initial frame")
    }
}
