//! The reverse sweep over a [`TensorTape`].

use super::tensor_tape::{Inner, Node, TVar, TensorTape};
use super::value::Value;
use crate::error::OrPanic;
use crate::error::{Error, Pass, Result};
use crate::tensor::Tensor;
use std::ops::Index;

/// Gradients of a one-element loss with respect to every value of a
/// [`TensorTape`], indexable by [`TVar::idx`]. A value the loss does not
/// depend on has a gradient of zeros.
///
/// The table knows its tape: [`TensorGradients::wrt`] with a handle of
/// another tape is an error, not another value's gradient.
#[derive(Clone, Debug)]
pub struct TensorGradients {
    grads: Vec<Tensor>,
    tape_id: u64,
}

impl TensorGradients {
    /// The gradient with respect to `v`. Panics on a handle of another
    /// tape; see [`TensorGradients::try_wrt`].
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let (t, other) = (TensorTape::new(), TensorTape::new());
    /// let x = t.var(Tensor::from_data(vec![3.0], vec![1]));
    /// let g = t.grad(x.square().sum());
    /// assert_eq!(g.wrt(&x).data, vec![6.0]);
    /// let y = other.var(Tensor::from_data(vec![3.0], vec![1]));
    /// assert!(g.try_wrt(&y).is_err());
    /// ```
    #[track_caller]
    pub fn wrt(&self, v: &TVar<'_>) -> &Tensor {
        self.try_wrt(v).or_panic()
    }

    /// [`TensorGradients::wrt`], returning [`Error::ForeignHandle`] for a
    /// handle of another tape.
    pub fn try_wrt(&self, v: &TVar<'_>) -> Result<&Tensor> {
        if v.tape.id != self.tape_id {
            return Err(Error::ForeignHandle {
                op: "TensorGradients::wrt",
            });
        }
        Ok(&self.grads[v.idx])
    }

    /// Takes the gradients out, indexed by value.
    pub fn into_vec(self) -> Vec<Tensor> {
        self.grads
    }
}

impl Index<usize> for TensorGradients {
    type Output = Tensor;
    #[track_caller]
    fn index(&self, idx: usize) -> &Tensor {
        &self.grads[idx]
    }
}

impl TensorTape {
    /// Gradients of the one-element `loss` with respect to every value.
    ///
    /// Panics if `loss` has more than one element or belongs to another
    /// tape; see [`TensorTape::try_grad`].
    #[track_caller]
    pub fn grad(&self, loss: TVar<'_>) -> TensorGradients {
        self.try_grad(loss).or_panic()
    }

    /// [`TensorTape::grad`], returning an error for a loss that is not one
    /// element, a foreign handle, or (in checked mode) the first op whose
    /// value or gradient is non-finite.
    pub fn try_grad(&self, loss: TVar<'_>) -> Result<TensorGradients> {
        let seed = self.loss_seed(loss, "grad")?;
        let inner = self.borrow_inner();
        // Checked mode: an op already reported a non-finite value.
        if let Some(e) = &inner.first_bad {
            return Err(e.clone());
        }
        let seed = inner.values[loss.idx].alike(seed)?;
        let grads = sweep(self, &inner, vec![(loss.idx, seed)], None)?;
        let grads = grads
            .into_iter()
            .zip(&inner.values)
            .map(|(g, v)| match g {
                Some(g) => g.into_host(),
                None => Ok(Tensor::zeros(v.shape())),
            })
            .collect::<Result<_>>()?;
        Ok(TensorGradients {
            grads,
            tape_id: self.id,
        })
    }

