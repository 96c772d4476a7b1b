//! Issue 9, item 2: contact damping created energy. Two 1 kg circles at
//! 1 m/s, contact stiffness 1e4 and damping 2e4 at dt = 1e-3 used to leave
//! at −19 and +20 m/s with `Ok`. The explicit bound now includes damping.

use maya::contact::Ground;
use maya::rigid::{Material, Shape, World};
use maya::{Error, TensorTape};

fn two_circles(damping: f64, dt: f64) -> (World, Material) {
    let mut w = World::new(dt);
    w.gravity = [0.0, 0.0];
    // Unit mass: a circle of radius 0.1 m at density 1/(π·0.01).
    let density = 1.0 / (std::f64::consts::PI * 0.01);
    w.add_body(Shape::circle(0.1), density);
    w.add_body(Shape::circle(0.1), density);
    let material = Material {
        stiffness: 1e4,
        damping,
        friction: 0.0,
        restitution: 0.0,
    };
    (w, material)
}

#[test]
fn a_damper_past_its_explicit_bound_is_an_error_with_both_bounds() {
    let (w, material) = two_circles(2e4, 1e-3);
    let t = TensorTape::new();
    let s = w.state(
        &t,
        &[[-0.2, 0.0, 0.0], [0.2, 0.0, 0.0]],
        &[[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]],
    );
    let p = w.params(&t, material);
    let e = w.rollout(&s, &p, 300).unwrap_err();
    // Two 1 kg bodies: m = 0.5 kg. Spring alone: 2/√(k/m) = 2/√(2e4)
    // ≈ 1.414e-2 s; with c = 2e4: (√(c² + 4km) − c)/k = (√(4e8 + 2e4) − 2e4)/1e4
    // ≈ 5.0e-5 s (≈ m/c), far below dt = 1e-3.
    match &e {
        Error::TimeStep {
            bound,
            stiffness_bound,
            damping,
            mass,
            ..
        } => {
            assert!((mass - 0.5).abs() < 1e-12, "{e}");
            assert!((stiffness_bound - 2.0 / 2e4f64.sqrt()).abs() < 1e-12, "{e}");
            let want = ((4e8f64 + 2e4).sqrt() - 2e4) / 1e4;
            assert!((bound - want).abs() < 1e-15 && *damping == 2e4, "{e}");
        }
        e => panic!("expected a time-step error, got {e}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("damping c = 20000") && msg.contains("with the damper"),
        "{msg}"
    );
}

#[test]
fn below_the_bound_the_damped_collision_loses_energy() {
    // With c = 20 N·s/m the bound is (√(400 + 2e4) − 20)/1e4 ≈ 1.23e-2 s.
    let (mut w, material) = two_circles(20.0, 1e-3);
    w.set_ground(Ground::horizontal(-10.0));
    let t = TensorTape::new();
    let s = w.state(
        &t,
        &[[-0.2, 0.0, 0.0], [0.2, 0.0, 0.0]],
        &[[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]],
    );
    let p = w.params(&t, material);
    let end = w.rollout(&s, &p, 400).unwrap();
    let v = end.velocity.value().data;
    // They separate (restitution > 0) slower than they met.
    assert!(v[0] < 0.0 && v[3] > 0.0, "{v:?}");
    assert!(v[0].abs() < 1.0 && v[3].abs() < 1.0, "{v:?}");
}
