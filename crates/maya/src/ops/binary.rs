//! Elementwise binary ops with NumPy broadcasting.
//!
//! | op | y | ∂y/∂a | ∂y/∂b |
//! |---|---|---|---|
//! | add | a + b | 1 | 1 |
//! | sub | a − b | 1 | −1 |
//! | mul | a · b | b | a |
//! | div | a / b | 1/b | −a/b² |
//!
//! The adjoint accumulates each gradient through the broadcast strides of
//! its input, which sums it over the broadcast axes.

use super::unary::Scale;
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{Kernel, TVar};
use crate::tensor::{broadcast_strides, cpu, for_each_index, Tensor};
use std::ops::{Add, Div, Mul, Neg, Sub};

trait BinaryFn: Copy + Send + 'static {
    const NAME: &'static str;
    fn f(a: f64, b: f64) -> f64;
    /// (∂y/∂a, ∂y/∂b) at (a, b).
    fn partials(a: f64, b: f64) -> (f64, f64);
}

macro_rules! binary_fn {
    ($ty:ident, $name:literal, |$a:ident, $b:ident| $f:expr, ($da:expr, $db:expr)) => {
        #[derive(Clone, Copy)]
        struct $ty;
        impl BinaryFn for $ty {
            const NAME: &'static str = $name;
            #[inline(always)]
            fn f($a: f64, $b: f64) -> f64 {
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn partials($a: f64, $b: f64) -> (f64, f64) {
                ($da, $db)
            }
        }
    };
}

binary_fn!(AddFn, "add", |a, b| a + b, (1.0, 1.0));
binary_fn!(SubFn, "sub", |a, b| a - b, (1.0, -1.0));
binary_fn!(MulFn, "mul", |a, b| a * b, (b, a));
binary_fn!(DivFn, "div", |a, b| a / b, (1.0 / b, -a / (b * b)));

struct Binary<F>(F);

impl<F: BinaryFn> Kernel for Binary<F> {
    type Saved = ();

    fn name(&self) -> &'static str {
        F::NAME
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((
            vec![cpu::zip_broadcast(inputs[0], inputs[1], F::NAME, F::f)?],
            (),
        ))
    }
    fn vjp(
        &self,
        _saved: &(),
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        _needs_grad: &[bool],
    ) -> Result<()> {
        let (a, b, grad_out) = (inputs[0], inputs[1], grad_outputs[0]);
        let [grad_a, grad_b] = grad_inputs else {
            unreachable!("binary ops have two inputs")
        };
        if a.shape == b.shape {
            for i in 0..grad_out.data.len() {
                let (da, db) = F::partials(a.data[i], b.data[i]);
                grad_a.data[i] += grad_out.data[i] * da;
                grad_b.data[i] += grad_out.data[i] * db;
            }
            return Ok(());
        }
        let shape = &outputs[0].shape;
        let sa = broadcast_strides(&a.shape, shape);
        let sb = broadcast_strides(&b.shape, shape);
        for_each_index(shape, &[&sa, &sb], |i, [ia, ib]| {
            let (da, db) = F::partials(a.data[ia], b.data[ib]);
            grad_a.data[ia] += grad_out.data[i] * da;
            grad_b.data[ib] += grad_out.data[i] * db;
        });
        Ok(())
    }
}

