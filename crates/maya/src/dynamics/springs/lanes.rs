//! Square roots and divisions of `W` independent lanes at once: the costly
//! part of a spring's force and adjoint. Two lanes on x86-64 go through one
//! packed SSE2 instruction each (the divider takes two lanes about as fast
//! as one); elsewhere, and for one lane, lane by lane. Packed or not, each
//! lane is correctly rounded (IEEE 754), so the results are bit-identical.

/// √x per lane.
#[inline(always)]
pub(super) fn sqrt<const W: usize>(x: [f64; W]) -> [f64; W] {
    #[cfg(target_arch = "x86_64")]
    if let Ok(&x2) = <&[f64; 2]>::try_from(&x[..]) {
        use std::arch::x86_64::{_mm_loadu_pd, _mm_sqrt_pd, _mm_storeu_pd};
        let mut r = [0.0; 2];
        // SAFETY: SSE2 is part of the x86-64 baseline, so the intrinsics
        // are available; the load and the store touch the two f64 of `x2`
        // and of `r`.
        unsafe {
            _mm_storeu_pd(r.as_mut_ptr(), _mm_sqrt_pd(_mm_loadu_pd(x2.as_ptr())));
        }
        let mut out = [0.0; W];
        out.copy_from_slice(&r);
        return out;
    }
    x.map(f64::sqrt)
}

/// a / b per lane.
#[inline(always)]
pub(super) fn div<const W: usize>(a: [f64; W], b: [f64; W]) -> [f64; W] {
    #[cfg(target_arch = "x86_64")]
    if let (Ok(&a2), Ok(&b2)) = (<&[f64; 2]>::try_from(&a[..]), <&[f64; 2]>::try_from(&b[..])) {
        use std::arch::x86_64::{_mm_div_pd, _mm_loadu_pd, _mm_storeu_pd};
        let mut r = [0.0; 2];
        // SAFETY: as in `sqrt`, for `a2`, `b2` and `r`.
        unsafe {
            let q = _mm_div_pd(_mm_loadu_pd(a2.as_ptr()), _mm_loadu_pd(b2.as_ptr()));
            _mm_storeu_pd(r.as_mut_ptr(), q);
        }
        let mut out = [0.0; W];
        out.copy_from_slice(&r);
        return out;
    }
    std::array::from_fn(|u| a[u] / b[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_round_like_scalar_operations() {
        let xs = [2.0, 1e-300, 0.1, 7.5e12, 0.0, 3.3];
        for w in xs.windows(2) {
            let (a, b) = ([w[0], w[1]], [w[1] + 0.7, w[0] + 1.3]);
            let (s, d) = (sqrt(a), div(a, b));
            for u in 0..2 {
                assert_eq!(s[u].to_bits(), a[u].sqrt().to_bits());
                assert_eq!(d[u].to_bits(), (a[u] / b[u]).to_bits());
            }
            assert_eq!(sqrt([w[0]])[0].to_bits(), w[0].sqrt().to_bits());
        }
        assert!(div([0.0, 1.0], [0.0, 0.0])[0].is_nan());
    }
}
