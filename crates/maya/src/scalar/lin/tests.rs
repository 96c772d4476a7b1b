//! The SSE2 [`Lin`] against the plain [`Lanes`], op by op.

use super::{Lanes, Lin, UNUSED, WIDTH};

/// A few handles: constants, single nodes, and partly and fully used
/// lanes, with an infinite, a tiny and a subnormal partial among them.
fn samples() -> Vec<Lanes> {
    let mut out = vec![Lanes::zero(), Lanes::of_node(3), Lanes::of_node(8)];
    let rows: [(&[u32], &[f64]); 6] = [
        (&[3, 5], &[0.5, -2.0]),
        (&[5, 3], &[1.5, f64::INFINITY]),
        (&[3, 5, 9], &[2.0, 1e-300, -0.25]),
        (&[9, 3, 5, 7], &[1.0, 2.0, 3.0, 4.0]),
        (&[3, 5, 9, 7], &[-1.0, 5e-324, 0.0, 1e300]),
        (&[8, 2, 6], &[4.0, -8.0, 0.125]),
    ];
    for (idx, d) in rows {
        let mut l = Lanes::zero();
        l.idx[..idx.len()].copy_from_slice(idx);
        l.d[..d.len()].copy_from_slice(d);
        out.push(l);
    }
    out
}

/// Equal lanes in use (unused lanes' partials are never read), NaN equal
/// to NaN. A zero's sign may differ: the masked adds add +0 to the lanes
/// they miss.
fn same(a: Option<Lanes>, b: Option<Lanes>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let (a, b): (Vec<_>, Vec<_>) = (a.entries().collect(), b.entries().collect());
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(&(i, x), &(j, y))| i == j && (x == y || (x.is_nan() && y.is_nan())))
        }
        _ => false,
    }
}

#[test]
fn lanes_round_trip_and_nodes_agree() {
    for l in samples() {
        assert_eq!(Lin::from_lanes(&l).lanes(), l);
    }
    assert_eq!(Lin::of_node(11).lanes(), Lanes::of_node(11));
    assert_eq!(Lin::zero().lanes(), Lanes::zero());
    assert_eq!(Lanes::zero().idx, [UNUSED; WIDTH]);
}

#[test]
fn scale_combine_and_range_agree_with_the_plain_lanes() {
    let factors = [1.0, -0.5, 0.0, 3.0, f64::INFINITY, 1e-310];
    for a in samples() {
        let va = Lin::from_lanes(&a);
        assert_eq!(va.in_range(), a.in_range(), "{a:?}");
        for &f in &factors {
            assert!(
                same(Some(va.scale(f).lanes()), Some(a.scale(f))),
                "{a:?} · {f}"
            );
            assert_eq!(va.scale(f).in_range(), a.scale(f).in_range(), "{a:?} · {f}");
        }
        for b in samples() {
            let vb = Lin::from_lanes(&b);
            for &fa in &factors {
                for &fb in &factors[..4] {
                    let simd = va.combine(fa, vb, fb).map(Lin::lanes);
                    let plain = a.combine(fa, b, fb);
                    assert!(
                        same(simd, plain),
                        "{a:?}·{fa} + {b:?}·{fb}: {simd:?} vs {plain:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn range_bounds_are_two_to_the_plus_and_minus_600() {
    let lone = |d: f64| {
        let mut l = Lanes::of_node(1);
        l.d[0] = d;
        (l.in_range(), Lin::from_lanes(&l).in_range())
    };
    let lo = 2f64.powi(-600);
    let hi = 2f64.powi(600);
    for (d, want) in [
        (0.0, true),
        (-0.0, true),
        (1.0, true),
        (lo, true),
        (-lo, true),
        (lo * (1.0 - f64::EPSILON), false),
        (hi, true),
        (hi * (1.0 + f64::EPSILON), true), // the same high word as 2⁶⁰⁰
        (hi * (1.0 + 2f64.powi(-20)), false),
        (5e-324, false),
        (f64::INFINITY, false),
        (f64::NAN, false),
    ] {
        assert_eq!(lone(d), (want, want), "{d:e}");
    }
}
