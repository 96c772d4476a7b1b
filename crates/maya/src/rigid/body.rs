//! The state of a system of rigid bodies on a tape, and its differentiable
//! parameters.

use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::TVar;
use crate::tensor::Tensor;

/// The state of B bodies on a tape: poses and velocities, one row per body.
#[derive(Clone, Copy, Debug)]
pub struct RigidState<'t> {
    /// `[B, 3]`: x, y (m) of the centre of mass and angle θ (rad).
    pub pose: TVar<'t>,
    /// `[B, 3]`: vx, vy (m/s) and angular velocity ω (rad/s).
    pub velocity: TVar<'t>,
    /// Steps taken since the initial state (named in errors).
    pub step: usize,
}

/// Contact material shared by every contact.
///
/// Defaults: none; a good start for bodies of ~1 kg and ~0.1–1 m is
/// k = 1e4–1e5 N/m (sinking mg/k ≈ 1 mm), c from
/// [`damping_for_restitution`](crate::contact::damping_for_restitution),
/// μ = 0.5.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Material {
    /// Normal stiffness k (N/m).
    pub stiffness: f64,
    /// Normal damping c (N·s/m).
    pub damping: f64,
    /// Coulomb friction coefficient μ.
    pub friction: f64,
    /// Coefficient of restitution e ∈ [0, 1]: the ratio of separating to
    /// approaching normal speed at an impact. Only
    /// [`ContactModel::Complementarity`](crate::contact::ContactModel)
    /// applies it; under penalty contact the bounce comes from the damping
    /// (see [`damping_for_restitution`](crate::contact::damping_for_restitution))
    /// and a non-zero e is an [`Error::Parameter`].
    pub restitution: f64,
}

impl Material {
    /// The material as the tensor [k, c, μ, e] that
    /// [`RigidParams::material`] holds.
    pub fn to_tensor(&self) -> Tensor {
        Tensor::from_data(
            vec![
                self.stiffness,
                self.damping,
                self.friction,
                self.restitution,
            ],
            vec![4],
        )
    }
}

/// The differentiable parameters of a step.
#[derive(Clone, Copy, Debug)]
pub struct RigidParams<'t> {
    /// `[B]` masses (kg).
    pub mass: TVar<'t>,
    /// `[B]` moments of inertia about the centres of mass (kg·m²).
    pub inertia: TVar<'t>,
    /// `[4]` contact material: stiffness k (N/m), damping c (N·s/m),
    /// friction μ, restitution e.
    pub material: TVar<'t>,
    /// `[B, 3]` external force (fx, fy in N) and torque (N·m) on each body,
    /// held over the step; `None` for none. See [`wrench_at_points`].
    pub wrench: Option<TVar<'t>>,
    /// `[1]` κ (J) of complementarity contact as a differentiable input, in
    /// place of [`ComplementarityOptions::kappa`](crate::contact::ComplementarityOptions::kappa);
    /// `None` for the option's value. Penalty contact refuses it.
    pub kappa: Option<TVar<'t>>,
    /// `[P]` the bodies' shape parameters as one differentiable input: each
    /// body's [`Shape::parameters`](crate::rigid::Shape::parameters) in
    /// turn (a circle's radius, a polygon's body-frame vertices), as
    /// [`World::shape_parameters`](crate::rigid::World::shape_parameters)
    /// lists them. Complementarity contact's geometry reads these in place
    /// of the world's shapes; masses and inertias stay those of `mass` and
    /// `inertia`. `None` for the world's shapes. Penalty contact refuses it.
    pub shapes: Option<TVar<'t>>,
}

