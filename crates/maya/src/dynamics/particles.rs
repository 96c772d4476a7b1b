//! Particle systems: state `[N, D]` (or `[B, N, D]` for B environments),
//! masses, the built-in forces and any [`Element`]s, stepped by the one
//! step kernel of [`physics`](crate::physics) under the chosen scheme.

use super::checks::{check_builtins, Builtins};
use super::springs::SpringNetwork;
use crate::error::OrPanic;
use crate::error::Result;
use crate::geometry::HalfPlane;
use crate::physics::{
    check_masses, check_param_count, rollout, BuiltinForces, DynElement, Element, Euler, Explicit,
    Implicit, MassModel, Model, Record, Rk4, SemiImplicitEuler, StabilityLimit, StepSpec, Stepper,
    Trajectory, VelocityVerlet,
};
use crate::tape::{NewtonOptions, TVar};
use std::sync::Arc;

/// The time-stepping scheme of a [`ParticleSystem`] (see
/// [`Scheme`](crate::physics::Scheme) for the equations).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Integrator {
    /// v' = v + dt·a, p' = p + dt·v' (symplectic, first order). The default:
    /// stable for stiff contact and springs at one force evaluation a step.
    #[default]
    SemiImplicitEuler,
    /// p' = p + dt·v, v' = v + dt·a (not symplectic; energy grows).
    Euler,
    /// Velocity Verlet: second order, two force evaluations a step.
    VelocityVerlet,
    /// Classical RK4: fourth order, four force evaluations a step.
    Rk4,
    /// Backward Euler: M(v' − v)/dt = F(q', v'), q' = q + dt·v', solved by
    /// Newton each step (options: [`ParticleSystem::with_newton_options`])
    /// and differentiated by the implicit function theorem. First order,
    /// unconditionally stable (it damps), for stiff springs at large steps.
    /// Every force needs a Jacobian ([`Element::jacobian`]).
    BackwardEuler,
}

