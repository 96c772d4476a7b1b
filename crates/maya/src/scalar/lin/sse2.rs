//! [`Lin`] in SSE2 registers (x86_64): the four node indices in one
//! `__m128i`, the four partials in two `__m128d`. Every hot op is a few
//! vector instructions on whole registers, so the optimiser keeps a handle
//! in registers through a loop instead of splitting it into array elements
//! and copying them through the stack; the general, cold cases go through
//! [`Lanes`].

use super::{Lanes, UNUSED, WIDTH};
use std::arch::x86_64::*;

/// ∂value/∂node for at most [`WIDTH`] distinct nodes, one per lane (see
/// [`Lanes`] for the meaning of the lanes).
#[derive(Clone, Copy, Debug)]
pub(in crate::scalar) struct Lin {
    idx: __m128i,
    /// Partials of lanes 0, 1 and 2, 3.
    lo: __m128d,
    hi: __m128d,
}

// SAFETY (every `unsafe` block below): the intrinsics are SSE2, which is
// part of x86_64; none reads or writes memory but the local arrays passed
// to the unaligned loads and stores, within their bounds.

/// `node` in every 32-bit lane.
#[inline(always)]
fn splat(node: u32) -> __m128i {
    unsafe { _mm_set1_epi32(node as i32) }
}

/// The 32-bit lane mask `same` widened to two 64-bit masks (lanes 0, 1 and
/// 2, 3).
#[inline(always)]
fn widen(same: __m128i) -> (__m128d, __m128d) {
    unsafe {
        (
            _mm_castsi128_pd(_mm_shuffle_epi32::<0b01_01_00_00>(same)),
            _mm_castsi128_pd(_mm_shuffle_epi32::<0b11_11_10_10>(same)),
        )
    }
}

impl Lin {
    /// No dependence on any node (a constant).
    #[inline(always)]
    pub(in crate::scalar) fn zero() -> Lin {
        unsafe {
            Lin {
                idx: splat(UNUSED),
                lo: _mm_setzero_pd(),
                hi: _mm_setzero_pd(),
            }
        }
    }

    /// ∂node/∂node = 1.
    #[inline(always)]
    pub(in crate::scalar) fn of_node(node: u32) -> Lin {
        unsafe {
            Lin {
                idx: _mm_set_epi32(-1, -1, -1, node as i32),
                lo: _mm_set_sd(1.0),
                hi: _mm_setzero_pd(),
            }
        }
    }

    /// The lanes as arrays, for the cold paths.
    pub(super) fn lanes(self) -> Lanes {
        let mut l = Lanes {
            idx: [UNUSED; WIDTH],
            d: [0.0; WIDTH],
        };
        unsafe {
            _mm_storeu_si128(l.idx.as_mut_ptr().cast(), self.idx);
            _mm_storeu_pd(l.d.as_mut_ptr(), self.lo);
            _mm_storeu_pd(l.d.as_mut_ptr().add(2), self.hi);
        }
        l
    }

    /// [`Lin::lanes`] back.
    pub(super) fn from_lanes(l: &Lanes) -> Lin {
        unsafe {
            Lin {
                idx: _mm_loadu_si128(l.idx.as_ptr().cast()),
                lo: _mm_loadu_pd(l.d.as_ptr()),
                hi: _mm_loadu_pd(l.d.as_ptr().add(2)),
            }
        }
    }

    /// The node of lane `K`.
    #[inline(always)]
    fn lane<const K: usize>(self) -> u32 {
        unsafe {
            let lane = match K {
                0 => self.idx,
                1 => _mm_shuffle_epi32::<0b01_01_01_01>(self.idx),
                2 => _mm_shuffle_epi32::<0b10_10_10_10>(self.idx),
                _ => _mm_shuffle_epi32::<0b11_11_11_11>(self.idx),
            };
            _mm_cvtsi128_si32(lane) as u32
        }
    }

    /// The lanes in use: (node, partial).
    pub(in crate::scalar) fn entries(self) -> impl Iterator<Item = (u32, f64)> {
        self.lanes().entries()
    }

    /// The partials times `f` (see `Lanes::scale`: a zero factor drops
    /// every lane).
    #[inline(always)]
    pub(in crate::scalar) fn scale(self, f: f64) -> Lin {
        if f == 0.0 {
            return Lin::zero();
        }
        unsafe {
            let f = _mm_set1_pd(f);
            Lin {
                idx: self.idx,
                lo: _mm_mul_pd(self.lo, f),
                hi: _mm_mul_pd(self.hi, f),
            }
        }
    }

