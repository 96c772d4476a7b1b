//! W3 `mass-spring` on a compute device: the same case as
//! `mass_spring.rs`, every step one fused spring kernel over the network's
//! incidence table (uploaded once, untimed), the loss on the device, the
//! gradients copied back through the transfers.

use super::mass_spring::{case, Case, DT, K, STEPS};
use super::Outcome;
use maya::gpu::{self, Device, DeviceSprings};
use maya::{Tensor, TensorTape};

const GRAVITY: [f64; 3] = [0.0, -9.81, 0.0];

/// `_fused` is W2's option; W3 runs one dispatch per step.
pub fn prepare(
    device: &Device,
    n: usize,
    grad: bool,
    _fused: usize,
) -> Box<dyn FnMut() -> Outcome> {
    let Case {
        network,
        rest_positions,
        rest,
        p0,
    } = case(n);
    let springs = DeviceSprings::new(device, &network).expect("W3's network fits the device");
    let minus_r = Tensor::from_data(
        rest_positions.data.iter().map(|x| -x).collect(),
        rest_positions.shape.clone(),
    );
    let s = network.len();
    Box::new(move || {
        let t = TensorTape::new();
        let leaf = |x: Tensor| if grad { t.var(x) } else { t.constant(x) };
        let (k, v0) = (
            leaf(Tensor::full(&[s], K)),
            leaf(Tensor::zeros(&[n * n, 2])),
        );
        let d = springs.device();
        let on = |x: &Tensor| t.constant(x.clone()).to_device(d);
        let (k_d, rest_d, m) = (k.to_device(d), on(&rest), on(&Tensor::ones(&[n * n])));
        let (mut p, mut v) = (on(&p0), v0.to_device(d));
        for _ in 0..STEPS {
            (p, v) = gpu::spring_step(&springs, &p, &v, &m, &k_d, &rest_d, DT, GRAVITY)
                .expect("W3 runs on the device");
        }
        // p − r as p + (−r): the same IEEE result.
        let offset = gpu::add(&p, &on(&minus_r)).expect("same shapes");
        let loss = gpu::sum(&gpu::mul(&offset, &offset).expect("same shapes"))
            .expect("one device")
            .to_host();
        if !grad {
            return Outcome {
                sums: Vec::new(),
                loss: loss.item(),
                checks: vec![],
            };
        }
        let grads = t.grad_wrt(loss, &[k, v0]);
        Outcome {
            sums: Vec::new(),
            loss: loss.item(),
            checks: vec![
                ("sum dL/dk", vec![grads[0].data.iter().sum()]),
                ("dL/dk[0]", vec![grads[0].data[0]]),
                ("sum dL/dv0", vec![grads[1].data.iter().sum()]),
            ],
        }
    })
}
