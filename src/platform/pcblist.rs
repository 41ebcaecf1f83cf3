//! macOS's own socket table: the records of the `net.inet.tcp.pcblist_n` and
//! `net.inet.udp.pcblist_n` sysctls, which is what macOS's `netstat` reads
//! (network_cmds netstat.tproj/inet.c `protopr()`), with no root needed.
//!
//! Pure code, compiled and tested on every OS: only the `sysctlbyname` call
//! that fetches the bytes is macOS-only (`platform/macos/sockets.rs`).
//!
//! The layouts below are transcribed from xnu-11417.101.15
//! (github.com/apple-oss-distributions/xnu): `struct xinpgen` and
//! `struct xinpcb_n` from bsd/netinet/in_pcb.h, `struct xsocket_n`,
//! `struct xsockbuf_n` and `struct xsockstat_n` from bsd/sys/socketvar.h,
//! `struct xtcpcb_n` from bsd/netinet/tcp_var.h. All of them sit inside
//! `#pragma pack(4)` in those headers, hence `repr(C, packed(4))` here; the
//! sizes asserted are the C compiler's for that packing on LP64 (arm64 and
//! x86_64 alike).
//!
//! How the kernel writes the list (bsd/netinet/in_pcblist.c
//! `get_pcblist_n()`): one `xinpgen`, then per PCB an `xinpcb_n`, an
//! `xsocket_n`, two `xsockbuf_n` (receive, send), an `xsockstat_n` and, for
//! TCP, an `xtcpcb_n`, each starting on an 8-byte boundary (`ADVANCE64`), and
//! a closing `xinpgen`. Every record starts with its length and a kind tag
//! (`XSO_*`); netstat walks them by those tags, and so does this parser.
//! TCP's list includes the connections in TIME_WAIT (`get_tcp_inp_list()`).

use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::sockets::model::{Proto, TcpState};
use crate::sockets::raw::RawSocket;

// Kind tags (bsd/sys/socketvar.h).
pub const XSO_SOCKET: u32 = 0x001;
pub const XSO_RCVBUF: u32 = 0x002;
pub const XSO_SNDBUF: u32 = 0x004;
pub const XSO_STATS: u32 = 0x008;
pub const XSO_INPCB: u32 = 0x010;
pub const XSO_TCPCB: u32 = 0x020;

/// `inp_vflag` bits (bsd/netinet/in_pcb.h).
pub const INP_IPV4: u8 = 0x1;
pub const INP_IPV6: u8 = 0x2;

/// `so_state` bit: "no file table ref any more" (bsd/sys/socketvar.h): no
/// process holds a descriptor to the socket (TIME_WAIT, or closed and still
/// finishing).
pub const SS_NOFDREF: i16 = 0x0001;

/// Index of the 2MSL timer in `xtcpcb_n.t_timer` (bsd/netinet/tcp_timer.h
/// `TCPT_2MSL_EXT`; in_pcblist.c `tcpcb_to_xtcpcb_n()` copies
/// `tp->t_timer[TCPT_2MSL]` there).
pub const TCPT_2MSL_EXT: usize = 3;

/// `struct xinpgen` (in_pcb.h): the list's header and trailer.
#[repr(C, packed(4))]
pub struct Xinpgen {
    pub xig_len: u32,
    pub xig_count: u32,
    pub xig_gen: u64,
    pub xig_sogen: u64,
}

/// `struct xinpcb_n` (in_pcb.h). The two address unions are 16 bytes each:
/// `struct in_addr_4in6` (12 bytes of padding, then the IPv4 address) or
/// `struct in6_addr`.
#[repr(C, packed(4))]
pub struct XinpcbN {
    pub xi_len: u32,
    pub xi_kind: u32,
    pub xi_inpp: u64,
    /// Network byte order.
    pub inp_fport: u16,
    /// Network byte order.
    pub inp_lport: u16,
    pub inp_ppcb: u64,
    pub inp_gencnt: u64,
    pub inp_flags: i32,
    pub inp_flow: u32,
    pub inp_vflag: u8,
    pub inp_ip_ttl: u8,
    pub inp_ip_p: u8,
    pub inp_dependfaddr: [u32; 4],
    pub inp_dependladdr: [u32; 4],
    pub inp4_ip_tos: u8,
    /// `struct { u_int8_t inp6_hlim; int inp6_cksum; u_short inp6_ifindex;
    /// short inp6_hops; }`: 12 bytes, 4-aligned.
    pub inp_depend6: [u32; 3],
    pub inp_flowhash: u32,
    pub inp_flags2: u32,
}

