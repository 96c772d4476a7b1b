//! A long horizon: the gradient of a T-step rollout of N particles (gravity,
//! drag, ground contact) through checkpointed segments, whose memory grows
//! like √T. Prints the time and the peak resident memory.
//!
//!     cargo run --release -p maya --example long_rollout [-- T N SEGMENT]
//!
//! Defaults: T = 100000, N = 1000, SEGMENT = ⌈√T⌉. SEGMENT = 0 records the
//! rollout plainly (memory ∝ T: only for small T).

use maya::dynamics::{Ground, ParticleSystem};
use maya::{Tensor, TensorTape};
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|x| x.parse::<f64>().ok());
    kb.map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> maya::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let steps = args.first().copied().unwrap_or(100_000);
    let n = args.get(1).copied().unwrap_or(1000);
    let segment = args.get(2).copied();
    let t = TensorTape::new();
    let p0 = t.constant(Tensor::from_fn(&[n, 3], |ix| {
        [
            0.01 * (ix[0] % 100) as f64,
            0.01 * (ix[0] / 100 % 100) as f64,
            0.5,
        ][ix[1]]
    }));
    let v0 = t.var(Tensor::from_fn(&[n, 3], |ix| [0.1, -0.05, 0.0][ix[1]]));
    let (c, k) = (t.scalar(0.1), t.scalar(1e4));
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[n])), 1e-4)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
        .with_drag(c)
        .with_ground(Ground::floor(3), k);
    let start = Instant::now();
    let (p, _) = match segment {
        Some(0) => sys.rollout_final(&p0, &v0, steps)?,
        seg => sys.rollout_checkpointed(&p0, &v0, steps, seg)?,
    };
    let loss = p.square().sum();
    let forward = start.elapsed().as_secs_f64();
    let g = t.try_grad_wrt(loss, &[v0, c, k])?;
    let total = start.elapsed().as_secs_f64();
    println!(
        "T = {steps}, N = {n}, segment = {}: loss {:.6}, dL/dc {:.6e}, dL/dk {:.6e}, sum dL/dv0 {:.6}",
        segment.map_or("sqrt(T)".to_string(), |s| s.to_string()),
        loss.item(),
        g[1].item(),
        g[2].item(),
        g[0].data.iter().sum::<f64>()
    );
    println!(
        "tape values kept: {}; forward {forward:.2} s, forward + gradient {total:.2} s; peak RSS {:.1} MB",
        t.len(),
        peak_rss_mb()
    );
    Ok(())
}
