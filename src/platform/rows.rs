//! Windows's socket table rows as the engine's [`RawSocket`]: pure code,
//! compiled and tested on every OS (the table itself is read on Windows
//! only, in `platform/windows/netstat.rs`).

use std::net::SocketAddr;

use crate::sockets::model::{Proto, TcpState};
use crate::sockets::raw::RawSocket;

/// One row of GetExtendedTcpTable / GetExtendedUdpTable
/// (MIB_TCPROW_OWNER_PID and friends, learn.microsoft.com): addresses, a
/// state for TCP, and the owning pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRow {
    pub proto: Proto,
    pub local: SocketAddr,
    pub remote: Option<SocketAddr>,
    pub state: Option<TcpState>,
    pub pid: u32,
}

/// The row as a [`RawSocket`]. Pid 0 is the System Idle process: Windows
/// gives it to TIME_WAIT connections, which no process holds; any other
/// socket listed with pid 0 (Wine lists every socket so) has an owner that
/// was not reported, and counts as unattributed.
pub fn table_row(row: TableRow) -> RawSocket {
    let unset = |a: &SocketAddr| a.port() == 0 && a.ip().is_unspecified();
    RawSocket {
        proto: row.proto,
        local: row.local,
        remote: row
            .remote
            .filter(|r| !unset(r) && row.state != Some(TcpState::Listen)),
        state: row.state,
        inode: 0,
        uid: None,
        time_wait_expires_in_ms: None,
        pids: if row.pid == 0 {
            Vec::new()
        } else {
            vec![row.pid]
        },
        orphan: false,
        last_pid: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_zero_is_no_owner_and_listeners_have_no_remote() {
        let r = table_row(TableRow {
            proto: Proto::Tcp,
            local: "0.0.0.0:445".parse().unwrap(),
            remote: Some("0.0.0.0:0".parse().unwrap()),
            state: Some(TcpState::Listen),
            pid: 4,
        });
        assert_eq!(r.pids, vec![4]);
        assert_eq!(r.remote, None);
        let tw = table_row(TableRow {
            proto: Proto::Tcp,
            local: "127.0.0.1:8080".parse().unwrap(),
            remote: Some("127.0.0.1:50000".parse().unwrap()),
            state: Some(TcpState::TimeWait),
            pid: 0,
        });
        assert!(tw.pids.is_empty());
        assert_eq!(tw.remote, Some("127.0.0.1:50000".parse().unwrap()));
    }
}
