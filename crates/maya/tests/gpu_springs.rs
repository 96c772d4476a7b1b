//! The device spring step (W3's kernel) against the host's
//! `ParticleSystem::with_springs`: one step forward and back, a W3 rollout
//! with every gradient, repeatability, and gradcheck through the
//! transfers. Skipped with one line without an f64 adapter (a failure
//! under `MAYA_REQUIRE_GPU=1`).
#![cfg(feature = "gpu")]

use maya::dynamics::{ParticleSystem, SpringNetwork};
use maya::gpu::{self, DeviceSprings};
use maya::{gradcheck_with, Error, TVar, Tensor, TensorTape};

mod gpu_common;
use gpu_common::{device, max_rel, rel, same_bits};

const DT: f64 = 1e-3;
const G: [f64; 3] = [0.0, -9.81, 0.0];

/// A small irregular case in `dim` dimensions: a 3 × 4 grid (its springs
/// plus one long diagonal), positions off the grid, nonzero velocities,
/// unequal masses, stiffnesses and rest lengths (some springs stretched,
/// some compressed).
struct Case {
    net: SpringNetwork,
    p: Tensor,
    v: Tensor,
    m: Tensor,
    k: Tensor,
    rest: Tensor,
}

fn case(dim: usize) -> Case {
    let grid = SpringNetwork::grid(3, 4);
    let mut pairs: Vec<(usize, usize)> = grid.pairs().collect();
    pairs.push((11, 0));
    let net = SpringNetwork::new(12, pairs).unwrap();
    let s = net.len();
    let p = Tensor::from_fn(&[12, dim], |ix| {
        let (i, q) = (ix[0], ix[1]);
        let on_grid = match q {
            0 => 0.1 * (i / 4) as f64,
            1 => 1.0 + 0.1 * (i % 4) as f64,
            _ => 0.0,
        };
        on_grid + 0.02 * ((i * 3 + q) as f64 * 1.7).sin()
    });
    let v = Tensor::from_fn(&[12, dim], |ix| 0.3 * ((ix[0] + 5 * ix[1]) as f64).cos());
    let m = Tensor::from_fn(&[12], |ix| 0.5 + 0.1 * (ix[0] % 5) as f64);
    let k = Tensor::from_fn(&[s], |ix| 800.0 + 40.0 * (ix[0] % 7) as f64);
    let lengths = net.lengths(&p);
    let rest = Tensor::from_fn(&[s], |ix| {
        lengths.data[ix[0]] * (1.0 + 0.05 * ((ix[0] as f64) * 0.9 + 0.5).sin())
    });
    Case {
        net,
        p,
        v,
        m,
        k,
        rest,
    }
}

/// Fixed weights for a loss Σ wp·p' + Σ wv·v' that seeds the adjoint with
/// distinct values everywhere.
fn weights(shape: &[usize], phase: f64) -> Tensor {
    Tensor::from_fn(shape, |ix| {
        (ix[0] as f64 * 0.7 + ix[1] as f64 + phase).sin()
    })
}

/// (p', v') and the gradients of Σ wp·p' + Σ wv·v' (p, v, k, rest) after
/// `steps` steps, on the host or (with `springs`) on the device.
fn run(c: &Case, steps: usize, springs: Option<&DeviceSprings>) -> (Vec<Tensor>, Vec<Tensor>) {
    let t = TensorTape::new();
    let dim = c.p.shape[1];
    let leaves: Vec<TVar> = [&c.p, &c.v, &c.k, &c.rest]
        .iter()
        .map(|x| t.var((*x).clone()))
        .collect();
    let (mut p, mut v) = (leaves[0], leaves[1]);
    match springs {
        None => {
            let system = ParticleSystem::new(t.constant(c.m.clone()), DT)
                .with_springs(c.net.clone(), leaves[2], leaves[3], None)
                .with_gravity(t.constant(Tensor::from_data(G[..dim].to_vec(), vec![dim])));
            (p, v) = system.rollout_final(&p, &v, steps).unwrap();
        }
        Some(springs) => {
            let d = springs.device();
            let on: Vec<TVar> = leaves.iter().map(|x| x.to_device(d)).collect();
            let m = t.constant(c.m.clone()).to_device(d);
            (p, v) = (on[0], on[1]);
            for _ in 0..steps {
                (p, v) = gpu::spring_step(springs, &p, &v, &m, &on[2], &on[3], DT, G).unwrap();
            }
            (p, v) = (p.to_host(), v.to_host());
        }
    }
    let wp = t.constant(weights(&c.p.shape, 0.0));
    let wv = t.constant(weights(&c.p.shape, 1.0));
    let loss = p.mul(&wp).sum().add(&v.mul(&wv).sum());
    let grads = t.grad_wrt(loss, &leaves);
    (vec![p.value(), v.value()], grads)
}

