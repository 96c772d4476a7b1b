//! `shape-opt`: optimise a cantilever's rest shape for a stiffer tip at
//! fixed area.
//!
//! A 4 × 1 m beam (Neo-Hookean, E = 1 MPa, ν = 0.3, plane strain; 32 × 8
//! cells) is clamped at x = 0 and pulled down by 800 N/m over the middle
//! half of its free end (y ∈ [0.25, 0.75], 400 N in all, as consistent
//! nodal loads). The design is the rest position of every other vertex:
//! the clamped and loaded vertices are held (their gradient is masked).
//! The objective is
//!
//! J(X) = C(X)/C(X₀) + w Σₑ relu(r_min − qₑ/qₑ⁰)²,  w = 10, r_min = 0.7,
//!
//! the compliance C = f·u of the static equilibrium (through
//! `ParticleSystem::equilibrium`, whose gradient reaches the rest
//! positions) relative to the initial beam's — for this one load, the
//! load times the mean deflection of the loaded vertices — plus a
//! mesh-quality term: qₑ = 4√3 Aₑ / Σ edge² is triangle e's shape quality
//! (1 when equilateral) and qₑ⁰ its initial value.
//!
//! The area is held exactly, not by a penalty: each step moves along the
//! gradient smoothed over the mesh (a Sobolev gradient: 60 diffusion sweeps
//! of the masked gradient, which removes element-scale zig-zags and carries
//! the boundary's motion into the interior), projected so that it keeps
//! the area to first order, and then the design's boundary vertices move
//! along ∇A until |A − A₀| < 1e-12 A₀ (`shape_geometry.rs`). The step's
//! length (the largest vertex move, at most half the shortest edge) is
//! chosen by backtracking: a step is taken back and halved when it does
//! not lower J enough (Armijo), when it would leave a triangle under 0.3 of
//! its initial quality, or when its equilibrium fails with an inverted or
//! degenerate element or a Newton solve that does not converge; after an
//! accepted step the next one may grow by half. The plots colour each rest
//! triangle by the von Mises stress of its equilibrium
//! (`fem_fields.rs`).

use super::fem_fields::{edge_traction, panel, von_mises_field};
use super::shape_geometry::{
    area_gradient, correct_area, min_quality_ratio, neighbours, quality_penalty, smooth, total_area,
};
use super::{Curve, DemoOptions, DemoReport, Figure, MeshFigure};
use crate::error::{Error, Result};
use crate::fem::{rectangle, Diagonal, MaterialModel, SoftBody, TriMesh};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

const MODEL: MaterialModel = MaterialModel::NeoHookean;
const YOUNGS: f64 = 1e6;
const POISSON: f64 = 0.3;
const LENGTH: f64 = 4.0;
const DEPTH: f64 = 1.0;
/// Downward traction on the loaded part of the free end (N/m).
const TRACTION: f64 = 800.0;
/// The mesh-quality term: weight w and the ratio r_min below which it acts.
const QUALITY_WEIGHT: f64 = 10.0;
const QUALITY_RATIO: f64 = 0.7;
/// A step leaving a triangle below this fraction of its initial quality is
/// taken back.
const QUALITY_FLOOR: f64 = 0.3;
/// Diffusion sweeps that smooth the gradient into a descent direction.
const SWEEPS: usize = 60;
/// The sufficient decrease a step must give, as a fraction of the slope's.
const ARMIJO: f64 = 1e-4;

/// The beam: mesh, held and loaded vertices, loads and the design mask.
struct Beam {
    mesh: TriMesh,
    clamped: Vec<usize>,
    load: Tensor,
    tip: usize,
    /// 1 for a design vertex, 0 for a held one, per coordinate `[V, 2]`.
    mask: Tensor,
    initial_quality: Vec<f64>,
    initial_compliance: f64,
}

