//! The TCP and UDP tables through netstat2 (GetExtendedTcpTable /
//! GetExtendedUdpTable with the OWNER_PID classes), as [`TableRow`]s.

use std::net::SocketAddr;

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};

use crate::platform::rows::TableRow;
use crate::sockets::model::{Proto, TcpState};

/// Every TCP and UDP socket of both IP versions, with its owning pid (0
/// when Windows reports none). The error is netstat2's, for the caller to
/// put in a sentence.
pub fn rows() -> Result<Vec<TableRow>, String> {
    let rows = netstat2::get_sockets_info(
        AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6,
        ProtocolFlags::TCP | ProtocolFlags::UDP,
    )
    .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|row| {
            // One table row has one pid on Windows.
            let pid = row.associated_pids.first().copied().unwrap_or(0);
            match row.protocol_socket_info {
                ProtocolSocketInfo::Tcp(t) => TableRow {
                    proto: Proto::Tcp,
                    local: SocketAddr::new(t.local_addr, t.local_port),
                    remote: Some(SocketAddr::new(t.remote_addr, t.remote_port)),
                    state: Some(tcp_state(t.state)),
                    pid,
                },
                ProtocolSocketInfo::Udp(u) => TableRow {
                    proto: Proto::Udp,
                    local: SocketAddr::new(u.local_addr, u.local_port),
                    remote: None,
                    state: None,
                    pid,
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
