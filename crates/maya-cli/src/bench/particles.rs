//! W2 `particles`: N particles under gravity, drag and penalty ground
//! contact, semi-implicit Euler, T = 1000 steps; one fused node per step.

use super::{Outcome, Workload};
use maya::dynamics::{Ground, ParticleSystem};
use maya::{Tensor, TensorTape};

pub(super) const DT: f64 = 1e-3;
pub(super) const STEPS: usize = 1000;
pub(super) const C: f64 = 0.1;
pub(super) const K: f64 = 1e4;

pub fn workload() -> Workload {
    Workload {
        name: "particles",
        alias: "W2",
        sizes: &[1_000, 10_000],
        prepare,
    }
}

pub(super) fn initial_state(n: usize) -> (Tensor, Tensor) {
    let p0 = Tensor::from_fn(&[n, 3], |ix| {
        let i = ix[0];
        match ix[1] {
            0 => 0.01 * ((i % 100) as f64),
            1 => 0.01 * (((i / 100) % 100) as f64),
            _ => 0.5 + 0.001 * ((i % 17) as f64),
        }
    });
    let v0 = Tensor::from_fn(&[n, 3], |ix| [0.1, -0.05, 0.0][ix[1]]);
    (p0, v0)
}

fn prepare(n: usize, grad: bool) -> Box<dyn FnMut() -> Outcome> {
    let (p0, v0) = initial_state(n);
    let g = Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3]);
    Box::new(move || {
        let t = TensorTape::new();
        let leaf = |x: Tensor| if grad { t.var(x) } else { t.constant(x) };
        let (v0, c, k) = (
            leaf(v0.clone()),
            leaf(Tensor::scalar(C)),
            leaf(Tensor::scalar(K)),
        );
        let system = ParticleSystem::new(t.constant(Tensor::ones(&[n])), DT)
            .with_gravity(t.constant(g.clone()))
            .with_drag(c)
            .with_ground(Ground::floor(3), k);
        let (p, _) = system
            .rollout_final(&t.constant(p0.clone()), &v0, STEPS)
            .expect("W2 stays finite");
        let loss = p.square().sum();
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
