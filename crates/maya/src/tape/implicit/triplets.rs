//! `Triplets`: a sparse matrix as a list of (row, column, value) entries.

/// A sparse square matrix given entry by entry as (row, column, value)
/// triplets; entries at the same position are summed.
///
/// This is how an [`ImplicitProblem`](crate::tape::ImplicitProblem) hands
/// over its Jacobian ∂r/∂x: element by element, each element pushing its
/// local block, with no need to merge duplicates. The order of the pushes
/// is the matrix's *pattern*: a [`SparseSolver`](crate::tape::SparseSolver)
/// that sees the same sequence of (row, column) positions again reuses its
/// symbolic analysis, so push in a fixed order (push explicit zeros rather
/// than skipping an entry that happens to vanish).
///
/// ```
/// use maya::tape::Triplets;
/// // [[2, 1], [0, 3]], the 2 given as 1.5 + 0.5.
/// let mut a = Triplets::new();
/// a.push(0, 0, 1.5);
/// a.push(0, 1, 1.0);
/// a.push(1, 1, 3.0);
/// a.push(0, 0, 0.5);
/// assert_eq!(a.len(), 4);
/// assert_eq!(a.to_dense(2), vec![2.0, 1.0, 0.0, 3.0]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Triplets {
    pub(crate) indices: Vec<(usize, usize)>,
    pub(crate) values: Vec<f64>,
}

impl Triplets {
    /// An empty list.
    pub fn new() -> Triplets {
        Triplets::default()
    }

    /// An empty list with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Triplets {
        Triplets {
            indices: Vec::with_capacity(capacity),
            values: Vec::with_capacity(capacity),
        }
    }

    /// Adds `value` at (`row`, `col`) (summed with any earlier entry there).
    pub fn push(&mut self, row: usize, col: usize, value: f64) {
        self.indices.push((row, col));
        self.values.push(value);
    }

    /// Adds the dense `D×D` block `block` (row-major) with its top-left
    /// corner at (`row`, `col`): the usual contribution of one particle pair.
    ///
    /// ```
    /// use maya::tape::Triplets;
    /// let mut a = Triplets::new();
    /// a.push_block(1, 1, &[[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.to_dense(3), vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
    /// ```
    pub fn push_block<const D: usize>(&mut self, row: usize, col: usize, block: &[[f64; D]; D]) {
        for (i, line) in block.iter().enumerate() {
            for (j, &v) in line.iter().enumerate() {
                self.push(row + i, col + j, v);
            }
        }
    }

    /// Forgets every entry, keeping the buffers.
    pub fn clear(&mut self) {
        self.indices.clear();
        self.values.clear();
    }

    /// Number of entries pushed (duplicates counted).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no entry was pushed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values, in push order, to overwrite in place: a new matrix
    /// with the same pattern (the solver's analysis stays valid).
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }

    /// The entries as (row, column, value), in push order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.indices
            .iter()
            .zip(&self.values)
            .map(|(&(i, j), &v)| (i, j, v))
    }

    /// The `n×n` dense matrix, row-major, duplicates summed: O(n²) memory,
    /// for tests and small problems. Panics on an entry outside `n×n`.
    #[track_caller]
    pub fn to_dense(&self, n: usize) -> Vec<f64> {
        let mut dense = vec![0.0; n * n];
        for (i, j, v) in self.iter() {
            assert!(
                i < n && j < n,
                "Triplets::to_dense: entry ({i}, {j}) is outside {n}×{n}"
            );
            dense[i * n + j] += v;
        }
        dense
    }
}