/// A [`ParticleSystem`]'s pieces, for its device twin.
#[cfg(feature = "gpu")]
pub(crate) struct Parts<'t> {
    pub masses: TVar<'t>,
    pub gravity: Option<TVar<'t>>,
    pub drag: Option<TVar<'t>>,
    pub ground: Option<(HalfPlane, TVar<'t>)>,
    /// Each spring network and its parameters (k, rest[, damping]).
    pub springs: Vec<(SpringNetwork, Vec<TVar<'t>>)>,
    pub other_elements: usize,
    pub dt: f64,
    pub integrator: Integrator,
    pub fixed: bool,
}

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
    gravity: Option<TVar<'t>>,
    drag: Option<TVar<'t>>,
    ground: Option<(HalfPlane, TVar<'t>)>,
    elements: Vec<(Arc<dyn DynElement>, Vec<TVar<'t>>)>,
    /// The spring networks among `elements`, with their element index.
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    networks: Vec<(usize, SpringNetwork)>,
    dt: f64,
    integrator: Integrator,
    newton: NewtonOptions,
    fixed: Option<Arc<Vec<bool>>>,
}

impl<'t> ParticleSystem<'t> {
    /// A system of particles with `masses` (`[N]` or `[B, N]`, kg) and time
    /// step `dt` (s), with no force yet.
    ///
    /// Panics on a non-positive `dt` or mass; see [`Self::try_new`].
    #[track_caller]
    pub fn new(masses: TVar<'t>, dt: f64) -> ParticleSystem<'t> {
        Self::try_new(masses, dt).or_panic()
    }

    /// [`Self::new`], returning [`Error::Parameter`](crate::Error::Parameter) for a non-positive or
    /// non-finite `dt` or mass.
    pub fn try_new(masses: TVar<'t>, dt: f64) -> Result<ParticleSystem<'t>> {
        super::integrators::check_dt(dt)?;
        masses.with_value(|m| check_masses("mass", m))?;
        Ok(ParticleSystem {
            masses,
            gravity: None,
            drag: None,
            ground: None,
            elements: Vec::new(),
            networks: Vec::new(),
            dt,
            integrator: Integrator::default(),
            newton: NewtonOptions::default(),
            fixed: None,
        })
    }

    /// Adds an [`Element`] with its parameters (tape values, in the order
    /// of [`Element::param_names`]). Panics on a wrong number of
    /// parameters; see [`Self::try_with_force`].
    #[track_caller]
    pub fn with_force(self, element: impl Element, params: &[TVar<'t>]) -> ParticleSystem<'t> {
        self.try_with_force(element, params).or_panic()
    }

    /// [`Self::with_force`], returning [`Error::ParamCount`](crate::Error::ParamCount)
    /// (naming the element and its parameters) for a wrong number of
    /// parameters.
    pub fn try_with_force(
        mut self,
        element: impl Element,
        params: &[TVar<'t>],
    ) -> Result<ParticleSystem<'t>> {
        check_param_count(&element, params.len())?;
        self.elements.push((Arc::new(element), params.to_vec()));
        Ok(self)
    }

    /// Sets gravity F = m·g, `g` of shape `[D]` (m/s²), replacing any.
    pub fn with_gravity(mut self, g: TVar<'t>) -> ParticleSystem<'t> {
        self.gravity = Some(g);
        self
    }

    /// Sets linear drag F = −c·v, `c` of shape `[]` (kg/s), replacing any.
    pub fn with_drag(mut self, c: TVar<'t>) -> ParticleSystem<'t> {
        self.drag = Some(c);
        self
    }

    /// Sets penalty contact with `ground`, F = k·relu(h − n·p)·n, stiffness
    /// `k` of shape `[]` (N/m), replacing any.
    pub fn with_ground(mut self, ground: HalfPlane, k: TVar<'t>) -> ParticleSystem<'t> {
        self.ground = Some((ground, k));
        self
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
        let at = self.elements.len();
        let mut system = self.with_force(network.clone().damped(damped), &params);
        system.networks.push((at, network));
        system
    }

    /// What a device twin needs, after checking every parameter value as
    /// a step would: the forces, each spring network with its parameters,
    /// and how many other elements act.
    #[cfg(feature = "gpu")]
    pub(crate) fn parts(&self) -> Result<Parts<'t>> {
        self.check_values()?;
        Ok(Parts {
            masses: self.masses,
            gravity: self.gravity,
            drag: self.drag,
            ground: self.ground,
            springs: self
                .networks
                .iter()
                .map(|(at, net)| (net.clone(), self.elements[*at].1.clone()))
                .collect(),
            other_elements: self.elements.len() - self.networks.len(),
            dt: self.dt,
            integrator: self.integrator,
            fixed: self.fixed.is_some(),
        })
    }

    /// Fixes the particles `nodes` (Dirichlet boundary conditions): no
    /// force moves them — their inverse mass is 0 under every scheme — so
    /// each keeps its velocity: a clamped particle (velocity 0) stays
    /// where it is, one given a velocity moves with it (prescribed
    /// motion). Forces on the free particles still depend on where the
    /// fixed ones are, and gradients flow through them. Panics on an index
    /// past the particle count; see [`Self::try_with_fixed`].
    ///
    /// ```
    /// use maya::dynamics::ParticleSystem;
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[2])), 0.01)
    ///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
    ///     .with_fixed(&[0]);
    /// let p0 = t.constant(Tensor::zeros(&[2, 2]));
    /// let v0 = t.constant(Tensor::zeros(&[2, 2]));
    /// let (p, _) = sys.rollout_final(&p0, &v0, 10).unwrap();
    /// let p = p.value().data;
    /// assert_eq!(&p[..2], &[0.0, 0.0]); // the fixed particle did not fall
    /// assert!(p[3] < 0.0); // the free one did
    /// ```
    #[track_caller]
    pub fn with_fixed(self, nodes: &[usize]) -> ParticleSystem<'t> {
        self.try_with_fixed(nodes).or_panic()
    }

    /// [`Self::with_fixed`], returning [`Error::Index`](crate::Error::Index)
    /// for a particle index past the particle count.
    pub fn try_with_fixed(mut self, nodes: &[usize]) -> Result<ParticleSystem<'t>> {
        let n = self
            .masses
            .with_value(|m| m.shape.last().copied().unwrap_or(0));
        let mut fixed = vec![false; n];
        for &i in nodes {
            if i >= n {
                return Err(crate::Error::Index {
                    op: "ParticleSystem::with_fixed",
                    index: i,
                    len: n,
                });
            }
            fixed[i] = true;
        }
        self.fixed = Some(Arc::new(fixed));
        Ok(self)
    }

    /// Adds a given force per particle, `load` of shape `[N, D]` (N) —
    /// [`NodalLoad`](crate::physics::NodalLoad) as an element.
    pub fn with_load(self, load: TVar<'t>) -> ParticleSystem<'t> {
        self.with_force(crate::physics::NodalLoad::particles(), &[load])
    }

    /// Chooses the integrator (default: semi-implicit Euler).
    pub fn with_integrator(mut self, integrator: Integrator) -> ParticleSystem<'t> {
        self.integrator = integrator;
        self
    }

    /// The Newton options of [`Integrator::BackwardEuler`] (tolerances,
    /// iterations; its sparse solver keeps the symbolic analysis of the
    /// Jacobian across steps).
    pub fn with_newton_options(mut self, options: NewtonOptions) -> ParticleSystem<'t> {
        self.newton = options;
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

    fn builtins(&self) -> BuiltinForces {
        BuiltinForces {
            gravity: self.gravity.is_some(),
            drag: self.drag.is_some(),
            ground: self.ground.map(|(g, _)| g),
        }
    }

    /// The step's inputs after p and v: masses, then every parameter.
    pub(crate) fn inputs_after_state(&self) -> Vec<TVar<'t>> {
        let mut xs = vec![self.masses];
        xs.extend(self.gravity);
        xs.extend(self.drag);
        xs.extend(self.ground.map(|(_, k)| k));
        xs.extend(self.elements.iter().flat_map(|(_, p)| p.iter().copied()));
        xs
    }

    /// The stability bound of the integrator (`None` for backward Euler,
    /// which is unconditionally stable).
    pub fn stability_limit(&self) -> Option<StabilityLimit> {
        let dt = self.dt;
        match self.integrator {
            Integrator::SemiImplicitEuler => Some(StabilityLimit::semi_implicit_euler(dt)),
            Integrator::Euler => Some(StabilityLimit::euler(dt)),
            Integrator::VelocityVerlet => Some(StabilityLimit::velocity_verlet(dt)),
            Integrator::Rk4 => Some(StabilityLimit::rk4(dt)),
            Integrator::BackwardEuler => None,
        }
    }

    /// The checks of a step or a rollout's start: every parameter value
    /// (gravity finite; drag, ground stiffness and the springs' stiffness,
    /// rest length and damping finite and ≥ 0, as
    /// [`Error::ParameterValue`](crate::Error::ParameterValue)) and, under
    /// an explicit integrator, the stability bounds of the springs, the
    /// drag and the ground ([`Error::Stability`](crate::Error::Stability)).
    fn check_values(&self) -> Result<()> {
        self.check_values_under(self.stability_limit())
    }

    /// [`Self::check_values`] with the stability bound `limit` (`None`:
    /// none, as for implicit schemes and static solves).
    fn check_values_under(&self, limit: Option<StabilityLimit>) -> Result<()> {
        let vars = self.inputs_after_state();
        crate::tape::TVar::with_values(&vars, "ParticleSystem", |x| {
            let (masses, mut rest) = (x[0], &x[1..]);
            let mut next = |on: bool| {
                on.then(|| {
                    let (first, others) = rest.split_first().expect("a parameter per force");
                    rest = others;
                    *first
                })
            };
            let builtins = Builtins {
                gravity: next(self.gravity.is_some()),
                drag: next(self.drag.is_some()),
                ground: next(self.ground.is_some()),
            };
            let n = masses.shape.last().copied().unwrap_or(0);
            check_builtins(&builtins, masses, n, limit.as_ref())?;
            for (e, params) in &self.elements {
                let (mine, others) = rest.split_at(params.len());
                e.check_values(mine, masses, limit.as_ref())?;
                rest = others;
            }
            Ok(())
        })?
    }

    fn spec(&self) -> StepSpec<BuiltinForces> {
        StepSpec {
            model: MassModel::Particle,
            local: self.builtins(),
            elements: self
                .elements
                .iter()
                .map(|(e, p)| (Arc::clone(e), p.len()))
                .collect(),
            dt: self.dt,
            inv_mass: None,
            check_masses: true,
            fixed: self.fixed.clone(),
        }
    }

    /// One step from `(p, v)`: one fused tape node. Panics on bad shapes;
    /// see [`Self::try_step`].
    #[track_caller]
    pub fn step(&self, p: &TVar<'t>, v: &TVar<'t>) -> (TVar<'t>, TVar<'t>) {
        self.try_step(p, v).or_panic()
    }

    /// [`Self::step`], returning an error for mismatched shapes, a bad mass
    /// or a foreign handle, a non-finite or negative parameter
    /// ([`Error::ParameterValue`](crate::Error::ParameterValue)), or a time
    /// step past the explicit integrator's stability bound for a spring,
    /// the ground or drag ([`Error::Stability`](crate::Error::Stability)).
    pub fn try_step(&self, p: &TVar<'t>, v: &TVar<'t>) -> Result<(TVar<'t>, TVar<'t>)> {
        let (stepper, rest) = self.stepper(&())?;
        let mut xs = vec![*p, *v];
        xs.extend(rest);
        p.same_tape(v, "ParticleSystem::step")?;
        let out = stepper.record(p.tape(), &xs, 0)?;
        Ok((out[0], out[1]))
    }

    /// The static equilibrium: positions x with zero net force on every
    /// free particle (F(x, v = 0) = 0), the fixed ones held where `p`
    /// puts them (prescribed positions); `p`'s free entries start Newton.
    /// One tape node, differentiated by the implicit function theorem
    /// (one transposed solve with the converged factorisation), so
    /// gradients reach the loads, the force parameters, the prescribed
    /// positions — and, for a soft body, its material field and rest
    /// shape. Uses the Newton options of
    /// [`Self::with_newton_options`]; every force needs a Jacobian.
    ///
    /// Errors: [`Error::Solve`](crate::Error::Solve) when Newton does not
    /// converge (a floating body has no unique equilibrium: fix some
    /// particles), and the checks of [`Self::try_step`] (without the
    /// stability bound).
    ///
    /// ```
    /// use maya::dynamics::{ParticleSystem, SpringNetwork};
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// // Two springs in series along a line from a fixed particle, pulled by 2 N.
    /// let k = t.var(Tensor::from_data(vec![100.0, 300.0], vec![2]));
    /// let p = t.constant(Tensor::from_data(vec![0.0, 1.0, 2.0], vec![3, 1]));
    /// let load = t.constant(Tensor::from_data(vec![0.0, 0.0, 2.0], vec![3, 1]));
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 0.01)
    ///     .with_springs(SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap(), k, t.constant(Tensor::ones(&[2])), None)
    ///     .with_load(load)
    ///     .with_fixed(&[0]);
    /// let x = sys.equilibrium(&p).unwrap();
    /// // Stretches 2/100 and 2/300: the end at 2 + 2/100 + 2/300.
    /// let end = x.at(&[2, 0]);
    /// assert!((end.item() - (2.0 + 0.02 + 2.0 / 300.0)).abs() < 1e-12);
    /// // ∂end/∂k₀ = −2/k₀².
    /// assert!((t.grad(end).wrt(&k).data[0] + 2.0 / 1e4).abs() < 1e-12);
    /// ```
    pub fn equilibrium(&self, p: &TVar<'t>) -> Result<TVar<'t>> {
        self.check_values_under(None)?;
        let v = p.tape().constant(crate::tensor::Tensor::zeros(&p.shape()));
        let mut xs = vec![*p, v];
        xs.extend(self.inputs_after_state());
        let out =
            crate::physics::record_equilibrium(self.spec(), self.newton.clone(), p.tape(), &xs)?;
        Ok(out[0])
    }

    /// Runs `steps` steps from `(p0, v0)` and returns every state, each a
    /// tape value (one fused node per step): [`rollout`](crate::physics::rollout) with
    /// [`Record::All`].
    ///
    /// Errors with [`Error::NonFinite`](crate::Error::NonFinite) (naming
    /// the particle and the step t ≥ 1 whose state first went non-finite),
    /// for bad shapes, and before stepping as [`Self::try_step`] does.
    ///
    /// ```
    /// use maya::dynamics::ParticleSystem;
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.1)
    ///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, -10.0], vec![2])));
    /// let p0 = t.constant(Tensor::zeros(&[1, 2]));
    /// let v0 = t.var(Tensor::from_data(vec![1.0, 0.0], vec![1, 2]));
    /// let traj = sys.rollout(&p0, &v0, 10).unwrap();
    /// assert_eq!(traj.positions.len(), 11);
    /// ```
    pub fn rollout(&self, p0: &TVar<'t>, v0: &TVar<'t>, steps: usize) -> Result<Trajectory<'t>> {
        rollout(self, (*p0, *v0), &(), steps, Record::All)
    }

    /// Runs `steps` steps and returns the final state ([`Record::Last`]).
    /// When nothing in the system needs a gradient, the steps run without
    /// recording anything. Errors as [`Self::rollout`].
    pub fn rollout_final(
        &self,
        p0: &TVar<'t>,
        v0: &TVar<'t>,
        steps: usize,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        Ok(rollout(self, (*p0, *v0), &(), steps, Record::Last)?.last())
    }

    /// Runs `steps` steps in checkpointed segments of `segment` steps
    /// (default ⌈√steps⌉) and returns the final state
    /// ([`Record::Checkpointed`]). Gradients are identical to
    /// [`Self::rollout_final`]'s; errors as [`Self::rollout`], with the
    /// global step number.
    ///
    /// ```
    /// use maya::dynamics::ParticleSystem;
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let c = t.scalar(0.5);
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 0.01).with_drag(c);
    /// let p0 = t.constant(Tensor::zeros(&[3, 2]));
    /// let v0 = t.var(Tensor::ones(&[3, 2]));
    /// let (p, _) = sys.rollout_checkpointed(&p0, &v0, 1000, None).unwrap();
    /// assert!(t.len() < 200); // ~√1000 segments, not 1000 states
    /// let g = t.grad_wrt(p.sum(), &[c]);
    /// assert!(g[0].item() < 0.0);
    /// ```
    pub fn rollout_checkpointed(
        &self,
        p0: &TVar<'t>,
        v0: &TVar<'t>,
        steps: usize,
        segment: Option<usize>,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        Ok(rollout(
            self,
            (*p0, *v0),
            &(),
            steps,
            Record::Checkpointed { segment },
        )?
        .last())
    }
}

impl<'t> Model<'t> for ParticleSystem<'t> {
    type Params = ();

    fn stepper(&self, _params: &()) -> Result<(Arc<dyn Stepper>, Vec<TVar<'t>>)> {
        self.check_values()?;
        let spec = self.spec();
        let stepper: Arc<dyn Stepper> = match self.integrator {
            Integrator::SemiImplicitEuler => Arc::new(Explicit::<_, SemiImplicitEuler>::new(spec)),
            Integrator::Euler => Arc::new(Explicit::<_, Euler>::new(spec)),
            Integrator::VelocityVerlet => Arc::new(Explicit::<_, VelocityVerlet>::new(spec)),
            Integrator::Rk4 => Arc::new(Explicit::<_, Rk4>::new(spec)),
            Integrator::BackwardEuler => Arc::new(Implicit {
                spec: Arc::new(spec),
                options: self.newton.clone(),
            }),
        };
        Ok((stepper, self.inputs_after_state()))
    }
}
