//! What a rollout's recording will hold, estimated before it runs, and the
//! check of that estimate against the tape's memory budget
//! ([`TensorTape::set_memory_budget`]): a recording too large for memory
//! is an [`Error::Memory`] that suggests checkpointing, not an abort of
//! the process ("memory allocation of 24 bytes failed").
//!
//! **The estimate.** A recorded step keeps its two output states (q', v'),
//! each with a tensor header in the tape's value list, its tape node (the
//! boxed kernel, the input list) and what the step saves for its adjoint
//! ([`Stepper::saved_bytes`]: the net force when the masses need a
//! gradient; a sparse factorisation per environment for backward Euler).
//! Without a gradient only the states are kept ([`Record::All`]) or
//! nothing ([`Record::Last`]); [`Record::Checkpointed`] keeps one node and
//! two states per segment and, during the backward sweep, the recording of
//! one segment. The gradient sweep itself needs about as much again for
//! `grad` (one gradient per value), less with `grad_wrt`.
//!
//! **How it was measured.** `tests/issue_9_memory.rs` counts the live heap
//! bytes (a counting global allocator) a recorded rollout adds, for
//! particles under gravity, drag and ground (3D, semi-implicit Euler, one
//! stage, with and without mass gradients), a spring grid under RK4, and a
//! stiff cloth under backward Euler; the estimate is held to within a
//! factor of 2 of each (the constants below come from those runs: value
//! and node headers, the allocator's size classes, the lists' doubling).

use super::record::{Record, BLOCK};
use super::stepper::Stepper;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};

/// Per recorded value: its `Tensor` header in the tape's value list (48
/// bytes; the list grows by doubling, so ×1.5 on average), its shape (≤ 3
/// axes) and its gradient flag.
const VALUE_BYTES: u64 = 72 + 24 + 2;
/// Per tape node: the node in the node list (56 bytes, ×1.5), the boxed
/// kernel with its saved-state list header, allocator rounding.
const NODE_BYTES: u64 = 84 + 64;
/// Per step of [`Record::All`]: the trajectory's two handles (16 bytes
/// each, ×1.5).
const HANDLE_BYTES: u64 = 48;

/// The sizes a recording's estimate is made of.
pub(crate) struct Footprint {
    /// Bytes of one state (q or v).
    pub state: u64,
    /// Inputs of a step after the state.
    pub rest: usize,
    /// What a step saves for its adjoint.
    pub saved: u64,
    /// Whether anything needs a gradient.
    pub needs_grad: bool,
    /// Steps per recorded node when no state is kept: [`BLOCK`] where the
    /// stepper records blocks ([`Stepper::records_blocks`]), else 1.
    pub block: u64,
}

impl Footprint {
    /// The footprint of steps of `stepper` from `q` with inputs `rest`.
    pub(crate) fn new(
        stepper: &dyn Stepper,
        q: &TVar<'_>,
        v: &TVar<'_>,
        rest: &[TVar<'_>],
    ) -> Self {
        let shape = q.shape();
        let needs_grad =
            q.requires_grad() || v.requires_grad() || rest.iter().any(TVar::requires_grad);
        Footprint {
            state: 8 * shape.iter().product::<usize>() as u64,
            rest: rest.len(),
            saved: stepper.saved_bytes(&shape, rest),
            needs_grad,
            block: if stepper.records_blocks(&shape) {
                BLOCK as u64
            } else {
                1
            },
        }
    }

    /// One recorded step with a gradient: states, node, saved data.
    fn step(&self) -> u64 {
        2 * (self.state + VALUE_BYTES) + NODE_BYTES + 8 * (2 + self.rest) as u64 + self.saved
    }

    /// Bytes the recording of `steps` steps without kept states holds: a
    /// recorded step each, or a node per block that keeps nothing but its
    /// output states (its adjoint's replay buffers are freed chunk by
    /// chunk).
    fn unkept(&self, steps: u64) -> u64 {
        if self.block == 1 {
            return steps * self.step();
        }
        let node = 2 * (self.state + VALUE_BYTES) + NODE_BYTES + 8 * (2 + self.rest) as u64;
        steps.div_ceil(self.block) * node
    }

    /// Bytes the recording of `steps` steps as `record` holds.
    pub(crate) fn estimate(&self, steps: usize, record: Record) -> u64 {
        let t = steps as u64;
        let states = 2 * (self.state + VALUE_BYTES);
        match record {
            Record::All if self.needs_grad => t * (self.step() + HANDLE_BYTES),
            Record::All => t * (states + HANDLE_BYTES),
            Record::Last if self.needs_grad => self.unkept(t),
            Record::Last => 0,
            Record::Checkpointed { segment } => {
                let seg = segment_len(segment, steps) as u64;
                let segments = t.div_ceil(seg);
                // Per segment: its node (inputs: q, v, rest) and two states;
                // while one segment is differentiated, its recording.
                let node = NODE_BYTES + 8 * (2 + self.rest) as u64 + 64;
                let replay = if self.needs_grad {
                    self.unkept(seg.min(t))
                } else {
                    0
                };
                segments * (states + node) + replay
            }
        }
    }

    /// [`Error::Memory`] if the recording is estimated over `tape`'s
    /// budget; the error suggests checkpointed segments of ⌈√steps⌉ where
    /// they need less.
    pub(crate) fn check(&self, tape: &TensorTape, steps: usize, record: Record) -> Result<()> {
        let estimate = self.estimate(steps, record);
        let budget = tape.memory_budget();
        if estimate <= budget {
            return Ok(());
        }
        let seg = segment_len(None, steps);
        let segment_estimate = self.estimate(steps, Record::Checkpointed { segment: Some(seg) });
        let segment = (segment_estimate < estimate).then_some(seg);
        Err(Error::Memory {
            steps,
            record: format!("Record::{record:?}"),
            estimate,
            budget,
            segment,
            segment_estimate,
        })
    }
}

/// Steps per checkpointed segment: `segment`, or ⌈√steps⌉ (at least 1).
pub(crate) fn segment_len(segment: Option<usize>, steps: usize) -> usize {
    segment
        .unwrap_or_else(|| (steps as f64).sqrt().ceil() as usize)
        .max(1)
}
