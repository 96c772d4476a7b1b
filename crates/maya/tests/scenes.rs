//! Scene files (`maya::scene`): load and save, the shipped scenes, errors
//! naming the field and the line, and physics checks on the shipped
//! scenes.

use maya::scene::{
    BodySpec, ContactSpec, GroundSpec, Leaf, Outline, PenaltySpec, RigidScene, Scene,
    SceneTrajectory, ShapeSpec,
};
use maya::{Error, TensorTape};
use std::path::PathBuf;

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../scenes/{name}.json"))
}

const SHIPPED: [&str; 3] = ["box_pile", "billiards", "hanging_cloth"];

/// The scene error's field path and line, or a panic naming what came.
fn field_and_line(e: &Error) -> (String, Option<usize>) {
    match e {
        Error::Scene { field, line, .. } => (field.clone(), *line),
        other => panic!("expected Error::Scene, got {other:?}"),
    }
}

fn rigid_json(bodies: &str) -> String {
    format!(
        "{{\n  \"kind\": \"rigid\",\n  \"name\": \"t\",\n  \"dt\": 0.001,\n  \"steps\": 10,\n  \
         \"contact\": {{\"stiffness\": 1e4}},\n  \"bodies\": [\n{bodies}\n  ]\n}}"
    )
}

#[test]
fn saving_then_loading_gives_the_same_scene() {
    let dir = std::env::temp_dir().join(format!("maya-scenes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut scenes: Vec<Scene> = SHIPPED
        .iter()
        .map(|n| Scene::load(shipped(n)).unwrap())
        .collect();
    // Every optional field set, values that do not print short.
    let mut ball = BodySpec::new(ShapeSpec::Circle { radius: 0.1 }, 1.0 / 3.0, [0.1, 0.7]);
    ball.angle = std::f64::consts::PI / 7.0;
    ball.velocity = [1e-7, -2.5];
    ball.color = Some("#a0b1c2".into());
    let wedge = ShapeSpec::Polygon {
        vertices: vec![[0.0, 0.0], [0.3, 0.0], [0.1, 0.2]],
    };
    let mut heavy = BodySpec::new(wedge, 1.0, [1.0, 0.5]);
    (heavy.density, heavy.mass) = (None, Some(2.0));
    scenes.push(Scene::Rigid(RigidScene {
        name: "all fields".into(),
        description: "a ball and a wedge".into(),
        ground: Some(GroundSpec {
            normal: [-0.1, 1.0],
            height: None,
            point: Some([0.0, -0.25]),
        }),
        contact: ContactSpec {
            penalty: PenaltySpec::Relu,
            ..ContactSpec::default()
        },
        allow_initial_overlap: true,
        bodies: vec![ball, heavy],
        ..RigidScene::default()
    }));
    for scene in scenes {
        let path = dir.join(format!("{}.json", scene.name()));
        scene.save(&path).unwrap();
        assert_eq!(Scene::load(&path).unwrap(), scene, "{}", path.display());
        assert_eq!(Scene::from_json(&scene.to_json()).unwrap(), scene);
        // The generic serde path reads it back too.
        let generic: Scene = serde_json::from_str(&scene.to_json()).unwrap();
        assert_eq!(generic, scene);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_shipped_scene_loads_and_simulates() {
    for name in SHIPPED {
        let scene = Scene::load(shipped(name)).unwrap();
        assert_eq!(scene.name(), name);
        assert!(!scene.description().is_empty());
        let traj = scene
            .clone()
            .with_steps(200)
            .with_frames(4)
            .simulate()
            .unwrap();
        assert_eq!(traj.frames.len(), 5, "{name}");
        assert_eq!(traj.last().step, 200);
        assert!((traj.last().time - 200.0 * traj.dt).abs() < 1e-12);
        for f in &traj.frames {
            assert!(
                f.positions.iter().flatten().all(|x| x.is_finite()),
                "{name}"
            );
        }
    }
}

/// The lowest point of body `b`'s outline in frame `f`.
fn lowest_point(traj: &SceneTrajectory, f: usize, b: usize) -> f64 {
    let frame = &traj.frames[f];
    let y = frame.positions[b][1];
    let (c, s) = (frame.angles[b].cos(), frame.angles[b].sin());
    match &traj.geometry.bodies[b] {
        Outline::Circle { radius } => y - radius,
        Outline::Polygon { vertices } => vertices
            .iter()
            .map(|v| y + s * v[0] + c * v[1])
            .fold(f64::INFINITY, f64::min),
    }
}

#[test]
fn the_box_pile_comes_to_rest_on_the_floor() {
    let scene = Scene::load(shipped("box_pile")).unwrap();
    let traj = scene.simulate().unwrap();
    let last = traj.frames.len() - 1;
    // No body sinks into another deeper than a few millimetres.
    let Scene::Rigid(rigid) = &scene else {
        panic!("the box pile is a rigid scene")
    };
    let end = traj.last();
    let pose: Vec<f64> = (0..end.positions.len())
        .flat_map(|b| [end.positions[b][0], end.positions[b][1], end.angles[b]])
        .collect();
    let contacts = rigid.build_world().unwrap().contacts(&pose);
    assert!(
        contacts.len() > 15,
        "a pile touches: {} contacts",
        contacts.len()
    );
    for c in contacts {
        assert!(c.depth < 5e-3, "{c:?}");
    }
    for b in 0..traj.geometry.bodies.len() {
        let start = lowest_point(&traj, 0, b);
        let low = lowest_point(&traj, last, b);
        // Fallen (every body starts at least 0.1 m up) and not through the
        // floor: at most the penalty's depth under a few boxes' weight.
        assert!(start > 0.1, "body {b} starts at {start}");
        assert!(low > -5e-3 && low < start, "body {b}: lowest point {low}");
        let v = traj.frames[last].velocities[b];
        let w = traj.frames[last].angular_velocities[b];
        // At rest up to the creep of regularised friction: ε = 0.05 m/s
        // times r/√(1 − r²), r = tan α/μ, a few ε on a steep box.
        assert!(
            v[0].hypot(v[1]) < 0.04 && w.abs() < 0.2,
            "body {b} still moves: {v:?}, {w}"
        );
    }
}

#[test]
fn billiards_conserves_momentum_and_keeps_the_balls_on_the_table() {
    let scene = Scene::load(shipped("billiards")).unwrap();
    let Scene::Rigid(rigid) = &scene else {
        panic!("billiards is a rigid scene")
    };
    let world = rigid.build_world().unwrap();
    let mass: Vec<f64> = world.mass_properties().iter().map(|m| m.mass).collect();
    let traj = scene.simulate().unwrap();
    let momentum = |f: usize| {
        let v = &traj.frames[f].velocities;
        [0, 1].map(|k| (0..mass.len()).map(|b| mass[b] * v[b][k]).sum::<f64>())
    };
    let p0 = momentum(0);
    assert!((p0[0] - 0.17 * 3.0).abs() < 1e-12, "the cue ball's {p0:?}");
    let mut hits = 0;
    for f in 0..traj.frames.len() {
        let p = momentum(f);
        // Contact forces come in equal and opposite pairs: exact up to rounding.
        assert!(
            (p[0] - p0[0]).hypot(p[1] - p0[1]) < 1e-12,
            "frame {f}: {p:?} vs {p0:?}"
        );
        let balls = &traj.frames[f].positions[..16];
        for (b, [x, y]) in balls.iter().enumerate() {
            assert!(
                x.abs() < 1.0 && y.abs() < 0.5,
                "ball {b} off the table at frame {f}"
            );
        }
        hits += usize::from(balls.iter().any(|p| p[0].abs() > 0.9 || p[1].abs() > 0.42));
    }
    assert!(hits > 0, "some ball reaches a cushion");
    // The break spreads the rack: every object ball has moved.
    for b in 1..16 {
        let (a, z) = (traj.frames[0].positions[b], traj.last().positions[b]);
        assert!(
            (a[0] - z[0]).hypot(a[1] - z[1]) > 0.05,
            "ball {b} did not move"
        );
    }
}

#[test]
fn the_cloth_hangs_from_its_pins() {
    let traj = Scene::load(shipped("hanging_cloth"))
        .unwrap()
        .simulate()
        .unwrap();
    let (first, last) = (&traj.frames[0], traj.last());
    for &i in &traj.geometry.pinned {
        assert_eq!(last.positions[i], first.positions[i], "pin {i} moved");
        assert_eq!(last.velocities[i], [0.0, 0.0]);
    }
    // Every free particle has dropped; the top row sags between the pins.
    let top_middle = 4;
    assert!(last.positions[top_middle][1] < first.positions[top_middle][1] - 0.02);
    for (i, (a, z)) in first.positions.iter().zip(&last.positions).enumerate() {
        if !traj.geometry.pinned.contains(&i) {
            assert!(z[1] < a[1], "particle {i} did not fall: {a:?} -> {z:?}");
        }
    }
}

#[test]
fn bad_files_name_the_field_and_the_line() {
    // An unknown field (a typo), on line 8.
    let typo = rigid_json(
        "    {\"shape\": {\"circle\": {\"radius\": 0.1}}, \"mass\": 1, \"position\": [0, 1]},\n    \
         {\"shape\": {\"circle\": {\"radus\": 0.1}}, \"mass\": 1, \"position\": [1, 1]}",
    );
    let e = Scene::from_json(&typo).unwrap_err();
    assert_eq!(
        field_and_line(&e),
        ("bodies[1].shape.circle.radus".into(), Some(9))
    );
    assert!(
        e.to_string()
            .contains("unknown field `radus`, expected `radius`"),
        "{e}"
    );
    // A value of the wrong type, on line 4.
    let wrong = rigid_json("").replace("\"dt\": 0.001", "\"dt\": \"fast\"");
    let e = Scene::from_json(&wrong).unwrap_err();
    assert_eq!(field_and_line(&e), ("dt".into(), Some(4)));
    assert!(
        e.to_string().contains("invalid type: string \"fast\""),
        "{e}"
    );
    // A missing field: named, at the line where its object ends.
    let missing =
        rigid_json("    {\"shape\": {\"box\": {\"width\": 1}}, \"mass\": 1, \"position\": [0, 1]}");
    let e = Scene::from_json(&missing).unwrap_err();
    assert_eq!(
        field_and_line(&e),
        ("bodies[0].shape.box.height".into(), Some(8))
    );
    // A bad value: a negative radius, on line 8.
    let negative = rigid_json(
        "    {\"shape\": {\"circle\": {\"radius\": -0.1}}, \"mass\": 1, \"position\": [0, 1]}",
    );
    let e = Scene::from_json(&negative).unwrap_err();
    assert_eq!(
        field_and_line(&e),
        ("bodies[0].shape.circle.radius".into(), Some(8))
    );
    assert!(e.to_string().contains("-0.1 must be positive"), "{e}");
    // A syntax error: the line, no field.
    let e = Scene::from_json("{\"kind\": \"rigid\",\n \"name\": \"x\",\n}").unwrap_err();
    assert_eq!(field_and_line(&e), (String::new(), Some(3)));
    // An unknown kind.
    let e = Scene::from_json("{\"name\": \"x\",\n \"kind\": \"rigd\"}").unwrap_err();
    assert_eq!(field_and_line(&e), ("kind".into(), Some(2)));
    assert!(
        e.to_string().contains("expected `rigid` or `particles`"),
        "{e}"
    );
}

#[test]
fn loading_a_file_names_it() {
    let path = std::env::temp_dir().join(format!("maya-bad-scene-{}.json", std::process::id()));
    std::fs::write(
        &path,
        rigid_json("").replace("\"steps\": 10", "\"steps\": -3"),
    )
    .unwrap();
    let e = Scene::load(&path).unwrap_err().to_string();
    std::fs::remove_file(&path).unwrap();
    let at = format!("{}:5:", path.display());
    assert!(e.starts_with(&at) && e.contains("field `steps`"), "{e}");
    let e = Scene::load("no/such/scene.json").unwrap_err().to_string();
    assert!(e.starts_with("no/such/scene.json: cannot read"), "{e}");
}

fn particles_json(rest: &str) -> String {
    format!(
        "{{\"kind\": \"particles\", \"name\": \"p\", \"dt\": 0.001, \"steps\": 10,\n \
         \"particles\": [{{\"position\": [0, 0], \"mass\": 1}},\n  {{\"position\": [1, 0], \"mass\": 1}}]{rest}\n}}"
    )
}

#[test]
fn checks_name_the_field_and_the_line() {
    let cases: [(String, &str, usize, &str); 7] = [
        (
            particles_json(",\n \"springs\": [{\"stiffness\": 10,\n   \"pairs\": [[0, 1],\n     [1, 2]]}]"),
            "springs[0].pairs[1][1]",
            6,
            "particle 2 does not exist: there are 2",
        ),
        (
            particles_json(",\n \"springs\": [{\"stiffness\": 10, \"pairs\": [[1, 1]]}]"),
            "springs[0].pairs[0]",
            4,
            "joins particle 1 to itself",
        ),
        (
            particles_json(",\n \"pinned\": [0,\n 5]"),
            "pinned[1]",
            5,
            "particle 5 does not exist",
        ),
        (
            rigid_json("    {\"shape\": {\"polygon\": {\"vertices\": [[0, 0], [2, 0], [1, 0.5], [2, 2], [0, 2]]}},\n     \"mass\": 1, \"position\": [0, 3]}"),
            "bodies[0].shape.polygon.vertices",
            8,
            "not convex",
        ),
        (
            rigid_json("    {\"shape\": {\"circle\": {\"radius\": 1}}, \"mass\": 1, \"position\": [0, 3]}")
                .replace("\"dt\": 0.001", "\"dt\": 0"),
            "dt",
            4,
            "0 must be positive",
        ),
        (
            rigid_json("    {\"shape\": {\"circle\": {\"radius\": 1}},\n     \"mass\": 1, \"density\": 2, \"position\": [0, 3]}"),
            "bodies[0]",
            8,
            "not both",
        ),
        (
            rigid_json("    {\"shape\": {\"circle\": {\"radius\": 1}}, \"mass\": 1, \"position\": [0, 3],\n     \"color\": \"red\"}"),
            "bodies[0].color",
            9,
            "#rrggbb",
        ),
    ];
    for (json, field, line, reason) in cases {
        let e = Scene::from_json(&json).unwrap_err();
        assert_eq!(
            field_and_line(&e),
            (field.to_string(), Some(line)),
            "{e}\n{json}"
        );
        assert!(e.to_string().contains(reason), "{e}");
    }
}

#[test]
fn the_worlds_own_checks_surface_as_their_errors() {
    let overlap = rigid_json(
        "    {\"shape\": {\"box\": {\"width\": 1, \"height\": 1}}, \"mass\": 1, \"position\": [0, 1]},\n    \
         {\"shape\": {\"box\": {\"width\": 1, \"height\": 1}}, \"mass\": 1, \"position\": [0.5, 1.3]}",
    );
    let scene = Scene::from_json(&overlap).unwrap();
    let e = scene.simulate().unwrap_err();
    assert!(
        matches!(
            e,
            Error::InitialOverlap {
                body: 0 | 1,
                other: Some(0 | 1),
                ..
            }
        ),
        "{e}"
    );
    let fast = rigid_json(
        "    {\"shape\": {\"circle\": {\"radius\": 0.1}}, \"mass\": 1, \"position\": [0, 1]}",
    )
    .replace("\"dt\": 0.001", "\"dt\": 0.05")
    .replace("\"contact\"", "\"ground\": {\"height\": 0}, \"contact\"");
    let e = Scene::from_json(&fast).unwrap().simulate().unwrap_err();
    assert!(matches!(e, Error::TimeStep { dt, .. } if dt == 0.05), "{e}");
    let stiff = particles_json(",\n \"springs\": [{\"stiffness\": 1e9, \"pairs\": [[0, 1]]}]");
    let e = Scene::from_json(&stiff).unwrap().simulate().unwrap_err();
    assert!(matches!(e, Error::Stability { .. }), "{e}");
}

#[test]
fn scenes_built_in_code_are_checked_without_a_line() {
    let scene = Scene::Rigid(RigidScene {
        bodies: vec![BodySpec::new(
            ShapeSpec::Box {
                width: 0.2,
                height: -1.0,
            },
            1.0,
            [0.0, 1.0],
        )],
        ..RigidScene::default()
    });
    let e = scene.simulate().unwrap_err();
    assert_eq!(
        field_and_line(&e),
        ("bodies[0].shape.box.height".into(), None)
    );
    assert!(
        e.to_string()
            .starts_with("scene: field `bodies[0].shape.box.height`"),
        "{e}"
    );
}

#[test]
fn a_scene_on_a_tape_gives_gradients() {
    let Scene::Rigid(scene) = Scene::load(shipped("billiards")).unwrap() else {
        panic!("billiards is a rigid scene")
    };
    let t = TensorTape::new();
    let m = scene.build(&t, Leaf::Variable).unwrap();
    let end = m.world.rollout(&m.state, &m.params, 2000).unwrap();
    // After 0.2 s the cue ball has not reached the rack (at 0.3 s): it
    // flies freely (no gravity, no table friction), x = x₀ + vx·t, so
    // ∂x/∂vx = 0.2 s and ∂x/∂x₀ = 1.
    let g = t.grad(end.pose.at(&[0, 0]));
    let dv = g.wrt(&m.state.velocity).data[0];
    let dx = g.wrt(&m.state.pose).data[0];
    assert!(
        (dv - 0.2).abs() < 1e-12 && (dx - 1.0).abs() < 1e-12,
        "{dv}, {dx}"
    );
}

#[test]
fn the_readme_excerpt_is_a_scene() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```json\n").expect("README has a JSON scene") + 8;
    let len = readme[start..].find("```").unwrap();
    let Scene::Rigid(scene) = Scene::from_json(&readme[start..start + len]).unwrap() else {
        panic!("the README's scene is rigid")
    };
    assert_eq!((scene.name.as_str(), scene.bodies.len()), ("billiards", 2));
}

#[test]
fn a_particle_settles_on_a_tilted_ground() {
    // A 1 kg particle with strong drag drops onto the line through (0, 0.2)
    // with normal (−0.1, 1), stiffness 1e4 N/m: it rests, sliding slowly
    // (no friction), where the spring holds the normal part of its weight,
    // mg·cos α / k below the surface.
    let json = r#"{"kind": "particles", "name": "drop", "dt": 0.001, "steps": 3000,
      "frames": 3, "drag": 20,
      "ground": {"normal": [-0.1, 1], "point": [0, 0.2], "stiffness": 1e4},
      "particles": [{"position": [0, 1], "mass": 1}]}"#;
    let traj = Scene::from_json(json).unwrap().simulate().unwrap();
    let g = traj.geometry.ground.unwrap();
    let cos = 1.0 / 1.01f64.sqrt();
    assert!((g.normal[1] - cos).abs() < 1e-15 && (g.offset - 0.2 * cos).abs() < 1e-15);
    let p = traj.last().positions[0];
    let height = g.normal[0] * p[0] + g.normal[1] * p[1] - g.offset;
    let sink = 9.81 * cos / 1e4;
    assert!((height + sink).abs() < 1e-6, "{height} vs {}", -sink);
    assert!(p[0] < -0.01, "slides down the slope to the left: {p:?}");
}
