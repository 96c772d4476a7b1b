//! Gradient checks of the dynamics kernels: every integrator and force, in
//! 2D and 3D, batched and not, against central differences (relative error
//! ≤ 1e-6), and every fused kernel against its elementary-op reference (value
//! and gradient to 1e-12).

use maya::dynamics::{
    lincomb, reference, rk4_step, rk4_step_with, velocity_verlet_step, Ground, Integrator,
    ParticleSystem, SpringNetwork,
};
use maya::{euler_step, gradcheck, semi_implicit_euler_step, TVar, Tensor, TensorTape};

#[track_caller]
fn check<F>(f: F, inputs: &[Tensor])
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let report = gradcheck(f, inputs);
    assert!(report.passed, "{report}");
}

/// Value and gradients of `f` (a one-element loss) at `inputs`.
fn value_and_grad<F>(f: F, inputs: &[Tensor]) -> (f64, Vec<Tensor>)
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let t = TensorTape::new();
    let xs: Vec<TVar> = inputs.iter().map(|x| t.var(x.clone())).collect();
    let loss = f(&t, &xs);
    (loss.item(), t.grad_wrt(loss, &xs))
}

/// Fused and reference agree in value and in every gradient to 1e-12
/// (relative to the largest magnitude involved).
#[track_caller]
fn agree<F, G>(fused: F, reference: G, inputs: &[Tensor])
where
    F: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
    G: for<'t> Fn(&'t TensorTape, &[TVar<'t>]) -> TVar<'t>,
{
    let (a, ga) = value_and_grad(fused, inputs);
    let (b, gb) = value_and_grad(reference, inputs);
    assert!(
        (a - b).abs() <= 1e-12 * a.abs().max(1.0),
        "values {a} vs {b}"
    );
    for (i, (x, y)) in ga.iter().zip(&gb).enumerate() {
        let scale = x.data.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let err = x.max_abs_diff(y);
        assert!(
            err <= 1e-12 * scale,
            "input {i}: gradients differ by {err:e}"
        );
    }
}

/// A weighted sum of both outputs, so that every entry of each matters.
fn project<'t>(p: TVar<'t>, v: TVar<'t>) -> TVar<'t> {
    let t = p.tape();
    let wp = t.constant(Tensor::rand_uniform(&p.shape(), 11));
    let wv = t.constant(Tensor::rand_uniform(&v.shape(), 12));
    p.mul(&wp).sum().add(&v.mul(&wv).sin().sum())
}

/// State shapes: 2D and 3D, unbatched and with B = 2 environments.
const SHAPES: [&[usize]; 4] = [&[3, 2], &[4, 3], &[2, 3, 2], &[2, 2, 3]];

fn state(shape: &[usize], seed: u64) -> [Tensor; 2] {
    [
        Tensor::rand_uniform(shape, seed),
        Tensor::rand_uniform(shape, seed + 1),
    ]
}

type Step = for<'t> fn(&TVar<'t>, &TVar<'t>, &TVar<'t>, f64) -> (TVar<'t>, TVar<'t>);

const INTEGRATORS: [(Step, Step); 3] = [
    (euler_step, reference::euler_step),
    (
        semi_implicit_euler_step,
        reference::semi_implicit_euler_step,
    ),
    (rk4_step, reference::rk4_step),
];

#[test]
fn integrators_gradcheck_and_match_reference() {
    for (fused, reference) in INTEGRATORS {
        for shape in SHAPES {
            let d = *shape.last().unwrap();
            // Acceleration: full shape, or one vector broadcast to every particle.
            for a in [
                Tensor::rand_uniform(shape, 5),
                Tensor::rand_uniform(&[d], 6),
            ] {
                let [p, v] = state(shape, 1);
                let inputs = [p, v, a];
                check(
                    |_t, x| {
                        let (p, v) = fused(&x[0], &x[1], &x[2], 0.1);
                        project(p, v)
                    },
                    &inputs,
                );
                agree(
                    |_t, x| {
                        let (p, v) = fused(&x[0], &x[1], &x[2], 0.1);
                        project(p, v)
                    },
                    |_t, x| {
                        let (p, v) = reference(&x[0], &x[1], &x[2], 0.1);
                        project(p, v)
                    },
                    &inputs,
                );
            }
        }
    }
}

