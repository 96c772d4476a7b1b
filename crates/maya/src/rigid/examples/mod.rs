//! Worked problems on rigid bodies, callable from tests and from the
//! `maya` command line.

pub mod throw;