/// `struct xsocket_n` (socketvar.h).
#[repr(C, packed(4))]
pub struct XsocketN {
    pub xso_len: u32,
    pub xso_kind: u32,
    pub xso_so: u64,
    pub so_type: i16,
    pub so_options: u32,
    pub so_linger: i16,
    pub so_state: i16,
    pub so_pcb: u64,
    pub xso_protocol: i32,
    pub xso_family: i32,
    pub so_qlen: i16,
    pub so_incqlen: i16,
    pub so_qlimit: i16,
    pub so_timeo: i16,
    pub so_error: u16,
    pub so_pgid: i32,
    pub so_oobmark: u32,
    pub so_uid: u32,
    /// The last process to use the socket (`so->last_pid`).
    pub so_last_pid: i32,
    /// The process the socket acts for when delegated (`so->e_pid`).
    pub so_e_pid: i32,
    pub so_gencnt: u64,
    pub so_flags: u32,
    pub so_flags1: u32,
    pub so_usecount: i32,
    pub so_retaincnt: i32,
    pub xso_filter_flags: u32,
}

/// `struct xsockbuf_n` (socketvar.h).
#[repr(C, packed(4))]
pub struct XsockbufN {
    pub xsb_len: u32,
    pub xsb_kind: u32,
    pub sb_cc: u32,
    pub sb_hiwat: u32,
    pub sb_mbcnt: u32,
    pub sb_mbmax: u32,
    pub sb_lowat: i32,
    pub sb_flags: i16,
    pub sb_timeo: i16,
}

/// `struct xsockstat_n` (socketvar.h): `struct data_stats
/// xst_tc_stats[SO_TC_STATS_MAX]`, 4 x 4 counters of 64 bits.
#[repr(C, packed(4))]
pub struct XsockstatN {
    pub xst_len: u32,
    pub xst_kind: u32,
    pub xst_tc_stats: [u64; 16],
}

/// `struct xtcpcb_n` (tcp_var.h), up to `t_state`, the last field read;
/// the size asserted is the whole struct's.
#[repr(C, packed(4))]
pub struct XtcpcbNHead {
    pub xt_len: u32,
    pub xt_kind: u32,
    pub t_segq: u64,
    pub t_dupacks: i32,
    /// `t_timer[TCPT_NTIMERS_EXT]`: REXMT, PERSIST, KEEP, 2MSL. Each is the
    /// kernel's own value: for a TIME_WAIT connection the 2MSL entry is the
    /// `tcp_now` tick (milliseconds, `TCP_RETRANSHZ` = 1000) when it ends
    /// (tcp_timer.c `add_to_time_wait_locked()`: `timer = tcp_now + delay`).
    pub t_timer: [i32; 4],
    pub t_state: i32,
}

/// `sizeof(struct xtcpcb_n)`: 204 bytes.
pub const XTCPCB_N_SIZE: usize = 204;

const _: () = assert!(size_of::<Xinpgen>() == 24);
const _: () = assert!(size_of::<XinpcbN>() == 104);
const _: () = assert!(size_of::<XsocketN>() == 104);
const _: () = assert!(size_of::<XsockbufN>() == 32);
const _: () = assert!(size_of::<XsockstatN>() == 136);
const _: () = assert!(offset_of!(XinpcbN, inp_dependfaddr) == 48);
const _: () = assert!(offset_of!(XinpcbN, inp_depend6) == 84);
const _: () = assert!(offset_of!(XsocketN, so_last_pid) == 68);
const _: () = assert!(offset_of!(XtcpcbNHead, t_state) == 36);

/// Why a buffer could not be read. The list comes from the kernel, so any
/// of these means a layout this parser does not know (a newer macOS), or a
/// short read: the caller says so instead of showing a wrong table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PcbError {
    /// Fewer bytes than the next record needs.
    Truncated { at: usize },
    /// A record length that cannot be right (smaller than its struct).
    BadLength { at: usize, kind: u32, len: u32 },
    /// A record kind seen twice for one PCB, or a PCB left incomplete.
    BadGroup { at: usize },
    /// A TCP state number xnu does not define.
    BadState { at: usize, state: i32 },
}

impl std::fmt::Display for PcbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcbError::Truncated { at } => write!(f, "the list ends inside a record at byte {at}"),
            PcbError::BadLength { at, kind, len } => write!(
                f,
                "record of kind {kind:#x} at byte {at} is {len} bytes, too short for its layout"
            ),
            PcbError::BadGroup { at } => {
                write!(f, "records at byte {at} do not form one socket")
            }
            PcbError::BadState { at, state } => {
                write!(f, "unknown TCP state {state} at byte {at}")
            }
        }
    }
}