#[test]
fn rk4_with_closure_gradcheck_into_captured_parameter() {
    for shape in SHAPES {
        let [p, v] = state(shape, 3);
        // a(p, v) = −k p − c v sin(p): state dependent, parameters k and c.
        let inputs = [p, v, Tensor::scalar(2.0), Tensor::scalar(0.3)];
        check(
            |_t, x| {
                let (k, c) = (x[2], x[3]);
                let (mut p, mut v) = (x[0], x[1]);
                for _ in 0..3 {
                    (p, v) = rk4_step_with(&p, &v, 0.1, |p, v| {
                        Ok(p.scalar_mul(k).neg().sub(&v.mul(&p.sin()).scalar_mul(c)))
                    })
                    .unwrap();
                }
                project(p, v)
            },
            &inputs,
        );
    }
}

fn verlet_fused<'t>(_t: &'t TensorTape, x: &[TVar<'t>]) -> TVar<'t> {
    let k = x[2];
    // Anharmonic: a = −k p³.
    let (mut p, mut v) = (x[0], x[1]);
    let mut a = p.mul(&p).mul(&p).scalar_mul(k).neg();
    for _ in 0..3 {
        (p, v, a) =
            velocity_verlet_step(&p, &v, &a, 0.1, |p| Ok(p.mul(p).mul(p).scalar_mul(k).neg()))
                .unwrap();
    }
    project(p, v)
}

fn verlet_reference<'t>(_t: &'t TensorTape, x: &[TVar<'t>]) -> TVar<'t> {
    let k = x[2];
    let (mut p, mut v) = (x[0], x[1]);
    let mut a = p.mul(&p).mul(&p).scalar_mul(k).neg();
    for _ in 0..3 {
        (p, v, a) = reference::velocity_verlet_step(&p, &v, &a, 0.1, |p| {
            p.mul(p).mul(p).scalar_mul(k).neg()
        });
    }
    project(p, v)
}

#[test]
fn velocity_verlet_gradcheck_and_match_reference() {
    for shape in SHAPES {
        let [p, v] = state(shape, 7);
        let inputs = [p, v, Tensor::scalar(1.5)];
        check(verlet_fused, &inputs);
        agree(verlet_fused, verlet_reference, &inputs);
    }
}

#[test]
fn lincomb_matches_composition() {
    let inputs = [
        Tensor::rand_uniform(&[2, 3, 2], 1),
        Tensor::rand_uniform(&[2], 2),
    ];
    agree(
        |_t, x| lincomb(&[x[0], x[1]], &[0.5, -2.0]).sin().sum(),
        |_t, x| x[0].scalar_mul(0.5).add(&x[1].scalar_mul(-2.0)).sin().sum(),
        &inputs,
    );
}

// ---------------------------------------------------------------- particles

/// Which forces a test system has.
#[derive(Clone, Copy)]
struct Forces {
    gravity: bool,
    drag: bool,
    ground: bool,
    springs: bool,
    damping: bool,
}

const ALL: Forces = Forces {
    gravity: true,
    drag: true,
    ground: true,
    springs: true,
    damping: true,
};

/// A chain of springs 0–1–2–…, closed into a ring, plus one diagonal.
fn network(n: usize) -> SpringNetwork {
    let mut pairs: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    pairs.push((0, n / 2));
    SpringNetwork::new(n, pairs).unwrap()
}

/// Inputs: [p, v, m, g, c, k, ks, rest, damping]; per-environment parameter
/// shapes, or with a leading B when `batch_params`.
fn particle_inputs(shape: &[usize], batch_params: bool) -> Vec<Tensor> {
    let (n, d) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let b: Vec<usize> = if shape.len() == 3 && batch_params {
        vec![shape[0]]
    } else {
        vec![]
    };
    let with_b = |s: &[usize]| [b.clone(), s.to_vec()].concat();
    let s = network(n).len();
    let shift = |t: Tensor, lo: f64, hi: f64| {
        let data = t
            .data
            .iter()
            .map(|x| lo + (hi - lo) * 0.5 * (x + 1.0))
            .collect();
        Tensor::from_data(data, t.shape)
    };
    // Positions spread on both sides of the floor, none within 0.05 of it:
    // the contact kink stays out of the finite-difference stencil.
    let mut p = Tensor::rand_uniform(shape, 21);
    for (i, x) in p.data.iter_mut().enumerate() {
        *x = if i % d == d - 1 {
            x.signum() * (0.05 + 0.2 * x.abs())
        } else {
            2.0 * *x
        };
    }
    vec![
        p,
        Tensor::rand_uniform(shape, 22),
        shift(Tensor::rand_uniform(&with_b(&[n]), 23), 0.5, 2.0),
        Tensor::rand_uniform(&with_b(&[d]), 24),
        shift(Tensor::rand_uniform(&with_b(&[]), 25), 0.1, 0.5),
        shift(Tensor::rand_uniform(&with_b(&[]), 26), 5.0, 10.0),
        shift(Tensor::rand_uniform(&with_b(&[s]), 27), 5.0, 10.0),
        shift(Tensor::rand_uniform(&with_b(&[s]), 28), 0.5, 1.5),
        shift(Tensor::rand_uniform(&with_b(&[s]), 29), 0.1, 0.5),
    ]
}

fn system<'t>(
    x: &[TVar<'t>],
    f: Forces,
    n: usize,
    d: usize,
    integrator: Integrator,
) -> ParticleSystem<'t> {
    let mut sys = ParticleSystem::new(x[2], 0.05).with_integrator(integrator);
    if f.gravity {
        sys = sys.with_gravity(x[3]);
    }
    if f.drag {
        sys = sys.with_drag(x[4]);
    }
    if f.ground {
        sys = sys.with_ground(Ground::floor(d), x[5]);
    }
    if f.springs {
        sys = sys.with_springs(network(n), x[6], x[7], f.damping.then_some(x[8]));
    }
    sys
}

fn rollout_loss<'t>(x: &[TVar<'t>], f: Forces, integrator: Integrator, steps: usize) -> TVar<'t> {
    let shape = x[0].shape();
    let (n, d) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let sys = system(x, f, n, d, integrator);
    let (p, v) = sys.rollout_final(&x[0], &x[1], steps).unwrap();
    project(p, v)
}

