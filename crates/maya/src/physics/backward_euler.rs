//! Backward Euler: the implicit scheme of the pipeline. Each step solves
//!
//! ```text
//! r(x) = M (x − q − dt·v)/dt² − F(x, (x − q)/dt) = 0,   q' = x, v' = (x − q)/dt
//! ```
//!
//! for x by Newton with a line search on the incremental potential
//! E(x) = ½‖x − q − dt·v‖²_M/dt² + Σ U(x) (when every force has a
//! potential), with the Jacobian J = M/dt² − ∂F/∂q − (1/dt)·∂F/∂v
//! assembled sparse and factored by faer (Cholesky when symmetric, LU
//! otherwise). Its adjoint is the implicit function theorem at the
//! converged x: with ḡx = ḡq' + ḡv'/dt, one transposed solve Jᵀλ = ḡx with
//! the factorisation Newton ended with, then ∂L/∂θ = −λᵀ ∂r/∂θ for θ =
//! (q, v, masses, parameters): the forces' own adjoints with ḡF = λ give
//! λᵀ∂F/∂θ, so no new derivative is written. Newton's iterations are never
//! unrolled.
//!
//! A fixed node j (`StepSpec::fixed`) has no force term: r_j = m(x_j −
//! q_j − dt·v_j)/dt², so it moves at its velocity. Its Jacobian row is
//! the mass alone and its column is dropped from the other rows (Newton
//! starts at q + dt·v, where the fixed rows already hold, so dx_j = 0 and
//! the dropped column never acts): the matrix stays symmetric. The
//! adjoint puts the dropped coupling back: λ_j = (ḡ_j − (Cᵀλ)_j)·dt²/m_j
//! with C = ∂r_free/∂x_j, from the forces' own adjoints.
//!
//! Stable for any dt (it is L-stable): a stiff cloth that explodes under an
//! explicit scheme steps through. A solve that does not converge, a
//! singular Jacobian or a failed line search is [`Error::Solve`] naming the
//! step, the iterations and the residual.

use super::layout::{Chunk, ChunkGrads, Layout, MassModel};
use super::local::{forces_dyn, vjps_dyn, LocalForces};
use super::spec::{element_adjoints, StepSpec};
use crate::error::{Error, Result};
use crate::tape::{
    try_newton_solve, Factorization, ImplicitProblem, Kernel, NewtonOptions, Triplets,
};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The step of one environment as a root-finding problem in x = q'.
struct EnvProblem<L> {
    spec: Arc<StepSpec<L>>,
    lay: Layout,
    env: usize,
    /// Whether every force has a potential: J is then symmetric.
    symmetric: bool,
    /// A quasi-static solve: no inertia on the free nodes and no
    /// velocities in the forces (see [`BackwardEulerStep::quasi_static`]).
    quasi_static: bool,
}

impl<L: LocalForces> EnvProblem<L> {
    fn chunk(&self) -> Chunk {
        Chunk {
            b: self.env,
            lo: 0,
            hi: self.lay.n,
        }
    }

    /// The inertia weight of coordinate j in the residual: its mass, or
    /// 0 for a free node of a quasi-static solve.
    fn inertia(&self, theta: &[&Tensor], j: usize) -> f64 {
        if self.quasi_static && !self.spec.is_fixed(j / self.lay.dim) {
            0.0
        } else {
            self.mass(theta, j)
        }
    }

    /// The mass of coordinate j (m, or I for a rigid body's angle).
    fn mass(&self, theta: &[&Tensor], j: usize) -> f64 {
        let (i, k) = (j / self.lay.dim, j % self.lay.dim);
        let r = self.lay.node_range(self.chunk());
        if k < self.lay.spatial || self.lay.model == MassModel::Particle {
            theta[2].data[r.start + i]
        } else {
            theta[3].data[r.start + i]
        }
    }

