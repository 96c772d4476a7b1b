//! Device kernels against their host twins, on whatever adapter is present
//! (Mesa's lavapipe in CI). Without an adapter each test prints one line
//! saying why and passes, unless `MAYA_REQUIRE_GPU=1`, under which a
//! missing adapter or missing f64 fails it.
#![cfg(feature = "gpu")]

use maya::dynamics::{Ground, ParticleSystem};
use maya::gpu::{self, Device, DeviceOptions};
use maya::{gradcheck_with, DeviceError, Error, TVar, Tensor, TensorTape};

mod gpu_common;
use gpu_common::{device, max_rel, rel};

#[test]
fn transfers_round_trip_bit_for_bit_and_elementwise_ops_match_the_host() {
    let Some(d) = device() else { return };
    // 70 000 entries take three tree passes (70 000 → 274 → 2 → 1).
    for n in [1usize, 7, 300, 5000, 70_000] {
        let a = Tensor::from_fn(&[n], |i| (i[0] as f64 * 0.37).sin() + 1e-3);
        let b = Tensor::from_fn(&[n], |i| (i[0] as f64 * 0.11).cos() * 3.0);
        let da = d.upload(&a).unwrap();
        assert_eq!(da.to_host().unwrap(), a);
        let t = TensorTape::new();
        let (x, y) = (t.constant(a.clone()), t.constant(b.clone()));
        let (dx, dy) = (x.to_device(d), y.to_device(d));
        let sum = gpu::add(&dx, &dy).unwrap().to_host().value();
        let prod = gpu::mul(&dx, &dy).unwrap().to_host().value();
        // One IEEE operation per entry: exactly the host's result.
        assert_eq!(sum, x.add(&y).value(), "add, n = {n}");
        assert_eq!(prod, x.mul(&y).value(), "mul, n = {n}");
        let total = gpu::sum(&dx).unwrap().to_host().item();
        let host: f64 = a.data.iter().sum();
        assert!(
            rel(total, host) <= 1e-13 * (n as f64).log2().max(1.0),
            "sum, n = {n}: {total} vs {host}"
        );
    }
}

#[test]
fn device_ops_pass_gradcheck_through_the_transfers() {
    let Some(d) = device() else { return };
    let d = d.clone();
    let config = maya::GradcheckConfig {
        rtol: 1e-6,
        ..Default::default()
    };
    for n in [1usize, 5, 33] {
        let a = Tensor::from_fn(&[n], |i| 0.3 + (i[0] as f64 * 0.7).sin());
        let b = Tensor::from_fn(&[n], |i| -0.2 + (i[0] as f64 * 1.3).cos());
        let report = gradcheck_with(
            &config,
            |_t, v| {
                let (x, y) = (v[0].to_device(&d), v[1].to_device(&d));
                let z = gpu::mul(&gpu::add(&x, &y).unwrap(), &x).unwrap(); // (x + y) x
                let s = gpu::sum(&gpu::mul(&z, &y).unwrap()).unwrap(); // Σ (x + y) x y
                s.to_host().add(&v[0].sum()) // a host op after the transfer back
            },
            &[a, b],
        );
        assert!(report.passed, "n = {n}: {report}");
    }
}

const DT: f64 = 1e-3;
const C: f64 = 0.1;
const K: f64 = 1e4;
const G: [f64; 3] = [0.0, 0.0, -9.81];

/// W2's initial state, lowered so that some particles start in the floor
/// and the contact term is exercised within a short rollout.
fn w2_state(n: usize) -> (Tensor, Tensor) {
    let p0 = Tensor::from_fn(&[n, 3], |ix| {
        let i = ix[0];
        match ix[1] {
            0 => 0.01 * ((i % 100) as f64),
            1 => 0.01 * (((i / 100) % 100) as f64),
            _ => 0.001 * ((i % 17) as f64) - 0.004,
        }
    });
    let v0 = Tensor::from_fn(&[n, 3], |ix| {
        [0.1, -0.05, 0.0][ix[1]] + 0.01 * (ix[0] % 5) as f64
    });
    (p0, v0)
}

