//! What the GPU test files share: the device, or one line saying why the
//! tests are skipped (a failure under `MAYA_REQUIRE_GPU=1`), and relative
//! errors.
#![allow(dead_code)]

use maya::gpu::{DType, Device, DeviceOptions};
use maya::Tensor;
use std::io::Write;
use std::sync::OnceLock;

/// The shared device (opening one takes tens of milliseconds), or `None`
/// after one line on stderr saying why (written past the test harness's
/// capture, once per test binary); a panic instead under
/// `MAYA_REQUIRE_GPU=1`.
pub fn device() -> Option<&'static Device> {
    static DEVICE: OnceLock<Result<Device, String>> = OnceLock::new();
    shared(&DEVICE, "f64", || match Device::new() {
        Ok(d) if d.info().f64 => Ok(d),
        Ok(d) => Err(format!("{} has no SHADER_F64", d.info().name)),
        Err(e) => Err(e.to_string()),
    })
}

/// A shared device opened as on an adapter without SHADER_F64 (f64 not
/// asked for), whose tensors are f32: any adapter will do.
pub fn device_f32() -> Option<&'static Device> {
    static DEVICE: OnceLock<Result<Device, String>> = OnceLock::new();
    shared(&DEVICE, "f32", || {
        let options = DeviceOptions {
            f64: false,
            dtype: DType::F32,
        };
        Device::with_options(options).map_err(|e| e.to_string())
    })
}

fn shared(
    cell: &'static OnceLock<Result<Device, String>>,
    kind: &str,
    open: impl FnOnce() -> Result<Device, String>,
) -> Option<&'static Device> {
    let opened = cell.get_or_init(|| {
        let opened = open();
        if let Err(why) = &opened
            && !required()
        {
            let _ = writeln!(std::io::stderr(), "GPU tests skipped: {why}");
        }
        opened
    });
    match opened {
        Ok(d) => Some(d),
        Err(why) if required() => panic!("MAYA_REQUIRE_GPU=1 but no {kind} device: {why}"),
        Err(_) => None,
    }
}

/// Whether `MAYA_REQUIRE_GPU=1`.
pub fn required() -> bool {
    std::env::var("MAYA_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// |a − b| relative to the larger magnitude.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// The largest entry-wise difference relative to the largest entry of `a`.
pub fn max_rel(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape, b.shape);
    let scale = a.data.iter().fold(0f64, |m, x| m.max(x.abs())).max(1e-300);
    a.data
        .iter()
        .zip(&b.data)
        .fold(0f64, |m, (x, y)| m.max((x - y).abs() / scale))
}

/// Whether two tensors hold the same bits.
pub fn same_bits(a: &Tensor, b: &Tensor) -> bool {
    a.shape == b.shape
        && a.data
            .iter()
            .zip(&b.data)
            .all(|(x, y)| x.to_bits() == y.to_bits())
}
