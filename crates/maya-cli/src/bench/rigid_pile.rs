//! `rigid-pile`: N boxes falling into a pile on the ground for 1 s: 1000
//! steps of the fused rigid-body step with softplus penalty contact and
//! friction (R1), or 100 steps of complementarity contact (R1c). Loss: the
//! mean final height of the boxes. Grad mode differentiates it with
//! respect to the initial velocities, masses and contact material.
//!
//! To compare the two models at equal accuracy, environment variables
//! override the step and the contact settings, and one prints the deepest
//! penetration over the rollout (stepping it one step at a time, so time
//! it without): `MAYA_PILE_DT` (s), `MAYA_PILE_STIFFNESS` (N/m, penalty),
//! `MAYA_PILE_ACTIVATION` (d̂ in m, complementarity), `MAYA_PILE_DEPTH=1`;
//! `MAYA_PILE_WARM_START=1` warm-starts complementarity's solves.

use super::{Outcome, Workload};
use maya::contact::{
    damping_for_restitution, ComplementarityOptions, ContactModel, Ground, Penalty,
};
use maya::rigid::{Material, RigidParams, RigidState, Shape, World};
use maya::{Tensor, TensorTape};

/// Simulated time (s).
const DURATION: f64 = 1.0;

/// R1: penalty contact at dt = 1 ms.
pub fn workload() -> Workload {
    Workload {
        name: "rigid-pile",
        alias: "R1",
        sizes: &[100],
        prepare: |n, grad| {
            prepare(
                n,
                grad,
                ContactModel::Penalty,
                setting("MAYA_PILE_DT", 1e-3),
            )
        },
    }
}

/// R1c: complementarity contact (κ = 1e-6 J) at dt = 10 ms.
pub fn complementarity_workload() -> Workload {
    Workload {
        name: "rigid-pile-complementarity",
        alias: "R1c",
        sizes: &[100],
        prepare: |n, grad| prepare(n, grad, complementarity(), setting("MAYA_PILE_DT", 1e-2)),
    }
}

/// An override from the environment, or `default`.
fn setting(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|x| x.parse().ok())
        .unwrap_or(default)
}

/// The complementarity options of R1c.
pub fn complementarity() -> ContactModel {
    ContactModel::Complementarity(ComplementarityOptions {
        kappa: 1e-6,
        activation_distance: setting("MAYA_PILE_ACTIVATION", 5e-2),
        warm_start: std::env::var_os("MAYA_PILE_WARM_START").is_some(),
        ..ComplementarityOptions::simulation()
    })
}

/// N boxes of 0.2 m × 0.2 m (1 kg) on a grid 10 wide, spaced 0.3 m, the
/// lowest row 0.15 m up, each turned and shifted a little (fixed seed). At
/// 0.25 m two turned neighbours started 16 mm inside each other, which
/// the world's initial-overlap check now refuses.
pub fn scene(n: usize, model: ContactModel, dt: f64) -> (World, Tensor, Tensor, Material) {
    let mut w = World::new(dt).with_contact(model);
    w.set_ground(Ground::horizontal(0.0));
    w.penalty = Penalty::Softplus { width: 1e-3 };
    w.friction_regularization = 0.05;
    for _ in 0..n {
        w.add_body(Shape::rect(0.2, 0.2), 25.0);
    }
    let jitter = Tensor::rand_uniform(&[n, 3], 2024);
    let pose = Tensor::from_fn(&[n, 3], |i| {
        let (b, j) = (i[0], i[1]);
        let r = jitter.data[3 * b + j];
        match j {
            0 => (b % 10) as f64 * 0.3 + 0.02 * r,
            1 => 0.15 + (b / 10) as f64 * 0.3 + 0.02 * r,
            _ => 0.3 * r,
        }
    });
    let vel = Tensor::zeros(&[n, 3]);
    let k = setting("MAYA_PILE_STIFFNESS", 2e4);
    let material = Material {
        stiffness: k,
        damping: damping_for_restitution(0.3, k, 0.5),
        friction: 0.5,
        restitution: 0.0,
    };
    (w, pose, vel, material)
}

fn prepare(n: usize, grad: bool, model: ContactModel, dt: f64) -> Box<dyn FnMut() -> Outcome> {
    let (world, pose, vel, material) = scene(n, model, dt);
    let steps = (DURATION / dt).round() as usize;
    let mp = world.mass_properties();
    let mass = Tensor::from_data(mp.iter().map(|m| m.mass).collect(), vec![n]);
    let inertia = Tensor::from_data(mp.iter().map(|m| m.inertia).collect(), vec![n]);
    let mut tape = TensorTape::new();
    Box::new(move || {
        tape.clear();
        let t = &tape;
        let leaf = |x: &Tensor| {
            if grad {
                t.var(x.clone())
            } else {
                t.constant(x.clone())
            }
        };
        let s0 = RigidState {
            pose: leaf(&pose),
            velocity: leaf(&vel),
            step: 0,
        };
        let params = RigidParams {
            mass: leaf(&mass),
            inertia: leaf(&inertia),
            material: leaf(&material.to_tensor()),
            wrench: None,
            kappa: None,
            shapes: None,
        };
        let end = if std::env::var_os("MAYA_PILE_DEPTH").is_some() {
            deepest_over(&world, s0, &params, steps)
        } else {
            world.rollout(&s0, &params, steps).expect("the pile steps")
        };
        let loss = end.pose.slice(1, 1..2).mean();
        let value = loss.item();
        if !grad {
            return Outcome {
                sums: Vec::new(),
                loss: value,
                checks: vec![],
            };
        }
        let g = t.grad(loss);
        let sum = |v: &maya::TVar<'_>| g[v.idx()].data.iter().sum::<f64>();
        let dm = &g[params.material.idx()].data;
        Outcome {
            sums: Vec::new(),
            loss: value,
            checks: vec![
                ("sum dL/dv0", vec![sum(&s0.velocity)]),
                ("sum dL/dpose0", vec![sum(&s0.pose)]),
                ("sum dL/dmass", vec![sum(&params.mass)]),
                ("dL/d(stiffness, damping, friction)", dm[..3].to_vec()),
            ],
        }
    })
}

/// The rollout one step at a time, printing the deepest penetration of any
/// contact at any step's end on stderr.
fn deepest_over<'t>(
    world: &World,
    mut s: RigidState<'t>,
    params: &RigidParams<'t>,
    steps: usize,
) -> RigidState<'t> {
    let mut deepest = 0.0f64;
    for _ in 0..steps {
        s = world.rollout(&s, params, 1).expect("the pile steps");
        let contacts = world.contacts(&s.pose.value().data);
        deepest = contacts.iter().map(|c| c.depth).fold(deepest, f64::max);
    }
    eprintln!(
        "rigid pile, dt = {} s: deepest penetration over the rollout {deepest:.3e} m",
        world.dt
    );
    s
}
