//! f32 device tensors against the host's f64: each op forward and back,
//! short W2 and W3 rollouts (loss and every gradient), repeatability, and
//! the errors of mixing dtypes or asking f64 of a device without it. The
//! f32 device is opened without f64, as on an adapter lacking SHADER_F64.
//!
//! Tolerances come from f32's epsilon ε = 2⁻²³ (each upload, op and
//! read-back rounds once, by at most ε/2 relative): a few ε per entry for
//! elementwise ops; (log₂ n + 2) ε of Σ|x| for the tree sum; for rollouts
//! the rounding of every step accumulates, so the bound grows with the
//! steps and the particles (ε · steps · √n, times a margin for the
//! dynamics' amplification), and it is still thousands of times tighter
//! than any modelling error.
#![cfg(feature = "gpu")]

use maya::dynamics::{Ground, ParticleSystem, SpringNetwork};
use maya::gpu::{self, DType, Device};
use maya::{DeviceError, Error, TVar, Tensor, TensorTape};

mod gpu_common;
use gpu_common::{device, device_f32, max_rel, same_bits};

/// f32's machine epsilon, 2⁻²³.
const EPS: f64 = f32::EPSILON as f64;

#[test]
fn an_f32_device_opens_without_f64_says_so_and_refuses_f64() {
    let Some(d) = device_f32() else { return };
    assert_eq!(d.dtype(), DType::F32);
    assert!(!d.info().f64);
    assert_eq!(d.info().dtypes(), vec![DType::F32]);
    assert!(d.info().to_string().contains("dtypes: f32"), "{}", d.info());
    let x = d
        .upload(&Tensor::from_data(vec![0.1, -2.5, f64::INFINITY], vec![3]))
        .unwrap();
    assert_eq!(x.dtype(), DType::F32);
    // Rounded to nearest on the way up, exact on the way back.
    let back = x.to_host().unwrap().data;
    assert_eq!(back, vec![0.1f32 as f64, -2.5, f64::INFINITY]);
    let t = TensorTape::new();
    let err = t
        .var(Tensor::ones(&[2]))
        .try_to_device_as(d, DType::F64)
        .unwrap_err();
    assert!(
        matches!(err, Error::Device(DeviceError::NoF64 { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("f32"), "{err}");
    // A finite value beyond f32's range is an error, not an infinity.
    let err = d
        .upload(&Tensor::from_data(vec![1.0, -1e39], vec![2]))
        .unwrap_err();
    match &err {
        Error::Device(DeviceError::OutOfRange {
            index: 1, value, ..
        }) => {
            assert_eq!(*value, -1e39)
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn f32_add_mul_and_sum_match_the_host_forward_and_back() {
    let Some(d) = device_f32() else { return };
    // 5000 entries take two tree passes.
    for n in [1usize, 7, 300, 5000] {
        let a = Tensor::from_fn(&[n], |i| (i[0] as f64 * 0.37).sin() + 1e-3);
        let b = Tensor::from_fn(&[n], |i| (i[0] as f64 * 0.11).cos() * 3.0);
        let t = TensorTape::new();
        let (x, y) = (t.var(a.clone()), t.var(b.clone()));
        let (dx, dy) = (x.to_device(d), y.to_device(d));
        let sum = gpu::add(&dx, &dy).unwrap().to_host().value();
        let prod = gpu::mul(&dx, &dy).unwrap().to_host().value();
        // Inputs and result each rounded once: 1.5 ε of the largest entry.
        for (what, got, want) in [("add", &sum, x.add(&y)), ("mul", &prod, x.mul(&y))] {
            let e = max_rel(&want.value(), got);
            assert!(e <= 4.0 * EPS, "{what}, n = {n}: {e:e}");
        }
        // L = Σ (x + y) ⊙ x: ∂L/∂x = 2x + y, ∂L/∂y = x.
        let z = gpu::mul(&gpu::add(&dx, &dy).unwrap(), &dx).unwrap();
        let loss = gpu::sum(&z).unwrap().to_host();
        let host = x.add(&y).mul(&x).value();
        let bound: f64 = host.data.iter().map(|v| v.abs()).sum();
        let depth = (n as f64).log2().ceil() + 2.0;
        let err = (loss.item() - host.data.iter().sum::<f64>()).abs();
        assert!(err <= depth * EPS * bound, "sum, n = {n}: {err:e}");
        let g = t.grad_wrt(loss, &[x, y]);
        let gx = Tensor::from_fn(&[n], |i| 2.0 * a.data[i[0]] + b.data[i[0]]);
        // The adjoints round the seed's products and sums a few times.
        assert!(max_rel(&gx, &g[0]) <= 8.0 * EPS, "dL/dx, n = {n}");
        assert!(max_rel(&a, &g[1]) <= 8.0 * EPS, "dL/dy, n = {n}");
    }
}

#[test]
fn f32_matmul_and_broadcasting_match_the_host_forward_and_back() {
    let Some(d) = device_f32() else { return };
    // Each output entry sums k products: k ε of Σ|a||b| bounds its error
    // (√k typical); the adjoints do the same over the other axes.
    let (m, k, n) = (17, 33, 9);
    let a0 = Tensor::from_fn(&[m, k], |i| ((i[0] * 7 + i[1] * 3) as f64 * 0.21).sin());
    let b0 = Tensor::from_fn(&[k, n], |i| ((i[0] * 5 + i[1]) as f64 * 0.13).cos());
    let w0 = Tensor::from_fn(&[m, n], |i| 0.5 + ((i[0] + 2 * i[1]) as f64 * 0.7).sin());
    let t = TensorTape::new();
    let (a, b, w) = (t.var(a0.clone()), t.var(b0.clone()), t.constant(w0.clone()));
    let c = gpu::matmul(&a.to_device(d), &b.to_device(d)).unwrap();
    let loss = gpu::sum(&gpu::mul(&c, &w.to_device(d)).unwrap())
        .unwrap()
        .to_host();
    let host = a.matmul(&b).mul(&w).sum();
    let scale: f64 = a0
        .data
        .iter()
        .chain(&b0.data)
        .map(|v| v.abs())
        .fold(0.0, f64::max);
    let tol = (k as f64) * EPS * scale * scale;
    assert!(
        (loss.item() - host.item()).abs() <= (m * n) as f64 * tol,
        "loss"
    );
    assert_ne!(
        loss.item(),
        host.item(),
        "rounded to f32, so not the f64 bits"
    );
    let (g, h) = (t.grad_wrt(loss, &[a, b]), t.grad_wrt(host, &[a, b]));
    for (q, what) in [(0, "dL/dA"), (1, "dL/dB")] {
        let e = max_rel(&h[q], &g[q]);
        assert!(e <= (m.max(n) as f64) * 4.0 * EPS, "{what}: {e:e}");
    }
    // Broadcasting: [3, 4] + [4] and [3, 1] ⊙ [1, 5], forward and back.
    for (sa, sb) in [([3usize, 4], vec![4usize]), ([3, 1], vec![1, 5])] {
        let x0 = Tensor::from_fn(&sa, |i| 0.3 + (i.iter().sum::<usize>() as f64).sin());
        let y0 = Tensor::from_fn(&sb, |i| -0.7 + (i.iter().sum::<usize>() as f64 * 0.4).cos());
        let t = TensorTape::new();
        let (x, y) = (t.var(x0), t.var(y0));
        let (dx, dy) = (x.to_device(d), y.to_device(d));
        let dev = gpu::sum(&gpu::mul(&gpu::add(&dx, &dy).unwrap(), &dy).unwrap()).unwrap();
        let dev = dev.to_host();
        let host = x.add(&y).mul(&y).sum();
        assert!((dev.item() - host.item()).abs() <= 16.0 * EPS * host.item().abs().max(1.0));
        let (g, h) = (t.grad_wrt(dev, &[x, y]), t.grad_wrt(host, &[x, y]));
        for q in 0..2 {
            let e = max_rel(&h[q], &g[q]);
            assert!(e <= 16.0 * EPS, "{sa:?} with {sb:?}, input {q}: {e:e}");
        }
    }
}

#[test]
fn an_op_given_f64_and_f32_values_is_an_error_naming_both() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let x = t.var(Tensor::ones(&[3]));
    let (wide, narrow) = (x.to_device(d), x.to_device_as(d, DType::F32));
    let err = gpu::add(&wide, &narrow).unwrap_err();
    match &err {
        Error::Device(DeviceError::DTypeMismatch {
            first_input: 0,
            second_input: 1,
            first,
            second,
            ..
        }) => assert_eq!((first.as_str(), second.as_str()), ("f64", "f32")),
        e => panic!("{e:?}"),
    }
    assert!(err.to_string().contains("device add"), "{err}");
    // The plain device functions say the same.
    let ones = Tensor::ones(&[3]);
    let (a, b) = (
        d.upload(&ones).unwrap(),
        d.upload_as(&ones, DType::F32).unwrap(),
    );
    let err = gpu::kernels::mul_into(&a, &a, &b).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Device(DeviceError::DTypeMismatch {
                second_input: 2,
                ..
            })
        ),
        "{err:?}"
    );
}

/// Which short rollout: W2 (8 particles, drag and the floor, some in it)
/// or W3 (a 3 × 3 spring grid in 2D, stretched).
#[derive(Clone, Copy, Debug)]
enum Workload {
    W2,
    W3,
}

const STEPS: usize = 50;

/// Loss Σ p_T² and its gradients after [`STEPS`] steps: on the host
/// (`device` None), or on `device` in its dtype, plainly or checkpointed.
fn rollout(w: Workload, device: Option<&Device>, checkpointed: bool) -> (f64, Vec<Tensor>) {
    let t = TensorTape::new();
    let (system, p0, v0, params) = match w {
        Workload::W2 => {
            let n = 8;
            let p0 = Tensor::from_fn(&[n, 3], |ix| match ix[1] {
                2 => 0.002 * (ix[0] % 5) as f64 - 0.004,
                q => 0.1 * (ix[0] + q) as f64,
            });
            let v0 = Tensor::from_fn(&[n, 3], |ix| [0.1, -0.05, 0.2][ix[1]] * (ix[0] % 3) as f64);
            let (c, k) = (t.scalar(0.1), t.scalar(1e4));
            let system = ParticleSystem::new(t.constant(Tensor::ones(&[n])), 1e-3)
                .with_drag(c)
                .with_ground(Ground::floor(3), k)
                .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])));
            (system, p0, v0, vec![c, k])
        }
        Workload::W3 => {
            let net = SpringNetwork::grid(3, 3);
            let rest_positions = SpringNetwork::grid_positions(3, 3, 0.1, [0.0, 1.0]);
            let rest = t.constant(net.lengths(&rest_positions));
            let p0 = Tensor::from_fn(&[9, 2], |ix| rest_positions.data[2 * ix[0] + ix[1]] * 1.1);
            let k = t.var(Tensor::from_fn(&[net.len()], |i| {
                900.0 + 20.0 * i[0] as f64
            }));
            let system = ParticleSystem::new(t.constant(Tensor::ones(&[9])), 1e-3)
                .with_springs(net, k, rest, None)
                .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
            (system, p0, Tensor::zeros(&[9, 2]), vec![k])
        }
    };
    let (p0, v0) = (t.var(p0), t.var(v0));
    let p = match device {
        None => system.rollout_final(&p0, &v0, STEPS).unwrap().0,
        Some(d) => {
            let on = system.on(d).unwrap();
            let (p, _) = match checkpointed {
                false => on.rollout_final(&p0, &v0, STEPS),
                true => on.rollout_checkpointed(&p0, &v0, STEPS, Some(16)),
            }
            .unwrap();
            p.to_host()
        }
    };
    let loss = p.square().sum();
    let leaves: Vec<TVar> = [p0, v0].into_iter().chain(params).collect();
    (loss.item(), t.grad_wrt(loss, &leaves))
}

