//! Particle systems: state `[N, D]` (or `[B, N, D]` for B environments),
//! masses, and composable [forces](super::forces), advanced by one fused
//! kernel per step (see `particle_step.rs` for the kernel and its adjoint).

use super::forces::{Drag, Force, Gravity, Ground};
use super::fused::Builtin;
use super::integrators::check_dt;
use super::particle_step::{check_masses, Integrator, ParticleStep, StepSpec};
use super::springs::SpringNetwork;
use crate::error::Result;
use crate::tape::TVar;
use std::sync::Arc;

/// A system of particles: masses, forces with their parameters (tape
/// values), a time step and an integrator. Each [`step`](Self::step) is one
/// fused tape node; gradients reach the state, the masses and every
/// parameter.
///
/// Positions and velocities are `[N, D]` tensors (D = 2 or 3), or
/// `[B, N, D]` for B independent environments in one call; masses are `[N]`
/// (shared) or `[B, N]`; each force parameter has its own shape or a leading
/// `[B]`.
///
/// ```
/// use maya::dynamics::{Ground, ParticleSystem};
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let c = t.scalar(0.1); // drag
/// let k = t.scalar(1e4); // contact stiffness
/// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[2])), 1e-3)
///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
///     .with_drag(c)
///     .with_ground(Ground::floor(3), k);
/// let p0 = t.constant(Tensor::from_data(vec![0.0, 0.0, 0.5, 1.0, 0.0, 0.2], vec![2, 3]));
/// let v0 = t.var(Tensor::zeros(&[2, 3]));
/// let (p, _v) = sys.rollout_final(&p0, &v0, 500).unwrap();
/// let g = t.grad_wrt(p.square().sum(), &[v0, c, k]);
/// assert_eq!(g[0].shape, vec![2, 3]);
/// ```
#[derive(Clone)]
pub struct ParticleSystem<'t> {
    pub(crate) masses: TVar<'t>,
    forces: Vec<Arc<dyn Force>>,
    params: Vec<Vec<TVar<'t>>>,
    dt: f64,
    integrator: Integrator,
}

impl<'t> ParticleSystem<'t> {
    /// A system of particles with `masses` (`[N]` or `[B, N]`, kg) and time
    /// step `dt` (s), with no force yet.
    ///
    /// Panics on a non-positive `dt` or mass; see [`Self::try_new`].
    #[track_caller]
    pub fn new(masses: TVar<'t>, dt: f64) -> ParticleSystem<'t> {
        Self::try_new(masses, dt).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Self::new`], returning [`Error::Parameter`](crate::Error::Parameter) for a non-positive or
    /// non-finite `dt` or mass.
    pub fn try_new(masses: TVar<'t>, dt: f64) -> Result<ParticleSystem<'t>> {
        check_dt(dt)?;
        masses.with_value(check_masses)?;
        Ok(ParticleSystem {
            masses,
            forces: Vec::new(),
            params: Vec::new(),
            dt,
            integrator: Integrator::default(),
        })
    }

    /// Adds a force with its parameters (tape values, in the order of
    /// [`Force::param_shapes`]).
    pub fn with_force(mut self, force: impl Force, params: &[TVar<'t>]) -> ParticleSystem<'t> {
        self.forces.push(Arc::new(force));
        self.params.push(params.to_vec());
        self
    }

    /// Adds gravity F = m·g, `g` of shape `[D]` (m/s²).
    pub fn with_gravity(self, g: TVar<'t>) -> ParticleSystem<'t> {
        self.with_force(Gravity, &[g])
    }

    /// Adds linear drag F = −c·v, `c` of shape `[]` (kg/s).
    pub fn with_drag(self, c: TVar<'t>) -> ParticleSystem<'t> {
        self.with_force(Drag, &[c])
    }

    /// Adds penalty contact with `ground`, stiffness `k` of shape `[]` (N/m).
    pub fn with_ground(self, ground: Ground, k: TVar<'t>) -> ParticleSystem<'t> {
        self.with_force(ground, &[k])
    }

    /// Adds the springs of `network`, with stiffness `k` (N/m), rest length
    /// `rest` (m) and optional damping (kg/s), each of shape `[S]`.
    pub fn with_springs(
        self,
        network: SpringNetwork,
        k: TVar<'t>,
        rest: TVar<'t>,
        damping: Option<TVar<'t>>,
    ) -> ParticleSystem<'t> {
        let damped = damping.is_some();
        let mut params = vec![k, rest];
        params.extend(damping);
        self.with_force(network.damped(damped), &params)
    }

    /// Chooses the integrator (default: semi-implicit Euler).
    pub fn with_integrator(mut self, integrator: Integrator) -> ParticleSystem<'t> {
        self.integrator = integrator;
        self
    }

    /// The time step (s).
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The masses.
    pub fn masses(&self) -> TVar<'t> {
        self.masses
    }

    pub(crate) fn spec(&self) -> StepSpec {
        StepSpec {
            forces: self.forces.clone().into(),
            n_params: self.params.iter().map(Vec::len).collect::<Vec<_>>().into(),
            dt: self.dt,
            integrator: self.integrator,
            mass_grad: self.masses.requires_grad(),
            param_grad: self
                .params
                .iter()
                .flatten()
                .map(TVar::requires_grad)
                .collect::<Vec<_>>()
                .into(),
            check_masses: true,
            fast: Builtin::detect(&self.forces).map(Arc::new),
            inv_mass: None,
        }
    }

    /// The step's inputs after p and v: masses, then every parameter.
    pub(crate) fn inputs_after_state(&self) -> Vec<TVar<'t>> {
        let mut xs = vec![self.masses];
        xs.extend(self.params.iter().flatten().copied());
        xs
    }

    /// One step from `(p, v)`: one fused tape node. Panics on bad shapes;
    /// see [`Self::try_step`].
    #[track_caller]
    pub fn step(&self, p: &TVar<'t>, v: &TVar<'t>) -> (TVar<'t>, TVar<'t>) {
        self.try_step(p, v).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Self::step`], returning an error for mismatched shapes, a bad mass
    /// or a foreign handle.
    pub fn try_step(&self, p: &TVar<'t>, v: &TVar<'t>) -> Result<(TVar<'t>, TVar<'t>)> {
        let mut xs = vec![*p, *v];
        xs.extend(self.inputs_after_state());
        let out = p.tape().try_apply(
            ParticleStep {
                spec: self.spec(),
                step: None,
            },
            &xs,
        )?;
        Ok((out[0], out[1]))
    }
}
