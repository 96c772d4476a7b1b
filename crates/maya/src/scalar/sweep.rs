//! The reverse sweep over recorded [`Nodes`]: adj[parent] += partial ·
//! adj[node], from the last node down to node 1.

use crate::error::{Error, Pass, Result};

/// The recorded nodes, struct-of-arrays: node i's parents and partials are
/// `parents[ends[i]..ends[i + 1]]` and `partials[..]` likewise.
pub(super) struct Nodes {
    pub(super) ends: Vec<u32>,
    pub(super) parents: Vec<u32>,
    pub(super) partials: Vec<f64>,
}

impl Nodes {
    pub(super) fn len(&self) -> usize {
        self.ends.len() - 1
    }
}

/// The sweep over nodes `0..adj.len()`, whose adjoints are seeded in `adj`.
#[inline(never)]
pub(super) fn sweep(nodes: &Nodes, adj: &mut [f64]) {
    let (ends, parents, partials) = (&nodes.ends, &nodes.parents, &nodes.partials);
    assert!(adj.len() < ends.len() && ends.last().is_some_and(|&e| e as usize == parents.len()));
    assert_eq!(parents.len(), partials.len());
    for i in (1..adj.len()).rev() {
        let g = adj[i];
        // A node the output does not reach adds nothing; skipping it also
        // keeps an infinite partial (√ at 0) from adding inf · 0 = NaN.
        if g == 0.0 {
            continue;
        }
        // SAFETY: i + 1 < ends.len() (asserted above), ends is
        // non-decreasing and its last entry is parents.len() =
        // partials.len(), so k is in bounds; a node's parents were recorded
        // before it on the same tape (`Tape::push` takes them from live
        // handles of this tape, checked by `try_binary`), so p < i < adj.len().
        unsafe {
            let (s, e) = (*ends.get_unchecked(i), *ends.get_unchecked(i + 1));
            for k in s as usize..e as usize {
                let p = *parents.get_unchecked(k) as usize;
                debug_assert!(p < i);
                *adj.get_unchecked_mut(p) += *partials.get_unchecked(k) * g;
            }
        }
    }
    adj[0] = 0.0;
}

/// [`sweep`], returning the first node (by `names`) whose contribution to a
/// parent's adjoint is non-finite.
pub(super) fn sweep_checked(nodes: &Nodes, names: &[&'static str], adj: &mut [f64]) -> Result<()> {
    for i in (1..adj.len()).rev() {
        let g = adj[i];
        if g == 0.0 {
            continue;
        }
        let range = nodes.ends[i] as usize..nodes.ends[i + 1] as usize;
        for k in range.clone() {
            let p = nodes.parents[k] as usize;
            let contribution = nodes.partials[k] * g;
            adj[p] += contribution;
            if !contribution.is_finite() {
                // This sweep's error only: `first_bad` holds forward
                // reports, and a later loss may not pass through node i.
                return Err(Error::NonFiniteOp {
                    op: names[i],
                    node: i,
                    input_shapes: vec![vec![]; range.len()],
                    pass: Pass::Backward,
                });
            }
        }
    }
    adj[0] = 0.0;
    Ok(())
}