    /// (q, v) of the step's start and v' = (x − q)/dt (0 in a
    /// quasi-static solve).
    fn states<'a>(&self, theta: &[&'a Tensor], x: &[f64]) -> (&'a [f64], &'a [f64], Vec<f64>) {
        let r = self.lay.coords(self.chunk());
        let (q, v) = (&theta[0].data[r.clone()], &theta[1].data[r]);
        let dt = self.spec.dt;
        let v1 = if self.quasi_static {
            vec![0.0; x.len()]
        } else {
            x.iter().zip(q).map(|(x, q)| (x - q) / dt).collect()
        };
        (q, v, v1)
    }

    /// ∂v'/∂x: 1/dt, or 0 in a quasi-static solve.
    fn s_v(&self) -> f64 {
        if self.quasi_static {
            0.0
        } else {
            1.0 / self.spec.dt
        }
    }

    /// F(x, v') into `f`, with every element's saved state.
    fn forces(
        &self,
        theta: &[&Tensor],
        x: &[f64],
        v1: &[f64],
        f: &mut [f64],
    ) -> Result<Vec<Box<dyn std::any::Any + Send + Sync>>> {
        let (lay, spec) = (&self.lay, &*self.spec);
        let nodes = lay.nodes(theta, x, v1, self.chunk());
        let params = lay.env_params(theta, self.env);
        let n_local = spec.n_local_params(lay);
        let mut rest = &params[n_local..];
        let mut saved = Vec::new();
        for (e, np) in &spec.elements {
            let (mine, others) = rest.split_at(*np);
            saved.push(e.force(&nodes, mine, f)?);
            rest = others;
        }
        let env = spec.local.unpack(lay.spatial, &params[..n_local]);
        let d = lay.dim;
        forces_dyn(&spec.local, &env, d, lay.spatial, x, v1, nodes.mass, f);
        Ok(saved)
    }
}

