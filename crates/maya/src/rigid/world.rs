//! [`World`]: the bodies, ground, gravity, time step and contact model of a
//! rigid-body simulation, and the API that records its steps on a tape.

use super::body::{Material, RigidParams, RigidState};
use crate::contact::{ContactModel, ContactPoint, Ground, Penalty};
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::geometry::{shape_offsets, Shape};
use crate::geometry::{try_mass_properties, unit_mass_properties, MassProperties};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;
use std::sync::Arc;

/// A 2D rigid-body world: shapes (one body each), an optional ground,
/// gravity, the time step and the contact model.
///
/// ```
/// use maya::rigid::{Material, Shape, World};
/// use maya::contact::Ground;
/// use maya::TensorTape;
///
/// let mut world = World::new(1e-3);
/// world.set_ground(Ground::horizontal(0.0));
/// let b = world.add_body(Shape::rect(0.4, 0.2), 50.0); // 4 kg
/// assert_eq!(b, 0);
/// let t = TensorTape::new();
/// let s0 = world.state(&t, &[[0.0, 0.1, 0.0]], &[[0.0; 3]]);
/// let params = world.params(&t, Material { stiffness: 1e5, damping: 600.0, friction: 0.5, restitution: 0.0 });
/// let s1 = world.step(&s0, &params);
/// assert_eq!(s1.step, 1);
/// ```
#[derive(Clone, Debug)]
pub struct World {
    pub(crate) shapes: Arc<Vec<Shape>>,
    mass: Vec<MassProperties>,
    ground: Option<Ground>,
    /// Gravity (m/s²). Default (0, −9.81).
    pub gravity: [f64; 2],
    /// Time step (s), > 0.
    pub dt: f64,
    /// The penalty function. Default [`Penalty::Softplus`] with a width of
    /// 1 mm: its gradients are right at every phase of a contact's start
    /// within a step (error 2e-5 on a collision gradient of 0.75 at
    /// k = 1e4, dt = 1 ms), where [`Penalty::Relu`]'s are those of a
    /// discrete map with steep pieces (errors of 0.05, 0.7 and 11 at
    /// k = 1e3, 1e4, 1e5; see [`crate::contact`]). The price: a force of
    /// k·w·ln 2 at zero depth, so a body of weight mg < k·w·ln 2 rests a
    /// fraction of a millimetre above the surface. Choose
    /// [`Penalty::Relu`] for exact contact where no gradient is taken, or
    /// set a width well below the lengths that matter for much smaller
    /// bodies.
    pub penalty: Penalty,
    /// Whether an initial state may start with bodies overlapping (deeper
    /// than [`World::overlap_tolerance`]). Default `false`: such a state is
    /// [`Error::InitialOverlap`], since penalty contact would push the
    /// bodies apart with a force of k·depth.
    pub allow_initial_overlap: bool,
    /// The initial overlap accepted, as a fraction of the smaller bounding
    /// radius of the two bodies (of the body, at the ground). Default
    /// 0.05: a body resting at its equilibrium depth mg/k is far below it.
    pub overlap_tolerance: f64,
    /// ε (m/s) of the regularised friction v/√(v² + ε²). Default 0.01 m/s:
    /// a body held by static friction creeps at about ε·r/√(1 − r²),
    /// r = tan α/μ (under 1 cm/s below the friction angle). Each contact
    /// raises it as far as explicit stability needs (see
    /// [`crate::contact`]'s friction law), so a small ε is safe.
    pub friction_regularization: f64,
    /// The contact model: [`ContactModel::Penalty`] (the default, with
    /// [`World::penalty`] and the material's stiffness and damping) or
    /// [`ContactModel::Complementarity`] (of the material only the friction
    /// acts; stiffness and damping are still checked to be non-negative
    /// and finite; see [`crate::contact::complementarity`]).
    pub contact_model: ContactModel,
}

impl World {
    /// An empty world with time step `dt` (s). Panics on a non-positive
    /// `dt`; see [`World::try_new`].
    #[track_caller]
    pub fn new(dt: f64) -> World {
        Self::try_new(dt).or_panic()
    }

    /// [`World::new`], returning an error for a bad `dt`.
    pub fn try_new(dt: f64) -> Result<World> {
        check_dt(dt)?;
        Ok(World {
            shapes: Arc::new(Vec::new()),
            mass: Vec::new(),
            ground: None,
            gravity: [0.0, -9.81],
            dt,
            penalty: Penalty::Softplus { width: 1e-3 },
            friction_regularization: 0.01,
            allow_initial_overlap: false,
            overlap_tolerance: 0.05,
            contact_model: ContactModel::Penalty,
        })
    }

    /// This world with contact model `model`.
    ///
    /// ```
    /// use maya::contact::{ComplementarityOptions, ContactModel};
    /// use maya::rigid::World;
    /// let w = World::new(1e-2).with_contact(ContactModel::Complementarity(
    ///     ComplementarityOptions::simulation(),
    /// ));
    /// assert_ne!(w.contact_model, ContactModel::Penalty);
    /// ```
    pub fn with_contact(mut self, model: ContactModel) -> World {
        self.contact_model = model;
        self
    }