#[test]
fn particle_forces_gradcheck_each_and_all() {
    let single = [
        Forces {
            gravity: true,
            drag: false,
            ground: false,
            springs: false,
            damping: false,
        },
        Forces {
            gravity: false,
            drag: true,
            ground: false,
            springs: false,
            damping: false,
        },
        Forces {
            gravity: false,
            drag: false,
            ground: true,
            springs: false,
            damping: false,
        },
        Forces {
            gravity: false,
            drag: false,
            ground: false,
            springs: true,
            damping: false,
        },
        Forces {
            gravity: false,
            drag: false,
            ground: false,
            springs: true,
            damping: true,
        },
        ALL,
    ];
    for f in single {
        for shape in [&[4, 2][..], &[4, 3], &[2, 4, 2], &[2, 4, 3]] {
            for batch_params in [false, true] {
                if batch_params && shape.len() == 2 {
                    continue;
                }
                let inputs = particle_inputs(shape, batch_params);
                check(
                    |_t, x| rollout_loss(x, f, Integrator::SemiImplicitEuler, 1),
                    &inputs,
                );
            }
        }
    }
}

#[test]
fn particle_rollout_gradcheck_every_integrator() {
    // Every scheme of the one step kernel: the one-stage fused path and the
    // multi-stage path (Verlet: 2 stages, RK4: 4), w.r.t. the state, the
    // masses and every force parameter.
    for integrator in [
        Integrator::SemiImplicitEuler,
        Integrator::Euler,
        Integrator::VelocityVerlet,
        Integrator::Rk4,
    ] {
        for shape in [&[5, 3][..], &[2, 5, 2]] {
            let inputs = particle_inputs(shape, shape.len() == 3);
            check(|_t, x| rollout_loss(x, ALL, integrator, 3), &inputs);
        }
    }
}

