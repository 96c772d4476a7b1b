//! W1 `scalar-chain`: x ← sin(x)·a + x·b + 0.01, K times, on the scalar tape.

use super::{Outcome, Workload};
use maya::{Gradients, Tape};

const A: f64 = 0.9;
const B: f64 = 0.1;
const X0: f64 = 0.5;
const C: f64 = 0.01;

pub fn workload() -> Workload {
    Workload {
        name: "scalar-chain",
        alias: "W1",
        sizes: &[100_000, 1_000_000],
        prepare,
    }
}

fn prepare(k: usize, grad: bool) -> Box<dyn FnMut() -> Outcome> {
    if !grad {
        return Box::new(move || {
            let mut x = X0;
            for _ in 0..k {
                x = x.sin() * A + x * B + C;
            }
            Outcome {
                sums: Vec::new(),
                loss: std::hint::black_box(x),
                checks: vec![],
            }
        });
    }
    // The tape and gradient buffer are reused across repetitions (cleared,
    // not reallocated), as a simulation loop would. Room for one node per
    // statement; this chain reads only a, b and x0, so it records none.
    let mut tape = Tape::with_capacity(k + 4);
    let mut grads = Gradients::new();
    Box::new(move || {
        tape.clear();
        let (a, b, x0) = (tape.var(A), tape.var(B), tape.var(X0));
        let mut x = x0;
        for _ in 0..k {
            x = x.sin() * a + x * b + C;
        }
        tape.grad_into(x, &mut grads);
        Outcome {
            sums: Vec::new(),
            loss: x.value(),
            checks: vec![
                ("dL/da", vec![grads.wrt(a)]),
                ("dL/db", vec![grads.wrt(b)]),
                ("dL/dx0", vec![grads.wrt(x0)]),
            ],
        }
    })
}