/// One solve of the beam at a rest shape.
struct Solved {
    loss: f64,
    grad: Tensor,
    compliance: f64,
    positions: Tensor,
}

impl Beam {
    fn new(nx: usize, ny: usize) -> Result<Beam> {
        let mesh = rectangle([0.0, 0.0], LENGTH, DEPTH, nx, ny, Diagonal::Alternating)?;
        let clamped = mesh.vertices_where(|p| p[0] == 0.0);
        let loaded_part =
            |p: [f64; 2]| p[0] == LENGTH && (p[1] - 0.5 * DEPTH).abs() <= 0.25 * DEPTH + 1e-12;
        let mut loaded = mesh.vertices_where(loaded_part);
        loaded.sort_by(|a, b| mesh.vertices()[*a][1].total_cmp(&mesh.vertices()[*b][1]));
        let load = edge_traction(mesh.vertices(), &loaded, [0.0, -TRACTION]);
        let tip = loaded[loaded.len() / 2];
        let mask = Tensor::from_fn(&[mesh.n_vertices(), 2], |ix| {
            let held = clamped.contains(&ix[0]) || loaded.contains(&ix[0]);
            if held {
                0.0
            } else {
                1.0
            }
        });
        let mut beam = Beam {
            initial_quality: mesh.qualities(),
            mesh,
            clamped,
            load,
            tip,
            mask,
            initial_compliance: 1.0,
        };
        beam.initial_compliance = beam.solve(&beam.mesh.rest_tensor())?.compliance;
        Ok(beam)
    }

    /// The beam as a soft body at rest shape `rest`.
    fn body<'t>(&self, t: &'t TensorTape, rest: TVar<'t>) -> Result<SoftBody<'t>> {
        SoftBody::try_new(
            &self.mesh,
            MODEL,
            rest,
            t.scalar(YOUNGS),
            POISSON,
            t.scalar(1.0),
        )
    }

    /// The equilibrium positions of `body` under the beam's supports and load.
    fn equilibrium<'t>(&self, t: &'t TensorTape, body: &SoftBody<'t>) -> Result<TVar<'t>> {
        body.try_system(1.0)?
            .try_with_fixed(&self.clamped)?
            .with_load(t.constant(self.load.clone()))
            .equilibrium(&body.rest_positions)
    }

    /// J and its masked gradient at rest shape `rest` (see the module's doc).
    fn solve(&self, rest: &Tensor) -> Result<Solved> {
        let t = TensorTape::new();
        let x0 = t.var(rest.clone());
        let x = self.equilibrium(&t, &self.body(&t, x0)?)?;
        let compliance = t
            .constant(self.load.clone())
            .try_mul(&x.try_sub(&x0)?)?
            .sum();
        let quality = quality_penalty(
            &t,
            self.mesh.triangles(),
            &x0,
            &self.initial_quality,
            QUALITY_RATIO,
        )?;
        let loss = compliance.scalar_mul(1.0 / self.initial_compliance)
            + quality.scalar_mul(QUALITY_WEIGHT);
        let g = t.try_grad_wrt(loss, &[x0])?.remove(0);
        let grad = Tensor::from_fn(&g.shape, |ix| {
            g.data[2 * ix[0] + ix[1]] * self.mask.data[2 * ix[0] + ix[1]]
        });
        Ok(Solved {
            loss: loss.item(),
            grad,
            compliance: compliance.item(),
            positions: x.value(),
        })
    }

    /// Per triangle von Mises stress (kPa) at rest shape `rest`.
    fn von_mises(&self, rest: &Tensor) -> Result<Vec<f64>> {
        let t = TensorTape::new();
        let body = self.body(&t, t.constant(rest.clone()))?;
        let x = self.equilibrium(&t, &body)?.value();
        let stress = von_mises_field(
            MODEL,
            self.mesh.triangles(),
            &x,
            &body.rest.dm_inv.value(),
            &body.mu.value(),
            &body.lambda.value(),
        )?;
        Ok(stress.into_iter().map(|s| s / 1e3).collect())
    }

