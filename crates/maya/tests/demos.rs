//! Each demo converges, in its short configuration, to its stated tolerance.

use maya::demos::{find, DemoOptions, DemoReport};

fn run_short(name: &str) -> DemoReport {
    let demo = find(name).unwrap_or_else(|| panic!("no demo named {name}"));
    let mut iters = 0;
    let report = demo
        .run(&DemoOptions { short: true }, &mut |_, _| iters += 1)
        .unwrap_or_else(|e| panic!("{name} failed: {e}"));
    assert_eq!(
        iters,
        report.losses.len(),
        "the progress callback sees every iteration"
    );
    report
}

#[test]
fn oscillator_gradient_matches_analytic_and_fit_recovers_parameters() {
    let r = run_short("oscillator");
    let m = |k: &str| r.metric(k).unwrap();
    println!("{:?}", r.metrics);
    // The tape differentiates the RK4 discretisation; RK4's error in x and
    // in ∂x/∂θ is O(dt⁴), so the two gradients agree to about 1e-9 here.
    assert!(
        m("gradient rel. error") < 1e-8,
        "{}",
        m("gradient rel. error")
    );
    // Noise of amplitude 0.02 moves the least-squares optimum only slightly.
    assert!(
        (m("omega fitted") - 2.0).abs() < 0.01,
        "{}",
        m("omega fitted")
    );
    assert!(
        (m("zeta fitted") - 0.1).abs() < 0.01,
        "{}",
        m("zeta fitted")
    );
    assert!(r.losses[0] > 100.0 * r.losses.last().unwrap());
}

#[test]
fn throw_lands_on_target() {
    let r = run_short("throw");
    let m = |k: &str| r.metric(k).unwrap();
    assert!(m("landing error") < 1e-3, "{:?}", r.metrics);
    assert!(m("iterations") < 60.0);
    // The final path ends where the ball lands, near the target.
    let fig = &r.figures[0];
    let last = fig.curves.iter().rfind(|c| !c.is_target).unwrap();
    let end = last.points.last().unwrap();
    assert!(
        (end[0] - m("target x")).abs() < 0.05,
        "path ends at {end:?}"
    );
}

#[test]
fn sysid_recovers_stiffness_and_drag_within_two_percent() {
    let r = run_short("sysid");
    let m = |k: &str| r.metric(k).unwrap();
    assert!(m("k rel. error") < 0.02, "{:?}", r.metrics);
    assert!(m("c rel. error") < 0.02, "{:?}", r.metrics);
}

#[test]
fn cloth_reduces_shape_loss_a_hundredfold() {
    let r = run_short("cloth");
    assert!(
        r.metric("loss reduction").unwrap() >= 100.0,
        "{:?}",
        r.metrics
    );
}
