//! The built-in forces on particles (and on rigid bodies' centres):
//! gravity, linear drag and penalty ground contact, composed statically
//! into the step kernel's per-node loop by [`BuiltinForces`].
//!
//! | force | F on node i | parameter (per environment) |
//! |---|---|---|
//! | gravity | mᵢ·g | g: `[D]` (m/s²) |
//! | drag | −c·vᵢ | c: `[]` (kg/s) |
//! | ground | k·relu(h − n·qᵢ)·n | k: `[]` (N/m) |
//!
//! Each law and its adjoint are written once, below, per node. Other
//! forces (springs, contact, your own) are [`Element`](crate::physics::Element)s.

use super::local::{LocalForces, LOCAL_PARAMS_MAX};
use super::spec::MAX_DIM;
use crate::geometry::HalfPlane;

/// Which built-in forces act, in this order: gravity, drag, ground.
#[derive(Clone, Debug, Default)]
pub struct BuiltinForces {
    /// F = m·g, parameter g `[D]`.
    pub gravity: bool,
    /// F = −c·v, parameter c `[]`.
    pub drag: bool,
    /// F = k·relu(h − n·q)·n against this plane, parameter k `[]`.
    pub ground: Option<HalfPlane>,
}

/// The accumulator slots of ∂L/∂c and ∂L/∂k (after g's `MAX_DIM`).
const DRAG_SLOT: usize = MAX_DIM;
const GROUND_SLOT: usize = MAX_DIM + 1;

/// One environment's built-in parameters and plane, unpacked.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinEnv {
    gravity: bool,
    drag: bool,
    ground: bool,
    /// Whether ∂L/∂g or ∂L/∂m is needed (gravity's adjoint is skipped
    /// otherwise: F = m g depends on nothing else).
    gravity_grad: bool,
    g: [f64; MAX_DIM],
    c: f64,
    k: f64,
    normal: [f64; 3],
    offset: f64,
    /// Some(a) when the ground's normal is the unit axis eₐ (a floor):
    /// the lane-wise laws then skip the normal's zero components, which
    /// gives the same bits for a finite state (adding x·0 to a force or
    /// gradient that is never −0 changes nothing).
    floor_axis: Option<usize>,
}

/// Penetration h − n·q of the point q (its first `spatial` coordinates).
#[inline(always)]
fn depth(e: &BuiltinEnv, spatial: usize, q: &[f64]) -> f64 {
    let mut nq = 0.0;
    for k in 0..spatial.min(3) {
        nq += e.normal[k] * q[k];
    }
    e.offset - nq
}

/// Calls `f` with the axis `a` as a constant for the common axes, so that
/// indexing lane arrays by it keeps them in registers.
#[inline(always)]
fn with_axis(a: usize, mut f: impl FnMut(usize)) {
    match a {
        0 => f(0),
        1 => f(1),
        2 => f(2),
        _ => f(a),
    }
}

/// The ground's k·relu(δ) on each lane.
#[inline(always)]
fn ground_push_lanes<const D: usize, const S: usize, const W: usize>(
    e: &BuiltinEnv,
    q: &[[f64; W]; D],
) -> [f64; W] {
    let mut nq = [0.0; W];
    for k in 0..S.min(3) {
        for l in 0..W {
            nq[l] += e.normal[k] * q[k][l];
        }
    }
    std::array::from_fn(|l| e.k * (e.offset - nq[l]).max(0.0))
}

impl LocalForces for BuiltinForces {
    type Env = BuiltinEnv;

    fn unpack(&self, spatial: usize, params: &[&[f64]]) -> BuiltinEnv {
        let mut it = params.iter();
        let mut env = BuiltinEnv {
            gravity: self.gravity,
            drag: self.drag,
            ground: self.ground.is_some(),
            gravity_grad: self.gravity,
            g: [0.0; MAX_DIM],
            c: 0.0,
            k: 0.0,
            normal: [0.0; 3],
            offset: 0.0,
            floor_axis: None,
        };
        if self.gravity {
            let g = it.next().expect("g");
            env.g[..spatial].copy_from_slice(&g[..spatial]);
        }
        if self.drag {
            env.c = it.next().expect("c")[0];
        }
        if let Some(plane) = &self.ground {
            env.k = it.next().expect("k")[0];
            env.normal[..plane.dim()].copy_from_slice(plane.normal());
            env.offset = plane.offset();
            let n = plane.normal();
            env.floor_axis = (0..n.len()).find(|&a| {
                n.iter()
                    .enumerate()
                    .all(|(j, &x)| x == if j == a { 1.0 } else { 0.0 })
            });
        }
        env
    }

    fn check(&self, spatial: usize) -> crate::Result<()> {
        match &self.ground {
            Some(plane) if plane.dim() != spatial => Err(crate::Error::Shape {
                op: "ground",
                lhs: vec![spatial],
                rhs: vec![plane.dim()],
                hint: "the ground's normal needs one component per spatial dimension",
            }),
            _ => Ok(()),
        }
    }