/// Loss Σ p_T² and its gradients (p0, v0, c, k) by the host rollout.
fn host_rollout(p0: &Tensor, v0: &Tensor, steps: usize) -> (f64, Vec<Tensor>) {
    let t = TensorTape::new();
    let n = p0.shape[0];
    let (p, v, c, k) = (
        t.var(p0.clone()),
        t.var(v0.clone()),
        t.scalar(C),
        t.scalar(K),
    );
    let system = ParticleSystem::new(t.constant(Tensor::ones(&[n])), DT)
        .with_gravity(t.constant(Tensor::from_data(G.to_vec(), vec![3])))
        .with_drag(c)
        .with_ground(Ground::floor(3), k);
    let (pt, _) = system.rollout_final(&p, &v, steps).unwrap();
    let loss = pt.square().sum();
    (loss.item(), t.grad_wrt(loss, &[p, v, c, k]))
}

/// The same on the device: every step a device node, the loss on the
/// device, one transfer back.
/// `fused` steps per node (`particle_steps`; 1: `particle_step`).
fn device_rollout(
    d: &Device,
    p0: &Tensor,
    v0: &Tensor,
    steps: usize,
    fused: usize,
) -> (f64, Vec<Tensor>) {
    let t = TensorTape::new();
    let n = p0.shape[0];
    let leaves: Vec<TVar> = vec![
        t.var(p0.clone()),
        t.var(v0.clone()),
        t.scalar(C),
        t.scalar(K),
    ];
    let on: Vec<TVar> = leaves.iter().map(|x| x.to_device(d)).collect();
    let m = t.constant(Tensor::ones(&[n])).to_device(d);
    let (mut p, mut v) = (on[0], on[1]);
    let mut done = 0;
    while done < steps {
        let k = fused.min(steps - done);
        (p, v) = match fused {
            1 => gpu::particle_step(&p, &v, &m, &on[2], &on[3], DT, G),
            _ => gpu::particle_steps(&p, &v, &m, &on[2], &on[3], DT, G, k),
        }
        .unwrap();
        done += k;
    }
    let loss = gpu::sum(&gpu::mul(&p, &p).unwrap()).unwrap().to_host();
    (loss.item(), t.grad_wrt(loss, &leaves))
}

