//! `TensorTape` and `TVar`: recording kernels and their values.

use super::kernel::{host_refs, Kernel, Recorded, RecordedKernel};
use super::value::{check_same_place, Value};
use crate::error::OrPanic;
use crate::error::{Error, Pass, Result};
use crate::tensor::Tensor;
use std::cell::{Cell, Ref, RefCell};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

pub(super) struct Node {
    pub kernel: Box<dyn RecordedKernel>,
    pub inputs: Vec<usize>,
    pub outputs: Range<usize>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub values: Vec<Value>,
    pub requires_grad: Vec<bool>,
    pub nodes: Vec<Node>,
    pub first_bad: Option<Error>,
}

/// A tape of tensor kernels. Values recorded on it are [`TVar`]s.
///
/// ```
/// use maya::{Tensor, TensorTape};
/// let t = TensorTape::new();
/// let a = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]));
/// let b = t.var(Tensor::from_data(vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0], vec![3, 2]));
/// let loss = a.matmul(&b).sum();
/// let g = t.grad(loss);
/// // ∂loss/∂A = 1 Bᵀ: row i of the gradient is the row sums of B.
/// assert_eq!(g[a.idx()].data, vec![15.0, 19.0, 23.0, 15.0, 19.0, 23.0]);
/// ```
pub struct TensorTape {
    pub(super) inner: RefCell<Inner>,
    pub(super) checked: Cell<bool>,
    /// The memory budget of recordings (bytes); `None`: the default.
    pub(super) memory_budget: Cell<Option<u64>>,
    /// A process-unique identity, carried by the gradient tables this tape
    /// computes so that they can tell a foreign handle.
    pub(super) id: u64,
}

impl Default for TensorTape {
    fn default() -> TensorTape {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorTape {
            inner: RefCell::default(),
            checked: Cell::new(false),
            memory_budget: Cell::new(None),
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// A tensor recorded on a [`TensorTape`]: a `Copy` handle (tape and index).
#[derive(Clone, Copy)]
pub struct TVar<'t> {
    pub(crate) tape: &'t TensorTape,
    pub(crate) idx: usize,
}

impl std::fmt::Debug for TVar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TVar {{ idx: {}, shape: {:?} }}", self.idx, self.shape())
    }
}

impl TensorTape {
    /// An empty tape.
    pub fn new() -> TensorTape {
        Self::default()
    }

    /// Forgets every value and node, keeping the tape's own buffers.
    pub fn clear(&mut self) {
        let inner = self.inner.get_mut();
        inner.values.clear();
        inner.requires_grad.clear();
        inner.nodes.clear();
        inner.first_bad = None;
    }

    /// Ends the tape and gives back every value it holds, by index (a
    /// device value is copied to the host): an input moved in with
    /// [`TensorTape::var`] comes back without a copy, so a loop can reuse
    /// its buffers from one tape to the next.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let mut x0 = Tensor::from_data(vec![1.0, 2.0], vec![2]);
    /// let t = TensorTape::new();
    /// let x = t.var(std::mem::take(&mut x0));
    /// let y = (x * x).sum();
    /// let (ix, loss) = (x.idx(), y.item());
    /// x0 = std::mem::take(&mut t.into_values().unwrap()[ix]);
    /// assert_eq!((x0.data, loss), (vec![1.0, 2.0], 5.0));
    /// ```
    pub fn into_values(self) -> Result<Vec<Tensor>> {
        let inner = self.inner.into_inner();
        inner.values.into_iter().map(Value::into_host).collect()
    }

    /// Number of values recorded.
    pub fn len(&self) -> usize {
        self.inner.borrow().values.len()
    }

    /// Whether no value is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Turns checked mode on or off: the tape then reports the first op whose
    /// output (forward) or input gradient (backward) has a non-finite entry,
    /// naming the op, its node index and its input shapes. See
    /// [`TensorTape::first_non_finite`] and [`TensorTape::try_grad`]. Cost
    /// when on: one finiteness scan of each result.
    pub fn set_checked(&self, on: bool) {
        self.checked.set(on);
    }

    /// Whether checked mode is on.
    pub fn is_checked(&self) -> bool {
        self.checked.get()
    }

