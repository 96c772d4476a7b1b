//! [`RigidScene`]: a rigid world in a file (bodies, shapes, ground,
//! contact model, initial state, time step) and how it becomes a
//! [`World`] and a simulation.

use super::common::{
    at_least_one, finite, finite_all, non_negative, positive, Checked, Field, GroundSpec, Invalid,
};
use super::trajectory::{Frame, GroundLine, Outline, SceneGeometry, SceneTrajectory};
use super::{default_frames, default_gravity, Leaf};
use crate::contact::Penalty;
use crate::error::Result;
use crate::geometry::unit_mass_properties;
use crate::rigid::{Material, RigidParams, RigidState, Shape, World};
use crate::tape::TensorTape;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The tag of a rigid scene: `"kind": "rigid"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RigidKind {
    /// A rigid world.
    #[default]
    Rigid,
}

/// A 2D rigid world: bodies, an optional ground, gravity, the contact
/// model, and how long to simulate. Fields not marked optional are
/// required in a file.
///
/// ```
/// use maya::scene::{BodySpec, RigidScene, Scene, ShapeSpec};
/// let scene = Scene::Rigid(RigidScene {
///     name: "drop".into(),
///     bodies: vec![BodySpec::new(ShapeSpec::Circle { radius: 0.1 }, 100.0, [0.0, 0.5])],
///     ..RigidScene::default()
/// });
/// let back = Scene::from_json(&scene.to_json()).unwrap();
/// assert_eq!(back, scene);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RigidScene {
    /// Always `rigid`.
    pub kind: RigidKind,
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
    /// Gravity (m/s²) (optional, default (0, −9.81)).
    #[serde(default = "default_gravity")]
    pub gravity: [f64; 2],
    /// The ground (optional: none when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<GroundSpec>,
    /// The contact model, shared by every contact.
    pub contact: ContactSpec,
    /// Whether bodies may start overlapping (optional, default false:
    /// [`Error::InitialOverlap`](crate::Error::InitialOverlap)).
    #[serde(default)]
    pub allow_initial_overlap: bool,
    /// The bodies, in order (their index is their row in the state).
    pub bodies: Vec<BodySpec>,
}

impl Default for RigidScene {
    /// An empty world: dt = 1 ms, 1000 steps, 100 frames, the floor y = 0,
    /// contact stiffness 1e4 N/m, friction 0.5.
    fn default() -> Self {
        RigidScene {
            kind: RigidKind::Rigid,
            name: "scene".into(),
            description: String::new(),
            dt: 1e-3,
            steps: 1000,
            frames: default_frames(),
            gravity: default_gravity(),
            ground: Some(GroundSpec::default()),
            contact: ContactSpec::default(),
            allow_initial_overlap: false,
            bodies: Vec::new(),
        }
    }
}

/// The contact material and penalty (see [`crate::contact`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSpec {
    /// Normal stiffness k (N/m).
    pub stiffness: f64,
    /// Normal damping c (N·s/m) (optional, default 0).
    #[serde(default)]
    pub damping: f64,
    /// Coulomb friction coefficient μ (optional, default 0).
    #[serde(default)]
    pub friction: f64,
    /// The penalty function (optional, default softplus of width 1 mm).
    #[serde(default)]
    pub penalty: PenaltySpec,
    /// ε (m/s) of the regularised friction (optional, default 0.01).
    #[serde(default = "default_friction_regularization")]
    pub friction_regularization: f64,
}

fn default_friction_regularization() -> f64 {
    0.01
}

impl Default for ContactSpec {
    fn default() -> Self {
        ContactSpec {
            stiffness: 1e4,
            damping: 0.0,
            friction: 0.5,
            penalty: PenaltySpec::default(),
            friction_regularization: default_friction_regularization(),
        }
    }
}

/// The penalty ψ(d): `"relu"` or `{"softplus": {"width": 0.001}}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PenaltySpec {
    /// ψ(d) = max(d, 0).
    Relu,
    /// ψ(d) = w ln(1 + e^{d/w}).
    Softplus {
        /// Width w (m).
        width: f64,
    },
}

