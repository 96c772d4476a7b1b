//! W2 `particles` on a compute device: the same case as `particles.rs`,
//! every step a device kernel, the loss on the device, the gradients
//! copied back through the transfers; or `--steps-per-dispatch` steps
//! fused into each dispatch.

use super::particles::{initial_state, C, DT, K, STEPS};
use super::Outcome;
use maya::gpu::{self, Device};
use maya::{Tensor, TensorTape};

const GRAVITY: [f64; 3] = [0.0, 0.0, -9.81];

/// `fused` steps per dispatch (1: `particle_step` each step, else the
/// fused `particle_steps`).
pub fn prepare(device: &Device, n: usize, grad: bool, fused: usize) -> Box<dyn FnMut() -> Outcome> {
    let (p0, v0) = initial_state(n);
    let device = device.clone();
    Box::new(move || {
        let t = TensorTape::new();
        let leaf = |x: Tensor| if grad { t.var(x) } else { t.constant(x) };
        let (v0, c, k) = (
            leaf(v0.clone()),
            leaf(Tensor::scalar(C)),
            leaf(Tensor::scalar(K)),
        );
        let d = &device;
        let (c_d, k_d) = (c.to_device(d), k.to_device(d));
        let m = t.constant(Tensor::ones(&[n])).to_device(d);
        let (mut p, mut v) = (t.constant(p0.clone()).to_device(d), v0.to_device(d));
        let mut done = 0;
        while done < STEPS {
            let k = fused.min(STEPS - done);
            (p, v) = match fused {
                1 => gpu::particle_step(&p, &v, &m, &c_d, &k_d, DT, GRAVITY),
                _ => gpu::particle_steps(&p, &v, &m, &c_d, &k_d, DT, GRAVITY, k),
            }
            .expect("W2 runs on the device");
            done += k;
        }
        let loss = gpu::sum(&gpu::mul(&p, &p).expect("same shapes"))
            .expect("one device")
            .to_host();
        if !grad {
            return Outcome {
                sums: Vec::new(),
                loss: loss.item(),
                checks: vec![],
            };
        }
        let grads = t.grad_wrt(loss, &[v0, c, k]);
        let gv0 = &grads[0];
        Outcome {
            sums: Vec::new(),
            loss: loss.item(),
            checks: vec![
                ("dL/dc", vec![grads[1].item()]),
                ("dL/dk", vec![grads[2].item()]),
                ("sum dL/dv0", vec![gv0.data.iter().sum()]),
                ("dL/dv0[0]", gv0.data[..3].to_vec()),
            ],
        }
    })
}
