//! W4 `matmul` on a compute device: the same case as `matmul.rs`, A and B
//! copied to the device in the timed body, C = A B by the tiled device
//! kernel, L = Σ C² on the device, the gradients (two device matmuls by
//! in-place transposes) copied back through the transfers.

use super::matmul::{inputs, leaves, outcome};
use super::Outcome;
use maya::gpu::{self, Device};
use maya::TensorTape;

/// `_fused` is W2's option; W4 is one product.
pub fn prepare(
    device: &Device,
    n: usize,
    grad: bool,
    _fused: usize,
) -> Box<dyn FnMut() -> Outcome> {
    let (a0, b0) = inputs(n);
    let device = device.clone();
    Box::new(move || {
        let t = TensorTape::new();
        let (a, b) = leaves(&t, a0.clone(), b0.clone(), grad);
        let c = gpu::matmul(&a.to_device(&device), &b.to_device(&device))
            .expect("W4's shapes multiply");
        let loss = gpu::sum(&gpu::mul(&c, &c).expect("same shapes"))
            .expect("one device")
            .to_host();
        outcome(&t, loss, [a, b], grad)
    })
}