    fn unpack_adjoint(
        &self,
        spatial: usize,
        params: &[&[f64]],
        needs_params: &[bool],
        needs_mass: bool,
    ) -> BuiltinEnv {
        let mut env = self.unpack(spatial, params);
        env.gravity_grad = self.gravity && (needs_mass || needs_params.first() == Some(&true));
        env
    }

    fn scatter(&self, spatial: usize, acc: &[f64; LOCAL_PARAMS_MAX], out: &mut [Vec<f64>]) {
        let mut it = out.iter_mut();
        if self.gravity {
            let g = it.next().expect("g");
            for (x, a) in g.iter_mut().zip(&acc[..spatial]) {
                *x += a;
            }
        }
        if self.drag {
            it.next().expect("c")[0] += acc[DRAG_SLOT];
        }
        if self.ground.is_some() {
            it.next().expect("k")[0] += acc[GROUND_SLOT];
        }
    }

    fn params(&self, _n: usize, spatial: usize) -> Vec<(&'static str, Vec<usize>)> {
        let mut out = Vec::new();
        if self.gravity {
            out.push(("gravity", vec![spatial]));
        }
        if self.drag {
            out.push(("drag", vec![]));
        }
        if self.ground.is_some() {
            out.push(("ground stiffness", vec![]));
        }
        out
    }

    #[inline(always)]
    fn force_node<const D: usize, const S: usize>(
        &self,
        e: &BuiltinEnv,
        q: &[f64; D],
        v: &[f64; D],
        m: f64,
        f: &mut [f64; D],
    ) {
        let (dim, spatial) = (D, S);
        let (g, c, k) = (&e.g, e.c, e.k);
        if e.gravity {
            // gravity: F = m g on the translational coordinates.
            for j in 0..spatial {
                f[j] += m * g[j];
            }
        }
        if e.drag {
            // drag: F = −c v.
            for j in 0..dim {
                f[j] -= c * v[j];
            }
        }
        if e.ground {
            // ground: F = k relu(δ) n, δ = h − n·q (branch-free).
            let push = k * depth(e, spatial, q).max(0.0);
            for j in 0..spatial.min(3) {
                f[j] += push * e.normal[j];
            }
        }
    }

    /// [`force_node`](LocalForces::force_node)'s laws lane-wise, in the same
    /// order (so the same bits).
    #[inline(always)]
    fn force_lanes<const D: usize, const S: usize, const W: usize>(
        &self,
        e: &BuiltinEnv,
        q: &[[f64; W]; D],
        v: &[[f64; W]; D],
        m: &[f64; W],
        f: &mut [[f64; W]; D],
    ) {
        if e.gravity {
            for j in 0..S {
                for l in 0..W {
                    f[j][l] += m[l] * e.g[j];
                }
            }
        }
        if e.drag {
            for j in 0..D {
                for l in 0..W {
                    f[j][l] -= e.c * v[j][l];
                }
            }
        }
        if e.ground {
            match e.floor_axis {
                // n = eₐ: n·q = qₐ, and F gains push along a only.
                Some(a) if a < S => with_axis(a, |a| {
                    for l in 0..W {
                        let push = e.k * (e.offset - q[a][l]).max(0.0);
                        f[a][l] += push;
                    }
                }),
                _ => {
                    let push = ground_push_lanes::<D, S, W>(e, q);
                    for j in 0..S.min(3) {
                        for l in 0..W {
                            f[j][l] += push[l] * e.normal[j];
                        }
                    }
                }
            }
        }
    }

