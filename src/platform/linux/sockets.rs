//! linux: enumerate sockets with a sock_diag netlink dump (as `ss` does) and
//! find their owners through the socket inodes in /proc/<pid>/fd.
//!
//! Never parses /proc/net/tcp: that text file is generated line by line and
//! gets very slow on large tables. See man7 sock_diag(7).

use std::collections::HashSet;
use std::net::SocketAddr;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, Parseable,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DIAG_BY_FAMILY,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags,
};
use netlink_sys::{Socket, SocketAddr as NetlinkAddr, protocols::NETLINK_SOCK_DIAG};

use crate::sockets::model::{Proto, TcpState};
use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed};

/// Offset of `idiag_expires` in `struct inet_diag_msg` (linux
/// include/uapi/linux/inet_diag.h): family, state, timer, retrans (4 bytes),
/// `struct inet_diag_sockid` (48 bytes), then `__u32 idiag_expires`.
///
/// Read here by hand because netlink-packet-sock-diag 0.5.0 drops the value
/// when `idiag_timer` is 3 (TIME_WAIT): see its src/inet/response.rs.
const EXPIRES_OFFSET: usize = 52;

/// `idiag_timer` value of a TIME_WAIT socket. The kernel then reports the
/// time left in `idiag_expires`, in milliseconds (net/ipv4/inet_diag.c,
/// `inet_twsk_diag_fill()`: `jiffies_delta_to_msecs(tmo)`); `ss -o` prints it
/// as `timer:(timewait,…)`.
const TIMER_TIME_WAIT: u8 = 3;

/// `1 << TCP_BOUND_INACTIVE`: not in netlink-packet-sock-diag's StateFlags.
const TCPF_BOUND_INACTIVE: u32 = 1 << 13;

/// Large enough for the kernel to fill a whole dump batch per `recv`.
const RECV_BUFFER: usize = 64 * 1024;

/// Every TCP and UDP socket, IPv4 and IPv6, in every state.
pub fn dump() -> Result<Vec<RawSocket>, String> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)
        .map_err(|e| format!("cannot open a sock_diag netlink socket: {e}"))?;
    socket
        .bind_auto()
        .map_err(|e| format!("cannot bind the sock_diag netlink socket: {e}"))?;
    socket
        .connect(&NetlinkAddr::new(0, 0))
        .map_err(|e| format!("cannot connect the sock_diag netlink socket: {e}"))?;

    let mut out = Vec::with_capacity(1024);
    let mut buf = vec![0u8; RECV_BUFFER];
    let requests = [
        (AF_INET, IPPROTO_TCP),
        (AF_INET6, IPPROTO_TCP),
        (AF_INET, IPPROTO_UDP),
        (AF_INET6, IPPROTO_UDP),
    ];
    for (seq, (family, protocol)) in requests.into_iter().enumerate() {
        send_request(&socket, family, protocol, seq as u32 + 1)?;
        receive_dump(&socket, &mut buf, protocol, &mut out)?;
    }
    Ok(out)
}

fn send_request(socket: &Socket, family: u8, protocol: u8, seq: u32) -> Result<(), String> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let socket_id = if family == AF_INET {
        SocketId::new_v4()
    } else {
        SocketId::new_v6()
    };
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol,
            extensions: ExtensionFlags::empty(),
            // Every state; UDP sockets report TCP_CLOSE (unconnected) or
            // TCP_ESTABLISHED (connected), so "all" covers them too. Bit 13
            // is TCP_BOUND_INACTIVE, a pseudo-state for inet_diag
            // (include/net/tcp_states.h; kernel commit 91051f003948 "tcp:
            // Dump bound-only sockets in inet_diag."): TCP sockets bound to
            // a port but neither listening nor connected, which still make
            // bind() on that port fail. Kernels without it ignore the bit.
            states: StateFlags::from_bits_retain(StateFlags::all().bits() | TCPF_BOUND_INACTIVE),
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut bytes = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut bytes);
    socket
        .send(&bytes, 0)
        .map_err(|e| format!("cannot send the sock_diag request: {e}"))?;
    Ok(())
}

