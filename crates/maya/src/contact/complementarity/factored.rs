//! H's sparsity pattern for one step and its LU factors (dense for small
//! scenes, sparse from 20 bodies), with the checked solve.

use crate::error::{Error, Result};
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Lu as SparseLu, SymbolicLu};
use faer::sparse::{SymbolicSparseColMat, SymbolicSparseColMatRef};
use faer::Mat;
use std::cell::OnceCell;

/// H's sparsity for one step's contacts, fixed over its iterations: the
/// column-compressed structure (each body's 3 × 3 diagonal block and the
/// blocks of bodies in contact), where each contact's entries go, and the
/// symbolic LU (made on first use).
pub(crate) struct Pattern {
    symbolic: SymbolicSparseColMat<usize>,
    pub(super) row_idx: Vec<usize>,
    col_ptr: Vec<usize>,
    pub(super) diag: Vec<usize>,
    /// Per contact, the value index of entry (cols[p], cols[k]) at 6p + k.
    pub(super) blocks: Vec<[usize; 36]>,
    lu: OnceCell<std::result::Result<SymbolicLu<usize>, String>>,
}

impl Pattern {
    /// The pattern of `n` unknowns coupled by contacts over `columns` (per
    /// contact, its columns and how many are in use).
    pub(super) fn new(n: usize, columns: &[([usize; 6], usize)]) -> Pattern {
        let mut pairs: Vec<(usize, usize)> = (0..n).map(|j| (j, j)).collect();
        for (cols, nc) in columns {
            for p in 0..*nc {
                for k in 0..*nc {
                    pairs.push((cols[k], cols[p]));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut col_ptr = vec![0; n + 1];
        for &(c, _) in &pairs {
            col_ptr[c + 1] += 1;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let row_idx: Vec<usize> = pairs.iter().map(|&(_, r)| r).collect();
        let find = |r: usize, c: usize| {
            let range = col_ptr[c]..col_ptr[c + 1];
            range.start + row_idx[range].binary_search(&r).expect("in the pattern")
        };
        let diag = (0..n).map(|j| find(j, j)).collect();
        let blocks = columns
            .iter()
            .map(|(cols, nc)| {
                let mut at = [0; 36];
                for p in 0..*nc {
                    for k in 0..*nc {
                        at[6 * p + k] = find(cols[p], cols[k]);
                    }
                }
                at
            })
            .collect();
        let symbolic =
            SymbolicSparseColMat::new_checked(n, n, col_ptr.clone(), None, row_idx.clone());
        Pattern {
            symbolic,
            row_idx,
            col_ptr,
            diag,
            blocks,
            lu: OnceCell::new(),
        }
    }

    /// The symbolic LU of the pattern.
    /// The symbolic structure.
    pub(super) fn symbolic(&self) -> SymbolicSparseColMatRef<'_, usize> {
        self.symbolic.as_ref()
    }

    pub(super) fn lu(&self) -> Result<SymbolicLu<usize>> {
        self.lu
            .get_or_init(|| {
                SymbolicLu::try_new(self.symbolic.as_ref()).map_err(|e| format!("{e:?}"))
            })
            .clone()
            .map_err(|e| Error::Solve {
                solver: "complementarity contact",
                step: 0,
                iters: 0,
                residual: f64::NAN,
                reason: format!("the sparsity of H cannot be analysed: {e}"),
            })
    }

    /// Calls `f(row, col, value)` for each entry.
    pub(super) fn for_each(&self, values: &[f64], mut f: impl FnMut(usize, usize, f64)) {
        for c in 0..self.col_ptr.len() - 1 {
            for k in self.col_ptr[c]..self.col_ptr[c + 1] {
                f(self.row_idx[k], c, values[k]);
            }
        }
    }

    /// The entries (row, col, value).
    pub(super) fn entries(&self, values: &[f64]) -> Vec<(usize, usize, f64)> {
        let mut out = Vec::with_capacity(values.len());
        self.for_each(values, |r, c, x| out.push((r, c, x)));
        out
    }
}

/// Body-velocity unknowns (3 per body) from which H is factored as a
/// sparse matrix (each body couples only to those it touches) rather than
/// a dense one: 20 bodies.
pub(super) const SPARSE_FROM: usize = 60;

/// The LU factors of H.
pub(super) enum Lu {
    Dense(faer::linalg::solvers::PartialPivLu<f64>),
    Sparse(SparseLu<usize, f64>),
}

/// H (its non-zero entries) and its LU.
pub(crate) struct Factored {
    pub(super) entries: Vec<(usize, usize, f64)>,
    pub(super) lu: Lu,
}

impl Factored {
    /// Solves H x = b (or Hᵀ x = b), checking the answer: a non-finite
    /// solution or a residual above 1e-8·(‖H‖‖x‖ + ‖b‖) is a singular or
    /// ill-conditioned H, [`Error::Solve`].
    pub(crate) fn solve(
        &self,
        b: &[f64],
        transpose: bool,
        step: usize,
        iters: usize,
    ) -> Result<Vec<f64>> {
        let n = b.len();
        let mut x = Mat::<f64>::from_fn(n, 1, |i, _| b[i]);
        match (&self.lu, transpose) {
            (Lu::Dense(lu), false) => lu.solve_in_place(&mut x),
            (Lu::Dense(lu), true) => lu.solve_transpose_in_place(&mut x),
            (Lu::Sparse(lu), false) => lu.solve_in_place(&mut x),
            (Lu::Sparse(lu), true) => lu.solve_transpose_in_place(&mut x),
        }
        let x: Vec<f64> = (0..n).map(|i| x[(i, 0)]).collect();
        let mut r: Vec<f64> = b.iter().map(|v| -v).collect();
        let mut h_norm = 0.0f64;
        for &(row, col, hij) in &self.entries {
            let (row, col) = if transpose { (col, row) } else { (row, col) };
            r[row] += hij * x[col];
            h_norm = h_norm.max(hij.abs());
        }
        // A NaN residual (inf − inf) must not vanish in a max.
        let worst = r.iter().fold(0.0f64, |m, v| {
            if m.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                m.max(v.abs())
            }
        });
        let x_norm = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let b_norm = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !worst.is_finite() || worst > 1e-8 * (h_norm * x_norm * n as f64 + b_norm) {
            return Err(Error::Solve {
                solver: "complementarity contact",
                step,
                iters,
                residual: worst,
                reason: format!(
                    "the reduced body-velocity matrix H ({n} × {n}) is singular or ill-conditioned"
                ),
            });
        }
        Ok(x)
    }
}
