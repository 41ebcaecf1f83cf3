//! linux: ask sock_diag for one port's sockets only, with the kernel's
//! socket filter bytecode (what `ss 'sport = :P'` sends).
//!
//! A dump request may carry an `INET_DIAG_REQ_BYTECODE` attribute: a small
//! program of `struct inet_diag_bc_op` (include/uapi/linux/inet_diag.h) the
//! kernel runs on every socket it walks (net/ipv4/inet_diag.c,
//! `inet_diag_bc_run()`, called through `inet_diag_bc_sk()` for full,
//! TIME_WAIT and request sockets), after checking it once
//! (`inet_diag_bc_audit()`). Only the sockets it accepts are copied into
//! the answer: the kernel still walks its whole table, but a one-port
//! query no longer receives, copies and decodes the thousands of others.
//!
//! The legacy `TCPDIAG_GETSOCK` request (both families in one walk) takes
//! the attribute too: the kernel reads it after `struct inet_diag_req`
//! (`inet_diag_rcv_msg_compat()` audits it, `inet_diag_dump_compat()` runs
//! it; since Linux 5.10, `inet_diag_dump_start_compat()` ->
//! `__inet_diag_dump_start(cb, sizeof(struct inet_diag_req))`), and
//! `SOCK_DIAG_BY_FAMILY` after `struct inet_diag_req_v2`
//! (`inet_diag_handler_cmd()` / `inet_diag_dump_start()`). A kernel that
//! refuses the program (an old audit) answers the request with an error
//! before any socket, and the dump is asked again without it; the caller
//! filters every socket again anyway, so the program is only ever a way to
//! receive less.
//!
//! The program uses the port comparisons every kernel with sock_diag knows
//! (`INET_DIAG_BC_S_GE`/`S_LE`, `D_GE`/`D_LE`, and `INET_DIAG_BC_JMP`), not
//! the newer `S_EQ`/`D_EQ`: "port >= P and port <= P".

/// `INET_DIAG_REQ_BYTECODE`, the request attribute (include/uapi/linux/
/// inet_diag.h, `enum { INET_DIAG_REQ_NONE, INET_DIAG_REQ_BYTECODE, ... }`).
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;

// Operation codes (include/uapi/linux/inet_diag.h, `enum { INET_DIAG_BC_NOP,
// INET_DIAG_BC_JMP, INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE, INET_DIAG_BC_D_GE,
// INET_DIAG_BC_D_LE, ... }`).
const BC_JMP: u8 = 1;
const BC_S_GE: u8 = 2;
const BC_S_LE: u8 = 3;
const BC_D_GE: u8 = 4;
const BC_D_LE: u8 = 5;

/// `sizeof(struct inet_diag_bc_op)`: `__u8 code; __u8 yes; __u16 no;`.
const OP: usize = 4;

/// Which sockets a port-scoped dump asks the kernel for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortFilter {
    pub port: u16,
    /// Only sockets whose local port is `port`; else also those whose
    /// remote port is.
    pub local_only: bool,
}

/// One operation. `yes` and `no` are the byte offsets (from this
/// operation) of the next one to run when the test holds or fails; running
/// off the end exactly accepts the socket, landing 4 bytes past it rejects
/// it (`inet_diag_bc_run()` returns `len == 0`).
fn op(out: &mut Vec<u8>, code: u8, yes: usize, no: usize) {
    out.push(code);
    out.push(yes as u8);
    out.extend_from_slice(&(no as u16).to_ne_bytes());
}

/// A port comparison: the operation, then a second `inet_diag_bc_op` whose
/// `no` field holds the port in host order (`inet_diag_bc_run()`:
/// `entry->sport >= op[1].no`; the kernel compares `inet_num` and
/// `ntohs(inet_dport)`, both host order).
fn compare(out: &mut Vec<u8>, code: u8, port: u16, yes: usize, no: usize) {
    op(out, code, yes, no);
    op(out, 0, 0, port as usize);
}