#[test]
fn one_device_spring_step_and_its_adjoint_match_the_host_kernel() {
    let Some(d) = device() else { return };
    for dim in [2, 3] {
        let c = case(dim);
        let springs = DeviceSprings::new(d, &c.net).unwrap();
        let (host_out, host_grads) = run(&c, 1, None);
        let (out, grads) = run(&c, 1, Some(&springs));
        for (name, (a, b)) in ["p'", "v'"].iter().zip(out.iter().zip(&host_out)) {
            let e = max_rel(b, a);
            assert!(e <= 1e-13, "{dim}D {name}: relative error {e:e}");
        }
        for (name, (g, h)) in ["p", "v", "k", "rest"]
            .iter()
            .zip(grads.iter().zip(&host_grads))
        {
            let e = max_rel(h, g);
            assert!(e <= 1e-13, "{dim}D dL/d{name}: relative error {e:e}");
            assert!(
                h.data.iter().all(|x| *x != 0.0),
                "{dim}D dL/d{name} has zeros"
            );
        }
    }
}

/// W3 on an n × n grid for `steps` steps: loss Σ|p_T − r|² and its
/// gradients (p0, v0, k, rest), on the host or the device.
fn w3(n: usize, steps: usize, on: Option<&DeviceSprings>) -> (f64, Vec<Tensor>) {
    let net = SpringNetwork::grid(n, n);
    let r = SpringNetwork::grid_positions(n, n, 0.1, [0.0, 1.0]);
    let rest0 = net.lengths(&r);
    let p0 = Tensor::from_fn(&[n * n, 2], |ix| {
        let idx = ix[0] as f64;
        r.data[ix[0] * 2 + ix[1]] + 0.01 * if ix[1] == 0 { idx.sin() } else { idx.cos() }
    });
    let t = TensorTape::new();
    let leaves = [
        t.var(p0),
        t.var(Tensor::zeros(&[n * n, 2])),
        t.var(Tensor::full(&[net.len()], 1000.0)),
        t.var(rest0),
    ];
    let m = t.constant(Tensor::ones(&[n * n]));
    let p = match on {
        None => {
            let system = ParticleSystem::new(m, DT)
                .with_springs(net, leaves[2], leaves[3], None)
                .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
            system
                .rollout_final(&leaves[0], &leaves[1], steps)
                .unwrap()
                .0
        }
        Some(springs) => {
            let d = springs.device();
            let x: Vec<TVar> = leaves.iter().map(|x| x.to_device(d)).collect();
            let (m, (mut p, mut v)) = (m.to_device(d), (x[0], x[1]));
            for _ in 0..steps {
                (p, v) = gpu::spring_step(springs, &p, &v, &m, &x[2], &x[3], DT, G).unwrap();
            }
            p.to_host()
        }
    };
    let loss = p.sub(&t.constant(r)).square().sum();
    (loss.item(), t.grad_wrt(loss, &leaves))
}

