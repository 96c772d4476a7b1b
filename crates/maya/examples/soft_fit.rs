//! The `soft-fit` demo (see `maya::demos`); `maya demo soft-fit` runs the same and
//! draws its plots.
//!
//!     cargo run --release --example soft_fit [-- --short]

fn main() -> Result<(), maya::Error> {
    maya::demos::example_main("soft-fit")
}
