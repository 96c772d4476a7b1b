//! The composed reference of the rigid step: the same formulas (the one
//! contact [law](crate::contact), gravity, semi-implicit Euler) run on the
//! scalar tape, re-detecting contacts each step; the test holds the
//! pipeline's step and its hand-written adjoint to it to 1e-12.

use super::body::RigidParams;
use super::world::World;
use crate::contact::law::{contact_law, LawParams, Side};
use crate::contact::pairs::{geometry, Contact};
use crate::contact::PenaltyContact;
use crate::geometry::math::{cross, Real};
use crate::scalar::{Tape, Var};

fn row<T: Copy>(x: &[T], i: usize) -> [T; 3] {
    [x[3 * i], x[3 * i + 1], x[3 * i + 2]]
}

/// One step over any [`Real`]: (pose', velocity').
#[allow(clippy::too_many_arguments)]
fn step_core<T: Real>(
    elem: &PenaltyContact,
    gravity: [f64; 2],
    contacts: &[Contact],
    pose: &[T],
    vel: &[T],
    mass: &[T],
    inertia: &[T],
    material: [T; 3],
    wrench: &[T],
) -> (Vec<T>, Vec<T>) {
    let b = mass.len();
    let mut force = wrench.to_vec();
    let law = LawParams {
        k: material[0],
        c: material[1],
        mu: material[2],
        penalty: elem.penalty,
        eps: elem.eps,
        dt: elem.dt,
    };
    let floor = crate::geometry::FLOOR;
    for ct in contacts {
        let (a, bb) = (ct.a as usize, ct.b as usize);
        let ground = ct.with_ground();
        let qa = row(pose, a);
        let qb = if ground { qa } else { row(pose, bb) };
        let geo = geometry(
            ct,
            &elem.shapes,
            elem.ground.as_ref().unwrap_or(&floor),
            qa,
            qb,
        );
        let side = |i: usize, q: [T; 3]| Side {
            q,
            v: row(vel, i),
            m: mass[i],
            i: inertia[i],
        };
        let sb = (!ground).then(|| side(bb, qb));
        let lt = contact_law(&law, &geo, &side(a, qa), sb.as_ref());
        force[3 * a] = force[3 * a] + lt.f[0];
        force[3 * a + 1] = force[3 * a + 1] + lt.f[1];
        force[3 * a + 2] = force[3 * a + 2] + cross(lt.ra, lt.f);
        if !ground {
            force[3 * bb] = force[3 * bb] - lt.f[0];
            force[3 * bb + 1] = force[3 * bb + 1] - lt.f[1];
            force[3 * bb + 2] = force[3 * bb + 2] - cross(lt.rb, lt.f);
        }
    }
    let dt = elem.dt;
    let (mut new_pose, mut new_vel) = (Vec::new(), Vec::new());
    for i in 0..b {
        let acc = [
            force[3 * i] / mass[i] + gravity[0],
            force[3 * i + 1] / mass[i] + gravity[1],
            force[3 * i + 2] / inertia[i],
        ];
        for j in 0..3 {
            let v = vel[3 * i + j] + acc[j] * dt;
            new_vel.push(v);
            new_pose.push(pose[3 * i + j] + v * dt);
        }
    }
    (new_pose, new_vel)
}

