//! Gather and scatter along an axis.
//!
//! index_select (gather): y[.., j, ..] = x[.., idx[j], ..]; its adjoint adds
//! the gradient back at the indices (index_add). index_add:
//! y = x + scatter(src at idx); ∂y/∂x = 1, and src's gradient gathers the
//! output gradient at the indices.

use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{Kernel, TVar};
use crate::tensor::{cpu, Tensor};

struct IndexSelect {
    axis: usize,
    indices: Vec<usize>,
}

impl Kernel for IndexSelect {
    type Saved = ();

    fn name(&self) -> &'static str {
        "index_select"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((
            vec![cpu::index_select(inputs[0], self.axis, &self.indices)?],
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
        cpu::index_add_into(grad_inputs[0], self.axis, &self.indices, grad_outputs[0])
            .expect("indices checked in forward");
        Ok(())
    }
}

struct IndexAdd {
    axis: usize,
    indices: Vec<usize>,
}

impl Kernel for IndexAdd {
    type Saved = ();

    fn name(&self) -> &'static str {
        "index_add"
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        let mut out = inputs[0].clone();
        cpu::index_add_into(&mut out, self.axis, &self.indices, inputs[1])?;
        Ok((vec![out], ()))
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
        let grad_out = grad_outputs[0];
        grad_inputs[0]
            .data
            .iter_mut()
            .zip(&grad_out.data)
            .for_each(|(g, o)| *g += o);
        let gathered = cpu::index_select(grad_out, self.axis, &self.indices)
            .expect("indices checked in forward");
        grad_inputs[1]
            .data
            .iter_mut()
            .zip(&gathered.data)
            .for_each(|(g, o)| *g += o);
        Ok(())
    }
}

impl<'t> TVar<'t> {
    /// Gathers the entries `indices` along `axis` (indices may repeat).
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0], vec![3]));
    /// assert_eq!(x.index_select(0, &[2, 2, 0]).value().data, vec![3.0, 3.0, 1.0]);
    /// ```
    ///
    /// Panics on an index out of range; see [`TVar::try_index_select`].
    #[track_caller]
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> TVar<'t> {
        self.try_index_select(axis, indices).or_panic()
    }

    /// [`TVar::index_select`], returning an error naming the bad index.
    pub fn try_index_select(&self, axis: usize, indices: &[usize]) -> Result<TVar<'t>> {
        let kernel = IndexSelect {
            axis,
            indices: indices.to_vec(),
        };
        self.tape.try_apply1(kernel, &[*self])
    }

    /// Same as [`TVar::index_select`] (the name other libraries use).
    #[track_caller]
    pub fn gather(&self, axis: usize, indices: &[usize]) -> TVar<'t> {
        self.index_select(axis, indices)
    }

    /// `self` with `src[.., j, ..]` added at `self[.., indices[j], ..]` along
    /// `axis` (repeated indices accumulate).
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::zeros(&[3]));
    /// let s = t.var(Tensor::from_data(vec![1.0, 2.0, 4.0], vec![3]));
    /// assert_eq!(x.index_add(0, &[0, 2, 0], &s).value().data, vec![5.0, 0.0, 2.0]);
    /// ```
    ///
    /// Panics on a bad index or shape; see [`TVar::try_index_add`].
    #[track_caller]
    pub fn index_add(&self, axis: usize, indices: &[usize], src: &TVar<'_>) -> TVar<'t> {
        self.try_index_add(axis, indices, src).or_panic()
    }

    /// [`TVar::index_add`], returning an error naming the bad index or shape.
    pub fn try_index_add(
        &self,
        axis: usize,
        indices: &[usize],
        src: &TVar<'_>,
    ) -> Result<TVar<'t>> {
        self.same_tape(src, "index_add")?;
        let src = TVar {
            tape: self.tape,
            idx: src.idx,
        };
        let kernel = IndexAdd {
            axis,
            indices: indices.to_vec(),
        };
        self.tape.try_apply1(kernel, &[*self, src])
    }

    /// Sums the entries of `self` into `len` slots along `axis`: slot
    /// `indices[j]` receives entry `j` (a scatter-add into zeros).
    ///
    /// Panics on a bad index or shape; see [`TVar::try_scatter_add`].
    #[track_caller]
    pub fn scatter_add(&self, axis: usize, indices: &[usize], len: usize) -> TVar<'t> {
        self.try_scatter_add(axis, indices, len).or_panic()
    }

    /// [`TVar::scatter_add`], returning an error naming the bad index or shape.
    pub fn try_scatter_add(&self, axis: usize, indices: &[usize], len: usize) -> Result<TVar<'t>> {
        let mut shape = self.shape();
        crate::tensor::check_axis("scatter_add", &shape, axis)?;
        shape[axis] = len;
        let zeros = self.tape.constant(Tensor::zeros(&shape));
        zeros.try_index_add(axis, indices, self)
    }
}

impl<'t> TVar<'t> {
    /// One element, as a value of shape `[]`: `y = x[i₀, i₁, …]`, with one
    /// index per axis (none for a scalar). Its gradient is 1 at that element
    /// and 0 elsewhere. Composed from reshape and [`TVar::index_select`],
    /// so it needs no adjoint of its own.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]));
    /// let y = x.at(&[1, 2]); // row 1, column 2: the 6th element
    /// assert_eq!(y.shape(), Vec::<usize>::new());
    /// assert_eq!(y.item(), 6.0);
    /// // ∂y/∂x is one-hot at [1, 2].
    /// assert_eq!(t.grad(y)[x.idx()].data, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    /// ```
    ///
    /// Panics on the wrong number of indices or one out of range; see
    /// [`TVar::try_at`].
    #[track_caller]
    pub fn at(&self, index: &[usize]) -> TVar<'t> {
        self.try_at(index).or_panic()
    }

    /// [`TVar::at`], returning [`Error::ElementIndex`] (naming the index and
    /// the shape) for the wrong number of indices or one out of range.
    pub fn try_at(&self, index: &[usize]) -> Result<TVar<'t>> {
        let shape = self.shape();
        let fits = index.len() == shape.len() && index.iter().zip(&shape).all(|(i, n)| i < n);
        if !fits {
            return Err(Error::ElementIndex {
                op: "at",
                index: index.to_vec(),
                shape,
            });
        }
        // Row-major flat position: Σ iₖ · strideₖ.
        let strides = crate::tensor::strides(&shape);
        let flat: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        let n = crate::tensor::numel(&shape);
        self.try_reshape(&[n])?
            .try_index_select(0, &[flat])?
            .try_reshape(&[])
    }
}

#[cfg(test)]
mod tests {
    use crate::{gradcheck, Tensor};

    #[test]
    fn at_passes_gradcheck() {
        // y = x[1, 0]² · x[0, 2]: the gradient reaches two elements only.
        let x = Tensor::rand_uniform(&[2, 3], 3);
        let report = gradcheck(
            |_t, v| v[0].at(&[1, 0]).square().mul(&v[0].at(&[0, 2])),
            &[x],
        );
        assert!(report.passed, "{report}");
    }

    #[test]
    fn at_of_a_scalar_takes_no_index() {
        let t = crate::TensorTape::new();
        let x = t.var(Tensor::scalar(2.5));
        assert_eq!(x.at(&[]).item(), 2.5);
    }
}