    /// The first op whose output turned non-finite while in checked mode.
    pub fn first_non_finite(&self) -> Option<Error> {
        self.inner.borrow().first_bad.clone()
    }

    /// This tape's identity (unique in the process), as carried by its
    /// gradient tables.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A new input: a value whose gradient is computed.
    pub fn var(&self, value: Tensor) -> TVar<'_> {
        self.push_leaf(value, true)
    }

    /// A new constant: a value that needs no gradient.
    pub fn constant(&self, value: Tensor) -> TVar<'_> {
        self.push_leaf(value, false)
    }

    /// A new scalar input (shape `[]`).
    pub fn scalar(&self, value: f64) -> TVar<'_> {
        self.var(Tensor::scalar(value))
    }

    fn push_leaf(&self, value: Tensor, requires_grad: bool) -> TVar<'_> {
        self.leaf(Value::Host(value), requires_grad)
    }

    /// A new input or constant that lives wherever `value` does.
    pub(crate) fn leaf(&self, value: Value, requires_grad: bool) -> TVar<'_> {
        let mut inner = self.inner.borrow_mut();
        inner.values.push(value);
        inner.requires_grad.push(requires_grad);
        TVar {
            tape: self,
            idx: inner.values.len() - 1,
        }
    }

    /// Records `kernel` applied to `inputs` and returns its outputs.
    ///
    /// Panics if the kernel rejects its inputs or a handle is foreign; see
    /// [`TensorTape::try_apply`].
    #[track_caller]
    pub fn apply(&self, kernel: impl Kernel, inputs: &[TVar<'_>]) -> Vec<TVar<'_>> {
        self.try_apply(kernel, inputs).or_panic()
    }

    /// [`TensorTape::apply`], returning the kernel's error instead.
    pub fn try_apply<K: Kernel>(&self, kernel: K, inputs: &[TVar<'_>]) -> Result<Vec<TVar<'_>>> {
        let name = kernel.name();
        if inputs.iter().any(|v| !std::ptr::eq(v.tape, self)) {
            return Err(Error::ForeignHandle { op: name });
        }
        let ids: Vec<usize> = inputs.iter().map(|v| v.idx).collect();
        let (outputs, saved) = {
            let inner = self.inner.borrow();
            let values: Vec<&Value> = ids.iter().map(|&i| &inner.values[i]).collect();
            check_same_place(name, &values)?;
            let refs = host_refs(&values, name)?;
            let needs: Vec<bool> = ids.iter().map(|&i| inner.requires_grad[i]).collect();
            kernel.forward(&refs, &needs)?
        };
        let outputs = outputs.into_iter().map(Value::Host).collect();
        Ok(self.push_node(Box::new(Recorded { kernel, saved }), name, ids, outputs))
    }

    /// Records a node of any kind (host, device, transfer) whose outputs
    /// were computed from the values `ids`; returns the outputs' handles.
    pub(crate) fn push_node(
        &self,
        kernel: Box<dyn RecordedKernel>,
        name: &'static str,
        ids: Vec<usize>,
        outputs: Vec<Value>,
    ) -> Vec<TVar<'_>> {
        let mut inner = self.inner.borrow_mut();
        let node = inner.nodes.len();
        if self.checked.get() && inner.first_bad.is_none() && !outputs.iter().all(Value::is_finite)
        {
            inner.first_bad = Some(Error::NonFiniteOp {
                op: name,
                node,
                input_shapes: ids
                    .iter()
                    .map(|&i| inner.values[i].shape().to_vec())
                    .collect(),
                pass: Pass::Forward,
            });
        }
        let requires_grad = ids.iter().any(|&i| inner.requires_grad[i]);
        let start = inner.values.len();
        let n_out = outputs.len();
        inner.values.extend(outputs);
        inner
            .requires_grad
            .extend(std::iter::repeat_n(requires_grad, n_out));
        if requires_grad {
            inner.nodes.push(Node {
                kernel,
                inputs: ids,
                outputs: start..start + n_out,
            });
        }
        (start..start + n_out)
            .map(|idx| TVar { tape: self, idx })
            .collect()
    }

    /// Records a single-output kernel.
    pub(crate) fn try_apply1(&self, kernel: impl Kernel, inputs: &[TVar<'_>]) -> Result<TVar<'_>> {
        Ok(self.try_apply(kernel, inputs)?[0])
    }

    pub(super) fn borrow_inner(&self) -> Ref<'_, Inner> {
        self.inner.borrow()
    }
}

impl<'t> TVar<'t> {
    /// Index of this value on its tape: the index of its gradient.
    pub fn idx(&self) -> usize {
        self.idx
    }

    /// The tape this value lives on.
    pub fn tape(&self) -> &'t TensorTape {
        self.tape
    }

    /// A copy of the value on the host (copied back from its device if it
    /// lives on one). Panics if that copy fails; see [`TVar::try_value`].
    #[track_caller]
    pub fn value(&self) -> Tensor {
        self.try_value().or_panic()
    }

    /// [`TVar::value`], returning the device's error instead.
    pub fn try_value(&self) -> Result<Tensor> {
        self.tape.inner.borrow().values[self.idx].to_host()
    }

    /// Calls `f` with a reference to the value (no copy for a host value;
    /// a device value is copied back first, panicking if that fails).
    #[track_caller]
    pub fn with_value<R>(&self, f: impl FnOnce(&Tensor) -> R) -> R {
        let inner = self.tape.inner.borrow();
        match &inner.values[self.idx] {
            Value::Host(t) => f(t),
            #[cfg(feature = "gpu")]
            device => f(&device.to_host().or_panic()),
        }
    }

    /// The value where it lives (a device value's clone shares its buffer).
    pub(crate) fn raw_value(&self) -> Value {
        self.tape.inner.borrow().values[self.idx].clone()
    }

    /// Where the value lives: "the host", or its device's name.
    pub fn place(&self) -> String {
        self.tape.inner.borrow().values[self.idx].place()
    }

    /// Whether a gradient flows to this value: it is a [`TensorTape::var`]
    /// or was computed from one. Kernels may skip work for inputs that do
    /// not need it.
    pub fn requires_grad(&self) -> bool {
        self.tape.inner.borrow().requires_grad[self.idx]
    }

    /// The value's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.tape.inner.borrow().values[self.idx].shape().to_vec()
    }

    /// The value of a one-element tensor.
    #[track_caller]
    pub fn item(&self) -> f64 {
        self.with_value(|v| v.item())
    }

    /// Calls `f` with references to the values of `vars` (no copies);
    /// [`Error::ForeignHandle`] naming `op` if they live on different
    /// tapes.
    pub(crate) fn with_values<R>(
        vars: &[TVar<'_>],
        op: &'static str,
        f: impl FnOnce(&[&Tensor]) -> R,
    ) -> Result<R> {
        let Some(first) = vars.first() else {
            return Ok(f(&[]));
        };
        if vars.iter().any(|v| !std::ptr::eq(v.tape, first.tape)) {
            return Err(Error::ForeignHandle { op });
        }
        let inner = first.tape.inner.borrow();
        let values: Vec<&Value> = vars.iter().map(|v| &inner.values[v.idx]).collect();
        check_same_place(op, &values)?;
        Ok(f(&host_refs(&values, op)?))
    }

    /// Calls `f` with the values of `vars` wherever they live, and whether
    /// each needs a gradient; [`Error::ForeignHandle`] naming `op` if they
    /// live on different tapes.
    #[cfg(feature = "gpu")]
    pub(crate) fn with_raw_values<R>(
        vars: &[TVar<'_>],
        op: &'static str,
        f: impl FnOnce(&[&Value], &[bool]) -> R,
    ) -> Result<R> {
        let Some(first) = vars.first() else {
            return Ok(f(&[], &[]));
        };
        if vars.iter().any(|v| !std::ptr::eq(v.tape, first.tape)) {
            return Err(Error::ForeignHandle { op });
        }
        let inner = first.tape.inner.borrow();
        let values: Vec<&Value> = vars.iter().map(|v| &inner.values[v.idx]).collect();
        let needs: Vec<bool> = vars.iter().map(|v| inner.requires_grad[v.idx]).collect();
        Ok(f(&values, &needs))
    }

    /// Checks that `other` lives on the same tape.
    pub(crate) fn same_tape(&self, other: &TVar<'_>, op: &'static str) -> Result<()> {
        if std::ptr::eq(self.tape, other.tape) {
            Ok(())
        } else {
            Err(Error::ForeignHandle { op })
        }
    }
}
