//! The rigid [`World`] as a [`Model`] of the physics pipeline: its step is
//! the one step kernel with the (m, m, I) mass model, gravity as a local
//! force, and the penalty contact and external wrench as elements. The
//! checks a step needs (shapes, masses, material, the explicit stability
//! bound) run once per step or rollout, here.

use super::body::RigidParams;
use super::world::World;
use crate::contact::complementarity::ComplementarityStep;
use crate::contact::{ContactModel, PenaltyContact};
use crate::error::{Error, Result};
use crate::physics::{
    check_masses, BuiltinForces, DynElement, Explicit, MassModel, Model, NodalLoad,
    SemiImplicitEuler, StepSpec, Stepper,
};
use crate::tape::TVar;
use crate::tensor::Tensor;
use std::sync::Arc;

/// An [`Error::Shape`] naming what a rigid-step input must be.
fn shape_error(x: &Tensor, want: Vec<usize>, hint: &'static str) -> Error {
    Error::Shape {
        op: "rigid step",
        lhs: x.shape.clone(),
        rhs: want,
        hint,
    }
}

impl World {
    /// Checks everything a rollout of this world with `params` needs,
    /// numbering errors from `step`.
    pub(crate) fn check(&self, params: &RigidParams<'_>, step: usize) -> Result<()> {
        super::world::check_dt(self.dt)?;
        self.penalty.validate()?;
        let eps = self.friction_regularization;
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(Error::Parameter {
                name: "friction_regularization",
                value: eps,
                reason: "must be positive and finite (m/s)",
            });
        }
        let b = self.len();
        let (m, i, mat) = (
            params.mass.value(),
            params.inertia.value(),
            params.material.value(),
        );
        if m.shape != [b] {
            return Err(shape_error(&m, vec![b], "rigid step: mass must be [B]"));
        }
        if i.shape != [b] {
            return Err(shape_error(&i, vec![b], "rigid step: inertia must be [B]"));
        }
        if mat.shape != [4] {
            return Err(shape_error(
                &mat,
                vec![4],
                "rigid step: material must be [4] = (stiffness, damping, friction, restitution)",
            ));
        }
        check_masses("mass", &m)?;
        check_masses("inertia", &i)?;
        for (name, &v) in ["stiffness", "damping", "friction"].iter().zip(&mat.data) {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::Parameter {
                    name,
                    value: v,
                    reason:
                        "contact stiffness, damping and friction must be non-negative and finite",
                });
            }
        }
        let restitution = mat.data[3];
        if !(0.0..=1.0).contains(&restitution) {
            return Err(Error::Parameter {
                name: "restitution",
                value: restitution,
                reason: "the coefficient of restitution must lie in [0, 1]",
            });
        }
        if restitution != 0.0 && self.contact_model == ContactModel::Penalty {
            return Err(Error::Parameter {
                name: "restitution",
                value: restitution,
                reason: "penalty contact takes its bounce from the damping \
                         (see contact::damping_for_restitution); restitution needs \
                         ContactModel::Complementarity",
            });
        }
        if let Some(w) = params.wrench {
            let w = w.value();
            if w.shape != [b, 3] {
                return Err(shape_error(
                    &w,
                    vec![b, 3],
                    "rigid step: wrench must be [B, 3]",
                ));
            }
            if let Some(k) = w.data.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    what: format!("wrench on body {}", k / 3),
                    step,
                });
            }
        }
        self.check_contact_inputs(params)?;
        if let ContactModel::Complementarity(options) = self.contact_model {
            // Implicit in the contact impulses: no explicit stability bound.
            return options.validate();
        }
        let (k, c) = (mat.data[0], mat.data[1]);
        let (stiffness_bound, mass) = self.stable_time_step(k, &m.data, &i.data);
        if !mass.is_finite() {
            return Ok(()); // no contact can occur
        }
        // Semi-implicit Euler on m ẍ = −k x − c ẋ is stable iff
        // dt²k/m + 2dt·c/m < 4 (and dt·c/m < 2): dt < (√(c² + 4km) − c)/k.
        let bound = if k > 0.0 {
            ((c * c + 4.0 * k * mass).sqrt() - c) / k
        } else if c > 0.0 {
            2.0 * mass / c
        } else {
            f64::INFINITY
        };
        if self.dt >= bound {
            return Err(Error::TimeStep {
                dt: self.dt,
                bound,
                stiffness_bound,
                stiffness: k,
                damping: c,
                mass,
            });
        }
        Ok(())
    }

    /// Checks κ and the shape parameters when they are inputs: only
    /// complementarity contact reads them, κ is `[1]` and positive, the
    /// shapes `[P]` with P = [`World::shape_parameters`]'s length.
    fn check_contact_inputs(&self, params: &RigidParams<'_>) -> Result<()> {
        let complementarity = matches!(self.contact_model, ContactModel::Complementarity(_));
        for (name, given) in [("kappa", params.kappa), ("shapes", params.shapes)] {
            if given.is_some() && !complementarity {
                return Err(Error::Parameter {
                    name,
                    value: f64::NAN,
                    reason: "κ and shape parameters as inputs are read by \
                             ContactModel::Complementarity only; penalty contact reads neither",
                });
            }
        }
        if let Some(kappa) = params.kappa {
            let k = kappa.value();
            if k.shape != [1] {
                return Err(shape_error(
                    &k,
                    vec![1],
                    "rigid step: kappa must be [1] (J)",
                ));
            }
            if !(k.data[0] > 0.0 && k.data[0].is_finite()) {
                return Err(Error::Parameter {
                    name: "kappa",
                    value: k.data[0],
                    reason: "complementarity contact needs a positive, finite κ (J)",
                });
            }
        }
        if let Some(shapes) = params.shapes {
            let s = shapes.value();
            let p = self.shape_offsets()[self.len()];
            if s.shape != [p] {
                return Err(shape_error(
                    &s,
                    vec![p],
                    "rigid step: shapes must be [P], the length of World::shape_parameters",
                ));
            }
        }
        Ok(())
    }

    /// The penalty contact element of this world.
    pub(crate) fn contact_element(&self) -> PenaltyContact {
        PenaltyContact {
            shapes: Arc::clone(&self.shapes),
            ground: self.ground().copied(),
            penalty: self.penalty,
            eps: self.friction_regularization,
            dt: self.dt,
        }
    }
}

