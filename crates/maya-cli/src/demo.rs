//! `maya demo`: list the worked problems, or run one with a progress bar and
//! write its plots and data.

use crate::plot;
use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use maya::demos::{find, DemoOptions, DemoReport, DEMOS};
use serde_json::json;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Options of `maya demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// The demo to run; without it, the demos are listed.
    name: Option<String>,
    /// Folder for the outputs (a subfolder per demo is made in it).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// The shortened configuration used by the tests (fewer iterations).
    #[arg(long)]
    short: bool,
}

fn listing() -> String {
    DEMOS
        .iter()
        .map(|d| format!("  {:<12} {}", d.name, d.about))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let Some(name) = &args.name else {
        println!("demos (run one with `maya demo NAME`):\n{}", listing());
        return Ok(());
    };
    let Some(demo) = find(name) else {
        bail!("unknown demo `{name}`; the demos are:\n{}", listing());
    };
    let dir = args.out.join(demo.name);
    fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create the output folder {} (is --out writable?)",
            dir.display()
        )
    })?;
    let probe = dir.join(".write-test");
    fs::write(&probe, b"")
        .with_context(|| format!("the output folder {} is not writable", dir.display()))?;
    let _ = fs::remove_file(probe);

    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} iteration {pos} loss {msg} [{elapsed}]")
            .expect("a valid template"),
    );
    bar.set_prefix(demo.name);
    let options = DemoOptions { short: args.short };
    let report = demo.run(&options, &mut |iter, loss| {
        bar.set_position(iter as u64);
        bar.set_message(format!("{loss:.4e}"));
    });
    bar.finish_and_clear();
    let report = report.with_context(|| format!("demo `{}` failed", demo.name))?;
    let written = write_outputs(&dir, &report)?;
    print_summary(&report, &written);
    Ok(())
}

fn write_outputs(dir: &Path, report: &DemoReport) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for fig in &report.figures {
        written.extend(plot::figure(dir, fig)?);
    }
    let title = format!("{}: loss per iteration", report.name);
    written.extend(plot::loss_curve(dir, &title, &report.losses)?);
    // Data for Python users: one CSV of all curves, one JSON of everything.
    let csv = dir.join("trajectories.csv");
    let mut f = fs::File::create(&csv).with_context(|| format!("writing {}", csv.display()))?;
    writeln!(f, "figure,curve,x,y")?;
    for fig in &report.figures {
        for c in &fig.curves {
            for p in &c.points {
                writeln!(f, "{},{},{:?},{:?}", fig.stem, c.label, p[0], p[1])?;
            }
        }
    }
    written.push(csv);
    let data = json!({
        "demo": report.name,
        "losses": report.losses,
        "metrics": report.metrics.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "figures": report.figures.iter().map(|fig| json!({
            "stem": fig.stem, "title": fig.title, "x_label": fig.x_label, "y_label": fig.y_label,
            "curves": fig.curves.iter().map(|c| json!({"label": c.label, "is_target": c.is_target, "points": c.points})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let path = dir.join("result.json");
    fs::write(&path, serde_json::to_string_pretty(&data)?)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    Ok(written)
}

fn print_summary(report: &DemoReport, written: &[PathBuf]) {
    println!(
        "{}: {} iterations, loss {:.3e} -> {:.3e}",
        report.name,
        report.losses.len(),
        report.losses.first().copied().unwrap_or(f64::NAN),
        report.losses.last().copied().unwrap_or(f64::NAN)
    );
    for (k, v) in &report.metrics {
        println!("  {k:<24} {v:.10e}");
    }
    println!("wrote:");
    for p in written {
        println!("  {}", p.display());
    }
}
