//! Running WGSL kernels: the pipeline cache (per module, entry and dtype),
//! uniform parameters in the dtype's width, and the batched recorder.
//! Dispatches go into one open command encoder, submitted every
//! [`BATCH`] dispatches and whenever a value is read back, so a rollout
//! pays the submit latency once per batch, not once per step.

use super::device::{Device, Pipeline};
use super::dtype::DType;
use super::tensor::{same_dtype, DeviceTensor};
use crate::error::{DeviceError, Error, Result};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Dispatches recorded before the command buffer is submitted.
pub(crate) const BATCH: usize = 32;

/// A WGSL compute entry point. Its bindings, all in group 0: a uniform
/// at 0 (the bytes given to [`Device::launch`], e.g. from a [`Uniform`]),
/// then the tensors read (`var<storage, read>`), then those written
/// (`var<storage, read_write>`), in order.
///
/// The source names its float type `real` and writes float literals as
/// `real(0.5)`, never `f64` or `f32`: the launcher prepends `alias real =
/// f64;` or `alias real = f32;`, the dtype of the tensors it is given.
///
/// ```
/// use maya::gpu::WgslKernel;
/// const SCALE: WgslKernel = WgslKernel {
///     module: "scale",
///     source: "struct P { n: u32, a: real }
///              @group(0) @binding(0) var<uniform> p: P;
///              @group(0) @binding(1) var<storage, read> x: array<real>;
///              @group(0) @binding(2) var<storage, read_write> y: array<real>;
///              @compute @workgroup_size(64)
///              fn main(@builtin(global_invocation_id) g: vec3<u32>,
///                      @builtin(num_workgroups) w: vec3<u32>) {
///                  let i = g.y * w.x * 64u + g.x;
///                  if (i < p.n) { y[i] = p.a * x[i]; }
///              }",
///     entry: "main",
/// };
/// ```
#[derive(Clone, Copy, Debug)]
pub struct WgslKernel {
    /// A name for the module, unique per source (the pipeline cache's key).
    pub module: &'static str,
    /// The WGSL source, in `real` (without the alias).
    pub source: &'static str,
    /// The entry point.
    pub entry: &'static str,
}

/// A kernel's uniform parameters, laid out as WGSL lays out a uniform
/// struct of `u32` and `real` fields in declaration order: each field at
/// the next multiple of its own size (4 for u32 and f32, 8 for f64).
///
/// ```
/// use maya::gpu::{DType, Uniform};
/// // struct P { n: u32, a: real }: a at 8 in f64, at 4 in f32.
/// assert_eq!(Uniform::new(DType::F64).u32(3).real(0.5).bytes().len(), 16);
/// assert_eq!(Uniform::new(DType::F32).u32(3).real(0.5).bytes().len(), 8);
/// ```
#[derive(Clone, Debug)]
pub struct Uniform {
    dtype: DType,
    bytes: Vec<u8>,
}

impl Uniform {
    /// Empty parameters for a kernel compiled in `dtype`.
    pub fn new(dtype: DType) -> Uniform {
        Uniform {
            dtype,
            bytes: Vec::new(),
        }
    }

    /// Appends a `u32` field.
    pub fn u32(self, x: u32) -> Uniform {
        self.field(&x.to_le_bytes())
    }

    /// Appends a `real` field (f32: `x` rounded to nearest).
    pub fn real(self, x: f64) -> Uniform {
        let bytes = self.dtype.bytes_of(x);
        self.field(&bytes)
    }

    /// The bytes to pass to [`Device::launch`].
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn field(mut self, x: &[u8]) -> Uniform {
        self.bytes
            .resize(self.bytes.len().next_multiple_of(x.len()), 0);
        self.bytes.extend_from_slice(x);
        self
    }
}

impl Device {
    /// Records a dispatch of `kernel` over `workgroups` workgroups (laid out
    /// as a 2-D grid when they exceed the per-dimension limit: index with
    /// `gid.y * num_workgroups.x * size + gid.x`), with `uniform` at binding 0
    /// and `read` then `write` after it. All tensors must live on this
    /// device, and a written tensor may not also be bound elsewhere.
    /// The kernel is compiled for the tensors' dtype, which they must share
    /// ([`DeviceError::DTypeMismatch`]; index tables aside); `uniform` must
    /// be laid out for it (see [`Uniform`]).
    /// The dispatch runs in order with the others, at the next submission.
    pub fn launch(
        &self,
        kernel: &WgslKernel,
        uniform: &[u8],
        read: &[&DeviceTensor],
        write: &[&DeviceTensor],
        workgroups: u32,
    ) -> Result<()> {
        let op = kernel.entry;
        for (k, t) in read.iter().chain(write).enumerate() {
            if t.device().id() != self.id() {
                return Err(Error::Device(DeviceError::Mismatch {
                    op,
                    first_input: k,
                    first: t.device().to_string(),
                    second_input: k,
                    second: format!("{self}, which runs the kernel"),
                }));
            }
        }
        for (k, w) in write.iter().enumerate() {
            let aliased = read
                .iter()
                .chain(&write[..k])
                .any(|t| Arc::ptr_eq(&t.buf, &w.buf));
            if aliased {
                return Err(Error::Unsupported {
                    what: "Device::launch",
                    reason: "a written tensor is bound twice; writable bindings may not alias",
                });
            }
        }
        let bindings = read.len() + write.len();
        if bindings > self.info().max_storage_buffers_per_stage as usize {
            return Err(self.driver(
                "binding a kernel's tensors",
                format!(
                    "{op} binds {bindings} storage buffers, over this device's {} per stage",
                    self.info().max_storage_buffers_per_stage
                ),
            ));
        }
        if workgroups == 0 {
            return Ok(());
        }
        let floats: Vec<&DeviceTensor> = read
            .iter()
            .chain(write)
            .copied()
            .filter(|t| !t.indices)
            .collect();
        same_dtype(op, &floats)?;
        let dtype = floats.first().map_or(self.dtype(), |t| t.dtype());
        let pipeline = self.pipeline(kernel, dtype, read.len(), write.len())?;
        let buffers: Vec<&wgpu::Buffer> = read.iter().chain(write).map(|t| &t.buf.buffer).collect();
        self.dispatch(&pipeline, uniform, &buffers, workgroups)
    }

