//! `maya bench`: the workloads of BENCHMARKS.md, timed, printed as JSON
//! lines (one per workload × size × mode).

mod fem_explicit;
mod mass_spring;
#[cfg(feature = "gpu")]
mod mass_spring_gpu;
mod matmul;
#[cfg(feature = "gpu")]
mod matmul_gpu;
mod particles;
#[cfg(feature = "gpu")]
mod particles_gpu;
mod rigid_pile;
mod scalar_chain;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// Which workloads, sizes and modes to time, and how often.
#[derive(Args)]
pub struct BenchArgs {
    /// Workload: all, W1..W5, R1, or names (scalar-chain, particles, mass-spring, matmul, rigid-pile, fem-explicit), comma-separated.
    #[arg(long, default_value = "all")]
    workload: String,
    /// One size (K, N or n); default: every size of the spec.
    #[arg(long)]
    size: Option<usize>,
    /// forward, grad or both.
    #[arg(long, default_value = "both")]
    mode: String,
    /// Timed repetitions after one warm-up.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Where to run: cpu, or gpu (W2, W3 and W4 so far; needs the `gpu` feature;
    /// the adapter is printed on stderr and named in each line).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// W2 on a device: steps per dispatch of the fused rollout kernel (1:
    /// one dispatch per step).
    #[arg(long, default_value_t = 1)]
    steps_per_dispatch: usize,
    /// The device tensors' float type: f64, or f32 (with `--device gpu`;
    /// the host runs f64); named in each line's `system` and `dtype`.
    #[arg(long, default_value = "f64")]
    dtype: String,
}

