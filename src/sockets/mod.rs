//! The socket engine: snapshots of every TCP and UDP socket with their owners.
//!
//! - [`model`]: the `Snapshot` data model shared by the CLI and the window.
//! - [`SocketSource`]: anything that produces snapshots (the real system, or a
//!   scripted fake in tests).

pub mod model;

pub use model::{Family, OwnerRef, ProcessInfo, Proto, Snapshot, SocketEntry, TcpState};

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
