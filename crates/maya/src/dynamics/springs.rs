//! Mass-spring networks: springs between particle pairs, with per-spring
//! stiffness, rest length and optional damping, scattered onto particles.
//!
//! For spring s joining a and b, with d = p_b − p_a, l = |d|, n̂ = d/l and
//! w = v_b − v_a:
//!
//! f = k_s·(l − L_s)·n̂ + c_s·(w·n̂)·n̂,  F_a += f, F_b −= f.
//!
//! Adjoint, with ḡ = ḡF_a − ḡF_b (the gradient reaching f):
//! - elastic part f_e = k(1 − L/l)·d: ∂L/∂k += (1 − L/l)(ḡ·d),
//!   ∂L/∂L_s −= k(ḡ·d)/l, ∂L/∂d += k(1 − L/l)ḡ + (kL/l³)(ḡ·d)d;
//! - damping part f_c = c(w·d)d/r with r = d·d: ∂L/∂c += (w·d)(ḡ·d)/r,
//!   ∂L/∂w += c(ḡ·d)d/r, ∂L/∂d += c[(ḡ·d)w + (w·d)ḡ − 2(w·d)(ḡ·d)d/r]/r;
//! - then ∂L/∂p_b += ∂L/∂d, ∂L/∂p_a −= ∂L/∂d (and the same for v with w).
//!
//! Coincident endpoints (l = 0): a spring of rest length 0 exerts no force
//! there (its force k·d is 0); one of rest length L > 0 has no direction to
//! push along, an [`Error::Parameter`] naming the spring and the particles.
//!
//! For implicit schemes, the Jacobian of f in d is
//! K = k[(1 − L/l)·I + (L/l³)·d dᵀ] + c/r·[d wᵀ + (w·d)·I − 2(w·d)·d dᵀ/r]
//! and in w, C = c·d dᵀ/r; the potential is ½k(l − L)² (undamped springs).

mod elastic;
mod lanes;

use super::checks::{check_entries, env, envs, in_env};
use crate::error::{Error, Result};
use crate::physics::{Element, NodeGrads, Nodes, StabilityLimit, Triplets};
use crate::tensor::Tensor;

/// The topology of a spring network: spring s joins particles `a[s]` and
/// `b[s]`. Stiffness, rest lengths and damping are tape values given to
/// [`ParticleSystem::with_springs`](crate::dynamics::ParticleSystem::with_springs).
///
/// ```
/// use maya::dynamics::SpringNetwork;
/// let net = SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap();
/// assert_eq!(net.len(), 2);
/// assert!(SpringNetwork::new(3, vec![(0, 3)]).is_err()); // index out of range
/// ```
#[derive(Clone, Debug)]
pub struct SpringNetwork {
    n: usize,
    a: Vec<usize>,
    b: Vec<usize>,
    /// `(a[s], b[s])` as 32-bit indices for the fast loops; empty when an
    /// index does not fit.
    ends: Vec<[u32; 2]>,
    damped: bool,
}

impl SpringNetwork {
    /// A network on `n` particles with springs between the given pairs.
    /// Errors with [`Error::Index`] for an index ≥ `n`, and with
    /// [`Error::Parameter`] for a spring joining a particle to itself.
    pub fn new(n: usize, pairs: Vec<(usize, usize)>) -> Result<SpringNetwork> {
        for &(a, b) in &pairs {
            for i in [a, b] {
                if i >= n {
                    return Err(Error::Index {
                        op: "SpringNetwork::new",
                        index: i,
                        len: n,
                    });
                }
            }
            if a == b {
                return Err(Error::Parameter {
                    name: "spring endpoint",
                    value: a as f64,
                    reason: "a spring must join two different particles",
                });
            }
        }
        let ends = pairs
            .iter()
            .map(|&(a, b)| Some([u32::try_from(a).ok()?, u32::try_from(b).ok()?]))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let (a, b) = pairs.into_iter().unzip();
        Ok(SpringNetwork {
            n,
            a,
            b,
            ends,
            damped: false,
        })
    }

    /// A `rows × cols` grid (particle `i·cols + j` at row i, column j) with
    /// structural springs (i,j)–(i+1,j) and (i,j)–(i,j+1) and shear springs
    /// (i,j)–(i+1,j+1) and (i+1,j)–(i,j+1), in the order of the W3
    /// benchmark: for each (i, j), those four where they exist.
    ///
    /// ```
    /// use maya::dynamics::SpringNetwork;
    /// // 2×2: 2 + 2 structural, 2 shear.
    /// assert_eq!(SpringNetwork::grid(2, 2).len(), 6);
    /// ```
    pub fn grid(rows: usize, cols: usize) -> SpringNetwork {
        let id = |i: usize, j: usize| i * cols + j;
        let mut pairs = Vec::new();
        for i in 0..rows {
            for j in 0..cols {
                if i + 1 < rows {
                    pairs.push((id(i, j), id(i + 1, j)));
                }
                if j + 1 < cols {
                    pairs.push((id(i, j), id(i, j + 1)));
                }
                if i + 1 < rows && j + 1 < cols {
                    pairs.push((id(i, j), id(i + 1, j + 1)));
                    pairs.push((id(i + 1, j), id(i, j + 1)));
                }
            }
        }
        SpringNetwork::new(rows * cols, pairs).expect("grid indices are in range")
    }