/// The particle step from elementary ops: F from each force, a = F/m, then
/// semi-implicit Euler. Unbatched `[N, D]`.
fn reference_step<'t>(
    x: &[TVar<'t>],
    f: Forces,
    p: TVar<'t>,
    v: TVar<'t>,
    dt: f64,
) -> (TVar<'t>, TVar<'t>) {
    let t = p.tape();
    let shape = p.shape();
    let (n, d) = (shape[0], shape[1]);
    let m = x[2].reshape(&[n, 1]);
    let mut force = t.constant(Tensor::zeros(&[n, d]));
    if f.gravity {
        force = force.add(&m.mul(&x[3]));
    }
    if f.drag {
        force = force.sub(&v.mul(&x[4]));
    }
    if f.ground {
        let mut normal = vec![0.0; d];
        normal[d - 1] = 1.0;
        let normal = t.constant(Tensor::from_data(normal, vec![d]));
        let depth = p.mul(&normal).sum_axis(1, true).neg();
        force = force.add(&depth.relu().mul(&x[5]).mul(&normal));
    }
    if f.springs {
        let net = network(n);
        let (a, b): (Vec<usize>, Vec<usize>) = net.pairs().unzip();
        let s = net.len();
        let dv = p.index_select(0, &b).sub(&p.index_select(0, &a));
        let l2 = dv.square().sum_axis(1, true);
        let l = l2.sqrt();
        let stretch = l.sub(&x[7].reshape(&[s, 1]));
        let mut spring = dv.mul(&x[6].reshape(&[s, 1]).mul(&stretch).div(&l));
        if f.damping {
            let w = v.index_select(0, &b).sub(&v.index_select(0, &a));
            let wd = w.mul(&dv).sum_axis(1, true);
            spring = spring.add(&dv.mul(&x[8].reshape(&[s, 1]).mul(&wd).div(&l2)));
        }
        force = force
            .index_add(0, &a, &spring)
            .index_add(0, &b, &spring.neg());
    }
    let v1 = v.add(&force.div(&m).scalar_mul(dt));
    let p1 = p.add(&v1.scalar_mul(dt));
    (p1, v1)
}

#[test]
fn fused_particle_step_matches_reference() {
    let subsets = [
        Forces {
            gravity: true,
            drag: true,
            ground: true,
            springs: false,
            damping: false,
        }, // fused loop
        ALL, // general path
        Forces {
            gravity: false,
            drag: false,
            ground: false,
            springs: true,
            damping: false,
        },
    ];
    for f in subsets {
        for shape in [&[6, 2][..], &[6, 3]] {
            let inputs = particle_inputs(shape, false);
            agree(
                |_t, x| rollout_loss(x, f, Integrator::SemiImplicitEuler, 4),
                |_t, x| {
                    let (mut p, mut v) = (x[0], x[1]);
                    for _ in 0..4 {
                        (p, v) = reference_step(x, f, p, v, 0.05);
                    }
                    project(p, v)
                },
                &inputs,
            );
        }
    }
}

