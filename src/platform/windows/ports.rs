//! windows: dynamic (ephemeral) range, excluded port ranges, WSAE names.
//! Facts from ../shared/knowledge/ports-and-time-wait.md ("Windows"):
//! `netsh int ipv4 show dynamicport tcp`, default 49152-65535; excluded
//! ranges of Hyper-V, WinNAT, WSL2 and Docker fail binds with WSAEACCES,
//! administered ones (`*`) only keep ports out of dynamic assignment;
//! TIME_WAIT is `TcpTimedWaitDelay`, 120 s by default. Error codes:
//! learn.microsoft.com "Windows Sockets Error Codes".

use crate::platform::parse;
use crate::platform::range::PortRange;
use crate::platform::types::ErrorClass;
use crate::sockets::model::Proto;

use super::run;

fn proto_word(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

/// The dynamic port ranges of IPv4 and IPv6 (each is set separately).
pub fn ephemeral_ranges(proto: Proto) -> Vec<PortRange> {
    ["ipv4", "ipv6"]
        .iter()
        .filter_map(|ip| {
            let text = run(
                "netsh",
                &["int", ip, "show", "dynamicport", proto_word(proto)],
            )?;
            parse::netsh_dynamic_port(&text)
        })
        .collect()
}

/// Every excluded block of IPv4 and IPv6, administered (`*`) or not
/// (`netsh int ipv4|ipv6 show excludedportrange protocol=tcp|udp`).
fn excluded_blocks(proto: Proto) -> Vec<parse::ExcludedBlock> {
    let arg = format!("protocol={}", proto_word(proto));
    ["ipv4", "ipv6"]
        .iter()
        .filter_map(|ip| run("netsh", &["int", ip, "show", "excludedportrange", &arg]))
        .flat_map(|text| parse::netsh_excluded_ranges(&text))
        .collect()
}

/// Every excluded block, administered or not: all of them are kept out of
/// dynamic (automatic) assignment.
pub fn reserved_ports(proto: Proto) -> Vec<PortRange> {
    parse::all_excluded(&excluded_blocks(proto))
}

/// The blocks Windows components hold (Hyper-V, WinNAT, WSL2, Docker: no
/// `*`), where even an explicit bind fails with WSAEACCES. Administered
/// blocks (`*`) are left out: a program may still bind those explicitly
/// (Microsoft KB 812873; see `ports::parse::ExcludedBlock`).
pub fn excluded_ports(proto: Proto) -> Vec<PortRange> {
    parse::binds_refused(&excluded_blocks(proto))
}

/// The WSAE name of a Winsock error code.
pub fn errno_name(code: i32) -> Option<&'static str> {
    Some(match code {
        10004 => "WSAEINTR",
        10013 => "WSAEACCES",
        10014 => "WSAEFAULT",
        10022 => "WSAEINVAL",
        10024 => "WSAEMFILE",
        10042 => "WSAENOPROTOOPT",
        10043 => "WSAEPROTONOSUPPORT",
        10045 => "WSAEOPNOTSUPP",
        10047 => "WSAEAFNOSUPPORT",
        10048 => "WSAEADDRINUSE",
        10049 => "WSAEADDRNOTAVAIL",
        10050 => "WSAENETDOWN",
        10055 => "WSAENOBUFS",
        _ => return None,
    })
}

/// What a Winsock error code means, in portwise's own words (the short
/// names of learn.microsoft.com "Windows Sockets Error Codes"). Asking the
/// system instead (FormatMessageW, what io::Error prints) can fail: under
/// Wine it prints "OS Error 10048 (FormatMessageW() returned error 317)".
pub fn error_text(code: i32) -> Option<&'static str> {
    Some(match code {
        10004 => "Interrupted function call",
        10013 => "Permission denied (access forbidden by the socket's access permissions)",
        10014 => "Bad address",
        10022 => "Invalid argument",
        10024 => "Too many open sockets",
        10042 => "Bad protocol option",
        10043 => "Protocol not supported",
        10045 => "Operation not supported",
        10047 => "Address family not supported by protocol family",
        10048 => "Address already in use",
        10049 => "Cannot assign requested address",
        10050 => "Network is down",
        10055 => "No buffer space available",
        _ => return None,
    })
}

pub fn error_class(code: i32) -> ErrorClass {
    match code {
        10048 => ErrorClass::AddrInUse,
        10013 => ErrorClass::AccessDenied,
        10049 => ErrorClass::AddrNotAvailable,
        _ => ErrorClass::Other,
    }
}

/// `TcpTimedWaitDelay` (seconds) from the registry, else the 120 s default.
pub fn time_wait_ms() -> Option<u64> {
    let key = super::sysctl::TCPIP_PARAMETERS;
    let secs = run("reg", &["query", key, "/v", "TcpTimedWaitDelay"])
        .and_then(|t| parse::reg_query_dword(&t, "TcpTimedWaitDelay"))
        .unwrap_or(120);
    Some(u64::from(secs) * 1000)
}

pub fn reservation_note() -> &'static str {
    "Leaves the port in TIME_WAIT on 127.0.0.1 for TcpTimedWaitDelay (120 s by default). Whether \
     that keeps other binds, or port-0 assignment, off the port on Windows is not verified: treat \
     it as best effort."
}

/// Whether the `--reserve` listener sets SO_REUSEADDR: no. On Windows it
/// would let the listener bind a port another socket is using
/// (learn.microsoft.com "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE").
pub fn reservation_sets_reuseaddr() -> bool {
    false
}

/// Interface names as IPv6 scope ids ("fe80::1%Ethernet") are not looked
/// up on Windows: scope ids there are given as numbers ("fe80::1%12", as
/// `ipconfig` and `netsh interface ipv6 show addresses` print them).
pub fn interface_index(_name: &str) -> Option<u32> {
    None
}
