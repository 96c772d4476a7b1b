//! Reading scenes from JSON with errors that name the field and the line:
//! serde_json's parser gives the line and column, serde_path_to_error the
//! field's path; a value that parses but fails a check is found again in
//! the text (by serde_json, walking the field's path) for its line.

use super::common::{Invalid, Seg};
use super::{ParticleScene, RigidScene, Scene};
use crate::error::{Error, Result};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess};
use serde::Deserialize;
use std::fmt;

/// The part of a scene read first, to choose its type.
#[derive(Deserialize)]
struct Header {
    kind: Kind,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Rigid,
    Particles,
}

/// Reads and checks a scene from JSON `text` (read from `file`, if given).
pub(crate) fn parse(text: &str, file: Option<&str>) -> Result<Scene> {
    let header: Header = tracked(text, file)?;
    let scene = match header.kind {
        Kind::Rigid => Scene::Rigid(tracked::<RigidScene>(text, file)?),
        Kind::Particles => Scene::Particles(tracked::<ParticleScene>(text, file)?),
    };
    scene
        .check()
        .map_err(|invalid| located(invalid, text, file))?;
    Ok(scene)
}

/// `T` from `text`, or an [`Error::Scene`] with the field path, line and
/// column of the first problem.
fn tracked<T: DeserializeOwned>(text: &str, file: Option<&str>) -> Result<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        // A syntax error's path is only where the parser had got to.
        let syntax = !e.inner().is_data();
        let field = if path == "." || syntax { "" } else { &path };
        let mut error = json_error(e.inner(), field, file);
        // "missing field `steps`" at `bodies[0]`: the field is `bodies[0].steps`.
        if let Error::Scene { field, reason, .. } = &mut error {
            let missing = reason.strip_prefix("missing field `");
            if let Some(name) = missing.and_then(|r| r.strip_suffix('`')) {
                *field = if field.is_empty() {
                    name.to_string()
                } else {
                    format!("{field}.{name}")
                };
                *reason = "required, but missing (the line is where its object ends)".to_string();
            }
        }
        error
    })?;
    de.end().map_err(|e| json_error(&e, "", file))?;
    Ok(value)
}

/// An [`Error::Scene`] from a serde_json error (its message without the
/// position, which the variant holds).
fn json_error(e: &serde_json::Error, field: &str, file: Option<&str>) -> Error {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let reason = message
        .strip_suffix(&suffix)
        .unwrap_or(&message)
        .to_string();
    Error::Scene {
        file: file.map(str::to_string),
        field: field.to_string(),
        line: Some(e.line()),
        column: Some(e.column()),
        reason,
    }
}

/// The error of a check that failed on a scene read from `text`, with the
/// line and column of the field (or of the nearest enclosing field
/// written in the text, for a field left to its default).
pub(crate) fn located(invalid: Invalid, text: &str, file: Option<&str>) -> Error {
    let path = &invalid.field.0;
    let at = (1..=path.len())
        .rev()
        .find_map(|len| locate(text, &path[..len]));
    Error::Scene {
        file: file.map(str::to_string),
        field: invalid.field.to_string(),
        line: at.map(|a| a.0),
        column: at.map(|a| a.1),
        reason: invalid.reason,
    }
}

/// The message of the error that stops the walk where the field is.
const FOUND: &str = "the field is here (maya scene locator)";

/// (line, column) of the field at `path` in `text`: of its key in an
/// object, of its value in a list; `None` if the text has no such field.
fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let mut de = serde_json::Deserializer::from_str(text);
    match Walk(path).deserialize(&mut de) {
        Err(e) if e.to_string().starts_with(FOUND) => Some((e.line(), e.column())),
        _ => None,
    }
}

/// Walks `path` down the document; serde_json gives the error it stops
/// with the position it has reached.
struct Walk<'p>(&'p [Seg]);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.0.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == *want {
                if rest.is_empty() {
                    return Err(de::Error::custom(FOUND)); // just after the key
                }
                return map.next_value_seed(Walk(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.0.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Walk(rest)).map(|_| ())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

impl Walk<'_> {
    /// A value with no fields: the field if the path ends here.
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_keys_and_list_entries() {
        let text = "{\n  \"a\": 1,\n  \"b\": [\n    {\"c\": 2},\n    {\"c\": 3,\n     \"d\": [4, 5]}\n  ]\n}";
        let at = |path: &[Seg]| locate(text, path).map(|a| a.0);
        assert_eq!(at(&[Seg::Key("a")]), Some(2));
        assert_eq!(at(&[Seg::Key("b"), Seg::Index(1), Seg::Key("c")]), Some(5));
        let d1 = [Seg::Key("b"), Seg::Index(1), Seg::Key("d"), Seg::Index(1)];
        assert_eq!(at(&d1), Some(6));
        assert_eq!(at(&[Seg::Key("b"), Seg::Index(0)]), Some(4));
        assert_eq!(at(&[Seg::Key("e")]), None);
        assert_eq!(at(&[Seg::Key("b"), Seg::Index(7)]), None);
    }
}