impl<L: LocalForces> ImplicitProblem for EnvProblem<L> {
    fn name(&self) -> &'static str {
        if self.quasi_static {
            "static equilibrium"
        } else {
            "backward Euler"
        }
    }

    fn residual(&self, x: &[f64], theta: &[&Tensor], r: &mut [f64]) -> Result<()> {
        let (q, v, v1) = self.states(theta, x);
        self.forces(theta, x, &v1, r)?;
        let dt2 = self.spec.dt * self.spec.dt;
        let d = self.lay.dim;
        for j in 0..x.len() {
            let f = if self.spec.is_fixed(j / d) { 0.0 } else { r[j] };
            r[j] = self.inertia(theta, j) * (x[j] - q[j] - self.spec.dt * v[j]) / dt2 - f;
        }
        Ok(())
    }

    fn jacobian(&self, x: &[f64], theta: &[&Tensor], jac: &mut Triplets) -> Result<()> {
        let (lay, spec) = (&self.lay, &*self.spec);
        let (_, _, v1) = self.states(theta, x);
        let (dt, d) = (spec.dt, lay.dim);
        for j in 0..x.len() {
            jac.push(j, j, self.inertia(theta, j) / (dt * dt));
        }
        let nodes = lay.nodes(theta, x, &v1, self.chunk());
        let params = lay.env_params(theta, self.env);
        let n_local = spec.n_local_params(lay);
        let env = spec.local.unpack(lay.spatial, &params[..n_local]);
        let mut block = vec![0.0; d * d];
        for i in 0..nodes.len() {
            if spec.is_fixed(i) {
                continue;
            }
            block.iter_mut().for_each(|b| *b = 0.0);
            spec.local.jacobian_node(
                &env,
                d,
                lay.spatial,
                &x[i * d..(i + 1) * d],
                nodes.mass[i],
                self.s_v(),
                &mut block,
            )?;
            for r in 0..d {
                for c in 0..d {
                    jac.push(i * d + r, i * d + c, block[r * d + c]);
                }
            }
        }
        let mut rest = &params[n_local..];
        let mut coupled = Triplets::new();
        for (e, np) in &spec.elements {
            let (mine, others) = rest.split_at(*np);
            match spec.fixed {
                None => e.jacobian(&nodes, mine, self.s_v(), jac)?,
                Some(_) => e.jacobian(&nodes, mine, self.s_v(), &mut coupled)?,
            }
            rest = others;
        }
        // Fixed rows hold no force, and their columns are dropped (see the
        // module's doc).
        for (r, c, value) in coupled.iter() {
            if !spec.is_fixed(r / d) && !spec.is_fixed(c / d) {
                jac.push(r, c, value);
            }
        }
        Ok(())
    }

    fn vjp_theta(
        &self,
        x: &[f64],
        theta: &[&Tensor],
        w: &[f64],
        grad_theta: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let (lay, spec) = (&self.lay, &*self.spec);
        let (q, v, v1) = self.states(theta, x);
        let (dt, d) = (spec.dt, lay.dim);
        let c = self.chunk();
        let nodes = lay.nodes(theta, x, &v1, c);
        let params = lay.env_params(theta, self.env);
        let n_local = spec.n_local_params(lay);
        let first = lay.model.first_param();
        let needs_mass = needs_grad[2..first].iter().any(|&b| b);
        // Fixed rows hold no force: the forces' adjoints see w without them.
        let mut w = w.to_vec();
        let w_fixed: Vec<f64> = (0..x.len())
            .map(|j| {
                if spec.is_fixed(j / d) {
                    std::mem::take(&mut w[j])
                } else {
                    0.0
                }
            })
            .collect();
        let w_forces = &w[..];
        // The forces' adjoints with ḡF = w: A_v = wᵀ∂F/∂v', A_m, A_θ.
        let mut grads = ChunkGrads::new(lay, c, true);
        let (mut a_q, mut a_v) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let env = spec.local.unpack(lay.spatial, &params[..n_local]);
        let mut acc = [0.0; super::LOCAL_PARAMS_MAX];
        vjps_dyn(
            &spec.local,
            &env,
            d,
            lay.spatial,
            (x, &v1, nodes.mass),
            w_forces,
            (&mut a_q, &mut a_v, &mut grads.mass),
            &mut acc,
        );
        spec.local
            .scatter(lay.spatial, &acc, &mut grads.params[..n_local]);
        let saved = {
            let mut f = vec![0.0; x.len()];
            self.forces(theta, x, &v1, &mut f)?
        };
        element_adjoints(
            &spec.elements,
            &saved,
            &nodes,
            &params[n_local..],
            n_local,
            w_forces,
            &mut a_q,
            &mut a_v,
            &mut grads,
            needs_mass,
            &needs_grad[first..],
        )?;
        // wᵀ∂r/∂θ = −wᵀ∂F/∂θ for masses and parameters (r = M(…) − F).
        grads.mass.iter_mut().for_each(|g| *g = -*g);
        grads.inertia.iter_mut().for_each(|g| *g = -*g);
        grads.params.iter_mut().flatten().for_each(|g| *g = -*g);
        let dt2 = dt * dt;
        // A fixed coordinate's multiplier with the dropped coupling put
        // back: w_j += (Cᵀ λ)_j·dt²/m_j, (Cᵀλ)_j = −(a_q + a_v/dt)_j.
        for j in 0..x.len() {
            if spec.is_fixed(j / d) {
                w[j] = w_fixed[j] + (a_q[j] + a_v[j] * self.s_v()) * dt2 / self.mass(theta, j);
            }
        }
        for j in 0..x.len() {
            let (i, k) = (j / d, j % d);
            let m = self.inertia(theta, j);
            // ∂r/∂M = (x − q − dt v)/dt² where inertia acts.
            let gm = if m == 0.0 {
                0.0
            } else {
                w[j] * (x[j] - q[j] - dt * v[j]) / dt2
            };
            if k < lay.spatial || lay.model == MassModel::Particle {
                grads.mass[i] += gm;
            } else {
                grads.inertia[i] += gm;
            }
            // ∂r/∂q = −M/dt² + (1/dt)∂F/∂v', ∂r/∂v = −M/dt.
            let r = lay.coords(c);
            grad_theta[0].data[r.start + j] += -w[j] * m / dt2 + a_v[j] * self.s_v();
            grad_theta[1].data[r.start + j] += -w[j] * m / dt;
        }
        grads.add_into(lay, c, grad_theta);
        Ok(())
    }

    fn merit(&self, x: &[f64], theta: &[&Tensor]) -> Option<f64> {
        let (lay, spec) = (&self.lay, &*self.spec);
        let (q, v, v1) = self.states(theta, x);
        let (dt, d) = (spec.dt, lay.dim);
        let nodes = lay.nodes(theta, x, &v1, self.chunk());
        let params = lay.env_params(theta, self.env);
        let n_local = spec.n_local_params(lay);
        let env = spec.local.unpack(lay.spatial, &params[..n_local]);
        let mut e = 0.0;
        for j in 0..x.len() {
            let y = x[j] - q[j] - dt * v[j];
            e += 0.5 * self.inertia(theta, j) * y * y / (dt * dt);
        }
        for i in 0..nodes.len() {
            let r = i * d..(i + 1) * d;
            e += spec.local.potential_node(
                &env,
                d,
                lay.spatial,
                &x[r.clone()],
                &v1[r],
                nodes.mass[i],
                dt,
            )?;
        }
        let mut rest = &params[n_local..];
        for (el, np) in &spec.elements {
            let (mine, others) = rest.split_at(*np);
            e += el.potential(&nodes, mine, dt)?;
            rest = others;
        }
        Some(e)
    }

    fn symmetric(&self) -> bool {
        self.symmetric
    }
}

/// One backward-Euler step as a tape node: inputs `[q, v, m, (I,)
/// params…]`, outputs `[q', v']`; saves the factorisation of J(q') per
/// environment when an input needs a gradient.
pub(crate) struct BackwardEulerStep<L> {
    pub spec: Arc<StepSpec<L>>,
    pub options: NewtonOptions,
    /// Solve for static equilibrium instead of a step: F(x, 0) = 0 on the
    /// free nodes, x = q on the fixed ones (their prescribed positions);
    /// q's free entries are Newton's initial guess, and v' = 0.
    pub quasi_static: bool,
}