#[test]
fn particle_rollout_on_the_device_matches_the_host_and_repeats_bit_for_bit() {
    let Some(d) = device() else { return };
    let (n, steps) = (300, 40);
    let (p0, v0) = w2_state(n);
    let (host_loss, host_grads) = host_rollout(&p0, &v0, steps);
    let (loss, grads) = device_rollout(d, &p0, &v0, steps, 1);
    assert!(rel(loss, host_loss) <= 1e-12, "loss {loss} vs {host_loss}");
    for (name, (g, h)) in ["p0", "v0", "c", "k"]
        .iter()
        .zip(grads.iter().zip(&host_grads))
    {
        let e = max_rel(g, h);
        assert!(e <= 1e-12, "dL/d{name}: relative error {e:e}");
        assert!(
            h.data.iter().any(|x| *x != 0.0),
            "dL/d{name} is all zero: the test would prove nothing"
        );
    }
    let (again, grads_again) = device_rollout(d, &p0, &v0, steps, 1);
    assert_eq!(loss.to_bits(), again.to_bits());
    for (g, h) in grads.iter().zip(&grads_again) {
        assert!(g
            .data
            .iter()
            .zip(&h.data)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn a_fused_rollout_matches_step_by_step_and_passes_gradcheck() {
    let Some(d) = device() else { return };
    let (n, steps) = (300, 40);
    let (p0, v0) = w2_state(n);
    let (loss, grads) = device_rollout(d, &p0, &v0, steps, 1);
    // 15 + 15 + 10 steps: three nodes, one of them shorter.
    let (fused_loss, fused_grads) = device_rollout(d, &p0, &v0, steps, 15);
    assert!(rel(loss, fused_loss) <= 1e-13, "{fused_loss} vs {loss}");
    for (name, (g, h)) in ["p0", "v0", "c", "k"]
        .iter()
        .zip(fused_grads.iter().zip(&grads))
    {
        let e = max_rel(h, g);
        assert!(e <= 1e-13, "dL/d{name}: relative error {e:e}");
    }
    let d = d.clone();
    let (p0, v0) = w2_state(4);
    let config = maya::GradcheckConfig {
        rtol: 1e-6,
        ..Default::default()
    };
    let report = gradcheck_with(
        &config,
        |t, x| {
            let (c, k) = (x[1].to_device(&d), x[2].to_device(&d));
            let m = t.constant(Tensor::ones(&[4])).to_device(&d);
            let p = t.constant(p0.clone()).to_device(&d);
            let (p, v) =
                gpu::particle_steps(&p, &x[0].to_device(&d), &m, &c, &k, DT, G, 6).unwrap();
            p.to_host().square().sum().add(&v.to_host().sum())
        },
        &[v0, Tensor::scalar(C), Tensor::scalar(K)],
    );
    assert!(report.passed, "{report}");
}

#[test]
fn a_mixed_host_and_device_rollout_passes_gradcheck() {
    let Some(d) = device() else { return };
    let d = d.clone();
    let (p0, v0) = w2_state(6);
    let config = maya::GradcheckConfig {
        rtol: 1e-6,
        ..Default::default()
    };
    // Host-side parameters (c² fed as c), a device step, a host-side loss.
    let report = gradcheck_with(
        &config,
        |t, v| {
            let c = v[1].square().to_device(&d);
            let k = v[2].to_device(&d);
            let m = t.constant(Tensor::ones(&[6])).to_device(&d);
            let (mut p, mut vel) = (t.constant(p0.clone()).to_device(&d), v[0].to_device(&d));
            for _ in 0..5 {
                (p, vel) = gpu::particle_step(&p, &vel, &m, &c, &k, DT, G).unwrap();
            }
            let p = p.to_host();
            p.square().sum().add(&vel.to_host().sum())
        },
        &[v0, Tensor::scalar(C.sqrt()), Tensor::scalar(K)],
    );
    assert!(report.passed, "{report}");
}

#[test]
fn mixing_devices_or_host_and_device_is_an_error_naming_both() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let x = t.var(Tensor::ones(&[3]));
    let on = x.to_device(d);
    // A host op given a device value.
    let err = x.try_add(&on).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, Error::Device(DeviceError::Mismatch { .. })),
        "{err:?}"
    );
    assert!(
        msg.contains("the host") && msg.contains(&d.to_string()),
        "{msg}"
    );
    // A host op whose inputs all live on the device.
    for err in [
        on.try_matmul(&on).unwrap_err(),
        on.try_reshape(&[3]).unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Device(DeviceError::OnDevice { input: 0, .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("to_host"), "{err}");
    }
    // A device op given a host value.
    let err = gpu::add(&on, &x).unwrap_err();
    assert!(err.to_string().contains("the host"), "{err}");
    // Two devices (two handles on one adapter are two devices).
    let other = Device::new().unwrap();
    let elsewhere = x.to_device(&other);
    let err = gpu::mul(&on, &elsewhere).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&d.to_string()) && msg.contains(&other.to_string()),
        "{msg}"
    );
}

