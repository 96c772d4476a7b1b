//! The device matmul and the broadcasting device add and mul against their
//! host twins (values and gradients), by gradcheck through the transfers,
//! bit for bit across runs, and their shape errors. Skipped with one line
//! without an f64 adapter, unless `MAYA_REQUIRE_GPU=1`.
#![cfg(feature = "gpu")]

use maya::gpu::{self, Device};
use maya::{gradcheck, Error, Tensor, TensorTape};

mod gpu_common;
use gpu_common::{device, max_rel, same_bits};

/// Smooth, sign-changing entries that differ between calls (`seed`).
fn filled(shape: &[usize], seed: f64) -> Tensor {
    let mut k = 0.0;
    Tensor::from_fn(shape, |_| {
        k += 1.0;
        (k * 0.731 + seed).sin() + 0.25 * (k * 0.173 * seed).cos()
    })
}

/// (C, ḡA, ḡB) of the loss Σ (A B) ⊙ W, W a fixed weight of C's shape, on
/// the host (`on` = None) or on a device.
fn matmul_and_grads(a: &Tensor, b: &Tensor, w: &Tensor, on: Option<&Device>) -> [Tensor; 3] {
    let t = TensorTape::new();
    let (x, y, weight) = (t.var(a.clone()), t.var(b.clone()), t.constant(w.clone()));
    let (c, loss) = match on {
        None => {
            let c = x.matmul(&y);
            (c, c.mul(&weight).sum())
        }
        Some(d) => {
            let c = gpu::matmul(&x.to_device(d), &y.to_device(d)).unwrap();
            let loss = gpu::sum(&gpu::mul(&c, &weight.to_device(d)).unwrap()).unwrap();
            (c.to_host(), loss.to_host())
        }
    };
    let g = t.grad_wrt(loss, &[x, y]);
    [c.value(), g[0].clone(), g[1].clone()]
}

#[test]
fn matmul_and_both_adjoints_match_the_host_for_odd_sizes_and_batches() {
    let Some(d) = device() else { return };
    // [batch axes], m, k, n, whether B has the batch axes too (else it is
    // 2-D): sizes below, at and past the 32 × 32 tile and its 16-wide
    // slices of k.
    let cases: [(&[usize], usize, usize, usize, bool); 9] = [
        (&[], 40, 20, 35, true),
        (&[], 1, 1, 1, true),
        (&[], 3, 5, 2, true),
        (&[], 17, 33, 9, true),
        (&[], 64, 64, 64, true),
        (&[2, 3], 5, 7, 4, true),
        (&[2], 1, 18, 17, true),
        (&[3, 2], 5, 6, 4, false),
        (&[2], 9, 17, 3, false),
    ];
    for (batch, m, k, n, b_batched) in cases {
        let shape = |r: usize, c: usize| [batch, &[r, c][..]].concat();
        let a = filled(&shape(m, k), 0.3);
        let b = match b_batched {
            true => filled(&shape(k, n), 1.7),
            false => filled(&[k, n], 1.7),
        };
        let w = filled(&shape(m, n), 2.9);
        let host = matmul_and_grads(&a, &b, &w, None);
        let dev = matmul_and_grads(&a, &b, &w, Some(d));
        for (what, h, g) in ["C", "ḡA", "ḡB"]
            .iter()
            .zip(&host)
            .zip(&dev)
            .map(|((w, h), g)| (w, h, g))
        {
            let e = max_rel(h, g);
            assert!(
                e <= 1e-13,
                "{what} of {batch:?} {m}×{k} @ {k}×{n}: rel {e:e}"
            );
        }
    }
}

#[test]
fn matmul_repeats_bit_for_bit() {
    let Some(d) = device() else { return };
    let (a, b, w) = (
        filled(&[17, 33], 0.1),
        filled(&[33, 9], 0.2),
        filled(&[17, 9], 0.3),
    );
    let first = matmul_and_grads(&a, &b, &w, Some(d));
    let second = matmul_and_grads(&a, &b, &w, Some(d));
    for (x, y) in first.iter().zip(&second) {
        assert!(same_bits(x, y));
    }
}

#[test]
fn matmul_passes_gradcheck_through_the_transfers() {
    let Some(d) = device() else { return };
    let d = d.clone();
    for (a, b) in [([2, 3], [3, 2]), ([1, 4], [4, 3])] {
        let report = gradcheck(
            |_t, v| {
                let c = gpu::matmul(&v[0].to_device(&d), &v[1].to_device(&d)).unwrap();
                // Σ (A B)², so that ḡC depends on A and B.
                gpu::sum(&gpu::mul(&c, &c).unwrap()).unwrap().to_host()
            },
            &[filled(&a, 0.4), filled(&b, 0.8)],
        );
        assert!(report.passed, "{a:?} @ {b:?}: {report}");
    }
}