impl Default for PenaltySpec {
    fn default() -> Self {
        PenaltySpec::Softplus { width: 1e-3 }
    }
}

/// A body's shape, in its own frame: `{"circle": {"radius": r}}`,
/// `{"box": {"width": w, "height": h}}` or `{"polygon": {"vertices":
/// [[x, y], ...]}}` (convex, either orientation; re-centred on its
/// centroid, which is where the body's `position` puts it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ShapeSpec {
    /// A disc.
    Circle {
        /// Radius (m).
        radius: f64,
    },
    /// A rectangle, sides along the body's axes.
    Box {
        /// Width (m).
        width: f64,
        /// Height (m).
        height: f64,
    },
    /// A convex polygon.
    Polygon {
        /// Vertices (m).
        vertices: Vec<[f64; 2]>,
    },
}

/// One body: shape, density or mass, initial pose and velocity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodySpec {
    /// The shape.
    pub shape: ShapeSpec,
    /// Areal density (kg/m²); give this or `mass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<f64>,
    /// Mass (kg); give this or `density`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass: Option<f64>,
    /// Initial centre of mass (m).
    pub position: [f64; 2],
    /// Initial angle (rad, counter-clockwise) (optional, default 0).
    #[serde(default)]
    pub angle: f64,
    /// Initial velocity (m/s) (optional, default 0).
    #[serde(default)]
    pub velocity: [f64; 2],
    /// Initial angular velocity (rad/s) (optional, default 0).
    #[serde(default)]
    pub angular_velocity: f64,
    /// Colour in drawings, "#rrggbb" (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

impl BodySpec {
    /// A body of `shape` and areal `density` (kg/m²) at rest at `position`.
    pub fn new(shape: ShapeSpec, density: f64, position: [f64; 2]) -> BodySpec {
        BodySpec {
            shape,
            density: Some(density),
            mass: None,
            position,
            angle: 0.0,
            velocity: [0.0, 0.0],
            angular_velocity: 0.0,
            color: None,
        }
    }
}

impl ShapeSpec {
    /// The shape, or what is wrong with it (naming the field under `field`).
    pub(crate) fn checked(&self, field: &Field) -> Checked<Shape> {
        match self {
            ShapeSpec::Circle { radius } => {
                positive(&field.key("circle").key("radius"), *radius)?;
                Ok(Shape::Circle { radius: *radius })
            }
            ShapeSpec::Box { width, height } => {
                let f = field.key("box");
                positive(&f.key("width"), *width)?;
                positive(&f.key("height"), *height)?;
                Shape::try_rect(*width, *height).map_err(|e| f.invalid(e.to_string()))
            }
            ShapeSpec::Polygon { vertices } => {
                let f = field.key("polygon").key("vertices");
                for (i, v) in vertices.iter().enumerate() {
                    finite_all(&f.index(i), v)?;
                }
                Shape::try_polygon(vertices).map_err(|e| f.invalid(e.to_string()))
            }
        }
    }
}

/// Checks "#rrggbb".
pub(crate) fn check_color(field: &Field, color: &str) -> Checked {
    let hex = color.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(field.invalid(format!(
            "\"{color}\" is not a colour of the form \"#rrggbb\""
        )))
    }
}

impl BodySpec {
    /// The shape and density, or what is wrong (under `field`).
    fn checked(&self, field: &Field) -> Checked<(Shape, f64)> {
        let shape = self.shape.checked(&field.key("shape"))?;
        let density = match (self.density, self.mass) {
            (Some(rho), None) => {
                positive(&field.key("density"), rho)?;
                rho
            }
            (None, Some(m)) => {
                positive(&field.key("mass"), m)?;
                m / unit_mass_properties(&shape).0
            }
            (Some(_), Some(_)) => return Err(field.invalid("give `density` or `mass`, not both")),
            (None, None) => return Err(field.invalid("give the body's `density` or `mass`")),
        };
        finite_all(&field.key("position"), &self.position)?;
        finite(&field.key("angle"), self.angle)?;
        finite_all(&field.key("velocity"), &self.velocity)?;
        finite(&field.key("angular_velocity"), self.angular_velocity)?;
        if let Some(c) = &self.color {
            check_color(&field.key("color"), c)?;
        }
        Ok((shape, density))
    }
}

