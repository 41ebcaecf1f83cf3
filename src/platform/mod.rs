//! Every operating-system difference lives in this folder, and only here.
//!
//! The layer sits at the bottom of the crate: it imports nothing from the
//! engine (bind, ports, tuning, stop) nor from the window or the CLI, only
//! the plain socket model (`sockets::model`, `sockets::raw`); the plain types
//! it reports in ([`Os`], [`ErrorClass`], [`PrivilegedPorts`], port ranges)
//! are defined here and re-exported by the engine.
//!
//! The per-OS contract is a set of traits ([`contract`]): [`SocketTable`],
//! [`ProcessIdentity`], [`HostPorts`] and [`SysctlReader`]. Each OS module
//! (`linux`, `macos`, `windows`) implements them on one unit struct, the
//! running one is [`Current`] (the value [`HOST`]). Each OS module also has
//! the same submodules (`sockets`, `ports`, `process`, `sysctl`, `fs`),
//! reachable as `platform::os::...`.
//!
//! Pure code that reads what an OS prints or returns is compiled and tested
//! on every OS: [`parse`] (Linux sysctl text, Windows netsh and reg output),
//! [`pcblist`] (macOS's kernel socket list), [`rows`] (Windows table rows).
//! Tests drive the engine with fakes shaped like each OS ([`fake`]).

pub mod contract;
#[cfg(test)]
pub mod fake;
pub mod parse;
pub mod pcblist;
/// Exact process identity and signalling: the types shared by every OS.
pub mod process_identity;
pub mod range;
pub mod rows;
pub mod types;

/// Running a child with a port: socket handoff, signals, exit codes.
pub mod handoff;

/// Desktop notifications: D-Bus on Linux, WinRT toasts on Windows,
/// Notification Center on macOS.
pub mod notify;

/// Network namespaces and containers: none on macOS and Windows.
#[cfg(not(target_os = "linux"))]
mod no_netns;

/// errno names and classes shared by the two Unix OSes.
#[cfg(any(target_os = "linux", target_os = "macos"))]
mod unix_errno;
/// File modes for atomic writes, shared by the two Unix OSes.
#[cfg(any(target_os = "linux", target_os = "macos"))]
pub mod unix_fs;

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub use linux::{self as os, Linux as Current};

#[cfg(target_os = "macos")]
pub mod macos;
#[cfg(target_os = "macos")]
pub use macos::{self as os, Macos as Current};

#[cfg(target_os = "windows")]
pub mod windows;
#[cfg(target_os = "windows")]
pub use windows::{self as os, Windows as Current};

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
compile_error!("portwise supports Linux, macOS and Windows");

pub use contract::{DumpScope, HostPorts, ProcessIdentity, SocketTable, SysctlReader};
pub use types::{ErrorClass, Os, PrivilegedPorts};

/// True when this Windows build runs under Wine (always false elsewhere).
/// Wine reports no owning pid for any socket and uses Linux sockets
/// underneath; tests that need either say so.
pub fn under_wine() -> bool {
    #[cfg(target_os = "windows")]
    {
        windows::under_wine()
    }
    #[cfg(not(target_os = "windows"))]
    {
        false
    }
}

/// The running OS's implementation of the contract.
pub const HOST: Current = Current;

/// The running OS as portwise names it ("linux", "macos", "windows").
pub const OS_NAME: &str = std::env::consts::OS;

/// The Windows tunables the tuning guide knows, by the keys
/// `windows::sysctl` reads (registry value, netsh setting); here so the
/// guide can be checked against the reader on every OS.
pub const WINDOWS_TUNABLE_KEYS: [&str; 3] = [
    "TcpTimedWaitDelay",
    "dynamicport tcp",
    "excludedportrange tcp",
];
