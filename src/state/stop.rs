//! State of the "Stop process…" confirmation. The plan and the stopping
//! itself are the engine's (`crate::stop`); the window only shows them.

pub use shim::StopTarget;

/// The confirmation dialog: what will be stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct StopDialog {
    pub targets: Vec<StopTarget>,
}

/// How stopping one process went, as the window reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopOutcome {
    pub pid: u32,
    pub stopped: bool,
    pub message: String,
}

/// Stand-in for the engine's `crate::stop` types until they land.
mod shim {
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct StopTarget {
        pub pid: u32,
        pub name: String,
        pub user: Option<String>,
        pub cmdline: String,
        pub start_time: u64,
        pub caveats: Vec<String>,
    }
}
