//! Sparse factorisation of a Jacobian through faer: LLᵀ (Cholesky) for
//! symmetric matrices with LU as the fallback, LU otherwise, with the
//! symbolic analysis (fill-reducing ordering, elimination tree) cached by
//! sparsity pattern and a condition estimate that turns a singular matrix
//! into an error instead of a garbage solve.

use super::factorization::{inverse_norm1_estimate, Factor, Factorization};
use super::triplets::Triplets;
use crate::error::{Error, Result};
use faer::sparse::linalg::solvers::{Llt, Lu, SymbolicLlt, SymbolicLu};
use faer::sparse::linalg::{LltError, LuError};
use faer::sparse::{Argsort, Pair, SparseColMat, SymbolicSparseColMat};
use faer::Side;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The name in the errors of this file; [`try_newton_solve`](super::try_newton_solve)
/// re-labels them with its own.
const SOLVER: &str = "sparse factorisation";

/// A sparse direct solver for square systems A x = b given as [`Triplets`],
/// that keeps the symbolic analysis of the last sparsity pattern it saw.
///
/// A factorisation has two parts: the *symbolic* one (a fill-reducing
/// ordering, the elimination tree, the pattern of the factors), which
/// depends only on where the nonzeros are, and the *numeric* one. Newton
/// iterations, and the time steps of a simulation, factor many matrices
/// with one pattern: this solver analyses a pattern once and reuses the
/// analysis while the (row, column) sequence of the triplets is unchanged
/// (an O(entries) comparison). Clones share the cache, so a solver kept
/// in [`NewtonOptions`](super::NewtonOptions) carries its analysis from
/// one [`TensorTape::solve_implicit`](crate::TensorTape::solve_implicit)
/// call to the next.
///
/// A symmetric matrix (both triangles given) is factored as A = LLᵀ by
/// sparse Cholesky; if that fails (A is not positive definite), by LU with
/// partial pivoting, as is any non-symmetric matrix. Every factorisation is
/// checked with a 1-norm condition estimate κ₁ ≈ ‖A‖₁‖A⁻¹‖₁ (Hager's
/// method, a few extra solves): above [`SparseSolver::max_condition`] the
/// matrix is reported singular.
///
/// ```
/// use maya::tape::{SparseSolver, Triplets};
/// // A = [[4, 1], [2, 3]]: A x = b with b = (6, 8) gives x = (1, 2);
/// // Aᵀ y = c with c = (6, 4) gives y = (1, 1).
/// let mut a = Triplets::new();
/// for (i, j, v) in [(0, 0, 4.0), (0, 1, 1.0), (1, 0, 2.0), (1, 1, 3.0)] {
///     a.push(i, j, v);
/// }
/// let solver = SparseSolver::new();
/// let lu = solver.try_factor(2, &a, false).unwrap();
/// let mut x = [6.0, 8.0];
/// lu.solve_in_place(&mut x);
/// assert!((x[0] - 1.0).abs() < 1e-14 && (x[1] - 2.0).abs() < 1e-14);
/// let mut y = [6.0, 4.0];
/// lu.solve_transpose_in_place(&mut y);
/// assert!((y[0] - 1.0).abs() < 1e-14 && (y[1] - 1.0).abs() < 1e-14);
/// ```
#[derive(Clone)]
pub struct SparseSolver {
    cache: Arc<Mutex<Cache>>,
    max_condition: f64,
}

/// What a [`SparseSolver`] remembers between calls.
#[derive(Default)]
struct Cache {
    analysis: Option<Analysis>,
    analyses: usize,
}

/// The symbolic analysis of one pattern: the CSC structure, the order in
/// which the triplet values fill it (duplicates summed), and the symbolic
/// factorisations, each made the first time it is needed.
struct Analysis {
    n: usize,
    pattern: Vec<(usize, usize)>,
    csc: SymbolicSparseColMat<usize>,
    argsort: Argsort<usize>,
    llt: Option<SymbolicLlt<usize>>,
    lu: Option<SymbolicLu<usize>>,
}

impl Default for SparseSolver {
    fn default() -> SparseSolver {
        SparseSolver {
            cache: Arc::default(),
            max_condition: 1e12,
        }
    }
}

impl fmt::Debug for SparseSolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparseSolver")
            .field("analyses", &self.analyses())
            .field("max_condition", &self.max_condition)
            .finish()
    }
}

impl SparseSolver {
    /// A solver with an empty cache and `max_condition` = 1e12.
    pub fn new() -> SparseSolver {
        SparseSolver::default()
    }

