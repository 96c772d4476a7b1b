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

#[test]
fn soft_fit_recovers_the_stiff_inclusion() {
    let r = run_short("soft-fit");
    let m = |k: &str| r.metric(k).unwrap();
    println!("{:?}", r.metrics);
    assert!(m("loss reduction") > 1e3, "{:?}", r.metrics);
    // The uniform guess (2× the matrix, 2.5× under the inclusion) is off by
    // a mean |ln| of 0.71; the fit brings the matrix within 15 % and finds
    // most of the 5× contrast (the smoothness term blurs its edge).
    assert!(m("log error initial") > 0.7);
    assert!(m("log error matrix") < 0.15, "{:?}", r.metrics);
    assert!(m("log error inclusion") < 0.45, "{:?}", r.metrics);
    assert!(
        m("contrast fitted") > 3.0 && m("contrast fitted") < 7.0,
        "{:?}",
        r.metrics
    );
    // The field figure: truth (two values, 5× apart), a uniform guess,
    // two iterates and the fit, one value per triangle.
    let fig = &r.mesh_figures[0];
    assert_eq!(fig.panels.len(), 5);
    for p in &fig.panels {
        assert_eq!(p.values.len(), p.triangles.len());
    }
    let truth = &fig.panels[0].values;
    let (lo, hi) = truth.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    assert!((hi / lo - 5.0).abs() < 1e-12, "{lo} {hi}");
    let guess = &fig.panels[1].values;
    assert!(guess.iter().all(|v| *v == guess[0]));
}

#[test]
fn shape_opt_stiffens_the_beam_at_fixed_area_with_sound_elements() {
    use maya::fem::TriMesh;
    let r = run_short("shape-opt");
    let m = |k: &str| r.metric(k).unwrap();
    println!("{:?}", r.metrics);
    assert!(
        m("tip deflection final") < 0.8 * m("tip deflection initial"),
        "{:?}",
        r.metrics
    );
    assert!(m("compliance ratio") < 0.8, "{:?}", r.metrics);
    // The line search only accepts steps that lower the loss.
    assert!(r.losses.windows(2).all(|w| w[1] <= w[0]), "{:?}", r.losses);
    // The shapes drawn, read back as meshes: the area is held, no element
    // has degenerated, and the clamped and loaded vertices have not moved.
    let panels = &r.mesh_figures[0].panels;
    let mesh =
        |k: usize| TriMesh::new(panels[k].vertices.clone(), panels[k].triangles.clone()).unwrap();
    let (first, last) = (mesh(0), mesh(panels.len() - 1));
    assert!(
        (last.total_area() - first.total_area()).abs() < 1e-10 * first.total_area(),
        "area {} → {}",
        first.total_area(),
        last.total_area()
    );
    assert!(last.min_quality() > 0.5, "{}", last.min_quality());
    let moved = first
        .vertices()
        .iter()
        .zip(last.vertices())
        .filter(|(p, q)| p != q)
        .count();
    assert!(
        moved > first.n_vertices() / 2,
        "the design moved {moved} vertices"
    );
    for (p, q) in first.vertices().iter().zip(last.vertices()) {
        let held = p[0] == 0.0 || (p[0] == 4.0 && (p[1] - 0.5).abs() <= 0.25);
        if held {
            assert_eq!(p, q, "a held vertex moved");
        }
    }
}

/// A metric of the contact-models demo: `scene/model setting/what`.
fn contact_metric(r: &DemoReport, scene: &str, setting: &str, what: &str) -> f64 {
    let name = format!("{scene}/{setting}/{what}");
    r.metric(&name)
        .unwrap_or_else(|| panic!("no metric {name}: {:?}", r.metrics))
}