#[test]
fn f64_on_a_device_opened_without_it_is_an_error() {
    if device().is_none() {
        return;
    }
    let no_f64 = Device::with_options(DeviceOptions {
        f64: false,
        ..Default::default()
    })
    .unwrap();
    assert!(!no_f64.info().f64);
    let err = no_f64.upload(&Tensor::ones(&[4])).unwrap_err();
    assert!(
        matches!(err, Error::Device(DeviceError::NoF64 { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("SHADER_F64"), "{err}");
}

#[test]
fn a_buffer_over_the_binding_limit_is_an_error() {
    let Some(d) = device() else { return };
    let limit = d.info().max_storage_binding;
    let n = (limit / 8 + 1) as usize;
    let err = d.zeros(&[n]).unwrap_err();
    match &err {
        Error::Device(DeviceError::BindingLimit {
            bytes, limit: l, ..
        }) => {
            assert_eq!((*bytes, *l), (8 * n as u64, limit));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_allocation_past_the_memory_budget_is_out_of_memory() {
    if device().is_none() {
        return;
    }
    let d = Device::new().unwrap();
    d.set_memory_budget(Some(1000));
    let kept = d.zeros(&[100]).unwrap(); // 800 B
    assert_eq!(d.memory_in_use(), 800);
    let err = d.zeros(&[100]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Device(DeviceError::OutOfMemory { bytes: 800, .. })
        ),
        "{err:?}"
    );
    drop(kept);
    assert_eq!(d.memory_in_use(), 0);
    d.zeros(&[100]).unwrap();
}

#[test]
fn a_rollout_is_submitted_in_batches_not_step_by_step() {
    if device().is_none() {
        return;
    }
    let d = Device::new().unwrap(); // its own counter
    let t = TensorTape::new();
    let (p0, v0) = w2_state(10);
    let (mut p, mut v) = (t.constant(p0).to_device(&d), t.constant(v0).to_device(&d));
    let m = t.constant(Tensor::ones(&[10])).to_device(&d);
    let (c, k) = (t.scalar(C).to_device(&d), t.scalar(K).to_device(&d));
    let before = d.submissions();
    for _ in 0..64 {
        (p, v) = gpu::particle_step(&p, &v, &m, &c, &k, DT, G).unwrap();
    }
    // 64 dispatches: two full batches of 32, nothing waited for.
    assert_eq!(d.submissions() - before, 2);
    let _ = v.to_host();
    assert_eq!(d.submissions() - before, 3);
}

/// y = a·x with `a` a constant of the kernel: a user kernel in WGSL.
struct Scale(f64);

const SCALE: gpu::WgslKernel = gpu::WgslKernel {
    module: "test scale",
    source: "struct P { n: u32, a: f64 }
             @group(0) @binding(0) var<uniform> p: P;
             @group(0) @binding(1) var<storage, read> x: array<f64>;
             @group(0) @binding(2) var<storage, read_write> y: array<f64>;
             @compute @workgroup_size(64)
             fn scale_into(@builtin(global_invocation_id) g: vec3<u32>,
                           @builtin(num_workgroups) w: vec3<u32>) {
                 let i = g.y * w.x * 64u + g.x;
                 if (i < p.n) { y[i] = y[i] + p.a * x[i]; }
             }",
    entry: "scale_into",
};

impl Scale {
    /// out += a·x
    fn launch(&self, x: &gpu::DeviceTensor, out: &gpu::DeviceTensor) -> maya::Result<()> {
        let mut uniform = (x.numel() as u32).to_le_bytes().to_vec();
        uniform.extend([0; 4]);
        uniform.extend(self.0.to_le_bytes());
        let groups = x.numel().div_ceil(64) as u32;
        x.device().launch(&SCALE, &uniform, &[x], &[out], groups)
    }
}

impl gpu::DeviceKernel for Scale {
    type Saved = ();
    fn name(&self) -> &'static str {
        "scale"
    }
    fn forward(
        &self,
        x: &[&gpu::DeviceTensor],
        _: &[bool],
    ) -> maya::Result<(Vec<gpu::DeviceTensor>, ())> {
        let y = x[0].device().zeros(x[0].shape())?;
        self.launch(x[0], &y)?;
        Ok((vec![y], ()))
    }
    fn vjp(
        &self,
        _: &(),
        _: &[&gpu::DeviceTensor],
        _: &[&gpu::DeviceTensor],
        gy: &[&gpu::DeviceTensor],
        gx: &[&gpu::DeviceTensor],
        _: &[bool],
    ) -> maya::Result<()> {
        self.launch(gy[0], gx[0])
    }
}

#[test]
fn a_user_device_kernel_in_wgsl_records_on_the_tape_and_passes_gradcheck() {
    let Some(d) = device() else { return };
    let d = d.clone();
    let x = Tensor::from_fn(&[70], |i| (i[0] as f64).sin());
    let report = maya::gradcheck(
        |_t, v| {
            let y = gpu::apply(Scale(-1.5), &[v[0].to_device(&d)]).unwrap()[0];
            gpu::mul(&y, &y).unwrap().to_host()
        },
        std::slice::from_ref(&x),
    );
    assert!(report.passed, "{report}");
    // A written tensor bound twice is refused before the driver sees it.
    let a = d.upload(&x).unwrap();
    let err = d.launch(&SCALE, &[0; 16], &[&a], &[&a], 1).unwrap_err();
    assert!(err.to_string().contains("alias"), "{err}");
}
