//! Checkpointed rollouts: identical gradients to plain ones, and memory that
//! grows like √T instead of T.

use maya::dynamics::{Ground, ParticleSystem, SpringNetwork};
use maya::{Tensor, TensorTape};

/// A 4×4 spring grid with damping, gravity, drag and ground, [B, N, 2].
fn grads(steps: usize, segment: Option<Option<usize>>) -> (f64, Vec<Tensor>, usize) {
    let t = TensorTape::new();
    let net = SpringNetwork::grid(4, 4);
    let rest = SpringNetwork::grid_positions(4, 4, 0.1, [0.0, 0.05]);
    let s = net.len();
    let p0 = t.var(Tensor::from_fn(&[2, 16, 2], |ix| {
        rest.data[ix[1] * 2 + ix[2]] + 0.01 * ix[0] as f64
    }));
    let v0 = t.var(Tensor::rand_uniform(&[2, 16, 2], 3));
    let k = t.var(Tensor::full(&[s], 200.0));
    let l = t.var(net.lengths(&rest));
    let damping = t.var(Tensor::full(&[s], 0.5));
    let (c, kg) = (t.scalar(0.2), t.scalar(1e3));
    let m = t.var(Tensor::full(&[16], 0.1));
    let sys = ParticleSystem::new(m, 1e-3)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_drag(c)
        .with_ground(Ground::floor(2), kg)
        .with_springs(net, k, l, Some(damping));
    let (p, v) = match segment {
        None => sys.rollout_final(&p0, &v0, steps).unwrap(),
        Some(seg) => sys.rollout_checkpointed(&p0, &v0, steps, seg).unwrap(),
    };
    let loss = p.square().sum().add(&v.square().sum());
    let wrt = [p0, v0, k, l, damping, c, kg, m];
    (loss.item(), t.grad_wrt(loss, &wrt), t.len())
}

#[test]
fn checkpointed_and_plain_rollouts_give_identical_gradients() {
    let steps = 300;
    let (loss, plain, plain_len) = grads(steps, None);
    for seg in [None, Some(1), Some(7), Some(300), Some(1000)] {
        let (l, g, len) = grads(steps, Some(seg));
        assert_eq!(l, loss, "segment {seg:?}");
        for (i, (a, b)) in g.iter().zip(&plain).enumerate() {
            // The replay runs the same kernels on the same inputs and adds
            // to each input's running gradient in the plain order: the
            // same bits.
            assert_eq!(a, b, "segment {seg:?}, input {i}");
        }
        if seg.is_none() {
            // ⌈√300⌉ = 18-step segments: 17 segment outputs kept, not 300.
            assert!(len < plain_len / 8, "{len} values vs {plain_len}");
        }
    }
}

/// The long-horizon case of the issue: T = 100 000 steps of 1000 particles.
/// Plainly recorded it would keep 2·10⁵ states of 24 kB (4.8 GB); in √T
/// segments it keeps about 2·(317 + 317) states (~15 MB). Run it with
///
///     cargo run --release -p maya --example long_rollout
///
/// (under `/usr/bin/time -v` for the peak memory), or this test with
/// `--ignored`.
#[test]
#[ignore = "about a minute of CPU; see examples/long_rollout.rs"]
fn long_rollout_gradient_in_bounded_memory() {
    let t = TensorTape::new();
    let n = 1000;
    let p0 = t.constant(Tensor::from_fn(&[n, 3], |ix| {
        [0.01 * (ix[0] % 100) as f64, 0.0, 0.5][ix[1]]
    }));
    let v0 = t.var(Tensor::zeros(&[n, 3]));
    let c = t.scalar(0.1);
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[n])), 1e-4)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
        .with_drag(c)
        .with_ground(Ground::floor(3), t.scalar(1e4));
    let (p, _) = sys.rollout_checkpointed(&p0, &v0, 100_000, None).unwrap();
    assert!(t.len() < 1000);
    let g = t.grad_wrt(p.square().sum(), &[v0, c]);
    assert!(g[1].item().is_finite());
}
