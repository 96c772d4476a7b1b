//! [`HalfPlane`]: the one ground of maya, for particles (2D or 3D) and
//! rigid bodies (2D) alike.

use crate::error::OrPanic;
use crate::error::{Error, Result};

/// A solid half-plane {x : n·x ≤ h} with unit outward normal n; free space
/// is n·x > h. In 2D or 3D.
///
/// The normal is normalised on construction (the plane {n·x = h} given
/// with a non-unit n is the same plane as {n̂·x = h/|n|}), so a contact
/// force never scales with the length the caller happened to give.
///
/// ```
/// use maya::geometry::HalfPlane;
/// let floor = HalfPlane::horizontal(0.0);
/// assert_eq!(floor.normal(), [0.0, 1.0]);
/// // A 30° slope through the origin, rising to the right.
/// let slope = HalfPlane::slope(30f64.to_radians());
/// assert!((slope.normal()[0] + 0.5).abs() < 1e-15);
/// // (0, 10)·x = 5 is the plane y = 0.5.
/// let p = HalfPlane::new(&[0.0, 10.0], 5.0);
/// assert_eq!((p.normal(), p.offset()), (&[0.0, 1.0][..], 0.5));
/// assert!(HalfPlane::try_new(&[0.0, 0.0], 0.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfPlane {
    normal: [f64; 3],
    dim: usize,
    offset: f64,
}

/// The 2D floor y ≤ 0.
pub(crate) const FLOOR: HalfPlane = HalfPlane {
    normal: [0.0, 1.0, 0.0],
    dim: 2,
    offset: 0.0,
};

impl HalfPlane {
    /// The floor y ≤ `height` (m), in 2D.
    pub fn horizontal(height: f64) -> HalfPlane {
        HalfPlane {
            normal: [0.0, 1.0, 0.0],
            dim: 2,
            offset: height,
        }
    }

    /// The floor x_{D−1} ≤ 0 in `dim` dimensions (y ≤ 0 in 2D, z ≤ 0 in 3D).
    /// Panics unless `dim` is 2 or 3.
    #[track_caller]
    pub fn floor(dim: usize) -> HalfPlane {
        let mut n = vec![0.0; dim];
        if let Some(last) = n.last_mut() {
            *last = 1.0;
        }
        HalfPlane::new(&n, 0.0)
    }

    /// A 2D plane through the origin rising at `angle` (rad) to the right:
    /// its normal is (−sin α, cos α).
    pub fn slope(angle: f64) -> HalfPlane {
        HalfPlane {
            normal: [-angle.sin(), angle.cos(), 0.0],
            dim: 2,
            offset: 0.0,
        }
    }

    /// The plane n·x = `height` with outward `normal` (2 or 3 components,
    /// any non-zero length). Panics on bad input; see
    /// [`HalfPlane::try_new`].
    #[track_caller]
    pub fn new(normal: &[f64], height: f64) -> HalfPlane {
        Self::try_new(normal, height).or_panic()
    }

    /// [`HalfPlane::new`], returning [`Error::Parameter`] for a normal that
    /// is zero, non-finite or not 2- or 3-dimensional, or a non-finite
    /// height.
    pub fn try_new(normal: &[f64], height: f64) -> Result<HalfPlane> {
        let n = unit_normal(normal)?;
        if !height.is_finite() {
            return Err(Error::Parameter {
                name: "ground height",
                value: height,
                reason: "the ground's offset must be finite",
            });
        }
        let l = norm(normal);
        Ok(HalfPlane {
            offset: height / l,
            ..n
        })
    }

    /// The half-plane through `point` (m) with outward `normal` (any
    /// length). Panics on bad input; see [`HalfPlane::try_through`].
    #[track_caller]
    pub fn through(normal: &[f64], point: &[f64]) -> HalfPlane {
        Self::try_through(normal, point).or_panic()
    }

    /// [`HalfPlane::through`], returning [`Error::Parameter`] naming the
    /// normal or the point when one is bad, or [`Error::Shape`] when their
    /// dimensions differ.
    pub fn try_through(normal: &[f64], point: &[f64]) -> Result<HalfPlane> {
        let mut plane = unit_normal(normal)?;
        if point.len() != normal.len() {
            return Err(Error::Shape {
                op: "HalfPlane::through",
                lhs: vec![normal.len()],
                rhs: vec![point.len()],
                hint: "the normal and the point need the same number of components",
            });
        }
        if let Some(&bad) = point.iter().find(|x| !x.is_finite()) {
            return Err(Error::Parameter {
                name: "ground point",
                value: bad,
                reason: "the point the ground passes through must be finite",
            });
        }
        plane.offset = plane.normal().iter().zip(point).map(|(n, x)| n * x).sum();
        Ok(plane)
    }

    /// Outward unit normal n (2 or 3 components).
    pub fn normal(&self) -> &[f64] {
        &self.normal[..self.dim]
    }

    /// The first two components of the normal (the 2D normal).
    pub(crate) fn normal2(&self) -> [f64; 2] {
        [self.normal[0], self.normal[1]]
    }

    /// Spatial dimension (2 or 3).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Offset h = n·x of the surface (m).
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Signed height n·x − h of a point above the surface (m).
    pub fn height_of(&self, x: &[f64]) -> f64 {
        self.normal().iter().zip(x).map(|(n, x)| n * x).sum::<f64>() - self.offset
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A plane through the origin with the unit normal of `normal`.
fn unit_normal(normal: &[f64]) -> Result<HalfPlane> {
    if !(normal.len() == 2 || normal.len() == 3) {
        return Err(Error::Parameter {
            name: "ground normal dimension",
            value: normal.len() as f64,
            reason: "the ground's normal needs 2 or 3 components",
        });
    }
    if let Some(&bad) = normal.iter().find(|x| !x.is_finite()) {
        return Err(Error::Parameter {
            name: "ground normal",
            value: bad,
            reason: "the ground's normal must be finite",
        });
    }
    let l = norm(normal);
    if l == 0.0 {
        return Err(Error::Parameter {
            name: "ground normal length",
            value: l,
            reason: "the ground needs a non-zero normal",
        });
    }
    let mut n = [0.0; 3];
    for (n, x) in n.iter_mut().zip(normal) {
        *n = x / l;
    }
    Ok(HalfPlane {
        normal: n,
        dim: normal.len(),
        offset: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_bad_part() {
        let e = HalfPlane::try_through(&[0.0, 1.0], &[f64::NAN, 0.0]).unwrap_err();
        assert!(e.to_string().contains("ground point"), "{e}");
        let e = HalfPlane::try_new(&[0.0, 0.0], 0.0).unwrap_err();
        assert!(e.to_string().contains("non-zero normal"), "{e}");
        let e = HalfPlane::try_new(&[0.0, 1.0], f64::NAN).unwrap_err();
        assert!(e.to_string().contains("ground height"), "{e}");
        assert!(HalfPlane::try_new(&[1.0], 0.0).is_err());
    }

    #[test]
    fn normalises_and_keeps_the_plane() {
        // 3x + 4y = 10 is the plane n̂·x = 2 with n̂ = (0.6, 0.8).
        let p = HalfPlane::new(&[3.0, 4.0], 10.0);
        assert_eq!(p.normal(), [0.6, 0.8]);
        assert!((p.offset() - 2.0).abs() < 1e-15);
        assert!(p.height_of(&[2.0, 1.0]).abs() < 1e-15); // 3·2 + 4·1 = 10
    }
}
