//! `DeviceTensor`: an f64 array in a device buffer, and the copies between
//! it and the host.

use super::device::Device;
use crate::error::{Error, Result};
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

/// A contiguous row-major f64 array on a [`Device`]; clones share the
/// buffer.
///
/// ```no_run
/// use maya::gpu::Device;
/// use maya::Tensor;
/// let device = Device::new()?;
/// let x = device.upload(&Tensor::from_data(vec![1.0, 2.0], vec![2]))?;
/// assert_eq!(x.to_host()?.data, vec![1.0, 2.0]);
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone)]
pub struct DeviceTensor {
    pub(crate) buf: Arc<Buffer>,
    shape: Vec<usize>,
}

impl std::fmt::Debug for DeviceTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceTensor {{ shape: {:?}, on: {} }}",
            self.shape, self.buf.device
        )
    }
}

impl Device {
    /// A tensor of zeros on this device.
    pub fn zeros(&self, shape: &[usize]) -> Result<DeviceTensor> {
        let buffer = self.allocate("device tensor", shape)?;
        Ok(DeviceTensor {
            buf: Arc::new(Buffer {
                buffer,
                bytes: numel(shape) as u64 * 8,
                device: self.clone(),
            }),
            shape: shape.to_vec(),
        })
    }

    /// A copy of the host tensor `t` on this device.
    pub fn upload(&self, t: &Tensor) -> Result<DeviceTensor> {
        let d = self.zeros(&t.shape)?;
        if !t.data.is_empty() {
            self.0
                .queue
                .write_buffer(&d.buf.buffer, 0, bytemuck::cast_slice(&t.data));
        }
        Ok(d)
    }
}

impl Device {
    /// An index table (u32 entries, for a kernel's `array<u32>` binding) on
    /// this device, held as a tensor of `⌈len/2⌉` f64 slots: topology that
    /// kernels read, never arithmetic.
    pub(crate) fn upload_indices(&self, data: &[u32]) -> Result<DeviceTensor> {
        let mut words = data.to_vec();
        words.resize(data.len().div_ceil(2).max(1) * 2, 0);
        let d = self.zeros(&[words.len() / 2])?;
        self.0
            .queue
            .write_buffer(&d.buf.buffer, 0, bytemuck::cast_slice(&words));
        Ok(d)
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

    /// Runs every recorded dispatch, then copies the array back.
    pub fn to_host(&self) -> Result<Tensor> {
        let device = self.device();
        let bytes = self.numel() as u64 * 8;
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
        let data: Vec<f64> = bytemuck::pod_collect_to_vec(&view);
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

pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}