impl<'t> RigidParams<'t> {
    /// These parameters with κ (`[1]`, J) as a differentiable input.
    ///
    /// ```
    /// use maya::contact::{ComplementarityOptions, ContactModel};
    /// use maya::rigid::{Material, Shape, World};
    /// use maya::{Tensor, TensorTape};
    /// let mut w = World::new(1e-2)
    ///     .with_contact(ContactModel::Complementarity(ComplementarityOptions::gradients()));
    /// w.add_body(Shape::circle(0.1), 1.0);
    /// let t = TensorTape::new();
    /// let kappa = t.var(Tensor::from_data(vec![1e-4], vec![1]));
    /// let p = w.params(&t, Material { stiffness: 0.0, damping: 0.0, friction: 0.5, restitution: 0.0 }).with_kappa(kappa);
    /// assert!(p.kappa.is_some());
    /// ```
    pub fn with_kappa(self, kappa: TVar<'t>) -> RigidParams<'t> {
        RigidParams {
            kappa: Some(kappa),
            ..self
        }
    }

    /// These parameters with the shapes' parameters (`[P]`, see
    /// [`World::shape_parameters`](crate::rigid::World::shape_parameters))
    /// as a differentiable input.
    ///
    /// ```
    /// use maya::rigid::{Material, Shape, World};
    /// use maya::TensorTape;
    /// let mut w = World::new(1e-2);
    /// w.add_body(Shape::circle(0.1), 1.0);
    /// let t = TensorTape::new();
    /// let radii = t.var(w.shape_parameters());
    /// let p = w.params(&t, Material { stiffness: 0.0, damping: 0.0, friction: 0.5, restitution: 0.0 }).with_shapes(radii);
    /// assert!(p.shapes.is_some());
    /// ```
    pub fn with_shapes(self, shapes: TVar<'t>) -> RigidParams<'t> {
        RigidParams {
            shapes: Some(shapes),
            ..self
        }
    }
}

/// The wrench (fx, fy, τ) `[B, 3]` of world-frame forces `force` `[B, 2]` (N)
/// applied at body-frame points `points` `[B, 2]` (m): τ = (R(θ)·r) × f.
/// Differentiable in the pose and the forces.
///
/// Panics on mismatched shapes; see [`try_wrench_at_points`].
///
/// ```
/// use maya::rigid::wrench_at_points;
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let pose = t.var(Tensor::from_data(vec![0.0, 0.0, std::f64::consts::FRAC_PI_2], vec![1, 3]));
/// let f = t.var(Tensor::from_data(vec![0.0, 2.0], vec![1, 2]));
/// // The body-frame point (1, 0) is at (0, 1) once turned by 90°: τ = 0·2 − 1·0.
/// let w = wrench_at_points(&pose, &Tensor::from_data(vec![1.0, 0.0], vec![1, 2]), &f);
/// assert!(w.value().max_abs_diff(&Tensor::from_data(vec![0.0, 2.0, 0.0], vec![1, 3])) < 1e-15);
/// ```
#[track_caller]
pub fn wrench_at_points<'t>(pose: &TVar<'t>, points: &Tensor, force: &TVar<'t>) -> TVar<'t> {
    try_wrench_at_points(pose, points, force).or_panic()
}

/// [`wrench_at_points`], returning an error for mismatched shapes.
pub fn try_wrench_at_points<'t>(
    pose: &TVar<'t>,
    points: &Tensor,
    force: &TVar<'t>,
) -> Result<TVar<'t>> {
    let (ps, fs) = (pose.shape(), force.shape());
    let b = ps.first().copied().unwrap_or(0);
    if ps != [b, 3] || points.shape != [b, 2] || fs != [b, 2] {
        return Err(Error::Shape {
            op: "wrench_at_points",
            lhs: ps,
            rhs: points.shape.clone(),
            hint: "pose must be [B, 3], points and force [B, 2]",
        });
    }
    let t = pose.tape();
    let theta = pose.try_slice(1, 2..3)?;
    let (c, s) = (theta.cos(), theta.sin());
    let px = t.constant(Tensor::from_data(
        points.data.iter().step_by(2).copied().collect(),
        vec![b, 1],
    ));
    let py = t.constant(Tensor::from_data(
        points.data.iter().skip(1).step_by(2).copied().collect(),
        vec![b, 1],
    ));
    let rx = c.try_mul(&px)?.try_sub(&s.try_mul(&py)?)?;
    let ry = s.try_mul(&px)?.try_add(&c.try_mul(&py)?)?;
    let (fx, fy) = (force.try_slice(1, 0..1)?, force.try_slice(1, 1..2)?);
    let torque = rx.try_mul(&fy)?.try_sub(&ry.try_mul(&fx)?)?;
    t.try_concat(&[fx, fy, torque], 1)
}
