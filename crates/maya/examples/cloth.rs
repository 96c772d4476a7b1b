//! The `cloth` demo (see `maya::demos`); `maya demo cloth` runs the same and
//! draws its plots.
//!
//!     cargo run --release --example cloth [-- --short]

fn main() -> Result<(), maya::Error> {
    maya::demos::example_main("cloth")
}
