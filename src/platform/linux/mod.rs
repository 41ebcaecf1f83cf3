//! Linux's side of the platform contract (see `platform/contract.rs`):
//! sockets from a sock_diag netlink dump, owners from /proc/<pid>/fd, ports
//! and tunables from /proc/sys.

pub mod container;
pub mod diag_filter;
pub mod fdscan;
pub use super::unix_fs as fs;
pub mod netns;
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;

use std::io;

use socket2::Socket;

use super::contract::{DumpScope, HostPorts, ProcessIdentity, SocketTable, SysctlReader};
use super::range::PortRange;
use super::types::{ErrorClass, PrivilegedPorts};
use crate::sockets::model::Proto;
use crate::sockets::owners::{FdMemory, OwnerQuery};
use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed};

/// Linux, as the engine sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Linux;

impl SocketTable for Linux {
    fn dump(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        bound_only: bool,
    ) -> Result<(), String> {
        sockets::dump(each, meanwhile, bound_only)
    }

    fn dump_scoped(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        bound_only: bool,
        scope: Option<DumpScope>,
    ) -> Result<(), String> {
        let filter = scope.map(|s| diag_filter::PortFilter {
            port: s.port,
            local_only: s.local_only,
        });
        sockets::dump_scoped(
            each,
            meanwhile,
            bound_only,
            filter,
            scope.and_then(|s| s.proto),
        )
    }

    fn count_hint(&self) -> Option<usize> {
        sockets::count_hint()
    }

    fn scan_owners(&self, query: &OwnerQuery<'_>, memory: &mut FdMemory) -> OwnerScan {
        sockets::scan_owners(query, memory)
    }

    fn unattributed_reason(&self, u: &Unattributed) -> String {
        sockets::unattributed_reason(u)
    }
}

impl ProcessIdentity for Linux {
    fn is_elevated(&self) -> bool {
        process::is_elevated()
    }

    fn current_uid(&self) -> Option<u32> {
        process::current_uid()
    }
}

impl HostPorts for Linux {
    fn ephemeral_ranges(&self, proto: Proto) -> Vec<PortRange> {
        ports::ephemeral_ranges(proto)
    }

    fn default_ephemeral_range(&self) -> PortRange {
        ports::default_ephemeral_range()
    }

    fn reserved_ports(&self, proto: Proto) -> Vec<PortRange> {
        ports::reserved_ports(proto)
    }

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
        // SO_REUSEPORT (Linux >= 3.9, man7 socket(7)).
        sock.set_reuse_port(on)
    }

    fn dual_stack_bind_covers_ipv4(&self) -> bool {
        ports::dual_stack_bind_covers_ipv4()
    }

    fn reservation_note(&self) -> &'static str {
        ports::reservation_note()
    }

    fn reservation_sets_reuseaddr(&self) -> bool {
        ports::reservation_sets_reuseaddr()
    }

    fn socket_units_for_port(&self, port: u16) -> Vec<String> {
        ports::socket_units_for_port(port)
    }
}

impl SysctlReader for Linux {
    fn read(&self, key: &str) -> Option<String> {
        sysctl::read(key)
    }

    fn exists(&self, key: &str) -> bool {
        sysctl::exists(key)
    }
}
