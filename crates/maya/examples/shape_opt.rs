//! The `shape-opt` demo (see `maya::demos`); `maya demo shape-opt` runs the same and
//! draws its plots.
//!
//!     cargo run --release --example shape_opt [-- --short]

fn main() -> Result<(), maya::Error> {
    maya::demos::example_main("shape-opt")
}
