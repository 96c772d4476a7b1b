//! Implicit functions on the tape: x*(θ) defined by r(x*, θ) = 0, solved by
//! Newton's method and differentiated by the implicit function theorem.
//!
//! The node's value is the root x* of a square system r(x, θ) = 0, x ∈ Rⁿ,
//! found by a damped Newton method ([`try_newton_solve`]) from a starting
//! guess x₀. Its adjoint does not unroll the Newton iterations: at the root,
//! r(x*(θ), θ) = 0 for every θ, so differentiating gives
//!
//! ```text
//! J ∂x*/∂θ = −∂r/∂θ,   J = ∂r/∂x (x*, θ),
//! ```
//!
//! and for an incoming cotangent ḡ = ∂L/∂x*,
//!
//! ```text
//! ∂L/∂θ = ḡᵀ ∂x*/∂θ = −λᵀ ∂r/∂θ,   where Jᵀ λ = ḡ.
//! ```
//!
//! The backward pass is therefore one transposed solve with the
//! factorisation of J(x*) that the last Newton iteration made anyway (kept
//! as the node's saved state), and one vector–Jacobian product of r with
//! respect to θ ([`ImplicitProblem::vjp_theta`] with w = −λ). The gradient
//! depends only on x*, never on x₀ or the path Newton took.
//!
//! Two ways to state r:
//! - implement [`ImplicitProblem`] (residual, sparse ∂r/∂x as [`Triplets`],
//!   and wᵀ∂r/∂θ), for large sparse systems such as implicit time steps;
//!   record it with [`TensorTape::solve_implicit`];
//! - write r with tape ops in a closure and use
//!   [`TensorTape::solve_implicit_with`]: the derivatives come from the
//!   tape, with a dense Jacobian (for small n).
//!
//! [`HangingChain`] is a worked problem: the static equilibrium of a chain
//! of springs under gravity.

mod chain;
mod closure;
mod factorization;
mod linear;
mod newton;
mod triplets;

pub use chain::HangingChain;
pub use factorization::Factorization;
pub use linear::SparseSolver;
pub use newton::{newton_solve, try_newton_solve, NewtonOptions, NewtonSolution};
pub use triplets::Triplets;

use super::kernel::Kernel;
use super::tensor_tape::{TVar, TensorTape};
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A square system r(x, θ) = 0 in x ∈ Rⁿ with parameters θ (the tensors
/// of a tape node's inputs), with the derivatives that Newton's method and
/// the implicit function theorem need.
///
/// x is flat (the node's output takes x₀'s shape); every method gets the
/// same `theta` the node was recorded with. Errors returned from the
/// methods (bad parameter shapes, say) end the solve and reach the caller.
///
/// ```
/// use maya::tape::{ImplicitProblem, NewtonOptions, Triplets};
/// use maya::{Result, Tensor, TensorTape};
///
/// /// r(x, a) = x³ + x − a elementwise: J = diag(3x² + 1), ∂r/∂a = −I.
/// struct CubicRoot;
/// impl ImplicitProblem for CubicRoot {
///     fn name(&self) -> &'static str { "cubic root" }
///     fn residual(&self, x: &[f64], theta: &[&Tensor], r: &mut [f64]) -> Result<()> {
///         for ((r, x), a) in r.iter_mut().zip(x).zip(&theta[0].data) {
///             *r = x * x * x + x - a;
///         }
///         Ok(())
///     }
///     fn jacobian(&self, x: &[f64], _theta: &[&Tensor], jac: &mut Triplets) -> Result<()> {
///         for (i, x) in x.iter().enumerate() {
///             jac.push(i, i, 3.0 * x * x + 1.0);
///         }
///         Ok(())
///     }
///     fn vjp_theta(&self, _x: &[f64], _theta: &[&Tensor], w: &[f64],
///                  grad_theta: &mut [&mut Tensor], _needs_grad: &[bool]) -> Result<()> {
///         for (g, w) in grad_theta[0].data.iter_mut().zip(w) {
///             *g -= w;
///         }
///         Ok(())
///     }
///     fn symmetric(&self) -> bool { true }
/// }
///
/// let t = TensorTape::new();
/// let a = t.var(Tensor::from_data(vec![2.0, 10.0], vec![2]));
/// let x = t.solve_implicit(CubicRoot, &Tensor::zeros(&[2]), &[a], &NewtonOptions::default());
/// // 1³ + 1 = 2 and 2³ + 2 = 10; dx*/da = 1 / (3x*² + 1) = 1/4 and 1/13.
/// assert!(x.value().max_abs_diff(&Tensor::from_data(vec![1.0, 2.0], vec![2])) < 1e-12);
/// let g = t.grad(x.sum());
/// assert!((g[a.idx()].data[0] - 0.25).abs() < 1e-12);
/// assert!((g[a.idx()].data[1] - 1.0 / 13.0).abs() < 1e-12);
/// ```
pub trait ImplicitProblem: Send + 'static {
    /// The problem's name, used as the solver's name in errors.
    fn name(&self) -> &'static str;

    /// Writes r(x, θ) into `r` (length n, zero-filled on entry).
    fn residual(&self, x: &[f64], theta: &[&Tensor], r: &mut [f64]) -> Result<()>;

    /// Pushes the entries of J = ∂r/∂x (x, θ) into `jacobian` (empty on
    /// entry); entries at one position are summed. Push the same positions
    /// in the same order on every call (zeros included) so that the sparse
    /// solver reuses its analysis. With [`ImplicitProblem::symmetric`], push
    /// both triangles.
    fn jacobian(&self, x: &[f64], theta: &[&Tensor], jacobian: &mut Triplets) -> Result<()>;

    /// Adds wᵀ ∂r/∂θᵢ (x, θ) into `grad_theta[i]` (θᵢ's shape) for every i
    /// with `needs_grad[i]`; others may be skipped.
    fn vjp_theta(
        &self,
        x: &[f64],
        theta: &[&Tensor],
        w: &[f64],
        grad_theta: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()>;

    /// An energy E(x, θ) with ∇ₓE = r, if there is one (an incremental
    /// potential, the energy of a static problem): the line search then
    /// prefers steps that lower E, which steers Newton to minima rather
    /// than saddles. Default `None`: only ½‖r‖² is used.
    fn merit(&self, _x: &[f64], _theta: &[&Tensor]) -> Option<f64> {
        None
    }

    /// Whether J is symmetric (r is a gradient), so that it is factored as
    /// LLᵀ when positive definite. Default `false` (LU).
    fn symmetric(&self) -> bool {
        false
    }
}

/// The implicit node: forward runs Newton from x₀; the saved state is the
/// factorisation of J(x*) (x* itself is the output, which the tape keeps),
/// made only when some θ needs a gradient.
struct ImplicitSolve<P> {
    problem: P,
    x0: Tensor,
    options: NewtonOptions,
}

impl<P: ImplicitProblem> Kernel for ImplicitSolve<P> {
    type Saved = Option<Factorization>;

    fn name(&self) -> &'static str {
        self.problem.name()
    }

    fn forward(
        &self,
        inputs: &[&Tensor],
        needs_grad: &[bool],
    ) -> Result<(Vec<Tensor>, Option<Factorization>)> {
        let need = needs_grad.iter().any(|&b| b);
        let sol = try_newton_solve(&self.problem, &self.x0.data, inputs, &self.options, need)?;
        let x = Tensor::from_data(sol.x, self.x0.shape.clone());
        Ok((vec![x], sol.factorization))
    }

    /// Jᵀλ = ḡ with the saved factorisation, then ∂L/∂θ += −λᵀ∂r/∂θ.
    fn vjp(
        &self,
        saved: &Option<Factorization>,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let grad_out = &grad_outputs[0].data;
        if !needs_grad.iter().any(|&b| b) || grad_out.iter().all(|&g| g == 0.0) {
            return Ok(());
        }
        let factor = saved
            .as_ref()
            .expect("forward factors J(x*) whenever an input needs a gradient");
        let mut lambda = grad_out.clone();
        factor.solve_transpose_in_place(&mut lambda);
        if !lambda.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("{}: adjoint λ = J⁻ᵀ ∂L/∂x*", self.problem.name()),
                step: self.options.step,
            });
        }
        lambda.iter_mut().for_each(|v| *v = -*v);
        self.problem
            .vjp_theta(&outputs[0].data, inputs, &lambda, grad_inputs, needs_grad)
    }
}