#[test]
fn short_w2_and_w3_rollouts_in_f32_match_f64_and_repeat_bit_for_bit() {
    let Some(d) = device_f32() else { return };
    for (w, n) in [(Workload::W2, 8.0f64), (Workload::W3, 9.0)] {
        let (host_loss, host_grads) = rollout(w, None, false);
        let (loss, grads) = rollout(w, Some(d), false);
        // Every step rounds the state once more: ε · steps · √n, with a
        // margin of 4 for the dynamics (the stiff floor and springs):
        // 7e-5 here; measured on lavapipe, 1e-7 to 1e-5 (W3's ∂L/∂k).
        let tol = 4.0 * EPS * STEPS as f64 * n.sqrt();
        let e = (loss - host_loss).abs() / host_loss.abs();
        assert!(e > 0.0, "{w:?}: the f32 rollout gave the f64 loss's bits");
        assert!(
            e <= tol,
            "{w:?} loss: {loss} vs {host_loss} ({e:e} > {tol:e})"
        );
        for (k, (g, h)) in grads.iter().zip(&host_grads).enumerate() {
            let e = max_rel(h, g);
            assert!(
                e <= tol,
                "{w:?} gradient {k}: relative error {e:e} > {tol:e}"
            );
            assert!(
                h.data.iter().any(|x| *x != 0.0),
                "{w:?} gradient {k} is zero"
            );
        }
        // f32 on the device: the same bits on every run, and with
        // checkpoints (the segments replayed in the backward sweep).
        for checkpointed in [false, true] {
            let (again, grads_again) = rollout(w, Some(d), checkpointed);
            assert_eq!(again.to_bits(), loss.to_bits(), "{w:?} {checkpointed}");
            for (g, h) in grads.iter().zip(&grads_again) {
                assert!(same_bits(g, h), "{w:?}, checkpointed {checkpointed}");
            }
        }
    }
}

