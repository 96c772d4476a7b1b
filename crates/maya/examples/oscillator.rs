//! The `oscillator` demo (see `maya::demos`); `maya demo oscillator` runs the same and
//! draws its plots.
//!
//!     cargo run --release --example oscillator [-- --short]

fn main() -> Result<(), maya::Error> {
    maya::demos::example_main("oscillator")
}
