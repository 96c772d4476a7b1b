//! The checks a particle system runs when a step or a rollout starts (once
//! per rollout: its parameters are fixed over it): every parameter value
//! finite, and non-negative where it must be; under an explicit scheme,
//! the stability bounds of its springs (in
//! [`SpringNetwork`](super::SpringNetwork)'s
//! [`check_values`](crate::physics::Element::check_values)), of drag and
//! of the ground on the lightest particle (see
//! [`StabilityLimit`] for the bounds and why they are necessary).

use crate::error::{Error, Result};
use crate::physics::StabilityLimit;
use crate::tensor::Tensor;

/// The reason given for a stiffness, damping, drag or rest length.
pub(crate) const NON_NEGATIVE: &str = "must be finite and ≥ 0";
/// The reason given for a gravity component.
const FINITE: &str = "must be finite";

/// How many environments `x`, with `len` entries per environment, holds
/// (1 for an unbatched value); `None` for a length that is no multiple of
/// `len` (a shape the step rejects).
pub(crate) fn envs(x: &Tensor, len: usize) -> Option<usize> {
    match (x.numel(), len) {
        (0, 0) => Some(1),
        (_, 0) => None,
        (n, len) => (n % len == 0).then_some(n / len),
    }
}

/// Environment `b`'s entries of `x` (all of them when `x` is unbatched).
pub(crate) fn env(x: &Tensor, len: usize, b: usize) -> &[f64] {
    if x.numel() == len {
        &x.data
    } else {
        &x.data[b * len..(b + 1) * len]
    }
}

/// " in environment b" for a batched value, else "".
pub(crate) fn in_env(batched: bool, b: usize) -> String {
    if batched {
        format!(" in environment {b}")
    } else {
        String::new()
    }
}

/// [`Error::ParameterValue`] for the first entry of `x` (`len` entries per
/// environment) that is non-finite, or negative when `non_negative`;
/// `name(i)` names entry i of an environment.
pub(crate) fn check_entries(
    x: &Tensor,
    len: usize,
    non_negative: bool,
    name: impl Fn(usize) -> String,
) -> Result<()> {
    let bad = |v: f64| !v.is_finite() || (non_negative && v < 0.0);
    let Some(j) = x.data.iter().position(|&v| bad(v)) else {
        return Ok(());
    };
    let (b, i) = (j / len.max(1), j % len.max(1));
    Err(Error::ParameterValue {
        name: format!("{}{}", name(i), in_env(x.numel() > len, b)),
        value: x.data[j],
        reason: if non_negative { NON_NEGATIVE } else { FINITE },
    })
}

/// The built-in forces' parameters (each `None` when the force is off).
pub(crate) struct Builtins<'a> {
    pub gravity: Option<&'a Tensor>,
    pub drag: Option<&'a Tensor>,
    pub ground: Option<&'a Tensor>,
}

/// Checks gravity (finite), drag and ground stiffness (finite, ≥ 0), and
/// under `limit` the bounds of drag alone (k = 0, c) and of the ground
/// with the drag as its damping (k_g, c) on each environment's lightest
/// particle: a particle touching the ground feels both.
pub(crate) fn check_builtins(
    f: &Builtins,
    masses: &Tensor,
    n: usize,
    limit: Option<&StabilityLimit>,
) -> Result<()> {
    if let Some(g) = f.gravity {
        let d = g.shape.last().copied().unwrap_or(1);
        check_entries(g, d, false, |i| format!("gravity component {i}"))?;
    }
    if let Some(c) = f.drag {
        check_entries(c, 1, true, |_| "drag".into())?;
    }
    if let Some(k) = f.ground {
        check_entries(k, 1, true, |_| "ground stiffness".into())?;
    }
    let Some(limit) = limit else {
        return Ok(());
    };
    if f.drag.is_none() && f.ground.is_none() {
        return Ok(());
    }
    let scalar_envs = |x: Option<&Tensor>| x.map_or(Some(1), |x| envs(x, 1));
    let (Some(bm), Some(bc), Some(bk)) =
        (envs(masses, n), scalar_envs(f.drag), scalar_envs(f.ground))
    else {
        return Ok(()); // shapes the step reports
    };
    let batch = bm.max(bc).max(bk);
    if [bm, bc, bk].iter().any(|&x| x != 1 && x != batch) {
        return Ok(()); // shapes the step reports
    }
    let batched = batch > 1;
    for b in 0..batch {
        let m = env(masses, n, b);
        let Some((i, &mass)) = m.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) else {
            return Ok(());
        };
        let c = f.drag.map_or(0.0, |c| env(c, 1, b)[0]);
        let particle = || format!("particle {i}{} (the lightest)", in_env(batched, b));
        if f.drag.is_some() {
            limit.check(|| format!("drag on {}", particle()), 0.0, c, mass)?;
        }
        if let Some(k) = f.ground {
            let k = env(k, 1, b)[0];
            let with = if f.drag.is_some() {
                ", with the drag as its damping"
            } else {
                ""
            };
            limit.check(
                || format!("ground contact of {}{with}", particle()),
                k,
                c,
                mass,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_named_with_their_environment() {
        let x = Tensor::from_data(vec![1.0, 2.0, 3.0, f64::NAN], vec![2, 2]);
        let e = check_entries(&x, 2, true, |i| format!("damping of spring {i}")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "damping of spring 1 in environment 1 = NaN is invalid: must be finite and ≥ 0"
        );
        let x = Tensor::from_data(vec![1.0, -2.0], vec![2]);
        let e = check_entries(&x, 2, true, |i| format!("stiffness of spring {i}")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stiffness of spring 1 = -2 is invalid: must be finite and ≥ 0"
        );
        assert!(check_entries(&x, 2, false, |_| "g".into()).is_ok());
    }
}
