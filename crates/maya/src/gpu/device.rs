//! The device handle: adapter, device and queue, what the adapter offers,
//! the pipeline cache, memory accounting and the batched command recorder.

use super::dtype::DType;
use crate::error::{DeviceError, Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The pipeline cache's key: module, entry, float type, tensors read,
/// tensors written.
pub(crate) type PipelineKey = (&'static str, &'static str, DType, usize, usize);

/// A compiled kernel: its pipeline and bind group layout (built by
/// [`Device::launch`], cached here).
pub(crate) struct Pipeline {
    pub(super) pipeline: wgpu::ComputePipeline,
    pub(super) layout: wgpu::BindGroupLayout,
}

/// What the adapter is and offers, as plain values.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceInfo {
    /// The adapter's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// The backend, e.g. "Vulkan".
    pub backend: String,
    /// "DiscreteGpu", "IntegratedGpu", "Cpu", …
    pub device_type: String,
    /// The driver and its version.
    pub driver: String,
    /// Whether 64-bit float shaders (SHADER_F64) are on.
    pub f64: bool,
    /// Whether 64-bit integer shaders are on.
    pub int64: bool,
    /// Largest storage buffer one binding may address (bytes).
    pub max_storage_binding: u64,
    /// Largest buffer (bytes).
    pub max_buffer: u64,
    /// Storage buffers one shader stage may bind.
    pub max_storage_buffers_per_stage: u32,
    /// Threads per workgroup.
    pub max_invocations_per_workgroup: u32,
    /// Workgroups along one dimension of a dispatch.
    pub max_workgroups_per_dimension: u32,
}

impl std::fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "adapter: {}", self.name)?;
        writeln!(f, "backend: {}", self.backend)?;
        writeln!(f, "type: {}", self.device_type)?;
        writeln!(f, "driver: {}", self.driver)?;
        writeln!(f, "f64 (SHADER_F64): {}", self.f64)?;
        let dtypes: Vec<&str> = self.dtypes().iter().map(|d| d.name()).collect();
        writeln!(f, "dtypes: {}", dtypes.join(", "))?;
        writeln!(f, "int64 (SHADER_INT64): {}", self.int64)?;
        writeln!(f, "max storage binding: {} bytes", self.max_storage_binding)?;
        writeln!(f, "max buffer: {} bytes", self.max_buffer)?;
        writeln!(
            f,
            "storage buffers per stage: {}",
            self.max_storage_buffers_per_stage
        )?;
        writeln!(
            f,
            "invocations per workgroup: {}",
            self.max_invocations_per_workgroup
        )?;
        write!(
            f,
            "workgroups per dimension: {}",
            self.max_workgroups_per_dimension
        )
    }
}

impl DeviceInfo {
    /// The float types the device's tensors may have: f64 (with
    /// SHADER_F64) and f32 (always).
    pub fn dtypes(&self) -> Vec<DType> {
        DType::ALL
            .into_iter()
            .filter(|&d| d != DType::F64 || self.f64)
            .collect()
    }
}

/// How to open a device.
///
/// ```no_run
/// use maya::gpu::{DType, Device, DeviceOptions};
/// // A device whose tensors are f32 unless asked otherwise.
/// let device = Device::with_options(DeviceOptions { dtype: DType::F32, ..Default::default() })?;
/// assert_eq!(device.dtype(), DType::F32);
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DeviceOptions {
    /// Ask for 64-bit float shaders (on by default, and granted where the
    /// adapter has them; f64 tensors need them).
    pub f64: bool,
    /// The dtype of the device's tensors unless one is named
    /// ([`Device::upload`], [`TVar::to_device`](crate::TVar::to_device),
    /// [`ParticleSystem::on`](crate::dynamics::ParticleSystem::on)):
    /// f64 by default, so that an adapter without f64 says so
    /// ([`DeviceError::NoF64`]) rather than computing in f32 unasked.
    pub dtype: DType,
}

impl Default for DeviceOptions {
    fn default() -> DeviceOptions {
        DeviceOptions {
            f64: true,
            dtype: DType::F64,
        }
    }
}

pub(crate) struct Inner {
    pub id: u64,
    pub info: DeviceInfo,
    /// The dtype of tensors made without naming one.
    pub dtype: DType,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub pipelines: Mutex<HashMap<PipelineKey, Arc<Pipeline>>>,
    /// The open command encoder and the dispatches recorded into it.
    pub batch: Mutex<(Option<wgpu::CommandEncoder>, usize)>,
    /// Command buffers submitted so far.
    pub submissions: AtomicU64,
    /// The first error the device reported outside an error scope.
    failure: Arc<Mutex<Option<String>>>,
    pub in_use: AtomicU64,
    budget: Mutex<Option<u64>>,
}