#[test]
fn batched_step_equals_one_call_per_environment() {
    for shape in [&[3, 5, 2][..], &[3, 5, 3]] {
        let inputs = particle_inputs(shape, true);
        let (bsz, n, d) = (shape[0], shape[1], shape[2]);
        let (batched, gb) = value_and_grad(
            |_t, x| rollout_loss(x, ALL, Integrator::SemiImplicitEuler, 3),
            &inputs,
        );
        let mut total = 0.0;
        for b in 0..bsz {
            // Environment b alone: slice every batched input.
            let env: Vec<Tensor> = inputs
                .iter()
                .map(|x| {
                    let per = x.numel() / bsz;
                    let mut s = x.shape[1..].to_vec();
                    if s.is_empty() {
                        s = vec![];
                    }
                    Tensor::from_data(x.data[b * per..(b + 1) * per].to_vec(), s)
                })
                .collect();
            let (value, g) = value_and_grad(
                |_t, x| {
                    let sys = system(x, ALL, n, d, Integrator::SemiImplicitEuler);
                    let (p, v) = sys.rollout_final(&x[0], &x[1], 3).unwrap();
                    // The projection weights of environment b within the batch.
                    let t = p.tape();
                    let wp = Tensor::rand_uniform(&[bsz, n, d], 11);
                    let wv = Tensor::rand_uniform(&[bsz, n, d], 12);
                    let slice = |w: &Tensor| {
                        t.constant(Tensor::from_data(
                            w.data[b * n * d..(b + 1) * n * d].to_vec(),
                            vec![n, d],
                        ))
                    };
                    p.mul(&slice(&wp))
                        .sum()
                        .add(&v.mul(&slice(&wv)).sin().sum())
                },
                &env,
            );
            total += value;
            for (i, (gb, ge)) in gb.iter().zip(&g).enumerate() {
                let per = ge.numel();
                let part = &gb.data[b * per..(b + 1) * per];
                for (x, y) in part.iter().zip(&ge.data) {
                    assert!(
                        (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                        "input {i}, env {b}: {x} vs {y}"
                    );
                }
            }
        }
        assert!((batched - total).abs() <= 1e-12 * total.abs().max(1.0));
    }
}

#[test]
fn parallel_chunks_do_not_change_results() {
    // 3 × 3000 particles: several chunks, run on rayon's pool; the same
    // system split into one call per environment runs each in fewer chunks.
    let (bsz, n) = (3, 3000);
    let shape = [bsz, n, 3];
    let p = Tensor::from_fn(&shape, |ix| {
        if ix[2] == 2 {
            0.01 * ((ix[1] % 7) as f64) - 0.02
        } else {
            0.001 * ix[1] as f64
        }
    });
    let v = Tensor::rand_uniform(&shape, 3);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let t = TensorTape::new();
            let (p, v) = (t.var(p.clone()), t.var(v.clone()));
            let (c, k) = (t.scalar(0.3), t.scalar(1e3));
            let sys = ParticleSystem::new(t.constant(Tensor::ones(&[n])), 1e-3)
                .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
                .with_drag(c)
                .with_ground(Ground::floor(3), k);
            let (p1, _) = sys.rollout_final(&p, &v, 5).unwrap();
            let loss = p1.square().sum();
            (loss.item(), t.grad_wrt(loss, &[p, v, c, k]))
        })
    };
    let (l1, g1) = run(1);
    let (l4, g4) = run(4);
    assert_eq!(l1, l4);
    for (a, b) in g1.iter().zip(&g4) {
        assert_eq!(a, b);
    }
}

/// Gravity and undamped springs, over three steps.
fn spring_loss<'t>(x: &[TVar<'t>]) -> TVar<'t> {
    let f = Forces {
        gravity: true,
        drag: false,
        ground: false,
        springs: true,
        damping: false,
    };
    rollout_loss(x, f, Integrator::SemiImplicitEuler, 3)
}

/// `inputs` as constants on `t`, but for input `which`: `x`.
fn with_only<'t>(t: &'t TensorTape, inputs: &[Tensor], which: usize, x: TVar<'t>) -> Vec<TVar<'t>> {
    let mut xs: Vec<TVar> = inputs.iter().map(|v| t.constant(v.clone())).collect();
    xs[which] = x;
    xs
}

#[test]
fn a_spring_gradient_asked_for_alone_is_the_one_asked_for_with_all() {
    // The spring adjoint skips the stiffness or rest-length gradient that
    // nobody asked for; each one, asked for alone, is what it is with every
    // input, and passes the finite-difference check. 5 and 6 springs: the
    // adjoint's pairs of springs, with and without a last one alone.
    for shape in [&[4, 3][..], &[5, 2]] {
        let inputs = particle_inputs(shape, false);
        let (_, all) = value_and_grad(|_t, x| spring_loss(x), &inputs);
        for which in [6, 7] {
            let t = TensorTape::new();
            let xs = with_only(&t, &inputs, which, t.var(inputs[which].clone()));
            let alone = t.grad_wrt(spring_loss(&xs), &[xs[which]]).remove(0);
            let scale = all[which].data.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (a, b) in alone.data.iter().zip(&all[which].data) {
                assert!((a - b).abs() <= 1e-12 * scale, "input {which}: {a} vs {b}");
            }
            check(
                |t, x| spring_loss(&with_only(t, &inputs, which, x[0])),
                &[inputs[which].clone()],
            );
        }
    }
}
