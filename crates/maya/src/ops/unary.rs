//! Elementwise unary ops: one `f`/`df` pair each, behind one generic kernel
//! that owns the loops.
//!
//! | op | y | ∂y/∂x |
//! |---|---|---|
//! | exp | eˣ | y |
//! | ln | ln x | 1/x |
//! | sin | sin x | cos x |
//! | cos | cos x | −sin x |
//! | tanh | tanh x | 1 − y² |
//! | sqrt | √x | 1/(2y) |
//! | powf(p) | xᵖ | p xᵖ⁻¹ |
//! | relu | max(x, 0) | 1 if x > 0 else 0 |
//! | abs | \|x\| | sign x (0 at 0) |
//! | neg | −x | −1 |
//! | scale(c) | c x | c |

use crate::error::Result;
use crate::tape::{Kernel, TVar};
use crate::tensor::{cpu, Tensor};

/// An elementwise function and its derivative, for [`TVar::unary`].
///
/// `df` receives the input `x` and the output `y = f(x)`, so functions whose
/// derivative is cheapest in terms of `y` (exp, tanh, sqrt) use it.
pub trait UnaryFn: Copy + Send + 'static {
    /// The op's name.
    fn name(&self) -> &'static str;
    /// y = f(x).
    fn f(&self, x: f64) -> f64;
    /// ∂y/∂x at x, given y = f(x).
    fn df(&self, x: f64, y: f64) -> f64;
}

/// The kernel running a [`UnaryFn`] elementwise.
struct Unary<F>(F);

impl<F: UnaryFn> Kernel for Unary<F> {
    type Saved = ();

    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn forward(&self, inputs: &[&Tensor], _needs_grad: &[bool]) -> Result<(Vec<Tensor>, ())> {
        Ok((vec![cpu::map(inputs[0], |x| self.0.f(x))], ()))
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
        let (x, y, grad_out) = (&inputs[0].data, &outputs[0].data, &grad_outputs[0].data);
        for (i, grad_x) in grad_inputs[0].data.iter_mut().enumerate() {
            *grad_x += grad_out[i] * self.0.df(x[i], y[i]);
        }
        Ok(())
    }
}

macro_rules! unary_fn {
    ($(#[$doc:meta])* $ty:ident, $method:ident, $name:literal, |$x:ident, $y:ident| $f:expr, $df:expr) => {
        #[derive(Clone, Copy)]
        struct $ty;
        impl UnaryFn for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            #[inline(always)]
            fn f(&self, $x: f64) -> f64 {
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn df(&self, $x: f64, $y: f64) -> f64 {
                $df
            }
        }
        impl<'t> TVar<'t> {
            $(#[$doc])*
            pub fn $method(&self) -> TVar<'t> {
                self.unary($ty)
            }
        }
    };
}

unary_fn!(/// y = eˣ elementwise.
    Exp, exp, "exp", |x, y| x.exp(), y);
unary_fn!(/// y = ln x elementwise (NaN for x < 0).
    Ln, ln, "ln", |x, y| x.ln(), 1.0 / x);
unary_fn!(/// y = sin x elementwise.
    Sin, sin, "sin", |x, y| x.sin(), x.cos());
unary_fn!(/// y = cos x elementwise.
    Cos, cos, "cos", |x, y| x.cos(), -x.sin());
unary_fn!(/// y = tanh x elementwise.
    Tanh, tanh, "tanh", |x, y| x.tanh(), 1.0 - y * y);
unary_fn!(/// y = √x elementwise (its derivative is infinite at 0).
    Sqrt, sqrt, "sqrt", |x, y| x.sqrt(), 0.5 / y);
unary_fn!(/// y = max(x, 0) elementwise; relu'(0) = 0.
    Relu, relu, "relu", |x, y| if x > 0.0 { x } else { 0.0 }, if x > 0.0 { 1.0 } else { 0.0 });
unary_fn!(/// y = |x| elementwise; its derivative at 0 is taken as 0.
    Abs, abs, "abs", |x, y| x.abs(), if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 });
unary_fn!(/// y = −x elementwise.
    Neg, neg, "neg", |x, y| -x, -1.0);
unary_fn!(/// y = x² elementwise.
    Square, square, "square", |x, y| x * x, 2.0 * x);

/// y = xᵖ for a constant p.
#[derive(Clone, Copy)]
struct Powf(f64);
impl UnaryFn for Powf {
    fn name(&self) -> &'static str {
        "powf"
    }
    fn f(&self, x: f64) -> f64 {
        x.powf(self.0)
    }
    fn df(&self, x: f64, _y: f64) -> f64 {
        if self.0 == 0.0 {
            0.0
        } else {
            self.0 * x.powf(self.0 - 1.0)
        }
    }
}

/// y = c x for a constant c.
#[derive(Clone, Copy)]
pub(super) struct Scale(pub f64);
impl UnaryFn for Scale {
    fn name(&self) -> &'static str {
        "scale"
    }
    fn f(&self, x: f64) -> f64 {
        self.0 * x
    }
    fn df(&self, _x: f64, _y: f64) -> f64 {
        self.0
    }
}

/// y = x + c for a constant c.
#[derive(Clone, Copy)]
pub(super) struct Shift(pub f64);
impl UnaryFn for Shift {
    fn name(&self) -> &'static str {
        "shift"
    }
    fn f(&self, x: f64) -> f64 {
        x + self.0
    }
    fn df(&self, _x: f64, _y: f64) -> f64 {
        1.0
    }
}

impl<'t> TVar<'t> {
    /// Applies any elementwise [`UnaryFn`].
    pub fn unary(&self, f: impl UnaryFn) -> TVar<'t> {
        self.tape
            .try_apply1(Unary(f), &[*self])
            .expect("an elementwise op accepts every shape")
    }

    /// y = xᵖ elementwise for a constant p.
    pub fn powf(&self, p: f64) -> TVar<'t> {
        self.unary(Powf(p))
    }

    /// y = x + c elementwise for a constant c.
    pub fn add_scalar(&self, c: f64) -> TVar<'t> {
        self.unary(Shift(c))
    }
}