/// The filter program for `filter`.
///
/// Local port only (16 bytes):
/// ```text
///  0: S_GE P  yes +8  no reject
///  8: S_LE P  yes +8 (end: accept)  no reject
/// ```
/// Local or remote port (36 bytes): every `no` target must be reachable
/// from the start along `yes` jumps (`valid_cc()` in the audit), hence the
/// `JMP` that carries a local match over the remote test:
/// ```text
///  0: S_GE P  yes +8  no -> 20
///  8: S_LE P  yes +8  no -> 20
/// 16: JMP     (yes +4)  no -> end: accept
/// 20: D_GE P  yes +8  no reject
/// 28: D_LE P  yes +8 (end: accept)  no reject
/// ```
pub fn bytecode(filter: PortFilter) -> Vec<u8> {
    let p = filter.port;
    let mut bc = Vec::with_capacity(36);
    if filter.local_only {
        let len = 16;
        compare(&mut bc, BC_S_GE, p, 2 * OP, len + OP);
        compare(&mut bc, BC_S_LE, p, 2 * OP, len - 2 * OP + OP);
    } else {
        let len = 36;
        let remote = 20;
        compare(&mut bc, BC_S_GE, p, 2 * OP, remote);
        compare(&mut bc, BC_S_LE, p, 2 * OP, remote - 2 * OP);
        // JMP: the kernel takes `no` unconditionally (`yes = 0`); the audit
        // wants `yes` to be the next operation.
        op(&mut bc, BC_JMP, OP, len - 4 * OP);
        compare(&mut bc, BC_D_GE, p, 2 * OP, len - remote + OP);
        compare(&mut bc, BC_D_LE, p, 2 * OP, 2 * OP + OP);
    }
    bc
}

