//! Device rollouts in checkpointed segments (the replay records the
//! segment's dispatches again) against the plain device rollout, bit for
//! bit, and the host's; and the device rollout's state checks, which name
//! the first step whose state is non-finite. Skipped with one line without
//! an f64 adapter (a failure under `MAYA_REQUIRE_GPU=1`).
#![cfg(feature = "gpu")]

use maya::dynamics::{Ground, ParticleSystem, SpringNetwork};
use maya::gpu::Device;
use maya::{Error, TVar, Tensor, TensorTape};

mod gpu_common;
use gpu_common::{device, max_rel, rel, same_bits};

const DT: f64 = 1e-3;

/// How a rollout is run.
#[derive(Clone, Copy, Debug)]
enum Run {
    Host,
    Device,
    /// On the device in checkpointed segments of this many steps.
    Checkpointed(Option<usize>),
}

/// A W3 network (a 4 × 4 grid under gravity) or W2 particles (drag and
/// floor) over `steps` steps; the loss and its gradient with respect to
/// the initial state and the forces' parameters.
fn rollout(springs: bool, steps: usize, run: Run, d: &Device) -> (f64, Vec<Tensor>) {
    let t = TensorTape::new();
    let (system, p0, v0, params, target) = if springs {
        let net = SpringNetwork::grid(4, 4);
        let r = SpringNetwork::grid_positions(4, 4, 0.1, [0.0, 1.0]);
        let p0 = Tensor::from_fn(&[16, 2], |ix| {
            r.data[ix[0] * 2 + ix[1]] + 0.01 * ((ix[0] * 2 + ix[1]) as f64).sin()
        });
        let k = t.var(Tensor::from_fn(&[net.len()], |ix| {
            900.0 + 10.0 * ix[0] as f64
        }));
        let rest = t.var(net.lengths(&r));
        let system = ParticleSystem::new(t.constant(Tensor::ones(&[16])), DT)
            .with_springs(net, k, rest, None)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
        (system, p0, Tensor::zeros(&[16, 2]), vec![k, rest], r)
    } else {
        let p0 = Tensor::from_fn(&[12, 3], |ix| 0.01 * ((ix[0] * 3 + ix[1]) as f64).cos());
        let (c, k) = (t.scalar(0.1), t.scalar(1e4));
        let system = ParticleSystem::new(t.constant(Tensor::ones(&[12])), DT)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
            .with_drag(c)
            .with_ground(Ground::floor(3), k);
        let v0 = Tensor::from_fn(&[12, 3], |ix| 0.2 * ((ix[0] + ix[1]) as f64).sin());
        (system, p0, v0, vec![c, k], Tensor::zeros(&[12, 3]))
    };
    let (p0, v0) = (t.var(p0), t.var(v0));
    let p = match run {
        Run::Host => system.rollout_final(&p0, &v0, steps).unwrap().0,
        Run::Device => {
            let on = system.on(d).unwrap();
            on.rollout_final(&p0, &v0, steps).unwrap().0.to_host()
        }
        Run::Checkpointed(seg) => {
            let on = system.on(d).unwrap();
            let (p, _) = on.rollout_checkpointed(&p0, &v0, steps, seg).unwrap();
            p.to_host()
        }
    };
    let loss = p.sub(&t.constant(target)).square().sum();
    let wrt: Vec<TVar> = [p0, v0].into_iter().chain(params).collect();
    (loss.item(), t.grad_wrt(loss, &wrt))
}

#[test]
fn a_checkpointed_device_rollout_equals_the_plain_one_bit_for_bit() {
    let Some(d) = device() else { return };
    let steps = 40;
    for springs in [true, false] {
        let (host_loss, host) = rollout(springs, steps, Run::Host, d);
        let (plain_loss, plain) = rollout(springs, steps, Run::Device, d);
        assert!(rel(plain_loss, host_loss) <= 1e-12);
        for seg in [None, Some(1), Some(9), Some(40), Some(100)] {
            let (loss, grads) = rollout(springs, steps, Run::Checkpointed(seg), d);
            let case = format!("springs {springs}, segment {seg:?}");
            assert_eq!(loss.to_bits(), plain_loss.to_bits(), "{case}");
            for (k, (g, p)) in grads.iter().zip(&plain).enumerate() {
                assert!(same_bits(g, p), "{case}, gradient {k}");
                let e = max_rel(&host[k], g);
                assert!(e <= 1e-12, "{case}, gradient {k} vs the host: {e:e}");
                assert!(
                    g.data.iter().any(|x| *x != 0.0),
                    "{case}: gradient {k} is 0"
                );
            }
        }
    }
}

