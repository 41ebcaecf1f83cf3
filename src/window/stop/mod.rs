//! State of the "Stop process…" confirmation. The plan and the stopping
//! itself are the engine's (`crate::stop`); the window only shows them.

pub mod view;

pub use crate::stop::{StopOutcome, StopReport, StopTarget};

/// The confirmation dialog: what would be stopped, and what will not be.
#[derive(Clone, Debug, PartialEq)]
pub struct StopDialog {
    pub targets: Vec<StopTarget>,
}

impl StopDialog {
    /// The targets portwise may stop (the engine refuses pid 1, itself,
    /// the kernel, ...).
    pub fn stoppable(&self) -> Vec<StopTarget> {
        self.targets
            .iter()
            .filter(|t| t.refusal.is_none())
            .cloned()
            .collect()
    }
}
