//! Fit an oscillator's frequency and damping through RK4 (the `oscillator`
//! demo; `maya demo oscillator` runs the same and draws its plots).
//!
//!     cargo run --release --example oscillator [-- --short]

fn main() -> Result<(), maya::Error> {
    let short = std::env::args().any(|a| a == "--short");
    let demo = maya::demos::find("oscillator").expect("the oscillator demo exists");
    let report = demo.run(&maya::demos::DemoOptions { short }, &mut |_, _| {})?;
    println!(
        "{} iterations, final loss {:.4e}",
        report.losses.len(),
        report.losses.last().unwrap_or(&f64::NAN)
    );
    for (name, value) in &report.metrics {
        println!("{name:<24} {value:.10e}");
    }
    Ok(())
}