/// One socket of the list, as the kernel describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcbRecord {
    pub proto: Proto,
    pub local: SocketAddr,
    /// `None` when unconnected (no foreign port and no foreign address).
    pub remote: Option<SocketAddr>,
    /// `None` for UDP.
    pub state: Option<TcpState>,
    /// `so_state`, for [`SS_NOFDREF`].
    pub so_state: i16,
    pub uid: u32,
    pub last_pid: i32,
    pub e_pid: i32,
    /// `t_timer[TCPT_2MSL_EXT]` of a TCP PCB (a `tcp_now` tick; 0 = off).
    pub timer_2msl: Option<u32>,
}

fn field<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = b.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(field(b, at))
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_ne_bytes(field(b, at))
}

fn i16_at(b: &[u8], at: usize) -> i16 {
    i16::from_ne_bytes(field(b, at))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(field(b, at))
}

/// A port stored in network byte order.
fn port_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(field(b, at))
}

/// `ROUNDUP64()` of in_pcblist.c / netstat's inet.c.
fn roundup64(n: usize) -> usize {
    if n == 0 { 8 } else { (n + 7) & !7 }
}

/// xnu TCP states (bsd/netinet/tcp_fsm.h `TCPS_*`).
fn tcp_state(n: i32) -> Option<TcpState> {
    Some(match n {
        0 => TcpState::Closed,
        1 => TcpState::Listen,
        2 => TcpState::SynSent,
        3 => TcpState::SynRecv,
        4 => TcpState::Established,
        5 => TcpState::CloseWait,
        6 => TcpState::FinWait1,
        7 => TcpState::Closing,
        8 => TcpState::LastAck,
        9 => TcpState::FinWait2,
        10 => TcpState::TimeWait,
        _ => return None,
    })
}

/// The minimum length of each kind this parser reads, by kind.
fn min_len(kind: u32) -> Option<usize> {
    Some(match kind {
        XSO_INPCB => size_of::<XinpcbN>(),
        XSO_SOCKET => size_of::<XsocketN>(),
        XSO_RCVBUF | XSO_SNDBUF => size_of::<XsockbufN>(),
        XSO_STATS => size_of::<XsockstatN>(),
        XSO_TCPCB => size_of::<XtcpcbNHead>(),
        _ => return None,
    })
}

/// The address in an `inp_depend[fl]addr` union: IPv6 when the PCB is an
/// IPv6 one (`INP_IPV6`, also set on dual-stack `tcp46` sockets), else the
/// IPv4 address in the last 4 bytes (`struct in_addr_4in6`).
fn addr_at(b: &[u8], at: usize, vflag: u8) -> IpAddr {
    let raw: [u8; 16] = field(b, at);
    if vflag & INP_IPV6 != 0 {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[12], raw[13], raw[14], raw[15]))
    }
}

/// Every socket of one `pcblist_n` buffer for `proto`, in the kernel's order.
/// PCBs of another protocol, of neither IP version, or created after the
/// list's generation (freed during the copy, as netstat skips them) are
/// left out. Any malformed input is an error, never a panic.
pub fn parse(buf: &[u8], proto: Proto) -> Result<Vec<PcbRecord>, PcbError> {
    let head = size_of::<Xinpgen>();
    if buf.len() < head {
        return Err(PcbError::Truncated { at: 0 });
    }
    let xig_len = u32_at(buf, offset_of!(Xinpgen, xig_len)) as usize;
    if xig_len < head {
        return Err(PcbError::BadLength {
            at: 0,
            kind: 0,
            len: xig_len as u32,
        });
    }
    let generation = u64_at(buf, offset_of!(Xinpgen, xig_gen));
    let want = match proto {
        Proto::Tcp => XSO_SOCKET | XSO_RCVBUF | XSO_SNDBUF | XSO_STATS | XSO_INPCB | XSO_TCPCB,
        Proto::Udp => XSO_SOCKET | XSO_RCVBUF | XSO_SNDBUF | XSO_STATS | XSO_INPCB,
    };
    let mut out = Vec::new();
    let mut seen = 0u32;
    let mut group_start = 0usize;
    let mut parts: [Option<usize>; 3] = [None; 3]; // inpcb, socket, tcpcb
    let mut at = roundup64(xig_len);
    let mut closed = false;
    while at < buf.len() {
        if buf.len() - at < 8 {
            return Err(PcbError::Truncated { at });
        }
        let len = u32_at(buf, at) as usize;
        // The closing xinpgen: netstat stops at a record no longer than it.
        if len <= head {
            if len < head || buf.len() - at < head {
                return Err(PcbError::Truncated { at });
            }
            closed = true;
            break;
        }
        if buf.len() - at < len {
            return Err(PcbError::Truncated { at });
        }
        let kind = u32_at(buf, at + 4);
        if let Some(min) = min_len(kind) {
            if len < min {
                return Err(PcbError::BadLength {
                    at,
                    kind,
                    len: len as u32,
                });
            }
            if seen == 0 {
                group_start = at;
            }
            if seen & kind != 0 {
                return Err(PcbError::BadGroup { at: group_start });
            }
            seen |= kind;
            match kind {
                XSO_INPCB => parts[0] = Some(at),
                XSO_SOCKET => parts[1] = Some(at),
                XSO_TCPCB => parts[2] = Some(at),
                _ => {}
            }
        }
        // Kinds this parser does not know are stepped over by their length.
        at += roundup64(len);
        if seen & want == want {
            if seen & !want != 0 {
                return Err(PcbError::BadGroup { at: group_start });
            }
            let (Some(inp), Some(so)) = (parts[0], parts[1]) else {
                return Err(PcbError::BadGroup { at: group_start });
            };
            if let Some(r) = record(buf, proto, inp, so, parts[2], generation)? {
                out.push(r);
            }
            seen = 0;
            parts = [None; 3];
        }
    }
    if !closed {
        return Err(PcbError::Truncated { at: buf.len() });
    }
    if seen != 0 {
        return Err(PcbError::BadGroup { at: group_start });
    }
    Ok(out)
}

