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
//! [`Lanes`] is the plain definition, on arrays; on x86_64, [`Lin`] is the
//! same in SSE2 registers (`sse2`), which the optimiser keeps in registers
//! through a loop. Elsewhere `Lin` is `Lanes`.

#[cfg(target_arch = "x86_64")]
mod sse2;

#[cfg(target_arch = "x86_64")]
pub(super) use sse2::Lin;
#[cfg(not(target_arch = "x86_64"))]
pub(super) type Lin = Lanes;

/// The most nodes a handle refers to before its value is recorded.
pub(super) const WIDTH: usize = 4;

/// `Lanes::idx` of an unused lane: matches no node.
const UNUSED: u32 = u32::MAX;

/// The high 32 bits of 2⁻⁶⁰⁰ and 2⁶⁰⁰ (their low 32 bits are zero): the
/// bounds of `Lanes::in_range`.
const SMALLEST_HIGH: u32 = (1023 - 600) << 20;
const LARGEST_HIGH: u32 = (1023 + 600) << 20;

/// ∂value/∂node for at most [`WIDTH`] distinct nodes, one per lane. An
/// unused lane has `idx` [`UNUSED`]; its `d` is never read. The used
/// lanes are a prefix (lanes are only freed all at once, by `scale(0)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Lanes {
    pub(super) idx: [u32; WIDTH],
    pub(super) d: [f64; WIDTH],
}

#[cfg(any(test, not(target_arch = "x86_64")))]
impl Lanes {
    /// No dependence on any node (a constant).
    #[inline(always)]
    pub(super) fn zero() -> Lanes {
        Lanes {
            idx: [UNUSED; WIDTH],
            d: [0.0; WIDTH],
        }
    }

    /// ∂node/∂node = 1.
    #[inline(always)]
    pub(super) fn of_node(node: u32) -> Lanes {
        let mut l = Lanes::zero();
        l.idx[0] = node;
        l.d[0] = 1.0;
        l
    }

    /// The partials times `f` (the chain rule through a unary op). A zero
    /// factor drops every lane, so an infinite partial upstream (√ at 0)
    /// times a zero one downstream adds nothing instead of NaN, as the
    /// sweep skips a zero adjoint.
    #[inline(always)]
    pub(super) fn scale(mut self, f: f64) -> Lanes {
        if f == 0.0 {
            return Lanes::zero();
        }
        for d in &mut self.d {
            *d *= f;
        }
        self
    }

    /// `self · fa + other · fb`, merging lanes of the same node, or `None`
    /// if that reads more than [`WIDTH`] nodes.
    #[inline(always)]
    pub(super) fn combine(self, fa: f64, other: Lanes, fb: f64) -> Option<Lanes> {
        // Lane 1 unused means at most one node: an op with an input, added
        // to the other side's lanes.
        if other.idx[1] == UNUSED {
            return self.scale(fa).plus_one(other.idx[0], other.d[0], fb);
        }
        if self.idx[1] == UNUSED {
            return other.scale(fb).plus_one(self.idx[0], self.d[0], fa);
        }
        self.scale(fa).merge(&other.scale(fb))
    }

    /// `self + d · f · ∂node` (`node` may be unused; a zero `f` adds
    /// nothing, as in [`Lanes::scale`]).
    #[inline(always)]
    fn plus_one(mut self, node: u32, d: f64, f: f64) -> Option<Lanes> {
        if node == UNUSED || f == 0.0 {
            return Some(self);
        }
        let d = d * f;
        match self.idx.iter().position(|&i| i == node) {
            Some(k) => self.d[k] += d,
            None if self.idx[WIDTH - 1] != UNUSED => return None,
            None => {
                let k = self.idx.iter().position(|&i| i == UNUSED)?;
                self.idx[k] = node;
                self.d[k] = d;
            }
        }
        Some(self)
    }

    /// Whether every partial is 0 or between 2⁻⁶⁰⁰ and 2⁶⁰⁰ in magnitude,
    /// judged on its high 32 bits (unused lanes included: they hold 0
    /// unless scaled by inf or NaN).
    ///
    /// A handle carried through a long loop multiplies its partials once
    /// per op: ∂xₜ/∂x₀ of a contracting loop shrinks geometrically, and once
    /// it is subnormal every later multiply takes the processor's slow path
    /// (W1 ran at twice its time), while gradual underflow loses its
    /// digits. The tape records a handle that leaves this range as a node
    /// (`Tape::restart`), so the product starts again from 1 and the
    /// reverse sweep multiplies the pieces, as reverse mode does.
    #[inline(always)]
    pub(super) fn in_range(self) -> bool {
        self.d.iter().all(|&d| {
            let bits = d.to_bits() & !(1 << 63);
            let high = (bits >> 32) as u32;
            bits == 0 || (SMALLEST_HIGH..=LARGEST_HIGH).contains(&high)
        })
    }
}

impl Lanes {
    /// `self + other` lane by node, or `None` if that reads more than
    /// [`WIDTH`] nodes.
    #[inline(always)]
    pub(super) fn merge(mut self, other: &Lanes) -> Option<Lanes> {
        if self.idx == other.idx {
            // A statement repeated in a loop meets the same nodes in the
            // same lanes.
            for k in 0..WIDTH {
                self.d[k] += other.d[k];
            }
            return Some(self);
        }
        let mut used = self.idx.iter().filter(|&&i| i != UNUSED).count();
        let own = used;
        for (node, d) in other.entries() {
            // `other`'s lanes are distinct: search `self`'s own lanes only.
            match self.idx[..own].iter().position(|&i| i == node) {
                Some(k) => self.d[k] += d,
                None if used == WIDTH => return None,
                None => {
                    self.idx[used] = node;
                    self.d[used] = d;
                    used += 1;
                }
            }
        }
        Some(self)
    }

    /// The lanes in use: (node, partial).
    pub(super) fn entries(self) -> impl Iterator<Item = (u32, f64)> {
        self.idx
            .into_iter()
            .zip(self.d)
            .filter(|&(i, _)| i != UNUSED)
    }
}

/// The general cases of [`Lin`], through [`Lanes`].
impl Lin {
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
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
