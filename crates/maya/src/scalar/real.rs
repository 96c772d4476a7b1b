//! [`Real`]: a formula written once runs on `f64` (a fused kernel's forward
//! pass) and on the scalar tape's [`Var`] (its composed reference, which the
//! tests hold the hand-written adjoint to).

use super::trig::sin_cos;
use super::Var;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A scalar the contact and integration formulas can run on.
pub(crate) trait Real:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The plain value (for branch decisions, which are not differentiated).
    fn val(self) -> f64;
    /// A constant on the same tape as `self`.
    fn lift(self, c: f64) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sqrt(self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
}

impl Real for f64 {
    #[inline(always)]
    fn val(self) -> f64 {
        self
    }
    #[inline(always)]
    fn lift(self, c: f64) -> f64 {
        c
    }
    #[inline(always)]
    fn sin(self) -> f64 {
        // The scalar tape's own sin and cos, so that a formula evaluated
        // on f64 and replayed on the tape gives the same bits.
        sin_cos(self).0
    }
    #[inline(always)]
    fn cos(self) -> f64 {
        sin_cos(self).1
    }
    #[inline(always)]
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn exp(self) -> f64 {
        f64::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> f64 {
        f64::ln(self)
    }
}

impl<'t> Real for Var<'t> {
    fn val(self) -> f64 {
        self.value()
    }
    fn lift(self, c: f64) -> Self {
        self.tape().var(c)
    }
    fn sin(self) -> Self {
        Var::sin(self)
    }
    fn cos(self) -> Self {
        Var::cos(self)
    }
    fn sqrt(self) -> Self {
        Var::sqrt(self)
    }
    fn exp(self) -> Self {
        Var::exp(self)
    }
    fn ln(self) -> Self {
        Var::ln(self)
    }
}
