//! The common case fused further: gravity, drag and ground contact (each
//! optional, in that order) with semi-implicit Euler, as one loop over
//! particles instead of one pass per force.
//!
//! Same arithmetic, in the same order, as the general path of
//! [`ParticleStep`](super::particles): forces sum into F from zero in the
//! system's order, then v' = v + dt·(F·(1/m)), p' = p + dt·v'. The adjoint
//! is the general path's, per particle; only the order in which the
//! parameter gradients (∂L/∂c, ∂L/∂k, ∂L/∂g) are summed differs.

use super::forces::{Drag, Force, Gravity, Ground, Span, SpanGrads};
use std::any::Any;
use std::sync::Arc;

/// Which built-in forces act, with the ground's plane.
pub(crate) struct Builtin {
    gravity: bool,
    drag: bool,
    ground: Option<(Vec<f64>, f64)>,
}

impl Builtin {
    /// `Some` when the forces are gravity, drag, ground (each at most once,
    /// in that order, at least one of them).
    pub fn detect(forces: &[Arc<dyn Force>]) -> Option<Builtin> {
        let mut b = Builtin {
            gravity: false,
            drag: false,
            ground: None,
        };
        let mut rank = 0;
        for f in forces {
            let any: &dyn Any = f.as_ref();
            if any.is::<Gravity>() && rank < 1 {
                b.gravity = true;
                rank = 1;
            } else if any.is::<Drag>() && rank < 2 {
                b.drag = true;
                rank = 2;
            } else if let (Some(g), true) = (any.downcast_ref::<Ground>(), rank < 3) {
                b.ground = Some((g.normal.clone(), g.height));
                rank = 3;
            } else {
                return None;
            }
        }
        (rank > 0).then_some(b)
    }

    /// (g, c, k) from the environment's parameters, in force order.
    fn params<'a>(&self, params: &[&'a [f64]]) -> (&'a [f64], f64, f64) {
        let mut it = params.iter();
        let g: &[f64] = if self.gravity {
            it.next().expect("g")
        } else {
            &[0.0; 3]
        };
        let c = if self.drag {
            it.next().expect("c")[0]
        } else {
            0.0
        };
        let k = if self.ground.is_some() {
            it.next().expect("k")[0]
        } else {
            0.0
        };
        (g, c, k)
    }

    /// Forces and semi-implicit update of one chunk, for D = 2 or 3.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn forward<const D: usize>(
        &self,
        dt: f64,
        params: &[&[f64]],
        s: &Span,
        inv_m: &[f64],
        p1: &mut [f64],
        v1: &mut [f64],
    ) {
        let d = D;
        let (g, c, k) = self.params(params);
        let (normal, height) = match &self.ground {
            Some((n, h)) => (&n[..d], *h),
            None => (&[0.0; 3][..d], 0.0),
        };
        let (gravity, drag, ground) = (self.gravity, self.drag, self.ground.is_some());
        let states =
            s.p.chunks_exact(d)
                .zip(s.v.chunks_exact(d))
                .zip(s.m.iter().zip(inv_m));
        let outs = p1.chunks_exact_mut(d).zip(v1.chunks_exact_mut(d));
        for (((p, v), (&m, &inv)), (p1, v1)) in states.zip(outs) {
            let mut f = [0.0f64; 3];
            if gravity {
                for q in 0..d {
                    f[q] += m * g[q];
                }
            }
            if drag {
                for q in 0..d {
                    f[q] -= c * v[q];
                }
            }
            if ground {
                let mut np = 0.0;
                for q in 0..d {
                    np += normal[q] * p[q];
                }
                let push = k * (height - np).max(0.0);
                for q in 0..d {
                    f[q] += push * normal[q];
                }
            }
            let (mut pn, mut vn) = ([0.0f64; 3], [0.0f64; 3]);
            for q in 0..d {
                vn[q] = v[q] + dt * (f[q] * inv);
                pn[q] = p[q] + dt * vn[q];
            }
            v1.copy_from_slice(&vn[..d]);
            p1.copy_from_slice(&pn[..d]);
        }
    }

    /// The adjoint of [`Self::forward`] for one chunk.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn adjoint<const D: usize>(
        &self,
        dt: f64,
        params: &[&[f64]],
        s: &Span,
        inv_m: &[f64],
        grad_p1: &[f64],
        grad_v1: &[f64],
        g: &mut SpanGrads,
    ) {
        let d = D;
        let (grav, c, k) = self.params(params);
        let (normal, height) = match &self.ground {
            Some((n, h)) => (&n[..d], *h),
            None => (&[0.0; 3][..d], 0.0),
        };
        let mut it = g.needs_params.iter();
        let need_g = self.gravity && *it.next().expect("g");
        let need_c = self.drag && *it.next().expect("c");
        let need_mass = g.needs_mass;
        let (mut gc, mut gk) = (0.0, 0.0);
        let mut gg = [0.0; 3];
        let (gpv, gvv) = (&mut *g.p, &mut *g.v);
        let states =
            s.p.chunks_exact(d)
                .zip(s.v.chunks_exact(d))
                .zip(s.m.iter().zip(inv_m));
        let seeds = grad_p1.chunks_exact(d).zip(grad_v1.chunks_exact(d));
        let grads = gpv.chunks_exact_mut(d).zip(gvv.chunks_exact_mut(d));
        for (i, ((((p, v), (&m, &inv)), (gp1, gv1)), (gp, gv))) in
            states.zip(seeds).zip(grads).enumerate()
        {
            let mut gf = [0.0f64; 3];
            for q in 0..d {
                let u = gv1[q] + dt * gp1[q];
                gv[q] += u;
                gp[q] += gp1[q];
                gf[q] = (dt * u) * inv;
            }
            let mut gm = 0.0;
            if self.gravity && (need_g || need_mass) {
                for q in 0..d {
                    gg[q] += m * gf[q];
                    gm += gf[q] * grav[q];
                }
            }
            if self.drag {
                let mut gcv = 0.0;
                for q in 0..d {
                    gv[q] -= c * gf[q];
                    gcv += gf[q] * v[q];
                }
                gc -= gcv;
            }
            let mut depth = 0.0;
            if self.ground.is_some() {
                let mut np = 0.0;
                for q in 0..d {
                    np += normal[q] * p[q];
                }
                depth = height - np;
                if depth > 0.0 {
                    let mut sn = 0.0;
                    for q in 0..d {
                        sn += gf[q] * normal[q];
                    }
                    gk += depth * sn;
                    for q in 0..d {
                        gp[q] -= k * sn * normal[q];
                    }
                }
            }
            if need_mass {
                // a = F/m: ∂L/∂m −= ḡF·F/m, with F recomputed.
                let mut s = 0.0;
                for q in 0..d {
                    let mut f = m * grav[q] * (self.gravity as u8 as f64) - c * v[q];
                    f += k * depth.max(0.0) * normal[q];
                    s += gf[q] * f;
                }
                g.m[i] += gm - s * inv;
            }
        }
        let mut it = g.params.iter_mut();
        if self.gravity {
            let out = it.next().expect("g");
            if need_g {
                for q in 0..d {
                    out[q] += gg[q];
                }
            }
        }
        if self.drag {
            let out = it.next().expect("c");
            if need_c {
                out[0] += gc;
            }
        }
        if self.ground.is_some() {
            it.next().expect("k")[0] += gk;
        }
    }
}
