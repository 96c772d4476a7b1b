//! The matrix product on the device, `[..., m, k] @ [..., k, n]`, and its
//! adjoint: one tiled kernel (`wgsl/matmul.wgsl`) computing
//! `out += op(lhs) @ op(rhs)`, where `op` transposes in place when asked,
//! so that dA += dC Bᵀ and dB += Aᵀ dC read B and A as they lie.

use super::kernel::{apply, DeviceKernel};
use super::kernels::{kernel, len_u32, same_device};
use super::tensor::DeviceTensor;
use crate::error::{Error, Result};
use crate::tensor::cpu::matmul_shape;
use crate::TVar;

const MATMUL: &str = include_str!("wgsl/matmul.wgsl");

/// Output entries per side of one workgroup's tile.
const TILE: usize = 32;

/// The sizes of a batch of products `op(lhs) @ op(rhs)`: `batch` products
/// of `[m, k] @ [k, n]`.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
}

/// Records `out += op(lhs) @ op(rhs)` for each of `d.batch` matrices, `op`
/// transposing a stored matrix when its flag is set (`lhs` then lies as
/// `[k, m]`, `rhs` as `[n, k]`). Each entry of `out` is one thread's sum
/// over k in ascending order: the same bits on every run.
fn matmul_acc(
    out: &DeviceTensor,
    lhs: (&DeviceTensor, bool),
    rhs: (&DeviceTensor, bool),
    d: Dims,
) -> Result<()> {
    let op = "device matmul";
    same_device(op, &[out, lhs.0, rhs.0])?;
    let device = out.device();
    let tiles = d.batch * d.m.div_ceil(TILE) * d.n.div_ceil(TILE);
    let groups = len_u32(device, tiles, op)?;
    let mut words = Vec::with_capacity(6);
    for x in [d.m, d.n, d.k, d.batch] {
        words.push(len_u32(device, x, op)?);
    }
    words.extend([lhs.1 as u32, rhs.1 as u32]);
    let uniform: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let k = kernel("matmul", MATMUL, "matmul_acc");
    device.launch(&k, &uniform, &[lhs.0, rhs.0], &[out], groups)
}

/// The product's sizes, or [`Error::Shape`] naming both shapes: those
/// the host's matmul refuses, and batch axes that differ (the device does
/// not broadcast them), except that a 2-D right operand serves every
/// batch entry: `[..., m, k] @ [k, n]` is one `[(...)·m, k] @ [k, n]`, the
/// batch folded into the rows (they lie contiguous).
fn dims(a: &[usize], b: &[usize]) -> Result<(Vec<usize>, Dims)> {
    let shape = matmul_shape(a, b)?;
    let (na, nb) = (a.len(), b.len());
    let folds = nb == 2;
    if a[..na - 2] != b[..nb - 2] && !folds {
        return Err(Error::Shape {
            op: "device matmul",
            lhs: a.to_vec(),
            rhs: b.to_vec(),
            hint: "the device matmul takes equal batch axes (all but the last two) or a 2-D \
                   right operand; it does not broadcast them otherwise",
        });
    }
    let batch: usize = a[..na - 2].iter().product();
    let (m, k, n) = (a[na - 2], a[na - 1], b[nb - 1]);
    let d = if folds {
        Dims {
            batch: 1,
            m: batch * m,
            k,
            n,
        }
    } else {
        Dims { batch, m, k, n }
    };
    Ok((shape, d))
}

struct Matmul;

impl DeviceKernel for Matmul {
    type Saved = ();

    fn name(&self) -> &'static str {
        "device matmul"
    }

    fn forward(&self, x: &[&DeviceTensor], _needs: &[bool]) -> Result<(Vec<DeviceTensor>, ())> {
        let (shape, d) = dims(x[0].shape(), x[1].shape())?;
        let out = x[0].zeros_like(&shape)?;
        matmul_acc(&out, (x[0], false), (x[1], false), d)?;
        Ok((vec![out], ()))
    }

    /// ḡA += ḡC Bᵀ, ḡB += Aᵀ ḡC, B and A read transposed in place.
    fn vjp(
        &self,
        _saved: &(),
        x: &[&DeviceTensor],
        _y: &[&DeviceTensor],
        gy: &[&DeviceTensor],
        gx: &[&DeviceTensor],
        needs: &[bool],
    ) -> Result<()> {
        let (_, Dims { batch, m, n, k }) = dims(x[0].shape(), x[1].shape())?;
        if needs[0] {
            let d = Dims {
                batch,
                m,
                n: k,
                k: n,
            };
            matmul_acc(gx[0], (gy[0], false), (x[1], true), d)?;
        }
        if needs[1] {
            let d = Dims {
                batch,
                m: k,
                n,
                k: m,
            };
            matmul_acc(gx[1], (x[0], true), (gy[0], false), d)?;
        }
        Ok(())
    }
}

/// The matrix product `[..., m, k] @ [..., k, n] -> [..., m, n]` on the
/// operands' device: the device twin of [`TVar::matmul`], for any m, k, n
/// and equal batch axes, or batch axes on the left only (`[..., m, k] @
/// [k, n]`); the device does not broadcast them otherwise. Each
/// output entry is summed over k in a fixed order (32 × 32 output tiles,
/// the operands staged in workgroup memory, no atomics), so the same bits
/// on every run; the
/// adjoint reads the operands transposed in place.
///
/// Errors: [`Error::Shape`] naming both shapes where the host's matmul
/// would refuse them or the batch axes differ (other than a 2-D right
/// operand); the device errors of
/// [`apply`](super::apply).
///
/// ```no_run
/// use maya::gpu::{self, Device};
/// use maya::{Tensor, TensorTape};
/// let d = Device::new()?;
/// let t = TensorTape::new();
/// let a = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0], vec![2, 2]));
/// let b = t.var(Tensor::from_data(vec![1.0, 0.0, 1.0, 1.0], vec![2, 2]));
/// let c = gpu::matmul(&a.to_device(&d), &b.to_device(&d))?;
/// assert_eq!(c.to_host().value().data, vec![3.0, 2.0, 7.0, 4.0]);
/// let g = t.grad(gpu::sum(&c)?.to_host());
/// assert_eq!(g[a.idx()].data, vec![1.0, 2.0, 1.0, 2.0]); // ḡC Bᵀ, ḡC = 1
/// # Ok::<(), maya::Error>(())
/// ```
pub fn matmul<'t>(a: &TVar<'t>, b: &TVar<'t>) -> Result<TVar<'t>> {
    Ok(apply(Matmul, &[*a, *b])?[0])
}