impl TensorTape {
    /// Records x* = the root of `problem`'s r(x, θ) = 0 found by Newton's
    /// method from `x0`, θ = `theta`, as one node with x0's shape. Its
    /// gradient comes from the implicit function theorem (one solve with
    /// J(x*)ᵀ, see the [module docs](crate::tape::implicit)), not from the
    /// iterations.
    ///
    /// See [`ImplicitProblem`] for an example and [`NewtonOptions`] for
    /// the stopping rule.
    ///
    /// Panics if the solve fails; see [`TensorTape::try_solve_implicit`].
    #[track_caller]
    pub fn solve_implicit<'t>(
        &'t self,
        problem: impl ImplicitProblem,
        x0: &Tensor,
        theta: &[TVar<'t>],
        options: &NewtonOptions,
    ) -> TVar<'t> {
        self.try_solve_implicit(problem, x0, theta, options)
            .or_panic()
    }

    /// [`TensorTape::solve_implicit`], returning the error instead:
    /// [`Error::Solve`] when Newton does not converge, meets a singular
    /// Jacobian, a non-finite residual or a failed line search (never an
    /// unconverged iterate); [`Error::Empty`] for an empty x0; any error of
    /// the problem's methods.
    ///
    /// ```
    /// use maya::tape::{HangingChain, NewtonOptions};
    /// use maya::{Error, Tensor, TensorTape};
    /// // A free chain (no anchor) with no gravity can slide anywhere: its
    /// // Jacobian is singular, which is an error, not a gradient.
    /// let chain = HangingChain { left: None, gravity: [0.0, 0.0], ..HangingChain::pinned(3, 1.0, 0.0) };
    /// let t = TensorTape::new();
    /// let k = t.var(Tensor::full(&[2], 10.0));
    /// let m = t.constant(Tensor::full(&[3], 1.0));
    /// let x0 = chain.initial_guess();
    /// let e = t.try_solve_implicit(chain, &x0, &[k, m], &NewtonOptions::default()).unwrap_err();
    /// assert!(matches!(&e, Error::Solve { .. }) && e.to_string().contains("singular"));
    /// ```
    pub fn try_solve_implicit<'t>(
        &'t self,
        problem: impl ImplicitProblem,
        x0: &Tensor,
        theta: &[TVar<'t>],
        options: &NewtonOptions,
    ) -> Result<TVar<'t>> {
        if x0.numel() == 0 {
            return Err(Error::Empty {
                op: "solve_implicit",
            });
        }
        let kernel = ImplicitSolve {
            problem,
            x0: x0.clone(),
            options: options.clone(),
        };
        self.try_apply1(kernel, theta)
    }
}
