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

    /// [`LocalForces::unpack`] for the adjoint, told which parameters
    /// (`needs_params`, the local ones first) and whether the masses need
    /// a gradient, so that `vjp_node` can skip the rest. Default: `unpack`.
    fn unpack_adjoint(
        &self,
        spatial: usize,
        params: &[&[f64]],
        needs_params: &[bool],
        needs_mass: bool,
    ) -> Self::Env {
        let _ = (needs_params, needs_mass);
        self.unpack(spatial, params)
    }

    /// Adds the accumulated parameter gradients `acc` (as `vjp_node`
    /// laid them out) into the parameters' gradient buffers `out`.
    /// Default: `acc` is their flat concatenation.
    fn scatter(&self, spatial: usize, acc: &[f64; LOCAL_PARAMS_MAX], out: &mut [Vec<f64>]) {
        let _ = spatial;
        let mut o = 0;
        for g in out {
            for x in g.iter_mut() {
                *x += acc[o];
                o += 1;
            }
        }
    }

    /// The parameters' names and per-environment shapes, in input order.
    fn params(&self, n: usize, spatial: usize) -> Vec<(&'static str, Vec<usize>)>;

    /// Checks the forces against nodes with `spatial` translational
    /// dimensions (e.g. a ground plane of the right dimension).
    fn check(&self, spatial: usize) -> crate::Result<()> {
        let _ = spatial;
        Ok(())
    }

    /// Adds the force on one node (`q`, `v`: its `D` coordinates, the
    /// first `S` translational; `m`: its mass) into `f`. `D` and `S` are
    /// constants, so the per-node loop is fully unrolled.
    fn force_node<const D: usize, const S: usize>(
        &self,
        env: &Self::Env,
        q: &[f64; D],
        v: &[f64; D],
        m: f64,
        f: &mut [f64; D],
    );

    /// Adds the adjoint of [`LocalForces::force_node`] for ḡF = `gf` into
    /// the node's ∂L/∂q, ∂L/∂v, ∂L/∂m and the flat parameter gradients.
    #[allow(clippy::too_many_arguments)]
    fn vjp_node<const D: usize, const S: usize>(
        &self,
        env: &Self::Env,
        q: &[f64; D],
        v: &[f64; D],
        m: f64,
        gf: &[f64; D],
        gq: &mut [f64; D],
        gv: &mut [f64; D],
        gm: &mut f64,
        gparams: &mut [f64; LOCAL_PARAMS_MAX],
    );

    /// [`LocalForces::force_node`] on `W` nodes at once, coordinates
    /// transposed (`q[k][l]`: coordinate k of lane l), so that a set of
    /// forces can write its laws lane-wise and the compiler vectorises
    /// across nodes. Must equal `force_node` on each lane bit for bit
    /// (the default calls it lane by lane).
    #[inline(always)]
    fn force_lanes<const D: usize, const S: usize, const W: usize>(
        &self,
        env: &Self::Env,
        q: &[[f64; W]; D],
        v: &[[f64; W]; D],
        m: &[f64; W],
        f: &mut [[f64; W]; D],
    ) {
        for l in 0..W {
            let (ql, vl) = (lane(q, l), lane(v, l));
            let mut fl = lane(f, l);
            self.force_node::<D, S>(env, &ql, &vl, m[l], &mut fl);
            set_lane(f, l, &fl);
        }
    }

    /// [`LocalForces::vjp_node`] on `W` nodes at once, coordinates
    /// transposed as in [`LocalForces::force_lanes`]; `gparams[j][l]`:
    /// slot j of lane l's parameter gradients. Must equal `vjp_node` on
    /// each lane bit for bit, up to the sign of a zero parameter gradient
    /// (the default calls it lane by lane).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn vjp_lanes<const D: usize, const S: usize, const W: usize>(
        &self,
        env: &Self::Env,
        q: &[[f64; W]; D],
        v: &[[f64; W]; D],
        m: &[f64; W],
        gf: &[[f64; W]; D],
        gq: &mut [[f64; W]; D],
        gv: &mut [[f64; W]; D],
        gm: &mut [f64; W],
        gparams: &mut [[f64; W]; LOCAL_PARAMS_MAX],
    ) {
        for l in 0..W {
            let (mut gql, mut gvl) = (lane(gq, l), lane(gv, l));
            let mut acc: [f64; LOCAL_PARAMS_MAX] = std::array::from_fn(|j| gparams[j][l]);
            self.vjp_node::<D, S>(
                env,
                &lane(q, l),
                &lane(v, l),
                m[l],
                &lane(gf, l),
                &mut gql,
                &mut gvl,
                &mut gm[l],
                &mut acc,
            );
            set_lane(gq, l, &gql);
            set_lane(gv, l, &gvl);
            for (j, a) in acc.into_iter().enumerate() {
                gparams[j][l] = a;
            }
        }
    }

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

