//! The memory budget of a tape: how many bytes a recording (such as a
//! rollout's) may be estimated to need before it is refused with
//! [`Error::Memory`](crate::Error::Memory) instead of aborting the process
//! when an allocation fails.
//!
//! Per tape: [`TensorTape::set_memory_budget`]. Default, fixed at first use
//! in the process: the environment variable `MAYA_MEMORY_BUDGET` (bytes)
//! if set, else half of `MemAvailable` in `/proc/meminfo`, else 4 GiB.

use super::tensor_tape::TensorTape;
use std::sync::OnceLock;

/// The default budget where `/proc/meminfo` cannot be read.
const FALLBACK: u64 = 4 << 30;

impl TensorTape {
    /// Sets the memory budget (bytes) of recordings on this tape: a
    /// rollout whose recording is estimated to need more fails at once
    /// with [`Error::Memory`](crate::Error::Memory), allocating nothing.
    /// `u64::MAX` turns the check off.
    ///
    /// ```
    /// use maya::dynamics::ParticleSystem;
    /// use maya::{Error, Tensor, TensorTape};
    /// let t = TensorTape::new();
    /// t.set_memory_budget(1 << 20); // 1 MiB
    /// let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1000])), 1e-3);
    /// let (p0, v0) = (t.constant(Tensor::zeros(&[1000, 3])), t.var(Tensor::ones(&[1000, 3])));
    /// // 10⁵ recorded steps of 48 kB (q and v) each: about 4.5 GiB.
    /// let e = sys.rollout(&p0, &v0, 100_000).unwrap_err();
    /// assert!(matches!(e, Error::Memory { .. }));
    /// assert!(e.to_string().contains("Record::Checkpointed"));
    /// ```
    pub fn set_memory_budget(&self, bytes: u64) {
        self.memory_budget.set(Some(bytes));
    }

    /// The memory budget (bytes): the one set by
    /// [`TensorTape::set_memory_budget`], else the process default
    /// (`MAYA_MEMORY_BUDGET` in bytes, else half of the available memory,
    /// else 4 GiB).
    pub fn memory_budget(&self) -> u64 {
        self.memory_budget.get().unwrap_or_else(default_budget)
    }
}

/// The process-wide default budget, computed once.
fn default_budget() -> u64 {
    static DEFAULT: OnceLock<u64> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let env = std::env::var("MAYA_MEMORY_BUDGET").ok();
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
        budget_from(env.as_deref(), meminfo.as_deref())
    })
}

/// The budget from the environment variable's value (bytes, `_` allowed as
/// a separator) or, failing that, half of `MemAvailable` in a
/// `/proc/meminfo` text, or 4 GiB.
fn budget_from(env: Option<&str>, meminfo: Option<&str>) -> u64 {
    if let Some(bytes) = env.and_then(|s| s.trim().replace('_', "").parse::<u64>().ok()) {
        return bytes;
    }
    meminfo
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024 / 2)
        })
        .unwrap_or(FALLBACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_from_env_meminfo_or_fallback() {
        let info = "MemTotal:       32000000 kB\nMemAvailable:   8000000 kB\n";
        assert_eq!(budget_from(Some("1_000_000"), Some(info)), 1_000_000);
        assert_eq!(budget_from(None, Some(info)), 8_000_000 * 1024 / 2);
        assert_eq!(budget_from(Some("lots"), Some(info)), 8_000_000 * 1024 / 2);
        assert_eq!(budget_from(None, None), FALLBACK);
        assert_eq!(budget_from(None, Some("MemTotal: 1 kB\n")), FALLBACK);
        let t = TensorTape::new();
        t.set_memory_budget(123);
        assert_eq!(t.memory_budget(), 123);
    }
}
