//! [`Lin`]: a value's partials with respect to a few tape nodes, carried in
//! the [`Var`](super::Var) handle instead of recorded.
//!
//! A statement such as `x.sin() * a + x * b + 0.01` builds up the partials
//! of its result with respect to the nodes it reads (here x, a and b), one op
//! at a time, in the handle. Only a result that reads more than [`WIDTH`]
//! nodes is recorded, as one node holding all its partials; so the tape
//! holds at most one entry per statement, not one per op, and a chain that
//! reads few nodes (x ← sin(x)·a + x·b + c reads only a, b and x₀) records
//! none.
//!
//! The common cases run over all [`WIDTH`] lanes with constant indices, so
//! a `Lin` lives in registers.

/// The most nodes a handle refers to before its value is recorded.
pub(super) const WIDTH: usize = 4;

/// `Lin::idx` of an unused lane: matches no node.
const UNUSED: u32 = u32::MAX;

/// ∂value/∂node for at most [`WIDTH`] distinct nodes, one per lane. An
/// unused lane has `idx` [`UNUSED`]; its `d` is never read. The used
/// lanes are a prefix.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lin {
    pub(super) idx: [u32; WIDTH],
    pub(super) d: [f64; WIDTH],
}

impl Lin {
    /// No dependence on any node (a constant).
    pub(super) const ZERO: Lin = Lin {
        idx: [UNUSED; WIDTH],
        d: [0.0; WIDTH],
    };

    /// ∂node/∂node = 1.
    #[inline(always)]
    pub(super) fn of_node(node: u32) -> Lin {
        let mut l = Lin::ZERO;
        l.idx[0] = node;
        l.d[0] = 1.0;
        l
    }

    /// The partials times `f` (the chain rule through a unary op). A zero
    /// factor drops every lane, so an infinite partial upstream (√ at 0)
    /// times a zero one downstream adds nothing instead of NaN, as the
    /// sweep skips a zero adjoint.
    #[inline(always)]
    pub(super) fn scale(mut self, f: f64) -> Lin {
        if f == 0.0 {
            return Lin::ZERO;
        }
        for d in &mut self.d {
            *d *= f;
        }
        self
    }

    /// `self · fa + other · fb`, merging lanes of the same node, or `None`
    /// if that reads more than [`WIDTH`] nodes.
    #[inline(always)]
    pub(super) fn combine(self, fa: f64, other: Lin, fb: f64) -> Option<Lin> {
        // Used lanes are a prefix (lanes are only freed all at once, by
        // `scale(0)`), so lane 1 unused means at most one node: an op with
        // an input, added to the other side's lanes.
        if other.idx[1] == UNUSED {
            return self.scale(fa).plus_one(other.idx[0], other.d[0], fb);
        }
        if self.idx[1] == UNUSED {
            return other.scale(fb).plus_one(self.idx[0], self.d[0], fa);
        }
        let (a, b) = (self.scale(fa), other.scale(fb));
        if a.idx == b.idx {
            // A statement repeated in a loop meets the same nodes in the
            // same lanes.
            Some(a.add_lanes(&b))
        } else {
            // Copies for the out-of-line general case, so that `a` and `b`
            // themselves never have their address taken and stay in
            // registers on the fast paths.
            merge(std::hint::black_box(a), std::hint::black_box(b))
        }
    }

    /// `self + d · f · ∂node` (`node` may be unused; a zero `f` adds
    /// nothing, as in [`Lin::scale`]).
    #[inline(always)]
    fn plus_one(mut self, node: u32, d: f64, f: f64) -> Option<Lin> {
        if node == UNUSED || f == 0.0 {
            return Some(self);
        }
        let d = d * f;
        if self.add_at(node, d) {
            return Some(self);
        }
        if self.idx[WIDTH - 1] != UNUSED {
            return None;
        }
        let mut placed = false;
        for k in 0..WIDTH {
            let free = !placed && self.idx[k] == UNUSED;
            if free {
                self.idx[k] = node;
                self.d[k] = d;
            }
            placed |= free;
        }
        Some(self)
    }

    /// Adds `d` to the lane of `node`; whether there is one. Masks the
    /// bits of `d` (no branch per lane, and no inf · 0 in other lanes).
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn add_at(&mut self, node: u32, d: f64) -> bool {
        self.add_at_portable(node, d)
    }