/// Lane `l` of transposed coordinates: one node's `D` coordinates.
#[inline(always)]
fn lane<const D: usize, const W: usize>(x: &[[f64; W]; D], l: usize) -> [f64; D] {
    std::array::from_fn(|k| x[k][l])
}

/// Writes one node's coordinates into lane `l`.
#[inline(always)]
fn set_lane<const D: usize, const W: usize>(x: &mut [[f64; W]; D], l: usize, y: &[f64; D]) {
    for k in 0..D {
        x[k][l] = y[k];
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
    fn force_node<const D: usize, const S: usize>(
        &self,
        _: &(),
        _: &[f64; D],
        _: &[f64; D],
        _: f64,
        _: &mut [f64; D],
    ) {
    }
    #[inline(always)]
    fn vjp_node<const D: usize, const S: usize>(
        &self,
        _: &(),
        _: &[f64; D],
        _: &[f64; D],
        _: f64,
        _: &[f64; D],
        _: &mut [f64; D],
        _: &mut [f64; D],
        _: &mut f64,
        _: &mut [f64; LOCAL_PARAMS_MAX],
    ) {
    }
}

/// Calls `$f::<D, S>($args)` with the constants of (`dim`, `spatial`):
/// particles in 1 to 8 dimensions and 2D rigid bodies (3, 2). The layout
/// has checked that the pair is one of these.
macro_rules! with_dims {
    ($dim:expr, $spatial:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match ($dim, $spatial) {
            (3, 3) => $f::<_, 3, 3>($($arg),*),
            (2, 2) => $f::<_, 2, 2>($($arg),*),
            (3, 2) => $f::<_, 3, 2>($($arg),*),
            (1, 1) => $f::<_, 1, 1>($($arg),*),
            (4, 4) => $f::<_, 4, 4>($($arg),*),
            (5, 5) => $f::<_, 5, 5>($($arg),*),
            (6, 6) => $f::<_, 6, 6>($($arg),*),
            (7, 7) => $f::<_, 7, 7>($($arg),*),
            (8, 8) => $f::<_, 8, 8>($($arg),*),
            (d, s) => unreachable!("(dim, spatial) = ({d}, {s}) is checked by the layout"),
        }
    };
}
pub(crate) use with_dims;

/// [`LocalForces::force_node`] over every node of a run (slices `n × dim`),
/// for the slower paths (multi-stage and implicit schemes).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forces_dyn<L: LocalForces>(
    local: &L,
    env: &L::Env,
    dim: usize,
    spatial: usize,
    q: &[f64],
    v: &[f64],
    m: &[f64],
    f: &mut [f64],
) {
    fn run<L: LocalForces, const D: usize, const S: usize>(
        local: &L,
        env: &L::Env,
        q: &[f64],
        v: &[f64],
        m: &[f64],
        f: &mut [f64],
    ) {
        let nodes = q
            .chunks_exact(D)
            .zip(v.chunks_exact(D))
            .zip(m)
            .zip(f.chunks_exact_mut(D));
        for (((q, v), &m), f) in nodes {
            local.force_node::<D, S>(
                env,
                q.try_into().expect("D"),
                v.try_into().expect("D"),
                m,
                f.try_into().expect("D"),
            );
        }
    }
    with_dims!(dim, spatial, run(local, env, q, v, m, f))
}

/// [`LocalForces::vjp_node`] over every node of a run; returns nothing,
/// adds ∂L/∂m into `gm` (per node) and the parameters into `acc`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn vjps_dyn<L: LocalForces>(
    local: &L,
    env: &L::Env,
    dim: usize,
    spatial: usize,
    state: (&[f64], &[f64], &[f64]),
    gf: &[f64],
    grads: (&mut [f64], &mut [f64], &mut [f64]),
    acc: &mut [f64; LOCAL_PARAMS_MAX],
) {
    #[allow(clippy::too_many_arguments)]
    fn run<L: LocalForces, const D: usize, const S: usize>(
        local: &L,
        env: &L::Env,
        state: (&[f64], &[f64], &[f64]),
        gf: &[f64],
        grads: (&mut [f64], &mut [f64], &mut [f64]),
        acc: &mut [f64; LOCAL_PARAMS_MAX],
    ) {
        let (q, v, m) = state;
        let (gq, gv, gm) = grads;
        let nodes = q
            .chunks_exact(D)
            .zip(v.chunks_exact(D))
            .zip(m)
            .zip(gf.chunks_exact(D));
        let outs = gq
            .chunks_exact_mut(D)
            .zip(gv.chunks_exact_mut(D))
            .zip(gm.iter_mut());
        for ((((q, v), &m), gf), ((gq, gv), gm)) in nodes.zip(outs) {
            local.vjp_node::<D, S>(
                env,
                q.try_into().expect("D"),
                v.try_into().expect("D"),
                m,
                gf.try_into().expect("D"),
                gq.try_into().expect("D"),
                gv.try_into().expect("D"),
                gm,
                acc,
            );
        }
    }
    with_dims!(dim, spatial, run(local, env, state, gf, grads, acc))
}