    /// Positions of a `rows × cols` grid: particle `i·cols + j` at
    /// `origin + (spacing·i, spacing·j)`, shape `[rows·cols, 2]`.
    pub fn grid_positions(rows: usize, cols: usize, spacing: f64, origin: [f64; 2]) -> Tensor {
        Tensor::from_fn(&[rows * cols, 2], |ix| {
            let (i, j) = (ix[0] / cols, ix[0] % cols);
            let along = if ix[1] == 0 { i } else { j };
            origin[ix[1]] + spacing * along as f64
        })
    }

    /// The length of every spring at positions `p` (`[N, D]`): rest lengths
    /// that make `p` the rest state.
    #[track_caller]
    pub fn lengths(&self, p: &Tensor) -> Tensor {
        let d = *p.shape.last().expect("positions have shape [N, D]");
        assert_eq!(
            p.numel(),
            self.n * d,
            "lengths: positions must have shape [{}, D]",
            self.n
        );
        let data = self
            .a
            .iter()
            .zip(&self.b)
            .map(|(&a, &b)| {
                let mut l2 = 0.0;
                for k in 0..d {
                    let x = p.data[b * d + k] - p.data[a * d + k];
                    l2 += x * x;
                }
                l2.sqrt()
            })
            .collect();
        Tensor::from_data(data, vec![self.len()])
    }

    /// Number of springs.
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// Whether there is no spring.
    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// Number of particles the network was built for.
    pub fn num_particles(&self) -> usize {
        self.n
    }

    /// The spring endpoints `(a, b)`.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.a.iter().copied().zip(self.b.iter().copied())
    }

    /// Whether the fixed-size loops of [`elastic`] run this network with
    /// `d` coordinates per node.
    fn fast(&self, d: usize) -> bool {
        !self.damped && (d == 2 || d == 3) && self.ends.len() == self.a.len()
    }

    /// The undamped network with stiffness `k` and rest lengths `rest`.
    fn elastic<'a>(&'a self, k: &'a [f64], rest: &'a [f64]) -> elastic::Springs<'a> {
        elastic::Springs {
            ends: &self.ends,
            k,
            rest,
        }
    }

    /// The same network, with a damping parameter per spring.
    pub(crate) fn damped(mut self, on: bool) -> SpringNetwork {
        self.damped = on;
        self
    }
}

/// The error for spring `sp` whose endpoints coincide (l = 0) with a
/// non-zero rest length; `None` for rest length 0 (no force there).
#[cold]
fn coincident(net: &SpringNetwork, sp: usize, rest: f64) -> Option<Error> {
    (rest != 0.0).then(|| Error::CoincidentParticles {
        spring: sp,
        a: net.a[sp],
        b: net.b[sp],
        rest,
    })
}

impl Element for SpringNetwork {
    type Saved = ();

