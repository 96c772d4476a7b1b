//! Mass properties from shape and density: mass m = ρA and moment of
//! inertia about the centroid I = ρ ∫ |r|² dA.

use super::math::polygon_moments;
use super::shape::Shape;
use crate::error::OrPanic;
use crate::error::{Error, Result};

/// Mass (kg) and moment of inertia about the centroid (kg·m²) of a body.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MassProperties {
    /// m = ρ·A (kg).
    pub mass: f64,
    /// I = ρ·∫|r|² dA about the centroid (kg·m²).
    pub inertia: f64,
}

/// Mass properties of `shape` at areal `density` (kg/m²).
///
/// Circle: A = πr², I = m r²/2. Polygon: the shoelace sums
/// A = ½ Σ cᵢ, I = ρ/12 Σ cᵢ (vᵢ·vᵢ + vᵢ·vᵢ₊₁ + vᵢ₊₁·vᵢ₊₁) with
/// cᵢ = vᵢ × vᵢ₊₁ (vertices about the centroid). A w × h box gets
/// I = m (w² + h²)/12.
///
/// Panics on a density that is not positive and finite; see
/// [`try_mass_properties`].
///
/// ```
/// use maya::rigid::{mass_properties, Shape};
/// let m = mass_properties(&Shape::rect(2.0, 1.0), 3.0);
/// assert!((m.mass - 6.0).abs() < 1e-12);
/// assert!((m.inertia - 6.0 * 5.0 / 12.0).abs() < 1e-12);
/// ```
#[track_caller]
pub fn mass_properties(shape: &Shape, density: f64) -> MassProperties {
    try_mass_properties(shape, density).or_panic()
}

/// [`mass_properties`], returning an error for a bad density.
pub fn try_mass_properties(shape: &Shape, density: f64) -> Result<MassProperties> {
    if !(density > 0.0 && density.is_finite()) {
        return Err(Error::Parameter {
            name: "density",
            value: density,
            reason: "must be positive and finite (kg/m²)",
        });
    }
    let (area, unit_inertia) = unit_mass_properties(shape);
    Ok(MassProperties {
        mass: density * area,
        inertia: density * unit_inertia,
    })
}

/// Area (m²) and second moment of area about the centroid (m⁴): the mass
/// properties at unit density.
pub fn unit_mass_properties(shape: &Shape) -> (f64, f64) {
    match shape {
        Shape::Circle { radius } => {
            let a = std::f64::consts::PI * radius * radius;
            (a, a * radius * radius / 2.0)
        }
        Shape::Polygon(p) => {
            let (a, _, j) = polygon_moments(p.vertices());
            (a, j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // Disc: I = m r²/2 = (π·4)·4/2 at ρ = 1, r = 2.
        let c = mass_properties(&Shape::circle(2.0), 1.0);
        assert!((c.inertia - std::f64::consts::PI * 8.0).abs() < 1e-12);
        // Right triangle with legs a = b = 3: A = 4.5, and about the
        // centroid I_x = I_y = a b³/36 = 2.25, so I = I_x + I_y = 4.5.
        let t = mass_properties(&Shape::polygon(&[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]), 1.0);
        assert!((t.mass - 4.5).abs() < 1e-12);
        assert!((t.inertia - 4.5).abs() < 1e-12, "{}", t.inertia);
        let e = try_mass_properties(&Shape::circle(1.0), 0.0).unwrap_err();
        assert!(e.to_string().contains("density = 0"), "{e}");
    }
}
