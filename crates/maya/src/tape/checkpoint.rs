//! Checkpointing: a segment of computation recorded as one node that keeps
//! only its inputs and outputs, and recomputes its interior during the
//! backward sweep.
//!
//! A rollout of T steps recorded plainly keeps T states. Recorded as T/S
//! checkpointed segments of S steps, it keeps T/S segment boundaries, plus,
//! while one segment is being differentiated, that segment's S states: with
//! S ≈ √T, memory grows like √T. The price is one extra forward pass of each
//! segment. The gradients are those of the plain recording (the segment is
//! re-run with the same inputs and the same kernels).

use super::kernel::RecordedKernel;
use super::tensor_tape::{TVar, TensorTape};
use super::value::Value;
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The checkpoint node. Its inputs and outputs live wherever the segment
/// puts them (host or device): the forward runs the segment on an inner
/// tape whose inputs are constants (no gradient nodes) and is dropped at
/// once; vjp re-runs it on an inner tape with the inputs that need a
/// gradient as variables (a device segment records its dispatches again)
/// and sweeps `grad_outputs` back, in their places, on top of the inputs'
/// running gradients.
struct Checkpoint<F> {
    segment: F,
}

impl<F> Checkpoint<F>
where
    F: for<'s> Fn(&'s TensorTape, &[TVar<'s>]) -> Result<Vec<TVar<'s>>> + Send + 'static,
{
    /// Runs the segment on `inner` from `inputs` (variables where `needs`
    /// says so) and returns its outputs, checked to be of `inner`.
    fn run<'s>(
        &self,
        inner: &'s TensorTape,
        inputs: &[&Value],
        needs: &[bool],
    ) -> Result<(Vec<TVar<'s>>, Vec<TVar<'s>>)> {
        let vars: Vec<TVar> = inputs
            .iter()
            .zip(needs)
            .map(|(x, &n)| inner.leaf((*x).clone(), n))
            .collect();
        let outs = (self.segment)(inner, &vars)?;
        if outs.is_empty() {
            return Err(Error::Empty { op: "checkpoint" });
        }
        if outs.iter().any(|o| !std::ptr::eq(o.tape(), inner)) {
            return Err(Error::ForeignHandle { op: "checkpoint" });
        }
        Ok((vars, outs))
    }
}

impl<F> RecordedKernel for Checkpoint<F>
where
    F: for<'s> Fn(&'s TensorTape, &[TVar<'s>]) -> Result<Vec<TVar<'s>>> + Send + 'static,
{
    fn name(&self) -> &'static str {
        "checkpoint"
    }

    /// Re-runs the segment, checks that it reproduces the stored outputs
    /// bit for bit ([`Error::Replay`] otherwise: its gradient would be that
    /// of another computation), and sweeps `grad_outputs` back through it.
    fn vjp(
        &self,
        inputs: &[&Value],
        outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        needs_grad: &[bool],
        _fresh: &[bool],
    ) -> Result<()> {
        let inner = TensorTape::new();
        let (vars, outs) = self.run(&inner, inputs, needs_grad)?;
        for (k, (o, stored)) in outs.iter().zip(outputs).enumerate() {
            check_replay(k, stored, &o.raw_value())?;
        }
        // The outputs' gradients, copied (the outer sweep still holds
        // them); then each input's running gradient, moved in, so that the
        // replay adds to it in the order a plain recording would: the
        // gradients are the plain recording's to the last bit.
        let mut seeds: Vec<(TVar, Value)> = outs
            .into_iter()
            .zip(grad_outputs)
            .map(|(o, g)| Ok((o, g.duplicate()?)))
            .collect::<Result<_>>()?;
        for ((v, acc), &need) in vars.iter().zip(grad_inputs.iter_mut()).zip(needs_grad) {
            if need {
                let running = std::mem::replace(&mut **acc, Value::Host(Tensor::zeros(&[])));
                seeds.push((*v, running));
            }
        }
        let grads = inner.grad_seeded_values(seeds, &vars)?;
        for ((acc, g), &need) in grad_inputs.iter_mut().zip(grads).zip(needs_grad) {
            if need {
                **acc = g.expect("a seeded input has a gradient");
            }
        }
        Ok(())
    }
}

