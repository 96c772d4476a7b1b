//! Running WGSL kernels: the pipeline cache and the batched recorder.
//! Dispatches go into one open command encoder, submitted every
//! [`BATCH`] dispatches and whenever a value is read back, so a rollout
//! pays the submit latency once per batch, not once per step.

use super::device::{Device, Pipeline};
use super::tensor::DeviceTensor;
use crate::error::{DeviceError, Error, Result};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Dispatches recorded before the command buffer is submitted.
pub(crate) const BATCH: usize = 32;

/// A WGSL compute entry point. Its bindings, all in group 0: a uniform
/// at 0 (the bytes given to [`Device::launch`]), then the tensors read
/// (`var<storage, read>`), then those written (`var<storage, read_write>`),
/// in order.
///
/// ```
/// use maya::gpu::WgslKernel;
/// const SCALE: WgslKernel = WgslKernel {
///     module: "scale",
///     source: "struct P { n: u32, a: f64 }
///              @group(0) @binding(0) var<uniform> p: P;
///              @group(0) @binding(1) var<storage, read> x: array<f64>;
///              @group(0) @binding(2) var<storage, read_write> y: array<f64>;
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
    /// The WGSL source.
    pub source: &'static str,
    /// The entry point.
    pub entry: &'static str,
}

impl Device {
    /// Records a dispatch of `kernel` over `workgroups` workgroups (laid out
    /// as a 2-D grid when they exceed the per-dimension limit: index with
    /// `gid.y * num_workgroups.x * size + gid.x`), with `uniform` at binding 0
    /// and `read` then `write` after it. All tensors must live on this
    /// device, and a written tensor may not also be bound elsewhere.
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
        let pipeline = self.pipeline(kernel, read.len(), write.len())?;
        let buffers: Vec<&wgpu::Buffer> = read.iter().chain(write).map(|t| &t.buf.buffer).collect();
        self.dispatch(&pipeline, uniform, &buffers, workgroups)
    }

    /// The compiled `kernel` for this many read and written tensors,
    /// compiled once and then cached.
    fn pipeline(&self, kernel: &WgslKernel, reads: usize, writes: usize) -> Result<Arc<Pipeline>> {
        let key = (kernel.module, kernel.entry, reads, writes);
        let mut cache = self.0.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&key) {
            return Ok(p.clone());
        }
        let d = &self.0.device;
        let scope = d.push_error_scope(wgpu::ErrorFilter::Validation);
        let shader = d.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.module),
            source: wgpu::ShaderSource::Wgsl(with_real(kernel.source).into()),
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
            let reason = format!("{}::{}: {e}", kernel.module, kernel.entry);
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
        let bytes = from.numel() as u64 * 8;
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

/// `source` with the line naming its float type prepended: maya's modules
/// write `real`, never `f64` directly (tensors are f64 for now).
fn with_real(source: &str) -> String {
    format!("alias real = f64;\n{source}")
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
