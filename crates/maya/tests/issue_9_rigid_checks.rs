//! Issue 9: rigid-world inputs that gave a silent wrong answer or an error
//! naming the wrong thing.
//!
//! - Bodies that start overlapping were stuck inside each other or flew
//!   apart (a box inside a box left at 40 m/s; a circle 0.3 m under the
//!   floor rose to 3.8 m). An initial state with an overlap deeper than
//!   the tolerance is now `Error::InitialOverlap` naming the bodies and
//!   the depth, with `World::allow_initial_overlap` as the opt-out.
//! - `World::state` with one row for two bodies said "incompatible shapes
//!   [1, 3] and [1, 3]"; it now names the body count.
//! - `mass_from_density` with the wrong count panicked inside the binary
//!   op; it now has a `try_` twin and its panic points at the caller.
//! - A state built from per-body parts, so that only some entries are
//!   parameters (the cue ball's velocity).

use maya::contact::Ground;
use maya::rigid::{Material, RigidState, Shape, World};
use maya::{Error, Tensor, TensorTape};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// The loss of the billiards test: ball 2's x plus ball 1's y at the end.
fn loss<'t>(end: &RigidState<'t>) -> maya::TVar<'t> {
    end.pose.at(&[2, 0]).add(&end.pose.at(&[1, 1]))
}

fn two_boxes() -> World {
    let mut w = World::new(1e-3);
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::rect(1.0, 1.0), 1.0);
    w.add_body(Shape::rect(0.4, 0.4), 1.0);
    w
}

const MATERIAL: Material = Material {
    stiffness: 1e4,
    damping: 10.0,
    friction: 0.5,
    restitution: 0.0,
};

#[test]
fn a_box_inside_a_box_is_an_error_naming_both_and_the_depth() {
    let w = two_boxes();
    let t = TensorTape::new();
    // The small box sits wholly inside the big one, both resting on the floor.
    let e = w
        .try_state(&t, &[[0.0, 0.5, 0.0], [0.1, 0.5, 0.0]], &[[0.0; 3]; 2])
        .unwrap_err();
    let Error::InitialOverlap {
        body, other, depth, ..
    } = e
    else {
        panic!("{e:?}")
    };
    assert_eq!((body.min(other.unwrap()), body.max(other.unwrap())), (0, 1));
    assert!(depth > 0.2, "{depth}");
    let text = e.to_string();
    assert!(text.contains("overlaps body"), "{text}");
    assert!(text.contains("allow_initial_overlap"), "{text}");
}

#[test]
fn a_circle_under_the_floor_is_an_error_naming_the_ground_and_the_depth() {
    let mut w = World::new(1e-3);
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::circle(0.5), 1.0);
    let t = TensorTape::new();
    let e = w
        .try_state(&t, &[[0.0, 0.2, 0.0]], &[[0.0; 3]])
        .unwrap_err();
    assert!(
        matches!(e, Error::InitialOverlap { body: 0, other: None, depth, .. } if (depth - 0.3).abs() < 1e-12),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("initial state: body 0 overlaps the ground by 3.000e-1 m"),
        "{e}"
    );
    // A rollout from a state made by hand at step 0 is checked too.
    let s = RigidState {
        pose: t.var(Tensor::from_data(vec![0.0, 0.2, 0.0], vec![1, 3])),
        velocity: t.var(Tensor::zeros(&[1, 3])),
        step: 0,
    };
    let e = w.rollout(&s, &w.params(&t, MATERIAL), 10).unwrap_err();
    assert!(matches!(e, Error::InitialOverlap { .. }), "{e:?}");
}

#[test]
fn the_opt_out_runs_overlapping_bodies_and_resting_contact_is_accepted() {
    let mut w = World::new(1e-3);
    w.set_ground(Ground::horizontal(0.0));
    w.add_body(Shape::circle(0.5), 1.0);
    let t = TensorTape::new();
    // Resting at its equilibrium depth mg/k (under 1 mm): no error.
    let m = w.mass_properties()[0].mass;
    let resting = 0.5 - m * 9.81 / MATERIAL.stiffness;
    assert!(w.try_state(&t, &[[0.0, resting, 0.0]], &[[0.0; 3]]).is_ok());
    // Deep, but allowed on purpose.
    w.allow_initial_overlap = true;
    let s = w.state(&t, &[[0.0, 0.2, 0.0]], &[[0.0; 3]]);
    assert!(w.rollout(&s, &w.params(&t, MATERIAL), 10).is_ok());
}

#[test]
fn a_state_with_the_wrong_row_count_names_the_body_count() {
    let w = two_boxes();
    let t = TensorTape::new();
    let e = w
        .try_state(&t, &[[0.0, 0.5, 0.0]], &[[0.0; 3]; 2])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "World::state: the world has 2 bodies, but pose has 1 row(s); give one row per body, in the order they were added"
    );
    let e = w
        .try_state(&t, &[[0.0, 0.5, 0.0], [2.0, 0.2, 0.0]], &[[0.0; 3]; 3])
        .unwrap_err();
    assert!(e.to_string().contains("but velocity has 3 row(s)"), "{e}");
}

