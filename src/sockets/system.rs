//! The real machine as a [`SocketSource`]: the OS socket table, owners,
//! process details and the memory of past owners, kept between snapshots.

use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

use super::memory::{ConnKey, OwnerMemory};
use super::model::{Family, OwnerRef, ProcessInfo, Snapshot, SocketEntry};
use super::owners::OwnerCache;
use super::procinfo::ProcessTable;
use super::raw::{RawSocket, Unattributed};
use super::{SocketSource, SourceError, is_unattributed};
use crate::platform::os;
use crate::util::time::now_unix_ms;

/// Snapshots of this machine's sockets. Keep one alive for as long as
/// snapshots are taken (`--watch`, the window's sampler): it caches owners
/// and process details, and remembers who held each connection so that a
/// later TIME_WAIT socket can name its `last_known_owner`.
#[derive(Debug)]
pub struct SystemSource {
    owners: OwnerCache,
    processes: ProcessTable,
    memory: OwnerMemory,
}

impl Default for SystemSource {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemSource {
    pub fn new() -> Self {
        SystemSource {
            owners: OwnerCache::new(),
            processes: ProcessTable::new(),
            memory: OwnerMemory::default(),
        }
    }

    /// How many connections the owner memory holds now.
    pub fn remembered_connections(&self) -> usize {
        self.memory.len()
    }

    /// How many /proc owner scans ran so far (Linux; 0 elsewhere).
    pub fn owner_scans(&self) -> u64 {
        self.owners.scans()
    }

    /// Resolve pids for every raw socket: the OS's own list where it gives
    /// one, else the inode cache. Returns the pids to look up.
    fn attach_owners(&mut self, raw: &mut [RawSocket], now: Instant) -> BTreeSet<u32> {
        let inodes: HashSet<u64> = raw
            .iter()
            .filter(|r| r.inode != 0 && r.pids.is_empty())
            .map(|r| r.inode)
            .collect();
        self.owners.refresh(&inodes, now, os::sockets::scan_owners);
        let mut pids = BTreeSet::new();
        for r in raw.iter_mut() {
            if r.inode != 0 && r.pids.is_empty() {
                r.pids = self.owners.owners_of(r.inode).to_vec();
            }
            pids.extend(r.pids.iter().copied());
        }
        pids
    }
}

impl SocketSource for SystemSource {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let taken_at_unix_ms = now_unix_ms();
        let now = Instant::now();
        let mut raw = os::sockets::dump().map_err(SourceError)?;

        let mut pids = self.attach_owners(&mut raw, now);
        let mut procs = self
            .processes
            .lookup(&pids.iter().copied().collect::<Vec<_>>());
        if pids.iter().any(|p| !procs.contains_key(p)) {
            // A cached owner has exited (or its pid is no longer visible):
            // the cache is out of date, so scan again once.
            self.owners.mark_stale();
            for r in raw.iter_mut().filter(|r| r.inode != 0) {
                r.pids.clear();
            }
            pids = self.attach_owners(&mut raw, now);
            let missing: Vec<u32> = pids
                .iter()
                .copied()
                .filter(|p| !procs.contains_key(p))
                .collect();
            procs.extend(self.processes.lookup(&missing));
        }

        self.memory.begin();
        let mut sockets = Vec::with_capacity(raw.len());
        for r in raw {
            let processes: Vec<ProcessInfo> = r
                .pids
                .iter()
                .map(|pid| {
                    procs.get(pid).cloned().unwrap_or_else(|| ProcessInfo {
                        pid: *pid,
                        name: String::new(),
                        user: None,
                        exe: None,
                    })
                })
                .collect();
            let key = r.remote.map(|remote| ConnKey {
                proto: r.proto,
                local: r.local,
                remote,
            });
            let mut entry = SocketEntry {
                proto: r.proto,
                family: Family::of(&r.local.ip()),
                local_addr: r.local.ip(),
                local_port: r.local.port(),
                remote_addr: r.remote.map(|a| a.ip()),
                remote_port: r.remote.map(|a| a.port()),
                state: r.state,
                processes,
                time_wait_expires_in_ms: r.time_wait_expires_in_ms,
                last_known_owner: None,
                inode: r.inode,
                uid: r.uid,
            };
            if let Some(key) = key {
                if entry.is_kernel_owned() {
                    entry.last_known_owner = self.memory.recall(&key, now);
                } else if let Some(first) = entry.processes.iter().min_by_key(|p| p.pid) {
                    let owner = OwnerRef {
                        pid: first.pid,
                        name: first.name.clone(),
                    };
                    self.memory.remember(key, owner, now);
                }
            }
            sockets.push(entry);
        }
        self.memory.finish(now);

        let privileged = os::process::is_elevated();
        let mut snapshot = Snapshot {
            taken_at_unix_ms,
            unattributed: 0,
            unattributed_reason: None,
            privileged,
            sockets,
        };
        snapshot.sort();
        let (count, reason) = self.explain_unattributed(&snapshot.sockets, privileged);
        snapshot.unattributed = count;
        snapshot.unattributed_reason = reason;
        Ok(snapshot)
    }
}

impl SystemSource {
    /// Count the sockets whose owner could not be found, and say why.
    fn explain_unattributed(
        &mut self,
        sockets: &[SocketEntry],
        privileged: bool,
    ) -> (usize, Option<String>) {
        let lost: Vec<&SocketEntry> = sockets.iter().filter(|s| is_unattributed(s)).collect();
        if lost.is_empty() {
            return (0, None);
        }
        let me = os::process::current_uid();
        let foreign: Vec<u32> = lost
            .iter()
            .filter_map(|s| s.uid)
            .filter(|uid| Some(*uid) != me)
            .collect();
        let uids: BTreeSet<u32> = foreign.iter().copied().collect();
        let foreign_users = uids
            .into_iter()
            .map(|uid| match self.processes.user_name(uid) {
                Some(name) => format!("{name} (uid {uid})"),
                None => format!("uid {uid}"),
            })
            .collect();
        let why = Unattributed {
            count: lost.len(),
            foreign_count: foreign.len(),
            foreign_users,
            privileged,
        };
        (lost.len(), Some(os::sockets::unattributed_reason(&why)))
    }
}