#[test]
fn a_w3_rollout_on_the_device_matches_the_host_and_repeats_bit_for_bit() {
    let Some(d) = device() else { return };
    let (n, steps) = (6, 40);
    let springs = DeviceSprings::new(d, &SpringNetwork::grid(n, n)).unwrap();
    let (host_loss, host_grads) = w3(n, steps, None);
    let (loss, grads) = w3(n, steps, Some(&springs));
    assert!(rel(loss, host_loss) <= 1e-12, "loss {loss} vs {host_loss}");
    for (name, (g, h)) in ["p0", "v0", "k", "rest"]
        .iter()
        .zip(grads.iter().zip(&host_grads))
    {
        let e = max_rel(h, g);
        assert!(e <= 1e-12, "dL/d{name}: relative error {e:e}");
        assert!(h.data.iter().any(|x| *x != 0.0), "dL/d{name} is all zero");
    }
    let (again, grads_again) = w3(n, steps, Some(&springs));
    assert_eq!(loss.to_bits(), again.to_bits());
    assert!(grads.iter().zip(&grads_again).all(|(a, b)| same_bits(a, b)));
}

#[test]
fn a_spring_rollout_through_the_transfers_passes_gradcheck() {
    let Some(d) = device() else { return };
    let d = d.clone();
    // A triangle and a tail: 4 particles, 4 springs, in 2D.
    let net = SpringNetwork::new(4, vec![(0, 1), (1, 2), (2, 0), (2, 3)]).unwrap();
    let springs = DeviceSprings::new(&d, &net).unwrap();
    let p0 = Tensor::from_data(vec![0.0, 0.0, 1.0, 0.1, 0.4, 0.9, 0.5, 1.8], vec![4, 2]);
    let config = maya::GradcheckConfig {
        rtol: 1e-6,
        ..Default::default()
    };
    let report = gradcheck_with(
        &config,
        |t, x| {
            // √k fed as k on the host, the rest lengths and v0 straight.
            let k = x[1].square().to_device(&d);
            let rest = x[2].to_device(&d);
            let m = t.constant(Tensor::from_data(vec![1.0, 2.0, 0.5, 1.5], vec![4]));
            let (m, mut p) = (m.to_device(&d), t.constant(p0.clone()).to_device(&d));
            let mut v = x[0].to_device(&d);
            for _ in 0..5 {
                (p, v) = gpu::spring_step(&springs, &p, &v, &m, &k, &rest, 1e-2, G).unwrap();
            }
            p.to_host().square().sum().add(&v.to_host().sum())
        },
        &[
            Tensor::from_data(vec![0.1, -0.2, 0.3, 0.0, -0.1, 0.2, 0.0, 0.4], vec![4, 2]),
            Tensor::from_data(vec![3.0, 4.0, 5.0, 2.0], vec![4]),
            Tensor::from_data(vec![0.9, 1.0, 1.1, 0.8], vec![4]),
        ],
    );
    assert!(report.passed, "{report}");
}

#[test]
fn bad_inputs_to_the_device_spring_step_are_errors_naming_them() {
    let Some(d) = device() else { return };
    let net = SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap();
    let springs = DeviceSprings::new(d, &net).unwrap();
    let t = TensorTape::new();
    let on = |x: Tensor| t.constant(x).to_device(d);
    let (p, v) = (on(Tensor::zeros(&[3, 2])), on(Tensor::zeros(&[3, 2])));
    let (m, k) = (on(Tensor::ones(&[3])), on(Tensor::ones(&[2])));
    // Rest lengths for 3 springs on a network of 2.
    let err = gpu::spring_step(&springs, &p, &v, &m, &k, &on(Tensor::ones(&[3])), DT, G)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[2]") && err.contains("[3]") && err.contains("rest"),
        "{err}"
    );
    // 4-D positions.
    let p4 = on(Tensor::zeros(&[3, 4]));
    let err = gpu::spring_step(&springs, &p4, &p4, &m, &k, &k, DT, G).unwrap_err();
    assert!(err.to_string().contains("D = 2 or 3"), "{err}");
    // A mass gradient is not on the device yet.
    let mv = t.var(Tensor::ones(&[3])).to_device(d);
    let err = gpu::spring_step(&springs, &p, &v, &mv, &k, &k, DT, G).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

