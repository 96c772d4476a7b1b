//! 2D math shared by the rigid and contact layers, written once over a small
//! [`Real`] trait so that the same formulas run on `f64` (the fused kernels'
//! forward pass) and on the scalar tape's [`Var`] (their references, used in
//! tests to check the hand-written adjoints).

use crate::scalar::Var;
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
        f64::sin(self)
    }
    #[inline(always)]
    fn cos(self) -> f64 {
        f64::cos(self)
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

/// A 2D vector over a [`Real`].
pub(crate) type V2<T> = [T; 2];

#[inline(always)]
pub(crate) fn add<T: Real>(a: V2<T>, b: V2<T>) -> V2<T> {
    [a[0] + b[0], a[1] + b[1]]
}

#[inline(always)]
pub(crate) fn sub<T: Real>(a: V2<T>, b: V2<T>) -> V2<T> {
    [a[0] - b[0], a[1] - b[1]]
}

#[inline(always)]
pub(crate) fn scale<T: Real>(a: V2<T>, s: T) -> V2<T> {
    [a[0] * s, a[1] * s]
}

#[inline(always)]
pub(crate) fn dot<T: Real>(a: V2<T>, b: V2<T>) -> T {
    a[0] * b[0] + a[1] * b[1]
}

/// The z-component of a × b.
#[inline(always)]
pub(crate) fn cross<T: Real>(a: V2<T>, b: V2<T>) -> T {
    a[0] * b[1] - a[1] * b[0]
}

/// a rotated by +90°: (−a_y, a_x), i.e. ẑ × a.
#[inline(always)]
pub(crate) fn perp<T: Real>(a: V2<T>) -> V2<T> {
    [-a[1], a[0]]
}

/// R(θ)·u for a constant body-frame vector u.
#[inline(always)]
pub(crate) fn rotate<T: Real>(theta: T, u: [f64; 2]) -> V2<T> {
    let (s, c) = (theta.sin(), theta.cos());
    [c * u[0] - s * u[1], s * u[0] + c * u[1]]
}

/// A constant vector on the tape of `like`.
#[inline(always)]
pub(crate) fn lift2<T: Real>(like: T, u: [f64; 2]) -> V2<T> {
    [like.lift(u[0]), like.lift(u[1])]
}

// f64-only helpers for the adjoints.

#[inline(always)]
pub(crate) fn axpy(acc: &mut [f64; 2], s: f64, a: [f64; 2]) {
    acc[0] += s * a[0];
    acc[1] += s * a[1];
}
