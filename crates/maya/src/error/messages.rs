//! The messages of the [`Error`](super::Error) variants that need more than a format string.

/// " at step 12", or nothing.
pub(super) fn step_suffix(step: &Option<usize>) -> String {
    match step {
        Some(s) => format!(" at step {s}"),
        None => String::new(),
    }
}

/// The message of [`Error::Stability`](super::Error::Stability).
#[allow(clippy::too_many_arguments)]
pub(super) fn stability_message(
    element: &str,
    scheme: &str,
    dt: &f64,
    bound: &f64,
    formula: &str,
    stiffness_bound: &f64,
    stiffness: &f64,
    damping: &f64,
    mass: &f64,
) -> String {
    let (dt, bound, stiffness_bound) = (*dt, *bound, *stiffness_bound);
    let (stiffness, damping, mass) = (*stiffness, *damping, *mass);
    let alone = if stiffness > 0.0 && damping > 0.0 && stiffness_bound > bound {
        format!(" ({stiffness_bound:.3e} s for the stiffness alone)")
    } else {
        String::new()
    };
    format!(
        "dt = {dt} is too large for {element} under {scheme}: with stiffness k = {stiffness}, \
         damping c = {damping} and mass m = {mass} explicit integration needs \
         dt < {formula} = {bound:.3e} s{alone}; lower dt, the stiffness or the damping, \
         or use Integrator::BackwardEuler"
    )
}

/// The message of [`Error::Memory`](super::Error::Memory).
pub(super) fn memory_message(
    steps: &usize,
    record: &str,
    estimate: &u64,
    budget: &u64,
    segment: &Option<usize>,
    segment_estimate: &u64,
) -> String {
    let instead = match *segment {
        Some(s) => {
            let fits = if segment_estimate > budget {
                ", also over the budget"
            } else {
                ""
            };
            format!(
                "use Record::Checkpointed {{ segment: Some({s}) }} (about {}{fits}), ",
                bytes(*segment_estimate)
            )
        }
        None => String::new(),
    };
    format!(
        "recording {steps} steps of this rollout ({record}) needs about {}, over the memory \
         budget of {}; {instead}Record::Last if no gradient is needed (it then records \
         nothing), or raise the budget with TensorTape::set_memory_budget (or the \
         MAYA_MEMORY_BUDGET environment variable, in bytes)",
        bytes(*estimate),
        bytes(*budget)
    )
}

/// "12.3 GiB", "39.0 MiB", "512 B": for messages.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut x = n as f64 / 1024.0;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    format!("{x:.1} {}", UNITS[unit])
}

/// "1 axis", "3 axes": for messages.
pub(super) fn axes(n: usize) -> String {
    if n == 1 {
        "1 axis".to_string()
    } else {
        format!("{n} axes")
    }
}

/// Where an [`Error::Scene`](super::Error::Scene) is: "scenes/pile.json:12:9: field `dt`: "
/// for a file (as compilers write it), "scene JSON line 12, column 9:
/// field `dt`: " for a string, "scene: field `dt`: " for a scene built in
/// code.
pub(super) fn scene_location(
    file: &Option<String>,
    line: &Option<usize>,
    column: &Option<usize>,
    field: &str,
) -> String {
    let at = match (file, line) {
        (Some(f), Some(l)) => format!("{f}:{l}:{}", column.unwrap_or(1)),
        (Some(f), None) => f.clone(),
        (None, Some(l)) => format!("scene JSON line {l}, column {}", column.unwrap_or(1)),
        (None, None) => "scene".to_string(),
    };
    if field.is_empty() {
        format!("{at}: ")
    } else {
        format!("{at}: field `{field}`: ")
    }
}