fn receive_dump(
    socket: &Socket,
    buf: &mut [u8],
    protocol: u8,
    out: &mut Vec<RawSocket>,
) -> Result<(), String> {
    loop {
        let n = socket
            .recv(&mut &mut buf[..], 0)
            .map_err(|e| format!("cannot read the sock_diag dump: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        let mut offset = 0;
        while offset < n.min(buf.len()) {
            let msg = NetlinkBuffer::new_checked(&buf[offset..n])
                .map_err(|e| format!("malformed sock_diag message: {e}"))?;
            let len = msg.length() as usize;
            match msg.message_type() {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR => {
                    let payload = msg.payload();
                    let code = payload
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .map(i32::from_ne_bytes)
                        .unwrap_or(0);
                    // ENOENT: this kernel has no diag module for the family
                    // (e.g. IPv6 disabled): there are no such sockets to list.
                    if code == 0 || -code == libc::ENOENT {
                        return Ok(());
                    }
                    return Err(format!(
                        "the kernel refused the sock_diag dump: {}",
                        std::io::Error::from_raw_os_error(-code)
                    ));
                }
                SOCK_DIAG_BY_FAMILY => {
                    if let Some(raw) = parse_inet(msg.payload(), protocol)? {
                        out.push(raw);
                    }
                }
                _ => {}
            }
            if len == 0 {
                break;
            }
            // Netlink messages are aligned to 4 bytes.
            offset += (len + 3) & !3;
        }
    }
}

/// One `inet_diag_msg` into a [`RawSocket`].
fn parse_inet(payload: &[u8], protocol: u8) -> Result<Option<RawSocket>, String> {
    let header = InetResponseHeader::parse(payload)
        .map_err(|e| format!("malformed sock_diag socket: {e}"))?;
    let id = &header.socket_id;
    let local = SocketAddr::new(id.source_address, id.source_port);
    let peer = SocketAddr::new(id.destination_address, id.destination_port);
    let (proto, state) = if protocol == IPPROTO_TCP {
        match tcp_state(header.state) {
            Some(st) => (Proto::Tcp, Some(st)),
            None => return Ok(None),
        }
    } else {
        (Proto::Udp, None)
    };
    let remote = if state == Some(TcpState::Listen) || is_unset(&peer) {
        None
    } else {
        Some(peer)
    };
    let raw_timer = payload.get(2).copied().unwrap_or(0);
    let time_wait_expires_in_ms =
        if state == Some(TcpState::TimeWait) && raw_timer == TIMER_TIME_WAIT {
            payload
                .get(EXPIRES_OFFSET..EXPIRES_OFFSET + 4)
                .and_then(|b| b.try_into().ok())
                .map(|b| u64::from(u32::from_ne_bytes(b)))
        } else {
            None
        };
    Ok(Some(RawSocket {
        proto,
        local,
        remote,
        state,
        inode: u64::from(header.inode),
        uid: Some(header.uid),
        time_wait_expires_in_ms,
        pids: Vec::new(),
    }))
}

fn is_unset(addr: &SocketAddr) -> bool {
    addr.port() == 0 && addr.ip().is_unspecified()
}

/// Kernel TCP state numbers (include/net/tcp_states.h).
fn tcp_state(n: u8) -> Option<TcpState> {
    Some(match n {
        1 => TcpState::Established,
        2 => TcpState::SynSent,
        3 => TcpState::SynRecv,
        4 => TcpState::FinWait1,
        5 => TcpState::FinWait2,
        6 => TcpState::TimeWait,
        7 => TcpState::Closed,
        8 => TcpState::CloseWait,
        9 => TcpState::LastAck,
        10 => TcpState::Listen,
        11 => TcpState::Closing,
        // TCP_NEW_SYN_RECV: a pending connection request.
        12 => TcpState::SynRecv,
        // TCP_BOUND_INACTIVE: bound, not listening, not connected.
        13 => TcpState::Closed,
        _ => return None,
    })
}

/// Scan /proc/<pid>/fd for descriptors that point at the `wanted` socket
/// inodes (`socket:[INODE]` links). Cost grows with the number of open
/// descriptors on the machine, so the engine calls this only when it meets
/// an inode it does not know yet.
pub fn scan_owners(wanted: &HashSet<u64>) -> OwnerScan {
    let mut scan = OwnerScan::default();
    if wanted.is_empty() {
        return scan;
    }
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return scan;
    };
    let mut path = String::with_capacity(64);
    for entry in proc_dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        path.clear();
        path.push_str("/proc/");
        path.push_str(name.to_str().unwrap_or_default());
        path.push_str("/fd");
        let fds = match std::fs::read_dir(&path) {
            Ok(fds) => fds,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                scan.unreadable_processes += 1;
                continue;
            }
            // The process exited meanwhile.
            Err(_) => continue,
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            if let Some(inode) = socket_inode(target.as_os_str().as_encoded_bytes())
                && wanted.contains(&inode)
            {
                scan.owners.entry(inode).or_default().push(pid);
            }
        }
    }
    for pids in scan.owners.values_mut() {
        pids.sort_unstable();
        pids.dedup();
    }
    scan
}

/// The inode in a `socket:[12345]` link target.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Why some sockets have no owner, in words a user can act on.
pub fn unattributed_reason(u: &Unattributed) -> String {
    let noun = |n: usize| if n == 1 { "socket" } else { "sockets" };
    let mut parts = Vec::new();
    if u.foreign_count > 0 && !u.privileged {
        parts.push(format!(
            "{} {} held by processes of {}: without root, Linux does not let this user read \
             their /proc/<pid>/fd; run portwise as root (sudo) to see them",
            u.foreign_count,
            noun(u.foreign_count),
            u.foreign_users.join(", ")
        ));
    }
    let rest = if u.privileged {
        u.count
    } else {
        u.count - u.foreign_count.min(u.count)
    };
    if rest > 0 {
        parts.push(format!(
            "{rest} {} not found in any visible /proc/<pid>/fd: the owner exited between the \
             kernel's socket dump and the /proc scan, or runs in another pid namespace (a \
             container) that this /proc does not show",
            noun(rest)
        ));
    }
    parts.join("; ")
}

/// What this OS's socket list leaves out, if anything. Linux lists every
/// socket of this network namespace, with or without privileges.
pub fn coverage_note(_privileged: bool) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links_parse() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
    }

    #[test]
    fn dump_sees_a_fresh_listener_and_its_owner_inode() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let all = dump().unwrap();
        let mine: Vec<&RawSocket> = all
            .iter()
            .filter(|s| s.proto == Proto::Tcp && s.local.port() == port)
            .collect();
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0].state, Some(TcpState::Listen));
        assert!(mine[0].remote.is_none());
        assert_ne!(mine[0].inode, 0);
        let wanted: HashSet<u64> = [mine[0].inode].into_iter().collect();
        let scan = scan_owners(&wanted);
        assert_eq!(
            scan.owners.get(&mine[0].inode),
            Some(&vec![std::process::id()])
        );
    }
}
