//! `cloth`: choose the stiffness of every spring of a hanging grid (W3's
//! structural and shear springs) so that it sags into a target shape.
//!
//! An n × n grid hangs from its top row (pinned: after each step its
//! positions and velocities are reset through a mask, p' = p + m ⊙ (p̃ − p),
//! v' = m ⊙ ṽ, which the tape differentiates), under gravity with drag.
//! The target is the shape reached with a hidden stiffness pattern (stiff
//! at the sides, soft in the middle); the fit starts from uniform stiffness
//! and runs Adam on θ = ln k (one entry per spring), minimising
//! L = |p_T(k) − p_target|².

use super::{snapshot_iters, Curve, DemoOptions, DemoReport, Figure};
use crate::dynamics::{ParticleSystem, SpringNetwork};
use crate::error::Result;
use crate::optim::{minimize_with, Adam, MinimizeOptions};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

const DT: f64 = 0.005;
const SPACING: f64 = 0.1;
const UNIFORM_K: f64 = 300.0;

struct Cloth {
    side: usize,
    steps: usize,
    network: SpringNetwork,
    rest: Tensor,
    p0: Tensor,
    mask: Tensor,
    target: Tensor,
}

impl Cloth {
    fn new(side: usize, steps: usize) -> Result<Cloth> {
        let network = SpringNetwork::grid(side, side);
        // grid_positions puts row i at x = spacing·i; use it as a sheet in
        // the (x, y) plane hanging from its top row (j = side − 1).
        let p0 = SpringNetwork::grid_positions(side, side, SPACING, [0.0, 0.0]);
        let rest = network.lengths(&p0);
        let mask = Tensor::from_fn(&[side * side, 1], |ij| {
            if ij[0] % side == side - 1 {
                0.0
            } else {
                1.0
            }
        });
        let mut cloth = Cloth {
            side,
            steps,
            network,
            rest,
            p0,
            mask,
            target: Tensor::default(),
        };
        let hidden = cloth.hidden_stiffness();
        let t = TensorTape::new();
        cloth.target = cloth.simulate(&t, &t.constant(hidden))?.value();
        Ok(cloth)
    }

    /// The hidden pattern: k = 300 · (0.3 + 2.7 s²), s the spring's distance
    /// from the vertical centre line, scaled to [0, 1].
    fn hidden_stiffness(&self) -> Tensor {
        let centre = (self.side - 1) as f64 * SPACING / 2.0;
        let k: Vec<f64> = self
            .network
            .pairs()
            .map(|(a, b)| {
                let x = 0.5 * (self.p0.data[2 * a] + self.p0.data[2 * b]);
                let s = ((x - centre) / centre).abs();
                UNIFORM_K * (0.3 + 2.7 * s * s)
            })
            .collect();
        let n = k.len();
        Tensor::from_data(k, vec![n])
    }

    /// The final positions for per-spring stiffness `k`.
    fn simulate<'t>(&self, t: &'t TensorTape, k: &TVar<'t>) -> Result<TVar<'t>> {
        let n = self.side * self.side;
        let sys = ParticleSystem::try_new(t.constant(Tensor::ones(&[n])), DT)?
            .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
            .with_drag(t.constant(Tensor::scalar(1.0)))
            .with_springs(
                self.network.clone(),
                *k,
                t.constant(self.rest.clone()),
                None,
            );
        let mask = t.constant(self.mask.clone());
        let mut p = t.constant(self.p0.clone());
        let mut v = t.constant(Tensor::zeros(&[n, 2]));
        for _ in 0..self.steps {
            let (p_free, v_free) = sys.try_step(&p, &v)?;
            p = p + (p_free - p).try_mul(&mask)?;
            v = v_free.try_mul(&mask)?;
        }
        Ok(p)
    }

    fn loss_and_grad(&self, theta: &Tensor) -> Result<(f64, Vec<Tensor>)> {
        let t = TensorTape::new();
        let th = t.var(theta.clone());
        let p = self.simulate(&t, &th.exp())?;
        let loss = (p - t.constant(self.target.clone())).square().sum();
        let g = t.try_grad_wrt(loss, &[th])?;
        Ok((loss.item(), g))
    }

    /// The bottom edge (j = 0) of a shape, left to right.
    fn bottom_edge(&self, p: &Tensor) -> Vec<[f64; 2]> {
        (0..self.side)
            .map(|i| {
                let idx = i * self.side;
                [p.data[2 * idx], p.data[2 * idx + 1]]
            })
            .collect()
    }

    fn final_shape(&self, k: &Tensor) -> Result<Tensor> {
        let t = TensorTape::new();
        Ok(self.simulate(&t, &t.constant(k.clone()))?.value())
    }
}

pub(super) fn run(
    options: &DemoOptions,
    on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let (side, steps, max_iters) = if options.short {
        (6, 300, 150)
    } else {
        (8, 300, 400)
    };
    let cloth = Cloth::new(side, steps)?;
    let theta0 = Tensor::full(&[cloth.network.len()], UNIFORM_K.ln());
    let snaps = snapshot_iters(max_iters);
    let mut kept = Vec::new();
    let mut objective = |params: &[Tensor]| -> Result<(f64, Vec<Tensor>)> {
        kept.push(params[0].clone());
        cloth.loss_and_grad(&params[0])
    };
    let opts = MinimizeOptions {
        max_iters,
        ..Default::default()
    };
    let mut adam = Adam::new(0.1).with_decay(0.997);
    let fit = minimize_with(&mut objective, vec![theta0], &mut adam, &opts, on_iter)?;
    let exp = |th: &Tensor| {
        Tensor::from_data(th.data.iter().map(|x| x.exp()).collect(), th.shape.clone())
    };
    let mut curves = Vec::new();
    for &iter in &snaps {
        if let Some(th) = kept.get(iter) {
            curves.push(Curve {
                label: format!("iteration {iter}"),
                points: cloth.bottom_edge(&cloth.final_shape(&exp(th))?),
                is_target: false,
            });
        }
    }
    curves.push(Curve {
        label: format!("final (iteration {})", fit.iters),
        points: cloth.bottom_edge(&cloth.final_shape(&exp(&fit.params[0]))?),
        is_target: false,
    });
    curves.push(Curve {
        label: "target shape".into(),
        points: cloth.bottom_edge(&cloth.target),
        is_target: true,
    });
    let first = fit.losses[0];
    let last = fit.final_loss();
    Ok(DemoReport {
        name: "cloth",
        losses: fit.losses,
        figures: vec![Figure {
            stem: "trajectory".into(),
            title: "Cloth: per-spring stiffness fitted to a target sag (bottom edge)".into(),
            x_label: "x [m]".into(),
            y_label: "y [m]".into(),
            curves,
        }],
        metrics: vec![
            ("loss initial".into(), first),
            ("loss final".into(), last),
            ("loss reduction".into(), first / last),
            ("springs".into(), cloth.network.len() as f64),
        ],
        mesh_figures: Vec::new(),
        tables: Vec::new(),
        bar_charts: Vec::new(),
    })
}
