//! Time integrators for ṗ = v, v̇ = a: each step one fused kernel with a
//! hand-written adjoint, and its composition from elementary ops kept as
//! `reference` for the tests.
//!
//! | integrator | order | symplectic | acceleration |
//! |---|---|---|---|
//! | [`euler_step`] | 1 | no | given |
//! | [`semi_implicit_euler_step`] | 1 | yes | given |
//! | [`rk4_step`] | 4 | no | constant over the step |
//! | [`rk4_step_with`] | 4 | no | a closure a(p, v) on the tape |
//! | [`velocity_verlet_step`] | 2 | yes | a closure a(p) on the tape |
//!
//! States are tensors of any shape (`[N, D]`, or `[B, N, D]` for B
//! environments); the acceleration broadcasts against the velocity (one
//! gravity vector `[D]` for every particle of every environment).

mod constant;
mod euler;
mod lincomb;
mod rk4;
mod semi_implicit_euler;
mod verlet;

pub use euler::{euler_step, try_euler_step};
pub use lincomb::{lincomb, try_lincomb};
pub use rk4::{rk4_step, rk4_step_with, try_rk4_step};
pub use semi_implicit_euler::{semi_implicit_euler_step, try_semi_implicit_euler_step};
pub use verlet::velocity_verlet_step;

use crate::error::{Error, Result};
use crate::tensor::{accumulate_reduced, broadcast_shapes, cpu, Tensor};
use rayon::prelude::*;
use std::borrow::Cow;

/// Elementwise loops over at least this many elements run on rayon's pool.
pub(crate) const PAR_MIN: usize = 1 << 15;
/// Fixed chunk length of parallel elementwise loops.
pub(crate) const PAR_CHUNK: usize = 1 << 13;

/// Checks that a time step is positive and finite.
pub(crate) fn check_dt(dt: f64) -> Result<()> {
    if dt > 0.0 && dt.is_finite() {
        Ok(())
    } else {
        Err(Error::Parameter {
            name: "dt",
            value: dt,
            reason: "the time step must be positive and finite",
        })
    }
}

/// Checks that `p` and `v` have one shape and that `a` broadcasts to it;
/// returns `a` expanded to that shape.
pub(crate) fn check_state<'a>(
    op: &'static str,
    p: &Tensor,
    v: &Tensor,
    a: &'a Tensor,
) -> Result<Cow<'a, Tensor>> {
    if p.shape != v.shape {
        return Err(Error::Shape {
            op,
            lhs: p.shape.clone(),
            rhs: v.shape.clone(),
            hint: "positions and velocities must have the same shape",
        });
    }
    expand(op, a, &v.shape)
}

/// `a` broadcast to `shape` (borrowed when it already has it).
pub(crate) fn expand<'a>(
    op: &'static str,
    a: &'a Tensor,
    shape: &[usize],
) -> Result<Cow<'a, Tensor>> {
    if a.shape == shape {
        return Ok(Cow::Borrowed(a));
    }
    if broadcast_shapes(&a.shape, shape, op)? != shape {
        return Err(Error::Shape {
            op,
            lhs: shape.to_vec(),
            rhs: a.shape.clone(),
            hint: "the acceleration must broadcast to the shape of the velocities",
        });
    }
    let target = Tensor::zeros(shape);
    Ok(Cow::Owned(cpu::zip_broadcast(&target, a, op, |_, x| x)?))
}

/// Adds a gradient computed at the full state shape into the gradient of
/// an input that was broadcast to it.
pub(crate) fn accumulate_broadcast(grad_a: &mut Tensor, full: &Tensor) {
    let shape = grad_a.shape.clone();
    accumulate_reduced(&mut grad_a.data, &shape, full);
}

/// Runs `f(offset, x, y)` over aligned chunks of two equally long buffers:
/// in parallel (fixed chunks) above [`PAR_MIN`] elements, else in one call.
/// For elementwise loops, whose results do not depend on the split.
pub(crate) fn zip2_chunks(
    x: &mut [f64],
    y: &mut [f64],
    f: impl Fn(usize, &mut [f64], &mut [f64]) + Sync,
) {
    if x.len() < PAR_MIN {
        return f(0, x, y);
    }
    x.par_chunks_mut(PAR_CHUNK)
        .zip(y.par_chunks_mut(PAR_CHUNK))
        .enumerate()
        .for_each(|(c, (x, y))| f(c * PAR_CHUNK, x, y));
}

/// [`zip2_chunks`] over three buffers.
pub(crate) fn zip3_chunks(
    x: &mut [f64],
    y: &mut [f64],
    z: &mut [f64],
    f: impl Fn(usize, &mut [f64], &mut [f64], &mut [f64]) + Sync,
) {
    if x.len() < PAR_MIN {
        return f(0, x, y, z);
    }
    x.par_chunks_mut(PAR_CHUNK)
        .zip(y.par_chunks_mut(PAR_CHUNK))
        .zip(z.par_chunks_mut(PAR_CHUNK))
        .enumerate()
        .for_each(|(c, ((x, y), z))| f(c * PAR_CHUNK, x, y, z));
}

/// Elementary-op compositions of the fused integrator kernels.
pub mod reference {
    pub use super::euler::reference as euler_step;
    pub use super::rk4::reference as rk4_step;
    pub use super::semi_implicit_euler::reference as semi_implicit_euler_step;
    pub use super::verlet::reference as velocity_verlet_step;
}