    /// How far the middle loaded vertex has gone down at `positions`.
    fn tip_deflection(&self, positions: &Tensor) -> f64 {
        let v = self.tip;
        self.mesh.vertices()[v][1] - positions.data[2 * v + 1]
    }
}

/// Whether an error means the step went too far (take it back and retry
/// shorter) rather than a fault.
fn step_too_long(e: &Error) -> bool {
    matches!(
        e,
        Error::InvertedElement { .. }
            | Error::DegenerateElement { .. }
            | Error::Solve { .. }
            | Error::NotConverged { .. }
    )
}

/// The outcome of the optimisation.
struct Optimised {
    /// The accepted rest shapes, the initial one first.
    shapes: Vec<Tensor>,
    /// J at each of them.
    losses: Vec<f64>,
    /// The compliance and the tip deflection at each of them.
    compliances: Vec<f64>,
    tips: Vec<f64>,
    /// Steps taken back and halved.
    retries: usize,
    /// The largest |A − A₀|/A₀ over the accepted shapes.
    max_area_drift: f64,
}

/// Steepest descent along the smoothed gradient, with backtracking and
/// exact area correction (see the module's doc), for at most `iters`
/// iterations from the beam's mesh; it stops early when no step of at
/// least 1e-6 of the largest lowers the objective.
fn optimise(beam: &Beam, iters: usize, on_iter: &mut dyn FnMut(usize, f64)) -> Result<Optimised> {
    let tris = beam.mesh.triangles();
    let links = neighbours(tris, beam.mesh.n_vertices());
    let max_step = 0.5 * beam.mesh.min_edge_length();
    let mut step = 0.25 * max_step;
    let mut shape = beam.mesh.rest_tensor();
    let area0 = total_area(tris, &shape);
    let mut current = beam.solve(&shape)?;
    let mut out = Optimised {
        shapes: vec![shape.clone()],
        losses: Vec::new(),
        compliances: vec![current.compliance],
        tips: vec![beam.tip_deflection(&current.positions)],
        retries: 0,
        max_area_drift: 0.0,
    };
    'descent: for iter in 0..iters {
        out.losses.push(current.loss);
        on_iter(iter, current.loss);
        // The smoothed gradient S g, projected in S's metric onto the
        // directions that keep the area to first order: S (g − μ ∇A) with μ
        // such that ∇A · S (g − μ ∇A) = 0; its slope gᵀ S (g − μ∇A) ≥ 0.
        let area_grad = area_gradient(tris, &shape);
        let smoothed_area = smooth(&area_grad, &links, &beam.mask, SWEEPS);
        let mut direction = smooth(&current.grad, &links, &beam.mask, SWEEPS);
        let dot =
            |a: &Tensor, b: &Tensor| a.data.iter().zip(&b.data).map(|(x, y)| x * y).sum::<f64>();
        let mu = dot(&area_grad, &direction) / dot(&area_grad, &smoothed_area);
        direction
            .data
            .iter_mut()
            .zip(&smoothed_area.data)
            .for_each(|(d, a)| *d -= mu * a);
        let peak = direction.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if peak == 0.0 {
            break;
        }
        // The objective's slope along the unit step (largest move 1 m).
        let slope = dot(&current.grad, &direction) / peak;
        let (next_shape, next) = loop {
            let mut trial = shape.clone();
            trial
                .data
                .iter_mut()
                .zip(&direction.data)
                .for_each(|(x, d)| *x -= step * d / peak);
            correct_area(tris, &mut trial, &beam.mask, area0)?;
            let solved = if min_quality_ratio(tris, &trial, &beam.initial_quality) < QUALITY_FLOOR {
                None
            } else {
                match beam.solve(&trial) {
                    Ok(s) => Some(s),
                    Err(e) if step_too_long(&e) => None,
                    Err(e) => return Err(e),
                }
            };
            match solved {
                // Armijo: a little of the decrease the slope promises.
                Some(s) if s.loss <= current.loss - ARMIJO * step * slope => break (trial, s),
                _ if step > 1e-6 * max_step => {
                    step *= 0.5;
                    out.retries += 1;
                }
                _ => break 'descent,
            }
        };
        step = (1.5 * step).min(max_step);
        shape = next_shape;
        current = next;
        let drift = (total_area(tris, &shape) - area0).abs() / area0;
        out.max_area_drift = out.max_area_drift.max(drift);
        out.shapes.push(shape.clone());
        out.compliances.push(current.compliance);
        out.tips.push(beam.tip_deflection(&current.positions));
    }
    if out.losses.len() < out.shapes.len() {
        out.losses.push(current.loss);
        on_iter(out.losses.len() - 1, current.loss);
    }
    Ok(out)
}

