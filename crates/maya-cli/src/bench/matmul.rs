//! W4 `matmul`: C = A B, L = Σ C², on the tensor tape.

use super::{Outcome, Workload};
use maya::{TVar, Tensor, TensorTape};
use std::mem::take;

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

/// A and B move into each repetition's tape and back out of it after
/// (`TensorTape::into_values`), uncopied.
fn prepare(n: usize, grad: bool) -> Box<dyn FnMut() -> Outcome> {
    let (mut a0, mut b0) = inputs(n);
    Box::new(move || {
        let t = TensorTape::new();
        let (a, b) = leaves(&t, take(&mut a0), take(&mut b0), grad);
        let loss = a.matmul(&b).square().sum();
        let (ia, ib) = (a.idx(), b.idx());
        let result = outcome(&t, loss, [a, b], grad);
        let mut values = t.into_values().expect("host values");
        (a0, b0) = (take(&mut values[ia]), take(&mut values[ib]));
        result
    })
}

/// A and B on the tape: variables in grad mode, constants otherwise.
pub(super) fn leaves(t: &TensorTape, a: Tensor, b: Tensor, grad: bool) -> (TVar<'_>, TVar<'_>) {
    if grad {
        (t.var(a), t.var(b))
    } else {
        (t.constant(a), t.constant(b))
    }
}

/// The loss and, in grad mode, ∂L/∂A and ∂L/∂B (`ab`), whose sums are the
/// checks (summed after the clock stops).
pub(super) fn outcome(t: &TensorTape, loss: TVar<'_>, ab: [TVar<'_>; 2], grad: bool) -> Outcome {
    if !grad {
        return Outcome {
            sums: Vec::new(),
            loss: loss.item(),
            checks: vec![],
        };
    }
    let mut g = t.grad(loss).into_vec();
    let mut take = |x: &TVar<'_>| std::mem::take(&mut g[x.idx()].data);
    Outcome {
        sums: vec![("sum dL/dA", take(&ab[0])), ("sum dL/dB", take(&ab[1]))],
        loss: loss.item(),
        checks: vec![],
    }
}
