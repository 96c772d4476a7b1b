//! The `maya` command: listings, errors, and outputs of a demo run.

use std::process::Command;

fn maya(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_maya"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the maya binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_without_name_lists_demos() {
    let (ok, stdout, _) = maya(&["demo"]);
    assert!(ok);
    for name in ["oscillator", "billiards", "contact-models"] {
        assert!(stdout.contains(name), "{stdout}");
    }
}

#[test]
fn unknown_demo_lists_the_valid_ones() {
    let (ok, _, stderr) = maya(&["demo", "no-such-demo"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown demo `no-such-demo`")
            && ["oscillator", "billiards", "contact-models"]
                .iter()
                .all(|name| stderr.contains(name)),
        "{stderr}"
    );
}

#[test]
fn unknown_workload_lists_the_valid_ones() {
    let (ok, _, stderr) = maya(&["bench", "--workload", "W9"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown workload `W9`") && stderr.contains("scalar-chain"),
        "{stderr}"
    );
}

#[test]
fn unwritable_out_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("maya-cli-test-file-{}", std::process::id()));
    std::fs::write(&dir, b"a file, not a folder").unwrap();
    let (ok, _, stderr) = maya(&[
        "demo",
        "oscillator",
        "--short",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&dir);
    assert!(!ok);
    assert!(stderr.contains("output folder"), "{stderr}");
}

#[test]
fn demo_writes_plots_and_data() {
    let dir = std::env::temp_dir().join(format!("maya-cli-test-out-{}", std::process::id()));
    let (ok, stdout, stderr) = maya(&[
        "demo",
        "oscillator",
        "--short",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    for f in [
        "trajectory.png",
        "trajectory.svg",
        "loss.png",
        "loss.svg",
        "trajectories.csv",
        "result.json",
    ] {
        let p = dir.join("oscillator").join(f);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(
            len > 1000 || (f.ends_with(".json") && len > 100),
            "{} is missing or tiny ({len} bytes)",
            p.display()
        );
    }
    // The CSV parses: a header and records of four fields, x and y numbers.
    let mut csv = csv::Reader::from_path(dir.join("oscillator/trajectories.csv")).unwrap();
    assert_eq!(csv.headers().unwrap(), vec!["figure", "curve", "x", "y"]);
    for record in csv.records() {
        let record = record.unwrap();
        assert_eq!(record.len(), 4, "{record:?}");
        assert!(record[2].parse::<f64>().is_ok() && record[3].parse::<f64>().is_ok());
    }
    let png = std::fs::read(dir.join("oscillator/loss.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let svg = std::fs::read_to_string(dir.join("oscillator/trajectory.svg")).unwrap();
    assert!(
        svg.contains("Damped oscillator") && svg.contains("time t [s]"),
        "titles and labels are drawn"
    );
    assert!(stdout.contains("omega fitted"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The finite-element demos write their mesh figures (PNG, SVG and the
/// triangles as CSV) beside the loss curve and data, and lower the loss.
#[test]
fn fem_demos_write_mesh_plots_and_lower_the_loss() {
    for (demo, figures) in [
        ("soft-fit", ["field", "profile"]),
        ("shape-opt", ["stress", "progress"]),
    ] {
        let dir = std::env::temp_dir().join(format!("maya-cli-test-{demo}-{}", std::process::id()));
        let (ok, stdout, stderr) = maya(&["demo", demo, "--short", "--out", dir.to_str().unwrap()]);
        assert!(ok, "{demo}: {stderr}");
        let out = dir.join(demo);
        let mut files = vec![
            "loss.png".to_string(),
            "loss.svg".into(),
            "trajectories.csv".into(),
            "result.json".into(),
        ];
        for stem in figures {
            files.extend([format!("{stem}.png"), format!("{stem}.svg")]);
        }
        files.push(format!("{}.csv", figures[0]));
        for f in &files {
            let len = std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{demo}: {f} is missing or tiny ({len} bytes)");
        }
        let png = std::fs::read(out.join(format!("{}.png", figures[0]))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // The mesh CSV: a header and one record of nine fields per triangle.
        let mut csv = csv::Reader::from_path(out.join(format!("{}.csv", figures[0]))).unwrap();
        assert_eq!(csv.headers().unwrap().len(), 9);
        let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
        assert!(!rows.is_empty());
        for r in &rows {
            assert!((2..9).all(|k| r[k].parse::<f64>().is_ok()), "{r:?}");
        }
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap())
                .unwrap();
        let losses: Vec<f64> = json["losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(losses.last().unwrap() < &losses[0], "{demo}: {losses:?}");
        let panels = json["mesh_figures"][0]["panels"].as_array().unwrap();
        assert_eq!(
            rows.len(),
            panels
                .iter()
                .map(|p| p["values"].as_array().unwrap().len())
                .sum::<usize>()
        );
        let svg = std::fs::read_to_string(out.join(format!("{}.svg", figures[0]))).unwrap();
        assert!(
            svg.contains(json["mesh_figures"][0]["value_label"].as_str().unwrap()),
            "{demo}: the colour bar is labelled"
        );
        assert!(stdout.contains("loss"), "{stdout}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn bench_prints_spec_json_lines() {
    let (ok, stdout, stderr) = maya(&["bench", "--workload", "W4", "--size", "64", "--runs", "1"]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(lines.len(), 2, "forward and grad");
    let grad: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(grad["system"], "maya");
    assert_eq!(grad["workload"], "matmul");
    assert_eq!(grad["mode"], "grad");
    // L = Σ (AB)² matches the hand-written limit's value at n = 64.
    assert!((grad["loss"].as_f64().unwrap() - 982.3905999999927).abs() < 1e-9 * 982.0);
    assert!(grad["checks"]["sum dL/dA"].is_number());
}

fn scene_file(name: &str) -> String {
    format!("{}/../../scenes/{name}.json", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn run_writes_the_trajectory_and_an_animation() {
    let dir = std::env::temp_dir().join(format!("maya-cli-run-{}", std::process::id()));
    let (ok, stdout, stderr) = maya(&[
        "run",
        &scene_file("billiards"),
        "--steps",
        "400",
        "--frames",
        "8",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("billiards: 20 bodies, 400 steps"),
        "{stdout}"
    );
    let out = dir.join("billiards");
    // CSV: a header, then one record per frame (9) and body (20).
    let mut csv = csv::Reader::from_path(out.join("trajectory.csv")).unwrap();
    let header = [
        "frame", "step", "time", "body", "x", "y", "angle", "vx", "vy", "omega",
    ];
    assert_eq!(csv.headers().unwrap(), header.to_vec());
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 9 * 20);
    // The cue ball (body 0) of the last frame: 400 steps of 0.1 ms at 3 m/s.
    let last_cue = &rows[8 * 20];
    assert_eq!((&last_cue[1], &last_cue[3]), ("400", "0"));
    let x: f64 = last_cue[4].parse().unwrap();
    assert!((x - (-0.5 + 3.0 * 0.04)).abs() < 1e-9, "{x}");
    // JSON: the same frames, and the geometry to draw them.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("trajectory.json")).unwrap())
            .unwrap();
    assert_eq!(json["frames"].as_array().unwrap().len(), 9);
    assert_eq!(json["geometry"]["bodies"].as_array().unwrap().len(), 20);
    assert_eq!(json["frames"][8]["positions"][0][0].as_f64().unwrap(), x);
    // The animation: a GIF with a frame per recorded frame.
    let gif_bytes = std::fs::read(out.join("animation.gif")).unwrap();
    assert_eq!(&gif_bytes[..6], b"GIF89a");
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(gif_bytes.as_slice()).unwrap();
    assert_eq!((decoder.width(), decoder.height()), (720, 480));
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 9);
    for still in ["paths.png", "paths.svg"] {
        let len = std::fs::metadata(out.join(still)).unwrap().len();
        assert!(len > 1000, "{still}: {len} bytes");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_names_the_file_field_and_line_of_a_bad_scene() {
    let path = std::env::temp_dir().join(format!("maya-cli-bad-{}.json", std::process::id()));
    let good = std::fs::read_to_string(scene_file("hanging_cloth")).unwrap();
    std::fs::write(
        &path,
        good.replace("\"spacing\": 0.13", "\"spacing\": -0.13"),
    )
    .unwrap();
    let (ok, _, stderr) = maya(&["run", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert!(!ok);
    let at = format!("{}:11:", path.display());
    assert!(
        stderr.contains(&at) && stderr.contains("field `grid.spacing`: -0.13 must be positive"),
        "{stderr}"
    );
}

/// The comparison demo prints its table and writes it as CSV beside its
/// bar chart; without an optimisation there is no loss curve.
#[test]
fn contact_models_writes_its_table_and_bar_chart() {
    let dir = std::env::temp_dir().join(format!("maya-cli-test-contact-{}", std::process::id()));
    let (ok, stdout, stderr) = maya(&[
        "demo",
        "contact-models",
        "--short",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("gradient error") && stdout.contains("complementarity"),
        "{stdout}"
    );
    let out = dir.join("contact-models");
    for f in [
        "gradient_error.png",
        "gradient_error.svg",
        "errors.csv",
        "result.json",
    ] {
        let len = std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "{f} is missing or tiny ({len} bytes)");
    }
    assert!(!out.join("loss.png").exists());
    let mut csv = csv::Reader::from_path(out.join("errors.csv")).unwrap();
    let columns = csv.headers().unwrap().len();
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(columns, 7);
    assert!(rows.len() >= 15 && rows.iter().all(|r| r.len() == columns));
    // The errors are numbers in scientific notation.
    for r in &rows {
        assert!(
            r[4].parse::<f64>().is_ok() && r[5].parse::<f64>().is_ok(),
            "{r:?}"
        );
    }
    let svg = std::fs::read_to_string(out.join("gradient_error.svg")).unwrap();
    assert!(svg.contains("box sliding to rest"), "group names are drawn");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_device_lists_the_valid_ones() {
    let (ok, _, stderr) = maya(&["bench", "--workload", "W2", "--device", "tpu"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown device `tpu`") && stderr.contains("cpu, gpu"),
        "{stderr}"
    );
}

#[test]
fn a_dtype_other_than_f64_needs_the_device() {
    let (ok, _, stderr) = maya(&["bench", "--workload", "W2", "--dtype", "f32"]);
    assert!(!ok);
    assert!(stderr.contains("--device gpu"), "{stderr}");
}

#[cfg(not(feature = "gpu"))]
#[test]
fn without_the_gpu_feature_device_commands_say_how_to_get_it() {
    for args in [
        &["gpu-info"][..],
        &["bench", "--workload", "W2", "--device", "gpu"][..],
    ] {
        let (ok, _, stderr) = maya(args);
        assert!(!ok, "{args:?}");
        assert!(
            stderr.contains("without GPU support") && stderr.contains("--features gpu"),
            "{stderr}"
        );
    }
}

#[cfg(feature = "gpu")]
#[test]
fn gpu_info_names_the_adapter_and_its_f64_support() {
    let (ok, stdout, stderr) = maya(&["gpu-info"]);
    if !ok && std::env::var("MAYA_REQUIRE_GPU").as_deref() != Ok("1") {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "GPU test skipped: {}", stderr.trim());
        return;
    }
    assert!(ok, "{stderr}");
    for field in [
        "adapter:",
        "backend:",
        "f64 (SHADER_F64):",
        "dtypes:",
        "max storage binding:",
    ] {
        assert!(stdout.contains(field), "{field} missing from {stdout}");
    }
}

#[cfg(feature = "gpu")]
#[test]
fn bench_on_the_device_refuses_workloads_without_device_kernels() {
    let (ok, _, stderr) = maya(&["bench", "--workload", "W1", "--device", "gpu"]);
    assert!(!ok);
    assert!(stderr.contains("W2, W3 and W4 only"), "{stderr}");
    let args = [
        "bench",
        "--workload",
        "W2",
        "--device",
        "gpu",
        "--dtype",
        "f16",
    ];
    let (ok, _, stderr) = maya(&args);
    assert!(!ok);
    assert!(stderr.contains("valid dtypes: f64, f32"), "{stderr}");
}

#[cfg(feature = "gpu")]
#[test]
fn bench_w4_on_the_device_names_it_and_agrees_with_the_cpu() {
    let run = |device: &str| {
        let args = [
            "bench",
            "--workload",
            "W4",
            "--size",
            "20",
            "--mode",
            "grad",
            "--runs",
            "1",
            "--device",
            device,
        ];
        let (ok, stdout, stderr) = maya(&args);
        (ok, stdout, stderr)
    };
    let (ok, gpu, stderr) = run("gpu");
    if !ok && std::env::var("MAYA_REQUIRE_GPU").as_deref() != Ok("1") {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "GPU test skipped: {}", stderr.trim());
        return;
    }
    assert!(ok, "{stderr}");
    let (ok, cpu, stderr) = run("cpu");
    assert!(ok, "{stderr}");
    let line = |s: &str| -> serde_json::Value { serde_json::from_str(s.trim()).unwrap() };
    let (gpu, cpu) = (line(&gpu), line(&cpu));
    assert_eq!(gpu["system"], "maya-gpu-f64", "{gpu}");
    assert!(
        gpu["device"].as_str().is_some_and(|d| !d.is_empty()),
        "{gpu}"
    );
    let loss = |v: &serde_json::Value| v["loss"].as_f64().unwrap();
    let (l_gpu, l_cpu) = (loss(&gpu), loss(&cpu));
    assert!(
        (l_gpu - l_cpu).abs() <= 1e-12 * l_cpu.abs(),
        "{l_gpu} vs {l_cpu}"
    );
}

#[cfg(feature = "gpu")]
#[test]
fn bench_on_the_device_in_f32_names_the_dtype_in_each_line() {
    let args = [
        "bench",
        "--workload",
        "W2",
        "--size",
        "4",
        "--mode",
        "forward",
        "--runs",
        "1",
        "--device",
        "gpu",
        "--dtype",
        "f32",
    ];
    let (ok, stdout, stderr) = maya(&args);
    if !ok && std::env::var("MAYA_REQUIRE_GPU").as_deref() != Ok("1") {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "GPU test skipped: {}", stderr.trim());
        return;
    }
    assert!(ok, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(line["system"], "maya-gpu-f32", "{line}");
    assert_eq!(line["dtype"], "f32", "{line}");
    assert!(line["loss"].as_f64().is_some_and(f64::is_finite), "{line}");
}
