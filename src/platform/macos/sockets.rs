//! macos: enumerate sockets with netstat2, which walks every process's
//! descriptors (proc_pidinfo / proc_pidfdinfo).
//!
//! Two limits follow from that, and the engine states them rather than hide
//! them: a socket no process holds (TIME_WAIT) is not listed at all, and
//! without root the sockets of other users' processes are not listed. macOS
//! reports no time left for TIME_WAIT, so none is shown.

use std::collections::HashSet;
use std::net::SocketAddr;

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};

use crate::sockets::model::{Proto, TcpState};
use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed, merge_same_socket};

/// Every TCP and UDP socket some visible process holds, IPv4 and IPv6.
///
/// `meanwhile` runs first, on this thread (the same contract as on Linux).
/// `_bound_only` is Linux's choice (bound-only TCP sockets cost it a
/// table walk); this OS lists what it lists.
pub fn dump(
    each: &mut dyn FnMut(RawSocket),
    meanwhile: &mut dyn FnMut(),
    _bound_only: bool,
) -> Result<(), String> {
    meanwhile();
    let rows = netstat2::get_sockets_info(
        AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6,
        ProtocolFlags::TCP | ProtocolFlags::UDP,
    )
    .map_err(|e| format!("cannot read the socket list: {e}"))?;
    let raw: Vec<RawSocket> = rows
        .into_iter()
        .map(|row| match row.protocol_socket_info {
            ProtocolSocketInfo::Tcp(t) => {
                let state = tcp_state(t.state);
                let remote = SocketAddr::new(t.remote_addr, t.remote_port);
                let unset = remote.port() == 0 && remote.ip().is_unspecified();
                RawSocket {
                    proto: Proto::Tcp,
                    local: SocketAddr::new(t.local_addr, t.local_port),
                    remote: if state == TcpState::Listen || unset {
                        None
                    } else {
                        Some(remote)
                    },
                    state: Some(state),
                    inode: 0,
                    uid: None,
                    time_wait_expires_in_ms: None,
                    pids: row.associated_pids,
                }
            }
            ProtocolSocketInfo::Udp(u) => RawSocket {
                proto: Proto::Udp,
                local: SocketAddr::new(u.local_addr, u.local_port),
                remote: None,
                state: None,
                inode: 0,
                uid: None,
                time_wait_expires_in_ms: None,
                pids: row.associated_pids,
            },
        })
        .collect();
    // One row per (process, descriptor): a socket shared after fork() shows
    // up once per holder.
    merge_same_socket(raw).into_iter().for_each(each);
    Ok(())
}

/// About how many sockets the dump will list; this OS has no cheap count.
pub fn count_hint() -> Option<usize> {
    None
}

fn tcp_state(s: netstat2::TcpState) -> TcpState {
    use netstat2::TcpState as N;
    match s {
        N::Listen => TcpState::Listen,
        N::SynSent => TcpState::SynSent,
        N::SynReceived => TcpState::SynRecv,
        N::Established => TcpState::Established,
        N::FinWait1 => TcpState::FinWait1,
        N::FinWait2 => TcpState::FinWait2,
        N::CloseWait => TcpState::CloseWait,
        N::Closing => TcpState::Closing,
        N::LastAck => TcpState::LastAck,
        N::TimeWait => TcpState::TimeWait,
        N::Closed | N::DeleteTcb | N::Unknown => TcpState::Closed,
    }
}

/// macOS lists owners with each socket: there are no inodes to resolve.
pub fn scan_owners(_wanted: Option<&HashSet<u64>>) -> OwnerScan {
    OwnerScan::default()
}

/// Sockets are found through their processes here, so none is listed
/// without an owner; kept for the same API on every OS.
pub fn unattributed_reason(u: &Unattributed) -> String {
    format!("{} sockets were listed without an owning process", u.count)
}

/// What this OS's socket list leaves out: sockets are found through the
/// processes that hold them, so TIME_WAIT sockets (held by no process) are
/// never listed, and without root neither are other users' sockets.
pub fn coverage_note(privileged: bool) -> Option<String> {
    let mut note = String::from(
        "macOS: sockets are found through the processes holding them, so TIME_WAIT \
         sockets (no process holds them) are not listed",
    );
    if !privileged {
        note.push_str(
            "; without root, other users' sockets are not listed either: run with sudo to see them",
        );
    }
    Some(note)
}