    /// The compiled `kernel` in `dtype` for this many read and written
    /// tensors, compiled once and then cached.
    fn pipeline(
        &self,
        kernel: &WgslKernel,
        dtype: DType,
        reads: usize,
        writes: usize,
    ) -> Result<Arc<Pipeline>> {
        let key = (kernel.module, kernel.entry, dtype, reads, writes);
        let mut cache = self.0.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&key) {
            return Ok(p.clone());
        }
        let d = &self.0.device;
        let scope = d.push_error_scope(wgpu::ErrorFilter::Validation);
        let shader = d.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.module),
            source: wgpu::ShaderSource::Wgsl((dtype.alias() + kernel.source).into()),
        });
        let mut entries = vec![layout_entry(0, wgpu::BufferBindingType::Uniform)];
        for k in 0..reads + writes {
            let ty = wgpu::BufferBindingType::Storage {
                read_only: k < reads,
            };
            entries.push(layout_entry(k as u32 + 1, ty));
        }
        let layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(kernel.entry),
            entries: &entries,
        });
        let pipeline_layout = d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = d.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: Some(&pipeline_layout),
            module: &shader,
            entry_point: Some(kernel.entry),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            let reason = format!("{}::{} ({dtype}): {e}", kernel.module, kernel.entry);
            return Err(self.driver("compiling a kernel", reason));
        }
        let p = Arc::new(Pipeline { pipeline, layout });
        cache.insert(key, p.clone());
        Ok(p)
    }

    /// Records one dispatch of `pipeline` over `n` threads (in workgroups
    /// of `group`), with `uniform` bytes at binding 0 and `buffers` after.
    /// Submits every [`BATCH`] dispatches.
    fn dispatch(
        &self,
        pipeline: &Pipeline,
        uniform: &[u8],
        buffers: &[&wgpu::Buffer],
        groups: u32,
    ) -> Result<()> {
        if groups == 0 {
            return Ok(());
        }
        let d = &self.0.device;
        let max = self.0.info.max_workgroups_per_dimension.max(1);
        let x = groups.min(max);
        let y = groups.div_ceil(x);
        if y > max {
            return Err(self.driver(
                "dispatching",
                format!("{groups} workgroups exceed {max}² per dispatch"),
            ));
        }
        let ubuf = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: (uniform.len() as u64).div_ceil(16).max(1) * 16,
            usage: wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: true,
        });
        let mut padded = uniform.to_vec();
        padded.resize(ubuf.size() as usize, 0);
        ubuf.slice(..)
            .get_mapped_range_mut()
            .map_err(|e| self.driver("writing kernel parameters", e.to_string()))?
            .copy_from_slice(&padded);
        ubuf.unmap();
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: ubuf.as_entire_binding(),
        }];
        for (k, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: k as u32 + 1,
                resource: b.as_entire_binding(),
            });
        }
        let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        });
        let mut batch = self.0.batch.lock().unwrap_or_else(|p| p.into_inner());
        let encoder = batch
            .0
            .get_or_insert_with(|| d.create_command_encoder(&Default::default()));
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline.pipeline);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(x, y, 1);
        }
        batch.1 += 1;
        if batch.1 >= BATCH {
            let encoder = batch.0.take().expect("just recorded into");
            batch.1 = 0;
            self.0.queue.submit([encoder.finish()]);
            self.0.submissions.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Submits the recorded dispatches, then runs `more` on a fresh encoder
    /// (e.g. a copy) in the same submission.
    /// Command buffers submitted so far: with batching, about one per 32
    /// dispatches plus one per read-back.
    pub fn submissions(&self) -> u64 {
        self.0.submissions.load(Ordering::Relaxed)
    }

    /// Records a copy of `from` into `to` (same length) after the
    /// dispatches recorded so far, without submitting.
    pub(crate) fn record_copy(&self, from: &DeviceTensor, to: &DeviceTensor) {
        let bytes = from.bytes();
        if bytes == 0 {
            return;
        }
        let mut batch = self.0.batch.lock().unwrap_or_else(|p| p.into_inner());
        let encoder = batch
            .0
            .get_or_insert_with(|| self.0.device.create_command_encoder(&Default::default()));
        encoder.copy_buffer_to_buffer(&from.buf.buffer, 0, &to.buf.buffer, 0, bytes);
    }

    pub(crate) fn submit_with(&self, more: impl FnOnce(&mut wgpu::CommandEncoder)) {
        let mut batch = self.0.batch.lock().unwrap_or_else(|p| p.into_inner());
        let mut encoder = batch
            .0
            .take()
            .unwrap_or_else(|| self.0.device.create_command_encoder(&Default::default()));
        batch.1 = 0;
        more(&mut encoder);
        self.0.queue.submit([encoder.finish()]);
        self.0.submissions.fetch_add(1, Ordering::Relaxed);
    }
}

fn layout_entry(binding: u32, ty: wgpu::BufferBindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}
