//! The `maya` command: worked examples (`maya demo`), scene files
//! (`maya run`), benchmarks (`maya bench`) and the compute device
//! (`maya gpu-info`).

mod animate;
mod bench;
mod demo;
mod gif_out;
mod gpu_info;
mod plot;
mod plot_bars;
mod plot_mesh;
mod run;
mod view;

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
    /// Simulate a scene file (JSON) and write its trajectory (CSV, JSON),
    /// an animated GIF and a still of the paths.
    Run(run::RunArgs),
    /// Run the benchmark workloads and print one JSON line per case, as
    /// BENCHMARKS.md specifies.
    Bench(bench::BenchArgs),
    /// Print the compute device maya's GPU kernels would run on: adapter,
    /// backend, f64 support, dtypes and limits (needs the `gpu` feature).
    GpuInfo,
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Demo(args) => demo::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Bench(args) => {
            keep_freed_memory();
            bench::run(&args)
        }
        Command::GpuInfo => gpu_info::run(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Asks glibc's allocator to keep freed memory for reuse instead of handing
/// it back to the kernel (and taking page faults to get it again at the
/// next repetition): the allocator's form of BENCHMARKS.md's rule that work
/// buffers may be reused across repetitions. A no-op elsewhere.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only sets allocator parameters; called before any
        // thread is spawned.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, i32::MAX);
        }
    }
}