pub(super) fn run(
    options: &DemoOptions,
    on_iter: &mut dyn FnMut(usize, f64),
) -> Result<DemoReport> {
    let (nx, ny, iters) = if options.short {
        (16, 4, 20)
    } else {
        (32, 8, 150)
    };
    let beam = Beam::new(nx, ny)?;
    let opt = optimise(&beam, iters, on_iter)?;
    let tris = beam.mesh.triangles();
    let last = opt.shapes.len() - 1;
    let mut panels = Vec::new();
    for k in [0, (last / 40).max(1), last] {
        let label = match k {
            0 => "initial beam".to_string(),
            k if k == last => format!("final (iteration {k})"),
            k => format!("iteration {k}"),
        };
        let label = format!("{label}: tip deflection {:.1} mm", 1e3 * opt.tips[k]);
        panels.push(panel(
            label,
            &opt.shapes[k],
            tris,
            beam.von_mises(&opt.shapes[k])?,
        ));
    }
    let field = MeshFigure {
        stem: "stress".into(),
        title: "shape-opt: rest shapes, von Mises stress (clamped at x = 0, loaded at x = 4 m)"
            .into(),
        value_label: "von Mises stress [kPa]".into(),
        log_scale: false,
        range: None,
        panels,
    };
    let quality = |s: &Tensor| {
        TriMesh::new(super::fem_fields::points(s), tris.to_vec()).map(|m| m.min_quality())
    };
    let area0 = total_area(tris, &opt.shapes[0]);
    Ok(DemoReport {
        name: "shape-opt",
        losses: opt.losses,
        figures: vec![Figure {
            stem: "progress".into(),
            title: "shape-opt: tip deflection per iteration".into(),
            x_label: "iteration".into(),
            y_label: "tip deflection [mm]".into(),
            curves: vec![Curve {
                label: "downward deflection of the loaded end's middle vertex".into(),
                points: opt
                    .tips
                    .iter()
                    .enumerate()
                    .map(|(k, d)| [k as f64, 1e3 * d])
                    .collect(),
                is_target: false,
            }],
        }],
        metrics: vec![
            ("tip deflection initial".into(), opt.tips[0]),
            ("tip deflection final".into(), opt.tips[last]),
            ("compliance initial".into(), opt.compliances[0]),
            ("compliance final".into(), opt.compliances[last]),
            (
                "compliance ratio".into(),
                opt.compliances[last] / opt.compliances[0],
            ),
            ("area initial".into(), area0),
            ("area final".into(), total_area(tris, &opt.shapes[last])),
            ("max area drift".into(), opt.max_area_drift),
            ("worst quality initial".into(), quality(&opt.shapes[0])?),
            ("worst quality final".into(), quality(&opt.shapes[last])?),
            ("retried steps".into(), opt.retries as f64),
            ("iterations".into(), last as f64),
        ],
        mesh_figures: vec![field],
        tables: Vec::new(),
        bar_charts: Vec::new(),
    })
}
