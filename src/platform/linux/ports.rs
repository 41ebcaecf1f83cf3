//! linux: ephemeral range, reserved ports, privileged-port limit (errno
//! names: `platform/unix_errno.rs`). Sources: linux Documentation/networking/ip-sysctl.rst
//! (`ip_local_port_range`, `ip_local_reserved_ports`,
//! `ip_unprivileged_port_start`), man7 errno(3).

use super::sysctl;
use crate::platform::parse;
use crate::platform::range::PortRange;
use crate::platform::types::PrivilegedPorts;
use crate::sockets::model::Proto;

/// The ephemeral range for port-0 binds and outgoing connections. One
/// setting serves TCP and UDP, IPv4 and IPv6 (`inet_get_local_port_range()`
/// in net/ipv4/inet_connection_sock.c is shared by both stacks). Empty when
/// it cannot be read.
pub fn ephemeral_ranges(_proto: Proto) -> Vec<PortRange> {
    sysctl::read("net.ipv4.ip_local_port_range")
        .and_then(|s| parse::sysctl_port_pair(&s))
        .into_iter()
        .collect()
}

/// The kernel default of `ip_local_port_range` (ip-sysctl.rst).
pub fn default_ephemeral_range() -> PortRange {
    PortRange {
        lo: 32768,
        hi: 60999,
    }
}

/// `ip_local_reserved_ports`: kept out of automatic assignment; explicit
/// binds still work.
pub fn reserved_ports(_proto: Proto) -> Vec<PortRange> {
    sysctl::read("net.ipv4.ip_local_reserved_ports")
        .map(|s| parse::port_list(&s))
        .unwrap_or_default()
}

/// `ip_unprivileged_port_start` (Linux >= 4.11; default 1024): binds below
/// it need CAP_NET_BIND_SERVICE, else EACCES.
pub fn privileged_ports() -> Option<PrivilegedPorts> {
    let key = "net.ipv4.ip_unprivileged_port_start";
    let read = sysctl::read(key).and_then(|s| s.trim().parse::<u16>().ok());
    Some(PrivilegedPorts {
        first_unprivileged: read.unwrap_or(1024),
        wildcard_exempt: false,
        setting: Some(key),
        read_from_system: read.is_some(),
    })
}

/// TIME_WAIT length: 60 s, hard-coded (include/net/tcp.h `TCP_TIMEWAIT_LEN`).
pub fn time_wait_ms() -> Option<u64> {
    Some(60_000)
}

/// True: a `[::]` bind with IPV6_V6ONLY off conflicts with every IPv4
/// socket on the port too (net/ipv4/inet_connection_sock.c
/// `ipv6_rcv_saddr_equal()`: an unspecified, non-v6-only address matches
/// v4-mapped ones; UDP's `udp_lib_lport_inuse()` uses the same test), so
/// one bind checks both families.
pub fn dual_stack_bind_covers_ipv4() -> bool {
    true
}

/// What `--reserve` does here. A TIME_WAIT socket conflicts with a new
/// bind unless both set SO_REUSEADDR, and port-0 binds skip the port
/// (net/ipv4/inet_connection_sock.c `inet_bind_conflict()`,
/// `inet_csk_find_open_port()`); the default pick lies outside the
/// ephemeral range, where port-0 binds never go anyway.
pub fn reservation_note() -> &'static str {
    "Leaves the port in TIME_WAIT on 127.0.0.1 for 60 s: meanwhile a bind without SO_REUSEADDR \
     (e.g. another tool probing for a free port) fails on it with EADDRINUSE, while your server \
     that sets SO_REUSEADDR can bind it. For a port inside the ephemeral range (one the OS \
     assigned) it also keeps port-0 binds from handing it out."
}

/// Whether the `--reserve` listener sets SO_REUSEADDR: yes. Its accepted
/// socket, and so the TIME_WAIT socket left behind, inherit it, and Linux
/// lets a later bind with SO_REUSEADDR next to a TIME_WAIT socket only when
/// both set it (man7 socket(7); inet_bind_conflict()). It never lets the
/// listener bind beside an active socket here.
pub fn reservation_sets_reuseaddr() -> bool {
    true
}

/// The systemd `.socket` units listening on `port`, from
/// `systemctl list-sockets` (empty when systemctl is absent or says none).
pub fn socket_units_for_port(port: u16) -> Vec<String> {
    let out = std::process::Command::new("systemctl")
        .args([
            "list-sockets",
            "--all",
            "--no-legend",
            "--no-pager",
            "--full",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            parse::systemd_socket_units(&String::from_utf8_lossy(&o.stdout), port)
        }
        _ => Vec::new(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::types::ErrorClass;
    use crate::platform::unix_errno::{errno_name, error_class};

    #[test]
    fn reads_this_kernels_values() {
        // Every kernel this runs on has ip_local_port_range.
        let r = ephemeral_ranges(Proto::Tcp);
        assert_eq!(r.len(), 1, "{r:?}");
        let p = privileged_ports().unwrap();
        assert_eq!(p.setting, Some("net.ipv4.ip_unprivileged_port_start"));
        assert!(!p.wildcard_exempt);
    }

    #[test]
    fn reservation_note_names_what_it_blocks() {
        let n = reservation_note();
        assert!(n.contains("a bind without SO_REUSEADDR"), "{n}");
        assert!(!n.contains("another port-0 bind"), "{n}");
        assert!(n.contains("inside the ephemeral range"), "{n}");
    }

    #[test]
    fn errno_names_and_classes() {
        assert_eq!(errno_name(98), Some("EADDRINUSE"));
        assert_eq!(errno_name(13), Some("EACCES"));
        assert_eq!(errno_name(99), Some("EADDRNOTAVAIL"));
        assert_eq!(errno_name(1), Some("EPERM"));
        assert_eq!(errno_name(123456), None);
        assert_eq!(error_class(98), ErrorClass::AddrInUse);
        assert_eq!(error_class(13), ErrorClass::AccessDenied);
        assert_eq!(error_class(22), ErrorClass::Other);
    }
}
