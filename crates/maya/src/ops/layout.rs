//! Layout ops: transpose, reshape, slice, concat and stack.
//!
//! Each moves elements without arithmetic, so each adjoint moves the
//! gradient back: transpose ↔ transpose, reshape ↔ reshape, slice ↔ add into
//! the slice, concat ↔ slices. stack is reshape + concat.

use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{Kernel, TVar};
use crate::tensor::{cpu, Tensor};

struct Transpose;

impl Kernel for Transpose {
    type Saved = ();

    fn name(&self) -> &'static str {
        "transpose"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![cpu::transpose(inputs[0])?], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        _inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let back = cpu::transpose(grad_outputs[0]).expect("the output has at least 2 axes");
        add_into(grad_inputs[0], &back);
        Ok(())
    }
}

struct Reshape(Vec<usize>);

impl Kernel for Reshape {
    type Saved = ();

    fn name(&self) -> &'static str {
        "reshape"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![inputs[0].try_reshape(&self.0)?], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        _inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        add_into(grad_inputs[0], grad_outputs[0]);
        Ok(())
    }
}

struct Slice {
    axis: usize,
    start: usize,
    end: usize,
}

impl Kernel for Slice {
    type Saved = ();

    fn name(&self) -> &'static str {
        "slice"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((
            vec![cpu::slice(inputs[0], self.axis, self.start, self.end)?],
            (),
        ))
    }
    fn vjp(
        &self,
        _saved: &(),
        _inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        cpu::slice_add_into(grad_inputs[0], self.axis, self.start, grad_outputs[0]);
        Ok(())
    }
}

struct Concat {
    axis: usize,
}

impl Kernel for Concat {
    type Saved = ();

    fn name(&self) -> &'static str {
        "concat"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![cpu::concat(inputs, self.axis)?], ()))
    }
    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let mut start = 0;
        for (x, grad_x) in inputs.iter().zip(grad_inputs.iter_mut()) {
            let end = start + x.shape[self.axis];
            let part = cpu::slice(grad_outputs[0], self.axis, start, end)
                .expect("range within the output");
            add_into(grad_x, &part);
            start = end;
        }
        Ok(())
    }
}

/// `acc += x` for tensors with as many elements.
fn add_into(acc: &mut Tensor, x: &Tensor) {
    acc.data.iter_mut().zip(&x.data).for_each(|(a, b)| *a += b);
}

impl<'t> TVar<'t> {
    /// Swaps the last two axes.
    ///
    /// Panics for fewer than 2 axes; see [`TVar::try_transpose`].
    #[track_caller]
    pub fn transpose(&self) -> TVar<'t> {
        self.try_transpose().or_panic()
    }

    /// [`TVar::transpose`], returning [`Error::Rank`] (naming the shape)
    /// for fewer than 2 axes.
    pub fn try_transpose(&self) -> Result<TVar<'t>> {
        self.tape.try_apply1(Transpose, &[*self])
    }

    /// The same elements under a new shape with as many elements.
    ///
    /// Panics on a count mismatch; see [`TVar::try_reshape`].
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> TVar<'t> {
        self.try_reshape(shape).or_panic()
    }

    /// [`TVar::reshape`], returning an error naming both shapes.
    pub fn try_reshape(&self, shape: &[usize]) -> Result<TVar<'t>> {
        self.tape.try_apply1(Reshape(shape.to_vec()), &[*self])
    }

    /// The entries `range` along `axis`.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0], vec![4]));
    /// assert_eq!(x.slice(0, 1..3).value().data, vec![2.0, 3.0]);
    /// ```
    ///
    /// Panics if the range or axis is out of bounds; see [`TVar::try_slice`].
    #[track_caller]
    pub fn slice(&self, axis: usize, range: std::ops::Range<usize>) -> TVar<'t> {
        self.try_slice(axis, range).or_panic()
    }

    /// [`TVar::slice`], returning [`Error::Range`] (naming the range, axis
    /// and length) for a reversed range or one past the end, and
    /// [`Error::Axis`] for a missing axis.
    pub fn try_slice(&self, axis: usize, range: std::ops::Range<usize>) -> Result<TVar<'t>> {
        let kernel = Slice {
            axis,
            start: range.start,
            end: range.end,
        };
        self.tape.try_apply1(kernel, &[*self])
    }
}

impl crate::TensorTape {
    /// Joins values along `axis`; all other axes must agree.
    ///
    /// Panics on mismatched shapes; see [`TensorTape::try_concat`](crate::TensorTape::try_concat).
    #[track_caller]
    pub fn concat<'t>(&'t self, xs: &[TVar<'t>], axis: usize) -> TVar<'t> {
        self.try_concat(xs, axis).or_panic()
    }

    /// [`TensorTape::concat`](crate::TensorTape::concat), returning an error naming the shapes.
    pub fn try_concat<'t>(&'t self, xs: &[TVar<'t>], axis: usize) -> Result<TVar<'t>> {
        self.try_apply1(Concat { axis }, xs)
    }

    /// Stacks values of one shape along a new axis `axis`.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let a = t.var(Tensor::zeros(&[3]));
    /// let b = t.var(Tensor::ones(&[3]));
    /// assert_eq!(t.stack(&[a, b], 0).shape(), vec![2, 3]);
    /// ```
    #[track_caller]
    pub fn stack<'t>(&'t self, xs: &[TVar<'t>], axis: usize) -> TVar<'t> {
        self.try_stack(xs, axis).or_panic()
    }

    /// [`TensorTape::stack`](crate::TensorTape::stack), returning an error
    /// naming the shapes, or the axis and the values' shape for an axis past
    /// `0..=ndim`.
    pub fn try_stack<'t>(&'t self, xs: &[TVar<'t>], axis: usize) -> Result<TVar<'t>> {
        let first = xs.first().ok_or(Error::Empty { op: "stack" })?.shape();
        if axis > first.len() {
            return Err(Error::NewAxis {
                op: "stack",
                axis,
                shape: first,
            });
        }
        let mut unsqueezed = Vec::with_capacity(xs.len());
        for x in xs {
            let shape = x.shape();
            if shape != first {
                return Err(Error::Shape {
                    op: "stack",
                    lhs: first,
                    rhs: shape,
                    hint: "every stacked value must have the same shape",
                });
            }
            let mut s = shape;
            s.insert(axis, 1);
            unsqueezed.push(x.try_reshape(&s)?);
        }
        self.try_concat(&unsqueezed, axis)
    }
}
