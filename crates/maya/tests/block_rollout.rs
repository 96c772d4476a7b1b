//! A rollout with a gradient that keeps only its last state records its
//! local-force steps in blocks, one tape node per block, replayed chunk by
//! chunk in the backward sweep (`physics/block.rs`). Against recording
//! every step (`Record::All`): the same final state and ∂L/∂q₀, ∂L/∂v₀ bit
//! for bit, the mass and parameter gradients to rounding (summed in
//! another order); against finite differences; and a non-finite state
//! still names its step.

use maya::dynamics::{Ground, Integrator, ParticleSystem};
use maya::{gradcheck, Error, TVar, Tensor, TensorTape};

/// Inputs: p0, v0, masses [N], gravity [D], drag, ground stiffness.
fn inputs(shape: &[usize]) -> Vec<Tensor> {
    let d = *shape.last().unwrap();
    let n = shape[shape.len() - 2];
    vec![
        Tensor::from_fn(shape, |ix| {
            let i = ix[ix.len() - 2] as f64;
            0.1 * (i * 0.7).sin() + 0.01 * ix[0] as f64
        }),
        Tensor::from_fn(shape, |ix| {
            0.3 * ((ix.iter().sum::<usize>() as f64) * 1.3).cos()
        }),
        Tensor::from_fn(&[n], |ix| 0.5 + 0.1 * (ix[0] % 7) as f64),
        Tensor::from_fn(&[d], |ix| if ix[0] == d - 1 { -9.81 } else { 0.3 }),
        Tensor::scalar(0.4),
        Tensor::scalar(2e3),
    ]
}

/// Particles under gravity, drag and a tilted ground (some start inside
/// it; none in 1D), node 1 fixed; every input of `inputs` a tape value.
fn system<'t>(x: &[TVar<'t>], d: usize, dt: f64, integrator: Integrator) -> ParticleSystem<'t> {
    let normal: Vec<f64> = (0..d)
        .map(|k| {
            if k + 1 == d {
                0.8
            } else {
                0.6 / ((d.max(2) - 1) as f64).sqrt()
            }
        })
        .collect();
    let sys = ParticleSystem::new(x[2], dt)
        .with_gravity(x[3])
        .with_drag(x[4])
        .with_fixed(&[1])
        .with_integrator(integrator);
    // A ground needs 2 or 3 dimensions.
    if d == 1 {
        sys
    } else {
        sys.with_ground(Ground::new(&normal, 0.05), x[5])
    }
}

/// L = Σ q_T² + (Σ v_T)³ after `steps` steps, recorded in blocks or
/// every step.
fn loss<'t>(x: &[TVar<'t>], d: usize, steps: usize, blocks: bool) -> TVar<'t> {
    let sys = system(x, d, 1e-3, Integrator::SemiImplicitEuler);
    let (q, v) = if blocks {
        sys.rollout_final(&x[0], &x[1], steps).unwrap()
    } else {
        sys.rollout(&x[0], &x[1], steps).unwrap().last()
    };
    q.square().sum().add(&v.sum().mul(&v.sum().mul(&v.sum())))
}

