//! The `sysid` demo (see `maya::demos`); `maya demo sysid` runs the same and
//! draws its plots.
//!
//!     cargo run --release --example sysid [-- --short]

fn main() -> Result<(), maya::Error> {
    maya::demos::example_main("sysid")
}
