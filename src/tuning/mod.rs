//! The kernel tuning guide: what the tunables behind ports and TIME_WAIT do,
//! what they are set to now, what to set for a stated goal, a snippet to apply
//! it, and an audit of sysctl files that already exist.
//!
//! Everything here is data and pure functions; the running system is reached
//! only through [`Sysctls`] (whose live implementation calls
//! `crate::platform::os::sysctl`), so the window and the tests can substitute
//! their own values. Facts come from /work/shared/knowledge/ports-and-time-wait.md
//! and are cited beside the data in [`knowledge`].
//!
//! The pieces, in the order the Kernel tuning view uses them:
//! 1. [`Goal::ALL`] with [`Goal::title`]: the goal cards.
//! 2. [`plan`] then [`rows`]: per setting, current / default / recommended /
//!    explanation / warnings.
//! 3. [`export`]: a [`Snippet`] of lines, each setting line toggleable by key.
//! 4. [`Snippet::apply_command`] and [`Snippet::file_name`].
//! 5. [`audit`]: findings with line numbers.

pub mod audit;
pub mod kernel;
pub mod knowledge;
pub mod plan;
pub mod portlist;
pub mod snippet;

use std::collections::BTreeMap;

use serde::Serialize;

pub use audit::{AUDIT_MAX_BYTES, Finding, FindingKind, Severity, audit, audit_file};
pub use knowledge::{TUNABLES, Tunable, Warning, tunable, tunables_for};
pub use plan::{Note, Plan, PlanError, Recommendation, SettingRow, plan, rows, show_rows};
pub use portlist::PortList;
pub use snippet::{ExportRequest, LineKind, Snippet, SnippetLine, build, export};

/// An operating system the guide knows: the crate's one OS enum.
pub use crate::platform::Os;

/// What hurts: the goals a user can combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    Restart,
    Outbound,
    Reserve,
    Backlog,
    LowPorts,
}

impl Goal {
    pub const ALL: [Goal; 5] = [
        Goal::Restart,
        Goal::Outbound,
        Goal::Reserve,
        Goal::Backlog,
        Goal::LowPorts,
    ];

    /// The name used on the command line (`--goal`).
    pub fn id(self) -> &'static str {
        match self {
            Goal::Restart => "restart",
            Goal::Outbound => "outbound",
            Goal::Reserve => "reserve",
            Goal::Backlog => "backlog",
            Goal::LowPorts => "low-ports",
        }
    }

    /// The title of the goal's card.
    pub fn title(self) -> &'static str {
        match self {
            Goal::Restart => "Server restarts fail with \"Address already in use\"",
            Goal::Outbound => "Many outgoing connections",
            Goal::Reserve => "Keep my service ports free",
            Goal::Backlog => "Connection bursts",
            Goal::LowPorts => "Low ports without root",
        }
    }

    /// One line under the title.
    pub fn summary(self) -> &'static str {
        match self {
            Goal::Restart => {
                "bind() fails with EADDRINUSE right after the server stops; the fix is in \
                 the server's socket options, not a kernel setting"
            }
            Goal::Outbound => {
                "a client or proxy runs out of ephemeral ports (connect() gives EADDRNOTAVAIL)"
            }
            Goal::Reserve => {
                "the OS must never hand out my service's fixed ports to outgoing connections"
            }
            Goal::Backlog => "a server under a burst of connects drops or delays some of them",
            Goal::LowPorts => "let unprivileged programs bind ports below 1024",
        }
    }

    /// Parse a goal name as [`Goal::id`] prints it.
    pub fn parse(s: &str) -> Result<Goal, String> {
        let t = s.trim().to_ascii_lowercase();
        Goal::ALL.into_iter().find(|g| g.id() == t).ok_or_else(|| {
            format!(
                "unknown goal '{s}' (expected restart, outbound, reserve, backlog or low-ports)"
            )
        })
    }
}