/// The request attribute carrying `filter`'s program (`struct nlattr`:
/// `__u16 nla_len; __u16 nla_type;`, then the payload; the program's
/// length is a multiple of 4, so no padding).
pub fn attribute(filter: PortFilter) -> Vec<u8> {
    let bc = bytecode(filter);
    let mut out = Vec::with_capacity(4 + bc.len());
    out.extend_from_slice(&((4 + bc.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    out.extend_from_slice(&bc);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::linux::sockets::dump_scoped;
    use crate::sockets::model::Proto;
    use crate::sockets::raw::RawSocket;
    use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

    /// The kernel's interpreter, `inet_diag_bc_run()`, for the operations
    /// used here: accept iff the program runs off its end exactly.
    fn run(bc: &[u8], sport: u16, dport: u16) -> bool {
        let mut at = 0usize;
        let mut len = bc.len() as isize;
        while len > 0 {
            let code = bc[at];
            let yes_off = bc[at + 1] as usize;
            let no_off = u16::from_ne_bytes([bc[at + 2], bc[at + 3]]) as usize;
            let arg = || u16::from_ne_bytes([bc[at + 6], bc[at + 7]]);
            let yes = match code {
                BC_JMP => false,
                BC_S_GE => sport >= arg(),
                BC_S_LE => sport <= arg(),
                BC_D_GE => dport >= arg(),
                BC_D_LE => dport <= arg(),
                other => panic!("unexpected op {other}"),
            };
            let step = if yes { yes_off } else { no_off };
            at += step;
            len -= step as isize;
        }
        len == 0
    }

    /// The kernel's audit, `inet_diag_bc_audit()` and `valid_cc()`, for
    /// the same operations.
    fn audit(bc: &[u8]) -> bool {
        let valid_cc = |cc: usize| {
            let (mut at, mut len) = (0usize, bc.len() as isize);
            while len >= 0 {
                if cc as isize > len {
                    return false;
                }
                if cc as isize == len {
                    return true;
                }
                let yes = bc[at + 1] as usize;
                if yes < 4 || !yes.is_multiple_of(4) {
                    return false;
                }
                at += yes;
                len -= yes as isize;
            }
            false
        };
        let (mut at, mut len) = (0usize, bc.len() as isize);
        while len > 0 {
            let code = bc[at];
            let yes = bc[at + 1] as isize;
            let no = u16::from_ne_bytes([bc[at + 2], bc[at + 3]]) as isize;
            let min = match code {
                BC_JMP => 4,
                BC_S_GE | BC_S_LE | BC_D_GE | BC_D_LE => {
                    if len < 8 {
                        return false;
                    }
                    8
                }
                _ => return false,
            };
            if no < min || no > len + 4 || no % 4 != 0 {
                return false;
            }
            if no < len && !valid_cc((len - no) as usize) {
                return false;
            }
            if yes < min || yes > len + 4 || yes % 4 != 0 {
                return false;
            }
            at += yes as usize;
            len -= yes;
        }
        len == 0
    }

    #[test]
    fn programs_pass_the_audit_and_accept_exactly_the_port() {
        for port in [1u16, 80, 8080, 65535] {
            for local_only in [true, false] {
                let bc = bytecode(PortFilter { port, local_only });
                assert!(audit(&bc), "{port} {local_only}: {bc:?}");
                for (s, d) in [(port, 1), (port, port), (1, port), (port - 1, 9), (9, 9)] {
                    let want = s == port || (!local_only && d == port);
                    assert_eq!(run(&bc, s, d), want, "{port} {local_only} {s}->{d}");
                }
                if port < 65535 {
                    assert!(!run(&bc, port + 1, port + 1) || !local_only);
                }
            }
        }
        let attr = attribute(PortFilter {
            port: 80,
            local_only: false,
        });
        assert_eq!(attr.len(), 40);
        assert_eq!(u16::from_ne_bytes([attr[0], attr[1]]), 40);
    }

    fn key(r: &RawSocket) -> (Proto, SocketAddr, Option<SocketAddr>, u64) {
        (r.proto, r.local, r.remote, r.inode)
    }

    fn sockets(filter: Option<PortFilter>) -> Vec<(Proto, SocketAddr, Option<SocketAddr>, u64)> {
        let mut all = Vec::new();
        dump_scoped(&mut |r| all.push(r), &mut || {}, true, filter, None).unwrap();
        let mut keys: Vec<_> = all
            .iter()
            .filter(|r| r.local.ip().is_loopback())
            .map(key)
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn a_port_scoped_dump_returns_what_a_full_dump_filtered_here_returns() {
        // Listeners on both families, connections to and from them, and a
        // UDP socket on each port: several ports, loopback only.
        let mut held: Vec<TcpStream> = Vec::new();
        let mut listeners = Vec::new();
        let mut udp = Vec::new();
        for addr in ["127.0.0.1:0", "[::1]:0", "127.0.0.1:0"] {
            let Ok(l) = TcpListener::bind(addr) else {
                eprintln!("SKIPPED: cannot bind {addr} (no IPv6 loopback?)");
                return;
            };
            let local = l.local_addr().unwrap();
            for _ in 0..3 {
                held.push(TcpStream::connect(local).unwrap());
                held.push(l.accept().unwrap().0);
            }
            if let Ok(u) = UdpSocket::bind(local) {
                udp.push(u);
            }
            listeners.push(l);
        }
        for l in &listeners {
            let local = l.local_addr().unwrap();
            for local_only in [true, false] {
                let filter = PortFilter {
                    port: local.port(),
                    local_only,
                };
                let scoped = sockets(Some(filter));
                let full: Vec<_> = sockets(None)
                    .into_iter()
                    .filter(|(_, l, r, _)| {
                        l.port() == filter.port
                            || (!local_only && r.is_some_and(|r| r.port() == filter.port))
                    })
                    .collect();
                // The listener, its 3 accepted connections, the UDP socket,
                // and (either end) the 3 clients connected to it.
                let at_least = if local_only { 4 } else { 7 };
                assert!(
                    scoped.len() >= at_least,
                    "{local}: {local_only}: {scoped:?}"
                );
                assert_eq!(scoped, full, "{local} local_only={local_only}");
            }
        }
        drop((held, udp));
    }
}
