//! linux: enumerate sockets with a sock_diag netlink dump (as `ss` does) and
//! find their owners through the socket inodes in /proc/<pid>/fd.
//!
//! Never parses /proc/net/tcp: that text file is generated line by line and
//! gets very slow on large tables. See man7 sock_diag(7).

use std::net::SocketAddr;
use std::sync::mpsc;

use netlink_packet_core::{
    Emitable, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
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

use super::diag_filter::{self, PortFilter};
use crate::sockets::model::{Proto, TcpState};
use crate::sockets::owners::{FdMemory, OwnerQuery};
use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed};

/// Offset of `idiag_expires` in `struct inet_diag_msg` (linux
/// include/uapi/linux/inet_diag.h): family, state, timer, retrans (4 bytes),
/// `struct inet_diag_sockid` (48 bytes), then `__u32 idiag_expires`.
///
/// Read here by hand because netlink-packet-sock-diag 0.5.0 drops the value
/// when `idiag_timer` is 3 (TIME_WAIT): see its src/inet/response.rs.
const EXPIRES_OFFSET: usize = 52;

/// `idiag_timer` value of a timewait socket. The kernel then reports the
/// time left in `idiag_expires`, in milliseconds (net/ipv4/inet_diag.c,
/// `inet_twsk_diag_fill()`: `jiffies_delta_to_msecs(tmo)`); `ss -o` prints it
/// as `timer:(timewait,…)`. A timewait socket is a TIME_WAIT one, or an
/// orphaned FIN_WAIT_2 connection the kernel moved into the timewait
/// machinery to finish it (net/ipv4/tcp.c `tcp_close()` and tcp_input.c
/// `tcp_rcv_state_process()`: `tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)` when
/// `tcp_fin_time()` is at most 60 s); the dump then reports the state
/// `tw_substate`, FIN_WAIT_2. Full sockets never report timer 3
/// (`inet_sk_diag_fill()`: 1 retransmit, 2 keepalive, 4 zero-window probe).
const TIMER_TIME_WAIT: u8 = 3;

/// Every real state, TCP_ESTABLISHED (1) to TCP_NEW_SYN_RECV (12). UDP
/// sockets report TCP_CLOSE (unconnected) or TCP_ESTABLISHED (connected),
/// so this covers them too.
const ALL_STATES: u32 = 0x1ffe;

/// `1 << TCP_BOUND_INACTIVE` (13), a pseudo-state for inet_diag (include/
/// net/tcp_states.h; kernel commit 91051f003948 "tcp: Dump bound-only
/// sockets in inet_diag."): TCP sockets bound to a port but neither
/// listening nor connected, which still make bind() on that port fail.
/// Missing from netlink-packet-sock-diag's StateFlags; kernels without it
/// ignore the bit. Asked for in a request of its own: the kernel finds them
/// by walking its bind table, which costs about as much again as the main
/// dump when thousands of TIME_WAIT sockets hold ports (8 ms for 30k on the
/// benchmark machine, BENCHMARKS.md), so it runs on its own socket beside
/// the main walk, and only when wanted.
const BOUND_INACTIVE: u32 = 1 << 13;

/// `sizeof(struct nlmsghdr)` (include/uapi/linux/netlink.h).
const NLMSG_HDRLEN: usize = 16;

/// `nlmsg_type` of the legacy TCP dump request (include/uapi/linux/
/// inet_diag.h); its answers carry the same type.
const TCPDIAG_GETSOCK: u16 = 18;

/// Room offered to each `recv`: more than the 32 KiB the kernel fills per
/// dump step (net/netlink/af_netlink.c caps `max_recvmsg_len` there).
const RECV_BUFFER: usize = 64 * 1024;

/// Bytes handed from the reader thread to the decoder at a time: several
/// `recv`s, so the two threads wake each other less often.
const BATCH_BYTES: usize = 4 * RECV_BUFFER;

/// Every TCP and UDP socket, IPv4 and IPv6, in every state, handed to
/// `each` as the kernel lists them (no whole-table copy in between).
///
/// A named thread reads the TCP dump while this thread runs `meanwhile`
/// (work that needs no socket, such as the first owner scan), reads the UDP
/// tables and the bound-only TCP sockets on a second netlink socket, then
/// decodes what the reader has read: the kernel's work and ours overlap.
///
/// `bound_only` asks for TCP sockets that are bound but neither listening
/// nor connected (see [`BOUND_INACTIVE`]).
pub fn dump(
    each: &mut dyn FnMut(RawSocket),
    meanwhile: &mut dyn FnMut(),
    bound_only: bool,
) -> Result<(), String> {
    dump_scoped(each, meanwhile, bound_only, None, None)
}

