//! Every operating-system difference lives in this folder, and only here.
//!
//! Each OS module (`linux/`, `macos/`, `windows/`) exposes the same set of
//! functions under the same names; the rest of the crate calls them through
//! `crate::platform::os::...` and never uses `#[cfg(target_os)]` itself.
//!
//! Submodules, one concern each, with the same names on every OS:
//! - `sockets`: enumerate sockets and their owners.
//! - `ports`: ephemeral range, reserved / excluded ports, privileged-port limit.
//! - `sysctl`: read the current values of kernel tunables.
//! - `process`: privileges, process identity for safe stopping.
//! - `fs`: file modes for atomic writes.

#[cfg(target_os = "linux")]
#[path = "linux/mod.rs"]
pub mod os;

#[cfg(target_os = "macos")]
#[path = "macos/mod.rs"]
pub mod os;

#[cfg(target_os = "windows")]
#[path = "windows/mod.rs"]
pub mod os;

/// Exact process identity and signalling: the types shared by every OS.
pub mod process_identity;

/// Running a child with a port: socket handoff, signals, exit codes.
pub mod handoff;

/// netstat2 row mapping shared by the two OSes that list sockets with it.
#[cfg(any(target_os = "macos", target_os = "windows"))]
mod netstat;

/// errno names and classes shared by the two Unix OSes.
#[cfg(any(target_os = "linux", target_os = "macos"))]
mod unix_errno;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
compile_error!("portwise supports Linux, macOS and Windows");

/// The running OS as portwise names it ("linux", "macos", "windows").
pub const OS_NAME: &str = std::env::consts::OS;
