//! Running a child program with a port: handing it an already-bound socket
//! at a fixed descriptor (systemd socket activation, or a plain fd number),
//! finding its executable, forwarding Ctrl-C / SIGTERM to it, and turning
//! its exit status into an exit code.
//!
//! What the engine (`crate::handoff`) asks of each OS, with the same names
//! on every OS:
//! - [`SOCKET_HANDOFF`]: `Ok(())` where a listening socket can be passed to
//!   a child at a descriptor number, or the reason it cannot.
//! - `held_bind_reserves()`: whether holding a bound, non-listening socket
//!   with SO_REUSEADDR keeps plain binds out while still letting a server
//!   that sets SO_REUSEADDR bind and listen (Linux), or whether the
//!   reservation has to be the TIME_WAIT trick instead.
//! - `socket_id(&Socket)`: the id the socket table lists for it (Linux: the
//!   inode), 0 where none.
//! - `resolve_program`, `command`, `install_signal_forwarding`,
//!   `forward_signals_to`, `stop_child`, `exit_code`, `status_text`.

#[cfg(unix)]
#[path = "handoff/unix.rs"]
mod imp;

#[cfg(windows)]
#[path = "handoff/windows.rs"]
mod imp;

pub use imp::*;

use std::ffi::OsString;
use std::path::PathBuf;

use socket2::Socket;

/// What to run: the executable already found, its arguments (without
/// argv\[0\]) and its whole environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildSpec {
    pub program: PathBuf,
    /// argv\[0\] as the user typed it.
    pub arg0: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

/// A socket to hand to the child.
pub struct Pass<'a> {
    pub socket: &'a Socket,
    /// The descriptor number the child finds it at (3 for systemd).
    pub target_fd: i32,
    /// Also set `LISTEN_PID` to the child's own pid (systemd's protocol:
    /// sd_listen_fds(3) ignores the descriptors when it differs).
    pub listen_pid: bool,
}

/// Where an executable was looked for, and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Found and marked executable.
    Found(PathBuf),
    /// Not there (in PATH, or at the path given).
    NotFound,
    /// There, but not something that can be run (no execute permission, a
    /// directory).
    NotExecutable(PathBuf),
}
