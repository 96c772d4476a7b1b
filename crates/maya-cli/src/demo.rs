//! `maya demo`: list the worked problems, or run one with a progress bar and
//! write its plots and data.

use crate::{plot, plot_bars, plot_mesh};
use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use maya::demos::{find, DemoOptions, DemoReport, Figure, Table, DEMOS};
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
        .map(|d| format!("  {:<15} {}", d.name, d.about))
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
    for fig in &report.mesh_figures {
        written.extend(plot_mesh::mesh_figure(dir, fig)?);
    }
    for chart in &report.bar_charts {
        written.extend(plot_bars::bar_chart(dir, chart)?);
    }
    for table in &report.tables {
        let path = dir.join(format!("{}.csv", table.stem));
        let f = fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
        write_table_csv(f, table).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    if !report.losses.is_empty() {
        let title = format!("{}: loss per iteration", report.name);
        written.extend(plot::loss_curve(dir, &title, &report.losses)?);
    }
    // Data for Python users: one CSV of all curves, one JSON of everything.
    let csv = dir.join("trajectories.csv");
    let f = fs::File::create(&csv).with_context(|| format!("writing {}", csv.display()))?;
    write_csv(f, &report.figures).with_context(|| format!("writing {}", csv.display()))?;
    written.push(csv);
    let data = json!({
        "demo": report.name,
        "losses": report.losses,
        "metrics": report.metrics.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "figures": report.figures.iter().map(|fig| json!({
            "stem": fig.stem, "title": fig.title, "x_label": fig.x_label, "y_label": fig.y_label,
            "curves": fig.curves.iter().map(|c| json!({"label": c.label, "is_target": c.is_target, "points": c.points})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tables": report.tables.iter().map(|t| json!({"stem": t.stem, "title": t.title, "columns": t.columns, "rows": t.rows})).collect::<Vec<_>>(),
        "bar_charts": report.bar_charts.iter().map(|c| json!({
            "stem": c.stem, "title": c.title, "y_label": c.y_label, "log_scale": c.log_scale, "groups": c.groups,
            "series": c.series.iter().map(|s| json!({"label": s.label, "values": s.values})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "mesh_figures": report.mesh_figures.iter().map(|fig| json!({
            "stem": fig.stem, "title": fig.title, "value_label": fig.value_label, "log_scale": fig.log_scale,
            "panels": fig.panels.iter().map(|p| json!({"label": p.label, "vertices": p.vertices, "triangles": p.triangles, "values": p.values})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let path = dir.join("result.json");
    fs::write(&path, serde_json::to_string_pretty(&data)?)
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    Ok(written)
}

/// Writes every point of every curve as a `figure,curve,x,y` record; labels
/// with commas, quotes or newlines are quoted as RFC 4180 says. Numbers are
/// written in Rust's shortest round-trip form.
fn write_csv(out: impl Write, figures: &[Figure]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["figure", "curve", "x", "y"])?;
    for fig in figures {
        for c in &fig.curves {
            for p in &c.points {
                let (x, y) = (format!("{:?}", p[0]), format!("{:?}", p[1]));
                w.write_record([fig.stem.as_str(), c.label.as_str(), &x, &y])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes a table as CSV: its header, then its rows.
fn write_table_csv(out: impl Write, table: &Table) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row)?;
    }
    w.flush()?;
    Ok(())
}

fn print_summary(report: &DemoReport, written: &[PathBuf]) {
    if let (Some(first), Some(last)) = (report.losses.first(), report.losses.last()) {
        println!(
            "{}: {} iterations, loss {first:.3e} -> {last:.3e}",
            report.name,
            report.losses.len(),
        );
    }
    if report.tables.is_empty() {
        for (k, v) in &report.metrics {
            println!("  {k:<24} {v:.10e}");
        }
    }
    for table in &report.tables {
        println!("{}\n", table.render());
    }
    println!("wrote:");
    for p in written {
        println!("  {}", p.display());
    }
}

#[cfg(test)]
mod tests {
    use super::write_csv;
    use maya::demos::{Curve, Figure};

    /// Issue 8: labels with commas were written unquoted, which split them
    /// across columns. A label with a comma and a quote must come back whole.
    #[test]
    fn issue_8_csv_labels_with_commas_and_quotes_round_trip() {
        let label = r#"fit (k = 2, c = 0.1) "final""#;
        let fig = Figure {
            stem: "trajectory".into(),
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            curves: vec![Curve {
                label: label.into(),
                points: vec![[0.5, -1.25], [1e-7, 3.0]],
                is_target: false,
            }],
        };
        let mut bytes = Vec::new();
        write_csv(&mut bytes, &[fig]).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(
            reader.headers().unwrap(),
            &csv::StringRecord::from(vec!["figure", "curve", "x", "y"])
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        // Two points, each one record of exactly four fields.
        assert_eq!(rows.len(), 2);
        for (row, [x, y]) in rows.iter().zip([[0.5, -1.25], [1e-7, 3.0]]) {
            assert_eq!(row.len(), 4);
            assert_eq!(&row[0], "trajectory");
            assert_eq!(&row[1], label);
            assert_eq!(row[2].parse::<f64>().unwrap(), x);
            assert_eq!(row[3].parse::<f64>().unwrap(), y);
        }
    }
}
