//! The socket engine: snapshots of every TCP and UDP socket with their owners.
//!
//! - [`model`]: the `Snapshot` data model shared by the CLI and the window.
//! - [`SocketSource`]: anything that produces snapshots (the real system, or a
//!   scripted fake in tests); [`SystemSource`] is the real machine.
//! - [`filter::Filter`]: which sockets to show, for the CLI and the window.
//! - [`memory`]: the bounded memory of who held a connection before its
//!   TIME_WAIT; [`owners`]: the inode -> pid cache; [`procinfo`]: process
//!   names, users and executables from one long-lived `sysinfo::System`.
//! - [`json`]: the documented JSON form, written fast; [`csv`]: the CSV form.
//! - [`order`]: the deterministic socket order, computed fast.
//! - [`raw`]: what the platform layer (`platform::os::sockets`) returns.

pub mod csv;
#[cfg(test)]
mod fake_os_tests;
pub mod filter;
pub mod json;
pub mod memory;
pub mod model;
pub mod namespaces;
pub mod order;
pub mod owners;
pub mod port_use;
pub mod procinfo;
pub mod raw;
pub mod system;

pub use filter::{Filter, StateFilter};
pub use model::{
    Container, Family, NetnsRef, OwnerRef, ProcessInfo, Proto, Published, Snapshot, SocketEntry,
    TcpState, hidden_owner_name, quote_args,
};
pub use namespaces::{NetnsSelection, NetnsSummary};
pub use port_use::{Holder, PortUse, TimeWaitInfo, holders_on, port_use, time_wait_on};
pub use system::{PortScope, SystemSource};

/// Error from taking a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError(pub String);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}

/// Produces snapshots. The system implementation keeps state between calls
/// (owner memory, caches), hence `&mut self`.
pub trait SocketSource: Send {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError>;

    /// Which network namespaces later snapshots list (Linux). A source
    /// without namespaces (another OS, a remote host, a fake) ignores it.
    fn set_netns(&mut self, _selection: NetnsSelection) {}

    /// What the last snapshot learnt about network namespaces: how many
    /// others exist, which were listed, and how to see the rest. `None`
    /// from a source that does not know.
    fn netns_summary(&self) -> Option<NetnsSummary> {
        None
    }
}

/// Append "127.0.0.1:8080" or "[::1]:8080" (IPv6 in brackets) to `out`.
pub fn write_endpoint(out: &mut String, ip: &std::net::IpAddr, port: u16) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = match ip {
        std::net::IpAddr::V4(a) => write!(out, "{a}:{port}"),
        std::net::IpAddr::V6(a) => write!(out, "[{a}]:{port}"),
    };
}

/// True for a socket some process holds but whose owner could not be found:
/// not TIME_WAIT, not an orphan the OS says no process holds, and no
/// process was matched. The same rule on every OS (on Windows a socket
/// listed with pid 0 outside TIME_WAIT counts). What
/// [`Snapshot::unattributed`] counts.
pub fn is_unattributed(s: &SocketEntry) -> bool {
    !s.orphan && !s.is_kernel_owned() && s.processes.is_empty()
}

/// The reason to print beside an unattributed count of `n` among some of
/// `snapshot`'s sockets, counting the same sockets: the snapshot's own
/// reason when `n` is all of its unattributed sockets, else a plain one for
/// those `n` (a front end with the socket source at hand can name the
/// users with `SystemSource::explain_rows`). `None` for 0.
pub fn reason_for_some(snapshot: &Snapshot, n: usize) -> Option<std::borrow::Cow<'_, str>> {
    if n == 0 {
        None
    } else if n == snapshot.unattributed {
        snapshot
            .unattributed_reason
            .as_deref()
            .map(std::borrow::Cow::Borrowed)
    } else {
        Some(std::borrow::Cow::Owned(format!(
            "{n} socket{} whose owning process this user cannot see",
            if n == 1 { "" } else { "s" }
        )))
    }
}

/// What this OS's socket list cannot show at all, if anything (macOS lists
/// no TIME_WAIT sockets, for one). Front ends print it beside the counts.
pub fn coverage_note(privileged: bool) -> Option<String> {
    use crate::platform::SocketTable;
    crate::platform::HOST.coverage_note(privileged)
}