/// One PCB from its records, or `None` when netstat would skip it.
fn record(
    buf: &[u8],
    proto: Proto,
    inp: usize,
    so: usize,
    tcp: Option<usize>,
    generation: u64,
) -> Result<Option<PcbRecord>, PcbError> {
    let ipproto = match proto {
        Proto::Tcp => libc_ipproto::TCP,
        Proto::Udp => libc_ipproto::UDP,
    };
    if i32_at(buf, so + offset_of!(XsocketN, xso_protocol)) != ipproto {
        return Ok(None);
    }
    if u64_at(buf, inp + offset_of!(XinpcbN, inp_gencnt)) > generation {
        return Ok(None);
    }
    let vflag = buf
        .get(inp + offset_of!(XinpcbN, inp_vflag))
        .copied()
        .unwrap_or(0);
    if vflag & (INP_IPV4 | INP_IPV6) == 0 {
        return Ok(None);
    }
    let local = SocketAddr::new(
        addr_at(buf, inp + offset_of!(XinpcbN, inp_dependladdr), vflag),
        port_at(buf, inp + offset_of!(XinpcbN, inp_lport)),
    );
    let remote = SocketAddr::new(
        addr_at(buf, inp + offset_of!(XinpcbN, inp_dependfaddr), vflag),
        port_at(buf, inp + offset_of!(XinpcbN, inp_fport)),
    );
    let (state, timer_2msl) = match tcp {
        Some(t) => {
            let n = i32_at(buf, t + offset_of!(XtcpcbNHead, t_state));
            let state = tcp_state(n).ok_or(PcbError::BadState { at: t, state: n })?;
            let timer = i32_at(
                buf,
                t + offset_of!(XtcpcbNHead, t_timer) + 4 * TCPT_2MSL_EXT,
            );
            (Some(state), Some(timer as u32))
        }
        None if proto == Proto::Tcp => return Err(PcbError::BadGroup { at: inp }),
        None => (None, None),
    };
    let unset = remote.port() == 0 && remote.ip().is_unspecified();
    Ok(Some(PcbRecord {
        proto,
        local,
        remote: if unset || state == Some(TcpState::Listen) {
            None
        } else {
            Some(remote)
        },
        state,
        so_state: i16_at(buf, so + offset_of!(XsocketN, so_state)),
        uid: u32_at(buf, so + offset_of!(XsocketN, so_uid)),
        last_pid: i32_at(buf, so + offset_of!(XsocketN, so_last_pid)),
        e_pid: i32_at(buf, so + offset_of!(XsocketN, so_e_pid)),
        timer_2msl,
    }))
}

/// IPPROTO_TCP and IPPROTO_UDP (the same numbers on every OS, RFC 790;
/// bsd/netinet/in.h), kept here so the parser needs no OS headers.
mod libc_ipproto {
    pub const TCP: i32 = 6;
    pub const UDP: i32 = 17;
}

