//! The `maya` command: worked examples (`maya demo`) and benchmarks
//! (`maya bench`).

mod bench;
mod demo;
mod plot;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// maya: differentiable physics in Rust.
#[derive(Parser)]
#[command(name = "maya", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a worked problem (optimisation through simulation) and write its
    /// plots and data; without a name, list the demos.
    Demo(demo::DemoArgs),
    /// Run the benchmark workloads and print one JSON line per case, as
    /// ../shared/peers/WORKLOADS.md specifies.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Demo(args) => demo::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