/// `steps` reference steps and the gradient of L = Σ w·(pose, velocity) of
/// the last state w.r.t. (pose, velocity, mass, inertia, material, wrench).
#[allow(clippy::too_many_arguments)]
pub(crate) fn reference(
    world: &World,
    pose: &[f64],
    vel: &[f64],
    mass: &[f64],
    inertia: &[f64],
    material: [f64; 3],
    wrench: &[f64],
    steps: usize,
    weights: &[f64],
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let elem = world.contact_element();
    let tape = Tape::new();
    let vars = |x: &[f64]| -> Vec<Var> { x.iter().map(|&v| tape.var(v)).collect() };
    let (p0, v0, m, i, mat, w) = (
        vars(pose),
        vars(vel),
        vars(mass),
        vars(inertia),
        vars(&material),
        vars(wrench),
    );
    let (mut p, mut v) = (p0.clone(), v0.clone());
    let mut contacts = Vec::new();
    for _ in 0..steps {
        let values: Vec<f64> = p.iter().map(|x| x.value()).collect();
        elem.detect(&values, &mut contacts);
        (p, v) = step_core(
            &elem,
            world.gravity,
            &contacts,
            &p,
            &v,
            &m,
            &i,
            [mat[0], mat[1], mat[2]],
            &w,
        );
    }
    let state: Vec<Var> = p.iter().chain(&v).copied().collect();
    let mut loss = tape.var(0.0);
    for (s, &wt) in state.iter().zip(weights) {
        loss = loss + *s * wt;
    }
    let g = tape.grad(loss);
    let grads = [&p0, &v0, &m, &i, &mat, &w]
        .iter()
        .map(|xs| xs.iter().map(|x| g.wrt(*x)).collect())
        .collect();
    (state.iter().map(|x| x.value()).collect(), grads)
}

