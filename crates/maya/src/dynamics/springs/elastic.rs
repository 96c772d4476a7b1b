//! The undamped spring network's force and adjoint for a fixed number of
//! coordinates per node: the hot loops of a spring rollout, with the node
//! arrays viewed as `[f64; D]` rows (one bounds check per endpoint) and the
//! per-spring arrays walked together. Same arithmetic, in the same order,
//! as the general loops in `springs.rs`, so the results are bit-identical.

use crate::error::{Error, Result};

/// Spring s joins `ends[s]` (as 32-bit indices: half the memory traffic of
/// `usize`), with stiffness `k[s]` and rest length `rest[s]`.
pub(super) struct Springs<'a> {
    pub ends: &'a [[u32; 2]],
    pub k: &'a [f64],
    pub rest: &'a [f64],
}

/// The gradients the adjoint accumulates into; a parameter that needs no
/// gradient is `None` and skipped.
pub(super) struct ElasticGrads<'a> {
    pub q: &'a mut [f64],
    pub k: Option<&'a mut [f64]>,
    pub rest: Option<&'a mut [f64]>,
}

/// F_a += k(l − L)·d/l, F_b −= the same, for every spring; `coincident(s)`
/// decides a spring of length 0 (an error, or `None`: no force).
pub(super) fn force<const D: usize>(
    net: &Springs,
    q: &[f64],
    f: &mut [f64],
    coincident: impl Fn(usize) -> Option<Error>,
) -> Result<()> {
    let (q, _) = q.as_chunks::<D>();
    let (f, _) = f.as_chunks_mut::<D>();
    let per_spring = net.ends.iter().zip(net.k.iter().zip(net.rest));
    for (sp, (&[ia, ib], (&ks, &ls))) in per_spring.enumerate() {
        let (ia, ib) = (ia as usize, ib as usize);
        let (qa, qb) = (&q[ia], &q[ib]);
        let mut dv = [0.0; D];
        let mut l2 = 0.0;
        for c in 0..D {
            dv[c] = qb[c] - qa[c];
            l2 += dv[c] * dv[c];
        }
        if l2 == 0.0 {
            match coincident(sp) {
                Some(e) => return Err(e),
                None => continue, // rest length 0 at l = 0: no force
            }
        }
        let l = l2.sqrt();
        let m = ks * (l - ls) / l;
        for c in 0..D {
            let fc = m * dv[c];
            f[ia][c] += fc;
            f[ib][c] -= fc;
        }
    }
    Ok(())
}

/// The adjoint of [`force`] for ḡF = `grad_f`: into ∂L/∂q and the
/// stiffness and rest-length gradients that are asked for.
pub(super) fn vjp<const D: usize>(
    net: &Springs,
    q: &[f64],
    grad_f: &[f64],
    g: ElasticGrads,
    coincident: impl Fn(usize) -> Option<Error>,
) -> Result<()> {
    let (q, _) = q.as_chunks::<D>();
    let (grad_f, _) = grad_f.as_chunks::<D>();
    let (gq, _) = g.q.as_chunks_mut::<D>();
    let (mut gk, mut grest) = (g.k, g.rest);
    let per_spring = net.ends.iter().zip(net.k.iter().zip(net.rest));
    for (sp, (&[ia, ib], (&ks, &ls))) in per_spring.enumerate() {
        let (ia, ib) = (ia as usize, ib as usize);
        let (qa, qb) = (&q[ia], &q[ib]);
        let (gfa, gfb) = (&grad_f[ia], &grad_f[ib]);
        let (mut dv, mut gf) = ([0.0; D], [0.0; D]);
        let (mut l2, mut gfd) = (0.0, 0.0);
        for c in 0..D {
            dv[c] = qb[c] - qa[c];
            gf[c] = gfa[c] - gfb[c];
            l2 += dv[c] * dv[c];
            gfd += gf[c] * dv[c];
        }
        if l2 == 0.0 {
            if let Some(e) = coincident(sp) {
                return Err(e);
            }
            // f = k·d near l = L = 0: ∂f/∂d = k·I, ∂f/∂k = d = 0.
            for c in 0..D {
                gq[ib][c] += ks * gf[c];
                gq[ia][c] -= ks * gf[c];
            }
            continue;
        }
        let l = l2.sqrt();
        if let Some(gk) = gk.as_deref_mut() {
            gk[sp] += gfd * (l - ls) / l;
        }
        if let Some(grest) = grest.as_deref_mut() {
            grest[sp] -= ks * gfd / l;
        }
        let m = ks * (1.0 - ls / l);
        let qd = ks * ls / (l * l2) * gfd;
        for c in 0..D {
            let gd = m * gf[c] + qd * dv[c];
            gq[ib][c] += gd;
            gq[ia][c] -= gd;
        }
    }
    Ok(())
}
