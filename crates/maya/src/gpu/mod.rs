//! Compute devices through wgpu (the `gpu` feature): the one module that
//! names wgpu. A [`Device`] opens an adapter (a GPU, or Mesa's lavapipe on
//! a CPU) with f64 shaders where it has them and the adapter's own limits;
//! a [`DeviceTensor`] is an f64 or f32 array on it ([`DType`]: the
//! device's own, [`DeviceOptions::dtype`], f64 unless asked, or one named
//! with [`TVar::to_device_as`](crate::TVar::to_device_as)); host values
//! stay f64 and the copies convert. On a [`TensorTape`](crate::TensorTape)
//! a value lives on the host or on a device: [`TVar::to_device`](crate::TVar::to_device)
//! and [`TVar::to_host`](crate::TVar::to_host) are ops whose adjoints are the
//! reverse copies, so one tape spans both; host ops refuse device values
//! and device ops host ones, naming both places.
//!
//! Device ops: [`add`] and [`mul`] (broadcasting as on the host), [`sum`],
//! [`matmul`] (tiled, batched over equal batch axes), the W2 particle step
//! and the W3 spring step, each with its adjoint.
//!
//! Kernels are WGSL (`src/gpu/wgsl/`), each forward beside its adjoint,
//! one source per module in a float type `real` that the launcher aliases
//! to the tensors' dtype (an op given both dtypes is an error naming them);
//! dispatches are recorded into one command buffer and submitted every 32
//! dispatches or when a value is read back. Reductions are fixed trees of
//! workgroup sums (no float atomics), so results are the same bits on
//! every run, and so are the matmul's (each entry one thread's sum over k
//! in order) and the broadcast adjoints'. Scatters become gathers over
//! index tables built once (a spring network's [`DeviceSprings`]), in the
//! host kernel's order.

mod device;
mod dtype;
mod kernel;
pub mod kernels;
mod launch;
mod matmul;
mod ops;
mod rollout;
mod springs;
mod system;
mod tensor;
mod transfer;
#[cfg(test)]
mod uniform_layout;

pub use device::{Device, DeviceInfo, DeviceOptions};
pub use dtype::DType;
pub use kernel::{apply, DeviceKernel};
pub use launch::{Uniform, WgslKernel};
pub use matmul::matmul;
pub use ops::{add, mul, particle_step, particle_steps, sum};
pub use springs::{spring_step, DeviceSprings};
pub use system::DeviceParticleSystem;
pub use tensor::DeviceTensor;