#[test]
fn contact_models_complementarity_matches_the_closed_forms_at_small_kappa() {
    let r = run_short("contact-models");
    let table = &r.tables[0];
    println!("{}", table.render());
    let hard = "complementarity κ = 1e-10 J, h = 5 ms";
    // The inelastic collision lands exactly (the φ/h term): position to
    // 1e-6 m, every gradient entry (positions, velocities, masses) to 1e-4.
    let m = |scene: &str, setting: &str, what: &str| contact_metric(&r, scene, setting, what);
    // The elastic bounce (restitution with its time-of-impact correction):
    // y(T) to 1e-9 m, ∂y/∂(y₀, v_y) = (−1, −T) to 1e-6.
    assert!(m("bounce", hard, "value error") < 1e-9);
    assert!(m("bounce", hard, "gradient error") < 1e-6);
    assert!(m("inelastic", hard, "value error") < 1e-6);
    assert!(m("inelastic", hard, "gradient error") < 1e-4);
    // The box stops where semi-implicit Euler with exact Coulomb friction
    // stops at the same step; its distance to the continuum v₀²/(2μg) is
    // the time discretisation's, about v₀h/2.
    assert!(m("slide", hard, "value error (discrete)") < 1e-6);
    assert!(m("slide", hard, "gradient error (discrete)") < 1e-5);
    let continuum = m("slide", hard, "value error");
    assert!(
        continuum > 0.2 * 2.5e-3 && continuum < 2.5e-3 * 2.0,
        "{continuum}"
    );
    // Smoothing: the bounce's and the collision's gradient errors grow
    // with κ.
    for scene in ["bounce", "inelastic"] {
        let err = |kappa: &str| {
            m(
                scene,
                &format!("complementarity κ = {kappa} J, h = 5 ms"),
                "gradient error",
            )
        };
        assert!(
            err("1e-10") < err("1e-6") && err("1e-6") < err("1e-3"),
            "{scene}"
        );
    }
    // One row per scene and setting, and the discrete reference.
    assert_eq!(table.rows.len(), 3 * 6 + 1);
    assert_eq!(r.bar_charts[0].series.len(), 6);
    assert!(r.bar_charts[0].series.iter().all(|s| s.values.len() == 3));
}

#[test]
fn contact_models_penalty_errors_follow_the_contact_duration() {
    let r = run_short("contact-models");
    let m = |scene: &str, setting: &str, what: &str| contact_metric(&r, scene, setting, what);
    let soft = "penalty k = 1e4 N/m, softplus w = 1 mm, dt = 0.1 × stable";
    let stiff = "penalty k = 1e6 N/m, softplus w = 0.2 mm, dt = 0.05 × stable";
    // An undamped spring returns the ball at its speed after π/ω, so
    // ∂y/∂v_y = −T + π/ω: a relative error of π/(ωT), ω = √(k/m), T = 0.5 s.
    for (setting, k) in [(soft, 1e4_f64), (stiff, 1e6)] {
        let want = std::f64::consts::PI / f64::sqrt(k) / 0.5;
        let got = m("bounce", setting, "gradient error");
        assert!(
            (got - want).abs() < 0.15 * want,
            "{setting}: {got} vs π/(ωT) = {want}"
        );
    }
    // The inelastic collision: the penalty's gradient is far worse than
    // near-hard complementarity's at either stiffness.
    let hard = m(
        "inelastic",
        "complementarity κ = 1e-10 J, h = 5 ms",
        "gradient error",
    );
    for setting in [soft, stiff] {
        assert!(m("inelastic", setting, "gradient error") > 100.0 * hard);
    }
}

#[test]
fn billiards_sends_the_chosen_ball_to_the_target() {
    let r = run_short("billiards");
    let m = |k: &str| r.metric(k).unwrap();
    println!("{:?}", r.metrics);
    // The target is where a hidden shot sends the ball, so it can be
    // reached: the loss falls ten-thousandfold and the ball ends within a
    // fiftieth of its radius (1 mm) of the target.
    assert!(m("loss reduction") > 1e4, "{:?}", r.metrics);
    assert!(m("distance final") < 1e-3, "{:?}", r.metrics);
    assert!(m("distance initial") > 5.0 * m("distance final"));
    // Both figures: the chosen ball's path per iterate beside the target,
    // and every ball's path with the optimised cue (7 balls, the starts,
    // the target); the final path ends at the reported distance.
    let (paths, table) = (&r.figures[0], &r.figures[1]);
    assert_eq!(table.curves.iter().filter(|c| !c.is_target).count(), 7);
    let target = paths.curves.iter().find(|c| c.is_target).unwrap().points[0];
    let last = paths.curves.iter().rfind(|c| !c.is_target).unwrap();
    let end = last.points.last().unwrap();
    let d = ((end[0] - target[0]).powi(2) + (end[1] - target[1]).powi(2)).sqrt();
    assert!((d - m("distance final")).abs() < 1e-12, "{d}");
}
