//! Geometry below every physics layer: the 2D math (written once over
//! `Real`), rigid shapes, their mass properties,
//! and the half-plane ground.

mod mass;
pub(crate) mod math;
mod plane;
mod shape;

pub use mass::{mass_properties, try_mass_properties, unit_mass_properties, MassProperties};
pub use plane::HalfPlane;
pub(crate) use plane::FLOOR;
pub(crate) use shape::shape_offsets;
pub use shape::{Polygon, Shape};