    /// [`vjp_node`](LocalForces::vjp_node)'s adjoints lane-wise, in the
    /// same order (so the same bits; a lane outside the ground adds +0 to
    /// ∂L/∂k, which can only turn a −0 into +0).
    #[inline(always)]
    fn vjp_lanes<const D: usize, const S: usize, const W: usize>(
        &self,
        e: &BuiltinEnv,
        q: &[[f64; W]; D],
        v: &[[f64; W]; D],
        m: &[f64; W],
        gf: &[[f64; W]; D],
        gq: &mut [[f64; W]; D],
        gv: &mut [[f64; W]; D],
        gm: &mut [f64; W],
        acc: &mut [[f64; W]; LOCAL_PARAMS_MAX],
    ) {
        if e.gravity_grad {
            for j in 0..S {
                for l in 0..W {
                    acc[j][l] += m[l] * gf[j][l];
                    gm[l] += gf[j][l] * e.g[j];
                }
            }
        }
        if e.drag {
            let mut gc = [0.0; W];
            for j in 0..D {
                for l in 0..W {
                    gv[j][l] -= e.c * gf[j][l];
                    gc[l] += gf[j][l] * v[j][l];
                }
            }
            for l in 0..W {
                acc[DRAG_SLOT][l] -= gc[l];
            }
        }
        if e.ground {
            if let Some(a) = e.floor_axis.filter(|&a| a < S) {
                // n = eₐ: δ = h − qₐ, s = ḡFₐ.
                with_axis(a, |a| {
                    for l in 0..W {
                        let d = e.offset - q[a][l];
                        let inside = d > 0.0;
                        acc[GROUND_SLOT][l] += if inside { d * gf[a][l] } else { 0.0 };
                        gq[a][l] -= if inside { e.k * gf[a][l] } else { 0.0 };
                    }
                });
                return;
            }
            let mut nq = [0.0; W];
            let mut sn = [0.0; W];
            for j in 0..S.min(3) {
                for l in 0..W {
                    nq[l] += e.normal[j] * q[j][l];
                    sn[l] += gf[j][l] * e.normal[j];
                }
            }
            for l in 0..W {
                let d = e.offset - nq[l];
                let inside = d > 0.0;
                acc[GROUND_SLOT][l] += if inside { d * sn[l] } else { 0.0 };
                for j in 0..S.min(3) {
                    gq[j][l] -= if inside {
                        e.k * sn[l] * e.normal[j]
                    } else {
                        0.0
                    };
                }
            }
        }
    }

    /// −∂F/∂q − s_v·∂F/∂v: drag adds s_v·c on the diagonal, a
    /// penetrating ground k·n nᵀ; gravity nothing.
    fn jacobian_node(
        &self,
        e: &BuiltinEnv,
        dim: usize,
        spatial: usize,
        q: &[f64],
        _m: f64,
        s_v: f64,
        block: &mut [f64],
    ) -> crate::Result<()> {
        if e.drag {
            for j in 0..dim {
                block[j * dim + j] += s_v * e.c;
            }
        }
        if e.ground && depth(e, spatial, q) > 0.0 {
            for r in 0..spatial.min(3) {
                for c in 0..spatial.min(3) {
                    block[r * dim + c] += e.k * e.normal[r] * e.normal[c];
                }
            }
        }
        Ok(())
    }

    /// −m g·q, plus dt·c|v|²/2 (drag's dissipation), plus k relu(δ)²/2.
    fn potential_node(
        &self,
        e: &BuiltinEnv,
        dim: usize,
        spatial: usize,
        q: &[f64],
        v: &[f64],
        m: f64,
        dt: f64,
    ) -> Option<f64> {
        let mut u = 0.0;
        if e.gravity {
            u -= m * (0..spatial).map(|j| e.g[j] * q[j]).sum::<f64>();
        }
        if e.drag {
            u += 0.5 * dt * e.c * (0..dim).map(|j| v[j] * v[j]).sum::<f64>();
        }
        if e.ground {
            u += 0.5 * e.k * depth(e, spatial, q).max(0.0).powi(2);
        }
        Some(u)
    }

    /// gravity: ∂L/∂g += m ḡF, ∂L/∂m += ḡF·g. drag: ∂L/∂v −= c ḡF,
    /// ∂L/∂c −= ḡF·v. ground (δ > 0, s = ḡF·n): ∂L/∂k += δ s,
    /// ∂L/∂q −= k s n.
    #[inline(always)]
    fn vjp_node<const D: usize, const S: usize>(
        &self,
        e: &BuiltinEnv,
        q: &[f64; D],
        v: &[f64; D],
        m: f64,
        gf: &[f64; D],
        gq: &mut [f64; D],
        gv: &mut [f64; D],
        gm: &mut f64,
        acc: &mut [f64; LOCAL_PARAMS_MAX],
    ) {
        let (dim, spatial) = (D, S);
        let (g, c, k) = (&e.g, e.c, e.k);
        // Fixed slots (registers in the per-node loop): g in 0..S, c at
        // DRAG_SLOT, k at GROUND_SLOT; `scatter` maps them to the buffers.
        let (oc, ok) = (DRAG_SLOT, GROUND_SLOT);
        if e.gravity_grad {
            for j in 0..spatial {
                acc[j] += m * gf[j];
                *gm += gf[j] * g[j];
            }
        }
        if e.drag {
            let mut gc = 0.0;
            for j in 0..dim {
                gv[j] -= c * gf[j];
                gc += gf[j] * v[j];
            }
            acc[oc] -= gc;
        }
        if e.ground {
            let d = depth(e, spatial, q);
            if d > 0.0 {
                let n = &e.normal;
                let mut sn = 0.0;
                for j in 0..spatial.min(3) {
                    sn += gf[j] * n[j];
                }
                acc[ok] += d * sn;
                for j in 0..spatial.min(3) {
                    gq[j] -= k * sn * n[j];
                }
            }
        }
    }
}