impl<'t> Model<'t> for World {
    type Params = RigidParams<'t>;

    fn stepper(&self, params: &RigidParams<'t>) -> Result<(Arc<dyn Stepper>, Vec<TVar<'t>>)> {
        self.check(params, 0)?;
        Ok(self.unchecked_stepper(params))
    }
}

impl World {
    /// The step function and its inputs after the state, without the
    /// checks of [`World::check`] (for tests that step past the stability
    /// bound on purpose).
    pub(crate) fn unchecked_stepper<'t>(
        &self,
        params: &RigidParams<'t>,
    ) -> (Arc<dyn Stepper>, Vec<TVar<'t>>) {
        let tape = params.mass.tape();
        let gravity = tape.constant(Tensor::from_data(self.gravity.to_vec(), vec![2]));
        if let ContactModel::Complementarity(options) = self.contact_model {
            let kappa = params
                .kappa
                .unwrap_or_else(|| tape.constant(Tensor::from_data(vec![options.kappa], vec![1])));
            let contact = match params.shapes {
                Some(shapes) => tape.concat(&[kappa, shapes], 0),
                None => kappa,
            };
            let step = ComplementarityStep {
                shapes: Arc::clone(&self.shapes),
                ground: self.ground().copied(),
                options,
                dt: self.dt,
                step: 0,
                shape_offsets: params.shapes.map(|_| Arc::new(self.shape_offsets())),
                warm: Default::default(),
            };
            let mut rest = vec![
                params.mass,
                params.inertia,
                gravity,
                params.material,
                contact,
            ];
            rest.extend(params.wrench);
            return (Arc::new(step), rest);
        }
        let mut elements: Vec<(Arc<dyn DynElement>, usize)> =
            vec![(Arc::new(self.contact_element()), 1)];
        let mut rest = vec![params.mass, params.inertia, gravity, params.material];
        if let Some(w) = params.wrench {
            elements.push((Arc::new(NodalLoad::rigid()), 1));
            rest.push(w);
        }
        let spec = StepSpec {
            model: MassModel::Rigid,
            local: BuiltinForces {
                gravity: true,
                ..BuiltinForces::default()
            },
            elements,
            dt: self.dt,
            inv_mass: None,
            check_masses: false,
            fixed: None,
        };
        (Arc::new(Explicit::<_, SemiImplicitEuler>::new(spec)), rest)
    }
}
