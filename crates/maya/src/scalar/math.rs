//! Scalar math on [`Var`]: each function's value and local partial side by
//! side.

use super::tape::Var;
use super::trig::sin_cos;
use crate::error::OrPanic;
use crate::error::Result;

impl<'t> Var<'t> {
    /// y = sin x, ∂y/∂x = cos x.
    #[inline]
    pub fn sin(self) -> Var<'t> {
        let (s, c) = sin_cos(self.val);
        self.unary("sin", s, c)
    }
    /// y = cos x, ∂y/∂x = −sin x.
    #[inline]
    pub fn cos(self) -> Var<'t> {
        let (s, c) = sin_cos(self.val);
        self.unary("cos", c, -s)
    }
    /// y = tan x, ∂y/∂x = 1 + tan² x.
    #[inline]
    pub fn tan(self) -> Var<'t> {
        let y = self.val.tan();
        self.unary("tan", y, 1.0 + y * y)
    }
    /// y = eˣ, ∂y/∂x = eˣ.
    #[inline]
    pub fn exp(self) -> Var<'t> {
        let y = self.val.exp();
        self.unary("exp", y, y)
    }
    /// y = ln x, ∂y/∂x = 1/x (NaN for x < 0, as in f64).
    #[inline]
    pub fn ln(self) -> Var<'t> {
        self.unary("ln", self.val.ln(), 1.0 / self.val)
    }
    /// y = √x, ∂y/∂x = 1/(2√x) (infinite at 0).
    #[inline]
    pub fn sqrt(self) -> Var<'t> {
        let y = self.val.sqrt();
        self.unary("sqrt", y, 0.5 / y)
    }
    /// y = xⁿ, ∂y/∂x = n xⁿ⁻¹.
    #[inline]
    pub fn powi(self, n: i32) -> Var<'t> {
        let d = if n == 0 {
            0.0
        } else {
            n as f64 * self.val.powi(n - 1)
        };
        self.unary("powi", self.val.powi(n), d)
    }
    /// y = xᵖ for a constant p, ∂y/∂x = p xᵖ⁻¹.
    #[inline]
    pub fn powf(self, p: f64) -> Var<'t> {
        let d = if p == 0.0 {
            0.0
        } else {
            p * self.val.powf(p - 1.0)
        };
        self.unary("powf", self.val.powf(p), d)
    }
    /// y = tanh x, ∂y/∂x = 1 − tanh² x.
    #[inline]
    pub fn tanh(self) -> Var<'t> {
        let y = self.val.tanh();
        self.unary("tanh", y, 1.0 - y * y)
    }
    /// y = |x|, ∂y/∂x = sign x (0 at 0).
    #[inline]
    pub fn abs(self) -> Var<'t> {
        let d = if self.val > 0.0 {
            1.0
        } else if self.val < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.unary("abs", self.val.abs(), d)
    }
    /// y = max(x, 0), ∂y/∂x = 1 for x > 0, else 0 (relu'(0) = 0).
    #[inline]
    pub fn relu(self) -> Var<'t> {
        let on = self.val > 0.0;
        self.unary(
            "relu",
            if on { self.val } else { 0.0 },
            if on { 1.0 } else { 0.0 },
        )
    }
    /// y = max(a, b); the gradient goes to the larger (to `a` on a tie).
    ///
    /// Panics on handles from different tapes; see [`Var::try_max`].
    #[track_caller]
    pub fn max(self, other: Var<'t>) -> Var<'t> {
        self.try_max(other).or_panic()
    }
    /// [`Var::max`], returning an error for a foreign handle.
    pub fn try_max(self, other: Var<'t>) -> Result<Var<'t>> {
        let a_wins = self.val >= other.val;
        let val = if a_wins { self.val } else { other.val };
        let (da, db) = if a_wins { (1.0, 0.0) } else { (0.0, 1.0) };
        self.try_binary(other, "max", val, da, db)
    }
    /// y = min(a, b); the gradient goes to the smaller (to `a` on a tie).
    ///
    /// Panics on handles from different tapes; see [`Var::try_min`].
    #[track_caller]
    pub fn min(self, other: Var<'t>) -> Var<'t> {
        self.try_min(other).or_panic()
    }
    /// [`Var::min`], returning an error for a foreign handle.
    pub fn try_min(self, other: Var<'t>) -> Result<Var<'t>> {
        let a_wins = self.val <= other.val;
        let val = if a_wins { self.val } else { other.val };
        let (da, db) = if a_wins { (1.0, 0.0) } else { (0.0, 1.0) };
        self.try_binary(other, "min", val, da, db)
    }
    /// y = aᵇ for two variables, ∂y/∂a = b aᵇ⁻¹, ∂y/∂b = aᵇ ln a.
    #[track_caller]
    pub fn pow(self, other: Var<'t>) -> Var<'t> {
        self.try_pow(other).or_panic()
    }
    /// [`Var::pow`], returning an error for a foreign handle.
    pub fn try_pow(self, other: Var<'t>) -> Result<Var<'t>> {
        let (a, b) = (self.val, other.val);
        let y = a.powf(b);
        let db = if y == 0.0 { 0.0 } else { y * a.ln() };
        self.try_binary(other, "pow", y, b * a.powf(b - 1.0), db)
    }
}
