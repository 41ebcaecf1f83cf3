//! What the platform layer hands the engine: sockets as the OS lists them,
//! before owners are named and before the engine's memory is applied.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::model::{Proto, TcpState};

/// One socket as the OS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSocket {
    pub proto: Proto,
    pub local: SocketAddr,
    /// `None` for listeners and unconnected UDP sockets.
    pub remote: Option<SocketAddr>,
    /// `None` for UDP.
    pub state: Option<TcpState>,
    /// Linux: the socket's inode (0 when no process holds it: TIME_WAIT,
    /// orphaned FIN_WAIT, pending SYN_RECV). Always 0 elsewhere.
    pub inode: u64,
    /// The socket's owning uid, where the OS reports one.
    pub uid: Option<u32>,
    /// Time left in TIME_WAIT where the OS reports it (Linux sock_diag).
    pub time_wait_expires_in_ms: Option<u64>,
    /// Owning pids the OS listed with the socket (Windows, macOS). Empty on
    /// Linux, where owners come from the inode scan of /proc.
    pub pids: Vec<u32>,
    /// True when the OS says no process holds a descriptor to the socket:
    /// TIME_WAIT, or closed by its process and still finishing (Linux: no
    /// inode; macOS: `SS_NOFDREF`). Such a socket is never "unattributed".
    pub orphan: bool,
    /// For an orphan: the last process the OS says used it (macOS
    /// `so_last_pid`), shown as its last known owner when the engine's own
    /// memory has none.
    pub last_pid: Option<u32>,
}

/// Result of scanning processes for the sockets they hold (Linux /proc).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerScan {
    /// Socket inode -> pids holding a descriptor to it (sorted, no repeats).
    pub owners: HashMap<u64, Vec<u32>>,
    /// Processes whose descriptors could not be read (other users' processes
    /// without privileges).
    pub unreadable_processes: usize,
    /// Descriptor links read (Linux), for tests and benchmarks.
    pub links_read: usize,
    /// Whether the scan stopped before reading every process (Linux, an
    /// early stop: every wanted inode had its owner).
    pub stopped_early: bool,
}

/// The sockets a snapshot could not match to a process, for the words that
/// explain them (see `platform::os::sockets::unattributed_reason`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unattributed {
    pub count: usize,
    /// How many of them the kernel says belong to another user.
    pub foreign_count: usize,
    /// Those users, as "name (uid N)" or "uid N", sorted.
    pub foreign_users: Vec<String>,
    /// Whether the snapshot ran with privileges.
    pub privileged: bool,
    /// Processes whose descriptors could not be read.
    pub unreadable_processes: usize,
}

/// One network namespace found on the machine (Linux).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetnsInfo {
    /// The namespace's inode, the same for every process in it.
    pub inode: u64,
    /// Its names under /run/netns, sorted (`ip netns add NAME`); usually
    /// none, rarely more than one.
    pub names: Vec<String>,
    /// Processes in it, sorted (none for a named namespace nobody runs in).
    pub pids: Vec<u32>,
}

/// Every network namespace this process could find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetnsDiscovery {
    /// This process's own namespace; `None` where the OS has none (macOS,
    /// Windows) or it cannot be read.
    pub own: Option<u64>,
    /// All namespaces found, the own one included, sorted by inode.
    pub namespaces: Vec<NetnsInfo>,
    /// Processes whose namespace could not be read (other users' processes
    /// without privileges): there may be namespaces this list misses.
    pub unreadable_processes: usize,
}

impl NetnsDiscovery {
    /// The namespaces other than the own one.
    pub fn others(&self) -> impl Iterator<Item = &NetnsInfo> {
        self.namespaces
            .iter()
            .filter(move |n| Some(n.inode) != self.own)
    }
}

/// Merge rows that describe the same socket seen through several processes
/// (macOS lists one row per process descriptor), uniting their pids. Rows
/// keep the order of their first appearance.
pub fn merge_same_socket(rows: Vec<RawSocket>) -> Vec<RawSocket> {
    type Key = (Proto, SocketAddr, Option<SocketAddr>, Option<TcpState>);
    let mut index: HashMap<Key, usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<RawSocket> = Vec::with_capacity(rows.len());
    for row in rows {
        let key = (row.proto, row.local, row.remote, row.state);
        match index.get(&key) {
            Some(&i) => out[i].pids.extend(row.pids),
            None => {
                index.insert(key, out.len());
                out.push(row);
            }
        }
    }
    for row in &mut out {
        row.pids.sort_unstable();
        row.pids.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(local: &str, pids: Vec<u32>) -> RawSocket {
        RawSocket {
            proto: Proto::Tcp,
            local: local.parse().unwrap(),
            remote: None,
            state: Some(TcpState::Listen),
            inode: 0,
            uid: None,
            time_wait_expires_in_ms: None,
            pids,
            orphan: false,
            last_pid: None,
        }
    }

    #[test]
    fn rows_of_one_socket_merge_their_pids() {
        let merged = merge_same_socket(vec![
            row("127.0.0.1:80", vec![9]),
            row("127.0.0.1:81", vec![3]),
            row("127.0.0.1:80", vec![4, 9]),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].pids, vec![4, 9]);
        assert_eq!(merged[1].pids, vec![3]);
    }
}