    /// The same solver with another singularity threshold κ_max (> 1).
    ///
    /// The default 1e12: the adjoint of an implicit node is one solve with
    /// Aᵀ, whose relative error is bounded by about κ·ε (ε = 2.2e-16), so
    /// κ ≤ 1e12 keeps gradients to ≥ 3 significant digits; a singular
    /// matrix has κ̂ ≳ 1/ε ≈ 4.5e15 after rounding, far above it.
    ///
    /// ```
    /// use maya::tape::SparseSolver;
    /// assert_eq!(SparseSolver::new().with_max_condition(1e8).max_condition(), 1e8);
    /// ```
    pub fn with_max_condition(self, max_condition: f64) -> SparseSolver {
        SparseSolver {
            max_condition,
            ..self
        }
    }

    /// The singularity threshold on the condition estimate.
    pub fn max_condition(&self) -> f64 {
        self.max_condition
    }

    /// How many symbolic analyses this solver (and its clones) made: one
    /// per new sparsity pattern.
    pub fn analyses(&self) -> usize {
        self.lock().analyses
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves at worst a stale analysis,
        // which the pattern check replaces.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Factors the `n×n` matrix `a` (duplicates summed): LLᵀ when
    /// `symmetric` (both triangles given) and positive definite, LU
    /// otherwise.
    ///
    /// Errors: [`Error::Index`] for an entry outside `n×n`; [`Error::Solve`]
    /// for a non-finite entry, a structurally singular matrix, or a
    /// condition estimate above [`SparseSolver::max_condition`] (the reason
    /// names "singular").
    ///
    /// ```
    /// use maya::tape::{SparseSolver, Triplets};
    /// let solver = SparseSolver::new();
    /// let mut a = Triplets::new();
    /// a.push(0, 0, 1.0);
    /// a.push(0, 1, 2.0);
    /// a.push(1, 0, 2.0);
    /// a.push(1, 1, 4.0); // rank 1: the second row is twice the first
    /// let e = solver.try_factor(2, &a, false).unwrap_err();
    /// assert!(e.to_string().contains("singular"));
    /// a.values_mut()[3] = 5.0; // same pattern, now invertible: no new analysis
    /// solver.try_factor(2, &a, false).unwrap();
    /// assert_eq!(solver.analyses(), 1);
    /// ```
    pub fn try_factor(&self, n: usize, a: &Triplets, symmetric: bool) -> Result<Factorization> {
        if let Some(k) = a.values.iter().position(|v| !v.is_finite()) {
            let (i, j) = a.indices[k];
            return Err(failure(format!(
                "non-finite matrix entry {} at ({i}, {j})",
                a.values[k]
            )));
        }
        let mut cache = self.lock();
        let cache = &mut *cache;
        let stale = match &cache.analysis {
            Some(an) => an.n != n || an.pattern != a.indices,
            None => true,
        };
        if stale {
            cache.analysis = Some(analyse(n, a)?);
            cache.analyses += 1;
        }
        let an = cache.analysis.as_mut().expect("analysed above");
        let mat = SparseColMat::new_from_argsort(an.csc.clone(), &an.argsort, &a.values)
            .map_err(|e| failure(format!("{e:?}")))?;
        let factor = if symmetric {
            match cholesky(an, &mat)? {
                Some(llt) => Factor::Cholesky(llt),
                None => Factor::Lu(Box::new(lu(an, &mat)?)),
            }
        } else {
            Factor::Lu(Box::new(lu(an, &mat)?))
        };
        let mut f = Factorization {
            n,
            factor,
            condition: f64::NAN,
        };
        f.condition = norm1(&mat) * inverse_norm1_estimate(&f);
        // NaN (a zero pivot met in the estimate) counts as singular.
        if f.condition.is_nan() || f.condition > self.max_condition {
            return Err(failure(format!(
                "the matrix is singular to working precision (condition estimate {:.1e} > {:.0e})",
                f.condition, self.max_condition
            )));
        }
        Ok(f)
    }
}

/// The symbolic structure of the pattern of `a`.
fn analyse(n: usize, a: &Triplets) -> Result<Analysis> {
    let pairs: Vec<Pair<usize, usize>> = a.indices.iter().map(|&(i, j)| Pair::new(i, j)).collect();
    let (csc, argsort) =
        SymbolicSparseColMat::try_new_from_indices(n, n, &pairs).map_err(|_| {
            let &(i, j) = a
                .indices
                .iter()
                .find(|(i, j)| *i >= n || *j >= n)
                .unwrap_or(&(0, 0));
            Error::Index {
                op: "SparseSolver::try_factor",
                index: i.max(j),
                len: n,
            }
        })?;
    Ok(Analysis {
        n,
        pattern: a.indices.clone(),
        csc,
        argsort,
        llt: None,
        lu: None,
    })
}

/// LLᵀ of the lower triangle, or `None` if the matrix is not positive
/// definite (a non-positive pivot).
fn cholesky(an: &mut Analysis, mat: &SparseColMat<usize, f64>) -> Result<Option<Llt<usize, f64>>> {
    if an.llt.is_none() {
        let sym = SymbolicLlt::try_new(mat.symbolic(), Side::Lower)
            .map_err(|e| failure(format!("{e:?}")))?;
        an.llt = Some(sym);
    }
    let sym = an.llt.clone().expect("set above");
    match Llt::try_new_with_symbolic(sym, mat.as_ref(), Side::Lower) {
        Ok(llt) => Ok(Some(llt)),
        Err(LltError::Numeric(_)) => Ok(None),
        Err(LltError::Generic(e)) => Err(failure(format!("{e:?}"))),
    }
}

/// LU with partial pivoting.
fn lu(an: &mut Analysis, mat: &SparseColMat<usize, f64>) -> Result<Lu<usize, f64>> {
    if an.lu.is_none() {
        let sym = SymbolicLu::try_new(mat.symbolic()).map_err(|e| failure(format!("{e:?}")))?;
        an.lu = Some(sym);
    }
    let sym = an.lu.clone().expect("set above");
    Lu::try_new_with_symbolic(sym, mat.as_ref()).map_err(|e| match e {
        LuError::SymbolicSingular { index } => failure(format!(
            "the matrix is singular (no nonzero pivot for elimination step {index})"
        )),
        LuError::Generic(e) => failure(format!("{e:?}")),
    })
}

/// ‖A‖₁: the largest column sum of |aᵢⱼ|.
fn norm1(mat: &SparseColMat<usize, f64>) -> f64 {
    let (ptr, val) = (mat.symbolic().col_ptr(), mat.val());
    ptr.windows(2)
        .map(|w| val[w[0]..w[1]].iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

fn failure(reason: String) -> Error {
    Error::Solve {
        solver: SOLVER,
        step: 0,
        iters: 0,
        residual: f64::NAN,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The n×n matrix with `diagonal` on the diagonal and −1 beside it.
    fn tridiagonal(n: usize, diagonal: f64) -> Triplets {
        let mut a = Triplets::new();
        for i in 0..n {
            a.push(i, i, diagonal);
            if i + 1 < n {
                a.push(i, i + 1, -1.0);
                a.push(i + 1, i, -1.0);
            }
        }
        a
    }

    #[test]
    fn the_analysis_is_reused_while_the_pattern_holds() {
        let n = 20;
        let solver = SparseSolver::new();
        let a = tridiagonal(n, 4.0);
        solver.try_factor(n, &a, false).unwrap();
        let scaled = tridiagonal(n, 5.0);
        // A clone shares the cache: the same pattern is not analysed again.
        solver.clone().try_factor(n, &scaled, false).unwrap();
        assert_eq!(solver.analyses(), 1);
        let mut wider = tridiagonal(n, 4.0);
        wider.push(0, n - 1, 1.0);
        solver.try_factor(n, &wider, false).unwrap();
        assert_eq!(solver.analyses(), 2);
    }

    #[test]
    fn singular_and_malformed_matrices_are_errors() {
        // [[1, 1], [1, 1]] has rank 1.
        let mut a = Triplets::new();
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            a.push(i, j, 1.0);
        }
        for symmetric in [true, false] {
            let e = SparseSolver::new()
                .try_factor(2, &a, symmetric)
                .unwrap_err();
            assert!(
                matches!(&e, Error::Solve { reason, .. } if reason.contains("singular")),
                "{e}"
            );
        }
        let mut outside = Triplets::new();
        outside.push(0, 2, 1.0);
        let e = SparseSolver::new()
            .try_factor(2, &outside, false)
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Index {
                    index: 2,
                    len: 2,
                    ..
                }
            ),
            "{e}"
        );
        let mut nan = Triplets::new();
        nan.push(0, 0, f64::NAN);
        let e = SparseSolver::new().try_factor(1, &nan, false).unwrap_err();
        assert!(e.to_string().contains("non-finite matrix entry"), "{e}");
    }
}