/// Where current values come from. The live implementation reads the running
/// system; tests and the window can pass fixed values instead.
pub trait Sysctls {
    /// The current value, whitespace folded; `None` when the setting does not
    /// exist here or cannot be read.
    fn read(&self, key: &str) -> Option<String>;
    /// Whether this system knows the key at all (it may exist but be unreadable).
    fn exists(&self, key: &str) -> bool;
}

/// The running system, through `crate::platform::os::sysctl`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveSystem;

impl Sysctls for LiveSystem {
    fn read(&self, key: &str) -> Option<String> {
        crate::platform::SysctlReader::read(&crate::platform::HOST, key)
    }
    fn exists(&self, key: &str) -> bool {
        crate::platform::SysctlReader::exists(&crate::platform::HOST, key)
    }
}

/// No system at all: used when exporting for an OS other than the running one.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSystem;

impl Sysctls for NoSystem {
    fn read(&self, _key: &str) -> Option<String> {
        None
    }
    fn exists(&self, _key: &str) -> bool {
        false
    }
}

/// Fixed values (key -> value): a system whose only keys are these.
#[derive(Clone, Debug, Default)]
pub struct FixedValues(pub BTreeMap<String, String>);

impl FixedValues {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        FixedValues(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl FixedValues {
    /// Read every setting the guide knows on `os` from `sys` once. A front
    /// end that re-plans on every click (the window) uses this, so Windows'
    /// `reg`/`netsh` run once rather than per click. Absent settings stay absent.
    pub fn snapshot(os: Os, sys: &dyn Sysctls) -> FixedValues {
        FixedValues(
            tunables_for(os)
                .filter_map(|t| Some((t.key.to_string(), sys.read(t.key)?)))
                .collect(),
        )
    }
}

impl Sysctls for FixedValues {
    fn read(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn exists(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
}

/// The live system when `os` is the running OS, otherwise [`NoSystem`].
pub fn system_for(os: Os) -> Box<dyn Sysctls> {
    if os == Os::current() {
        Box::new(LiveSystem)
    } else {
        Box::new(NoSystem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_and_goal_names_round_trip() {
        for o in Os::ALL {
            assert_eq!(Os::parse(o.id()), Ok(o));
        }
        for g in Goal::ALL {
            assert_eq!(Goal::parse(g.id()), Ok(g));
            assert!(!g.title().is_empty() && !g.summary().is_empty());
        }
        assert_eq!(Os::parse("MacOS"), Ok(Os::Macos));
        let e = Os::parse("bsd").unwrap_err();
        assert!(e.contains("'bsd'"), "{e}");
        let e = Goal::parse("speed").unwrap_err();
        assert!(e.contains("'speed'"), "{e}");
    }

    #[test]
    fn snapshot_keeps_present_values_only() {
        let sys = FixedValues::new([("net.ipv4.tcp_tw_reuse", "2"), ("unrelated", "x")]);
        let snap = FixedValues::snapshot(Os::Linux, &sys);
        assert_eq!(snap.read("net.ipv4.tcp_tw_reuse").as_deref(), Some("2"));
        assert_eq!(snap.read("unrelated"), None);
        assert!(!snap.exists("net.core.somaxconn"));
    }

    #[test]
    fn current_os_matches_platform() {
        assert_eq!(Os::current().id(), crate::platform::OS_NAME);
    }

    /// The guide's Windows tunables are exactly the keys the Windows
    /// reader (platform/windows/sysctl.rs) understands.
    #[test]
    fn windows_reader_knows_every_windows_key() {
        let mut kb: Vec<&str> = knowledge::tunables_for(Os::Windows)
            .map(|t| t.key)
            .collect();
        let mut reader = crate::platform::WINDOWS_TUNABLE_KEYS.to_vec();
        kb.sort_unstable();
        reader.sort_unstable();
        assert_eq!(kb, reader);
    }
}
