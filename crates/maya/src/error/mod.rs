//! The one error type of maya.
//!
//! Misuse in operator form (`a + b` with shapes that do not broadcast) panics
//! with the message of the matching variant; every such op has a `try_` twin
//! that returns it instead. Data problems (a non-finite value, a solver that
//! does not converge) are always returned as `Result`.

mod device;
mod messages;

pub use device::DeviceError;
pub(crate) use messages::bytes;
use messages::{axes, memory_message, scene_location, stability_message, step_suffix};
use std::fmt;

/// `Result` with maya's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which sweep of the tape produced a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The forward (recording) sweep.
    Forward,
    /// The reverse (gradient) sweep.
    Backward,
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pass::Forward => "forward",
            Pass::Backward => "backward",
        })
    }
}

/// Everything that can go wrong in maya, with the fields needed to act on it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two shapes that an op cannot combine.
    #[error("{op}: incompatible shapes {lhs:?} and {rhs:?}: {hint}")]
    Shape {
        /// The op that was called.
        op: &'static str,
        /// Shape of the first operand.
        lhs: Vec<usize>,
        /// Shape of the second operand.
        rhs: Vec<usize>,
        /// What the op needs.
        hint: &'static str,
    },
    /// A buffer whose length does not match the shape it was given.
    #[error("{op}: data of length {len} cannot have shape {shape:?} ({expected} elements)")]
    DataLength {
        /// The op that was called.
        op: &'static str,
        /// Length of the data given.
        len: usize,
        /// The shape asked for.
        shape: Vec<usize>,
        /// Number of elements the shape holds.
        expected: usize,
    },
    /// An index (or the end of a range) past the end of an axis.
    #[error("{op}: index {index} is out of range for length {len}")]
    Index {
        /// The op that was called.
        op: &'static str,
        /// The offending index.
        index: usize,
        /// Length of the axis indexed.
        len: usize,
    },
    /// A range `start..end` along an axis that is reversed (start > end) or
    /// ends past the axis's length.
    #[error("{op}: range {start}..{end} along axis {axis} (length {len}) {problem}")]
    Range {
        /// The op that was called.
        op: &'static str,
        /// The axis sliced.
        axis: usize,
        /// Start of the range.
        start: usize,
        /// End of the range (exclusive).
        end: usize,
        /// Length of the axis.
        len: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A multi-index that does not address one element: the wrong number of
    /// indices, or one past its axis's length.
    #[error("{op}: index {index:?} is not an element of a tensor of shape {shape:?}: give one index per axis ({}), each below that axis's length", .shape.len())]
    ElementIndex {
        /// The op that was called.
        op: &'static str,
        /// The indices given.
        index: Vec<usize>,
        /// Shape of the tensor.
        shape: Vec<usize>,
    },
    /// An op given a tensor with the wrong number of axes.
    #[error("{op}: needs {needs}, got shape {shape:?} with {}", axes(.shape.len()))]
    Rank {
        /// The op that was called.
        op: &'static str,
        /// Shape of the tensor given.
        shape: Vec<usize>,
        /// What the op needs, e.g. "at least 2 axes (it swaps the last two)".
        needs: &'static str,
    },
    /// A new axis (as `stack` inserts) past the end of the shape.
    #[error("{op}: cannot insert a new axis {axis} into values of shape {shape:?}: the new axis must be in 0..={}", .shape.len())]
    NewAxis {
        /// The op that was called.
        op: &'static str,
        /// The axis asked for.
        axis: usize,
        /// Shape of the values (before the new axis).
        shape: Vec<usize>,
    },
    /// An axis that the tensor does not have.
    #[error("{op}: axis {axis} is out of range for a tensor of shape {shape:?}")]
    Axis {
        /// The op that was called.
        op: &'static str,
        /// The axis asked for.
        axis: usize,
        /// Shape of the tensor.
        shape: Vec<usize>,
    },
    /// An op that needs a one-element value got a larger one.
    #[error("{op}: needs a one-element value, got shape {shape:?}")]
    NotScalar {
        /// The op that was called.
        op: &'static str,
        /// Shape of the value given.
        shape: Vec<usize>,
    },
    /// A handle used with a tape it does not belong to.
    #[error("{op}: the handle belongs to another tape; record every value of one computation on one tape")]
    ForeignHandle {
        /// The op that was called.
        op: &'static str,
    },
    /// An op given an empty list where it needs at least one item.
    #[error("{op}: needs at least one input")]
    Empty {
        /// The op that was called.
        op: &'static str,
    },
    /// A parameter outside its valid range.
    #[error("{name} = {value} is invalid: {reason}")]
    Parameter {
        /// Name of the parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// The first op whose value or gradient turned non-finite (checked mode).
    #[error("{pass} sweep: op `{op}` (node {node}, input shapes {input_shapes:?}) produced a non-finite value")]
    NonFiniteOp {
        /// Name of the op.
        op: &'static str,
        /// Index of the node on its tape.
        node: usize,
        /// Shapes of the op's inputs (`[]` for scalars).
        input_shapes: Vec<Vec<usize>>,
        /// Whether the value or the gradient went bad.
        pass: Pass,
    },
    /// A state that turned non-finite during a simulation.
    #[error("non-finite {what} at step {step}")]
    NonFinite {
        /// What went non-finite (e.g. "velocity of particle 3").
        what: String,
        /// The step at which it was found.
        step: usize,
    },
    /// A shape that cannot be simulated, such as a non-convex polygon.
    #[error("invalid shape: {reason}")]
    InvalidShape {
        /// What is wrong with it and how to fix it.
        reason: String,
    },
    /// A time step too large for an explicit (damped) contact spring to
    /// stay stable.
    #[error("dt = {dt} is too large for contact stiffness k = {stiffness} and damping c = {damping} on effective mass m = {mass}: explicit integration needs dt < 2/√(k/m) = {stiffness_bound:e} for the spring, and dt < (√(c² + 4km) − c)/k = {bound:e} with the damper; lower dt, the stiffness or the damping")]
    TimeStep {
        /// The time step given (s).
        dt: f64,
        /// The stable bound with damping, (√(c² + 4km) − c)/k (s).
        bound: f64,
        /// The bound of the undamped spring, 2/√(k/m) (s).
        stiffness_bound: f64,
        /// The contact stiffness k (N/m).
        stiffness: f64,
        /// The contact damping c (N·s/m).
        damping: f64,
        /// The smallest effective mass m at a contact point (kg).
        mass: f64,
    },
    /// An iterative method that ran out of iterations before reaching its
    /// tolerance. Never a silently returned last iterate.
    #[error(
        "{solver} did not converge{} within {iters} iterations (residual {residual:e}){detail}",
        step_suffix(step)
    )]
    NotConverged {
        /// The method (e.g. "complementarity contact (interior point)").
        solver: &'static str,
        /// The time step at which it stopped, if it runs inside a step.
        step: Option<usize>,
        /// Iterations made.
        iters: usize,
        /// Residual when it stopped.
        residual: f64,
        /// More on where it stopped (e.g. the contact furthest from
        /// convergence), starting with "; ", or empty.
        detail: String,
    },
    /// A solver inside a step or a tape node that failed: no convergence
    /// within its iterations, a singular or indefinite matrix, or a line
    /// search that found no decrease. Never a silently returned iterate.
    #[error(
        "{solver} failed at step {step}: {reason} after {iters} iterations (residual {residual:e})"
    )]
    Solve {
        /// The solver (e.g. "backward Euler Newton").
        solver: &'static str,
        /// The time step (or call) at which it failed.
        step: usize,
        /// Iterations made.
        iters: usize,
        /// Residual norm when it stopped.
        residual: f64,
        /// What went wrong.
        reason: String,
    },
    /// A checkpointed segment that recomputed a different value on replay.
    #[error("checkpoint: output {output} of the segment differs on replay (element {index}: stored {stored:e}, replayed {replayed:e}); a checkpointed segment must be deterministic")]
    Replay {
        /// Which output of the segment.
        output: usize,
        /// The first differing element.
        index: usize,
        /// Its value in the forward pass.
        stored: f64,
        /// Its value on replay.
        replayed: f64,
    },
    /// A name that is not one of those known, such as a demo's.
    #[error("unknown {what} `{name}`; the known ones are: {}", .known.join(", "))]
    Unknown {
        /// What kind of thing was looked up (e.g. "demo").
        what: &'static str,
        /// The name given.
        name: String,
        /// The names that exist.
        known: Vec<&'static str>,
    },
    /// An objective (or a caller of an optimiser) that gave a different
    /// number of gradients than there are parameters.
    #[error("{op}: got {got} gradient(s) for {expected} parameter(s); give one gradient per parameter, in the parameters' order")]
    GradientCount {
        /// The optimiser or driver that received them.
        op: &'static str,
        /// Number of parameters.
        expected: usize,
        /// Number of gradients given.
        got: usize,
    },
    /// A gradient whose shape differs from its parameter's.
    #[error("{op}: the gradient of parameter {index} has shape {grad:?} but the parameter has shape {param:?}; each gradient must have its parameter's shape")]
    GradientShape {
        /// The optimiser or driver that received it.
        op: &'static str,
        /// Which parameter (0-based, in the order given).
        index: usize,
        /// The parameter's shape.
        param: Vec<usize>,
        /// The gradient's shape.
        grad: Vec<usize>,
    },
    /// An element (force) given the wrong number of parameters.
    #[error("{element}: takes {expected} parameter(s) ({names}), got {got}")]
    ParamCount {
        /// The element's name.
        element: &'static str,
        /// How many it takes.
        expected: usize,
        /// How many it got.
        got: usize,
        /// Their names, in order.
        names: String,
    },
    /// A combination that is not supported, with the reason.
    #[error("{what}: {reason}")]
    Unsupported {
        /// What was asked for.
        what: &'static str,
        /// Why it cannot be done, and what to do instead.
        reason: &'static str,
    },
    /// A spring whose endpoints coincide although its rest length is not
    /// zero: it has no direction to push along.
    #[error("spring {spring} joins particles {a} and {b}, which coincide, with rest length {rest}: a spring needs distinct endpoints unless its rest length is 0")]
    CoincidentParticles {
        /// The spring's index.
        spring: usize,
        /// Its first particle.
        a: usize,
        /// Its second particle.
        b: usize,
        /// Its rest length (m).
        rest: f64,
    },
    /// Per-body data with a row count that is not the number of bodies.
    #[error("{op}: the world has {bodies} bod{}, but {what} has {got} row(s); give one row per body, in the order they were added", if *.bodies == 1 { "y" } else { "ies" })]
    BodyCount {
        /// The function that was called.
        op: &'static str,
        /// Which input (e.g. "pose").
        what: &'static str,
        /// The number of bodies in the world.
        bodies: usize,
        /// The number of rows given.
        got: usize,
    },
    /// Bodies that overlap in an initial state deeper than the world's
    /// tolerance: a penalty contact would push them apart violently.
    #[error("initial state: body {body} overlaps {} by {depth:.3e} m (tolerance {tolerance:.3e} m); move them apart, or set `World::allow_initial_overlap` if you mean it", match .other { Some(o) => format!("body {o}"), None => "the ground".to_string() })]
    InitialOverlap {
        /// The first body.
        body: usize,
        /// The other body, or `None` for the ground.
        other: Option<usize>,
        /// The penetration depth (m).
        depth: f64,
        /// The largest depth accepted (m).
        tolerance: f64,
    },
    /// Contact geometry with no defined normal, such as two circles whose
    /// centres coincide.
    #[error("contact between body {body} and {} at step {step} is degenerate: {reason}", match .other { Some(o) => format!("body {o}"), None => "the ground".to_string() })]
    DegenerateContact {
        /// The first body.
        body: usize,
        /// The other body, or `None` for the ground.
        other: Option<usize>,
        /// The step at which it occurred.
        step: usize,
        /// What is degenerate.
        reason: &'static str,
    },
    /// A parameter value (a stiffness, a damping, a drag, a rest length, a
    /// gravity component) that is non-finite or out of range, named with
    /// where it sits (e.g. "stiffness of spring 4").
    #[error("{name} = {value} is invalid: {reason}")]
    ParameterValue {
        /// What the value is, and where (e.g. "ground stiffness",
        /// "damping of spring 4 in environment 1").
        name: String,
        /// The value given.
        value: f64,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// An explicit time step past the stability bound of a stiff or damped
    /// force of a particle system: a spring, the ground, drag.
    #[error("{}", stability_message(.element, .scheme, .dt, .bound, .formula, .stiffness_bound, .stiffness, .damping, .mass))]
    Stability {
        /// The force and where it acts (e.g. "spring 12 between particles
        /// 3 and 4").
        element: String,
        /// The integrator (e.g. "semi-implicit Euler").
        scheme: &'static str,
        /// The time step given (s).
        dt: f64,
        /// The largest stable time step with stiffness and damping (s).
        bound: f64,
        /// How `bound` is computed (e.g. "(√(c² + 4km) − c)/k").
        formula: String,
        /// The bound of the stiffness alone (s; infinite without one).
        stiffness_bound: f64,
        /// The stiffness k (N/m; 0 for drag).
        stiffness: f64,
        /// The damping c (kg/s).
        damping: f64,
        /// The mass m it acts on (kg): the effective mass
        /// m_a·m_b/(m_a + m_b) of a spring, the lightest particle's for the
        /// ground and drag.
        mass: f64,
    },
    /// A recording estimated to need more memory than the tape's budget
    /// (see [`TensorTape::set_memory_budget`](crate::TensorTape::set_memory_budget)).
    #[error("{}", memory_message(.steps, .record, .estimate, .budget, .segment, .segment_estimate))]
    Memory {
        /// Steps of the rollout.
        steps: usize,
        /// The recording asked for (e.g. "Record::All").
        record: String,
        /// Estimated bytes that recording holds.
        estimate: u64,
        /// The memory budget (bytes).
        budget: u64,
        /// A checkpoint segment (⌈√steps⌉) to suggest, if checkpointing
        /// helps.
        segment: Option<usize>,
        /// Estimated bytes with that segment.
        segment_estimate: u64,
    },
    /// A finite-element mesh that cannot be simulated: a corner index past
    /// the vertex count, a repeated corner, a malformed mesh file.
    #[error("mesh: {reason}")]
    Mesh {
        /// What is wrong and where (element, vertex, line).
        reason: String,
    },
    /// A rest triangle with zero, negative (clockwise) or tiny area.
    #[error("element {element} is degenerate in its rest shape: area {area:e} (corners {corners:?}); triangles must be counter-clockwise with area above {min_area:e}")]
    DegenerateElement {
        /// The element (triangle index).
        element: usize,
        /// Its signed rest area.
        area: f64,
        /// Its three vertices.
        corners: [usize; 3],
        /// The smallest area accepted (relative to the mesh size).
        min_area: f64,
    },
    /// An element turned inside out: det F ≤ 0.
    #[error("element {element} (corners {corners:?}) is inverted{}: det F = {det:e}; lower the time step or the load, or step implicitly (Integrator::BackwardEuler keeps det F > 0)", step_suffix(.step))]
    InvertedElement {
        /// The element (triangle index).
        element: usize,
        /// Its three vertices.
        corners: [usize; 3],
        /// The time step at which it inverted (`None` outside a rollout).
        step: Option<usize>,
        /// det F.
        det: f64,
    },
    /// A scene (`maya::scene`) that cannot be read or used: a JSON syntax
    /// error, an unknown or missing field, a value of the wrong type or
    /// out of range, an index past the particles; with the field's path
    /// (`bodies[2].shape.circle.radius`) and, for a scene read from JSON,
    /// the line and column.
    #[error("{}{reason}", scene_location(.file, .line, .column, .field))]
    Scene {
        /// The file read, if the scene came from one.
        file: Option<String>,
        /// The field's path, e.g. `bodies[2].shape.circle.radius`; empty
        /// for the whole document.
        field: String,
        /// Line (from 1) in the JSON text, if known.
        line: Option<usize>,
        /// Column (from 1) in the JSON text, if known.
        column: Option<usize>,
        /// What is wrong, with the value.
        reason: String,
    },
    /// A problem on a compute device (the `gpu` feature): no adapter, no
    /// f64, a buffer over a limit, out of memory, mixed devices.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// Unwraps a result of this crate, panicking with the error's message at
/// the caller's line: the panicking twin of each `try_` function is
/// `try_….or_panic()` inside a `#[track_caller]` function, so the panic
/// points at the user's code (a closure given to `unwrap_or_else` would
/// point here instead).
pub(crate) trait OrPanic<T> {
    /// The value, or a panic with the error's message.
    fn or_panic(self) -> T;
}

impl<T> OrPanic<T> for Result<T> {
    #[track_caller]
    fn or_panic(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}
