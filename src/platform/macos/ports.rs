//! macos: ephemeral range, privileged ports, errno names.
//! Facts from ../shared/knowledge/ports-and-time-wait.md ("macOS"): the
//! range is `net.inet.ip.portrange.first/last` (and `hifirst/hilast`),
//! default 49152-65535; since Mojave only binds of a *specific* address
//! below 1024 need root; TIME_WAIT is 2 x `net.inet.tcp.msl`.

use std::io;

use socket2::Socket;

use super::sysctl;
use crate::ports::{PortRange, PrivilegedPorts};
use crate::sockets::Proto;

fn read_u16(key: &str) -> Option<u16> {
    sysctl::read(key)?.trim().parse().ok()
}

fn read_pair(first: &str, last: &str) -> Option<PortRange> {
    PortRange::new(read_u16(first)?, read_u16(last)?)
}

/// `first/last` and `hifirst/hilast` (usually the same range).
pub fn ephemeral_ranges(_proto: Proto) -> Vec<PortRange> {
    [
        read_pair("net.inet.ip.portrange.first", "net.inet.ip.portrange.last"),
        read_pair(
            "net.inet.ip.portrange.hifirst",
            "net.inet.ip.portrange.hilast",
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub fn default_ephemeral_range() -> PortRange {
    PortRange {
        lo: 49152,
        hi: 65535,
    }
}

/// macOS has no reserved-ports list.
pub fn reserved_ports(_proto: Proto) -> Vec<PortRange> {
    Vec::new()
}

pub fn excluded_ports(_proto: Proto) -> Vec<PortRange> {
    Vec::new()
}

/// Below 1024, specific addresses only (wildcard binds are open to all).
pub fn privileged_ports() -> Option<PrivilegedPorts> {
    Some(PrivilegedPorts {
        first_unprivileged: 1024,
        wildcard_exempt: true,
        setting: None,
        read_from_system: false,
    })
}

/// errno names and classes: the same `libc` mapping on Linux and macOS.
pub use crate::platform::unix_errno::{errno_name, error_class};

/// 2 x `net.inet.tcp.msl` (milliseconds; 15000 by default, so 30 s).
pub fn time_wait_ms() -> Option<u64> {
    let msl: u64 = sysctl::read("net.inet.tcp.msl")?.trim().parse().ok()?;
    Some(2 * msl)
}

pub fn set_reuse_port(sock: &Socket, on: bool) -> io::Result<()> {
    sock.set_reuse_port(on)
}

/// Not relied on here: the free-port probe binds 0.0.0.0 and `::` apart.
pub fn dual_stack_bind_covers_ipv4() -> bool {
    false
}

pub fn reservation_note() -> &'static str {
    "Leaves the port in TIME_WAIT on 127.0.0.1 for about 30 s (2 x net.inet.tcp.msl): meanwhile \
     a bind without SO_REUSEADDR fails on it, while your server that sets SO_REUSEADDR can bind \
     it. Whether macOS also skips it when it assigns port 0 is not verified here."
}

/// Whether the `--reserve` listener sets SO_REUSEADDR: yes, so it binds
/// despite older TIME_WAIT remnants; on BSD it does not let a socket bind
/// beside an active one on the same address (knowledge file, SO_REUSEADDR
/// row).
pub fn reservation_sets_reuseaddr() -> bool {
    true
}

/// launchd's on-demand sockets are not looked up.
pub fn socket_units_for_port(_port: u16) -> Vec<String> {
    Vec::new()
}

/// The index of the network interface `name` ("lo", "eth0"), for an IPv6
/// scope id written as "fe80::1%eth0" (if_nametoindex(3)); `None` when
/// there is no such interface.
pub fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}