    fn name(&self) -> &'static str {
        "springs"
    }

    fn param_names(&self) -> &'static [&'static str] {
        if self.damped {
            &["spring stiffness", "spring rest length", "spring damping"]
        } else {
            &["spring stiffness", "spring rest length"]
        }
    }

    fn param_shapes(&self, _n: usize, _spatial: usize) -> Vec<Vec<usize>> {
        vec![vec![self.len()]; 2 + self.damped as usize]
    }

    fn check(&self, n: usize, d: usize) -> Result<()> {
        if d > 8 {
            return Err(Error::Parameter {
                name: "spatial dimension",
                value: d as f64,
                reason: "springs support up to 8 dimensions",
            });
        }
        if n != self.n {
            return Err(Error::Shape {
                op: "springs",
                lhs: vec![self.n],
                rhs: vec![n],
                hint: "the spring network was built for another number of particles",
            });
        }
        Ok(())
    }

    /// Stiffness, rest length and damping finite and ≥ 0; under an
    /// explicit scheme each spring within its stability bound on its
    /// effective mass m_a·m_b/(m_a + m_b) (a necessary condition for the
    /// network, see [`StabilityLimit`]).
    fn check_values(
        &self,
        params: &[&Tensor],
        masses: &Tensor,
        limit: Option<&StabilityLimit>,
    ) -> Result<()> {
        let s = self.len();
        let what = ["stiffness", "rest length", "damping"];
        for (x, what) in params.iter().zip(what) {
            check_entries(x, s, true, |i| format!("{what} of spring {i}"))?;
        }
        let Some(limit) = limit else {
            return Ok(());
        };
        let mut counts: Vec<Option<usize>> = params.iter().map(|x| envs(x, s)).collect();
        counts.push(envs(masses, self.n));
        let Some(counts) = counts.into_iter().collect::<Option<Vec<usize>>>() else {
            return Ok(()); // shapes the step reports
        };
        let batch = counts.iter().copied().max().unwrap_or(1);
        if counts.iter().any(|&x| x != 1 && x != batch) {
            return Ok(());
        }
        for b in 0..batch {
            let (k, m) = (env(params[0], s, b), env(masses, self.n, b));
            let c = params.get(2).map(|c| env(c, s, b));
            for sp in 0..s {
                let (ia, ib) = (self.a[sp], self.b[sp]);
                let (ma, mb) = (m[ia], m[ib]);
                let damping = c.map_or(0.0, |c| c[sp]);
                limit.check(
                    || {
                        format!(
                            "spring {sp} between particles {ia} and {ib}{} (effective mass m_a·m_b/(m_a + m_b))",
                            in_env(batch > 1, b)
                        )
                    },
                    k[sp],
                    damping,
                    ma * mb / (ma + mb),
                )?;
            }
        }
        Ok(())
    }

    fn force(&self, s: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<()> {
        let (k, rest, d) = (params[0], params[1], s.dim);
        if self.fast(d) {
            let net = self.elastic(k, rest);
            let coincident = |sp: usize| coincident(self, sp, rest[sp]);
            return match d {
                2 => elastic::force::<2>(&net, s.q, f, coincident),
                _ => elastic::force::<3>(&net, s.q, f, coincident),
            };
        }
        let damping = params.get(2);
        let mut dv = [0.0; 8];
        let mut w = [0.0; 8];
        for sp in 0..self.a.len() {
            let (ia, ib) = (self.a[sp], self.b[sp]);
            let mut l2 = 0.0;
            for q in 0..d {
                dv[q] = s.q[ib * d + q] - s.q[ia * d + q];
                l2 += dv[q] * dv[q];
            }
            if l2 == 0.0 {
                match coincident(self, sp, rest[sp]) {
                    Some(e) => return Err(e),
                    None => continue, // rest length 0 at l = 0: no force
                }
            }
            let l = l2.sqrt();
            let m = k[sp] * (l - rest[sp]) / l;
            let mut damp = 0.0;
            if let Some(c) = damping {
                let mut wd = 0.0;
                for q in 0..d {
                    w[q] = s.v[ib * d + q] - s.v[ia * d + q];
                    wd += w[q] * dv[q];
                }
                damp = c[sp] * wd / l2;
            }
            for q in 0..d {
                let fq = m * dv[q] + damp * dv[q];
                f[ia * d + q] += fq;
                f[ib * d + q] -= fq;
            }
        }
        Ok(())
    }

    fn vjp(
        &self,
        _: &(),
        s: &Nodes,
        params: &[&[f64]],
        grad_f: &[f64],
        g: &mut NodeGrads,
    ) -> Result<()> {
        let (k, rest, d) = (params[0], params[1], s.dim);
        if self.fast(d) {
            let net = self.elastic(k, rest);
            let coincident = |sp: usize| coincident(self, sp, rest[sp]);
            let [gk, grest] = &mut g.params[..2] else {
                unreachable!("springs have a stiffness and a rest length")
            };
            let grads = elastic::ElasticGrads {
                q: &mut *g.q,
                k: g.needs_params[0].then_some(&mut gk[..]),
                rest: g.needs_params[1].then_some(&mut grest[..]),
            };
            return match d {
                2 => elastic::vjp::<2>(&net, s.q, grad_f, grads, coincident),
                _ => elastic::vjp::<3>(&net, s.q, grad_f, grads, coincident),
            };
        }
        let damping = params.get(2);
        let (mut dv, mut gf, mut w, mut gd) = ([0.0; 8], [0.0; 8], [0.0; 8], [0.0; 8]);
        for sp in 0..self.a.len() {
            let (ia, ib) = (self.a[sp], self.b[sp]);
            let (mut l2, mut gfd) = (0.0, 0.0);
            for q in 0..d {
                dv[q] = s.q[ib * d + q] - s.q[ia * d + q];
                gf[q] = grad_f[ia * d + q] - grad_f[ib * d + q];
                l2 += dv[q] * dv[q];
                gfd += gf[q] * dv[q];
            }
            let (ks, ls) = (k[sp], rest[sp]);
            if l2 == 0.0 {
                if let Some(e) = coincident(self, sp, ls) {
                    return Err(e);
                }
                // f = k·d near l = L = 0: ∂f/∂d = k·I, ∂f/∂k = d = 0.
                for q in 0..d {
                    g.q[ib * d + q] += ks * gf[q];
                    g.q[ia * d + q] -= ks * gf[q];
                }
                continue;
            }
            let l = l2.sqrt();
            g.params[0][sp] += gfd * (l - ls) / l;
            g.params[1][sp] -= ks * gfd / l;
            let m = ks * (1.0 - ls / l);
            let qd = ks * ls / (l * l2) * gfd;
            for q in 0..d {
                gd[q] = m * gf[q] + qd * dv[q];
            }
            if let Some(c) = damping {
                let cs = c[sp];
                let mut wd = 0.0;
                for q in 0..d {
                    w[q] = s.v[ib * d + q] - s.v[ia * d + q];
                    wd += w[q] * dv[q];
                }
                g.params[2][sp] += wd * gfd / l2;
                for q in 0..d {
                    let gw = cs * gfd * dv[q] / l2;
                    g.v[ib * d + q] += gw;
                    g.v[ia * d + q] -= gw;
                    gd[q] += cs * (gfd * w[q] + wd * gf[q] - 2.0 * wd * gfd * dv[q] / l2) / l2;
                }
            }
            for q in 0..d {
                g.q[ib * d + q] += gd[q];
                g.q[ia * d + q] -= gd[q];
            }
        }
        Ok(())
    }

    fn jacobian(&self, s: &Nodes, params: &[&[f64]], s_v: f64, out: &mut Triplets) -> Result<()> {
        let (k, rest, d) = (params[0], params[1], s.dim);
        let damping = params.get(2);
        let (mut dv, mut w) = ([0.0; 8], [0.0; 8]);
        let mut blk = [[0.0; 8]; 8];
        for sp in 0..self.a.len() {
            let (ia, ib) = (self.a[sp], self.b[sp]);
            let mut l2 = 0.0;
            for q in 0..d {
                dv[q] = s.q[ib * d + q] - s.q[ia * d + q];
                w[q] = s.v[ib * d + q] - s.v[ia * d + q];
                l2 += dv[q] * dv[q];
            }
            let (ks, ls) = (k[sp], rest[sp]);
            if l2 == 0.0
                && let Some(e) = coincident(self, sp, ls)
            {
                return Err(e);
            }
            // K (∂f/∂d) + s_v·C (∂f/∂w), f the force on a.
            let ratio = if l2 == 0.0 { 1.0 } else { 1.0 - ls / l2.sqrt() };
            for r in 0..d {
                for c in 0..d {
                    blk[r][c] = if r == c { ks * ratio } else { 0.0 };
                    if l2 > 0.0 {
                        blk[r][c] += ks * ls / (l2 * l2.sqrt()) * dv[r] * dv[c];
                    }
                }
            }
            if let (Some(c), true) = (damping, l2 > 0.0) {
                let cs = c[sp];
                let wd: f64 = (0..d).map(|q| w[q] * dv[q]).sum();
                for r in 0..d {
                    for cc in 0..d {
                        let mut x = dv[r] * w[cc] - 2.0 * wd * dv[r] * dv[cc] / l2;
                        if r == cc {
                            x += wd;
                        }
                        blk[r][cc] += cs / l2 * x + s_v * cs * dv[r] * dv[cc] / l2;
                    }
                }
            }
            // F_a = f(d), F_b = −f(d), d = q_b − q_a: −∂F/∂q has +K on the
            // diagonal blocks (a,a), (b,b) and −K off them.
            let (oa, ob) = (ia * d, ib * d);
            for r in 0..d {
                for c in 0..d {
                    let x = blk[r][c];
                    out.push(oa + r, oa + c, x);
                    out.push(ob + r, ob + c, x);
                    out.push(oa + r, ob + c, -x);
                    out.push(ob + r, oa + c, -x);
                }
            }
        }
        Ok(())
    }

    fn potential(&self, s: &Nodes, params: &[&[f64]], _dt: f64) -> Option<f64> {
        if self.damped {
            return None;
        }
        let (k, rest, d) = (params[0], params[1], s.dim);
        let mut e = 0.0;
        for sp in 0..self.a.len() {
            let (ia, ib) = (self.a[sp], self.b[sp]);
            let l2: f64 = (0..d)
                .map(|q| (s.q[ib * d + q] - s.q[ia * d + q]).powi(2))
                .sum();
            e += 0.5 * k[sp] * (l2.sqrt() - rest[sp]).powi(2);
        }
        Some(e)
    }
}