/// [`Error::Replay`] unless output `k` was recomputed bit for bit (NaNs
/// compare by bits too); device values are read back to compare.
fn check_replay(k: usize, stored: &Value, replayed: &Value) -> Result<()> {
    let (stored, replayed) = (stored.to_host()?, replayed.to_host()?);
    if stored.shape != replayed.shape {
        return Err(Error::Shape {
            op: "checkpoint replay",
            lhs: stored.shape.clone(),
            rhs: replayed.shape.clone(),
            hint: "the segment returned a differently shaped output on replay; it must be deterministic",
        });
    }
    let differ = stored
        .data
        .iter()
        .zip(&replayed.data)
        .position(|(a, b)| a.to_bits() != b.to_bits());
    match differ {
        None => Ok(()),
        Some(index) => Err(Error::Replay {
            output: k,
            index,
            stored: stored.data[index],
            replayed: replayed.data[index],
        }),
    }
}

impl TensorTape {
    /// Records `segment` applied to `inputs` as one checkpointed node: only
    /// the inputs and outputs are kept; the interior is recomputed during
    /// the backward sweep. Gradients equal those of calling `segment`
    /// directly on this tape.
    ///
    /// `segment` records its computation on the tape it is given (a fresh
    /// inner tape) from the inputs it is given, and returns its outputs. It
    /// must be deterministic (the backward sweep checks that the replay
    /// reproduces the outputs and returns [`Error::Replay`] if not) and
    /// capture no values of this tape (pass them as inputs): the `'static`
    /// bound enforces the second. Inputs and outputs may live on a device
    /// (with the `gpu` feature): the replay records the segment's
    /// dispatches again and its gradients stay on the device.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![0.5, 1.0], vec![2]));
    /// // Ten sin layers, kept as one node.
    /// let y = t.checkpoint(&[x], |_tape, v| {
    ///     let mut y = v[0];
    ///     for _ in 0..10 {
    ///         y = y.sin();
    ///     }
    ///     Ok(vec![y])
    /// })[0];
    /// let g = t.grad(y.sum());
    /// assert!(g[x.idx()].data[0] > 0.0);
    /// ```
    ///
    /// Panics if the segment fails; see [`TensorTape::try_checkpoint`].
    #[track_caller]
    pub fn checkpoint<'t, F>(&'t self, inputs: &[TVar<'t>], segment: F) -> Vec<TVar<'t>>
    where
        F: for<'s> Fn(&'s TensorTape, &[TVar<'s>]) -> Result<Vec<TVar<'s>>> + Send + 'static,
    {
        self.try_checkpoint(inputs, segment).or_panic()
    }

    /// [`TensorTape::checkpoint`], returning the segment's error (e.g.
    /// [`Error::NonFinite`] from a rollout) instead.
    pub fn try_checkpoint<'t, F>(&'t self, inputs: &[TVar<'t>], segment: F) -> Result<Vec<TVar<'t>>>
    where
        F: for<'s> Fn(&'s TensorTape, &[TVar<'s>]) -> Result<Vec<TVar<'s>>> + Send + 'static,
    {
        if inputs.iter().any(|v| !std::ptr::eq(v.tape(), self)) {
            return Err(Error::ForeignHandle { op: "checkpoint" });
        }
        let values: Vec<Value> = inputs.iter().map(TVar::raw_value).collect();
        let refs: Vec<&Value> = values.iter().collect();
        let node = Checkpoint { segment };
        let outputs = {
            let inner = TensorTape::new();
            let (_, outs) = node.run(&inner, &refs, &vec![false; refs.len()])?;
            outs.iter().map(TVar::raw_value).collect()
        };
        let ids = inputs.iter().map(TVar::idx).collect();
        Ok(self.push_node(Box::new(node), "checkpoint", ids, outputs))
    }
}

#[cfg(test)]
mod tests {
    use crate::{TVar, Tensor, TensorTape};

    fn body<'t>(v: TVar<'t>, w: TVar<'t>) -> TVar<'t> {
        let mut y = v;
        for _ in 0..5 {
            y = y.mul(&w).sin().add(&v);
        }
        y
    }

    #[test]
    fn checkpointed_gradient_equals_plain() {
        let x0 = Tensor::from_data(vec![0.3, -0.7, 1.1], vec![3]);
        let plain = {
            let t = TensorTape::new();
            let (x, w) = (t.var(x0.clone()), t.scalar(0.8));
            let y = body(x, w);
            let g = t.grad(y.square().sum());
            (g[x.idx()].clone(), g[w.idx()].clone())
        };
        let t = TensorTape::new();
        let (x, w) = (t.var(x0), t.scalar(0.8));
        let y = t.checkpoint(&[x, w], |_t, v| Ok(vec![body(v[0], v[1])]))[0];
        let g = t.grad(y.square().sum());
        assert_eq!(g[x.idx()], plain.0);
        assert_eq!(g[w.idx()], plain.1);
    }
}
