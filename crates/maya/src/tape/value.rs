//! Where a tape value lives: on the host (a [`Tensor`]) or, with the `gpu`
//! feature, on a compute device (a [`DeviceTensor`](crate::gpu::DeviceTensor)).
//!
//! Host kernels ([`Kernel`](super::Kernel)) see host values only: an input
//! on a device is [`DeviceError::Mismatch`] naming both places. Device
//! kernels and the transfers between the two are recorded by `crate::gpu`.

use crate::error::{DeviceError, Error, Result};
use crate::tensor::Tensor;

/// A value (or a gradient) of a [`TensorTape`](super::TensorTape).
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// A host array.
    Host(Tensor),
    /// A device array.
    #[cfg(feature = "gpu")]
    Device(crate::gpu::DeviceTensor),
}

impl Value {
    /// The value's shape, wherever it lives.
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::Host(t) => &t.shape,
            #[cfg(feature = "gpu")]
            Value::Device(d) => d.shape(),
        }
    }

    /// Where the value lives, for messages: "the host" or the device's name.
    pub fn place(&self) -> String {
        match self {
            Value::Host(_) => "the host".to_string(),
            #[cfg(feature = "gpu")]
            Value::Device(d) => d.device().to_string(),
        }
    }

    /// Whether `self` and `other` live in the same place.
    pub fn same_place(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Host(_), Value::Host(_)) => true,
            #[cfg(feature = "gpu")]
            (Value::Device(a), Value::Device(b)) => a.device().id() == b.device().id(),
            #[cfg(feature = "gpu")]
            _ => false,
        }
    }

    /// The host array, or [`DeviceError::Mismatch`] naming `op` when the
    /// value (input `index`) lives on a device.
    pub fn host(&self, op: &'static str, index: usize) -> Result<&Tensor> {
        #[cfg(not(feature = "gpu"))]
        let _ = (op, index);
        match self {
            Value::Host(t) => Ok(t),
            #[cfg(feature = "gpu")]
            Value::Device(_) => Err(on_device(op, index, self)),
        }
    }

    /// [`Value::host`], mutable.
    pub fn host_mut(&mut self, op: &'static str, index: usize) -> Result<&mut Tensor> {
        #[cfg(not(feature = "gpu"))]
        let _ = (op, index);
        match self {
            Value::Host(t) => Ok(t),
            #[cfg(feature = "gpu")]
            Value::Device(_) => Err(on_device(op, index, self)),
        }
    }

    /// The value as a host tensor, copying it back from its device.
    pub fn to_host(&self) -> Result<Tensor> {
        match self {
            Value::Host(t) => Ok(t.clone()),
            #[cfg(feature = "gpu")]
            Value::Device(d) => d.to_host(),
        }
    }

    /// The value as a host tensor, copying it back from its device.
    pub fn into_host(self) -> Result<Tensor> {
        match self {
            Value::Host(t) => Ok(t),
            #[cfg(feature = "gpu")]
            Value::Device(d) => d.to_host(),
        }
    }

    /// The host tensor `t` (of this value's shape) moved to where this value
    /// lives: a gradient seed for it.
    pub fn alike(&self, t: Tensor) -> Result<Value> {
        match self {
            Value::Host(_) => Ok(Value::Host(t)),
            #[cfg(feature = "gpu")]
            Value::Device(d) => Ok(Value::Device(d.device().upload_as(&t, d.dtype())?)),
        }
    }

    /// A copy that shares no buffer with this value (a device value's
    /// clone shares its buffer).
    pub fn duplicate(&self) -> Result<Value> {
        match self {
            Value::Host(t) => Ok(Value::Host(t.clone())),
            #[cfg(feature = "gpu")]
            Value::Device(d) => Ok(Value::Device(d.duplicate()?)),
        }
    }

    /// Zeros of this value's shape, on its device.
    #[cfg(feature = "gpu")]
    pub fn zeros_like(&self) -> Result<Value> {
        match self {
            Value::Host(t) => Ok(Value::Host(Tensor::zeros(&t.shape))),
            #[cfg(feature = "gpu")]
            Value::Device(d) => Ok(Value::Device(d.device().zeros_as(d.shape(), d.dtype())?)),
        }
    }

    /// `self += other`, both of one shape and in the same place.
    pub fn add_assign(&mut self, other: &Value) -> Result<()> {
        match (self, other) {
            (Value::Host(a), Value::Host(b)) => {
                a.data.iter_mut().zip(&b.data).for_each(|(a, b)| *a += b);
                Ok(())
            }
            #[cfg(feature = "gpu")]
            (Value::Device(a), Value::Device(b)) => a.add_assign(b),
            #[cfg(feature = "gpu")]
            (a, b) => Err(Error::Device(DeviceError::Mismatch {
                op: "gradient accumulation",
                first_input: 0,
                first: a.place(),
                second_input: 1,
                second: b.place(),
            })),
        }
    }

    /// Whether every entry is finite; device values are not scanned
    /// (checked mode covers host values).
    pub fn is_finite(&self) -> bool {
        match self {
            Value::Host(t) => t.is_finite(),
            #[cfg(feature = "gpu")]
            Value::Device(_) => true,
        }
    }
}

/// The error of a host op given a device value.
#[cfg_attr(not(feature = "gpu"), allow(dead_code))]
fn on_device(op: &'static str, index: usize, value: &Value) -> Error {
    Error::Device(DeviceError::OnDevice {
        op,
        input: index,
        device: value.place(),
    })
}

/// Checks that every input of an op lives in one place; the error names
/// the first input and the first one elsewhere.
pub(crate) fn check_same_place(op: &'static str, inputs: &[&Value]) -> Result<()> {
    let Some(first) = inputs.first() else {
        return Ok(());
    };
    match inputs.iter().position(|v| !v.same_place(first)) {
        None => Ok(()),
        Some(k) => Err(Error::Device(DeviceError::Mismatch {
            op,
            first_input: 0,
            first: first.place(),
            second_input: k,
            second: inputs[k].place(),
        })),
    }
}
