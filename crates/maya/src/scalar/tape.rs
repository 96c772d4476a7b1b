//! `Tape` and `Var`: recording and gradients.
//!
//! A node stores its parents and the partials of its value with respect to
//! them, computed when it was recorded, so the reverse sweep is a run of
//! multiply-adds over flat arrays (see `sweep`). A [`Var`] carries the
//! partials of its value with respect to the nodes it reads (a [`Lin`]):
//! ops combine them in the handle, and a value is recorded only when it
//! reads more than `WIDTH` (4) nodes, on [`Var::record`], or on every op in
//! per-op mode ([`Tape::set_fusion`]`(false)` or checked mode). Node 0 is
//! an empty sink, so a tape's first input is node 1.

use super::lin::Lin;
use super::sweep::{sweep, sweep_checked, Nodes};
use crate::error::OrPanic;
use crate::error::{Error, Pass, Result};
use std::cell::{Cell, RefCell};
use std::ops::Index;

/// `Var::node` of a value with no node of its own.
const NO_NODE: u32 = u32::MAX;

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
    nodes: RefCell<Nodes>,
    checked: Cell<bool>,
    /// Whether ops combine partials in the handle (see [`Tape::set_fusion`]).
    fused: Cell<bool>,
    /// `checked || !fused`: every op records a node.
    per_op: Cell<bool>,
    /// Op names, kept only in checked mode.
    names: RefCell<Vec<&'static str>>,
    first_bad: RefCell<Option<Error>>,
    /// A process-unique identity, carried by the gradient tables.
    id: u64,
}

/// A scalar on a [`Tape`]: a `Copy` handle holding its value and its
/// partials with respect to the tape nodes it reads.
///
/// Inputs ([`Tape::var`]) are nodes; the result of an op is one when the
/// tape records it (see [`Var::record`]).
#[derive(Clone, Copy)]
pub struct Var<'t> {
    pub(super) tape: &'t Tape,
    pub(super) val: f64,
    /// This value's own node, or `NO_NODE`.
    node: u32,
    /// ∂val/∂node for the nodes it reads (itself, if it is a node).
    pub(super) lin: Lin,
}

