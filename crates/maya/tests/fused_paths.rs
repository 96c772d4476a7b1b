//! The step's fast paths against the general ones: a rollout that needs no
//! gradient runs its local-force steps several at a time, in place, groups
//! of nodes vectorised together (`physics/multistep.rs`); one that needs a
//! gradient and keeps only its last state records them a block at a time
//! the same way (`physics/block.rs`); one that keeps every state records
//! one step kernel per step, whose forward also groups nodes
//! (`physics/lanes.rs`), with the nodes left over one by one. All must
//! give the bits of single steps, and the gradients must match finite
//! differences.

use maya::dynamics::{Ground, Integrator, ParticleSystem};
use maya::{gradcheck, TVar, Tensor, TensorTape};

/// A particle system under gravity, drag and a tilted ground, with some
/// particles starting inside the ground and the middle node fixed.
fn system<'t>(
    t: &'t TensorTape,
    shape: &[usize],
    integrator: Integrator,
    params: [f64; 2],
) -> ParticleSystem<'t> {
    let d = *shape.last().unwrap();
    let n = shape[shape.len() - 2];
    let m = t.constant(Tensor::from_fn(&[n], |ix| 0.5 + 0.1 * ix[0] as f64));
    let g = t.constant(Tensor::from_fn(
        &[d],
        |ix| if ix[0] == 1 { -9.81 } else { 0.3 },
    ));
    let normal: Vec<f64> = (0..d)
        .map(|k| {
            if k == 1 {
                0.8
            } else {
                0.6 / ((d - 1) as f64).sqrt()
            }
        })
        .collect();
    ParticleSystem::new(m, 1e-3)
        .with_gravity(g)
        .with_drag(t.scalar(params[0]))
        .with_ground(Ground::new(&normal, 0.05), t.scalar(params[1]))
        .with_fixed(&[n / 2])
        .with_integrator(integrator)
}

fn initial(shape: &[usize]) -> (Tensor, Tensor) {
    let p0 = Tensor::from_fn(shape, |ix| {
        let i = ix[ix.len() - 2] as f64;
        0.1 * (i * 0.7).sin() + 0.01 * ix[0] as f64
    });
    let v0 = Tensor::from_fn(shape, |ix| {
        0.3 * ((ix.iter().sum::<usize>() as f64) * 1.3).cos()
    });
    (p0, v0)
}

/// (q_T, v_T) of a rollout off the tape (no gradient), on it in blocks
/// and on it step by step.
fn final_states(shape: &[usize], integrator: Integrator, steps: usize) -> [Tensor; 6] {
    let (p0, v0) = initial(shape);
    let t = TensorTape::new();
    let sys = system(&t, shape, integrator, [0.4, 2e3]);
    let (q, v) = sys
        .rollout_final(&t.constant(p0.clone()), &t.constant(v0.clone()), steps)
        .unwrap();
    let (qg, vg) = sys
        .rollout_final(&t.constant(p0.clone()), &t.var(v0.clone()), steps)
        .unwrap();
    assert!(vg.requires_grad());
    let (qs, vs) = sys
        .rollout(&t.constant(p0), &t.var(v0), steps)
        .unwrap()
        .last();
    [
        q.value(),
        v.value(),
        qg.value(),
        vg.value(),
        qs.value(),
        vs.value(),
    ]
}

#[test]
fn off_tape_multistep_equals_recorded_single_steps_bit_for_bit() {
    // Odd and even counts (groups of nodes and one left over), one node,
    // 3D, 2D, batched.
    for shape in [
        vec![7, 3],
        vec![7, 2],
        vec![2, 5, 2],
        vec![1, 2],
        vec![4, 3],
    ] {
        for integrator in [Integrator::SemiImplicitEuler, Integrator::Euler] {
            // 70 steps: two full blocks between checks and a partial one.
            let [q, v, qg, vg, qs, vs] = final_states(&shape, integrator, 70);
            assert_eq!(q.data, qg.data, "{shape:?} {integrator:?}");
            assert_eq!(v.data, vg.data, "{shape:?} {integrator:?}");
            assert_eq!(q.data, qs.data, "{shape:?} {integrator:?}");
            assert_eq!(v.data, vs.data, "{shape:?} {integrator:?}");
            assert!(q.data.iter().all(|x| x.is_finite()));
        }
    }
}

#[test]
fn nodes_in_groups_equal_nodes_alone() {
    // Every force is local, so each node of a 7-node system (stepped in
    // groups, the last node alone) must follow the path of a 1-node system
    // of that node (stepped alone), on the tape and off it.
    let (p0, v0) = initial(&[7, 3]);
    let t = TensorTape::new();
    let ground = Ground::new(&[0.0, 0.6, 0.8], 0.05);
    let sys = |m: Tensor| {
        ParticleSystem::new(t.constant(m), 1e-3)
            .with_gravity(t.constant(Tensor::from_data(vec![0.3, -9.81, 0.1], vec![3])))
            .with_drag(t.scalar(0.4))
            .with_ground(ground, t.scalar(2e3))
    };
    let masses = Tensor::from_fn(&[7], |ix| 0.5 + 0.1 * ix[0] as f64);
    for leaf in [false, true] {
        let v = |x: Tensor| if leaf { t.var(x) } else { t.constant(x) };
        let all = sys(masses.clone());
        let (q, _) = all
            .rollout_final(&t.constant(p0.clone()), &v(v0.clone()), 50)
            .unwrap();
        let q = q.value();
        for i in 0..7 {
            let one = sys(Tensor::from_data(vec![masses.data[i]], vec![1]));
            let node =
                |x: &Tensor| Tensor::from_data(x.data[i * 3..i * 3 + 3].to_vec(), vec![1, 3]);
            let (qi, _) = one
                .rollout_final(&t.constant(node(&p0)), &v(node(&v0)), 50)
                .unwrap();
            assert_eq!(
                qi.value().data,
                q.data[i * 3..i * 3 + 3],
                "node {i}, leaf {leaf}"
            );
        }
    }
}

#[test]
fn rollout_gradients_match_finite_differences() {
    for shape in [vec![5, 3], vec![2, 3, 2]] {
        let (p0, v0) = initial(&shape);
        let (n, d) = (shape[shape.len() - 2], shape[shape.len() - 1]);
        let inputs = [v0.clone(), Tensor::scalar(0.3), Tensor::scalar(50.0)];
        check(&shape, &inputs, |t, x| {
            let g = Tensor::from_fn(&[d], |ix| if ix[0] == 1 { -9.81 } else { 0.0 });
            let sys = ParticleSystem::new(t.constant(Tensor::ones(&[n])), 1e-2)
                .with_gravity(t.constant(g))
                .with_drag(x[1])
                .with_ground(Ground::floor(d), x[2]);
            let (q, v) = sys
                .rollout_final(&t.constant(p0.clone()), &x[0], 30)
                .unwrap();
            q.square().sum().add(&v.square().sum())
        });
    }
}

#[track_caller]
fn check<F>(shape: &[usize], inputs: &[Tensor], f: F)
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let report = gradcheck(f, inputs);
    assert!(report.passed, "{shape:?}: {report}");
}
