//! What can go wrong on a compute device (the `gpu` feature): the variants of
//! [`Error::Device`](super::Error::Device). The type exists with or without
//! the feature, so that `Error` is the same enum either way.

/// A device problem, with the fields needed to act on it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DeviceError {
    /// No adapter (GPU, or a CPU implementation such as Mesa's lavapipe)
    /// could be found, or the one found would not open a device.
    #[error("no compute device: {reason}")]
    Unavailable {
        /// What was tried and what failed, e.g. the adapters seen.
        reason: String,
    },
    /// An f64 kernel or tensor on a device without 64-bit float shaders.
    #[error(
        "{what} needs f64 shaders, but {device} lacks SHADER_F64 (Metal, browsers, the GL \
         backend and some integrated GPUs have none); run it in f32 (DeviceOptions's dtype, or \
         to_device_as with DType::F32), on the host, or on a Vulkan device with f64"
    )]
    NoF64 {
        /// What asked for f64.
        what: &'static str,
        /// The device, named by its adapter and backend.
        device: String,
    },
    /// A device op whose inputs have different float types (f64 and f32).
    #[error(
        "{op}: input {first_input} is {first} but input {second_input} is {second}; device ops \
         take one float type: bring one to the host and back with to_device_as"
    )]
    DTypeMismatch {
        /// The op that was called.
        op: &'static str,
        /// Index of the first input.
        first_input: usize,
        /// Its float type ("f64", "f32").
        first: String,
        /// Index of the first input of another type.
        second_input: usize,
        /// That one's float type.
        second: String,
    },
    /// A finite host value too large for the device's float type.
    #[error(
        "{what}: entry {index} = {value:e} overflows {dtype} (largest {max:e}) on {device}; \
         rescale it or keep it in f64"
    )]
    OutOfRange {
        /// What was being copied.
        what: &'static str,
        /// The entry's index.
        index: usize,
        /// Its value.
        value: f64,
        /// The device float type ("f32").
        dtype: String,
        /// The type's largest finite value.
        max: f64,
        /// The device.
        device: String,
    },
    /// A buffer larger than what one shader binding may address.
    #[error(
        "{what}: a buffer of shape {shape:?} takes {}, over the storage binding limit of {} \
         on {device}; split it or use a device with a larger limit",
        crate::error::bytes(*.bytes), crate::error::bytes(*.limit)
    )]
    BindingLimit {
        /// The tensor or kernel buffer asked for.
        what: &'static str,
        /// Its shape.
        shape: Vec<usize>,
        /// Its size (bytes).
        bytes: u64,
        /// The device's `max_storage_buffer_binding_size` (bytes).
        limit: u64,
        /// The device.
        device: String,
    },
    /// An allocation the device could not satisfy.
    #[error("{what}: allocating {} on {device} failed: out of device memory ({reason})", crate::error::bytes(*.bytes))]
    OutOfMemory {
        /// The tensor or buffer asked for.
        what: &'static str,
        /// Its size (bytes).
        bytes: u64,
        /// The device.
        device: String,
        /// The driver's words.
        reason: String,
    },
    /// An op whose inputs live on different devices (or on the host and a
    /// device).
    #[error(
        "{op}: input {first_input} lives on {first} but input {second_input} on {second}; move \
         one with to_device or to_host first"
    )]
    Mismatch {
        /// The op that was called.
        op: &'static str,
        /// Index of the first input.
        first_input: usize,
        /// Where it lives ("the host", or a device's name).
        first: String,
        /// Index of the input on another device.
        second_input: usize,
        /// Where that one lives.
        second: String,
    },
    /// A host op (a [`Kernel`](crate::Kernel)) given a value that lives on
    /// a device.
    #[error(
        "{op} runs on the host but its input {input} lives on {device}; bring it back with \
         to_host, or use the device's op"
    )]
    OnDevice {
        /// The op that was called.
        op: &'static str,
        /// Index of the input.
        input: usize,
        /// Where it lives.
        device: String,
    },
    /// A device op given a value that lives on the host.
    #[error(
        "{op} runs on a device but its input {input} lives on the host; move it with to_device"
    )]
    OnHost {
        /// The op that was called.
        op: &'static str,
        /// Index of the input.
        input: usize,
    },
    /// The device rejected a shader, a pipeline or a command, or a readback
    /// failed: a bug in maya's kernels or the driver, reported with its
    /// words.
    #[error("{what} on {device}: {reason}")]
    Driver {
        /// What was being done.
        what: &'static str,
        /// The device.
        device: String,
        /// The driver's or validator's message.
        reason: String,
    },
}