thread_local! {
    static PANIC_AT: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns (message, file, line) of the
/// panic. Tests of this file that swap the panic hook take this lock, so that one
/// does not restore the default hook while another's panic is under way.
fn panic_site(f: impl FnOnce()) -> (String, String, u32) {
    static HOOK: Mutex<()> = Mutex::new(());
    let _guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    std::panic::set_hook(Box::new(|info| {
        let loc = info.location().unwrap();
        PANIC_AT.with(|p| *p.borrow_mut() = Some((loc.file().to_string(), loc.line())));
    }));
    let payload = catch_unwind(AssertUnwindSafe(f)).unwrap_err();
    let _ = std::panic::take_hook();
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    let (file, line) = PANIC_AT.with(|p| p.borrow_mut().take()).unwrap();
    (msg, file, line)
}

#[test]
fn mass_from_density_with_the_wrong_count_is_an_error_and_panics_at_the_caller() {
    let w = two_boxes();
    let t = TensorTape::new();
    let rho = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0], vec![3]));
    let e = w.try_mass_from_density(&rho).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BodyCount {
                bodies: 2,
                got: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let (msg, file, line) = panic_site(|| {
        w.mass_from_density(&rho);
    });
    assert!(
        msg.contains("World::mass_from_density: the world has 2 bodies, but density"),
        "{msg}"
    );
    assert!(file.ends_with("issue_9_rigid_checks.rs"), "{file}:{line}");
    let (_, file, _) = panic_site(|| {
        w.state(&t, &[[0.0; 3]], &[[0.0; 3]]);
    });
    assert!(file.ends_with("issue_9_rigid_checks.rs"), "{file}");
}

#[test]
fn a_state_from_parts_differentiates_only_the_parts_that_are_variables() {
    let mut w = World::new(1e-3);
    w.gravity = [0.0, 0.0];
    for _ in 0..3 {
        w.add_body(Shape::circle(0.1), 1.0 / (std::f64::consts::PI * 0.01));
    }
    let poses = [[0.0, 0.0, 0.0], [0.5, 0.01, 0.0], [0.8, -0.02, 0.0]];
    let velocities = [[2.0, 0.0, 0.0], [0.0; 3], [0.0; 3]];
    let row = |v: [f64; 3]| Tensor::from_data(v.to_vec(), vec![3]);

    // Only the cue ball's velocity is a variable.
    let t = TensorTape::new();
    let cue = t.var(row(velocities[0]));
    let s = w.state_from_parts(
        &poses.map(|p| t.constant(row(p))),
        &[
            cue,
            t.constant(row(velocities[1])),
            t.constant(row(velocities[2])),
        ],
    );
    let p = w.params(&t, MATERIAL);
    let end = w.rollout(&s, &p, 600).unwrap();
    let g = t.grad(loss(&end));
    let from_parts = g.wrt(&cue).data.clone();

    // The same through a whole-array state: the cue ball's row must agree.
    let t2 = TensorTape::new();
    let s2 = w.state(&t2, &poses, &velocities);
    let end2 = w.rollout(&s2, &w.params(&t2, MATERIAL), 600).unwrap();
    assert_eq!(end.pose.value().data, end2.pose.value().data);
    let g2 = t2.grad(loss(&end2));
    let whole = &g2.wrt(&s2.velocity).data[0..3];
    assert!(from_parts[0].abs() > 1e-3, "{from_parts:?}"); // the cue ball's push matters
    for (a, b) in from_parts.iter().zip(whole) {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{from_parts:?} vs {whole:?}"
        );
    }

    // Bad parts: a count that is not B, a part that is not [3].
    let e = w
        .try_state_from_parts(&[t.constant(row([0.0; 3]))], &[cue])
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::BodyCount {
                bodies: 3,
                got: 1,
                ..
            }
        ),
        "{e:?}"
    );
    let flat = t.constant(Tensor::zeros(&[1, 3]));
    let e = w
        .try_state_from_parts(&[flat, flat, flat], &[cue, cue, cue])
        .unwrap_err();
    assert!(e.to_string().contains("shape [3]"), "{e}");
}

#[test]
#[allow(clippy::reversed_empty_ranges)] // the reversed range is the point
fn panicking_twins_point_at_the_callers_line() {
    let here = "issue_9_rigid_checks.rs";
    let t = TensorTape::new();
    let x = t.var(Tensor::zeros(&[4, 2]));
    type Case<'a> = (&'a str, Box<dyn FnOnce() + 'a>);
    let cases: Vec<Case> = vec![
        (
            "slice",
            Box::new(|| {
                let _ = x.slice(0, 2..1);
            }),
        ),
        (
            "stack",
            Box::new(|| {
                let _ = t.stack(&[x, x], 5);
            }),
        ),
        (
            "matmul",
            Box::new(|| {
                let _ = x.matmul(&x);
            }),
        ),
        (
            "HalfPlane::new",
            Box::new(|| {
                let _ = Ground::new(&[0.0, 0.0], 0.0);
            }),
        ),
        (
            "Adam::new",
            Box::new(|| {
                let _ = maya::optim::Adam::new(f64::NAN);
            }),
        ),
        (
            "World::new",
            Box::new(|| {
                let _ = World::new(-1.0);
            }),
        ),
    ];
    for (what, f) in cases {
        let (msg, file, line) = panic_site(f);
        assert!(
            file.ends_with(here),
            "{what} panicked at {file}:{line}: {msg}"
        );
    }
}
