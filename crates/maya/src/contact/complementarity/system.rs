//! The linear algebra of one step's problem: the contacts' local 4 × 6
//! blocks G (rows n, t, −t, 0), the 4 × 4 blocks B = S + Z A and the
//! reduced body-velocity matrix H = M + Σ Gᵀ B⁻¹ Z G, factored by a faer
//! LU: dense for small scenes, sparse from 20 bodies.

use super::factored::{Factored, Lu, Pattern, SPARSE_FROM};
use super::problem::ContactRows;
use crate::error::{Error, Result};
use faer::sparse::linalg::solvers::Lu as SparseLu;
use faer::sparse::SparseColMatRef;
use faer::Mat;
use std::cell::OnceCell;

/// The data of one step's problem (everything but the iterate).
pub(crate) struct System<'a> {
    /// Diagonal of M: (m, m, I) per body.
    pub mass: Vec<f64>,
    /// v_free = v + h M⁻¹ f_ext.
    pub v_free: Vec<f64>,
    pub contacts: &'a [ContactRows],
    /// Friction coefficient μ.
    pub mu: f64,
    /// Coefficient of restitution e.
    pub restitution: f64,
    /// Per contact, the free motion's normal velocity u⁻ = n·v_free when
    /// the contact is an impact within the step (φ ≥ 0 and φ + h u⁻ < 0),
    /// else `None` (see [`System::c`]).
    pub impact: Vec<Option<f64>>,
    /// κ (J).
    pub kappa: f64,
    /// Time step h (s).
    pub h: f64,
    /// The step number, for errors.
    pub step: usize,
    /// H's sparsity, built on the first sparse factorisation.
    pub pattern: OnceCell<Pattern>,
}

/// A 4 × 4 block.
pub(crate) type Block = [[f64; 4]; 4];