/// A compute device (a GPU, or a CPU implementation such as Mesa's
/// lavapipe) reached through wgpu: cheap to clone, shared by its tensors.
///
/// ```no_run
/// use maya::gpu::Device;
/// let device = Device::new()?;
/// println!("{}", device.info());
/// # Ok::<(), maya::Error>(())
/// ```
#[derive(Clone)]
pub struct Device(pub(crate) Arc<Inner>);

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.0.info;
        write!(f, "device #{} ({}, {})", self.0.id, i.name, i.backend)
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl Device {
    /// Opens the best adapter (high-performance first; `WGPU_BACKEND`
    /// restricts the backends) with 64-bit floats and the adapter's own
    /// limits (wgpu's defaults are lower than most adapters').
    pub fn new() -> Result<Device> {
        Device::with_options(DeviceOptions::default())
    }

    /// [`Device::new`] with options; `f64: false` opens a device on which
    /// f64 tensors are refused ([`DeviceError::NoF64`]), as does an adapter
    /// without SHADER_F64 (it opens, f32 only: see [`DeviceInfo::dtypes`]).
    pub fn with_options(options: DeviceOptions) -> Result<Device> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .map_err(|e| {
            unavailable(format!(
                "{e} (on Linux, install a Vulkan driver, e.g. Mesa's mesa-vulkan-drivers)"
            ))
        })?;
        let offered = adapter.features();
        let mut features = wgpu::Features::empty();
        if options.f64 && offered.contains(wgpu::Features::SHADER_F64) {
            features |= wgpu::Features::SHADER_F64;
        }
        if offered.contains(wgpu::Features::SHADER_INT64) {
            features |= wgpu::Features::SHADER_INT64;
        }
        let limits = adapter.limits();
        let a = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("maya"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| unavailable(format!("{} would not open a device: {e}", a.name)))?;
        let failure = Arc::new(Mutex::new(None));
        let sink = failure.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| e.to_string());
        }));
        // What was granted (the adapter's limits, if all went well).
        let limits = device.limits();
        let info = DeviceInfo {
            name: a.name.clone(),
            backend: format!("{:?}", a.backend),
            device_type: format!("{:?}", a.device_type),
            driver: format!("{} {}", a.driver, a.driver_info).trim().to_string(),
            f64: features.contains(wgpu::Features::SHADER_F64),
            int64: features.contains(wgpu::Features::SHADER_INT64),
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            max_storage_buffers_per_stage: limits.max_storage_buffers_per_shader_stage,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        };
        Ok(Device(Arc::new(Inner {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            info,
            dtype: options.dtype,
            device,
            queue,
            pipelines: Mutex::default(),
            batch: Mutex::new((None, 0)),
            submissions: AtomicU64::new(0),
            failure,
            in_use: AtomicU64::new(0),
            budget: Mutex::new(None),
        })))
    }

    /// What the adapter is and offers.
    pub fn info(&self) -> &DeviceInfo {
        &self.0.info
    }

    /// The dtype of tensors made without naming one
    /// ([`DeviceOptions::dtype`]).
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// This device's identity (unique in the process): tensors of two
    /// devices never mix, even on one adapter.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// Caps the bytes of live tensors on this device (`None`: the driver
    /// decides); an allocation past it is [`DeviceError::OutOfMemory`].
    pub fn set_memory_budget(&self, bytes: Option<u64>) {
        *self.0.budget.lock().unwrap_or_else(|p| p.into_inner()) = bytes;
    }

    /// Bytes held by this device's live tensors.
    pub fn memory_in_use(&self) -> u64 {
        self.0.in_use.load(Ordering::Relaxed)
    }

    /// Refuses f64 work on a device without SHADER_F64.
    pub(crate) fn require_f64(&self, what: &'static str) -> Result<()> {
        if self.0.info.f64 {
            Ok(())
        } else {
            Err(Error::Device(DeviceError::NoF64 {
                what,
                device: self.to_string(),
            }))
        }
    }

    /// Checks a new buffer of `shape` entries of `dtype` against the
    /// device's dtypes, the binding limit and the budget, and allocates it
    /// (zero-filled, as wgpu guarantees).
    pub(crate) fn allocate(
        &self,
        what: &'static str,
        shape: &[usize],
        dtype: DType,
    ) -> Result<wgpu::Buffer> {
        if dtype == DType::F64 {
            self.require_f64(what)?;
        }
        let bytes =
            (shape.iter().product::<usize>() as u64).saturating_mul(dtype.size_bytes() as u64);
        let limit = self.0.info.max_storage_binding;
        if bytes > limit {
            return Err(Error::Device(DeviceError::BindingLimit {
                what,
                shape: shape.to_vec(),
                bytes,
                limit,
                device: self.to_string(),
            }));
        }
        let in_use = self.memory_in_use();
        let budget = *self.0.budget.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(budget) = budget
            && in_use + bytes > budget
        {
            return Err(Error::Device(DeviceError::OutOfMemory {
                what,
                bytes,
                device: self.to_string(),
                reason: format!(
                    "{} in use, budget {}",
                    crate::error::bytes(in_use),
                    crate::error::bytes(budget)
                ),
            }));
        }
        let scope = self
            .0
            .device
            .push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.0.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(what),
            size: bytes.max(8),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Device(DeviceError::OutOfMemory {
                what,
                bytes,
                device: self.to_string(),
                reason: e.to_string(),
            }));
        }
        self.0.in_use.fetch_add(bytes, Ordering::Relaxed);
        Ok(buffer)
    }

    /// Waits for the device to finish, then reports the first error it
    /// raised since it was opened.
    pub(crate) fn wait(&self, what: &'static str) -> Result<()> {
        self.0
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| self.driver(what, e.to_string()))?;
        let failure = self
            .0
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match failure {
            Some(reason) => Err(self.driver(what, reason)),
            None => Ok(()),
        }
    }

    pub(crate) fn driver(&self, what: &'static str, reason: String) -> Error {
        Error::Device(DeviceError::Driver {
            what,
            device: self.to_string(),
            reason,
        })
    }
}

fn unavailable(reason: String) -> Error {
    Error::Device(DeviceError::Unavailable { reason })
}
