//! windows: enumerate sockets with netstat2 (GetExtendedTcpTable /
//! GetExtendedUdpTable), which reports each socket's owning pid.
//!
//! Windows reports no time left for TIME_WAIT sockets, so none is shown.

use std::collections::HashSet;
use std::net::SocketAddr;

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};

use crate::sockets::model::{Proto, TcpState};
use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed};

/// Every TCP and UDP socket, IPv4 and IPv6, in every state.
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
    .map_err(|e| format!("cannot read the socket tables: {e}"))?;
    rows.into_iter()
        .map(|row| {
            // PID 0 is "System Idle": the kernel, not a process (TIME_WAIT).
            let pids: Vec<u32> = row
                .associated_pids
                .into_iter()
                .filter(|p| *p != 0)
                .collect();
            match row.protocol_socket_info {
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
                        pids,
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
                    pids,
                },
            }
        })
        .for_each(each);
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

/// Windows lists owners with each socket: there are no inodes to resolve.
pub fn scan_owners(_wanted: Option<&HashSet<u64>>) -> OwnerScan {
    OwnerScan::default()
}

/// Windows lists an owning pid for every socket but TIME_WAIT, so there are
/// no unattributed sockets to explain; kept for the same API on every OS.
pub fn unattributed_reason(u: &Unattributed) -> String {
    format!(
        "{} sockets were listed without an owning process by Windows",
        u.count
    )
}

/// What this OS's socket list leaves out, if anything. Windows lists every
/// socket with its owning pid; TIME_WAIT sockets come without a time left.
pub fn coverage_note(_privileged: bool) -> Option<String> {
    None
}
