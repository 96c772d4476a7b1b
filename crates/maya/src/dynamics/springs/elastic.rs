//! The undamped spring network's force and adjoint for a fixed number of
//! coordinates per node: the hot loops of a spring rollout.
//!
//! The node arrays are viewed as `[f64; D]` rows (one bounds check per
//! endpoint) and the springs go two at a time, so that their square roots
//! and divisions, the costly part, run as pairs ([`lanes`]). Every spring
//! computes the same expressions as the general loops in `springs.rs` and
//! the scatter onto the nodes keeps the spring order, so the results are
//! bit-identical to them.

use super::lanes::{div, sqrt};
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

/// Springs `first..first + W`: endpoints and parameters.
struct Group<'a, const W: usize> {
    first: usize,
    ends: &'a [[u32; 2]; W],
    k: &'a [f64; W],
    rest: &'a [f64; W],
}

/// The springs in groups of two, and the last one alone if their number
/// is odd.
#[allow(clippy::type_complexity)]
fn groups<'a>(net: &Springs<'a>) -> (impl Iterator<Item = Group<'a, 2>>, Option<Group<'a, 1>>) {
    let (ends, ends_tail) = net.ends.as_chunks::<2>();
    let (k, k_tail) = net.k.as_chunks::<2>();
    let (rest, rest_tail) = net.rest.as_chunks::<2>();
    let pairs = ends.iter().zip(k.iter().zip(rest)).enumerate();
    let pairs = pairs.map(|(p, (ends, (k, rest)))| Group {
        first: 2 * p,
        ends,
        k,
        rest,
    });
    let single = match (
        <&[[u32; 2]; 1]>::try_from(ends_tail),
        <&[f64; 1]>::try_from(k_tail),
        <&[f64; 1]>::try_from(rest_tail),
    ) {
        (Ok(ends), Ok(k), Ok(rest)) => Some(Group {
            first: net.ends.len() - 1,
            ends,
            k,
            rest,
        }),
        _ => None,
    };
    (pairs, single)
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
    let (pairs, single) = groups(net);
    for g in pairs {
        force_group::<D, 2>(g, q, f, &coincident)?;
    }
    if let Some(g) = single {
        force_group::<D, 1>(g, q, f, &coincident)?;
    }
    Ok(())
}

#[inline(always)]
fn force_group<const D: usize, const W: usize>(
    g: Group<'_, W>,
    q: &[[f64; D]],
    f: &mut [[f64; D]],
    coincident: &impl Fn(usize) -> Option<Error>,
) -> Result<()> {
    let ends = g.ends.map(|[a, b]| [a as usize, b as usize]);
    let (mut dv, mut l2) = ([[0.0; D]; W], [0.0; W]);
    for u in 0..W {
        let (qa, qb) = (&q[ends[u][0]], &q[ends[u][1]]);
        for c in 0..D {
            dv[u][c] = qb[c] - qa[c];
            l2[u] += dv[u][c] * dv[u][c];
        }
    }
    let l = sqrt(l2);
    let m = div::<W>(std::array::from_fn(|u| g.k[u] * (l[u] - g.rest[u])), l);
    for u in 0..W {
        if l2[u] == 0.0 {
            match coincident(g.first + u) {
                Some(e) => return Err(e),
                None => continue, // rest length 0 at l = 0: no force
            }
        }
        let [ia, ib] = ends[u];
        scatter(f, ia, ib, std::array::from_fn(|c| m[u] * dv[u][c]));
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
    let mut out = Out {
        q: gq,
        k: g.k,
        rest: g.rest,
    };
    let (pairs, single) = groups(net);
    for grp in pairs {
        vjp_group::<D, 2>(grp, q, grad_f, &mut out, &coincident)?;
    }
    if let Some(grp) = single {
        vjp_group::<D, 1>(grp, q, grad_f, &mut out, &coincident)?;
    }
    Ok(())
}

/// [`ElasticGrads`] with ∂L/∂q as rows.
struct Out<'a, const D: usize> {
    q: &'a mut [[f64; D]],
    k: Option<&'a mut [f64]>,
    rest: Option<&'a mut [f64]>,
}

#[inline(always)]
fn vjp_group<const D: usize, const W: usize>(
    g: Group<'_, W>,
    q: &[[f64; D]],
    grad_f: &[[f64; D]],
    out: &mut Out<'_, D>,
    coincident: &impl Fn(usize) -> Option<Error>,
) -> Result<()> {
    let ends = g.ends.map(|[a, b]| [a as usize, b as usize]);
    let (ks, ls) = (g.k, g.rest);
    let (mut dv, mut gf) = ([[0.0; D]; W], [[0.0; D]; W]);
    let (mut l2, mut gfd) = ([0.0; W], [0.0; W]);
    for u in 0..W {
        let [ia, ib] = ends[u];
        let (qa, qb, gfa, gfb) = (&q[ia], &q[ib], &grad_f[ia], &grad_f[ib]);
        for c in 0..D {
            dv[u][c] = qb[c] - qa[c];
            gf[u][c] = gfa[c] - gfb[c];
            l2[u] += dv[u][c] * dv[u][c];
            gfd[u] += gf[u][c] * dv[u][c];
        }
    }
    let l = sqrt(l2);
    let dk = div::<W>(std::array::from_fn(|u| gfd[u] * (l[u] - ls[u])), l);
    let drest = match out.rest {
        Some(_) => div::<W>(std::array::from_fn(|u| ks[u] * gfd[u]), l),
        None => [0.0; W],
    };
    let rl = div::<W>(*ls, l);
    let qdd = div::<W>(
        std::array::from_fn(|u| ks[u] * ls[u]),
        std::array::from_fn(|u| l[u] * l2[u]),
    );
    for u in 0..W {
        let sp = g.first + u;
        let [ia, ib] = ends[u];
        if l2[u] == 0.0 {
            if let Some(e) = coincident(sp) {
                return Err(e);
            }
            // f = k·d near l = L = 0: ∂f/∂d = k·I, ∂f/∂k = d = 0.
            scatter(out.q, ib, ia, std::array::from_fn(|c| ks[u] * gf[u][c]));
            continue;
        }
        if let Some(gk) = out.k.as_deref_mut() {
            gk[sp] += dk[u];
        }
        if let Some(grest) = out.rest.as_deref_mut() {
            grest[sp] -= drest[u];
        }
        let m = ks[u] * (1.0 - rl[u]);
        let qd = qdd[u] * gfd[u];
        let gd = std::array::from_fn(|c| m * gf[u][c] + qd * dv[u][c]);
        scatter(out.q, ib, ia, gd);
    }
    Ok(())
}

/// `rows[plus] += x`, `rows[minus] −= x` (two different rows), each row
/// read and written whole: a row written coordinate by coordinate and read
/// whole by the next spring on that node stalls the load.
#[inline(always)]
fn scatter<const D: usize>(rows: &mut [[f64; D]], plus: usize, minus: usize, x: [f64; D]) {
    let p = rows[plus];
    rows[plus] = std::array::from_fn(|c| p[c] + x[c]);
    let m = rows[minus];
    rows[minus] = std::array::from_fn(|c| m[c] - x[c]);
}
