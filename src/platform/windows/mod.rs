//! Windows's side of the platform contract (see `platform/contract.rs`):
//! the TCP/UDP tables with owning pids, `netsh` and the registry for ports
//! and tunables, the process token for elevation.

pub mod fs;
mod netstat;
pub use super::no_netns::{container, netns};
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;

use std::io;
use std::os::windows::process::CommandExt;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// CREATE_NO_WINDOW: no console flashes up when the window app runs netsh.
const CREATE_NO_WINDOW: u32 = 0x0800_0000;

/// How long a command's output is reused: `bind-test --wait` and the
/// window's "Watch until free" re-test every second, and each netsh run
/// costs tens of milliseconds.
const CACHE_FOR: Duration = Duration::from_secs(10);

type Cached = (String, Instant, Option<String>);

use super::contract::{HostPorts, ProcessIdentity, SocketTable, SysctlReader};
use super::range::PortRange;
use super::types::ErrorClass;
use crate::sockets::model::Proto;
use crate::sockets::raw::{RawSocket, Unattributed};

/// Windows, as the engine sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Windows;

impl SocketTable for Windows {
    fn dump(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        _bound_only: bool,
    ) -> Result<(), String> {
        sockets::dump(each, meanwhile)
    }

    fn unattributed_reason(&self, u: &Unattributed) -> String {
        sockets::unattributed_reason(u)
    }
}

impl ProcessIdentity for Windows {
    fn is_elevated(&self) -> bool {
        process::is_elevated()
    }
    // Windows identifies users by SID, not by a number: no uid.

    fn can_list_users(&self) -> bool {
        !under_wine()
    }
}

/// True when running under Wine: its ntdll exports `wine_get_version`,
/// Windows' does not (Wine's documented way to detect it, wiki.winehq.org
/// "Developer FAQ").
pub fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    // SAFETY: both names are NUL-terminated C strings; ntdll.dll is mapped
    // into every process, and a missing export returns None.
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

impl HostPorts for Windows {
    fn ephemeral_ranges(&self, proto: Proto) -> Vec<PortRange> {
        ports::ephemeral_ranges(proto)
    }

    fn reserved_ports(&self, proto: Proto) -> Vec<PortRange> {
        ports::reserved_ports(proto)
    }

    fn excluded_ports(&self, proto: Proto) -> Vec<PortRange> {
        ports::excluded_ports(proto)
    }

    // No privileged ports on Windows: the default `None`.

    fn errno_name(&self, code: i32) -> Option<&'static str> {
        ports::errno_name(code)
    }

    fn error_class(&self, code: i32) -> ErrorClass {
        ports::error_class(code)
    }

    fn error_text(&self, code: i32) -> Option<&'static str> {
        ports::error_text(code)
    }

    fn time_wait_ms(&self) -> Option<u64> {
        ports::time_wait_ms()
    }

    fn set_reuse_port(&self, _sock: &socket2::Socket, on: bool) -> io::Result<()> {
        if on {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "SO_REUSEPORT does not exist on Windows",
            ))
        } else {
            Ok(())
        }
    }

    fn reservation_note(&self) -> &'static str {
        ports::reservation_note()
    }

    fn reservation_sets_reuseaddr(&self) -> bool {
        ports::reservation_sets_reuseaddr()
    }
}

impl SysctlReader for Windows {
    fn read(&self, key: &str) -> Option<String> {
        sysctl::read(key)
    }

    fn exists(&self, key: &str) -> bool {
        sysctl::exists(key)
    }
}

/// Runs `program args` (no console window), reusing an output younger than
/// [`CACHE_FOR`]. `None` when it cannot run or fails.
pub(crate) fn run(program: &str, args: &[&str]) -> Option<String> {
    static CACHE: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
    let key = format!("{program} {}", args.join(" "));
    if let Ok(cache) = CACHE.lock()
        && let Some((_, _, out)) = cache
            .iter()
            .find(|(k, at, _)| *k == key && at.elapsed() < CACHE_FOR)
    {
        return out.clone();
    }
    let out = Command::new(program)
        .args(args)
        .creation_flags(CREATE_NO_WINDOW)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if let Ok(mut cache) = CACHE.lock() {
        cache.retain(|(k, at, _)| *k != key && at.elapsed() < CACHE_FOR);
        cache.push((key, Instant::now(), out.clone()));
    }
    out
}
