//! Matrix products through faer: 2D, and batched over leading axes with
//! broadcasting of the batch axes.

use crate::error::{Error, Result};
use crate::tensor::{broadcast_shapes, broadcast_strides, for_each_index, numel, Tensor};
use faer::{Accum, MatMut, MatRef, Par};

/// Below this many multiply-adds a product runs on one thread (measured on
/// 2 idle cores: n = 64 takes 9.6 µs on one thread and 15–28 µs split;
/// n = 256 takes 0.58 ms on one and 0.35 ms split).
const PARALLEL_FLOPS: usize = 1 << 21;

/// Below this many multiply-adds each, two independent products run side
/// by side, one thread each, rather than one after the other, each split
/// (n = 256: 0.60 ms against 0.67 ms; n = 1024: 44 ms against 41 ms).
const SIDE_BY_SIDE_FLOPS: usize = 1 << 25;

/// The output shape of `a @ b`: `[..., m, k] @ [..., k, n] -> [..., m, n]`,
/// batch axes broadcast.
pub fn matmul_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let err = |hint| Error::Shape {
        op: "matmul",
        lhs: a.to_vec(),
        rhs: b.to_vec(),
        hint,
    };
    if a.len() < 2 || b.len() < 2 {
        return Err(err("both operands need at least 2 axes ([m, k] @ [k, n])"));
    }
    let (m, ka) = (a[a.len() - 2], a[a.len() - 1]);
    let (kb, n) = (b[b.len() - 2], b[b.len() - 1]);
    if ka != kb {
        return Err(err(
            "the last axis of the left operand must equal the second-to-last of the right",
        ));
    }
    let mut shape = broadcast_shapes(&a[..a.len() - 2], &b[..b.len() - 2], "matmul")
        .map_err(|_| err("batch axes (all but the last two) must broadcast"))?;
    shape.extend([m, n]);
    Ok(shape)
}

/// `a @ b`.
///
/// ```
/// use maya::{Tensor, tensor::cpu::matmul};
/// let a = Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0], vec![2, 2]);
/// let i = Tensor::from_data(vec![1.0, 0.0, 0.0, 1.0], vec![2, 2]);
/// assert_eq!(matmul(&a, &i).unwrap(), a);
/// ```
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = matmul_shape(&a.shape, &b.shape)?;
    let mut out = Tensor::zeros(&shape);
    matmul_acc_on(&mut out, a, false, b, false, Threads::BySize, true);
    Ok(out)
}

/// A batch of matrices viewed in place: the shape of each matrix and where
/// each batch entry starts.
struct Batch {
    rows: usize,
    cols: usize,
    strides: Vec<usize>,
}

impl Batch {
    fn of(t: &Tensor, batch_shape: &[usize]) -> Batch {
        let nd = t.shape.len();
        let (rows, cols) = (t.shape[nd - 2], t.shape[nd - 1]);
        let per = rows * cols;
        let strides = broadcast_strides(&t.shape[..nd - 2], batch_shape)
            .into_iter()
            .map(|s| s * per)
            .collect();
        Batch {
            rows,
            cols,
            strides,
        }
    }

    fn view<'a>(&self, data: &'a [f64], off: usize, transpose: bool) -> MatRef<'a, f64> {
        let m = MatRef::from_row_major_slice(
            &data[off..off + self.rows * self.cols],
            self.rows,
            self.cols,
        );
        if transpose {
            m.transpose()
        } else {
            m
        }
    }
}

/// Whether a product may split across threads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Threads {
    /// Split when the product is past `PARALLEL_FLOPS`.
    BySize,
    /// One thread (the caller runs other work beside it).
    One,
}

/// Whether a product of `flops` multiply-adds is worth splitting across
/// threads.
fn worth_splitting(flops: usize) -> bool {
    flops >= PARALLEL_FLOPS
}

/// Whether two independent products of `flops` multiply-adds each run
/// faster side by side, one thread each, than one after the other (split
/// when large enough). Below `PARALLEL_FLOPS` waking a second thread costs
/// more than it saves (n = 64: 16–29 µs side by side against 19 µs on
/// one thread).
pub(crate) fn side_by_side(flops: usize) -> bool {
    (PARALLEL_FLOPS..SIDE_BY_SIDE_FLOPS).contains(&flops)
}

/// `out += op(a) @ op(b)`, where `op` transposes the last two axes when its
/// flag is set, with the thread policy given. `out` may have batch axes
/// that `a` or `b` broadcast over, or fewer batch axes than they have (the
/// product is then summed over the missing ones, as the adjoint of a
/// broadcast needs).
///
/// `fresh`: `out` holds zeros, so a product that is not summed over batch
/// entries is written over it rather than added (faer then never reads
/// `out`: on a freshly allocated buffer, reading first maps the zero page
/// and the write then copies it, two page faults and a TLB flush on every
/// core per page, where writing alone takes one fault).
///
/// Unchecked: the caller guarantees shapes that [`matmul_shape`] accepts
/// (the matmul kernel's forward checked them).
pub(crate) fn matmul_acc_on(
    out: &mut Tensor,
    a: &Tensor,
    ta: bool,
    b: &Tensor,
    tb: bool,
    threads: Threads,
    fresh: bool,
) {
    let (na, nb) = (a.ndim(), b.ndim());
    let batch_shape = broadcast_shapes(&a.shape[..na - 2], &b.shape[..nb - 2], "matmul")
        .expect("matmul_acc: batch axes checked by the caller");
    let ba = Batch::of(a, &batch_shape);
    let bb = Batch::of(b, &batch_shape);
    let no = out.ndim();
    let (rows, cols) = (out.shape[no - 2], out.shape[no - 1]);
    let per = rows * cols;
    let so: Vec<usize> = broadcast_strides(&out.shape[..no - 2], &batch_shape)
        .into_iter()
        .map(|s| s * per)
        .collect();
    let inner = if ta { ba.rows } else { ba.cols };
    let flops = numel(&batch_shape) * rows * cols * inner;
    let par = if threads == Threads::BySize && worth_splitting(flops) {
        Par::rayon(0)
    } else {
        Par::Seq
    };
    // Each of `out`'s matrices is written once unless `out` is summed over
    // batch entries.
    let written_once = numel(&out.shape[..no - 2]) == numel(&batch_shape);
    let accum = if fresh && written_once {
        Accum::Replace
    } else {
        Accum::Add
    };
    let out_data = &mut out.data;
    for_each_index(
        &batch_shape,
        &[&ba.strides, &bb.strides, &so],
        |_, [ia, ib, io]| {
            let lhs = ba.view(&a.data, ia, ta);
            let rhs = bb.view(&b.data, ib, tb);
            let dst = MatMut::from_row_major_slice_mut(&mut out_data[io..io + per], rows, cols);
            faer::linalg::matmul::matmul(dst, accum, lhs, rhs, 1.0, par);
        },
    );
}