    /// Gradients of the one-element `loss` with respect to `wrt` only, in
    /// that order.
    ///
    /// Unlike [`TensorTape::grad`], the sweep frees each intermediate
    /// gradient as soon as it has been propagated and reuses its buffer, so
    /// memory holds the gradients of one "frontier" of the tape instead of
    /// one per value: the right call for long rollouts.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    /// let y = x.mul(&x).sin().sum(); // Σ sin(x²), ∂/∂x = 2x cos(x²)
    /// let g = t.grad_wrt(y, &[x]);
    /// assert!((g[0].data[1] - 4.0 * 4f64.cos()).abs() < 1e-12);
    /// ```
    ///
    /// Panics like [`TensorTape::grad`]; see [`TensorTape::try_grad_wrt`].
    #[track_caller]
    pub fn grad_wrt(&self, loss: TVar<'_>, wrt: &[TVar<'_>]) -> Vec<Tensor> {
        self.try_grad_wrt(loss, wrt).or_panic()
    }

    /// [`TensorTape::grad_wrt`], returning the error instead.
    pub fn try_grad_wrt(&self, loss: TVar<'_>, wrt: &[TVar<'_>]) -> Result<Vec<Tensor>> {
        let seed = self.loss_seed(loss, "grad_wrt")?;
        self.try_grad_seeded(&[(loss, seed)], wrt)
    }

    /// Vector–Jacobian product of several values at once: the gradients with
    /// respect to `wrt` of Σᵢ ⟨seedᵢ, valueᵢ⟩, for `(value, seed)` pairs
    /// whose seeds have the values' shapes. Frees intermediate gradients like
    /// [`TensorTape::grad_wrt`].
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    /// let y = x.mul(&x); // ∂y/∂x = diag(2x)
    /// let g = t.try_grad_seeded(&[(y, Tensor::from_data(vec![1.0, 10.0], vec![2]))], &[x]).unwrap();
    /// assert_eq!(g[0].data, vec![2.0, 40.0]);
    /// ```
    pub fn try_grad_seeded(
        &self,
        seeds: &[(TVar<'_>, Tensor)],
        wrt: &[TVar<'_>],
    ) -> Result<Vec<Tensor>> {
        if seeds
            .iter()
            .map(|(v, _)| v)
            .chain(wrt)
            .any(|v| !std::ptr::eq(v.tape, self))
        {
            return Err(Error::ForeignHandle { op: "grad_wrt" });
        }
        let inner = self.borrow_inner();
        for (v, s) in seeds {
            let shape = inner.values[v.idx].shape();
            if s.shape != shape {
                return Err(Error::Shape {
                    op: "grad_seeded",
                    lhs: shape.to_vec(),
                    rhs: s.shape.clone(),
                    hint: "each seed must have the shape of its value",
                });
            }
        }
        if let Some(e) = &inner.first_bad {
            return Err(e.clone());
        }
        let mut keep = vec![false; inner.values.len()];
        for v in wrt {
            keep[v.idx] = true;
        }
        let seeds: Vec<(usize, Value)> = seeds
            .iter()
            .map(|(v, s)| Ok((v.idx, inner.values[v.idx].alike(s.clone())?)))
            .collect::<Result<_>>()?;
        let grads = sweep(self, &inner, seeds, Some(&keep))?;
        // The same value may be asked for twice: copy, do not take.
        wrt.iter()
            .map(|v| match &grads[v.idx] {
                Some(g) => g.to_host(),
                None => Ok(Tensor::zeros(inner.values[v.idx].shape())),
            })
            .collect()
    }

    /// [`TensorTape::try_grad_seeded`] with seeds and gradients where their
    /// values live (a device value's on its device); `None` for a value
    /// the seeds do not reach. The seeds have their values' shapes.
    pub(crate) fn grad_seeded_values(
        &self,
        seeds: Vec<(TVar<'_>, Value)>,
        wrt: &[TVar<'_>],
    ) -> Result<Vec<Option<Value>>> {
        let inner = self.borrow_inner();
        if let Some(e) = &inner.first_bad {
            return Err(e.clone());
        }
        let mut keep = vec![false; inner.values.len()];
        for v in wrt {
            keep[v.idx] = true;
        }
        let seeds = seeds.into_iter().map(|(v, s)| (v.idx, s)).collect();
        let grads = sweep(self, &inner, seeds, Some(&keep))?;
        Ok(wrt.iter().map(|v| grads[v.idx].clone()).collect())
    }

    /// Checks that `loss` is a one-element value of this tape; returns the
    /// seed ∂loss/∂loss = 1.
    fn loss_seed(&self, loss: TVar<'_>, op: &'static str) -> Result<Tensor> {
        if !std::ptr::eq(loss.tape, self) {
            return Err(Error::ForeignHandle { op });
        }
        let inner = self.borrow_inner();
        let shape = inner.values[loss.idx].shape();
        if shape.iter().product::<usize>() != 1 {
            return Err(Error::NotScalar {
                op,
                shape: shape.to_vec(),
            });
        }
        Ok(Tensor::ones(shape))
    }
}

/// Recycled gradient buffers, by length: the sweep zero-fills a returned
/// buffer instead of asking the allocator for fresh (page-faulting) memory.
#[derive(Default)]
struct Pool {
    free: Vec<Vec<f64>>,
}

impl Pool {
    fn zeros(&mut self, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        match self.take(n) {
            Some(mut data) => {
                data.clear();
                data.resize(n, 0.0);
                Tensor {
                    data,
                    shape: shape.to_vec(),
                }
            }
            None => Tensor::zeros(shape),
        }
    }

    /// A free buffer that holds `n` entries without wasting more than half.
    fn take(&mut self, n: usize) -> Option<Vec<f64>> {
        let k = self
            .free
            .iter()
            .rposition(|b| b.capacity() >= n && b.capacity() <= 2 * n.max(8))?;
        Some(self.free.swap_remove(k))
    }

    fn give(&mut self, t: Tensor) {
        // A few dozen buffers cover any frontier of a rollout; beyond that
        // let the allocator have them back.
        if self.free.len() < 64 {
            self.free.push(t.data);
        }
    }

    /// Zeros of `value`'s shape, in its place (host buffers recycled).
    fn zeros_like(&mut self, value: &Value) -> Result<Value> {
        match value {
            Value::Host(t) => Ok(Value::Host(self.zeros(&t.shape))),
            #[cfg(feature = "gpu")]
            device => device.zeros_like(),
        }
    }

    /// A buffer of `value`'s shape whose contents are unspecified (a
    /// recycled host buffer is not zeroed), for a gradient nobody reads.
    fn scratch_like(&mut self, value: &Value) -> Result<Value> {
        match value {
            Value::Host(t) => {
                let n = t.numel();
                match self.take(n) {
                    Some(mut data) => {
                        data.truncate(n);
                        data.resize(n, 0.0);
                        Ok(Value::Host(Tensor {
                            data,
                            shape: t.shape.clone(),
                        }))
                    }
                    None => Ok(Value::Host(Tensor::zeros(&t.shape))),
                }
            }
            #[cfg(feature = "gpu")]
            device => device.zeros_like(),
        }
    }

    /// Takes back a gradient no longer needed (device buffers are freed).
    fn give_value(&mut self, value: Value) {
        match value {
            Value::Host(t) => self.give(t),
            #[cfg(feature = "gpu")]
            Value::Device(_) => {}
        }
    }
}

/// The reverse sweep: seeds the given gradients and runs every node's vjp
/// in reverse order. With `keep`, the gradient of a value not kept is
/// recycled once its producing node has propagated it (every consumer of a
/// value comes after its producer on the tape, so it is final by then).
fn sweep(
    tape: &TensorTape,
    inner: &Inner,
    seeds: Vec<(usize, Value)>,
    keep: Option<&[bool]>,
) -> Result<Vec<Option<Value>>> {
    let mut grads: Vec<Option<Value>> = vec![None; inner.values.len()];
    let mut last = 0;
    for (idx, seed) in seeds {
        last = last.max(idx);
        match &mut grads[idx] {
            Some(g) => g.add_assign(&seed)?,
            slot => *slot = Some(seed),
        }
    }
    let mut pool = Pool::default();
    for (n, node) in inner.nodes.iter().enumerate().rev() {
        if node.outputs.start > last {
            continue;
        }
        backprop_node(inner, node, &mut grads, &mut pool)?;
        if tape.checked.get() {
            check_node(inner, n, node, &grads)?;
        }
        if let Some(keep) = keep {
            for o in node.outputs.clone() {
                if !keep[o]
                    && let Some(g) = grads[o].take()
                {
                    pool.give_value(g);
                }
            }
        }
    }
    Ok(grads)
}

/// Runs one node's vjp, accumulating into its inputs' gradients.
fn backprop_node(
    inner: &Inner,
    node: &Node,
    grads: &mut [Option<Value>],
    pool: &mut Pool,
) -> Result<()> {
    let outs = node.outputs.clone();
    if grads[outs.clone()].iter().all(Option::is_none) {
        return Ok(());
    }
    let (lower, upper) = grads.split_at_mut(outs.start);
    let zero_outs: Vec<Option<Value>> = upper[..outs.len()]
        .iter()
        .zip(&inner.values[outs.clone()])
        .map(|(g, v)| match g {
            None => pool.zeros_like(v).map(Some),
            Some(_) => Ok(None),
        })
        .collect::<Result<_>>()?;
    let grad_outputs: Vec<&Value> = upper[..outs.len()]
        .iter()
        .zip(&zero_outs)
        .map(|(g, z)| g.as_ref().or(z.as_ref()).expect("one of the two is set"))
        .collect();
    let inputs: Vec<&Value> = node.inputs.iter().map(|&i| &inner.values[i]).collect();
    let outputs: Vec<&Value> = inner.values[outs].iter().collect();
    // Take each input's gradient out of the table; an input that appears
    // twice (x * x) gets a scratch buffer for its second slot.
    let mut first_slot = vec![true; node.inputs.len()];
    // Slots that start as zeros nothing has added to (see
    // `Kernel::vjp_fresh`).
    let mut fresh = vec![false; node.inputs.len()];
    let mut taken: Vec<Value> = Vec::with_capacity(node.inputs.len());
    for (k, &i) in node.inputs.iter().enumerate() {
        first_slot[k] = !node.inputs[..k].contains(&i);
        let g = if first_slot[k] && inner.requires_grad[i] {
            lower[i].take()
        } else {
            None
        };
        taken.push(match g {
            Some(g) => g,
            // Nothing reads the gradient of an input that needs none (a
            // kernel told `needs_grad = false` skips it, and the buffer
            // goes back to the pool after): recycled, not zeroed.
            None if !inner.requires_grad[i] => pool.scratch_like(inputs[k])?,
            None => {
                fresh[k] = true;
                pool.zeros_like(inputs[k])?
            }
        });
    }
    let needs: Vec<bool> = node
        .inputs
        .iter()
        .map(|&i| inner.requires_grad[i])
        .collect();
    {
        let mut slots: Vec<&mut Value> = taken.iter_mut().collect();
        node.kernel
            .vjp(&inputs, &outputs, &grad_outputs, &mut slots, &needs, &fresh)?;
    }
    drop(grad_outputs);
    for z in zero_outs.into_iter().flatten() {
        pool.give_value(z);
    }
    let mut duplicates = Vec::new();
    for ((k, &i), g) in node.inputs.iter().enumerate().zip(taken) {
        if !inner.requires_grad[i] {
            pool.give_value(g);
            continue;
        }
        if first_slot[k] {
            lower[i] = Some(g);
        } else {
            duplicates.push((i, g));
        }
    }
    for (i, g) in duplicates {
        let acc = lower[i].as_mut().expect("first slot was put back");
        acc.add_assign(&g)?;
        pool.give_value(g);
    }
    Ok(())
}

/// Checked mode: fails on the first node whose input gradients went
/// non-finite.
fn check_node(inner: &Inner, n: usize, node: &Node, grads: &[Option<Value>]) -> Result<()> {
    let bad = node
        .inputs
        .iter()
        .any(|&i| grads[i].as_ref().is_some_and(|g| !g.is_finite()));
    if bad {
        return Err(Error::NonFiniteOp {
            op: node.kernel.name(),
            node: n,
            input_shapes: node
                .inputs
                .iter()
                .map(|&i| inner.values[i].shape().to_vec())
                .collect(),
            pass: Pass::Backward,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{Tensor, TensorTape};

    #[test]
    fn grad_wrt_equals_grad_and_recycles() {
        let t = TensorTape::new();
        let x = t.var(Tensor::from_data(vec![0.3, -1.2, 2.0], vec![3]));
        let w = t.var(Tensor::from_data(vec![1.5], vec![1]));
        let mut y = x;
        for _ in 0..20 {
            // Repeated inputs (y·y), broadcasting (· w), reused values (+ x).
            y = y.mul(&y).scalar_mul(0.1).mul(&w).sin().add(&x);
        }
        let loss = y.sum();
        let all = t.grad(loss);
        let some = t.grad_wrt(loss, &[w, x, w]);
        assert_eq!(some[0], all[w.idx()]);
        assert_eq!(some[1], all[x.idx()]);
        assert_eq!(some[2], all[w.idx()]);
        // An intermediate asked for by name is kept, not recycled.
        let mid = t.grad_wrt(loss, &[y]);
        assert_eq!(mid[0], all[y.idx()]);
    }
}