    /// `self · fa + other · fb`, merging lanes of the same node, or `None`
    /// if that reads more than [`WIDTH`] nodes.
    #[inline(always)]
    pub(in crate::scalar) fn combine(self, fa: f64, other: Lin, fb: f64) -> Option<Lin> {
        // Used lanes are a prefix, so lane 1 unused means at most one node.
        if other.lane::<1>() == UNUSED {
            let d = unsafe { _mm_cvtsd_f64(other.lo) };
            return self.scale(fa).plus_one(other.lane::<0>(), d, fb);
        }
        if self.lane::<1>() == UNUSED {
            let d = unsafe { _mm_cvtsd_f64(self.lo) };
            return other.scale(fb).plus_one(self.lane::<0>(), d, fa);
        }
        let (a, b) = (self.scale(fa), other.scale(fb));
        let same = unsafe { _mm_movemask_epi8(_mm_cmpeq_epi32(a.idx, b.idx)) == 0xffff };
        if same {
            // A statement repeated in a loop meets the same nodes in the
            // same lanes.
            unsafe {
                Some(Lin {
                    idx: a.idx,
                    lo: _mm_add_pd(a.lo, b.lo),
                    hi: _mm_add_pd(a.hi, b.hi),
                })
            }
        } else {
            merge(a, b)
        }
    }

    /// `self + d · f · ∂node` (`node` may be unused; a zero `f` adds
    /// nothing, as in [`Lin::scale`]).
    #[inline(always)]
    fn plus_one(self, node: u32, d: f64, f: f64) -> Option<Lin> {
        if node == UNUSED || f == 0.0 {
            return Some(self);
        }
        let d = d * f;
        unsafe {
            let dd = _mm_set1_pd(d);
            let same = _mm_cmpeq_epi32(self.idx, splat(node));
            if _mm_movemask_epi8(same) != 0 {
                // Masked adds: no inf · 0 in the other lanes.
                let (m_lo, m_hi) = widen(same);
                return Some(Lin {
                    idx: self.idx,
                    lo: _mm_add_pd(self.lo, _mm_and_pd(m_lo, dd)),
                    hi: _mm_add_pd(self.hi, _mm_and_pd(m_hi, dd)),
                });
            }
            if self.lane::<3>() != UNUSED {
                return None;
            }
            // The first unused lane takes the node.
            let free = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(self.idx, splat(UNUSED))));
            let first = _mm_cmpeq_epi32(
                _mm_set_epi32(3, 2, 1, 0),
                _mm_set1_epi32(free.trailing_zeros() as i32),
            );
            let (m_lo, m_hi) = widen(first);
            Some(Lin {
                idx: _mm_or_si128(
                    _mm_andnot_si128(first, self.idx),
                    _mm_and_si128(first, splat(node)),
                ),
                lo: _mm_or_pd(_mm_andnot_pd(m_lo, self.lo), _mm_and_pd(m_lo, dd)),
                hi: _mm_or_pd(_mm_andnot_pd(m_hi, self.hi), _mm_and_pd(m_hi, dd)),
            })
        }
    }

    /// Whether every partial is 0 or within `Lanes::in_range`'s bounds
    /// (the four high words compared at once).
    #[inline(always)]
    pub(in crate::scalar) fn in_range(self) -> bool {
        unsafe {
            let (lo, hi) = (_mm_castpd_ps(self.lo), _mm_castpd_ps(self.hi));
            // The high and low 32-bit words of the four lanes, the sign
            // bit cleared.
            let high = _mm_and_si128(
                _mm_castps_si128(_mm_shuffle_ps::<0b11_01_11_01>(lo, hi)),
                _mm_set1_epi32(i32::MAX),
            );
            let low = _mm_castps_si128(_mm_shuffle_ps::<0b10_00_10_00>(lo, hi));
            let zero = _mm_cmpeq_epi32(_mm_or_si128(high, low), _mm_setzero_si128());
            let small = _mm_cmplt_epi32(high, _mm_set1_epi32(super::SMALLEST_HIGH as i32));
            let large = _mm_cmpgt_epi32(high, _mm_set1_epi32(super::LARGEST_HIGH as i32));
            let out = _mm_or_si128(_mm_andnot_si128(zero, small), large);
            _mm_movemask_epi8(out) == 0
        }
    }
}

/// [`Lin::combine`]'s general case, on arrays.
#[inline(never)]
fn merge(a: Lin, b: Lin) -> Option<Lin> {
    a.lanes().merge(&b.lanes()).map(|l| Lin::from_lanes(&l))
}
