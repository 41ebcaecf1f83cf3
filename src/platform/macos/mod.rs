//! macOS's side of the platform contract (see `platform/contract.rs`):
//! sockets from the kernel's own PCB lists (`net.inet.tcp.pcblist_n`,
//! `net.inet.udp.pcblist_n`), ports and tunables from sysctl.

pub use super::no_netns::{container, netns};
pub use super::unix_fs as fs;
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;

use std::io;

use socket2::Socket;

use super::contract::{HostPorts, ProcessIdentity, SocketTable, SysctlReader};
use super::range::PortRange;
use super::types::{ErrorClass, PrivilegedPorts};
use crate::sockets::model::Proto;
use crate::sockets::raw::{RawSocket, Unattributed};

/// macOS, as the engine sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Macos;

impl SocketTable for Macos {
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

impl ProcessIdentity for Macos {
    fn is_elevated(&self) -> bool {
        process::is_elevated()
    }

    fn current_uid(&self) -> Option<u32> {
        process::current_uid()
    }
}

impl HostPorts for Macos {
    fn ephemeral_ranges(&self, proto: Proto) -> Vec<PortRange> {
        ports::ephemeral_ranges(proto)
    }

    // No reserved-ports list and no excluded ranges on macOS: the defaults.

    fn privileged_ports(&self) -> Option<PrivilegedPorts> {
        ports::privileged_ports()
    }

    fn errno_name(&self, code: i32) -> Option<&'static str> {
        super::unix_errno::errno_name(code)
    }

    fn error_class(&self, code: i32) -> ErrorClass {
        super::unix_errno::error_class(code)
    }

    fn time_wait_ms(&self) -> Option<u64> {
        ports::time_wait_ms()
    }

    fn set_reuse_port(&self, sock: &Socket, on: bool) -> io::Result<()> {
        sock.set_reuse_port(on)
    }

    fn reservation_note(&self) -> &'static str {
        ports::reservation_note()
    }

    fn reservation_sets_reuseaddr(&self) -> bool {
        ports::reservation_sets_reuseaddr()
    }
}

impl SysctlReader for Macos {
    fn read(&self, key: &str) -> Option<String> {
        sysctl::read(key)
    }
}
