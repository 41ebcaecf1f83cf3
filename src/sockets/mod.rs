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
pub mod filter;
pub mod json;
pub mod memory;
pub mod model;
pub mod order;
pub mod owners;
pub mod port_use;
pub mod procinfo;
pub mod raw;
pub mod system;

pub use filter::{Filter, StateFilter};
pub use model::{Family, OwnerRef, ProcessInfo, Proto, Snapshot, SocketEntry, TcpState};
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
/// it has an inode (Linux), is not TIME_WAIT, and no process was matched.
/// What [`Snapshot::unattributed`] counts.
pub fn is_unattributed(s: &SocketEntry) -> bool {
    s.inode != 0 && !s.is_kernel_owned() && s.processes.is_empty()
}

/// What this OS's socket list cannot show at all, if anything (macOS lists
/// no TIME_WAIT sockets, for one). Front ends print it beside the counts.
pub fn coverage_note(privileged: bool) -> Option<String> {
    crate::platform::os::sockets::coverage_note(privileged)
}
