//! The `throw` demo (see `maya::demos`); `maya demo throw` runs the same and
//! draws its plots.
//!
//!     cargo run --release --example throw [-- --short]

fn main() -> Result<(), maya::Error> {
    maya::demos::example_main("throw")
}
