//! `Factorization`: a factored sparse matrix (LLᵀ or LU, from faer) with
//! solves by A and Aᵀ, and the 1-norm condition estimate that tells a
//! singular matrix.

use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Llt, Lu};
use faer::ColMut;
use std::fmt;

/// A factored square matrix from
/// [`SparseSolver::try_factor`](super::SparseSolver::try_factor): solves
/// with A and with Aᵀ, each O(nonzeros of the factors).
///
/// ```
/// use maya::tape::{SparseSolver, Triplets};
/// // diag(2, 8) is symmetric positive definite: LLᵀ, κ₁ = 8/2 = 4.
/// let mut a = Triplets::new();
/// a.push(0, 0, 2.0);
/// a.push(1, 1, 8.0);
/// let f = SparseSolver::new().try_factor(2, &a, true).unwrap();
/// assert!(f.is_cholesky() && f.dim() == 2);
/// assert!((f.condition_estimate() - 4.0).abs() < 1e-12);
/// let mut b = [1.0, 1.0];
/// f.solve_in_place(&mut b);
/// // L = diag(√2, √8): the solve rounds, to within an ulp.
/// assert!((b[0] - 0.5).abs() < 1e-15 && (b[1] - 0.125).abs() < 1e-15);
/// ```
pub struct Factorization {
    pub(super) n: usize,
    pub(super) factor: Factor,
    pub(super) condition: f64,
}

pub(super) enum Factor {
    Cholesky(Llt<usize, f64>),
    /// Boxed: faer's LU carries its permutations and supernode tables.
    Lu(Box<Lu<usize, f64>>),
}

impl fmt::Debug for Factorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Factorization")
            .field("n", &self.n)
            .field("cholesky", &self.is_cholesky())
            .field("condition", &self.condition)
            .finish()
    }
}

impl Factorization {
    /// The matrix's dimension n.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Whether the matrix was factored as LLᵀ (symmetric positive
    /// definite) rather than LU.
    pub fn is_cholesky(&self) -> bool {
        matches!(self.factor, Factor::Cholesky(_))
    }

    /// The 1-norm condition estimate κ₁ ≈ ‖A‖₁‖A⁻¹‖₁ (a lower bound,
    /// usually within a factor 3 of the truth).
    pub fn condition_estimate(&self) -> f64 {
        self.condition
    }

    /// Overwrites `b` with A⁻¹b. Panics if `b.len()` is not n.
    #[track_caller]
    pub fn solve_in_place(&self, b: &mut [f64]) {
        self.check_len(b, "solve_in_place");
        let rhs = ColMut::from_slice_mut(b);
        match &self.factor {
            Factor::Cholesky(llt) => llt.solve_in_place(rhs),
            Factor::Lu(lu) => lu.solve_in_place(rhs),
        }
    }

    /// Overwrites `b` with A⁻ᵀb: the adjoint solve. Panics if `b.len()` is
    /// not n.
    #[track_caller]
    pub fn solve_transpose_in_place(&self, b: &mut [f64]) {
        self.check_len(b, "solve_transpose_in_place");
        let rhs = ColMut::from_slice_mut(b);
        match &self.factor {
            Factor::Cholesky(llt) => llt.solve_transpose_in_place(rhs),
            Factor::Lu(lu) => lu.solve_transpose_in_place(rhs),
        }
    }

    #[track_caller]
    fn check_len(&self, b: &[f64], op: &str) {
        assert!(
            b.len() == self.n,
            "Factorization::{op}: right-hand side of length {} for a {n}×{n} matrix",
            b.len(),
            n = self.n
        );
    }
}

/// A lower bound on ‖A⁻¹‖₁ from a few solves with A and Aᵀ (Hager 1984,
/// with Higham's extra test vector, as LAPACK's `dlacon`): maximises
/// ‖A⁻¹x‖₁ over ‖x‖₁ = 1 by a gradient ascent that moves between unit
/// vectors. Infinite when a solve is not finite (a zero pivot).
pub(super) fn inverse_norm1_estimate(f: &Factorization) -> f64 {
    let n = f.n;
    let norm1 = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>();
    let mut x = vec![1.0 / n as f64; n];
    let mut estimate = 0.0;
    for iteration in 0..5 {
        let mut y = x.clone();
        f.solve_in_place(&mut y);
        let next = norm1(&y);
        if !next.is_finite() {
            return f64::INFINITY;
        }
        if iteration > 0 && next <= estimate {
            break;
        }
        estimate = next;
        // z = A⁻ᵀ sign(y): the gradient of ‖A⁻¹x‖₁ at x.
        let mut z: Vec<f64> = y
            .iter()
            .map(|v| if *v >= 0.0 { 1.0 } else { -1.0 })
            .collect();
        f.solve_transpose_in_place(&mut z);
        let (j, zj) = z
            .iter()
            .map(|v| v.abs())
            .enumerate()
            .fold(
                (0, -1.0),
                |best, (i, v)| if v > best.1 { (i, v) } else { best },
            );
        let zx: f64 = z.iter().zip(&x).map(|(a, b)| a * b).sum();
        if !zj.is_finite() {
            return f64::INFINITY;
        }
        if iteration > 0 && zj <= zx {
            break;
        }
        x.iter_mut().for_each(|v| *v = 0.0);
        x[j] = 1.0;
    }
    // Higham's alternating vector catches matrices the ascent misses.
    let mut b: Vec<f64> = (0..n)
        .map(|i| {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            sign * (1.0 + i as f64 / (n.max(2) - 1) as f64)
        })
        .collect();
    f.solve_in_place(&mut b);
    let alt = 2.0 * norm1(&b) / (3.0 * n as f64);
    if !alt.is_finite() {
        return f64::INFINITY;
    }
    estimate.max(alt)
}