impl System<'_> {
    /// Body-velocity unknowns (3 per body).
    pub(crate) fn dofs(&self) -> usize {
        self.mass.len()
    }

    /// κ_i of contact i.
    pub(crate) fn kappa_i(&self, i: usize) -> f64 {
        self.kappa * self.contacts[i].taper
    }

    /// The columns of contact i's blocks and the number in use (3 or 6).
    fn columns(&self, i: usize) -> ([usize; 6], usize) {
        let c = &self.contacts[i];
        let a = 3 * c.a;
        match c.b {
            Some(b) => ([a, a + 1, a + 2, 3 * b, 3 * b + 1, 3 * b + 2], 6),
            None => ([a, a + 1, a + 2, 0, 0, 0], 3),
        }
    }

    /// Contact i's local G (4 × 6): rows n, t, −t, 0.
    fn local_g(&self, i: usize) -> [[f64; 6]; 4] {
        let c = &self.contacts[i];
        let mut g = [[0.0; 6]; 4];
        for k in 0..3 {
            g[0][k] = c.n[0][k];
            g[0][3 + k] = c.n[1][k];
            g[1][k] = c.t[0][k];
            g[1][3 + k] = c.t[1][k];
        }
        if !self.friction() {
            g[1] = [0.0; 6];
        }
        g[2] = g[1].map(|x| -x);
        g
    }

    /// G_i v.
    pub(crate) fn g_dot(&self, i: usize, v: &[f64]) -> [f64; 4] {
        let (cols, n) = self.columns(i);
        let g = self.local_g(i);
        let mut out = [0.0; 4];
        for (r, o) in out.iter_mut().enumerate() {
            *o = (0..n).map(|k| g[r][k] * v[cols[k]]).sum();
        }
        out
    }

    /// |G_i| |v| (a scale for G_i v).
    pub(crate) fn g_abs_dot(&self, i: usize, v: &[f64]) -> [f64; 4] {
        let (cols, n) = self.columns(i);
        let g = self.local_g(i);
        std::array::from_fn(|r| (0..n).map(|k| (g[r][k] * v[cols[k]]).abs()).sum())
    }

    /// out += G_iᵀ y.
    pub(crate) fn gt_add(&self, i: usize, y: [f64; 4], out: &mut [f64]) {
        let (cols, n) = self.columns(i);
        let g = self.local_g(i);
        for k in 0..n {
            out[cols[k]] += (0..4).map(|r| g[r][k] * y[r]).sum::<f64>();
        }
    }

    /// out += |G_i|ᵀ |y| (a scale for G_iᵀ y).
    pub(crate) fn gt_abs_add(&self, i: usize, y: [f64; 4], out: &mut [f64]) {
        let (cols, n) = self.columns(i);
        let g = self.local_g(i);
        for k in 0..n {
            out[cols[k]] += (0..4).map(|r| (g[r][k] * y[r]).abs()).sum::<f64>();
        }
    }

    /// ∂L/∂G_i = y xᵀ (for x over contact i's columns), split into the
    /// normal and tangent rows' gradients.
    pub(crate) fn g_outer(
        &self,
        i: usize,
        y: [f64; 4],
        x: &[f64],
    ) -> ([[f64; 3]; 2], [[f64; 3]; 2]) {
        let (cols, n) = self.columns(i);
        let (mut gn, mut gt) = ([[0.0; 3]; 2], [[0.0; 3]; 2]);
        for k in 0..n {
            let xk = x[cols[k]];
            gn[k / 3][k % 3] += y[0] * xk;
            gt[k / 3][k % 3] += (y[1] - y[2]) * xk;
        }
        (gn, gt)
    }

    /// Whether friction acts (μ > 0). Without it the friction cone is
    /// empty (s_γ = −λ₊ − λ₋ < 0), so the three friction pairs are
    /// decoupled instead: G's tangent rows and A are zero and c = (φ/h, 1,
    /// 1, 1), which gives s = 1, z = κ_i and no impulse.
    pub(crate) fn friction(&self) -> bool {
        self.mu > 0.0
    }

    /// A_i z_i: (0, γ, γ, μλₙ − λ₊ − λ₋).
    pub(crate) fn a_dot(&self, z: &[f64]) -> [f64; 4] {
        if !self.friction() {
            return [0.0; 4];
        }
        [0.0, z[3], z[3], self.mu * z[0] - z[1] - z[2]]
    }

    /// c_i = (c₀, 0, 0, 0) (with friction), with c₀ = φ/h (the gap at the
    /// step's end stays open) or, for an impact within the step,
    /// c₀ = e u⁻ + min(φ, 0)/h (the normal velocity after it is at least
    /// −e u⁻, plus what pushes a penetration out; the position is corrected
    /// for the time of impact afterwards). Both are φ/h where u⁻ = 0 and
    /// both are 0 at φ = 0, e = 0.
    pub(crate) fn c(&self, i: usize) -> [f64; 4] {
        let rest = if self.friction() { 0.0 } else { 1.0 };
        [self.c0(i), rest, rest, rest]
    }

    /// c₀ of contact i (see [`System::c`]).
    pub(crate) fn c0(&self, i: usize) -> f64 {
        match self.impact[i] {
            Some(u) => self.restitution * u + self.contacts[i].phi.min(0.0) / self.h,
            None => self.contacts[i].phi / self.h,
        }
    }

    /// Marks the impacts within the step: approaching contacts (u⁻ < 0,
    /// u⁻ = n·v_free) whose free motion would close the gap (φ + h u⁻ < 0).
    pub(crate) fn find_impacts(&mut self) {
        self.impact = (0..self.contacts.len())
            .map(|i| {
                let (phi, u) = (self.contacts[i].phi, self.normal_dot(i, &self.v_free));
                (u < 0.0 && phi + self.h * u < 0.0).then_some(u)
            })
            .collect();
    }

    /// n_i·v (the normal row only, whether or not friction acts).
    pub(crate) fn normal_dot(&self, i: usize, v: &[f64]) -> f64 {
        let (cols, n) = self.columns(i);
        let c = &self.contacts[i];
        (0..n).map(|k| c.n[k / 3][k % 3] * v[cols[k]]).sum()
    }

    /// out += y n_i (the normal row's transpose).
    pub(crate) fn normal_t_add(&self, i: usize, y: f64, out: &mut [f64]) {
        let (cols, n) = self.columns(i);
        let c = &self.contacts[i];
        for k in 0..n {
            out[cols[k]] += y * c.n[k / 3][k % 3];
        }
    }

    /// ∂(n_i·v)/∂(n_i) = v over the contact's columns, times y.
    pub(crate) fn normal_outer(&self, i: usize, y: f64, v: &[f64]) -> [[f64; 3]; 2] {
        let (cols, n) = self.columns(i);
        let mut g = [[0.0; 3]; 2];
        for k in 0..n {
            g[k / 3][k % 3] = y * v[cols[k]];
        }
        g
    }

    /// B⁻¹ for B = S + Z A (positive z, s): by eliminating λₙ, λ₊, λ₋ onto
    /// γ, whose pivot s_γ + z_γ(z₊/s₊ + z₋/s₋) is positive.
    pub(crate) fn b_inverse(&self, z: &[f64], s: &[f64]) -> Block {
        let mut inv = [[0.0; 4]; 4];
        if !self.friction() {
            for k in 0..4 {
                inv[k][k] = 1.0 / s[k];
            }
            return inv;
        }
        for col in 0..4 {
            let mut e = [0.0; 4];
            e[col] = 1.0;
            let x0 = e[0] / s[0];
            let pivot = s[3] + z[3] * (z[1] / s[1] + z[2] / s[2]);
            let x3 = (e[3] - z[3] * self.mu * x0 + z[3] * (e[1] / s[1] + e[2] / s[2])) / pivot;
            let x1 = (e[1] - z[1] * x3) / s[1];
            let x2 = (e[2] - z[2] * x3) / s[2];
            for (r, x) in [x0, x1, x2, x3].into_iter().enumerate() {
                inv[r][col] = x;
            }
        }
        inv
    }

    /// H = M + Σ Gᵀ B⁻¹ Z G at the iterate (z, s), factored; with each
    /// contact's B⁻¹.
    pub(crate) fn factor(&self, z: &[f64], s: &[f64]) -> Result<(Factored, Vec<Block>)> {
        let n = self.dofs();
        let pattern = self.pattern.get_or_init(|| {
            let columns: Vec<_> = (0..self.contacts.len()).map(|i| self.columns(i)).collect();
            Pattern::new(n, &columns)
        });
        let mut values = vec![0.0; pattern.row_idx.len()];
        for (j, m) in self.mass.iter().enumerate() {
            values[pattern.diag[j]] = *m;
        }
        let mut inverses = Vec::with_capacity(self.contacts.len());
        for i in 0..self.contacts.len() {
            let (zi, si) = (&z[4 * i..4 * i + 4], &s[4 * i..4 * i + 4]);
            let binv = self.b_inverse(zi, si);
            let (_, nc) = self.columns(i);
            let g = self.local_g(i);
            // K = B⁻¹ Z, then (Gᵀ K G) over the contact's columns.
            let mut kg = [[0.0; 6]; 4];
            for r in 0..4 {
                for k in 0..nc {
                    kg[r][k] = (0..4).map(|c| binv[r][c] * zi[c] * g[c][k]).sum();
                }
            }
            for p in 0..nc {
                for k in 0..nc {
                    let x: f64 = (0..4).map(|r| g[r][p] * kg[r][k]).sum();
                    values[pattern.blocks[i][6 * p + k]] += x;
                }
            }
            inverses.push(binv);
        }
        let lu = if n < SPARSE_FROM {
            let mut h = Mat::<f64>::zeros(n, n);
            pattern.for_each(&values, |r, c, x| h[(r, c)] = x);
            Lu::Dense(h.partial_piv_lu())
        } else {
            let h = SparseColMatRef::new(pattern.symbolic(), &values);
            let lu =
                SparseLu::try_new_with_symbolic(pattern.lu()?, h).map_err(|e| Error::Solve {
                    solver: "complementarity contact",
                    step: self.step,
                    iters: 0,
                    residual: f64::NAN,
                    reason: format!(
                        "the reduced body-velocity matrix H ({n} × {n}) cannot be factored: {e:?}"
                    ),
                })?;
            Lu::Sparse(lu)
        };
        let entries = pattern.entries(&values);
        Ok((Factored { entries, lu }, inverses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::pairs::{Contact, Feature};

    fn system(contacts: &[ContactRows], mu: f64) -> System<'_> {
        System {
            mass: vec![2.0, 2.0, 0.5, 1.0, 1.0, 0.2],
            v_free: vec![0.0; 6],
            contacts,
            mu,
            restitution: 0.0,
            impact: vec![None; contacts.len()],
            pattern: OnceCell::new(),
            kappa: 1e-3,
            h: 1e-2,
            step: 0,
        }
    }

    fn contact() -> ContactRows {
        ContactRows {
            contact: Contact {
                a: 0,
                b: 1,
                feature: Feature::CircleCircle,
            },
            a: 0,
            b: Some(1),
            phi: 1e-3,
            n: [[0.6, 0.8, 0.1], [-0.6, -0.8, 0.3]],
            t: [[-0.8, 0.6, 0.2], [0.8, -0.6, -0.4]],
            taper: 0.9,
            taper_d: -0.3,
        }
    }

    /// B⁻¹ from the elimination is the inverse of B = S + Z A, written out.
    #[test]
    fn b_inverse_inverts_s_plus_z_a() {
        let contacts = [contact()];
        for mu in [0.0, 0.7] {
            let sys = system(&contacts, mu);
            let (z, s) = ([0.3, 0.05, 0.02, 0.4], [0.01, 0.2, 0.3, 0.05]);
            let a = if mu > 0.0 {
                [
                    [0.0; 4],
                    [0.0, 0.0, 0.0, 1.0],
                    [0.0, 0.0, 0.0, 1.0],
                    [mu, -1.0, -1.0, 0.0],
                ]
            } else {
                [[0.0; 4]; 4]
            };
            let inv = sys.b_inverse(&z, &s);
            for r in 0..4 {
                for c in 0..4 {
                    let b_rc = |k: usize| {
                        let diag = if r == k { s[r] } else { 0.0 };
                        diag + z[r] * a[r][k]
                    };
                    let prod: f64 = (0..4).map(|k| b_rc(k) * inv[k][c]).sum();
                    let want = if r == c { 1.0 } else { 0.0 };
                    assert!(
                        (prod - want).abs() < 1e-12,
                        "μ {mu}: (B B⁻¹)[{r}][{c}] = {prod}"
                    );
                }
            }
        }
    }

    /// ⟨y, G v⟩ = ⟨Gᵀ y, v⟩, and ∂⟨y, G v⟩/∂(rows) from `g_outer`.
    #[test]
    fn g_products_are_adjoint() {
        let contacts = [contact()];
        let sys = system(&contacts, 0.5);
        let v = [0.3, -0.2, 0.5, 0.1, 0.7, -0.4];
        let y = [0.2, -0.1, 0.4, 0.3];
        let gv = sys.g_dot(0, &v);
        let mut gty = vec![0.0; 6];
        sys.gt_add(0, y, &mut gty);
        let lhs: f64 = (0..4).map(|k| y[k] * gv[k]).sum();
        let rhs: f64 = (0..6).map(|j| gty[j] * v[j]).sum();
        assert!((lhs - rhs).abs() < 1e-15);
        // ⟨y, G v⟩ is linear in the rows: its gradient dotted with the rows
        // gives it back.
        let (gn, gt) = sys.g_outer(0, y, &v);
        let c = &contacts[0];
        let back: f64 = (0..2)
            .flat_map(|s| (0..3).map(move |k| (s, k)))
            .map(|(s, k)| gn[s][k] * c.n[s][k] + gt[s][k] * c.t[s][k])
            .sum();
        assert!((back - lhs).abs() < 1e-15, "{back} vs {lhs}");
    }
    /// From 20 bodies H is factored sparse: its solutions (plain and
    /// transposed) are those of the dense LU of the same entries.
    #[test]
    fn sparse_factorisation_matches_dense() {
        let bodies = 25;
        let contacts: Vec<ContactRows> = (0..bodies - 1)
            .map(|i| ContactRows {
                a: i,
                b: Some(i + 1),
                ..contact()
            })
            .collect();
        let mut sys = system(&contacts, 0.4);
        sys.mass = (0..3 * bodies).map(|j| 1.0 + 0.1 * j as f64).collect();
        sys.v_free = vec![0.0; 3 * bodies];
        assert!(sys.dofs() >= SPARSE_FROM);
        let m = 4 * contacts.len();
        let z: Vec<f64> = (0..m).map(|k| 0.1 + 0.01 * (k % 7) as f64).collect();
        let s: Vec<f64> = (0..m).map(|k| 0.2 + 0.03 * (k % 5) as f64).collect();
        let (sparse, _) = sys.factor(&z, &s).unwrap();
        assert!(matches!(sparse.lu, Lu::Sparse(_)));
        let n = sys.dofs();
        let mut h = Mat::<f64>::zeros(n, n);
        for &(r, c, x) in &sparse.entries {
            h[(r, c)] = x;
        }
        let dense = Factored {
            entries: sparse.entries.clone(),
            lu: Lu::Dense(h.partial_piv_lu()),
        };
        let b: Vec<f64> = (0..n).map(|j| (j as f64 * 0.7).sin()).collect();
        for transpose in [false, true] {
            let x = sparse.solve(&b, transpose, 0, 0).unwrap();
            let y = dense.solve(&b, transpose, 0, 0).unwrap();
            for (x, y) in x.iter().zip(&y) {
                assert!((x - y).abs() < 1e-12 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
    }
    /// A non-finite datum (here the free velocity) is an error naming the
    /// step and iterations, never an iterate returned.
    #[test]
    fn a_non_finite_problem_is_a_solve_error() {
        let contacts = [contact()];
        let mut sys = system(&contacts, 0.5);
        sys.step = 7;
        sys.v_free[1] = f64::NAN;
        let err = sys.solve(50, 1e-10, &[]).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                Error::Solve {
                    step: 7,
                    iters: 0,
                    ..
                }
            ) && msg.contains("non-finite"),
            "{msg}"
        );
    }

    /// A singular H (equal rows) fails the solve's residual check instead of
    /// returning what the factorisation made of it.
    #[test]
    fn a_singular_matrix_is_a_solve_error() {
        let h = Mat::<f64>::from_fn(2, 2, |_, _| 1.0);
        let singular = Factored {
            entries: vec![(0, 0, 1.0), (0, 1, 1.0), (1, 0, 1.0), (1, 1, 1.0)],
            lu: Lu::Dense(h.partial_piv_lu()),
        };
        let err = singular.solve(&[1.0, 2.0], false, 3, 4).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                Error::Solve {
                    step: 3,
                    iters: 4,
                    ..
                }
            ) && msg.contains("singular or ill-conditioned"),
            "{msg}"
        );
    }
}
