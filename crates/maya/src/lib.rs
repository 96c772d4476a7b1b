//! # maya: differentiable physics
//!
//! Every simulator is a function θ → trajectory; maya takes ∂loss/∂θ through
//! it. The layers, bottom up:
//!
//! **Scalar tape.** Record scalar arithmetic, then sweep back once:
//! ```
//! use maya::Tape;
//! let t = Tape::new();
//! let x = t.var(1.3);
//! let y = (x * x).sin().exp(); // exp(sin(x²))
//! let g = t.grad(y);
//! assert!((g[x.idx()] - (-0.8345)).abs() < 1e-4);
//! ```
//!
//! **Tensor tape.** The same over f64 tensors, with NumPy broadcasting:
//! ```
//! use maya::{Tensor, TensorTape};
//! let t = TensorTape::new();
//! let w = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0], vec![3]));
//! let x = t.constant(Tensor::ones(&[4, 3]));
//! let loss = x.mul(&w).sum(); // w broadcasts over the 4 rows
//! assert_eq!(t.grad(loss)[w.idx()].data, vec![4.0, 4.0, 4.0]);
//! ```
//!
//! **Rollout → gradient.** A simulation is a loop of differentiable steps:
//! ```
//! use maya::{semi_implicit_euler_step, Tensor, TensorTape};
//! let t = TensorTape::new();
//! let v0 = t.var(Tensor::from_data(vec![1.5], vec![1]));
//! let g = t.constant(Tensor::from_data(vec![-9.81], vec![1]));
//! let (mut p, mut v) = (t.constant(Tensor::zeros(&[1])), v0);
//! for _ in 0..10 {
//!     (p, v) = semi_implicit_euler_step(&p, &v, &g, 0.05);
//! }
//! // p_N = p_0 + N·dt·v_0 + …, so ∂p_N/∂v_0 = N·dt = 0.5.
//! assert!((t.grad(p.sum())[v0.idx()].data[0] - 0.5).abs() < 1e-12);
//! ```
//!
//! **Your own kernels.** Implement [`Kernel`] (forward and adjoint) and
//! check it with [`gradcheck()`], which compares the whole Jacobian entry by
//! entry; see the trait's example. [`jacobian()`] returns that Jacobian.
//!
//! **Finding the bad number.** `set_checked(true)` on either tape reports
//! the first op whose value or gradient turns non-finite.
#![warn(missing_docs)]

pub mod contact;
pub mod demos;
pub mod dynamics;
mod error;
pub mod fem;
pub mod geometry;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod gradcheck;
mod jacobian;
mod ops;
pub mod optim;
pub mod physics;
pub mod rigid;
pub mod scalar;
pub mod scene;
pub mod tape;
pub mod tensor;

pub use dynamics::{
    euler_step, semi_implicit_euler_step, try_euler_step, try_semi_implicit_euler_step,
};
pub use error::{DeviceError, Error, Pass, Result};
pub use gradcheck::{
    gradcheck, gradcheck_richardson, gradcheck_scalar, gradcheck_with, GradcheckConfig,
    GradcheckReport,
};
pub use jacobian::jacobian;
pub use ops::{ScalarOperand, UnaryFn};
pub use scalar::{Gradients, Tape, Var};
pub use tape::{ImplicitProblem, Kernel, NewtonOptions, TVar, TensorGradients, TensorTape};
pub use tensor::Tensor;
