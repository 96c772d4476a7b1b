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

use super::kernel::Kernel;
use super::tensor_tape::{TVar, TensorTape};
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The checkpoint kernel: forward runs the segment on an inner tape that
/// records no gradient nodes and is dropped at once; vjp re-runs it on an
/// inner tape with the inputs as variables and sweeps `grad_outputs` back.
struct Checkpoint<F> {
    segment: F,
}

impl<F> Kernel for Checkpoint<F>
where
    F: for<'s> Fn(&'s TensorTape, &[TVar<'s>]) -> Result<Vec<TVar<'s>>> + Send + 'static,
{
    /// Nothing: the interior is recomputed, which is the point.
    type Saved = ();

    fn name(&self) -> &'static str {
        "checkpoint"
    }

    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let inner = TensorTape::new();
        let vars: Vec<TVar> = inputs
            .iter()
            .map(|x| inner.constant((*x).clone()))
            .collect();
        let outs = (self.segment)(&inner, &vars)?;
        if outs.is_empty() {
            return Err(Error::Empty { op: "checkpoint" });
        }
        if outs.iter().any(|o| !std::ptr::eq(o.tape(), &inner)) {
            return Err(Error::ForeignHandle { op: "checkpoint" });
        }
        Ok((outs.iter().map(TVar::value).collect(), ()))
    }

    /// Re-runs the segment with the inputs as variables, checks that it
    /// reproduces the stored outputs bit for bit ([`Error::Replay`]
    /// otherwise: its gradient would be that of another computation), and
    /// sweeps `grad_outputs` back through it.
    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let inner = TensorTape::new();
        let vars: Vec<TVar> = inputs.iter().map(|x| inner.var((*x).clone())).collect();
        let outs = (self.segment)(&inner, &vars)?;
        for (k, (o, stored)) in outs.iter().zip(outputs).enumerate() {
            o.with_value(|replayed| check_replay(k, stored, replayed))?;
        }
        let seeds: Vec<(TVar, Tensor)> = outs
            .into_iter()
            .zip(grad_outputs)
            .map(|(o, g)| (o, (*g).clone()))
            .collect();
        let grads = inner.try_grad_seeded(&seeds, &vars)?;
        for (acc, g) in grad_inputs.iter_mut().zip(grads) {
            for (a, b) in acc.data.iter_mut().zip(&g.data) {
                *a += b;
            }
        }
        Ok(())
    }
}

/// [`Error::Replay`] unless output `k` was recomputed bit for bit (NaNs
/// compare by bits too).
fn check_replay(k: usize, stored: &Tensor, replayed: &Tensor) -> Result<()> {
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
    /// bound enforces the second.
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
        self.try_apply(Checkpoint { segment }, inputs)
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