    /// [`Lin::add_at`] without SIMD.
    #[cfg(any(test, not(target_arch = "x86_64")))]
    #[inline(always)]
    fn add_at_portable(&mut self, node: u32, d: f64) -> bool {
        let mut hit = 0u64;
        for k in 0..WIDTH {
            let mask = 0u64.wrapping_sub((self.idx[k] == node) as u64);
            self.d[k] += f64::from_bits(d.to_bits() & mask);
            hit |= mask;
        }
        hit != 0
    }

    /// Adds `d` to the lane of `node`; whether there is one (SSE2: one
    /// compare of the four indices, two masked adds; no inf · 0 in other
    /// lanes).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn add_at(&mut self, node: u32, d: f64) -> bool {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; the loads and stores are
        // unaligned ones within `idx` (16 bytes) and `d` (2 × 16 bytes).
        unsafe {
            let idx = _mm_loadu_si128(self.idx.as_ptr().cast());
            let same = _mm_cmpeq_epi32(idx, _mm_set1_epi32(node as i32));
            // Widen lanes 0, 1 and 2, 3 of the 32-bit mask to 64 bits.
            let lo = _mm_castsi128_pd(_mm_shuffle_epi32::<0b01_01_00_00>(same));
            let hi = _mm_castsi128_pd(_mm_shuffle_epi32::<0b11_11_10_10>(same));
            let dd = _mm_set1_pd(d);
            let p = self.d.as_mut_ptr();
            _mm_storeu_pd(p, _mm_add_pd(_mm_loadu_pd(p), _mm_and_pd(lo, dd)));
            let p2 = p.add(2);
            _mm_storeu_pd(p2, _mm_add_pd(_mm_loadu_pd(p2), _mm_and_pd(hi, dd)));
            _mm_movemask_epi8(same) != 0
        }
    }

    /// Lane-by-lane sum of the partials (same nodes in the same lanes).
    #[inline(always)]
    fn add_lanes(mut self, b: &Lin) -> Lin {
        for k in 0..WIDTH {
            self.d[k] += b.d[k];
        }
        self
    }

    /// [`Lin::combine`] with room for every node of both: (nodes,
    /// partials), `2 · WIDTH` lanes at most.
    #[cold]
    pub(super) fn combine_wide(self, fa: f64, other: Lin, fb: f64) -> (Vec<u32>, Vec<f64>) {
        let (mut idx, mut d): (Vec<u32>, Vec<f64>) = self.scale(fa).entries().unzip();
        for (node, db) in other.scale(fb).entries() {
            match idx.iter().position(|&i| i == node) {
                Some(k) => d[k] += db,
                None => {
                    idx.push(node);
                    d.push(db);
                }
            }
        }
        (idx, d)
    }

    /// The lanes in use: (node, partial).
    pub(super) fn entries(self) -> impl Iterator<Item = (u32, f64)> {
        self.idx
            .into_iter()
            .zip(self.d)
            .filter(|&(i, _)| i != UNUSED)
    }
}

/// [`Lin::combine`] of two scaled `Lin`s of two nodes or more each.
#[inline(never)]
fn merge(mut a: Lin, b: Lin) -> Option<Lin> {
    let mut used = a.entries().count();
    let a_used = used;
    for (node, d) in b.entries() {
        // `b`'s lanes are distinct: search `a`'s own lanes only.
        match a.idx[..a_used].iter().position(|&i| i == node) {
            Some(k) => a.d[k] += d,
            None if used == WIDTH => return None,
            None => {
                a.idx[used] = node;
                a.d[used] = d;
                used += 1;
            }
        }
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::{Lin, UNUSED};

    #[test]
    fn adding_at_a_node_s_lane_with_and_without_simd_agree() {
        let mut l = Lin::ZERO;
        l.idx[..3].copy_from_slice(&[7, 2, 9]);
        l.d[..3].copy_from_slice(&[0.5, f64::INFINITY, -1.25]);
        for (node, d) in [
            (2, 3.0),
            (9, -0.5),
            (7, 1e-300),
            (4, 2.0),
            (UNUSED - 1, 1.0),
        ] {
            let (mut simd, mut plain) = (l, l);
            let hit = simd.add_at(node, d);
            assert_eq!(hit, plain.add_at_portable(node, d));
            assert_eq!(hit, l.idx.contains(&node), "node {node}");
            for k in 0..3 {
                let want = l.d[k] + if l.idx[k] == node { d } else { 0.0 };
                // The infinite lane stays infinite (no inf · 0 = NaN).
                assert_eq!(simd.d[k], want, "node {node}, lane {k}");
                assert_eq!(plain.d[k], want, "node {node}, lane {k}");
            }
        }
    }
}