/// The kernel's TCP clock, for turning a 2MSL deadline into time left.
/// xnu starts `tcp_now` at a random value and advances it by the
/// uptime that passes, in milliseconds (tcp_subr.c `tcp_init()` and
/// `calculate_tcp_clock()`); it exports the start as
/// `net.inet.tcp.now_init` and the uptime at that moment as
/// `net.inet.tcp.microuptime_init` (microseconds), "for utcp to keep time
/// sync". `uptime_now_us` is the same clock now (`CLOCK_UPTIME_RAW`, which
/// like the kernel's `microuptime()` stops during sleep).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpClock {
    pub now_init: u32,
    pub microuptime_init: u32,
    pub uptime_now_us: u64,
}

impl TcpClock {
    /// `tcp_now` at this moment, as the kernel counts it.
    fn tcp_now(self) -> Option<u32> {
        let since = self
            .uptime_now_us
            .checked_sub(u64::from(self.microuptime_init))?;
        Some(self.now_init.wrapping_add((since / 1000) as u32))
    }

    /// Milliseconds left before a TIME_WAIT connection whose 2MSL deadline
    /// is `deadline` is freed; 0 once due (the kernel frees it at its next
    /// pass). `None` for an unset timer or an answer no kernel gives (more
    /// than 10 minutes: xnu's TIME_WAIT is 2 x `net.inet.tcp.msl`).
    pub fn time_left_ms(self, deadline: u32) -> Option<u64> {
        if deadline == 0 {
            return None;
        }
        let left = deadline.wrapping_sub(self.tcp_now()?) as i32;
        match left {
            l if l <= 0 => Some(0),
            l if l <= 600_000 => Some(l as u64),
            _ => None,
        }
    }
}