    /// Adds a body of `shape` at areal `density` (kg/m²) and returns its
    /// index (its row in the state). Panics on a bad density; see
    /// [`World::try_add_body`].
    #[track_caller]
    pub fn add_body(&mut self, shape: Shape, density: f64) -> usize {
        self.try_add_body(shape, density).or_panic()
    }

    /// [`World::add_body`], returning an error for a density that is not
    /// positive and finite.
    pub fn try_add_body(&mut self, shape: Shape, density: f64) -> Result<usize> {
        let m = try_mass_properties(&shape, density)?;
        Arc::make_mut(&mut self.shapes).push(shape);
        self.mass.push(m);
        Ok(self.mass.len() - 1)
    }

    /// Sets the ground half-plane.
    pub fn set_ground(&mut self, ground: Ground) {
        self.ground = Some(ground);
    }

    /// The ground, if any.
    pub fn ground(&self) -> Option<&Ground> {
        self.ground.as_ref()
    }

    /// Number of bodies B.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether the world has no body.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// The bodies' shapes.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// The bodies' mass properties (from shape and density).
    pub fn mass_properties(&self) -> &[MassProperties] {
        &self.mass
    }

    /// Parameters as differentiable inputs: the bodies' masses and
    /// inertias (from their shapes and densities) and `material`.
    pub fn params<'t>(&self, tape: &'t TensorTape, material: Material) -> RigidParams<'t> {
        let b = self.len();
        RigidParams {
            mass: tape.var(Tensor::from_data(
                self.mass.iter().map(|m| m.mass).collect(),
                vec![b],
            )),
            inertia: tape.var(Tensor::from_data(
                self.mass.iter().map(|m| m.inertia).collect(),
                vec![b],
            )),
            material: tape.var(material.to_tensor()),
            wrench: None,
            kappa: None,
            shapes: None,
        }
    }

    /// Every body's [`Shape::parameters`] in turn, `[P]`: the values
    /// [`RigidParams::shapes`] takes as a differentiable input.
    ///
    /// ```
    /// use maya::rigid::{Shape, World};
    /// let mut w = World::new(1e-2);
    /// w.add_body(Shape::circle(0.1), 1.0);
    /// w.add_body(Shape::rect(0.2, 0.2), 1.0);
    /// let p = w.shape_parameters();
    /// assert_eq!(p.shape, vec![9]);
    /// assert_eq!(p.data[0], 0.1);
    /// ```
    pub fn shape_parameters(&self) -> Tensor {
        let data: Vec<f64> = self.shapes.iter().flat_map(Shape::parameters).collect();
        let n = data.len();
        Tensor::from_data(data, vec![n])
    }

    /// Where each body's parameters start in [`World::shape_parameters`]
    /// (B + 1 entries, the last the total).
    pub(crate) fn shape_offsets(&self) -> Vec<usize> {
        shape_offsets(&self.shapes)
    }

    /// Masses and inertias `[B]` as differentiable functions of per-body
    /// densities `density` `[B]` (kg/m²): m = ρA, I = ρJ.
    ///
    /// ```
    /// use maya::rigid::{Shape, World};
    /// use maya::{Tensor, TensorTape};
    /// let mut w = World::new(1e-3);
    /// w.add_body(Shape::rect(1.0, 2.0), 1.0);
    /// let t = TensorTape::new();
    /// let rho = t.var(Tensor::from_data(vec![3.0], vec![1]));
    /// let (m, i) = w.mass_from_density(&rho);
    /// assert_eq!(m.item(), 6.0);
    /// assert!((i.item() - 6.0 * 5.0 / 12.0).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn mass_from_density<'t>(&self, density: &TVar<'t>) -> (TVar<'t>, TVar<'t>) {
        self.try_mass_from_density(density).or_panic()
    }

    /// [`World::mass_from_density`], returning [`Error::BodyCount`] when
    /// `density` is not `[B]`.
    pub fn try_mass_from_density<'t>(&self, density: &TVar<'t>) -> Result<(TVar<'t>, TVar<'t>)> {
        let b = self.len();
        let shape = density.shape();
        if shape.len() != 1 || shape[0] != b {
            return Err(Error::BodyCount {
                op: "World::mass_from_density",
                what: "density (a [B] tensor)",
                bodies: b,
                got: shape.first().copied().unwrap_or(0),
            });
        }
        let (a, j): (Vec<f64>, Vec<f64>) = self.shapes.iter().map(unit_mass_properties).unzip();
        let t = density.tape();
        let m = density.try_mul(&t.constant(Tensor::from_data(a, vec![b])))?;
        let i = density.try_mul(&t.constant(Tensor::from_data(j, vec![b])))?;
        Ok((m, i))
    }

    /// The largest stable time step for contact stiffness `stiffness`
    /// (N/m) and the given masses and inertias: 2/√(k/m), with m the
    /// smallest effective mass a contact can see (returned second).
    ///
    /// A body's effective mass at a contact point r from its centre is
    /// 1/(1/m + |r|²/I) (polygons, taking |r| as the bounding radius) or m
    /// (circles, whose normal forces pass through the centre); two bodies
    /// in contact add their inverse effective masses. The bound is that of
    /// one undamped contact; with damping c a step also needs
    /// dt < (√(c² + 4km) − c)/k, which [`World::try_step`] checks. Several
    /// contacts on one body and accuracy call for dt well below it (a
    /// quarter is a good start).
    pub fn stable_time_step(&self, stiffness: f64, mass: &[f64], inertia: &[f64]) -> (f64, f64) {
        let mut inv: Vec<f64> = self
            .shapes
            .iter()
            .zip(mass.iter().zip(inertia))
            .map(|(s, (&m, &i))| match s {
                Shape::Circle { .. } => 1.0 / m,
                Shape::Polygon(_) => 1.0 / m + s.bounding_radius().powi(2) / i,
            })
            .collect();
        inv.sort_by(|a, b| b.total_cmp(a));
        let mut worst: f64 = 0.0;
        if self.ground.is_some() && !inv.is_empty() {
            worst = inv[0];
        }
        if inv.len() >= 2 {
            worst = worst.max(inv[0] + inv[1]);
        }
        if worst == 0.0 || stiffness <= 0.0 {
            return (f64::INFINITY, f64::INFINITY);
        }
        let m = 1.0 / worst;
        (2.0 / (stiffness / m).sqrt(), m)
    }

    /// Every contact in the poses `pose` ([B, 3], row-major), with its
    /// point, normal and depth, as the step will see it (contacts closer
    /// than the penalty's margin included).
    ///
    /// ```
    /// use maya::rigid::{Shape, World};
    /// use maya::contact::{Feature, Ground};
    /// let mut w = World::new(1e-3);
    /// w.set_ground(Ground::horizontal(0.0));
    /// w.add_body(Shape::circle(0.5), 1.0);
    /// let c = w.contacts(&[0.0, 0.49, 0.0]);
    /// assert_eq!(c[0].feature, Feature::GroundCircle);
    /// assert!((c[0].depth - 0.01).abs() < 1e-12);
    /// ```
    pub fn contacts(&self, pose: &[f64]) -> Vec<ContactPoint> {
        let element = self.contact_element();
        let mut contacts = Vec::new();
        element.detect(pose, &mut contacts);
        contacts
            .iter()
            .map(|c| {
                let (g, _, _) = element.geometry(c, pose);
                ContactPoint {
                    body: c.a as usize,
                    other: (!c.with_ground()).then_some(c.b as usize),
                    feature: c.feature,
                    point: g.p,
                    normal: g.n,
                    depth: g.d,
                }
            })
            .collect()
    }

    /// Records one step: finds contacts, applies contact, gravity and
    /// external forces and takes a semi-implicit Euler step. One fused node
    /// on the tape.
    ///
    /// Panics on a data error; see [`World::try_step`].
    #[track_caller]
    pub fn step<'t>(&self, state: &RigidState<'t>, params: &RigidParams<'t>) -> RigidState<'t> {
        self.try_step(state, params).or_panic()
    }

    /// [`World::step`], returning an error for: wrong shapes
    /// ([`Error::Shape`]); a non-finite pose or velocity before or after the
    /// step ([`Error::NonFinite`], naming the body and the step of the
    /// state); a mass, inertia or material that is negative, zero (masses)
    /// or not finite ([`Error::Parameter`]); a `dt` above the stable bound
    /// of [`World::stable_time_step`] ([`Error::TimeStep`]).
    pub fn try_step<'t>(
        &self,
        state: &RigidState<'t>,
        params: &RigidParams<'t>,
    ) -> Result<RigidState<'t>> {
        self.rollout(state, params, 1)
    }

    /// `steps` steps from `state` through the one
    /// [`rollout`](crate::physics::rollout), keeping the last state;
    /// returns the first error of [`World::try_step`], with the step of the
    /// state it concerns (counted from `state.step`), and
    /// [`Error::InitialOverlap`] when `state` is an initial state (step 0)
    /// with overlapping bodies (see [`World::check_initial_overlap`]).
    pub fn rollout<'t>(
        &self,
        state: &RigidState<'t>,
        params: &RigidParams<'t>,
        steps: usize,
    ) -> Result<RigidState<'t>> {
        self.check(params, state.step)?;
        if state.step == 0 {
            self.check_initial_overlap(&state.pose.value().data)?;
        }
        let traj = crate::physics::rollout_from(
            self,
            (state.pose, state.velocity),
            state.step,
            params,
            steps,
            crate::physics::Record::Last,
        )?;
        let (pose, velocity) = traj.last();
        Ok(RigidState {
            pose,
            velocity,
            step: state.step + steps,
        })
    }
}

pub(crate) fn check_dt(dt: f64) -> Result<()> {
    if dt > 0.0 && dt.is_finite() {
        Ok(())
    } else {
        Err(Error::Parameter {
            name: "dt",
            value: dt,
            reason: "the time step must be positive and finite",
        })
    }
}