/// [`dump`], asking the kernel for the sockets of one port only when
/// `filter` says so (see [`diag_filter`]), and for one protocol's only when
/// `proto` says so. What the kernel's filter lets through is a superset of
/// nothing the caller wants to miss: the caller still filters each socket.
pub fn dump_scoped(
    each: &mut dyn FnMut(RawSocket),
    meanwhile: &mut dyn FnMut(),
    bound_only: bool,
    filter: Option<PortFilter>,
    proto: Option<Proto>,
) -> Result<(), String> {
    let attr = filter.map(diag_filter::attribute).unwrap_or_default();
    let attr = attr.as_slice();
    let tcp_wanted = proto != Some(Proto::Udp);
    let udp_wanted = proto != Some(Proto::Tcp);
    let tcp = open_socket()?;
    let side = open_socket()?;
    // Deep enough for the reader to run ahead while this thread is busy.
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(16);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("portwise-sock-diag".into())
            .spawn_scoped(scope, move || {
                if !tcp_wanted {
                    return Ok(());
                }
                read_tcp(
                    &tcp,
                    ALL_STATES,
                    attr,
                    &mut || free_rx.try_recv().ok(),
                    &mut |batch| {
                        full_tx.send(batch).map_err(|_| {
                            DumpError::Broken("the socket list was abandoned".into())
                        })?;
                        Ok(None)
                    },
                )
            })
            .map_err(|e| format!("cannot start the socket reader thread: {e}"))?;
        meanwhile();
        let mut failure =
            read_udp_and_bound(&side, each, udp_wanted, bound_only && tcp_wanted, attr).err();
        // Ends when the reader is done and drops its sender.
        for batch in full_rx.iter() {
            if failure.is_none()
                && let Err(e) = decode_batch(&batch, each)
            {
                failure = Some(e);
            }
            // The reader may reuse the buffer; it may also have finished.
            let _ = free_tx.send(batch.bytes);
        }
        reader
            .join()
            .map_err(|_| "the socket reader thread failed".to_string())??;
        failure.map_or(Ok(()), Err)
    })
}

fn open_socket() -> Result<Socket, String> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)
        .map_err(|e| format!("cannot open a sock_diag netlink socket: {e}"))?;
    socket
        .bind_auto()
        .map_err(|e| format!("cannot bind the sock_diag netlink socket: {e}"))?;
    socket
        .connect(&NetlinkAddr::new(0, 0))
        .map_err(|e| format!("cannot connect the sock_diag netlink socket: {e}"))?;
    Ok(socket)
}

/// Where `read_dump` gets an empty buffer from, if any is free.
type Pool<'a> = dyn FnMut() -> Option<Vec<u8>> + 'a;
/// Where `read_dump` hands each batch; may give a buffer back for reuse.
type Deliver<'a> = dyn FnMut(Batch) -> Result<Option<Vec<u8>>, DumpError> + 'a;

/// About how many TCP and UDP sockets the dump will list, from the
/// kernel's counters in /proc/net/sockstat and sockstat6 (per network
/// namespace: "TCP: inuse N orphan N tw N ...", man7 proc_net(5)). Used only
/// to size buffers; `None` if unreadable.
pub fn count_hint() -> Option<usize> {
    let mut total = 0usize;
    for file in ["/proc/net/sockstat", "/proc/net/sockstat6"] {
        let text = std::fs::read_to_string(file).ok()?;
        for line in text.lines() {
            let Some((proto, fields)) = line.split_once(':') else {
                continue;
            };
            if !matches!(proto, "TCP" | "TCP6" | "UDP" | "UDP6") {
                continue;
            }
            let words: Vec<&str> = fields.split_whitespace().collect();
            for pair in words.chunks(2) {
                if let [name, value] = pair
                    && matches!(*name, "inuse" | "tw")
                {
                    total += value.parse::<usize>().unwrap_or(0);
                }
            }
        }
    }
    Some(total)
}

/// Bytes of one or more `recv`s from a dump of `protocol`.
struct Batch {
    protocol: u8,
    bytes: Vec<u8>,
}