#[test]
fn a_checkpoint_segment_mixing_host_and_device_values_differentiates() {
    // A segment that takes a host value to the device and back: the replay
    // records the transfers and the device ops again.
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let x0 = Tensor::from_data(vec![0.5, -1.5, 2.0], vec![3]);
    let x = t.var(x0.clone());
    let xd = x.to_device(d);
    let dev = d.clone();
    let out = t
        .try_checkpoint(&[x, xd], move |_inner, v| {
            let y = maya::gpu::mul(&v[0].to_device(&dev), &v[1])?;
            Ok(vec![maya::gpu::add(&y, &v[1])?.to_host()])
        })
        .unwrap();
    let g = t.grad_wrt(out[0].square().sum(), &[x]);
    // y = x² + x: ∂Σy²/∂x = 2y(2x + 1).
    for (gi, xi) in g[0].data.iter().zip(&x0.data) {
        let y = xi * xi + xi;
        assert!((gi - 2.0 * y * (2.0 * xi + 1.0)).abs() <= 1e-12 * gi.abs().max(1.0));
    }
}

/// A chain of three particles in 2D whose second spring has rest length
/// 0.1 but both ends at one point: its direction is 0/0.
#[test]
fn a_spring_whose_ends_meet_is_an_error_at_step_one_on_the_device() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let net = SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap();
    let p0 = t.constant(Tensor::from_data(
        vec![0.0, 0.0, 0.1, 0.0, 0.1, 0.0],
        vec![3, 2],
    ));
    let v0 = t.constant(Tensor::zeros(&[3, 2]));
    let system = ParticleSystem::new(t.constant(Tensor::ones(&[3])), DT).with_springs(
        net,
        t.var(Tensor::full(&[2], 100.0)),
        t.constant(Tensor::full(&[2], 0.1)),
        None,
    );
    assert!(
        system.rollout_final(&p0, &v0, 5).is_err(),
        "the host refuses it"
    );
    let on = system.on(d).unwrap();
    for result in [
        on.rollout_final(&p0, &v0, 5),
        on.rollout_checkpointed(&p0, &v0, 5, Some(2)),
    ] {
        match result {
            Err(Error::NonFinite { what, step }) => {
                assert_eq!(step, 1, "{what}");
                assert!(what.contains("on the device"), "{what}");
            }
            other => panic!("expected NonFinite at step 1, got {:?}", other.map(|_| ())),
        }
    }
}

/// A particle 1.76·10³⁰⁸ up, rising 10³⁰⁵ a step: its height overflows to
/// ∞ some 40 steps in. The rollout, which checks every 32 steps, names the
/// step at which a step-by-step device run, read back after every step,
/// first turns non-finite.
#[test]
fn a_device_rollout_names_the_first_non_finite_step() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let p0 = t.constant(Tensor::from_data(
        vec![0.0, 0.0, 1.76e308, 0.0, 0.0, 1.0],
        vec![2, 3],
    ));
    let v0 = t.constant(Tensor::from_data(
        vec![0.0, 0.0, 1e308, 0.0, 0.0, 0.0],
        vec![2, 3],
    ));
    let system = ParticleSystem::new(t.constant(Tensor::ones(&[2])), 1e-3)
        .with_drag(t.scalar(0.1))
        .with_ground(Ground::floor(3), t.scalar(1e4));
    let on = system.on(d).unwrap();
    let (mut p, mut v) = (p0.to_device(d), v0.to_device(d));
    let mut first_bad = None;
    for s in 1..=100 {
        (p, v) = on.step(&p, &v).unwrap();
        if !(p.value().is_finite() && v.value().is_finite()) {
            first_bad = Some(s);
            break;
        }
    }
    let first_bad = first_bad.expect("the state overflows within 100 steps");
    assert!(first_bad > 32 && first_bad % 32 != 0, "step {first_bad}");
    for result in [
        on.rollout_final(&p0, &v0, 100),
        on.rollout_checkpointed(&p0, &v0, 100, Some(20)),
    ] {
        match result {
            Err(Error::NonFinite { what, step }) => {
                assert_eq!(step, first_bad, "{what}");
                assert!(what.contains("position entry 2"), "{what}");
            }
            other => panic!("the device should fail: {:?}", other.map(|_| ())),
        }
    }
}
