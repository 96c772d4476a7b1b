//! [`LocalForces`]: forces on one node at a time, composed statically into
//! the step kernel's per-node loop: the fast path for the common forces
//! (gravity, drag, ground contact), one pass over the nodes per step
//! instead of one per force.

/// The most parameter entries (per environment) a set of local forces may
/// have in all; their gradients accumulate in a stack array of this size.
pub const LOCAL_PARAMS_MAX: usize = 16;

/// A statically composed set of local forces (each force on a node depends
/// on that node only). The step kernel calls `force_node` and `vjp_node`
/// inside its per-node loop, so the compiler fuses them with the scheme.
///
/// Parameters come first among a step's parameters, in the order of
/// `params`; [`LocalForces::unpack`] reads one environment's. `gparams` is the
/// concatenation of their flat gradients (at most [`LOCAL_PARAMS_MAX`]
/// entries).
pub trait LocalForces: Send + Sync + 'static {
    /// One environment's parameters, unpacked once per chunk (so the
    /// per-node loop reads them from registers).
    type Env: Copy;

    /// Unpacks one environment's parameters (`params`, in input order).
    fn unpack(&self, spatial: usize, params: &[&[f64]]) -> Self::Env;

    /// The parameters' names and per-environment shapes, in input order.
    fn params(&self, n: usize, spatial: usize) -> Vec<(&'static str, Vec<usize>)>;

    /// Checks the forces against nodes with `spatial` translational
    /// dimensions (e.g. a ground plane of the right dimension).
    fn check(&self, spatial: usize) -> crate::Result<()> {
        let _ = spatial;
        Ok(())
    }

    /// Adds the force on one node (`q`, `v`: its `dim` coordinates, `m`:
    /// its mass) into `f`.
    #[allow(clippy::too_many_arguments)]
    fn force_node(
        &self,
        env: &Self::Env,
        dim: usize,
        spatial: usize,
        q: &[f64],
        v: &[f64],
        m: f64,
        f: &mut [f64],
    );

    /// Adds the adjoint of [`LocalForces::force_node`] for ḡF = `gf`.
    #[allow(clippy::too_many_arguments)]
    fn vjp_node(
        &self,
        env: &Self::Env,
        dim: usize,
        spatial: usize,
        q: &[f64],
        v: &[f64],
        m: f64,
        gf: &[f64],
        gq: &mut [f64],
        gv: &mut [f64],
        gm: &mut f64,
        gparams: &mut [f64; LOCAL_PARAMS_MAX],
    );

    /// For implicit schemes: adds the node's block of −∂F/∂q − s_v·∂F/∂v
    /// (`dim × dim`, row-major) into `block`. Default: unsupported.
    #[allow(clippy::too_many_arguments)]
    fn jacobian_node(
        &self,
        env: &Self::Env,
        dim: usize,
        spatial: usize,
        q: &[f64],
        m: f64,
        s_v: f64,
        block: &mut [f64],
    ) -> crate::Result<()> {
        let _ = (env, dim, spatial, q, m, s_v, block);
        Err(crate::physics::element::not_implicit("local forces"))
    }

    /// For the line search of implicit schemes: the node's potential whose
    /// q-gradient is −F (with v = (q − q₀)/dt; dissipative forces give
    /// their dissipation potential times dt). `None` if there is none.
    #[allow(clippy::too_many_arguments)]
    fn potential_node(
        &self,
        env: &Self::Env,
        dim: usize,
        spatial: usize,
        q: &[f64],
        v: &[f64],
        m: f64,
        dt: f64,
    ) -> Option<f64> {
        let _ = (env, dim, spatial, q, v, m, dt);
        None
    }
}

/// No local force.
impl LocalForces for () {
    type Env = ();
    fn jacobian_node(
        &self,
        _: &(),
        _: usize,
        _: usize,
        _: &[f64],
        _: f64,
        _: f64,
        _: &mut [f64],
    ) -> crate::Result<()> {
        Ok(())
    }
    fn potential_node(
        &self,
        _: &(),
        _: usize,
        _: usize,
        _: &[f64],
        _: &[f64],
        _: f64,
        _: f64,
    ) -> Option<f64> {
        Some(0.0)
    }
    fn unpack(&self, _: usize, _: &[&[f64]]) {}
    fn params(&self, _n: usize, _spatial: usize) -> Vec<(&'static str, Vec<usize>)> {
        Vec::new()
    }
    #[inline(always)]
    fn force_node(&self, _: &(), _: usize, _: usize, _: &[f64], _: &[f64], _: f64, _: &mut [f64]) {}
    #[inline(always)]
    fn vjp_node(
        &self,
        _: &(),
        _: usize,
        _: usize,
        _: &[f64],
        _: &[f64],
        _: f64,
        _: &[f64],
        _: &mut [f64],
        _: &mut [f64],
        _: &mut f64,
        _: &mut [f64; LOCAL_PARAMS_MAX],
    ) {
    }
}
