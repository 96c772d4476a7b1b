//! `Tape` and `Var`: recording and the reverse sweep.
//!
//! Every node stores its (at most two) parents and the local partials
//! computed when it was recorded, so the reverse sweep is a run of
//! multiply-adds over a flat array. Node 0 is a sink: the unused parent slot
//! of a unary node (and both slots of a leaf) point at it with partial 0, so
//! the sweep needs no branch.

use crate::error::OrPanic;
use crate::error::{Error, Pass, Result};
use std::cell::{Cell, RefCell};
use std::ops::Index;

#[derive(Clone, Copy)]
pub(super) struct Node {
    parents: [u32; 2],
    partials: [f64; 2],
}

const SINK: Node = Node {
    parents: [0, 0],
    partials: [0.0, 0.0],
};

/// A scalar tape. Values recorded on it are [`Var`]s.
///
/// ```
/// use maya::Tape;
/// let t = Tape::new();
/// let x = t.var(1.3);
/// let y = (x * x).sin().exp(); // f(x) = exp(sin(x²))
/// let g = t.grad(y);
/// let exact = 2.0 * 1.3 * (1.69f64).cos() * (1.69f64).sin().exp();
/// assert!((g[x.idx()] - exact).abs() < 1e-12);
/// ```
pub struct Tape {
    nodes: RefCell<Vec<Node>>,
    checked: Cell<bool>,
    /// Op names, kept only in checked mode.
    names: RefCell<Vec<&'static str>>,
    first_bad: RefCell<Option<Error>>,
    /// A process-unique identity, carried by the gradient tables.
    id: u64,
}

/// A scalar recorded on a [`Tape`]: a `Copy` handle holding its value.
#[derive(Clone, Copy)]
pub struct Var<'t> {
    pub(super) tape: &'t Tape,
    pub(super) idx: u32,
    pub(super) val: f64,
}

impl std::fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var {{ idx: {}, value: {} }}", self.idx, self.val)
    }
}

impl Default for Tape {
    fn default() -> Self {
        Self::new()
    }
}

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        Self::with_capacity(0)
    }

    /// An empty tape with room for `nodes` nodes before it reallocates.
    pub fn with_capacity(nodes: usize) -> Tape {
        let mut v = Vec::with_capacity(nodes + 1);
        v.push(SINK);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Tape {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            nodes: RefCell::new(v),
            checked: Cell::new(false),
            names: RefCell::new(Vec::new()),
            first_bad: RefCell::new(None),
        }
    }

    /// Forgets every node but keeps the memory, so the tape can record again
    /// without reallocating. Needs `&mut`, so no handle can outlive it.
    pub fn clear(&mut self) {
        let nodes = self.nodes.get_mut();
        nodes.truncate(1);
        // Keep the sink's name (if names are kept) so names[i] stays the
        // name of node i.
        self.names.get_mut().truncate(1);
        *self.first_bad.get_mut() = None;
    }

    /// Number of nodes recorded (the sink node 0 included).
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing but the sink is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 1
    }

    /// Turns checked mode on or off. In checked mode the tape records op
    /// names and reports the first op whose value (forward) or gradient
    /// contribution (backward) is non-finite: see [`Tape::first_non_finite`]
    /// and [`Tape::try_grad`]. Cost when on: one finiteness test per node.
    pub fn set_checked(&self, on: bool) {
        self.checked.set(on);
        if on {
            let mut names = self.names.borrow_mut();
            let n = self.len();
            names.resize(n, "(recorded before checked mode)");
        }
    }

    /// Whether checked mode is on.
    pub fn is_checked(&self) -> bool {
        self.checked.get()
    }

    /// The first op whose value turned non-finite while in checked mode.
    pub fn first_non_finite(&self) -> Option<Error> {
        self.first_bad.borrow().clone()
    }

    /// A new input (leaf) variable.
    pub fn var(&self, value: f64) -> Var<'_> {
        self.push("var", 0, value, SINK)
    }

    #[inline(always)]
    pub(super) fn push(&self, name: &'static str, arity: usize, val: f64, node: Node) -> Var<'_> {
        let idx = {
            let mut nodes = self.nodes.borrow_mut();
            nodes.push(node);
            nodes.len() - 1
        };
        if self.checked.get() {
            self.names.borrow_mut().push(name);
            if !val.is_finite() {
                self.report(name, idx, arity, Pass::Forward);
            }
        }
        Var {
            tape: self,
            idx: idx as u32,
            val,
        }
    }

    #[cold]
    fn report(&self, op: &'static str, node: usize, arity: usize, pass: Pass) {
        let mut bad = self.first_bad.borrow_mut();
        if bad.is_none() {
            *bad = Some(Error::NonFiniteOp {
                op,
                node,
                input_shapes: vec![vec![]; arity],
                pass,
            });
        }
    }

    pub(super) fn node(parents: [u32; 2], partials: [f64; 2]) -> Node {
        Node { parents, partials }
    }

    /// Gradients of `y` with respect to every node, indexable by
    /// [`Var::idx`].
    ///
    /// Panics if `y` belongs to another tape; see [`Tape::try_grad`].
    #[track_caller]
    pub fn grad(&self, y: Var<'_>) -> Gradients {
        self.try_grad(y).or_panic()
    }

    /// [`Tape::grad`], returning an error for a foreign handle or, in checked
    /// mode, for the first op that produced a non-finite value or gradient.
    pub fn try_grad(&self, y: Var<'_>) -> Result<Gradients> {
        let mut g = Gradients::new();
        self.try_grad_into(y, &mut g)?;
        Ok(g)
    }

    /// [`Tape::grad`] into a reused buffer: no allocation once it is large
    /// enough.
    #[track_caller]
    pub fn grad_into(&self, y: Var<'_>, out: &mut Gradients) {
        self.try_grad_into(y, out).or_panic()
    }

    /// [`Tape::grad_into`], returning errors as [`Tape::try_grad`] does.
    pub fn try_grad_into(&self, y: Var<'_>, out: &mut Gradients) -> Result<()> {
        if !std::ptr::eq(y.tape, self) {
            return Err(Error::ForeignHandle { op: "grad" });
        }
        out.tape_id = self.id;
        let nodes = self.nodes.borrow();
        let adj = &mut out.adj;
        adj.clear();
        adj.resize(nodes.len(), 0.0);
        let top = y.idx as usize;
        adj[top] = 1.0;
        if self.checked.get() {
            if let Some(e) = self.first_non_finite() {
                return Err(e);
            }
            return self.sweep_checked(&nodes[..=top], adj);
        }
        sweep(&nodes[..=top], &mut adj[..=top]);
        Ok(())
    }

    fn sweep_checked(&self, nodes: &[Node], adj: &mut [f64]) -> Result<()> {
        let names = self.names.borrow();
        for i in (1..nodes.len()).rev() {
            let n = nodes[i];
            let g = adj[i];
            if g == 0.0 {
                continue;
            }
            for k in 0..2 {
                let p = n.parents[k] as usize;
                let contribution = n.partials[k] * g;
                adj[p] += contribution;
                if p != 0 && !contribution.is_finite() {
                    // This sweep's error only: `first_bad` holds forward
                    // reports, and a later loss may not pass through node i.
                    let arity = n.parents.iter().filter(|&&q| q != 0).count();
                    return Err(Error::NonFiniteOp {
                        op: names[i],
                        node: i,
                        input_shapes: vec![vec![]; arity],
                        pass: Pass::Backward,
                    });
                }
            }
        }
        adj[0] = 0.0;
        Ok(())
    }
}

