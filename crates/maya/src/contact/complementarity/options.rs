//! The contact model a rigid [`World`](crate::rigid::World) steps with, and
//! the options of the complementarity model.

use crate::error::{Error, Result};

/// Which contact model a [`World`](crate::rigid::World) uses.
///
/// ```
/// use maya::contact::{ComplementarityOptions, ContactModel};
/// use maya::rigid::World;
/// let world = World::new(1e-3).with_contact(ContactModel::Complementarity(
///     ComplementarityOptions::gradients(),
/// ));
/// assert!(matches!(world.contact_model, ContactModel::Complementarity(_)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum ContactModel {
    /// Penalty springs with damping and regularised friction, stepped by
    /// semi-implicit Euler (the default; see [`crate::contact`]).
    #[default]
    Penalty,
    /// Velocity-level complementarity relaxed to its central point
    /// λ·s = κ, solved by an interior point method each step (see
    /// [`crate::contact::complementarity`]).
    Complementarity(ComplementarityOptions),
}

/// Options of the complementarity contact model.
///
/// κ (`kappa`, in joules) is the central-path product λ·s of an impulse
/// (N·s) and a slack (m/s). A body of mass m resting under gravity g on one
/// contact floats at the gap κ/(m g) above the surface (k κ/(m g) on k
/// contacts sharing its weight), to a relative κ/(m g² h²) at step h;
/// separating surfaces closer than `activation_distance` d̂ still feel a
/// force κ_i/s, with κ_i = κ·(1 − φ/d̂)³ tapered to zero at d̂. Small κ is
/// close to hard contact (gradients of a piecewise-smooth map); larger κ
/// smooths the map (gradients that see a contact before it happens).
/// Friction feels κ too: each friction pair keeps an impulse of about
/// κ/u at a sliding speed u, so keep κ well below μ λₙ u (a 1 kg box on
/// the ground at h = 10 ms has λₙ ≈ 0.05 N·s per corner: at κ = 1e-3 J
/// it slides a third too far, at 1e-6 J no further than at 1e-10 J —
/// measured by `maya demo contact-models`).
///
/// ```
/// use maya::contact::ComplementarityOptions;
/// let sim = ComplementarityOptions::simulation();
/// let grad = ComplementarityOptions::gradients();
/// assert!(sim.kappa < grad.kappa);
/// // A 1 kg body under 9.81 m/s² rests κ/(m g) above the ground.
/// assert!(sim.kappa / 9.81 < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComplementarityOptions {
    /// κ (J), > 0: the central-path target λ·s of each contact at zero gap.
    pub kappa: f64,
    /// d̂ (m), > 0: contacts with a gap φ < d̂ enter the problem, with
    /// κ_i = κ·(1 − φ/d̂)³. It must exceed the travel of a body per step,
    /// or a contact can enter already closing faster than d̂/h.
    pub activation_distance: f64,
    /// The interior point method's iteration cap; past it the step is
    /// [`Error::NotConverged`].
    pub max_iter: usize,
    /// Relative tolerance of the residuals at the central point.
    pub tol: f64,
    /// Start each step's solve from the previous step's impulses (matched
    /// by contact features) instead of cold. Measured on the 100-box pile
    /// (`maya bench --workload R1c`): 17.6 interior point iterations per
    /// step against 19.6, 10% fewer. Off by default: a step then depends on
    /// the one before below `tol`, so finite differences of a rollout see
    /// the tolerance as noise (lower `tol` to gradcheck it), and a
    /// checkpointed rollout, whose replay must repeat the forward pass bit
    /// for bit, refuses it. A warm solve that fails is retried cold.
    pub warm_start: bool,
}

impl ComplementarityOptions {
    /// Near-hard contact for simulation: κ = 1e-8 J (a 1 kg body rests
    /// 1e-9 m above the ground), d̂ = 1 cm.
    pub fn simulation() -> ComplementarityOptions {
        ComplementarityOptions {
            kappa: 1e-8,
            activation_distance: 1e-2,
            max_iter: 100,
            tol: 1e-10,
            warm_start: false,
        }
    }

    /// Smoother contact for gradients: κ = 1e-5 J (a 1 kg body rests
    /// 1 µm above the ground), d̂ = 1 cm.
    pub fn gradients() -> ComplementarityOptions {
        ComplementarityOptions {
            kappa: 1e-5,
            ..ComplementarityOptions::simulation()
        }
    }

    /// [`Error::Parameter`] for a value out of range.
    pub(crate) fn validate(&self) -> Result<()> {
        let positive = |name: &'static str, value: f64| {
            if value > 0.0 && value.is_finite() {
                Ok(())
            } else {
                Err(Error::Parameter {
                    name,
                    value,
                    reason: "complementarity contact needs a positive, finite value",
                })
            }
        };
        positive("kappa", self.kappa)?;
        positive("activation_distance", self.activation_distance)?;
        positive("tol", self.tol)?;
        if self.max_iter == 0 {
            return Err(Error::Parameter {
                name: "max_iter",
                value: 0.0,
                reason: "the interior point method needs at least one iteration",
            });
        }
        Ok(())
    }
}

impl Default for ComplementarityOptions {
    fn default() -> ComplementarityOptions {
        ComplementarityOptions::simulation()
    }
}