#[test]
fn blocks_give_the_gradients_of_recorded_steps() {
    // One node and several; odd counts (a padded group); 300 nodes (two
    // chunks of the backward sweep); 1D, 2D, 3D; batched; 70 steps (two
    // full blocks and a partial one) and 5 (one partial block).
    for (shape, steps) in [
        (vec![7, 3], 70),
        (vec![300, 3], 70),
        (vec![7, 2], 5),
        (vec![2, 5, 2], 70),
        (vec![4, 1], 70),
        (vec![2, 3], 33),
    ] {
        let d = *shape.last().unwrap();
        let x0 = inputs(&shape);
        let run = |blocks: bool| {
            let t = TensorTape::new();
            let x: Vec<TVar> = x0.iter().map(|x| t.var(x.clone())).collect();
            let l = loss(&x, d, steps, blocks);
            let nodes = t.len();
            let g = t.grad_wrt(l, &x);
            (l.item(), g, nodes)
        };
        let (lb, gb, nodes_b) = run(true);
        let (ls, gs, nodes_s) = run(false);
        assert_eq!(lb.to_bits(), ls.to_bits(), "{shape:?}: loss");
        assert!(nodes_b < nodes_s, "{shape:?}: {nodes_b} vs {nodes_s} nodes");
        for (k, name) in ["p0", "v0"].iter().enumerate() {
            assert_eq!(gb[k].data, gs[k].data, "{shape:?}: ∂L/∂{name}");
        }
        for (k, name) in ["m", "g", "c", "k"].iter().enumerate() {
            if d == 1 && k == 3 {
                continue; // no ground in 1D
            }
            let (a, b) = (&gb[k + 2].data, &gs[k + 2].data);
            let scale = b.iter().fold(0.0f64, |s, x| s.max(x.abs()));
            assert!(scale > 0.0, "{shape:?}: ∂L/∂{name} is zero");
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-12 * scale,
                    "{shape:?}: ∂L/∂{name}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn a_floor_takes_the_same_bits_as_a_general_plane() {
    // A floor (normal eₐ) takes a lane-wise path of its own in groups of
    // nodes; the per-step recording steps the odd node out alone on the
    // general path. Particles start inside the floor, and the rollout is
    // 3D and 2D, with and without drag.
    for (shape, drag) in [([7, 3], true), ([5, 2], true), ([3, 3], false)] {
        let d = shape[1];
        let x0 = inputs(&shape);
        let run = |blocks: bool| {
            let t = TensorTape::new();
            let x: Vec<TVar> = x0.iter().map(|x| t.var(x.clone())).collect();
            let sys = ParticleSystem::new(x[2], 1e-3)
                .with_gravity(x[3])
                .with_ground(Ground::floor(d), x[5]);
            let sys = if drag { sys.with_drag(x[4]) } else { sys };
            let (q, v) = if blocks {
                sys.rollout_final(&x[0], &x[1], 70).unwrap()
            } else {
                sys.rollout(&x[0], &x[1], 70).unwrap().last()
            };
            let l = q.square().sum().add(&v.sum().mul(&v.sum()));
            let g = t.grad_wrt(l, &x);
            (q.value(), v.value(), g)
        };
        let ((qb, vb, gb), (qs, vs, gs)) = (run(true), run(false));
        assert_eq!((qb.data, vb.data), (qs.data, vs.data), "{shape:?}");
        assert_eq!(gb[0].data, gs[0].data, "{shape:?}: ∂L/∂p0");
        assert_eq!(gb[1].data, gs[1].data, "{shape:?}: ∂L/∂v0");
        let k = (gb[5].item(), gs[5].item());
        assert!(
            k.1 != 0.0 && (k.0 - k.1).abs() <= 1e-12 * k.1.abs(),
            "{k:?}"
        );
    }
}

#[test]
fn block_gradients_match_finite_differences() {
    for shape in [vec![5, 3], vec![2, 3, 2], vec![3, 1]] {
        let d = *shape.last().unwrap();
        let mut x0 = inputs(&shape);
        if d == 1 {
            x0.pop(); // no ground stiffness
        }
        let report = gradcheck(
            |_t, x| {
                let sys = system(x, d, 1e-2, Integrator::SemiImplicitEuler);
                let (q, v) = sys.rollout_final(&x[0], &x[1], 40).unwrap();
                q.square().sum().add(&v.sum().mul(&v.sum().mul(&v.sum())))
            },
            &x0,
        );
        assert!(report.passed, "{shape:?}: {report}");
    }
}

#[test]
fn a_blowup_inside_a_block_names_its_step_as_without_a_gradient() {
    // Particle 3 starts near the largest double, moving outwards: its x
    // overflows after some 100 steps (drag slows it), past the first block.
    let shape = [6, 3];
    let mut x0 = inputs(&shape);
    x0[0].data[9] = 1.7e308;
    x0[1].data[9] = 1e308;
    let fail = |grad: bool| {
        let t = TensorTape::new();
        let x: Vec<TVar> = x0
            .iter()
            .map(|x| {
                if grad {
                    t.var(x.clone())
                } else {
                    t.constant(x.clone())
                }
            })
            .collect();
        let sys = system(&x, 3, 1e-3, Integrator::SemiImplicitEuler);
        sys.rollout_final(&x[0], &x[1], 200).unwrap_err()
    };
    let (with, without) = (fail(true), fail(false));
    match (&with, &without) {
        (Error::NonFinite { step: a, what }, Error::NonFinite { step: b, .. }) => {
            assert_eq!(a, b);
            assert!(*a > 32 && *a < 200, "step {a}"); // past the first block
            assert!(what.contains("particle 3"), "{what}");
        }
        _ => panic!("{with:?} / {without:?}"),
    }
    assert_eq!(with.to_string(), without.to_string());
}