/// The reverse sweep: adj[parent] += partial · adj[node], from the last node
/// down to node 1.
#[inline(never)]
fn sweep(nodes: &[Node], adj: &mut [f64]) {
    assert_eq!(nodes.len(), adj.len());
    for i in (1..nodes.len()).rev() {
        let n = nodes[i];
        let g = adj[i];
        // A node the output does not reach adds nothing; skipping it also
        // keeps an infinite partial (√ at 0) from adding inf · 0 = NaN.
        if g == 0.0 {
            continue;
        }
        let [p0, p1] = n.parents;
        debug_assert!((p0 as usize) < i && (p1 as usize) < i);
        // SAFETY: a node's parents were recorded before it on the same tape
        // (`push` takes them from live handles of this tape, checked by
        // `try_binary`), so p0, p1 < i < adj.len().
        unsafe {
            *adj.get_unchecked_mut(p0 as usize) += n.partials[0] * g;
            *adj.get_unchecked_mut(p1 as usize) += n.partials[1] * g;
        }
    }
    adj[0] = 0.0;
}

/// The gradient of one output with respect to every node of a [`Tape`].
#[derive(Clone, Debug, Default)]
///
/// The table knows its tape: [`Gradients::wrt`] with a handle of another
/// tape is an error, not another value's gradient.
pub struct Gradients {
    adj: Vec<f64>,
    /// The tape that computed it (0: none yet).
    tape_id: u64,
}

impl Gradients {
    /// An empty buffer for [`Tape::grad_into`].
    pub fn new() -> Gradients {
        Self::default()
    }

    /// The gradient with respect to `v`. Panics on a handle of another
    /// tape; see [`Gradients::try_wrt`].
    ///
    /// ```
    /// use maya::Tape;
    /// let (t, other) = (Tape::new(), Tape::new());
    /// let x = t.var(3.0);
    /// let g = t.grad(x * x);
    /// assert_eq!(g.wrt(x), 6.0);
    /// assert!(g.try_wrt(other.var(3.0)).is_err());
    /// ```
    #[track_caller]
    pub fn wrt(&self, v: Var<'_>) -> f64 {
        self.try_wrt(v).or_panic()
    }

    /// [`Gradients::wrt`], returning [`Error::ForeignHandle`] for a handle
    /// of another tape.
    pub fn try_wrt(&self, v: Var<'_>) -> Result<f64> {
        if v.tape.id != self.tape_id {
            return Err(Error::ForeignHandle {
                op: "Gradients::wrt",
            });
        }
        Ok(self.adj[v.idx as usize])
    }

    /// All gradients, indexed by node.
    pub fn as_slice(&self) -> &[f64] {
        &self.adj
    }
}

impl Index<usize> for Gradients {
    type Output = f64;
    #[track_caller]
    fn index(&self, idx: usize) -> &f64 {
        &self.adj[idx]
    }
}

impl<'t> Var<'t> {
    /// Index of this variable's node: the index of its gradient.
    pub fn idx(&self) -> usize {
        self.idx as usize
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.val
    }

    /// The tape this variable lives on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// Records a unary op with value `val` and local partial `d`.
    #[inline(always)]
    pub(super) fn unary(self, name: &'static str, val: f64, d: f64) -> Var<'t> {
        self.tape
            .push(name, 1, val, Tape::node([self.idx, 0], [d, 0.0]))
    }

    /// Records a binary op, checking both handles share a tape.
    #[inline(always)]
    pub(super) fn try_binary(
        self,
        other: Var<'t>,
        name: &'static str,
        val: f64,
        da: f64,
        db: f64,
    ) -> Result<Var<'t>> {
        if !std::ptr::eq(self.tape, other.tape) {
            return Err(Error::ForeignHandle { op: name });
        }
        Ok(self
            .tape
            .push(name, 2, val, Tape::node([self.idx, other.idx], [da, db])))
    }
}