#[test]
fn matmul_shape_errors_name_both_shapes() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let on = |shape: &[usize]| t.var(Tensor::zeros(shape)).to_device(d);
    let cases: [(&[usize], &[usize], &str); 5] = [
        (&[3, 4], &[5, 2], "last axis"),
        (&[3], &[3, 2], "at least 2 axes"),
        (&[2, 3, 4], &[3, 4, 2], "batch axes"),
        // The host would broadcast these batch axes; the device does not.
        (&[1, 3, 4], &[2, 4, 2], "equal batch axes"),
        (&[3, 4], &[2, 4, 2], "equal batch axes"),
    ];
    for (a, b, hint) in cases {
        let err = gpu::matmul(&on(a), &on(b)).unwrap_err();
        let Error::Shape { lhs, rhs, .. } = &err else {
            panic!("{a:?} @ {b:?}: {err:?}");
        };
        assert_eq!((lhs.as_slice(), rhs.as_slice()), (a, b));
        let msg = err.to_string();
        assert!(msg.contains(hint), "{msg}");
    }
}

/// (a + b, a ⊙ b, then the gradients of Σ (a + b) ⊙ W + Σ (a ⊙ b) ⊙ W
/// with respect to a and b), on the host or on a device.
fn broadcast_and_grads(a: &Tensor, b: &Tensor, on: Option<&Device>) -> [Tensor; 4] {
    let t = TensorTape::new();
    let (x, y) = (t.var(a.clone()), t.var(b.clone()));
    let shape = maya::tensor::broadcast_shapes(&a.shape, &b.shape, "test").unwrap();
    let w = t.constant(filled(&shape, 5.5));
    let (sum, prod, loss) = match on {
        None => {
            let (s, p) = (x.add(&y), x.mul(&y));
            (s, p, s.mul(&w).sum().add(&p.mul(&w).sum()))
        }
        Some(d) => {
            let (dx, dy, dw) = (x.to_device(d), y.to_device(d), w.to_device(d));
            let (s, p) = (gpu::add(&dx, &dy).unwrap(), gpu::mul(&dx, &dy).unwrap());
            let loss = gpu::add(&gpu::mul(&s, &dw).unwrap(), &gpu::mul(&p, &dw).unwrap());
            (
                s.to_host(),
                p.to_host(),
                gpu::sum(&loss.unwrap()).unwrap().to_host(),
            )
        }
    };
    let g = t.grad_wrt(loss, &[x, y]);
    [sum.value(), prod.value(), g[0].clone(), g[1].clone()]
}

const BROADCASTS: [(&[usize], &[usize]); 7] = [
    (&[3, 4], &[4]),
    (&[4], &[3, 4]),
    (&[3, 1], &[1, 5]),
    (&[1], &[2, 3]),
    (&[2, 3], &[]),
    (&[2, 1, 4], &[3, 1]),
    (&[70, 40], &[1]),
];

#[test]
fn broadcast_add_and_mul_match_the_host_values_and_gradients() {
    let Some(d) = device() else { return };
    for (sa, sb) in BROADCASTS {
        let (a, b) = (filled(sa, 0.6), filled(sb, 1.1));
        let host = broadcast_and_grads(&a, &b, None);
        let dev = broadcast_and_grads(&a, &b, Some(d));
        // One IEEE operation per entry: exactly the host's sums and products.
        assert_eq!(host[0], dev[0], "{sa:?} + {sb:?}");
        assert_eq!(host[1], dev[1], "{sa:?} ⊙ {sb:?}");
        for (what, h, g) in [("ḡa", &host[2], &dev[2]), ("ḡb", &host[3], &dev[3])] {
            let e = max_rel(h, g);
            assert!(e <= 1e-13, "{what} of {sa:?}, {sb:?}: rel {e:e}");
        }
        // The adjoint's sums run in a fixed order.
        let again = broadcast_and_grads(&a, &b, Some(d));
        assert!(dev.iter().zip(&again).all(|(x, y)| same_bits(x, y)));
    }
}

#[test]
fn broadcast_add_and_mul_pass_gradcheck() {
    let Some(d) = device() else { return };
    let d = d.clone();
    for (sa, sb) in [([3, 1], [1, 4]), ([2, 3], [1, 3])] {
        let report = gradcheck(
            |_t, v| {
                let (x, y) = (v[0].to_device(&d), v[1].to_device(&d));
                let s = gpu::add(&x, &y).unwrap();
                // Σ (x + y) ⊙ x ⊙ y, every factor broadcast.
                let z = gpu::mul(&gpu::mul(&s, &x).unwrap(), &y).unwrap();
                gpu::sum(&z).unwrap().to_host()
            },
            &[filled(&sa, 0.2), filled(&sb, 0.9)],
        );
        assert!(report.passed, "{sa:?}, {sb:?}: {report}");
    }
}

#[test]
fn shapes_that_do_not_broadcast_are_an_error_naming_both() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let a = t.var(Tensor::zeros(&[2, 3])).to_device(d);
    let b = t.var(Tensor::zeros(&[2])).to_device(d);
    for err in [gpu::add(&a, &b).unwrap_err(), gpu::mul(&b, &a).unwrap_err()] {
        let Error::Shape { lhs, rhs, .. } = &err else {
            panic!("{err:?}");
        };
        let mut shapes = [lhs.clone(), rhs.clone()];
        shapes.sort();
        assert_eq!(shapes, [vec![2], vec![2, 3]], "{err}");
    }
}
