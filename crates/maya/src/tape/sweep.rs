//! The reverse sweep over a [`TensorTape`].

use super::tensor_tape::{Inner, Node, TVar, TensorTape};
use crate::error::{Error, Pass, Result};
use crate::tensor::Tensor;
use std::ops::Index;

/// Gradients of a one-element loss with respect to every value of a
/// [`TensorTape`], indexable by [`TVar::idx`]. A value the loss does not
/// depend on has a gradient of zeros.
#[derive(Clone, Debug)]
pub struct TensorGradients {
    grads: Vec<Tensor>,
}

impl TensorGradients {
    /// The gradient with respect to `v`.
    pub fn wrt(&self, v: &TVar<'_>) -> &Tensor {
        &self.grads[v.idx]
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
        self.try_grad(loss).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`TensorTape::grad`], returning an error for a loss that is not one
    /// element, a foreign handle, or (in checked mode) the first op whose
    /// value or gradient is non-finite.
    pub fn try_grad(&self, loss: TVar<'_>) -> Result<TensorGradients> {
        if !std::ptr::eq(loss.tape, self) {
            return Err(Error::ForeignHandle { op: "grad" });
        }
        let inner = self.borrow_inner();
        let shape = &inner.values[loss.idx].shape;
        if inner.values[loss.idx].numel() != 1 {
            return Err(Error::NotScalar {
                op: "grad",
                shape: shape.clone(),
            });
        }
        if let Some(e) = &inner.first_bad {
            return Err(e.clone());
        }
        let mut grads: Vec<Option<Tensor>> = vec![None; inner.values.len()];
        grads[loss.idx] = Some(Tensor::ones(shape));
        for (n, node) in inner.nodes.iter().enumerate().rev() {
            if node.outputs.start > loss.idx {
                continue;
            }
            backprop_node(&inner, node, &mut grads);
            if self.checked.get() {
                check_node(&inner, n, node, &grads)?;
            }
        }
        let grads = grads
            .into_iter()
            .zip(&inner.values)
            .map(|(g, v)| g.unwrap_or_else(|| Tensor::zeros(&v.shape)))
            .collect();
        Ok(TensorGradients { grads })
    }
}

/// Runs one node's vjp, accumulating into its inputs' gradients.
fn backprop_node(inner: &Inner, node: &Node, grads: &mut [Option<Tensor>]) {
    let outs = node.outputs.clone();
    if grads[outs.clone()].iter().all(Option::is_none) {
        return;
    }
    let (lower, upper) = grads.split_at_mut(outs.start);
    let zero_outs: Vec<Option<Tensor>> = upper[..outs.len()]
        .iter()
        .zip(&inner.values[outs.clone()])
        .map(|(g, v)| {
            if g.is_none() {
                Some(Tensor::zeros(&v.shape))
            } else {
                None
            }
        })
        .collect();
    let grad_outputs: Vec<&Tensor> = upper[..outs.len()]
        .iter()
        .zip(&zero_outs)
        .map(|(g, z)| g.as_ref().or(z.as_ref()).expect("one of the two is set"))
        .collect();
    let inputs: Vec<&Tensor> = node.inputs.iter().map(|&i| &inner.values[i]).collect();
    let outputs: Vec<&Tensor> = inner.values[outs].iter().collect();
    // Take each input's gradient out of the table; an input that appears
    // twice (x * x) gets a scratch buffer for its second slot.
    let mut first_slot = vec![true; node.inputs.len()];
    let mut taken: Vec<Tensor> = Vec::with_capacity(node.inputs.len());
    for (k, &i) in node.inputs.iter().enumerate() {
        first_slot[k] = !node.inputs[..k].contains(&i);
        let g = if first_slot[k] && inner.requires_grad[i] {
            lower[i].take()
        } else {
            None
        };
        taken.push(g.unwrap_or_else(|| Tensor::zeros(&inputs[k].shape)));
    }
    {
        let mut slots: Vec<&mut Tensor> = taken.iter_mut().collect();
        node.kernel
            .vjp(&inputs, &outputs, &grad_outputs, &mut slots);
    }
    let mut duplicates = Vec::new();
    for ((k, &i), g) in node.inputs.iter().enumerate().zip(taken) {
        if !inner.requires_grad[i] {
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
        for (a, b) in acc.data.iter_mut().zip(&g.data) {
            *a += b;
        }
    }
}

/// Checked mode: fails on the first node whose input gradients went
/// non-finite.
fn check_node(inner: &Inner, n: usize, node: &Node, grads: &[Option<Tensor>]) -> Result<()> {
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
                .map(|&i| inner.values[i].shape.clone())
                .collect(),
            pass: Pass::Backward,
        });
    }
    Ok(())
}