/// Steps the pipeline's rigid step (no stability check) `steps` times.
pub(crate) fn pipeline_steps<'t>(
    world: &World,
    pose: crate::TVar<'t>,
    vel: crate::TVar<'t>,
    params: &RigidParams<'t>,
    steps: usize,
) -> (crate::TVar<'t>, crate::TVar<'t>) {
    let (stepper, rest) = world.unchecked_stepper(params);
    let (mut p, mut v) = (pose, vel);
    for s in 0..steps {
        let mut xs = vec![p, v];
        xs.extend_from_slice(&rest);
        let out = stepper
            .record(pose.tape(), &xs, s)
            .expect("the scene steps");
        (p, v) = (out[0], out[1]);
    }
    (p, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Ground, Penalty};
    use crate::geometry::Shape;
    use crate::tape::{TVar, TensorTape};
    use crate::tensor::Tensor;

    /// Ground, two circles, a box and a triangle, placed so that every
    /// feature kind is in contact: circle–ground, vertex–ground,
    /// circle–circle, circle–face, circle–vertex and vertex–face.
    fn scene(penalty: Penalty) -> (World, Vec<f64>, Vec<f64>) {
        let shapes = vec![
            Shape::circle(0.3),                                    // 0 on the ground
            Shape::circle(0.25),                                   // 1 on circle 0
            Shape::rect(1.0, 0.5),                                 // 2 on the ground
            Shape::polygon(&[[0.0, 0.0], [0.6, 0.0], [0.2, 0.5]]), // 3 on box 2
            Shape::circle(0.2),                                    // 4 on box 2's corner
            Shape::circle(0.2),                                    // 5 on box 2's top face
        ];
        let ground = Ground::through(&[0.02, 1.0], &[1.5, 0.0]);
        let rot = crate::contact::pairs::rot;
        let gn = ground.normal2();
        let on = |p: [f64; 2], n: [f64; 2], h: f64| [p[0] + n[0] * h, p[1] + n[1] * h];
        let c0 = on([0.0, 0.02 * 1.5], gn, 0.29);
        let c1 = on(c0, [0.6, 0.8], 0.3 + 0.25 - 0.012);
        let th2 = 0.02;
        // Box: its bottom-left vertex 5 mm into the ground.
        let u = rot(th2, [-0.5, -0.25]);
        let h0 = ground.height_of(&[3.0 + u[0], u[1]]);
        let c2 = [3.0, (-0.005 - h0) / gn[1]];
        let n_top = rot(th2, [0.0, 1.0]);
        let top = |x: f64| {
            let r = rot(th2, [x, 0.25]);
            [c2[0] + r[0], c2[1] + r[1]]
        };
        // Triangle: its vertex 0 5 mm below the box's top face.
        let (th3, tri_u0) = (0.05, [-0.6 / 2.25, -0.5 / 3.0]);
        let v0 = rot(th3, tri_u0);
        let s0 = n_top[0] * (3.1 + v0[0] - top(0.0)[0]) + n_top[1] * (v0[1] - top(0.0)[1]);
        let c3 = [3.1, (-0.005 - s0) / n_top[1]];
        let corner = top(0.5);
        let diag = rot(th2, [std::f64::consts::FRAC_1_SQRT_2; 2]);
        let c4 = on(corner, diag, 0.19);
        let c5 = on(top(-0.3), n_top, 0.19);
        let pose = vec![
            c0[0], c0[1], 0.1, c1[0], c1[1], -0.2, c2[0], c2[1], th2, //
            c3[0], c3[1], th3, c4[0], c4[1], 0.3, c5[0], c5[1], 0.0,
        ];
        let vel = Tensor::rand_uniform(&[18], 3).data;
        let mut world = World::new(1e-3);
        for s in shapes {
            world.add_body(s, 1.0);
        }
        world.set_ground(ground);
        world.gravity = [0.0, -9.81];
        world.penalty = penalty;
        world.friction_regularization = 0.05;
        (world, pose, vel)
    }

    #[test]
    fn pipeline_step_matches_scalar_reference() {
        for penalty in [Penalty::Relu, Penalty::Softplus { width: 0.01 }] {
            let (world, pose, vel) = scene(penalty);
            let mut contacts = Vec::new();
            world.contact_element().detect(&pose, &mut contacts);
            let kinds: Vec<_> = contacts
                .iter()
                .map(|c| std::mem::discriminant(&c.feature))
                .collect();
            let distinct: std::collections::BTreeSet<String> = contacts
                .iter()
                .map(|c| {
                    format!("{:?}", c.feature)
                        .split('(')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(
                distinct.len(),
                6,
                "every feature kind in contact: {contacts:?}"
            );
            assert!(kinds.len() >= 6);
            let mass = vec![1.0, 0.8, 2.0, 0.7, 0.5, 0.6];
            let inertia = vec![0.05, 0.03, 0.2, 0.04, 0.01, 0.012];
            let material = [2e3, 5.0, 0.4];
            let wrench = Tensor::rand_uniform(&[18], 9).data;
            let weights = Tensor::rand_uniform(&[36], 11).data;
            let steps = 5;
            let (want, want_grads) = reference(
                &world, &pose, &vel, &mass, &inertia, material, &wrench, steps, &weights,
            );

            let t = TensorTape::new();
            let inputs: Vec<TVar> = [
                Tensor::from_data(pose.clone(), vec![6, 3]),
                Tensor::from_data(vel.clone(), vec![6, 3]),
                Tensor::from_data(mass.clone(), vec![6]),
                Tensor::from_data(inertia.clone(), vec![6]),
                Tensor::from_data([&material[..], &[0.0]].concat(), vec![4]),
                Tensor::from_data(wrench.clone(), vec![6, 3]),
            ]
            .into_iter()
            .map(|x| t.var(x))
            .collect();
            let params = RigidParams {
                mass: inputs[2],
                inertia: inputs[3],
                material: inputs[4],
                wrench: Some(inputs[5]),
                kappa: None,
                shapes: None,
            };
            let (p, v) = pipeline_steps(&world, inputs[0], inputs[1], &params, steps);
            let wp = t.constant(Tensor::from_data(weights[..18].to_vec(), vec![6, 3]));
            let wv = t.constant(Tensor::from_data(weights[18..].to_vec(), vec![6, 3]));
            let loss = p.mul(&wp).sum().add(&v.mul(&wv).sum());
            let got: Vec<f64> = p.value().data.into_iter().chain(v.value().data).collect();
            for (a, b) in got.iter().zip(&want) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "{penalty:?}: value {a} vs {b}"
                );
            }
            let g = t.grad(loss);
            for (k, x) in inputs.iter().enumerate() {
                for (e, (a, b)) in g[x.idx()].data.iter().zip(&want_grads[k]).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{penalty:?}: input {k} element {e}: pipeline {a} vs reference {b}"
                    );
                }
            }
        }
    }
}
