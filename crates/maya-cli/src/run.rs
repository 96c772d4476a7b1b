//! `maya run SCENE.json`: simulate a scene file and write its trajectory
//! (CSV, JSON), an animated GIF and a still of the paths.

use crate::animate;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use maya::scene::{Scene, SceneTrajectory};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Options of `maya run`.
#[derive(Args)]
pub struct RunArgs {
    /// The scene file (JSON; see the shipped scenes/ folder).
    scene: PathBuf,
    /// Folder for the outputs (a subfolder named after the scene is made
    /// in it).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Frames to record after the initial one (default: the scene's).
    #[arg(long)]
    frames: Option<usize>,
    /// Steps to simulate (default: the scene's).
    #[arg(long)]
    steps: Option<usize>,
}

pub fn run(args: &RunArgs) -> Result<()> {
    let mut scene = Scene::load(&args.scene)?;
    if let Some(steps) = args.steps {
        scene = scene.with_steps(steps);
    }
    if let Some(frames) = args.frames {
        scene = scene.with_frames(frames);
    }
    scene.validate().context("after --steps/--frames")?;
    let dir = args.out.join(folder_name(scene.name()));
    fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create the output folder {} (is --out writable?)",
            dir.display()
        )
    })?;

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} frame {pos}/{len} [{elapsed}]")
            .expect("a valid template"),
    );
    bar.set_prefix(scene.name().to_string());
    let start = Instant::now();
    let traj = scene.simulate_with(&mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let traj = traj.with_context(|| format!("simulating {}", args.scene.display()))?;
    let simulated = start.elapsed().as_secs_f64();

    let mut written = Vec::new();
    let csv = dir.join("trajectory.csv");
    let file = fs::File::create(&csv).with_context(|| format!("writing {}", csv.display()))?;
    write_csv(file, &traj).with_context(|| format!("writing {}", csv.display()))?;
    written.push(csv);
    let json = dir.join("trajectory.json");
    fs::write(&json, serde_json::to_string(&traj)?)
        .with_context(|| format!("writing {}", json.display()))?;
    written.push(json);
    written.push(animate::gif(&dir, &traj)?);
    written.extend(animate::paths(&dir, &traj)?);
    print_summary(&scene, &traj, simulated, &written);
    Ok(())
}

/// The scene's name as a folder name: letters, digits, `-`, `_` and `.`
/// kept, anything else turned into `_`.
fn folder_name(name: &str) -> String {
    let keep = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let s: String = name
        .chars()
        .map(|c| if keep(c) { c } else { '_' })
        .collect();
    if s.trim_matches('.').is_empty() {
        "scene".into()
    } else {
        s
    }
}

/// One record per frame and body (or particle): `frame, step, time,
/// body, x, y, angle, vx, vy, omega` for rigid scenes, `frame, step,
/// time, particle, x, y, vx, vy` for particles. Numbers in Rust's
/// shortest round-trip form.
fn write_csv(out: impl Write, traj: &SceneTrajectory) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let rigid = !traj.geometry.bodies.is_empty();
    if rigid {
        w.write_record([
            "frame", "step", "time", "body", "x", "y", "angle", "vx", "vy", "omega",
        ])?;
    } else {
        w.write_record(["frame", "step", "time", "particle", "x", "y", "vx", "vy"])?;
    }
    let num = |x: f64| format!("{x:?}");
    for (k, f) in traj.frames.iter().enumerate() {
        for (i, (p, v)) in f.positions.iter().zip(&f.velocities).enumerate() {
            let mut row = vec![
                k.to_string(),
                f.step.to_string(),
                num(f.time),
                i.to_string(),
                num(p[0]),
                num(p[1]),
            ];
            if rigid {
                row.push(num(f.angles[i]));
            }
            row.extend([num(v[0]), num(v[1])]);
            if rigid {
                row.push(num(f.angular_velocities[i]));
            }
            w.write_record(&row)?;
        }
    }
    w.flush()?;
    Ok(())
}

fn print_summary(scene: &Scene, traj: &SceneTrajectory, seconds: f64, written: &[PathBuf]) {
    let last = traj.last();
    let what = if traj.geometry.bodies.is_empty() {
        "particles"
    } else {
        "bodies"
    };
    println!(
        "{}: {} {what}, {} steps of {} s ({:.3} s simulated) in {seconds:.2} s, {} frames",
        scene.name(),
        last.positions.len(),
        last.step,
        traj.dt,
        last.time,
        traj.frames.len()
    );
    if !scene.description().is_empty() {
        println!("  {}", scene.description());
    }
    println!("wrote:");
    for p in written {
        let size = fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        println!("  {} ({})", p.display(), kib(size));
    }
}

fn kib(bytes: u64) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_names_become_safe_folder_names() {
        assert_eq!(folder_name("box_pile"), "box_pile");
        assert_eq!(folder_name("../etc/x y"), ".._etc_x_y");
        assert_eq!(folder_name(".."), "scene");
        assert_eq!(folder_name(""), "scene");
    }
}
