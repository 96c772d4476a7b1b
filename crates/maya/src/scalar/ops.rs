//! Arithmetic operators on [`Var`], with `f64` on either side.

use super::tape::Var;
use crate::error::Result;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Each op's value and partials (∂/∂a, ∂/∂b) side by side.
impl<'t> Var<'t> {
    #[inline(always)]
    fn add_rule(self, b: Var<'t>) -> (f64, f64, f64) {
        (self.val + b.val, 1.0, 1.0)
    }
    #[inline(always)]
    fn sub_rule(self, b: Var<'t>) -> (f64, f64, f64) {
        (self.val - b.val, 1.0, -1.0)
    }
    #[inline(always)]
    fn mul_rule(self, b: Var<'t>) -> (f64, f64, f64) {
        (self.val * b.val, b.val, self.val)
    }
    /// a / b: ∂/∂a = 1/b, ∂/∂b = −a/b².
    #[inline(always)]
    fn div_rule(self, b: Var<'t>) -> (f64, f64, f64) {
        let inv = 1.0 / b.val;
        (self.val * inv, inv, -self.val * inv * inv)
    }

    /// a + b, returning an error for handles from different tapes.
    #[inline]
    pub fn try_add(self, b: Var<'t>) -> Result<Var<'t>> {
        let (v, da, db) = self.add_rule(b);
        self.try_binary(b, "add", v, da, db)
    }
    /// a − b.
    #[inline]
    pub fn try_sub(self, b: Var<'t>) -> Result<Var<'t>> {
        let (v, da, db) = self.sub_rule(b);
        self.try_binary(b, "sub", v, da, db)
    }
    /// a · b.
    #[inline]
    pub fn try_mul(self, b: Var<'t>) -> Result<Var<'t>> {
        let (v, da, db) = self.mul_rule(b);
        self.try_binary(b, "mul", v, da, db)
    }
    /// a / b.
    #[inline]
    pub fn try_div(self, b: Var<'t>) -> Result<Var<'t>> {
        let (v, da, db) = self.div_rule(b);
        self.try_binary(b, "div", v, da, db)
    }
}

macro_rules! var_binop {
    ($tr:ident, $method:ident, $rule:ident,
     var_f64: |$a1:ident, $c1:ident| $v1:expr, $d1:expr;
     f64_var: |$c2:ident, $b2:ident| $v2:expr, $d2:expr) => {
        impl<'t> $tr<Var<'t>> for Var<'t> {
            type Output = Var<'t>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                let (v, da, db) = self.$rule(rhs);
                self.binary(rhs, stringify!($method), v, da, db)
            }
        }
        impl<'t> $tr<f64> for Var<'t> {
            type Output = Var<'t>;
            #[inline]
            fn $method(self, $c1: f64) -> Var<'t> {
                let $a1 = self.val;
                self.unary(stringify!($method), $v1, $d1)
            }
        }
        impl<'t> $tr<Var<'t>> for f64 {
            type Output = Var<'t>;
            #[inline]
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                let ($c2, $b2) = (self, rhs.val);
                rhs.unary(stringify!($method), $v2, $d2)
            }
        }
    };
}

var_binop!(Add, add, add_rule, var_f64: |a, c| a + c, 1.0; f64_var: |c, b| c + b, 1.0);
var_binop!(Sub, sub, sub_rule, var_f64: |a, c| a - c, 1.0; f64_var: |c, b| c - b, -1.0);
var_binop!(Mul, mul, mul_rule, var_f64: |a, c| a * c, c; f64_var: |c, b| c * b, c);
var_binop!(Div, div, div_rule, var_f64: |a, c| a / c, 1.0 / c; f64_var: |c, b| c / b, -c / (b * b));

impl<'t> Neg for Var<'t> {
    type Output = Var<'t>;
    #[inline]
    fn neg(self) -> Var<'t> {
        self.unary("neg", -self.val, -1.0)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tape;

    #[test]
    fn operators_with_constants_on_both_sides() {
        // f = (2 - x) / x + 3 x − x/4; f' = −2/x² + 3 − 1/4.
        let t = Tape::new();
        let x = t.var(1.5);
        let f = (2.0 - x) / x + 3.0 * x - x / 4.0;
        let g = t.grad(f);
        assert!((g[x.idx()] - (-2.0 / 2.25 + 2.75)).abs() < 1e-14);
    }

    #[test]
    fn foreign_handle_is_an_error() {
        let (t1, t2) = (Tape::new(), Tape::new());
        let (a, b) = (t1.var(1.0), t2.var(2.0));
        let e = a.try_add(b).unwrap_err();
        assert!(e.to_string().contains("another tape"), "{e}");
        assert!(t2.try_grad(a).is_err());
    }
}