/// What one timed repetition returns: the loss and, in grad mode, the
/// named checks.
pub struct Outcome {
    pub loss: f64,
    pub checks: Vec<(&'static str, Vec<f64>)>,
    /// Checks that are the sum of a gradient's entries: the entries, summed
    /// after the clock stops (WORKLOADS.md: reducing gradients to checks is
    /// not timed).
    pub sums: Vec<(&'static str, Vec<f64>)>,
}

/// A workload: its name, alias, sizes, and a constructor of a runnable case.
pub struct Workload {
    pub name: &'static str,
    pub alias: &'static str,
    pub sizes: &'static [usize],
    /// Builds the inputs for a size (untimed) and returns the timed body.
    pub prepare: fn(usize, bool) -> Box<dyn FnMut() -> Outcome>,
}

fn workloads() -> Vec<Workload> {
    vec![
        scalar_chain::workload(),
        particles::workload(),
        mass_spring::workload(),
        matmul::workload(),
        rigid_pile::workload(),
        rigid_pile::complementarity_workload(),
        fem_explicit::workload(),
    ]
}

fn select(spec: &str) -> Result<Vec<Workload>> {
    let all = workloads();
    if spec == "all" {
        return Ok(all);
    }
    let wanted: Vec<&str> = spec.split(',').map(str::trim).collect();
    for w in &wanted {
        if !all.iter().any(|x| x.name == *w || x.alias == *w) {
            let valid: Vec<String> = all
                .iter()
                .map(|x| format!("{} ({})", x.name, x.alias))
                .collect();
            bail!(
                "unknown workload `{w}`; valid workloads: all, {}",
                valid.join(", ")
            );
        }
    }
    Ok(all
        .into_iter()
        .filter(|x| wanted.iter().any(|w| x.name == *w || x.alias == *w))
        .collect())
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let modes: &[&str] = match args.mode.as_str() {
        "both" => &["forward", "grad"],
        "forward" => &["forward"],
        "grad" => &["grad"],
        m => bail!("unknown mode `{m}`; valid modes: forward, grad, both"),
    };
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let selected = select(&args.workload)?;
    match args.device.as_str() {
        "cpu" if args.dtype != "f64" => {
            bail!(
                "the host runs f64 only; --dtype {} needs --device gpu",
                args.dtype
            )
        }
        "cpu" => {}
        "gpu" => return run_on_device(args, &selected, modes),
        d => bail!("unknown device `{d}`; valid devices: cpu, gpu"),
    }
    for w in selected {
        let sizes: Vec<usize> = match args.size {
            Some(s) => vec![s],
            None => w.sizes.to_vec(),
        };
        for size in sizes {
            for &mode in modes {
                let line = time_case(&w, size, mode, args.runs);
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// `--device gpu`: the workloads that have device kernels (W2, W3, W4).
#[cfg(feature = "gpu")]
fn run_on_device(args: &BenchArgs, selected: &[Workload], modes: &[&str]) -> Result<()> {
    type Prepare = fn(&maya::gpu::Device, usize, bool, usize) -> Box<dyn FnMut() -> Outcome>;
    let on_device = |w: &Workload| -> Option<Prepare> {
        match w.alias {
            "W2" => Some(particles_gpu::prepare),
            "W3" => Some(mass_spring_gpu::prepare),
            "W4" => Some(matmul_gpu::prepare),
            _ => None,
        }
    };
    let selected: Vec<&Workload> = match args.workload.as_str() {
        // `all` on a device: every workload that has device kernels.
        "all" => selected.iter().filter(|w| on_device(w).is_some()).collect(),
        _ => selected.iter().collect(),
    };
    if let Some(w) = selected.iter().find(|w| on_device(w).is_none()) {
        bail!(
            "{} ({}) has no device kernels yet; --device gpu runs W2, W3 and W4 only",
            w.name,
            w.alias
        );
    }
    if args.steps_per_dispatch == 0 {
        bail!("--steps-per-dispatch must be at least 1");
    }
    let dtype: maya::gpu::DType = args.dtype.parse().map_err(anyhow::Error::msg)?;
    let options = maya::gpu::DeviceOptions {
        dtype,
        ..Default::default()
    };
    let device = maya::gpu::Device::with_options(options)?;
    let info = device.info();
    eprintln!(
        "device: {} ({}, {}), f64: {}, running {dtype}",
        info.name, info.backend, info.device_type, info.f64
    );
    if !info.dtypes().contains(&dtype) {
        bail!("{} has no {dtype} shaders; pass --dtype f32", info.name);
    }
    for w in selected {
        let prepare = on_device(w).expect("checked above");
        let sizes: Vec<usize> = match args.size {
            Some(s) => vec![s],
            None => w.sizes.to_vec(),
        };
        for size in sizes {
            for &mode in modes {
                let fused = args.steps_per_dispatch;
                let body = prepare(&device, size, mode == "grad", fused);
                let mut line = time_body(w, body, size, mode, args.runs);
                line["system"] = json!(format!("maya-gpu-{dtype}"));
                line["device"] = json!(info.name);
                line["dtype"] = json!(dtype.name());
                if w.alias == "W2" {
                    line["steps_per_dispatch"] = json!(fused);
                }
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// Without the `gpu` feature there are no device kernels.
#[cfg(not(feature = "gpu"))]
fn run_on_device(_: &BenchArgs, _: &[Workload], _: &[&str]) -> Result<()> {
    bail!("this maya was built without GPU support; rebuild with `--features gpu`")
}

fn time_case(w: &Workload, size: usize, mode: &str, runs: usize) -> Value {
    let body = (w.prepare)(size, mode == "grad");
    time_body(w, body, size, mode, runs)
}

/// Times `body` (one warm-up, then `runs` repetitions) and writes the
/// JSON line of BENCHMARKS.md.
fn time_body(
    w: &Workload,
    mut body: Box<dyn FnMut() -> Outcome>,
    size: usize,
    mode: &str,
    runs: usize,
) -> Value {
    let grad = mode == "grad";
    let mut outcome = body(); // warm-up
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        outcome = body();
        times.push(t0.elapsed().as_secs_f64());
    }
    let mut checks = Map::new();
    if grad {
        for (name, v) in &outcome.checks {
            let value = if v.len() == 1 { json!(v[0]) } else { json!(v) };
            checks.insert((*name).to_string(), value);
        }
        for (name, entries) in &outcome.sums {
            checks.insert((*name).to_string(), json!(entries.iter().sum::<f64>()));
        }
    }
    json!({
        "system": "maya",
        "workload": w.name,
        "size": size,
        "mode": mode,
        "median_s": median(&mut times),
        "runs": runs,
        "compile_s": 0.0,
        "loss": outcome.loss,
        "checks": checks,
    })
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}