#[cfg(test)]
mod tests {
    use crate::tape::{SparseSolver, Triplets};

    /// A reproducible stream of numbers in [−1, 1) (64-bit LCG, top bits).
    fn stream(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    /// An n×n sparse matrix: diagonal 3 + u, and three entries u per row at
    /// pseudo-random columns (repeats summed), u uniform in [−1, 1).
    fn random_sparse(n: usize, seed: u64) -> Triplets {
        let mut u = stream(seed);
        let mut a = Triplets::new();
        for i in 0..n {
            a.push(i, i, 3.0 + u());
            for _ in 0..3 {
                let j = ((u() + 1.0) * 0.5 * n as f64) as usize % n;
                a.push(i, j, u());
            }
        }
        a
    }

    /// x = A⁻¹b by dense Gaussian elimination with partial pivoting.
    fn dense_solve(n: usize, mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
        for c in 0..n {
            let p = (c..n)
                .max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))
                .unwrap();
            for k in 0..n {
                a.swap(c * n + k, p * n + k);
            }
            b.swap(c, p);
            for i in c + 1..n {
                let f = a[i * n + c] / a[c * n + c];
                for k in c..n {
                    a[i * n + k] -= f * a[c * n + k];
                }
                b[i] -= f * b[c];
            }
        }
        for c in (0..n).rev() {
            let s: f64 = (c + 1..n).map(|k| a[c * n + k] * b[k]).sum();
            b[c] = (b[c] - s) / a[c * n + c];
        }
        b
    }

    fn transpose(n: usize, a: &[f64]) -> Vec<f64> {
        (0..n * n).map(|k| a[(k % n) * n + k / n]).collect()
    }

    fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn lu_solves_and_transposed_solves_match_dense_elimination() {
        let n = 40;
        let a = random_sparse(n, 7);
        let dense = a.to_dense(n);
        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let f = SparseSolver::new().try_factor(n, &a, false).unwrap();
        assert!(!f.is_cholesky());
        let mut x = b.clone();
        f.solve_in_place(&mut x);
        let mut y = b.clone();
        f.solve_transpose_in_place(&mut y);
        // Both are backward stable: they agree with the dense answers to
        // about κ·ε, κ ≈ a few for this diagonally heavy matrix.
        let x_ref = dense_solve(n, dense.clone(), b.clone());
        let y_ref = dense_solve(n, transpose(n, &dense), b);
        assert!(max_diff(&x, &x_ref) < 1e-12, "{}", max_diff(&x, &x_ref));
        assert!(max_diff(&y, &y_ref) < 1e-12, "{}", max_diff(&y, &y_ref));
        assert!(f.condition_estimate() > 1.0 && f.condition_estimate() < 1e3);
    }

    #[test]
    fn cholesky_solves_an_spd_matrix() {
        // A = BᵀB + I is symmetric positive definite for any B.
        let n = 30;
        let b = random_sparse(n, 11).to_dense(n);
        let mut a = Triplets::new();
        for i in 0..n {
            for j in 0..n {
                let v: f64 = (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum();
                if v != 0.0 || i == j {
                    a.push(i, j, v + if i == j { 1.0 } else { 0.0 });
                }
            }
        }
        let f = SparseSolver::new().try_factor(n, &a, true).unwrap();
        assert!(f.is_cholesky());
        let rhs: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let mut x = rhs.clone();
        f.solve_in_place(&mut x);
        let x_ref = dense_solve(n, a.to_dense(n), rhs);
        let scale = x_ref.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(max_diff(&x, &x_ref) < 1e-12 * scale);
    }

    #[test]
    fn an_indefinite_symmetric_matrix_falls_back_to_lu() {
        // [[1, 2], [2, 1]] has eigenvalues 3 and −1; A⁻¹ = [[−1, 2], [2, −1]]/3,
        // so A x = (3, 3) gives x = (1, 1).
        let mut a = Triplets::new();
        for (i, j, v) in [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 2.0), (1, 1, 1.0)] {
            a.push(i, j, v);
        }
        let f = SparseSolver::new().try_factor(2, &a, true).unwrap();
        assert!(!f.is_cholesky());
        let mut x = [3.0, 3.0];
        f.solve_in_place(&mut x);
        assert!(max_diff(&x, &[1.0, 1.0]) < 1e-15);
    }

    #[test]
    fn the_condition_estimate_is_exact_for_a_diagonal_matrix() {
        // κ₁(diag(1, 1e-6)) = ‖A‖₁‖A⁻¹‖₁ = 1 · 1e6.
        let mut a = Triplets::new();
        a.push(0, 0, 1.0);
        a.push(1, 1, 1e-6);
        let f = SparseSolver::new().try_factor(2, &a, true).unwrap();
        assert!((f.condition_estimate() - 1e6).abs() < 1e-6);
        let strict = SparseSolver::new().with_max_condition(1e5);
        let e = strict.try_factor(2, &a, true).unwrap_err().to_string();
        assert!(e.contains("singular") && e.contains("1.0e6"), "{e}");
    }
}
