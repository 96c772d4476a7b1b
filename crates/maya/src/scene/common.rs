//! What both kinds of scene share: field paths and the value checks that
//! name them, the ground half-plane, and the schedule of recorded frames.

use crate::error::Result;
use crate::geometry::HalfPlane;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One step of a field path: a key of an object or an index of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(&'static str),
    Index(usize),
}

/// The path of a field in a scene, e.g. `bodies[2].shape.circle.radius`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Field(pub Vec<Seg>);

impl Field {
    /// The path `key` at the top level.
    pub fn root(key: &'static str) -> Field {
        Field(vec![Seg::Key(key)])
    }

    /// This path followed by `key`.
    pub fn key(&self, key: &'static str) -> Field {
        let mut f = self.clone();
        f.0.push(Seg::Key(key));
        f
    }

    /// This path followed by `[index]`.
    pub fn index(&self, index: usize) -> Field {
        let mut f = self.clone();
        f.0.push(Seg::Index(index));
        f
    }

    /// A check of this field that failed for `reason`.
    pub fn invalid(&self, reason: impl Into<String>) -> Invalid {
        Invalid {
            field: self.clone(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A scene value that failed a check: which field and why. Turned into an
/// [`Error::Scene`](crate::Error::Scene), with the line when the scene came
/// from JSON text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Invalid {
    pub field: Field,
    pub reason: String,
}

impl Invalid {
    /// The error of a scene built in code (no file, no line).
    pub fn into_error(self) -> crate::Error {
        crate::Error::Scene {
            file: None,
            field: self.field.to_string(),
            line: None,
            column: None,
            reason: self.reason,
        }
    }
}

/// The result of a scene check.
pub(crate) type Checked<T = ()> = std::result::Result<T, Invalid>;

/// `value` must be finite.
pub(crate) fn finite(field: &Field, value: f64) -> Checked {
    if value.is_finite() {
        Ok(())
    } else {
        Err(field.invalid(format!("{value} is not a finite number")))
    }
}

/// Every entry of `values` must be finite.
pub(crate) fn finite_all(field: &Field, values: &[f64]) -> Checked {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(field
            .index(i)
            .invalid(format!("{} is not a finite number", values[i]))),
        None => Ok(()),
    }
}

/// `value` must be positive and finite.
pub(crate) fn positive(field: &Field, value: f64) -> Checked {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(field.invalid(format!("{value} must be positive and finite")))
    }
}

/// `value` must be zero or positive, and finite.
pub(crate) fn non_negative(field: &Field, value: f64) -> Checked {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(field.invalid(format!("{value} must be zero or positive, and finite")))
    }
}

/// `value` must be at least 1.
pub(crate) fn at_least_one(field: &Field, value: usize) -> Checked {
    if value >= 1 {
        Ok(())
    } else {
        Err(field.invalid("must be at least 1"))
    }
}

fn up() -> [f64; 2] {
    [0.0, 1.0]
}

/// The ground: the solid half-plane below the line n·x = h, with outward
/// normal n (default straight up), given by its `height` h or by a `point`
/// on its surface (neither: h = 0).
///
/// ```
/// use maya::scene::GroundSpec;
/// let g: GroundSpec = serde_json::from_str(r#"{"normal": [-0.5, 1], "point": [0, 0.2]}"#).unwrap();
/// let plane = g.half_plane().unwrap();
/// assert!(plane.height_of(&[0.0, 0.2]).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroundSpec {
    /// Outward normal (any length, not zero). Default (0, 1).
    #[serde(default = "up")]
    pub normal: [f64; 2],
    /// Offset h of the surface n̂·x = h (m), n̂ the unit normal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<f64>,
    /// A point on the surface (m), instead of `height`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<[f64; 2]>,
}

impl Default for GroundSpec {
    fn default() -> Self {
        GroundSpec {
            normal: up(),
            height: Some(0.0),
            point: None,
        }
    }
}

impl GroundSpec {
    /// The half-plane; an [`Error::Scene`](crate::Error::Scene) naming the
    /// field for a bad one.
    pub fn half_plane(&self) -> Result<HalfPlane> {
        self.checked(&Field::root("ground"))
            .map_err(Invalid::into_error)
    }

    pub(crate) fn checked(&self, field: &Field) -> Checked<HalfPlane> {
        let normal = field.key("normal");
        finite_all(&normal, &self.normal)?;
        if self.normal == [0.0, 0.0] {
            return Err(normal.invalid("the normal must not be (0, 0)"));
        }
        match (self.height, self.point) {
            (Some(_), Some(_)) => Err(field.invalid("give `height` or `point`, not both")),
            (_, Some(p)) => {
                finite_all(&field.key("point"), &p)?;
                HalfPlane::try_through(&self.normal, &p).map_err(|e| field.invalid(e.to_string()))
            }
            (h, None) => {
                let h = h.unwrap_or(0.0);
                finite(&field.key("height"), h)?;
                let l = self.normal[0].hypot(self.normal[1]);
                // `height` is the offset along the unit normal.
                HalfPlane::try_new(&self.normal, h * l).map_err(|e| field.invalid(e.to_string()))
            }
        }
    }
}

/// The steps after which a frame is recorded: 0, then `frames` steps
/// spread evenly up to `steps` (fewer when `frames` > `steps`).
pub(crate) fn frame_steps(steps: usize, frames: usize) -> Vec<usize> {
    let frames = frames.clamp(1, steps.max(1));
    let mut at: Vec<usize> = (0..=frames)
        .map(|k| ((k as f64) * steps as f64 / frames as f64).round() as usize)
        .collect();
    at.dedup();
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_print_as_written() {
        let f = Field::root("bodies").index(2).key("shape").key("radius");
        assert_eq!(f.to_string(), "bodies[2].shape.radius");
        let f = Field::root("springs")
            .index(0)
            .key("pairs")
            .index(3)
            .index(1);
        assert_eq!(f.to_string(), "springs[0].pairs[3][1]");
    }

    #[test]
    fn frames_spread_evenly_and_end_at_the_last_step() {
        assert_eq!(frame_steps(10, 5), vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(frame_steps(3, 10), vec![0, 1, 2, 3]);
        let f = frame_steps(1000, 7);
        assert_eq!((f[0], *f.last().unwrap(), f.len()), (0, 1000, 8));
    }

    #[test]
    fn ground_by_height_or_point() {
        let g = GroundSpec {
            normal: [0.0, 2.0],
            height: Some(0.5),
            point: None,
        };
        let p = g.half_plane().unwrap();
        assert_eq!((p.normal(), p.offset()), (&[0.0, 1.0][..], 0.5));
        let both = GroundSpec {
            point: Some([0.0, 0.0]),
            ..g.clone()
        };
        let e = both.half_plane().unwrap_err().to_string();
        assert!(
            e.contains("field `ground`") && e.contains("not both"),
            "{e}"
        );
        let zero = GroundSpec {
            normal: [0.0, 0.0],
            ..g
        };
        let e = zero.half_plane().unwrap_err().to_string();
        assert!(e.contains("`ground.normal`"), "{e}");
    }
}
