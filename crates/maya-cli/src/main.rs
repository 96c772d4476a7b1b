//! The `maya` command: benchmarks (and, later, worked examples).

mod bench;

use clap::{Parser, Subcommand};

/// maya: differentiable physics in Rust.
#[derive(Parser)]
#[command(name = "maya", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the benchmark workloads and print one JSON line per case, as
    /// ../shared/peers/WORKLOADS.md specifies.
    Bench(bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Bench(args) => bench::run(&args),
    }
}