/// A pcblist record as the engine's [`RawSocket`]. The pids are xnu's
/// (`so_last_pid`, the last process to use the socket; `so_e_pid`, the one
/// it acts for when another process, such as a networking daemon, uses it
/// on its behalf): while some process holds a descriptor, the last user
/// (and the delegating one, if different) are the owners; once none does
/// (`SS_NOFDREF`: TIME_WAIT, or closed and still finishing), the last user
/// is only the last known owner.
pub fn to_raw(r: PcbRecord, clock: Option<TcpClock>) -> RawSocket {
    let pid = |p: i32| u32::try_from(p).ok().filter(|p| *p != 0);
    let orphan = r.so_state & SS_NOFDREF != 0 || r.state == Some(TcpState::TimeWait);
    let mut pids: Vec<u32> = Vec::new();
    if !orphan {
        pids.extend(pid(r.last_pid));
        pids.extend(pid(r.e_pid));
        pids.sort_unstable();
        pids.dedup();
    }
    let time_wait_expires_in_ms = match (r.state, r.timer_2msl, clock) {
        (Some(TcpState::TimeWait), Some(deadline), Some(c)) => c.time_left_ms(deadline),
        _ => None,
    };
    RawSocket {
        proto: r.proto,
        local: r.local,
        remote: r.remote,
        state: r.state,
        inode: 0,
        uid: Some(r.uid),
        time_wait_expires_in_ms,
        pids,
        orphan,
        last_pid: if orphan { pid(r.last_pid) } else { None },
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Builds pcblist_n buffers field by field, in the order and with the
    /// padding the C declarations have under `#pragma pack(4)` (see the
    /// module doc), independently of the `offset_of!` reads above.
    #[derive(Default)]
    pub struct ListBuilder {
        pub bytes: Vec<u8>,
    }

    /// One socket to lay out.
    #[derive(Clone, Debug)]
    pub struct Pcb {
        pub local: SocketAddr,
        pub remote: Option<SocketAddr>,
        /// xnu's TCPS_* number; `None` for UDP.
        pub tcp_state: Option<i32>,
        pub so_state: i16,
        pub uid: u32,
        pub last_pid: i32,
        pub e_pid: i32,
        pub timer_2msl: i32,
        pub gencnt: u64,
        /// Dual-stack (`tcp46`): both INP_IPV4 and INP_IPV6.
        pub dual: bool,
    }

    impl Pcb {
        pub fn tcp(local: &str, remote: Option<&str>, state: i32, last_pid: i32) -> Pcb {
            Pcb {
                local: local.parse().unwrap(),
                remote: remote.map(|r| r.parse().unwrap()),
                tcp_state: Some(state),
                so_state: 0,
                uid: 501,
                last_pid,
                e_pid: last_pid,
                timer_2msl: 0,
                gencnt: 1,
                dual: false,
            }
        }

        pub fn udp(local: &str, last_pid: i32) -> Pcb {
            Pcb {
                tcp_state: None,
                ..Pcb::tcp(local, None, 0, last_pid)
            }
        }
    }

    impl ListBuilder {
        fn u8(&mut self, v: u8) -> &mut Self {
            self.bytes.push(v);
            self
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_ne_bytes());
            self
        }
        fn be16(&mut self, v: u16) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_ne_bytes());
            self
        }
        fn i32(&mut self, v: i32) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_ne_bytes());
            self
        }
        fn u64(&mut self, v: u64) -> &mut Self {
            self.bytes.extend_from_slice(&v.to_ne_bytes());
            self
        }
        fn pad(&mut self, n: usize) -> &mut Self {
            self.bytes.extend(std::iter::repeat_n(0u8, n));
            self
        }
        /// Pad to the next 8-byte boundary (ADVANCE64).
        fn align8(&mut self) -> &mut Self {
            let n = (8 - self.bytes.len() % 8) % 8;
            self.pad(n)
        }

        /// `struct xinpgen`: len 24, count, generation, socket generation.
        pub fn xinpgen(&mut self, count: u32, generation: u64) -> &mut Self {
            self.u32(24).u32(count).u64(generation).u64(7).align8()
        }

        fn addr(&mut self, a: IpAddr) -> &mut Self {
            match a {
                IpAddr::V4(v4) => {
                    self.pad(12);
                    self.bytes.extend_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => self.bytes.extend_from_slice(&v6.octets()),
            }
            self
        }

        /// The records of one PCB: xinpcb_n, xsocket_n, two xsockbuf_n,
        /// xsockstat_n and, for TCP, xtcpcb_n.
        pub fn pcb(&mut self, p: &Pcb) -> &mut Self {
            let v6 = p.local.is_ipv6();
            let vflag = if p.dual {
                INP_IPV4 | INP_IPV6
            } else if v6 {
                INP_IPV6
            } else {
                INP_IPV4
            };
            let unspecified = if v6 {
                SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
            } else {
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
            };
            let remote = p.remote.unwrap_or(unspecified);
            // struct xinpcb_n
            self.u32(104).u32(XSO_INPCB).u64(0xdead_beef); // xi_len, xi_kind, xi_inpp
            self.be16(remote.port()).be16(p.local.port()); // inp_fport, inp_lport
            self.u64(0x1234).u64(p.gencnt); // inp_ppcb, inp_gencnt
            self.i32(0).u32(0); // inp_flags, inp_flow
            self.u8(vflag)
                .u8(64)
                .u8(if p.tcp_state.is_some() { 6 } else { 17 });
            self.pad(1); // to the 4-aligned unions
            self.addr(remote.ip()).addr(p.local.ip()); // inp_dependfaddr, inp_dependladdr
            self.u8(0).pad(3); // inp_depend4 { inp4_ip_tos }, padding
            self.u8(0).pad(3).i32(0).u16(0).u16(0); // inp_depend6
            self.u32(0).u32(0); // inp_flowhash, inp_flags2
            self.align8();
            // struct xsocket_n
            self.u32(104).u32(XSO_SOCKET).u64(0x5050); // xso_len, xso_kind, xso_so
            self.u16(1).pad(2).u32(0); // so_type, padding, so_options
            self.u16(0).u16(p.so_state as u16).u64(0x6060); // so_linger, so_state, so_pcb
            let ipproto = if p.tcp_state.is_some() { 6 } else { 17 };
            let family = if v6 { 30 } else { 2 };
            self.i32(ipproto).i32(family); // xso_protocol, xso_family
            self.u16(0).u16(0).u16(128).u16(0); // so_qlen, so_incqlen, so_qlimit, so_timeo
            self.u16(0).pad(2).i32(0).u32(0); // so_error, padding, so_pgid, so_oobmark
            self.u32(p.uid).i32(p.last_pid).i32(p.e_pid); // so_uid, so_last_pid, so_e_pid
            self.u64(3).u32(0).u32(0).i32(1).i32(0).u32(0); // so_gencnt .. xso_filter_flags
            self.align8();
            // struct xsockbuf_n x 2
            for kind in [XSO_RCVBUF, XSO_SNDBUF] {
                self.u32(32)
                    .u32(kind)
                    .u32(0)
                    .u32(131072)
                    .u32(0)
                    .u32(0)
                    .i32(1);
                self.u16(0).u16(0).align8();
            }
            // struct xsockstat_n
            self.u32(136).u32(XSO_STATS);
            for _ in 0..16 {
                self.u64(0);
            }
            self.align8();
            if let Some(state) = p.tcp_state {
                // struct xtcpcb_n
                let start = self.bytes.len();
                self.u32(204).u32(XSO_TCPCB).u64(0).i32(0); // xt_len, xt_kind, t_segq, t_dupacks
                self.i32(0).i32(0).i32(0).i32(p.timer_2msl); // t_timer[4]
                self.i32(state); // t_state
                let rest = 204 - (self.bytes.len() - start);
                self.pad(rest).align8();
            }
            self
        }

        /// A whole list: header, the PCBs, trailer.
        pub fn list(pcbs: &[Pcb], generation: u64) -> Vec<u8> {
            let mut b = ListBuilder::default();
            b.xinpgen(pcbs.len() as u32, generation);
            for p in pcbs {
                b.pcb(p);
            }
            b.xinpgen(pcbs.len() as u32, generation);
            b.bytes
        }
    }

    fn sample() -> Vec<Pcb> {
        let mut tw = Pcb::tcp("127.0.0.1:8080", Some("127.0.0.1:51000"), 10, 4242);
        tw.so_state = SS_NOFDREF;
        tw.timer_2msl = 1_000_000 + 25_000;
        let mut dual = Pcb::tcp("[::]:9090", None, 1, 77);
        dual.dual = true;
        vec![
            Pcb::tcp("127.0.0.1:8080", None, 1, 4242),
            tw,
            Pcb::tcp("[::1]:443", Some("[::1]:60000"), 4, 99),
            dual,
        ]
    }

    #[test]
    fn struct_sizes_match_the_c_layout() {
        // One PCB of each protocol is exactly the records the kernel sizes
        // its buffer by (in_pcblist.c `get_pcblist_n()`: `item_size`).
        let r8 = |n: usize| roundup64(n);
        let udp_item = r8(104) + r8(104) + 2 * r8(32) + r8(136);
        let mut b = ListBuilder::default();
        b.pcb(&Pcb::udp("127.0.0.1:53", 1));
        assert_eq!(b.bytes.len(), udp_item);
        let mut b = ListBuilder::default();
        b.pcb(&Pcb::tcp("127.0.0.1:80", None, 1, 1));
        assert_eq!(b.bytes.len(), udp_item + r8(XTCPCB_N_SIZE));
    }

    #[test]
    fn reads_listeners_connections_and_time_wait() {
        let buf = ListBuilder::list(&sample(), 10);
        let got = parse(&buf, Proto::Tcp).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].local, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(got[0].state, Some(TcpState::Listen));
        assert_eq!(got[0].remote, None);
        assert_eq!(got[0].last_pid, 4242);
        assert_eq!(got[0].uid, 501);
        assert_eq!(got[1].state, Some(TcpState::TimeWait));
        assert_eq!(got[1].remote, Some("127.0.0.1:51000".parse().unwrap()));
        assert_eq!(got[1].so_state & SS_NOFDREF, SS_NOFDREF);
        assert_eq!(got[1].timer_2msl, Some(1_025_000));
        assert_eq!(got[2].local, "[::1]:443".parse().unwrap());
        assert_eq!(got[2].state, Some(TcpState::Established));
        assert_eq!(got[3].local, "[::]:9090".parse().unwrap());
    }

    #[test]
    fn reads_udp_without_tcp_records() {
        let pcbs = [Pcb::udp("0.0.0.0:5353", 300), Pcb::udp("[::1]:5000", 301)];
        let got = parse(&ListBuilder::list(&pcbs, 3), Proto::Udp).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].local, "0.0.0.0:5353".parse().unwrap());
        assert_eq!(got[0].state, None);
        assert_eq!(got[1].last_pid, 301);
        // A TCP reading of a UDP list lacks the xtcpcb_n records.
        assert!(parse(&ListBuilder::list(&pcbs, 3), Proto::Tcp).is_err());
    }

    #[test]
    fn skips_what_netstat_skips() {
        let mut late = Pcb::tcp("127.0.0.1:1", None, 1, 1);
        late.gencnt = 11; // created after the list's generation 10
        let got = parse(&ListBuilder::list(&[late], 10), Proto::Tcp).unwrap();
        assert!(got.is_empty());
        // An empty list is the two xinpgen records.
        assert_eq!(parse(&ListBuilder::list(&[], 1), Proto::Udp), Ok(vec![]));
    }

    #[test]
    fn unknown_kinds_are_stepped_over() {
        let mut b = ListBuilder::default();
        b.xinpgen(1, 5);
        // A future record kind (0x400) of 40 bytes before the PCB.
        b.u32(40).u32(0x400).pad(32);
        b.pcb(&Pcb::udp("127.0.0.1:9", 1));
        b.xinpgen(1, 5);
        assert_eq!(parse(&b.bytes, Proto::Udp).unwrap().len(), 1);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let buf = ListBuilder::list(&sample(), 10);
        for cut in 0..buf.len() {
            let r = parse(&buf[..cut], Proto::Tcp);
            assert!(r.is_err(), "cut at {cut} parsed: {r:?}");
        }
    }

    #[test]
    fn garbled_buffers_are_errors_not_panics() {
        let buf = ListBuilder::list(&sample(), 10);
        // Every byte replaced by a few values: no panic, and a result that is
        // either an error or a list of at most the sockets there were.
        for i in 0..buf.len() {
            for v in [0u8, 0xff, 0x07, 0x80] {
                let mut g = buf.clone();
                g[i] = v;
                if let Ok(rows) = parse(&g, Proto::Tcp) {
                    assert!(rows.len() <= 4);
                }
            }
        }
        // A record shorter than its struct.
        let mut g = buf.clone();
        g[24..28].copy_from_slice(&50u32.to_ne_bytes());
        assert!(matches!(
            parse(&g, Proto::Tcp),
            Err(PcbError::BadLength {
                kind: XSO_INPCB,
                ..
            })
        ));
        // An unknown TCP state.
        let tcp_at = 24 + 104 + 104 + 64 + 136;
        let mut g = buf.clone();
        g[tcp_at + 36..tcp_at + 40].copy_from_slice(&42i32.to_ne_bytes());
        assert!(matches!(
            parse(&g, Proto::Tcp),
            Err(PcbError::BadState { state: 42, .. })
        ));
        // A kind repeated inside one PCB.
        let mut g = buf;
        g[24 + 104 + 4..24 + 104 + 8].copy_from_slice(&XSO_INPCB.to_ne_bytes());
        assert!(parse(&g, Proto::Tcp).is_err());
        assert!(parse(&[0xff; 7], Proto::Tcp).is_err());
        assert!(parse(&[], Proto::Udp).is_err());
    }

    #[test]
    fn owners_and_last_known_owners() {
        let rows: Vec<RawSocket> = parse(&ListBuilder::list(&sample(), 10), Proto::Tcp)
            .unwrap()
            .into_iter()
            .map(|r| to_raw(r, None))
            .collect();
        assert_eq!(rows[0].pids, vec![4242]);
        assert!(!rows[0].orphan);
        // TIME_WAIT: no holder, the last user as last known owner.
        assert!(rows[1].pids.is_empty() && rows[1].orphan);
        assert_eq!(rows[1].last_pid, Some(4242));
        assert_eq!(
            rows[1].time_wait_expires_in_ms, None,
            "no clock, no countdown"
        );
        // A delegated socket names both processes.
        let mut p = Pcb::tcp("127.0.0.1:7000", None, 1, 10);
        p.e_pid = 20;
        let r = parse(&ListBuilder::list(&[p], 10), Proto::Tcp).unwrap();
        assert_eq!(to_raw(r[0].clone(), None).pids, vec![10, 20]);
    }

    #[test]
    fn time_wait_countdown_from_the_kernel_clock() {
        // tcp_now started at 1_000_000 when uptime was 2 s; 5 s of uptime
        // later tcp_now is 1_005_000, so a deadline of 1_025_000 is 20 s out.
        let clock = TcpClock {
            now_init: 1_000_000,
            microuptime_init: 2_000_000,
            uptime_now_us: 7_000_000,
        };
        assert_eq!(clock.time_left_ms(1_025_000), Some(20_000));
        assert_eq!(clock.time_left_ms(1_004_000), Some(0), "due: 0 left");
        assert_eq!(clock.time_left_ms(0), None, "timer off");
        assert_eq!(clock.time_left_ms(1_005_000 + 700_000), None, "implausible");
        // tcp_now wraps around u32: (u32::MAX - 1000) + 5000 ms is 3999.
        let wrap = TcpClock {
            now_init: u32::MAX - 1000,
            ..clock
        };
        assert_eq!(wrap.time_left_ms(3999 + 30_000), Some(30_000));
        let before = TcpClock {
            uptime_now_us: 1,
            ..clock
        };
        assert_eq!(before.time_left_ms(1_025_000), None);
        let mut tw = sample()[1].clone();
        tw.timer_2msl = 1_025_000;
        let r = parse(&ListBuilder::list(&[tw], 10), Proto::Tcp).unwrap();
        let raw = to_raw(r[0].clone(), Some(clock));
        assert_eq!(raw.time_wait_expires_in_ms, Some(20_000));
    }
}
