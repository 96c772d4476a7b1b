//! [`Record`]: what a rollout keeps on the tape (read by the rollout and
//! by the estimate of its memory).

/// What a rollout keeps on the tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// Every state, one tape node per step.
    All,
    /// Only the last state; when nothing needs a gradient the steps run
    /// off the tape, recording nothing. With a gradient, a model whose
    /// forces are all local under a one-stage scheme records one node per
    /// 32 steps (replayed in the backward sweep, same gradients), others
    /// one per step.
    Last,
    /// Checkpointed segments of `segment` steps (default ⌈√T⌉): each is one
    /// node keeping its input and output states; the backward sweep
    /// recomputes one segment at a time. Memory ≈ (T/S + S) states for one
    /// extra forward pass; gradients identical to [`Record::Last`]'s.
    Checkpointed {
        /// Steps per segment (`None`: ⌈√T⌉).
        segment: Option<usize>,
    },
}

/// Steps per block of a rollout: how often it checks its state for
/// non-finite entries, and how many steps a local-force rollout records
/// as one node.
pub(crate) const BLOCK: usize = 32;