/// A rigid scene on a tape: its [`World`], initial state and parameters,
/// ready for [`World::rollout`] (see [`RigidScene::build`]).
#[derive(Clone, Debug)]
pub struct RigidModel<'t> {
    /// The world (tape-free).
    pub world: World,
    /// The initial state.
    pub state: RigidState<'t>,
    /// Masses, inertias and material.
    pub params: RigidParams<'t>,
}

impl RigidScene {
    /// Checks every value, naming the first bad field.
    pub(crate) fn validate(&self) -> Checked {
        self.checked_world().map(|_| ())
    }

    fn checked_world(&self) -> Checked<World> {
        let dt = Field::root("dt");
        positive(&dt, self.dt)?;
        at_least_one(&Field::root("steps"), self.steps)?;
        at_least_one(&Field::root("frames"), self.frames)?;
        finite_all(&Field::root("gravity"), &self.gravity)?;
        let mut world = World::try_new(self.dt).map_err(|e| dt.invalid(e.to_string()))?;
        world.gravity = self.gravity;
        if let Some(g) = &self.ground {
            world.set_ground(g.checked(&Field::root("ground"))?);
        }
        let c = Field::root("contact");
        non_negative(&c.key("stiffness"), self.contact.stiffness)?;
        non_negative(&c.key("damping"), self.contact.damping)?;
        non_negative(&c.key("friction"), self.contact.friction)?;
        positive(
            &c.key("friction_regularization"),
            self.contact.friction_regularization,
        )?;
        world.friction_regularization = self.contact.friction_regularization;
        world.penalty = match self.contact.penalty {
            PenaltySpec::Relu => Penalty::Relu,
            PenaltySpec::Softplus { width } => {
                positive(&c.key("penalty").key("softplus").key("width"), width)?;
                Penalty::Softplus { width }
            }
        };
        world.allow_initial_overlap = self.allow_initial_overlap;
        let bodies = Field::root("bodies");
        if self.bodies.is_empty() {
            return Err(bodies.invalid("a rigid scene needs at least one body"));
        }
        for (i, b) in self.bodies.iter().enumerate() {
            let field = bodies.index(i);
            let (shape, density) = b.checked(&field)?;
            world
                .try_add_body(shape, density)
                .map_err(|e| field.invalid(e.to_string()))?;
        }
        Ok(world)
    }

    /// The [`World`] of this scene (bodies added in order), or an
    /// [`Error::Scene`](crate::Error::Scene) naming the first bad field.
    pub fn build_world(&self) -> Result<World> {
        self.checked_world().map_err(Invalid::into_error)
    }

    /// The contact material.
    pub fn material(&self) -> Material {
        Material {
            stiffness: self.contact.stiffness,
            damping: self.contact.damping,
            friction: self.contact.friction,
            restitution: 0.0,
        }
    }

    /// Initial poses (x, y, θ), one per body.
    pub fn initial_pose(&self) -> Vec<[f64; 3]> {
        let row = |b: &BodySpec| [b.position[0], b.position[1], b.angle];
        self.bodies.iter().map(row).collect()
    }

    /// Initial velocities (vx, vy, ω), one per body.
    pub fn initial_velocity(&self) -> Vec<[f64; 3]> {
        let row = |b: &BodySpec| [b.velocity[0], b.velocity[1], b.angular_velocity];
        self.bodies.iter().map(row).collect()
    }

