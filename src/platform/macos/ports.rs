//! macos: ephemeral range, privileged ports, TIME_WAIT length. The range
//! is `net.inet.ip.portrange.first/last` (and `hifirst/hilast`), default
//! 49152-65535 (xnu bsd/netinet/in_pcb.c `ipport_firstauto`,
//! `ipport_lastauto`); since Mojave only binds of a *specific* address
//! below 1024 need root; TIME_WAIT is 2 x `net.inet.tcp.msl` (xnu
//! bsd/netinet/tcp_timer.h `TCPTV_MSL`, 15 s).

use super::sysctl;
use crate::platform::range::PortRange;
use crate::platform::types::PrivilegedPorts;
use crate::sockets::model::Proto;

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

/// Below 1024, specific addresses only (wildcard binds are open to all).
pub fn privileged_ports() -> Option<PrivilegedPorts> {
    Some(PrivilegedPorts {
        first_unprivileged: 1024,
        wildcard_exempt: true,
        setting: None,
        read_from_system: false,
    })
}

/// 2 x `net.inet.tcp.msl` (milliseconds; 15000 by default, so 30 s).
pub fn time_wait_ms() -> Option<u64> {
    let msl: u64 = sysctl::read("net.inet.tcp.msl")?.trim().parse().ok()?;
    Some(2 * msl)
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

/// The index of the network interface `name` ("lo", "eth0"), for an IPv6
/// scope id written as "fe80::1%eth0" (if_nametoindex(3)); `None` when
/// there is no such interface.
pub fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}
