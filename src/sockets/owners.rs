//! The inode -> pid cache: which processes hold which socket.
//!
//! Finding owners means reading every process's descriptor table, a cost
//! that grows with the number of open descriptors on the machine, not with
//! the number of sockets (TIME_WAIT sockets have no descriptor at all). So
//! the scan runs only when the dump shows an inode the cache cannot place,
//! when a cached owner has gone, or when the cache is older than
//! [`OwnerCache::MAX_AGE`] (a process that inherited a socket through
//! `fork()` adds an owner without adding an inode).
//!
//! [`OwnerQuery`] says what a scan looks for and how; [`FdMemory`] keeps
//! each process's descriptor set between scans, so a later scan reads only
//! the descriptors it has not seen (Linux; other OSes list owners with
//! each socket and ignore both).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::raw::OwnerScan;

/// What one owner scan looks for, and how.
#[derive(Clone, Copy, Debug)]
pub struct OwnerQuery<'a> {
    /// The socket inodes to find owners for; `None`: every socket any
    /// process holds.
    pub wanted: Option<&'a HashSet<u64>>,
    /// Stop reading processes once every wanted inode has an owner, then
    /// read the found owners' parents and children (a socket inherited
    /// through `fork()` is held by the family; see the Linux scan for what
    /// only a full scan finds). For a
    /// query about a few sockets (one port); a full table needs no early
    /// stop.
    pub stop_early: bool,
    /// Processes to read first: the owners seen before.
    pub likely_pids: &'a [u32],
    /// The users the wanted sockets belong to (sock_diag's uid): their
    /// processes are read next.
    pub likely_uids: &'a HashSet<u32>,
    /// Whether descriptors remembered in the [`FdMemory`] may be trusted
    /// without reading them again (see [`FdMemory`]). A periodic full scan
    /// passes `false`.
    pub trust_memory: bool,
    /// Every socket inode of the current dump: a remembered descriptor that
    /// pointed at a socket no longer in it was closed (its number may now
    /// be another socket), so it is read again.
    pub live: Option<&'a HashSet<u64>>,
    /// The wanted inodes worth a second, full pass when the pass that
    /// trusted the memory left them unresolved (a descriptor number reused
    /// for a new socket): the sockets this user could see at all.
    pub retry: Option<&'a HashSet<u64>>,
}

impl<'a> OwnerQuery<'a> {
    /// Every socket, every process, nothing trusted from memory.
    pub fn everything(no_uids: &'a HashSet<u32>) -> Self {
        OwnerQuery {
            wanted: None,
            stop_early: false,
            likely_pids: &[],
            likely_uids: no_uids,
            trust_memory: false,
            live: None,
            retry: None,
        }
    }
}

/// Each process's descriptors as the last scan read them: descriptor number
/// -> socket inode (0: not a socket). A later scan lists a process's
/// descriptor numbers (one cheap directory read) and reads the link of a
/// number only if it is new, or pointed at a socket that has since closed.
/// A number closed and reopened between two scans on something that was
/// not a socket is not noticed until a wanted socket stays unresolved (then
/// the scan reads everything again) or the next full scan
/// ([`OwnerCache::MAX_AGE`]).
#[derive(Debug, Default)]
pub struct FdMemory {
    pub processes: HashMap<u32, ProcessFds>,
}

/// One process's remembered descriptors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessFds {
    /// Identifies the process behind the pid (Linux: the inode of its
    /// /proc/PID/fd directory, new for a new process): a reused pid starts
    /// afresh.
    pub identity: u64,
    /// (descriptor, socket inode or 0), sorted by descriptor.
    pub fds: Vec<(u32, u64)>,
}

impl FdMemory {
    /// How many descriptors are remembered (for tests and diagnostics).
    pub fn descriptors(&self) -> usize {
        self.processes.values().map(|p| p.fds.len()).sum()
    }
}

/// Remembers the owners found by the last scan.
#[derive(Debug, Default)]
pub struct OwnerCache {
    owners: HashMap<u64, Vec<u32>>,
    /// Inodes the last scan looked for and did not find (owner hidden or
    /// gone): looking again at once would find nothing new.
    unplaced: HashSet<u64>,
    unreadable_processes: usize,
    scanned_at: Option<Instant>,
    stale: bool,
    scans: u64,
}

impl OwnerCache {
    /// A cache older than this is rescanned even without a new inode.
    pub const MAX_AGE: Duration = Duration::from_secs(10);

    pub fn new() -> Self {
        Self::default()
    }

    /// Make sure every inode in `inodes` (non-zero socket inodes of the
    /// current dump) has been looked for, calling `scan` only when needed.
    /// Returns whether a scan ran.
    ///
    /// `scan` gets the inodes and whether it may trust remembered
    /// descriptors: not when the cache is stale or old, so that a full
    /// read corrects what the memory may have missed.
    pub fn refresh(
        &mut self,
        inodes: &HashSet<u64>,
        now: Instant,
        scan: impl FnOnce(&HashSet<u64>, bool) -> OwnerScan,
    ) -> bool {
        let too_old = self
            .scanned_at
            .is_none_or(|t| now.saturating_duration_since(t) > Self::MAX_AGE);
        let unknown = inodes
            .iter()
            .any(|i| !self.owners.contains_key(i) && !self.unplaced.contains(i));
        let must_scan = !inodes.is_empty() && (self.stale || too_old || unknown);
        if must_scan {
            let result = scan(inodes, !(self.stale || too_old));
            self.owners = result.owners;
            self.unreadable_processes = result.unreadable_processes;
            self.scanned_at = Some(now);
            self.stale = false;
            self.scans += 1;
        }
        // Forget sockets that are gone, so the cache stays as large as the
        // socket table, and note which inodes no process could be found for.
        self.owners.retain(|inode, _| inodes.contains(inode));
        self.unplaced = inodes
            .iter()
            .filter(|i| !self.owners.contains_key(i))
            .copied()
            .collect();
        must_scan
    }

