//! netstat2 rows as [`RawSocket`]s: macOS and Windows both enumerate sockets
//! with netstat2, and map its rows the same way (declared only for those two
//! OSes in `platform/mod.rs`; each OS's `sockets.rs` keeps its own limits
//! and notes).

use std::net::SocketAddr;

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};

use crate::sockets::model::{Proto, TcpState};
use crate::sockets::raw::RawSocket;

/// Every TCP and UDP socket netstat2 lists, IPv4 and IPv6, each with the
/// owning pids `keep_pid` accepts. The error is netstat2's, for the caller
/// to put in a sentence.
pub fn sockets(keep_pid: impl Fn(u32) -> bool) -> Result<Vec<RawSocket>, String> {
    let rows = netstat2::get_sockets_info(
        AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6,
        ProtocolFlags::TCP | ProtocolFlags::UDP,
    )
    .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let pids: Vec<u32> = row
                .associated_pids
                .into_iter()
                .filter(|p| keep_pid(*p))
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
        .collect())
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
