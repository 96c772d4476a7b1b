//! sin and cos together, for the scalar tape: a reduction to |r| ≤ π/4 and
//! two short polynomials evaluated in parallel (Estrin's scheme), so that a
//! loop whose next value waits on `sin x` waits for fewer dependent
//! multiplies than the C library's `sincos` takes. Within 1 ulp of the C
//! library's results on |x| ≤ π/4 and 2 ulps up to 2²⁰ (the tests sweep
//! both); beyond 2²⁰, and for inf and NaN, it calls the C library.

/// π/2 in three pieces: the first two have 33 significant bits, so that
/// k · piece is exact for |k| < 2²⁰ and x − k·PIO2_1 − k·PIO2_2 loses
/// nothing near a multiple of π/2; the third holds the next 53 bits.
const PIO2_1: f64 = 1.5707963267341256;
const PIO2_2: f64 = 6.077100506303966e-11;
const PIO2_3: f64 = 2.0222662487959506e-21;
const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;

/// Past this, k · PIO2_1 is no longer exact: the C library reduces.
const REDUCE_MAX: f64 = 1_048_576.0;

/// Taylor coefficients of (sin r − r)/r³ and (cos r − 1 + r²/2)/r⁴ in
/// z = r²: (−1)ᵏ/(2k+3)! and (−1)ᵏ/(2k+4)!. At |r| = π/4 the first term
/// left out is below 1e-19 of the result.
const SIN: [f64; 8] = [
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];
const COS: [f64; 8] = [
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
    -1.0 / 6_402_373_705_728_000.0,
];

/// `c[0] + c[1] z + … + c[7] z⁷` by Estrin's scheme (depth 4, not 8).
#[inline(always)]
fn estrin(c: &[f64; 8], z: f64, z2: f64, z4: f64) -> f64 {
    let lo = (c[0] + c[1] * z) + (c[2] + c[3] * z) * z2;
    let hi = (c[4] + c[5] * z) + (c[6] + c[7] * z) * z2;
    lo + hi * z4
}

/// (sin r, cos r) for |r| ≤ π/4.
#[inline(always)]
fn kernel(r: f64) -> (f64, f64) {
    let z = r * r;
    let z2 = z * z;
    let z4 = z2 * z2;
    let sin = r + r * z * estrin(&SIN, z, z2, z4);
    // 1 − z/2 rounded, then what that rounding lost added back.
    let half = 0.5 * z;
    let w = 1.0 - half;
    let cos = w + (((1.0 - w) - half) + z2 * estrin(&COS, z, z2, z4));
    (sin, cos)
}

/// (sin x, cos x).
#[inline(always)]
pub(crate) fn sin_cos(x: f64) -> (f64, f64) {
    if x == 0.0 {
        return (x, 1.0); // keeps the sign of −0, which r + r z p loses
    }
    if x.abs() <= std::f64::consts::FRAC_PI_4 {
        return kernel(x);
    }
    reduced(x)
}

/// [`sin_cos`] past π/4: x = k π/2 + r, then the quadrant k mod 4 picks
/// the signs and which of the two is which.
#[inline(never)]
fn reduced(x: f64) -> (f64, f64) {
    if x.is_nan() || x.abs() > REDUCE_MAX {
        return x.sin_cos();
    }
    let k = (x * TWO_OVER_PI).round();
    let r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    let (s, c) = kernel(r);
    match (k as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |a − b| in units of the last place of b.
    fn ulps(a: f64, b: f64) -> f64 {
        if a == b {
            return 0.0;
        }
        let b_abs = b.abs().max(f64::MIN_POSITIVE);
        let ulp = f64::from_bits(b_abs.to_bits() + 1) - b_abs;
        (a - b).abs() / ulp
    }

    fn worst_over(xs: impl Iterator<Item = f64>) -> f64 {
        let mut worst = 0.0f64;
        for x in xs {
            let (s, c) = sin_cos(x);
            let (s0, c0) = x.sin_cos();
            worst = worst.max(ulps(s, s0)).max(ulps(c, c0));
        }
        worst
    }

    #[test]
    fn within_one_ulp_of_the_c_library_on_the_kernel_range() {
        let n = 200_001;
        let pi4 = std::f64::consts::FRAC_PI_4;
        let xs = (0..n).map(|i| -pi4 + 2.0 * pi4 * i as f64 / (n - 1) as f64);
        let worst = worst_over(xs.chain([pi4, -pi4, 1e-300, -1e-300, 1e-8]));
        assert!(worst <= 1.0, "worst {worst} ulp");
    }

    #[test]
    fn within_two_ulps_after_reduction_and_near_multiples_of_half_pi() {
        let mut xs: Vec<f64> = (0..100_000)
            .map(|i| -50.0 + 100.0 * i as f64 / 99_999.0)
            .collect();
        xs.extend((0..10_000).map(|i| 1e3 + 997.3 * i as f64));
        // The doubles nearest k π/2 and their neighbours: there cos or sin
        // is tiny, and the reduction must not lose its relative accuracy.
        for k in 1..2000i64 {
            let x = k as f64 * std::f64::consts::FRAC_PI_2;
            for d in -2i64..=2 {
                let bits = (x.to_bits() as i64 + d) as u64;
                xs.push(f64::from_bits(bits));
                xs.push(-f64::from_bits(bits));
            }
        }
        let worst = worst_over(xs.into_iter());
        assert!(worst <= 2.0, "worst {worst} ulp");
    }

    #[test]
    fn signed_zero_infinities_nan_and_huge_arguments_follow_the_c_library() {
        assert_eq!(sin_cos(0.0), (0.0, 1.0));
        assert!(sin_cos(-0.0).0.is_sign_negative());
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let (s, c) = sin_cos(x);
            assert!(s.is_nan() && c.is_nan(), "{x}");
        }
        for x in [REDUCE_MAX * 1.5, 1e300, -7e22] {
            assert_eq!(sin_cos(x), x.sin_cos());
        }
    }
}
