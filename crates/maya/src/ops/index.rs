//! Gather and scatter along an axis.
//!
//! index_select (gather): y[.., j, ..] = x[.., idx[j], ..]; its adjoint adds
//! the gradient back at the indices (index_add). index_add:
//! y = x + scatter(src at idx); ∂y/∂x = 1, and src's gradient gathers the
//! output gradient at the indices.

use crate::error::Result;
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
        self.try_index_select(axis, indices)
            .unwrap_or_else(|e| panic!("{e}"))
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
        self.try_index_add(axis, indices, src)
            .unwrap_or_else(|e| panic!("{e}"))
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
        self.try_scatter_add(axis, indices, len)
            .unwrap_or_else(|e| panic!("{e}"))
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