    /// The world, the initial state and the parameters on `tape`, as
    /// constants or as variables to differentiate with respect to.
    /// Errors: [`Error::Scene`](crate::Error::Scene) for a bad value,
    /// [`Error::InitialOverlap`](crate::Error::InitialOverlap) for bodies
    /// that start overlapping.
    ///
    /// ```
    /// use maya::scene::{Leaf, Scene};
    /// use maya::TensorTape;
    /// let json = r#"{"kind": "rigid", "name": "ball", "dt": 0.001, "steps": 300,
    ///   "ground": {"height": 0}, "contact": {"stiffness": 1e4, "damping": 20, "friction": 0.3},
    ///   "bodies": [{"shape": {"circle": {"radius": 0.1}}, "mass": 1, "position": [0, 0.3],
    ///               "velocity": [1, 0]}]}"#;
    /// let Scene::Rigid(scene) = Scene::from_json(json).unwrap() else { unreachable!() };
    /// let t = TensorTape::new();
    /// let m = scene.build(&t, Leaf::Variable).unwrap();
    /// let end = m.world.rollout(&m.state, &m.params, scene.steps).unwrap();
    /// let g = t.grad(end.pose.at(&[0, 0])); // ∂x/∂(initial state, mass, material)
    /// assert!(g.wrt(&m.state.velocity).data[0] > 0.0);
    /// ```
    pub fn build<'t>(&self, tape: &'t TensorTape, leaf: Leaf) -> Result<RigidModel<'t>> {
        let world = self.build_world()?;
        let b = world.len();
        let flat = |rows: Vec<[f64; 3]>| Tensor::from_data(rows.concat(), vec![b, 3]);
        let pose = flat(self.initial_pose());
        world.check_initial_overlap(&pose.data)?;
        let mp = world.mass_properties();
        let mass = Tensor::from_data(mp.iter().map(|m| m.mass).collect(), vec![b]);
        let inertia = Tensor::from_data(mp.iter().map(|m| m.inertia).collect(), vec![b]);
        Ok(RigidModel {
            state: RigidState {
                pose: leaf.on(tape, pose),
                velocity: leaf.on(tape, flat(self.initial_velocity())),
                step: 0,
            },
            params: RigidParams {
                mass: leaf.on(tape, mass),
                inertia: leaf.on(tape, inertia),
                material: leaf.on(tape, self.material().to_tensor()),
                wrench: None,
                kappa: None,
                shapes: None,
            },
            world,
        })
    }

    /// Simulates `steps` steps without gradients, recording `frames`
    /// frames; `on_frame(done, total)` after each.
    pub(crate) fn simulate_with(
        &self,
        on_frame: &mut dyn FnMut(usize, usize),
    ) -> Result<SceneTrajectory> {
        let tape = TensorTape::new();
        let model = self.build(&tape, Leaf::Constant)?;
        let at = super::common::frame_steps(self.steps, self.frames);
        let mut state = model.state;
        let mut frames = vec![self.frame(&state)];
        for (k, w) in at.windows(2).enumerate() {
            state = model.world.rollout(&state, &model.params, w[1] - w[0])?;
            frames.push(self.frame(&state));
            on_frame(k + 1, at.len() - 1);
        }
        Ok(SceneTrajectory {
            name: self.name.clone(),
            kind: "rigid",
            dt: self.dt,
            frames,
            geometry: geometry(&model.world, &self.bodies),
        })
    }

    fn frame(&self, s: &RigidState<'_>) -> Frame {
        let (q, v) = (s.pose.value().data, s.velocity.value().data);
        let pairs = |x: &[f64]| x.chunks(3).map(|r| [r[0], r[1]]).collect();
        let third = |x: &[f64]| x.chunks(3).map(|r| r[2]).collect();
        Frame {
            step: s.step,
            time: s.step as f64 * self.dt,
            positions: pairs(&q),
            velocities: pairs(&v),
            angles: third(&q),
            angular_velocities: third(&v),
        }
    }
}

/// The outlines, colours and ground line of a world.
fn geometry(world: &World, bodies: &[BodySpec]) -> SceneGeometry {
    let outline = |s: &Shape| match s {
        Shape::Circle { radius } => Outline::Circle { radius: *radius },
        Shape::Polygon(p) => Outline::Polygon {
            vertices: p.vertices().to_vec(),
        },
    };
    SceneGeometry {
        bodies: world.shapes().iter().map(outline).collect(),
        colors: bodies.iter().map(|b| b.color.clone()).collect(),
        ground: world.ground().map(|g| GroundLine {
            normal: [g.normal()[0], g.normal()[1]],
            offset: g.offset(),
        }),
        ..SceneGeometry::default()
    }
}
