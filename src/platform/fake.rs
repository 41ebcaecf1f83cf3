//! Fakes of each OS's socket table, in the shape that OS gives it, to drive
//! the engine (`sockets::SystemSource`) in tests on any host:
//!
//! - [`FakeLinux`]: sock_diag rows that carry inodes and no pids, plus a
//!   separate owner scan (inode -> pids), as /proc/<pid>/fd gives it.
//! - [`FakeMacos`]: `pcblist_n` buffers laid out record by record as xnu
//!   writes them, read by the real parser (`platform::pcblist`): pids come
//!   with each socket (`so_last_pid`), TIME_WAIT included.
//! - [`FakeWindows`]: table rows with one pid each, pid 0 for TIME_WAIT
//!   (and, as under Wine, for sockets whose owner is not reported), mapped
//!   by the real row mapping (`platform::rows`).
//!
//! Each is a cheap handle: clone it, hand one clone to the engine and change
//! the table through the other between snapshots.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::contract::{ProcessIdentity, SocketTable};
use super::pcblist::{self, TcpClock};
use super::rows::{self, TableRow};
use crate::sockets::model::{Proto, TcpState};
use crate::sockets::owners::{FdMemory, OwnerQuery};
use crate::sockets::raw::{OwnerScan, RawSocket};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The uid the fakes run as; rows of other uids are "another user's".
pub const FAKE_UID: u32 = 1000;

/// Linux's shape: rows with inodes, owners from a separate scan.
#[derive(Clone, Debug, Default)]
pub struct FakeLinux {
    inner: Arc<Mutex<LinuxTable>>,
}

#[derive(Debug, Default)]
struct LinuxTable {
    rows: Vec<RawSocket>,
    owners: HashMap<u64, Vec<u32>>,
    scans: usize,
}

impl FakeLinux {
    /// A sock_diag row: no pids; an inode when a process holds the socket
    /// (0 for TIME_WAIT and orphans, as the kernel reports them).
    pub fn row(
        local: &str,
        remote: Option<&str>,
        state: TcpState,
        inode: u64,
        uid: u32,
    ) -> RawSocket {
        RawSocket {
            proto: Proto::Tcp,
            local: local.parse().unwrap(),
            remote: remote.and_then(|r| r.parse().ok()),
            state: Some(state),
            inode,
            uid: Some(uid),
            time_wait_expires_in_ms: (state == TcpState::TimeWait).then_some(42_000),
            pids: Vec::new(),
            orphan: inode == 0,
            last_pid: None,
        }
    }

    /// Replace the table and what the owner scan finds.
    pub fn set(&self, rows: Vec<RawSocket>, owners: &[(u64, u32)]) {
        let mut t = lock(&self.inner);
        t.rows = rows;
        t.owners.clear();
        for &(inode, pid) in owners {
            t.owners.entry(inode).or_default().push(pid);
        }
    }

    /// How many owner scans the engine asked for.
    pub fn scans(&self) -> usize {
        lock(&self.inner).scans
    }
}

impl SocketTable for FakeLinux {
    fn dump(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        _bound_only: bool,
    ) -> Result<(), String> {
        let rows = lock(&self.inner).rows.clone();
        meanwhile();
        rows.into_iter().for_each(each);
        Ok(())
    }

    fn count_hint(&self) -> Option<usize> {
        Some(lock(&self.inner).rows.len())
    }

    fn scan_owners(&self, query: &OwnerQuery<'_>, _memory: &mut FdMemory) -> OwnerScan {
        let mut t = lock(&self.inner);
        t.scans += 1;
        let owners = t
            .owners
            .iter()
            .filter(|(inode, _)| query.wanted.is_none_or(|w| w.contains(inode)))
            .map(|(inode, pids)| (*inode, pids.clone()))
            .collect();
        OwnerScan {
            owners,
            ..OwnerScan::default()
        }
    }
}

impl ProcessIdentity for FakeLinux {
    fn is_elevated(&self) -> bool {
        false
    }
    fn current_uid(&self) -> Option<u32> {
        Some(FAKE_UID)
    }
}

/// The TCP list, the UDP list, the kernel's TCP clock.
type MacosLists = (Vec<u8>, Vec<u8>, Option<TcpClock>);

/// macOS's shape: the kernel's PCB list buffers, one per protocol.
#[derive(Clone, Debug, Default)]
pub struct FakeMacos {
    inner: Arc<Mutex<MacosLists>>,
}

impl FakeMacos {
    /// Replace the TCP and UDP lists (built with
    /// `pcblist::tests::ListBuilder`) and the kernel's TCP clock.
    pub fn set(&self, tcp: Vec<u8>, udp: Vec<u8>, clock: Option<TcpClock>) {
        *lock(&self.inner) = (tcp, udp, clock);
    }
}

impl SocketTable for FakeMacos {
    fn dump(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        _bound_only: bool,
    ) -> Result<(), String> {
        let (tcp, udp, clock) = lock(&self.inner).clone();
        meanwhile();
        for (buf, proto, clock) in [(tcp, Proto::Tcp, clock), (udp, Proto::Udp, None)] {
            for r in pcblist::parse(&buf, proto).map_err(|e| e.to_string())? {
                each(pcblist::to_raw(r, clock));
            }
        }
        Ok(())
    }
}

impl ProcessIdentity for FakeMacos {
    fn is_elevated(&self) -> bool {
        false
    }
    fn current_uid(&self) -> Option<u32> {
        Some(FAKE_UID)
    }
}

/// Windows's shape: table rows with a pid each.
#[derive(Clone, Debug, Default)]
pub struct FakeWindows {
    inner: Arc<Mutex<Vec<TableRow>>>,
}

impl FakeWindows {
    pub fn row(local: &str, remote: Option<&str>, state: TcpState, pid: u32) -> TableRow {
        TableRow {
            proto: Proto::Tcp,
            local: local.parse().unwrap(),
            remote: remote.and_then(|r| r.parse().ok()),
            state: Some(state),
            pid,
        }
    }

    pub fn set(&self, rows: Vec<TableRow>) {
        *lock(&self.inner) = rows;
    }
}

impl SocketTable for FakeWindows {
    fn dump(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        _bound_only: bool,
    ) -> Result<(), String> {
        let rows = lock(&self.inner).clone();
        meanwhile();
        rows.into_iter().map(rows::table_row).for_each(each);
        Ok(())
    }
}

impl ProcessIdentity for FakeWindows {
    fn is_elevated(&self) -> bool {
        false
    }
}
