//! W4 `matmul`: C = A B, L = Σ C², on the tensor tape.

use super::{Outcome, Workload};
use maya::{TVar, Tensor, TensorTape};

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
        let (a, b) = leaves(&t, &a0, &b0, grad);
        let loss = a.matmul(&b).square().sum();
        outcome(&t, loss, [a, b], grad)
    })
}

/// A and B on the tape: variables in grad mode, constants otherwise.
pub(super) fn leaves<'t>(
    t: &'t TensorTape,
    a: &Tensor,
    b: &Tensor,
    grad: bool,
) -> (TVar<'t>, TVar<'t>) {
    if grad {
        (t.var(a.clone()), t.var(b.clone()))
    } else {
        (t.constant(a.clone()), t.constant(b.clone()))
    }
}

/// The loss and, in grad mode, the sums of ∂L/∂A and ∂L/∂B (`ab`).
pub(super) fn outcome(t: &TensorTape, loss: TVar<'_>, ab: [TVar<'_>; 2], grad: bool) -> Outcome {
    if !grad {
        return Outcome {
            loss: loss.item(),
            checks: vec![],
        };
    }
    let g = t.grad(loss);
    let total = |x: &TVar<'_>| g[x.idx()].data.iter().sum::<f64>();
    Outcome {
        loss: loss.item(),
        checks: vec![
            ("sum dL/dA", vec![total(&ab[0])]),
            ("sum dL/dB", vec![total(&ab[1])]),
        ],
    }
}