/// The TCP table: IPv4 and IPv6 in one walk of the kernel's connection
/// table when the legacy request is available; else one request per
/// family. A refusal comes before any socket, so nothing is listed twice.
/// `attr`: the request's filter attribute, or empty; a kernel that refuses
/// the requests with it is asked again without it.
fn read_tcp(
    socket: &Socket,
    states: u32,
    attr: &[u8],
    pool: &mut Pool<'_>,
    deliver: &mut Deliver<'_>,
) -> Result<(), String> {
    match read_tcp_with(socket, states, attr, pool, deliver) {
        Err(DumpError::Refused(_, 0)) if !attr.is_empty() => {
            read_tcp_with(socket, states, &[], pool, deliver)
        }
        other => other,
    }
    .map_err(DumpError::into_message)
}

fn read_tcp_with(
    socket: &Socket,
    states: u32,
    attr: &[u8],
    pool: &mut Pool<'_>,
    deliver: &mut Deliver<'_>,
) -> Result<(), DumpError> {
    send_tcp_all_families(socket, states, attr, 1).map_err(DumpError::Broken)?;
    match read_dump(socket, IPPROTO_TCP, pool, deliver) {
        Ok(_) => {}
        Err(DumpError::Refused(_, 0)) => {
            for (seq, family) in [(2, AF_INET), (3, AF_INET6)] {
                send_request(socket, family, IPPROTO_TCP, states, attr, seq)
                    .map_err(DumpError::Broken)?;
                match read_dump(socket, IPPROTO_TCP, pool, deliver) {
                    // IPv4 was listed: asking again would list it twice.
                    Err(e) if family == AF_INET6 => {
                        return Err(DumpError::Broken(e.into_message()));
                    }
                    other => other?,
                };
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The UDP tables, IPv4 then IPv6, then the bound-only TCP sockets, all
/// decoded on the spot.
fn read_udp_and_bound(
    socket: &Socket,
    each: &mut dyn FnMut(RawSocket),
    udp: bool,
    bound_only: bool,
    attr: &[u8],
) -> Result<(), String> {
    let mut decode = |batch: Batch| {
        decode_batch(&batch, each).map_err(DumpError::Broken)?;
        Ok(Some(batch.bytes))
    };
    if udp {
        let mut attr = attr;
        for (seq, family) in [(1, AF_INET), (2, AF_INET6)] {
            send_request(socket, family, IPPROTO_UDP, ALL_STATES, attr, seq)?;
            match read_dump(socket, IPPROTO_UDP, &mut || None, &mut decode) {
                // A refused filter: ask again without it.
                Err(DumpError::Refused(_, 0)) if !attr.is_empty() => {
                    attr = &[];
                    send_request(socket, family, IPPROTO_UDP, ALL_STATES, attr, seq)?;
                    read_dump(socket, IPPROTO_UDP, &mut || None, &mut decode)
                }
                other => other,
            }
            .map_err(DumpError::into_message)?;
        }
    }
    if bound_only {
        read_tcp(socket, BOUND_INACTIVE, attr, &mut || None, &mut decode)?;
    }
    Ok(())
}

/// Read one dump to its end, passing each `recv` on. Returns how many
/// sockets it carried.
fn read_dump(
    socket: &Socket,
    protocol: u8,
    pool: &mut Pool<'_>,
    deliver: &mut Deliver<'_>,
) -> Result<usize, DumpError> {
    let mut listed = 0;
    let mut spare: Option<Vec<u8>> = None;
    loop {
        let mut bytes = spare.take().or_else(&mut *pool).unwrap_or_default();
        bytes.clear();
        bytes.reserve_exact(BATCH_BYTES);
        // None: more to come; Some(0): done; Some(errno): refused.
        let mut end = None;
        // Several datagrams per batch: fewer hand-overs between threads.
        while end.is_none() && bytes.capacity() - bytes.len() >= RECV_BUFFER {
            let start = bytes.len();
            // The kernel writes into the spare capacity: no zero-filling.
            let n = socket
                .recv(&mut bytes, 0)
                .map_err(|e| DumpError::Broken(format!("cannot read the sock_diag dump: {e}")))?;
            if n == 0 {
                end = Some(0);
                break;
            }
            let mut offset = start;
            while offset < bytes.len() && end.is_none() {
                let msg = NetlinkBuffer::new_checked(&bytes[offset..])
                    .map_err(|e| DumpError::Broken(format!("malformed sock_diag message: {e}")))?;
                match msg.message_type() {
                    NLMSG_DONE => end = Some(0),
                    NLMSG_ERROR => {
                        let code = msg
                            .payload()
                            .get(..4)
                            .and_then(|b| b.try_into().ok())
                            .map(i32::from_ne_bytes)
                            .unwrap_or(0);
                        end = Some(-code);
                    }
                    SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => listed += 1,
                    _ => {}
                }
                let len = msg.length() as usize;
                if len == 0 {
                    break;
                }
                // Netlink messages are aligned to 4 bytes.
                offset += (len + 3) & !3;
            }
            // Keep the next datagram aligned too.
            while !bytes.len().is_multiple_of(4) {
                bytes.push(0);
            }
        }
        spare = deliver(Batch { protocol, bytes })?;
        match end {
            None => continue,
            // ENOENT: this kernel has no diag module for the family (e.g.
            // IPv6 disabled): there are no such sockets to list.
            Some(0) | Some(libc::ENOENT) => return Ok(listed),
            Some(errno) => return Err(DumpError::Refused(errno, listed)),
        }
    }
}

/// Decode the sockets in one batch.
fn decode_batch(batch: &Batch, each: &mut dyn FnMut(RawSocket)) -> Result<(), String> {
    let bytes = &batch.bytes;
    let mut offset = 0;
    while offset < bytes.len() {
        let msg = NetlinkBuffer::new_checked(&bytes[offset..])
            .map_err(|e| format!("malformed sock_diag message: {e}"))?;
        let ty = msg.message_type();
        if ty == SOCK_DIAG_BY_FAMILY || ty == TCPDIAG_GETSOCK {
            if let Some(raw) = parse_inet(msg.payload(), batch.protocol)? {
                each(raw);
            }
        } else if ty == NLMSG_DONE || ty == NLMSG_ERROR {
            break;
        }
        let len = msg.length() as usize;
        if len == 0 {
            break;
        }
        offset += (len + 3) & !3;
    }
    Ok(())
}

/// Why a dump stopped early.
enum DumpError {
    /// The kernel answered with this errno after listing this many sockets.
    Refused(i32, usize),
    /// Reading or decoding failed.
    Broken(String),
}

impl DumpError {
    fn into_message(self) -> String {
        match self {
            DumpError::Refused(code, _) => format!(
                "the kernel refused the sock_diag dump: {}",
                std::io::Error::from_raw_os_error(code)
            ),
            DumpError::Broken(m) => m,
        }
    }
}

/// The legacy `TCPDIAG_GETSOCK` dump (struct inet_diag_req, include/uapi/
/// linux/inet_diag.h). The kernel runs it with `sdiag_family = AF_UNSPEC`
/// (net/ipv4/inet_diag.c, `inet_diag_dump_compat()`), so one walk of the
/// connection table returns IPv4 and IPv6 sockets; two SOCK_DIAG_BY_FAMILY
/// requests walk the whole table twice, and that walk is most of the cost
/// on a table full of TIME_WAIT (`ss -t` sends one request per family).
fn send_tcp_all_families(
    socket: &Socket,
    states: u32,
    attr: &[u8],
    seq: u32,
) -> Result<(), String> {
    // family, src_len, dst_len, ext (4 bytes), inet_diag_sockid (48 bytes),
    // idiag_states, idiag_dbs.
    const REQ_LEN: usize = 60;
    let len = NLMSG_HDRLEN + REQ_LEN + attr.len();
    let mut header = NetlinkHeader::default();
    header.length = len as u32;
    header.message_type = TCPDIAG_GETSOCK;
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut bytes = vec![0u8; len];
    header.emit(&mut bytes[..NLMSG_HDRLEN]);
    bytes[NLMSG_HDRLEN + 52..NLMSG_HDRLEN + 56].copy_from_slice(&states.to_ne_bytes());
    bytes[NLMSG_HDRLEN + REQ_LEN..].copy_from_slice(attr);
    socket
        .send(&bytes, 0)
        .map_err(|e| format!("cannot send the sock_diag request: {e}"))?;
    Ok(())
}

/// A `SOCK_DIAG_BY_FAMILY` dump request (`struct inet_diag_req_v2`), with
/// `attr` (a filter attribute, or empty) after it.
fn send_request(
    socket: &Socket,
    family: u8,
    protocol: u8,
    states: u32,
    attr: &[u8],
    seq: u32,
) -> Result<(), String> {
    if !attr.is_empty() {
        // sdiag_family, sdiag_protocol, idiag_ext, pad, idiag_states,
        // inet_diag_sockid (48 bytes).
        const REQ_LEN: usize = 56;
        let len = NLMSG_HDRLEN + REQ_LEN + attr.len();
        let mut header = NetlinkHeader::default();
        header.length = len as u32;
        header.message_type = SOCK_DIAG_BY_FAMILY;
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = seq;
        let mut bytes = vec![0u8; len];
        header.emit(&mut bytes[..NLMSG_HDRLEN]);
        bytes[NLMSG_HDRLEN] = family;
        bytes[NLMSG_HDRLEN + 1] = protocol;
        bytes[NLMSG_HDRLEN + 4..NLMSG_HDRLEN + 8].copy_from_slice(&states.to_ne_bytes());
        bytes[NLMSG_HDRLEN + REQ_LEN..].copy_from_slice(attr);
        socket
            .send(&bytes, 0)
            .map_err(|e| format!("cannot send the sock_diag request: {e}"))?;
        return Ok(());
    }
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
            states: StateFlags::from_bits_retain(states),
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
    let time_wait_expires_in_ms = if matches!(state, Some(TcpState::TimeWait | TcpState::FinWait2))
        && raw_timer == TIMER_TIME_WAIT
    {
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
        // No inode: no process holds a descriptor (TIME_WAIT, an orphaned
        // FIN_WAIT, a pending SYN_RECV request).
        orphan: header.inode == 0,
        last_pid: None,
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

/// The owners of the sockets `query` asks for, from /proc/<pid>/fd (see
/// `fdscan.rs`). Cost grows with the number of open descriptors on the
/// machine, so the engine calls this only when it meets an inode it does
/// not know yet.
pub fn scan_owners(query: &OwnerQuery<'_>, memory: &mut FdMemory) -> OwnerScan {
    super::fdscan::scan(query, memory)
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
        let hidden = if u.privileged && u.unreadable_processes > 0 {
            let who = match u.unreadable_processes {
                1 => "the one process".to_string(),
                n => format!("one of the {n} processes"),
            };
            format!(
                "held by {who} whose descriptors were refused even with privileges (ptrace \
                 read access, man7 proc(5): a container or security policy limits it), "
            )
        } else {
            String::new()
        };
        parts.push(format!(
            "{rest} {} not found in any visible /proc/<pid>/fd: {hidden}opened or closed while \
             the snapshot was taken (the next one will tell), or held by a process in another \
             pid namespace (a container) that this /proc does not show",
            noun(rest)
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_the_users_and_the_way_to_see_more() {
        let foreign = Unattributed {
            count: 3,
            foreign_count: 2,
            foreign_users: vec!["root (uid 0)".into()],
            privileged: false,
            unreadable_processes: 4,
        };
        let text = unattributed_reason(&foreign);
        assert!(
            text.starts_with("2 sockets held by processes of root (uid 0)"),
            "{text}"
        );
        assert!(
            text.contains("sudo") && text.contains("1 socket not found"),
            "{text}"
        );
        let root = Unattributed {
            count: 1,
            foreign_count: 1,
            foreign_users: vec!["uid 7".into()],
            privileged: true,
            unreadable_processes: 2,
        };
        let text = unattributed_reason(&root);
        assert!(text.starts_with("1 socket not found"), "{text}");
        assert!(
            text.contains("one of the 2 processes") && !text.contains("sudo"),
            "{text}"
        );
    }

    #[test]
    fn dump_sees_a_fresh_listener_and_its_owner_inode() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let mut all = Vec::new();
        dump(&mut |r| all.push(r), &mut || {}, true).unwrap();
        // The exact address: other sockets may share the port number.
        let mine: Vec<&RawSocket> = all
            .iter()
            .filter(|s| s.proto == Proto::Tcp && s.local == local && s.remote.is_none())
            .collect();
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0].state, Some(TcpState::Listen));
        assert!(mine[0].remote.is_none());
        assert_ne!(mine[0].inode, 0);
        let wanted: std::collections::HashSet<u64> = [mine[0].inode].into_iter().collect();
        let no_uids = std::collections::HashSet::new();
        let query = OwnerQuery {
            wanted: Some(&wanted),
            ..OwnerQuery::everything(&no_uids)
        };
        let scan = scan_owners(&query, &mut FdMemory::default());
        // This process holds it. Another test of this binary may be forking
        // a child at the same moment (the child holds every fd until its
        // exec closes the CLOEXEC ones), and the scan may rightly name it too.
        let owners = scan.owners.get(&mine[0].inode).cloned().unwrap_or_default();
        assert!(owners.contains(&std::process::id()), "{owners:?}");
    }
}
