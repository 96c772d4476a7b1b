//! `DeviceTensor`: an f64 or f32 array in a device buffer, and the copies
//! between it and the host (which convert: host values are f64).

use super::device::Device;
use super::dtype::DType;
use crate::error::{DeviceError, Error, Result};
use crate::tensor::Tensor;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A device buffer that gives its bytes back to the device's account when
/// the last tensor holding it goes.
pub(crate) struct Buffer {
    pub buffer: wgpu::Buffer,
    bytes: u64,
    device: Device,
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.device
            .0
            .in_use
            .fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A contiguous row-major array of f64 or f32 ([`DType`]) on a
/// [`Device`]; clones share the buffer.
///
/// ```no_run
/// use maya::gpu::{DType, Device};
/// use maya::Tensor;
/// let device = Device::new()?;
/// let t = Tensor::from_data(vec![1.0, 0.1], vec![2]);
/// let x = device.upload(&t)?; // the device's dtype, f64 by default
/// assert_eq!(x.to_host()?.data, vec![1.0, 0.1]);
/// let y = device.upload_as(&t, DType::F32)?;
/// assert_eq!(y.to_host()?.data, vec![1.0, 0.1f32 as f64]);
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone)]
pub struct DeviceTensor {
    pub(crate) buf: Arc<Buffer>,
    shape: Vec<usize>,
    dtype: DType,
    /// A table of u32 indices (kernels' `array<u32>`), not floats: no
    /// dtype of its own for the launcher to match.
    pub(crate) indices: bool,
}

impl std::fmt::Debug for DeviceTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceTensor {{ shape: {:?}, dtype: {}, on: {} }}",
            self.shape, self.dtype, self.buf.device
        )
    }
}

impl Device {
    /// A tensor of zeros on this device, in its dtype
    /// ([`Device::dtype`]).
    pub fn zeros(&self, shape: &[usize]) -> Result<DeviceTensor> {
        self.zeros_as(shape, self.dtype())
    }

    /// A tensor of zeros of type `dtype` on this device (f64 on a device
    /// without it is [`DeviceError::NoF64`]).
    pub fn zeros_as(&self, shape: &[usize], dtype: DType) -> Result<DeviceTensor> {
        let buffer = self.allocate("device tensor", shape, dtype)?;
        Ok(DeviceTensor {
            buf: Arc::new(Buffer {
                buffer,
                bytes: (numel(shape) * dtype.size_bytes()) as u64,
                device: self.clone(),
            }),
            shape: shape.to_vec(),
            dtype,
            indices: false,
        })
    }

    /// A copy of the host tensor `t` on this device, in its dtype
    /// ([`Device::dtype`]).
    pub fn upload(&self, t: &Tensor) -> Result<DeviceTensor> {
        self.upload_as(t, self.dtype())
    }

    /// A copy of the host tensor `t` on this device as `dtype` (f32:
    /// each entry rounded to nearest; a finite entry beyond f32's range is
    /// [`DeviceError::OutOfRange`], not an infinity).
    pub fn upload_as(&self, t: &Tensor, dtype: DType) -> Result<DeviceTensor> {
        let d = self.zeros_as(&t.shape, dtype)?;
        if t.data.is_empty() {
            return Ok(d);
        }
        match dtype {
            DType::F64 => self.write(&d, bytemuck::cast_slice(&t.data)),
            DType::F32 => {
                let narrow: Vec<f32> = t.data.iter().map(|&x| x as f32).collect();
                let overflows = |(x, y): (&f64, &f32)| x.is_finite() && y.is_infinite();
                if let Some(index) = t.data.iter().zip(&narrow).position(overflows) {
                    return Err(Error::Device(DeviceError::OutOfRange {
                        what: "uploading a tensor",
                        index,
                        value: t.data[index],
                        dtype: dtype.to_string(),
                        max: f32::MAX as f64,
                        device: self.to_string(),
                    }));
                }
                self.write(&d, bytemuck::cast_slice(&narrow))
            }
        }
        Ok(d)
    }

    /// An index table (u32 entries, for a kernel's `array<u32>` binding) on
    /// this device: topology that kernels read, never arithmetic (held in
    /// 4-byte slots, so it needs no f64).
    pub(crate) fn upload_indices(&self, data: &[u32]) -> Result<DeviceTensor> {
        let mut d = self.zeros_as(&[data.len().max(1)], DType::F32)?;
        d.indices = true;
        if !data.is_empty() {
            self.write(&d, bytemuck::cast_slice(data));
        }
        Ok(d)
    }

    fn write(&self, to: &DeviceTensor, bytes: &[u8]) {
        self.0.queue.write_buffer(&to.buf.buffer, 0, bytes);
    }
}

impl DeviceTensor {
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of entries.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// The device it lives on.
    pub fn device(&self) -> &Device {
        &self.buf.device
    }

    /// The float type of its entries.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Its size in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        (self.numel() * self.dtype.size_bytes()) as u64
    }

    /// Zeros of `shape` on this tensor's device, in its dtype.
    pub(crate) fn zeros_like(&self, shape: &[usize]) -> Result<DeviceTensor> {
        self.device().zeros_as(shape, self.dtype)
    }

    /// Runs every recorded dispatch, then copies the array back (as f64:
    /// an f32 entry converts exactly).
    pub fn to_host(&self) -> Result<Tensor> {
        let device = self.device();
        let bytes = self.bytes();
        if bytes == 0 {
            device.submit_with(|_| {});
            device.wait("reading a tensor back")?;
            return Ok(Tensor::zeros(&self.shape));
        }
        let staging = device.0.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        device.submit_with(|e| e.copy_buffer_to_buffer(&self.buf.buffer, 0, &staging, 0, bytes));
        let (tx, rx) = std::sync::mpsc::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
        device.wait("reading a tensor back")?;
        rx.recv()
            .map_err(|e| device.driver("reading a tensor back", e.to_string()))?
            .map_err(|e| device.driver("reading a tensor back", e.to_string()))?;
        let view = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| device.driver("reading a tensor back", e.to_string()))?;
        let data: Vec<f64> = match self.dtype {
            DType::F64 => bytemuck::pod_collect_to_vec(&view),
            DType::F32 => bytemuck::pod_collect_to_vec::<u8, f32>(&view)
                .into_iter()
                .map(f64::from)
                .collect(),
        };
        drop(view);
        staging.unmap();
        Ok(Tensor::from_data(data, self.shape.clone()))
    }

    /// Checks that `other` has this tensor's shape.
    pub(crate) fn same_shape(&self, other: &DeviceTensor, op: &'static str) -> Result<()> {
        if self.shape == other.shape {
            Ok(())
        } else {
            Err(Error::Shape {
                op,
                lhs: self.shape.clone(),
                rhs: other.shape.clone(),
                hint: "device ops take equal shapes (no broadcasting yet)",
            })
        }
    }
}

/// Checks that `tensors` (an op's inputs, in order) share one dtype: else
/// [`DeviceError::DTypeMismatch`] naming input 0 and the first of another.
pub(crate) fn same_dtype(op: &'static str, tensors: &[&DeviceTensor]) -> Result<()> {
    let Some(first) = tensors.first() else {
        return Ok(());
    };
    match tensors.iter().position(|t| t.dtype != first.dtype) {
        None => Ok(()),
        Some(k) => Err(Error::Device(DeviceError::DTypeMismatch {
            op,
            first_input: 0,
            first: first.dtype.to_string(),
            second_input: k,
            second: tensors[k].dtype.to_string(),
        })),
    }
}

pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}