impl<'t> TVar<'t> {
    fn try_binary<F: BinaryFn>(&self, f: F, other: &TVar<'_>) -> Result<TVar<'t>> {
        self.same_tape(other, F::NAME)?;
        self.tape.try_apply1(
            Binary(f),
            &[
                *self,
                TVar {
                    tape: self.tape,
                    idx: other.idx,
                },
            ],
        )
    }

    /// a + b with broadcasting; errors on shapes that do not broadcast.
    pub fn try_add(&self, other: &TVar<'_>) -> Result<TVar<'t>> {
        self.try_binary(AddFn, other)
    }
    /// a − b with broadcasting.
    pub fn try_sub(&self, other: &TVar<'_>) -> Result<TVar<'t>> {
        self.try_binary(SubFn, other)
    }
    /// a · b (elementwise) with broadcasting.
    pub fn try_mul(&self, other: &TVar<'_>) -> Result<TVar<'t>> {
        self.try_binary(MulFn, other)
    }
    /// a / b (elementwise) with broadcasting.
    pub fn try_div(&self, other: &TVar<'_>) -> Result<TVar<'t>> {
        self.try_binary(DivFn, other)
    }

    /// a + b with broadcasting. Panics on shapes that do not broadcast.
    #[track_caller]
    pub fn add(&self, other: &TVar<'_>) -> TVar<'t> {
        self.try_add(other).or_panic()
    }
    /// a − b with broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &TVar<'_>) -> TVar<'t> {
        self.try_sub(other).or_panic()
    }
    /// a · b (elementwise) with broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &TVar<'_>) -> TVar<'t> {
        self.try_mul(other).or_panic()
    }
    /// a / b (elementwise) with broadcasting.
    #[track_caller]
    pub fn div(&self, other: &TVar<'_>) -> TVar<'t> {
        self.try_div(other).or_panic()
    }

    /// x · s for a scalar s: a plain `f64` or a one-element tape value.
    ///
    /// ```
    /// use maya::{Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    /// let s = t.scalar(3.0);
    /// assert_eq!(x.scalar_mul(2.0).value().data, vec![2.0, 4.0]);
    /// assert_eq!(x.scalar_mul(s).value().data, vec![3.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn scalar_mul(&self, s: impl ScalarOperand<'t>) -> TVar<'t> {
        self.try_scalar_mul(s).or_panic()
    }

    /// [`TVar::scalar_mul`], returning an error if `s` is a tape value with
    /// more than one element or from another tape.
    pub fn try_scalar_mul(&self, s: impl ScalarOperand<'t>) -> Result<TVar<'t>> {
        s.scale(self)
    }
}

/// A scalar factor for [`TVar::scalar_mul`]: `f64` or a one-element `TVar`.
pub trait ScalarOperand<'t> {
    /// Returns `x · self`.
    fn scale(self, x: &TVar<'t>) -> Result<TVar<'t>>;
}

impl<'t> ScalarOperand<'t> for f64 {
    fn scale(self, x: &TVar<'t>) -> Result<TVar<'t>> {
        Ok(x.unary(Scale(self)))
    }
}

impl<'t> ScalarOperand<'t> for TVar<'t> {
    fn scale(self, x: &TVar<'t>) -> Result<TVar<'t>> {
        let shape = self.shape();
        if shape.iter().product::<usize>() != 1 {
            return Err(Error::NotScalar {
                op: "scalar_mul",
                shape,
            });
        }
        // Multiply by s as shape [] so that a one-element s of higher rank
        // ([1, 1]) does not broadcast x up to its rank.
        if shape.is_empty() {
            x.try_mul(&self)
        } else {
            x.same_tape(&self, "scalar_mul")?;
            x.try_mul(&self.try_reshape(&[])?)
        }
    }
}

impl<'t> ScalarOperand<'t> for &TVar<'t> {
    fn scale(self, x: &TVar<'t>) -> Result<TVar<'t>> {
        (*self).scale(x)
    }
}

macro_rules! operators {
    ($tr:ident, $method:ident, $with_f64:expr, $f64_with:expr) => {
        impl<'t> $tr<TVar<'t>> for TVar<'t> {
            type Output = TVar<'t>;
            #[track_caller]
            fn $method(self, rhs: TVar<'t>) -> TVar<'t> {
                TVar::$method(&self, &rhs)
            }
        }
        impl<'t> $tr<&TVar<'t>> for &TVar<'t> {
            type Output = TVar<'t>;
            #[track_caller]
            fn $method(self, rhs: &TVar<'t>) -> TVar<'t> {
                TVar::$method(self, rhs)
            }
        }
        impl<'t> $tr<f64> for TVar<'t> {
            type Output = TVar<'t>;
            fn $method(self, c: f64) -> TVar<'t> {
                let f: fn(&TVar<'t>, f64) -> TVar<'t> = $with_f64;
                f(&self, c)
            }
        }
        impl<'t> $tr<TVar<'t>> for f64 {
            type Output = TVar<'t>;
            fn $method(self, x: TVar<'t>) -> TVar<'t> {
                let f: fn(f64, &TVar<'t>) -> TVar<'t> = $f64_with;
                f(self, &x)
            }
        }
    };
}

operators!(Add, add, |x, c| x.add_scalar(c), |c, x| x.add_scalar(c));
operators!(Sub, sub, |x, c| x.add_scalar(-c), |c, x| x
    .neg()
    .add_scalar(c));
operators!(Mul, mul, |x, c| x.unary(Scale(c)), |c, x| x.unary(Scale(c)));
operators!(Div, div, |x, c| x.unary(Scale(1.0 / c)), |c, x| x
    .powf(-1.0)
    .unary(Scale(c)));

impl<'t> Neg for TVar<'t> {
    type Output = TVar<'t>;
    fn neg(self) -> TVar<'t> {
        TVar::neg(&self)
    }
}

impl<'t> Neg for &TVar<'t> {
    type Output = TVar<'t>;
    fn neg(self) -> TVar<'t> {
        TVar::neg(self)
    }
}