/// A host `ParticleSystem` and the same system `.on(device)`: W3 on a
/// 5 × 5 grid (springs, gravity) or W2-like particles (drag, floor).
fn system_rollout(springs: bool, on: Option<&maya::gpu::Device>) -> (f64, Vec<Tensor>) {
    let t = TensorTape::new();
    let steps = 30;
    let (system, p0, v0, params, target) = if springs {
        let net = SpringNetwork::grid(5, 5);
        let r = SpringNetwork::grid_positions(5, 5, 0.1, [0.0, 1.0]);
        let p0 = Tensor::from_fn(&[25, 2], |ix| {
            r.data[ix[0] * 2 + ix[1]] + 0.01 * ((ix[0] * 2 + ix[1]) as f64).sin()
        });
        let (k, rest) = (
            t.var(Tensor::full(&[net.len()], 1000.0)),
            t.var(net.lengths(&r)),
        );
        let system = ParticleSystem::new(t.constant(Tensor::ones(&[25])), DT)
            .with_springs(net, k, rest, None)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
        (system, p0, Tensor::zeros(&[25, 2]), vec![k, rest], r)
    } else {
        let p0 = Tensor::from_fn(&[20, 3], |ix| 0.01 * ((ix[0] * 3 + ix[1]) as f64).cos());
        let (c, k) = (t.scalar(0.1), t.scalar(1e4));
        let system = ParticleSystem::new(t.constant(Tensor::ones(&[20])), DT)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
            .with_drag(c)
            .with_ground(maya::dynamics::Ground::floor(3), k);
        let v0 = Tensor::from_fn(&[20, 3], |ix| 0.2 * ((ix[0] + ix[1]) as f64).sin());
        (system, p0, v0, vec![c, k], Tensor::zeros(&[20, 3]))
    };
    let (p0, v0) = (t.var(p0), t.var(v0));
    let p = match on {
        None => system.rollout_final(&p0, &v0, steps).unwrap().0,
        Some(d) => {
            let system = system.on(d).unwrap();
            system.rollout_final(&p0, &v0, steps).unwrap().0.to_host()
        }
    };
    let loss = p.sub(&t.constant(target)).square().sum();
    let wrt: Vec<TVar> = [p0, v0].into_iter().chain(params).collect();
    (loss.item(), t.grad_wrt(loss, &wrt))
}

#[test]
fn a_particle_system_on_the_device_matches_it_on_the_host() {
    let Some(d) = device() else { return };
    for springs in [true, false] {
        let (host_loss, host_grads) = system_rollout(springs, None);
        let (loss, grads) = system_rollout(springs, Some(d));
        assert!(rel(loss, host_loss) <= 1e-12, "{loss} vs {host_loss}");
        for (k, (g, h)) in grads.iter().zip(&host_grads).enumerate() {
            let e = max_rel(h, g);
            assert!(e <= 1e-12, "springs {springs}, gradient {k}: {e:e}");
            assert!(h.data.iter().any(|x| *x != 0.0), "gradient {k} is all zero");
        }
    }
}

#[test]
fn a_system_without_device_kernels_is_an_error_saying_what() {
    let Some(d) = device() else { return };
    let t = TensorTape::new();
    let net = SpringNetwork::new(2, vec![(0, 1)]).unwrap();
    let one = || t.constant(Tensor::ones(&[1]));
    let base = || ParticleSystem::new(t.constant(Tensor::ones(&[2])), DT);
    let damped = base().with_springs(net.clone(), one(), one(), Some(one()));
    let err = damped.on(d).err().unwrap().to_string();
    assert!(err.contains("damped springs"), "{err}");
    let rk4 = base()
        .with_springs(net, one(), one(), None)
        .with_integrator(maya::dynamics::Integrator::Rk4);
    let err = rk4.on(d).err().unwrap().to_string();
    assert!(err.contains("semi-implicit Euler"), "{err}");
    // Negative stiffness: the host step's parameter check, before any upload.
    let bad = base().with_springs(
        SpringNetwork::new(2, vec![(0, 1)]).unwrap(),
        t.constant(Tensor::full(&[1], -1.0)),
        one(),
        None,
    );
    assert!(bad.on(d).is_err());
}
