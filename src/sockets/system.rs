//! The real machine as a [`SocketSource`]: the OS socket table, owners,
//! process details and the memory of past owners, kept between snapshots.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use super::memory::{ConnKey, OwnerMemory};
use super::model::{Family, OwnerRef, ProcessInfo, Snapshot, SocketEntry};
use super::order;
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
    /// Size of the last table, to allocate the next one at once.
    last_len: usize,
    /// Snapshots taken so far.
    taken: u64,
}

impl Default for SystemSource {
    fn default() -> Self {
        Self::new()
    }
}

/// The socket table as dumped, before owners are named.
struct Table {
    sockets: Vec<SocketEntry>,
    /// Owning pids the OS listed with a socket (Windows, macOS), by index.
    listed_pids: Vec<(usize, Vec<u32>)>,
}

impl SystemSource {
    pub fn new() -> Self {
        SystemSource {
            owners: OwnerCache::new(),
            processes: ProcessTable::new(),
            memory: OwnerMemory::default(),
            last_len: 0,
            taken: 0,
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

    /// Dump the OS socket table straight into entries.
    fn dump(capacity: usize) -> Result<Table, SourceError> {
        let mut table = Table {
            sockets: Vec::with_capacity(capacity),
            listed_pids: Vec::new(),
        };
        os::sockets::dump(&mut |r: RawSocket| {
            let RawSocket {
                proto,
                local,
                remote,
                state,
                inode,
                uid,
                time_wait_expires_in_ms,
                pids,
            } = r;
            if !pids.is_empty() {
                table.listed_pids.push((table.sockets.len(), pids));
            }
            table.sockets.push(SocketEntry {
                proto,
                family: Family::of(&local.ip()),
                local_addr: local.ip(),
                local_port: local.port(),
                remote_addr: remote.map(|a| a.ip()),
                remote_port: remote.map(|a| a.port()),
                state,
                processes: Vec::new(),
                time_wait_expires_in_ms,
                last_known_owner: None,
                inode,
                uid,
            });
        })
        .map_err(SourceError)?;
        Ok(table)
    }

    /// The pids holding each socket, by index: the OS's own list where it
    /// gives one, else the inode cache (scanning only when needed).
    fn owner_pids(&mut self, table: &Table, now: Instant) -> Vec<(usize, Vec<u32>)> {
        let inodes: HashSet<u64> = table
            .sockets
            .iter()
            .filter(|s| s.inode != 0)
            .map(|s| s.inode)
            .collect();
        self.owners.refresh(&inodes, now, os::sockets::scan_owners);
        let mut out = table.listed_pids.clone();
        for (i, s) in table.sockets.iter().enumerate() {
            if s.inode != 0 {
                let pids = self.owners.owners_of(s.inode);
                if !pids.is_empty() {
                    out.push((i, pids.to_vec()));
                }
            }
        }
        out
    }

    /// Name every owner; rescan once if a cached owner has gone.
    fn attach_processes(&mut self, table: &mut Table, now: Instant) {
        let mut owned = self.owner_pids(table, now);
        let wanted = |owned: &[(usize, Vec<u32>)]| -> Vec<u32> {
            let set: BTreeSet<u32> = owned.iter().flat_map(|(_, p)| p.iter().copied()).collect();
            set.into_iter().collect()
        };
        let mut pids = wanted(&owned);
        let mut procs: BTreeMap<u32, ProcessInfo> = self.processes.lookup(&pids);
        if pids.iter().any(|p| !procs.contains_key(p)) {
            // A cached owner has exited (or its pid is no longer visible):
            // the cache is out of date, so scan again, once.
            self.owners.mark_stale();
            owned = self.owner_pids(table, now);
            pids = wanted(&owned);
            let missing: Vec<u32> = pids
                .iter()
                .copied()
                .filter(|p| !procs.contains_key(p))
                .collect();
            procs.extend(self.processes.lookup(&missing));
        }
        for (i, mut socket_pids) in owned {
            socket_pids.sort_unstable();
            socket_pids.dedup();
            table.sockets[i].processes = socket_pids
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
        }
    }

    /// Remember the owners of live connections; name the remembered owner of
    /// each TIME_WAIT socket.
    fn apply_memory(&mut self, sockets: &mut [SocketEntry], now: Instant) {
        self.memory.begin();
        for s in sockets.iter_mut() {
            let (Some(ip), Some(port)) = (s.remote_addr, s.remote_port) else {
                continue;
            };
            let key = ConnKey {
                proto: s.proto,
                local: std::net::SocketAddr::new(s.local_addr, s.local_port),
                remote: std::net::SocketAddr::new(ip, port),
            };
            if s.is_kernel_owned() {
                s.last_known_owner = self.memory.recall(&key, now);
            } else if let Some(first) = s.processes.iter().min_by_key(|p| p.pid) {
                let owner = OwnerRef {
                    pid: first.pid,
                    name: first.name.clone(),
                };
                self.memory.remember(key, owner, now);
            }
        }
        self.memory.finish(now);
    }
}

impl SocketSource for SystemSource {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let taken_at_unix_ms = now_unix_ms();
        let now = Instant::now();
        let expected = if self.taken == 0 {
            os::sockets::count_hint().unwrap_or(0)
        } else {
            self.last_len
        };
        let capacity = expected + expected / 8 + 64;
        let table = Self::dump(capacity);
        let mut table = table?;
        self.taken += 1;
        self.last_len = table.sockets.len();
        self.attach_processes(&mut table, now);
        self.apply_memory(&mut table.sockets, now);

        let privileged = os::process::is_elevated();
        let mut snapshot = Snapshot {
            taken_at_unix_ms,
            unattributed: 0,
            unattributed_reason: None,
            privileged,
            sockets: table.sockets,
        };
        // The model's order (Snapshot::sort), computed on packed integer
        // keys; each socket's processes are already sorted by pid.
        order::sort_sockets(&mut snapshot.sockets);
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
