//! `maya gpu-info`: the adapter maya's device kernels would use.

use anyhow::Result;

/// Opens the device as `maya::gpu::Device::new` does and prints what it
/// is and offers, with the float types its tensors may have (`dtypes:`).
#[cfg(feature = "gpu")]
pub fn run() -> Result<()> {
    let device = maya::gpu::Device::new()?;
    println!("{}", device.info());
    Ok(())
}

/// Without the `gpu` feature there is no device code to ask.
#[cfg(not(feature = "gpu"))]
pub fn run() -> Result<()> {
    anyhow::bail!(
        "this maya was built without GPU support; rebuild with `--features gpu` \
         (e.g. cargo run --release -p maya-cli --features gpu -- gpu-info)"
    )
}