    /// Every pid that held a socket at the last scan, sorted: the likely
    /// owners to read first next time.
    pub fn known_pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.owners.values().flatten().copied().collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Whether the last scan looked for `inode` and found no process
    /// holding it (its owner is hidden from this user, lives in another
    /// pid namespace, or it is the kernel's own socket).
    pub fn was_unplaced(&self, inode: u64) -> bool {
        self.unplaced.contains(&inode)
    }

    /// The pids holding `inode`, as of the last scan.
    pub fn owners_of(&self, inode: u64) -> &[u32] {
        self.owners.get(&inode).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Processes whose descriptors the last scan could not read.
    pub fn unreadable_processes(&self) -> usize {
        self.unreadable_processes
    }

    /// Ask for a scan at the next refresh (a cached owner has exited).
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// How many scans ran so far (for tests and diagnostics).
    pub fn scans(&self) -> u64 {
        self.scans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u64]) -> HashSet<u64> {
        v.iter().copied().collect()
    }

    fn scan_giving(owners: &[(u64, u32)]) -> impl FnOnce(&HashSet<u64>, bool) -> OwnerScan {
        let owners: HashMap<u64, Vec<u32>> = owners.iter().map(|(i, p)| (*i, vec![*p])).collect();
        move |_, _| OwnerScan {
            owners,
            ..OwnerScan::default()
        }
    }

    #[test]
    fn scans_only_for_unknown_inodes() {
        let mut cache = OwnerCache::new();
        let t0 = Instant::now();
        assert!(cache.refresh(&set(&[1, 2]), t0, scan_giving(&[(1, 10), (2, 20)])));
        assert_eq!(cache.owners_of(1), &[10]);
        // Same inodes, shortly after: no scan.
        assert!(
            !cache.refresh(&set(&[1, 2]), t0 + Duration::from_secs(1), |_, _| {
                panic!("must not scan")
            })
        );
        // A new inode appears: scan.
        assert!(cache.refresh(
            &set(&[1, 2, 3]),
            t0 + Duration::from_secs(2),
            scan_giving(&[(1, 10), (2, 20), (3, 30)])
        ));
        assert_eq!(cache.owners_of(3), &[30]);
        assert_eq!(cache.scans(), 2);
    }

    #[test]
    fn an_unplaceable_inode_does_not_rescan_every_time() {
        let mut cache = OwnerCache::new();
        let t0 = Instant::now();
        assert!(cache.refresh(&set(&[1, 9]), t0, scan_giving(&[(1, 10)])));
        assert_eq!(cache.owners_of(9), &[] as &[u32]);
        assert!(
            !cache.refresh(&set(&[1, 9]), t0 + Duration::from_secs(1), |_, _| {
                panic!("must not scan")
            })
        );
    }

    #[test]
    fn stale_or_old_caches_rescan_and_gone_sockets_are_forgotten() {
        let mut cache = OwnerCache::new();
        let t0 = Instant::now();
        cache.refresh(&set(&[1]), t0, scan_giving(&[(1, 10)]));
        cache.mark_stale();
        assert!(cache.refresh(&set(&[1]), t0, scan_giving(&[(1, 11)])));
        assert_eq!(cache.owners_of(1), &[11]);
        let later = t0 + OwnerCache::MAX_AGE + Duration::from_secs(1);
        assert!(cache.refresh(&set(&[1]), later, scan_giving(&[(1, 12)])));
        assert_eq!(cache.owners_of(1), &[12]);
        // The socket closes: its entry goes, and an empty table never scans.
        assert!(!cache.refresh(&set(&[]), later, |_, _| panic!("must not scan")));
        assert_eq!(cache.owners_of(1), &[] as &[u32]);
    }

    #[test]
    fn remembered_descriptors_are_trusted_only_between_full_scans() {
        let mut cache = OwnerCache::new();
        let t0 = Instant::now();
        let mut trusted = Vec::new();
        let mut note = |t: bool| {
            trusted.push(t);
            OwnerScan::default()
        };
        // The first scan has no memory to trust; it finds nothing for 2.
        cache.refresh(&set(&[1]), t0, |_, t| note(t));
        // A new inode, shortly after: the memory may be trusted.
        cache.refresh(&set(&[1, 2]), t0 + Duration::from_secs(1), |_, t| note(t));
        // A stale cache reads everything again.
        cache.mark_stale();
        cache.refresh(&set(&[1, 2]), t0 + Duration::from_secs(2), |_, t| note(t));
        // So does an old one.
        let later = t0 + OwnerCache::MAX_AGE + Duration::from_secs(3);
        cache.refresh(&set(&[1, 2]), later, |_, t| note(t));
        assert_eq!(trusted, vec![false, true, false, false]);
        assert_eq!(cache.known_pids(), Vec::<u32>::new());
    }
}
