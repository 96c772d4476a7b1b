//! W3 `mass-spring`: an n × n grid of particles with structural and shear
//! springs, falling under gravity; semi-implicit Euler, T = 1000 steps.

use super::{Outcome, Workload};
use maya::dynamics::{ParticleSystem, SpringNetwork};
use maya::{Tensor, TensorTape};

pub const DT: f64 = 1e-3;
pub const STEPS: usize = 1000;
pub const K: f64 = 1000.0;

pub fn workload() -> Workload {
    Workload {
        name: "mass-spring",
        alias: "W3",
        sizes: &[32, 64],
        prepare,
    }
}

/// W3's case for an n × n grid: the network, the rest positions r, the
/// rest lengths and the initial positions p0 = r + 0.01 (sin i, cos i).
pub struct Case {
    pub network: SpringNetwork,
    pub rest_positions: Tensor,
    pub rest: Tensor,
    pub p0: Tensor,
}

pub fn case(n: usize) -> Case {
    let network = SpringNetwork::grid(n, n);
    let rest_positions = SpringNetwork::grid_positions(n, n, 0.1, [0.0, 1.0]);
    let rest = network.lengths(&rest_positions);
    let p0 = Tensor::from_fn(&[n * n, 2], |ix| {
        let idx = ix[0] as f64;
        let wiggle = if ix[1] == 0 { idx.sin() } else { idx.cos() };
        rest_positions.data[ix[0] * 2 + ix[1]] + 0.01 * wiggle
    });
    Case {
        network,
        rest_positions,
        rest,
        p0,
    }
}

fn prepare(n: usize, grad: bool) -> Box<dyn FnMut() -> Outcome> {
    let Case {
        network,
        rest_positions,
        rest,
        p0,
    } = case(n);
    let s = network.len();
    Box::new(move || {
        let t = TensorTape::new();
        let leaf = |x: Tensor| if grad { t.var(x) } else { t.constant(x) };
        let (k, v0) = (
            leaf(Tensor::full(&[s], K)),
            leaf(Tensor::zeros(&[n * n, 2])),
        );
        // Springs before gravity: the force sums in the order of the spec.
        let system = ParticleSystem::new(t.constant(Tensor::ones(&[n * n])), DT)
            .with_springs(network.clone(), k, t.constant(rest.clone()), None)
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
        let (p, _) = system
            .rollout_final(&t.constant(p0.clone()), &v0, STEPS)
            .expect("W3 stays finite");
        let loss = p.sub(&t.constant(rest_positions.clone())).square().sum();
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