#[test]
fn fused_f32_particle_steps_match_f32_steps_one_by_one() {
    let Some(d) = device_f32() else { return };
    let n = 5;
    let p0 = Tensor::from_fn(&[n, 3], |ix| 0.01 * (ix[0] + ix[1]) as f64 - 0.003);
    let run = |fused: bool| {
        let t = TensorTape::new();
        let (v0, c, k) = (
            t.var(Tensor::full(&[n, 3], 0.1)),
            t.scalar(0.2),
            t.scalar(1e4),
        );
        let m = t.constant(Tensor::ones(&[n])).to_device(d);
        let (mut p, mut v) = (t.constant(p0.clone()).to_device(d), v0.to_device(d));
        let (c_d, k_d) = (c.to_device(d), k.to_device(d));
        let g = [0.0, 0.0, -9.81];
        if fused {
            (p, v) = gpu::particle_steps(&p, &v, &m, &c_d, &k_d, 1e-3, g, 20).unwrap();
        } else {
            for _ in 0..20 {
                (p, v) = gpu::particle_step(&p, &v, &m, &c_d, &k_d, 1e-3, g).unwrap();
            }
        }
        let loss = gpu::sum(&gpu::mul(&p, &v).unwrap()).unwrap().to_host();
        (loss.item(), t.grad_wrt(loss, &[v0, c, k]))
    };
    let ((a, ga), (b, gb)) = (run(true), run(false));
    // The same f32 arithmetic per particle; the per-step nodes sum ḡc, ḡk
    // step by step, the fused node per particle first: 20 sums of a few ε.
    assert!((a - b).abs() <= 4.0 * EPS * a.abs(), "{a} vs {b}");
    for (x, y) in ga.iter().zip(&gb) {
        assert!(max_rel(y, x) <= 20.0 * 4.0 * EPS, "{x:?} vs {y:?}");
    }
}
