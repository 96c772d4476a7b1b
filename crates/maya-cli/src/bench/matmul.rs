//! W4 `matmul`: C = A B, L = Σ C², on the tensor tape.

use super::{Outcome, Workload};
use maya::{Tensor, TensorTape};

pub fn workload() -> Workload {
    Workload {
        name: "matmul",
        alias: "W4",
        sizes: &[64, 256, 1024],
        prepare,
    }
}

pub(super) fn inputs(n: usize) -> (Tensor, Tensor) {
    let entry = |m: usize, d: usize| (((m % d) as f64) - ((d / 2) as f64)) / 10.0;
    let a = Tensor::from_fn(&[n, n], |ij| entry(7 * ij[0] + 3 * ij[1], 11));
    let b = Tensor::from_fn(&[n, n], |ij| entry(5 * ij[0] + 2 * ij[1], 13));
    (a, b)
}

fn prepare(n: usize, grad: bool) -> Box<dyn FnMut() -> Outcome> {
    let (a0, b0) = inputs(n);
    Box::new(move || {
        let t = TensorTape::new();
        let (a, b) = if grad {
            (t.var(a0.clone()), t.var(b0.clone()))
        } else {
            (t.constant(a0.clone()), t.constant(b0.clone()))
        };
        let loss = a.matmul(&b).square().sum();
        if !grad {
            return Outcome {
                loss: loss.item(),
                checks: vec![],
            };
        }
        let g = t.grad(loss);
        let total = |x: &Tensor| x.data.iter().sum::<f64>();
        Outcome {
            loss: loss.item(),
            checks: vec![
                ("sum dL/dA", vec![total(&g[a.idx()])]),
                ("sum dL/dB", vec![total(&g[b.idx()])]),
            ],
        }
    })
}