impl<L: LocalForces> BackwardEulerStep<L> {
    /// The problem of environment `env`; symmetric when every force has a
    /// potential (conservative forces and drag have symmetric Jacobians).
    fn problem(&self, lay: &Layout, env: usize, inputs: &[&Tensor]) -> EnvProblem<L> {
        let mut p = EnvProblem {
            spec: Arc::clone(&self.spec),
            lay: lay.clone(),
            env,
            symmetric: false,
            quasi_static: self.quasi_static,
        };
        let r = lay.coords(p.chunk());
        p.symmetric = p.merit(&inputs[0].data[r], inputs).is_some();
        p
    }

    pub(crate) fn step_into(
        &self,
        inputs: &[&Tensor],
        factor: bool,
        q1: &mut Tensor,
        v1: &mut Tensor,
    ) -> Result<Vec<Option<Factorization>>> {
        let lay = self.spec.layout(self.spec.model.op_name(), inputs)?;
        let dt = self.spec.dt;
        let mut saved = Vec::new();
        for b in 0..lay.batch {
            let problem = self.problem(&lay, b, inputs);
            let r = lay.coords(problem.chunk());
            let (q, v) = (&inputs[0].data[r.clone()], &inputs[1].data[r.clone()]);
            // The explicit prediction q + dt·v starts Newton, or, if it
            // turns an element inside out, q itself (fixed nodes still at
            // q + dt·v, where their rows hold).
            let mut x0: Vec<f64> = if self.quasi_static {
                q.to_vec()
            } else {
                q.iter().zip(v).map(|(q, v)| q + dt * v).collect()
            };
            let mut scratch = vec![0.0; x0.len()];
            if let Err(Error::InvertedElement { .. }) = problem.residual(&x0, inputs, &mut scratch)
            {
                let d = lay.dim;
                for (j, x) in x0.iter_mut().enumerate() {
                    if !self.spec.is_fixed(j / d) {
                        *x = q[j];
                    }
                }
            }
            let sol = try_newton_solve(&problem, &x0, inputs, &self.options, factor)?;
            for (j, &x) in sol.x.iter().enumerate() {
                q1.data[r.start + j] = x;
                v1.data[r.start + j] = if self.quasi_static {
                    0.0
                } else {
                    (x - q[j]) / dt
                };
            }
            saved.push(sol.factorization);
        }
        Ok(saved)
    }
}

impl<L: LocalForces> Kernel for BackwardEulerStep<L> {
    type Saved = Vec<Option<Factorization>>;

    fn name(&self) -> &'static str {
        "backward_euler"
    }

    fn forward(
        &self,
        inputs: &[&Tensor],
        needs_grad: &[bool],
    ) -> Result<(Vec<Tensor>, Self::Saved)> {
        let mut q1 = Tensor::zeros(&inputs[0].shape);
        let mut v1 = Tensor::zeros(&inputs[1].shape);
        let saved = self.step_into(inputs, needs_grad.iter().any(|&b| b), &mut q1, &mut v1)?;
        Ok((vec![q1, v1], saved))
    }

    fn vjp(
        &self,
        saved: &Self::Saved,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [&mut Tensor],
        needs_grad: &[bool],
    ) -> Result<()> {
        let lay = self.spec.layout(self.spec.model.op_name(), inputs)?;
        for (b, factor) in saved.iter().enumerate() {
            let problem = self.problem(&lay, b, inputs);
            let r = lay.coords(problem.chunk());
            let factor = factor.as_ref().ok_or(Error::Unsupported {
                what: "backward Euler adjoint",
                reason: "the forward pass kept no factorisation",
            })?;
            // q' = x, v' = (x − q)/dt: ḡx = ḡq' + ḡv'/dt, ∂L/∂q −= ḡv'/dt.
            let (gq1, gv1) = (
                &grad_outputs[0].data[r.clone()],
                &grad_outputs[1].data[r.clone()],
            );
            // (Quasi-static: v' = 0, ḡx = ḡq'.)
            let s_v = problem.s_v();
            let mut lambda: Vec<f64> = gq1.iter().zip(gv1).map(|(gq, gv)| gq + gv * s_v).collect();
            for (g, gv) in grad_inputs[0].data[r.clone()].iter_mut().zip(gv1) {
                *g -= gv * s_v;
            }
            factor.solve_transpose_in_place(&mut lambda);
            if !lambda.iter().all(|x| x.is_finite()) {
                return Err(Error::NonFinite {
                    what: "backward Euler adjoint λ = J⁻ᵀ ∂L/∂q'".into(),
                    step: self.options.step,
                });
            }
            lambda.iter_mut().for_each(|l| *l = -*l);
            problem.vjp_theta(
                &outputs[0].data[r],
                inputs,
                &lambda,
                grad_inputs,
                needs_grad,
            )?;
        }
        Ok(())
    }
}