impl std::fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.node == NO_NODE {
            let reads: Vec<_> = self.lin.entries().collect();
            write!(f, "Var {{ value: {}, reads: {reads:?} }}", self.val)
        } else {
            write!(f, "Var {{ idx: {}, value: {} }}", self.node, self.val)
        }
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

    /// An empty tape with room for `nodes` nodes of up to two parents
    /// before it reallocates.
    pub fn with_capacity(nodes: usize) -> Tape {
        let mut ends = Vec::with_capacity(nodes + 2);
        ends.extend([0, 0]);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Tape {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            nodes: RefCell::new(Nodes {
                ends,
                parents: Vec::with_capacity(2 * nodes),
                partials: Vec::with_capacity(2 * nodes),
            }),
            checked: Cell::new(false),
            fused: Cell::new(true),
            per_op: Cell::new(false),
            names: RefCell::new(Vec::new()),
            first_bad: RefCell::new(None),
        }
    }

    /// Forgets every node but keeps the memory, so the tape can record again
    /// without reallocating. Needs `&mut`, so no handle can outlive it.
    pub fn clear(&mut self) {
        let nodes = self.nodes.get_mut();
        nodes.ends.truncate(2);
        nodes.parents.clear();
        nodes.partials.clear();
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
    /// and [`Tape::try_grad`]. Every op then records a node (as with
    /// [`Tape::set_fusion`]`(false)`), so the report names the op. Cost when
    /// on: one node and one finiteness test per op.
    pub fn set_checked(&self, on: bool) {
        self.checked.set(on);
        self.per_op.set(on || !self.fused.get());
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

    /// Turns fusion on (the default) or off. Fused, an op's partials are
    /// combined in the [`Var`] it returns and a node is recorded only for a
    /// value that reads more than four nodes (or on [`Var::record`]): a
    /// statement such as `x.sin() * a + x * b + 0.01` takes at most one
    /// node. Unfused, every op records a node, so every `Var` has an
    /// [`idx`](Var::idx). Gradients are the same either way (up to
    /// rounding).
    ///
    /// ```
    /// use maya::Tape;
    /// let t = Tape::new();
    /// let x = t.var(2.0);
    /// let fused = x * x + x; // no node: reads only x
    /// assert_eq!(t.len(), 2); // the sink and x
    /// t.set_fusion(false);
    /// let y = x * x + x; // two nodes: x·x, then + x
    /// assert_eq!(t.len(), 4);
    /// assert_eq!(t.grad(fused)[x.idx()], t.grad(y)[x.idx()]);
    /// ```
    pub fn set_fusion(&self, on: bool) {
        self.fused.set(on);
        self.per_op.set(self.checked.get() || !on);
    }

    /// Whether fusion is on (see [`Tape::set_fusion`]).
    pub fn is_fused(&self) -> bool {
        self.fused.get()
    }

    /// The first op whose value turned non-finite while in checked mode.
    pub fn first_non_finite(&self) -> Option<Error> {
        self.first_bad.borrow().clone()
    }

    /// A new input (leaf) variable.
    #[inline]
    pub fn var(&self, value: f64) -> Var<'_> {
        self.push("var", value, &[], &[])
    }

    /// Records a node with these parents and partials.
    #[inline(always)]
    fn push(&self, name: &'static str, val: f64, parents: &[u32], partials: &[f64]) -> Var<'_> {
        let node = self.push_node(name, val, parents, partials);
        Var::at_node(self, val, node)
    }

    /// [`Tape::push`], returning the new node's index.
    #[inline(always)]
    fn push_node(&self, name: &'static str, val: f64, parents: &[u32], partials: &[f64]) -> u32 {
        let idx = {
            let mut nodes = self.nodes.borrow_mut();
            nodes.parents.extend_from_slice(parents);
            nodes.partials.extend_from_slice(partials);
            let end = nodes.parents.len() as u32;
            nodes.ends.push(end);
            nodes.len() - 1
        };
        if self.checked.get() {
            self.names.borrow_mut().push(name);
            if !val.is_finite() {
                self.report(name, idx, parents.len(), Pass::Forward);
            }
        }
        idx as u32
    }

    /// Records a node reading the nodes of `lin`.
    #[cold]
    #[inline(never)]
    fn push_lin(&self, name: &'static str, val: f64, lin: Lin) -> u32 {
        let (idx, d): (Vec<u32>, Vec<f64>) = lin.entries().unzip();
        self.push_node(name, val, &idx, &d)
    }

    /// Records a node reading the nodes of `a · fa + b · fb`, which are
    /// more than `WIDTH`.
    #[cold]
    #[inline(never)]
    fn push_wide(&self, name: &'static str, val: f64, a: Lin, fa: f64, b: Lin, fb: f64) -> u32 {
        let (idx, d) = a.combine_wide(fa, b, fb);
        self.push_node(name, val, &idx, &d)
    }

    /// The result of an op reading at most `WIDTH` nodes: kept in the
    /// handle, or recorded in per-op mode. `scaled`: whether the op
    /// multiplied the partials (so they may have left
    /// [`Lin::in_range`]).
    #[inline(always)]
    pub(super) fn finish(&self, name: &'static str, val: f64, lin: Lin, scaled: bool) -> Var<'_> {
        if self.per_op.get() {
            // A copy, so `lin`'s own storage never escapes (and can stay in
            // registers) on the fused path.
            let node = self.push_lin(name, val, std::hint::black_box(lin));
            return Var::at_node(self, val, node);
        }
        if scaled && !lin.in_range() {
            return self.restart(name, val, std::hint::black_box(lin));
        }
        Var {
            tape: self,
            val,
            node: NO_NODE,
            lin,
        }
    }

    /// A result whose partials left [`Lin::in_range`], recorded as a node
    /// that the handle reads with partial 1: the product of partials starts
    /// again from 1, and the sweep multiplies the pieces. The handle still
    /// has no node of its own for [`Var::idx`].
    #[cold]
    #[inline(never)]
    fn restart(&self, name: &'static str, val: f64, lin: Lin) -> Var<'_> {
        let node = self.push_lin(name, val, lin);
        Var {
            tape: self,
            val,
            node: NO_NODE,
            lin: Lin::of_node(node),
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
        // Seed with y's partials (1 at y's own node, if it has one); the
        // sweep starts at the last node y reads.
        let mut top = 0;
        for (node, d) in y.lin.entries() {
            adj[node as usize] = d;
            top = top.max(node as usize);
        }
        if self.checked.get() {
            if let Some(e) = self.first_non_finite() {
                return Err(e);
            }
            return sweep_checked(&nodes, &self.names.borrow(), &mut adj[..=top]);
        }
        sweep(&nodes, &mut adj[..=top]);
        Ok(())
    }
}

/// The gradient of one output with respect to every node of a [`Tape`].
#[derive(Clone, Debug, Default)]
///
/// The table knows its tape: [`Gradients::wrt`] with a handle of another
/// tape, or with a value that has no node of its own, is an error, not
/// another value's gradient.
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
        Ok(self.adj[v.try_idx()?])
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
    /// The handle of node `node`, whose value is `val`.
    #[inline(always)]
    fn at_node(tape: &'t Tape, val: f64, node: u32) -> Var<'t> {
        Var {
            tape,
            val,
            node,
            lin: Lin::of_node(node),
        }
    }

    /// Index of this variable's node: the index of its gradient.
    ///
    /// Panics for a value with no node of its own; see [`Var::try_idx`].
    #[track_caller]
    pub fn idx(&self) -> usize {
        self.try_idx().or_panic()
    }

    /// [`Var::idx`], returning [`Error::Unsupported`] for a value with no
    /// node of its own: an input always has one, and an op's result has one
    /// once recorded ([`Var::record`], or per-op mode).
    ///
    /// ```
    /// use maya::Tape;
    /// let t = Tape::new();
    /// let x = t.var(2.0);
    /// let y = x.sin();
    /// assert!(y.try_idx().is_err()); // combined into the handle, no node
    /// let y = y.record();
    /// let f = y * y;
    /// assert_eq!(t.grad(f)[y.idx()], 2.0 * y.value()); // ∂f/∂y = 2y
    /// ```
    pub fn try_idx(&self) -> Result<usize> {
        if self.node == NO_NODE {
            return Err(Error::Unsupported {
                what: "Var::idx",
                reason: "this value was combined into its handle and has no node of its own; \
                         call .record() on it before using it (or Tape::set_fusion(false)) \
                         to take gradients with respect to it",
            });
        }
        Ok(self.node as usize)
    }

    /// This value as a node of its own (itself if it already is one), so
    /// gradients with respect to it can be read at [`Var::idx`]. Later ops
    /// must use the returned handle for their gradients to pass through the
    /// node.
    pub fn record(self) -> Var<'t> {
        if self.node != NO_NODE {
            return self;
        }
        let node = self.tape.push_lin("record", self.val, self.lin);
        Var::at_node(self.tape, self.val, node)
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.val
    }

    /// The tape this variable lives on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The result of a unary op with value `val` and local partial `d`.
    #[inline(always)]
    pub(super) fn unary(self, name: &'static str, val: f64, d: f64) -> Var<'t> {
        // d = 1 (x ± c) is known at compile time at most call sites.
        if d == 1.0 {
            self.tape.finish(name, val, self.lin, false)
        } else {
            self.tape.finish(name, val, self.lin.scale(d), true)
        }
    }

    /// The result of a binary op, checking both handles share a tape.
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
        Ok(self.binary(other, name, val, da, db))
    }

    /// [`Var::try_binary`], panicking on handles of different tapes (kept
    /// apart so the result never passes through a `Result`).
    #[inline(always)]
    #[track_caller]
    pub(super) fn binary(
        self,
        other: Var<'t>,
        name: &'static str,
        val: f64,
        da: f64,
        db: f64,
    ) -> Var<'t> {
        if !std::ptr::eq(self.tape, other.tape) {
            foreign_handle(name);
        }
        match self.lin.combine(da, other.lin, db) {
            Some(lin) => self.tape.finish(name, val, lin, true),
            None => {
                let (a, b) = (
                    std::hint::black_box(self.lin),
                    std::hint::black_box(other.lin),
                );
                let node = self.tape.push_wide(name, val, a, da, b, db);
                Var::at_node(self.tape, val, node)
            }
        }
    }
}

/// The panic of an op given handles of different tapes.
#[cold]
#[track_caller]
fn foreign_handle(op: &'static str) -> ! {
    panic!("{}", Error::ForeignHandle { op })
}
