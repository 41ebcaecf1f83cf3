//! The inode -> pid cache: which processes hold which socket.
//!
//! Finding owners means reading every process's descriptor table, a cost
//! that grows with the number of open descriptors on the machine, not with
//! the number of sockets (TIME_WAIT sockets have no descriptor at all). So
//! the scan runs only when the dump shows an inode the cache cannot place,
//! when a cached owner has gone, or when the cache is older than
//! [`OwnerCache::MAX_AGE`] (a process that inherited a socket through
//! `fork()` adds an owner without adding an inode).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::raw::OwnerScan;

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
    pub fn refresh(
        &mut self,
        inodes: &HashSet<u64>,
        now: Instant,
        scan: impl FnOnce(&HashSet<u64>) -> OwnerScan,
    ) -> bool {
        let too_old = self
            .scanned_at
            .is_none_or(|t| now.saturating_duration_since(t) > Self::MAX_AGE);
        let unknown = inodes
            .iter()
            .any(|i| !self.owners.contains_key(i) && !self.unplaced.contains(i));
        let must_scan = !inodes.is_empty() && (self.stale || too_old || unknown);
        if must_scan {
            let result = scan(inodes);
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

    fn scan_giving(owners: &[(u64, u32)]) -> impl FnOnce(&HashSet<u64>) -> OwnerScan {
        let owners: HashMap<u64, Vec<u32>> = owners.iter().map(|(i, p)| (*i, vec![*p])).collect();
        move |_| OwnerScan {
            owners,
            unreadable_processes: 0,
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
            !cache.refresh(&set(&[1, 2]), t0 + Duration::from_secs(1), |_| {
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
            !cache.refresh(&set(&[1, 9]), t0 + Duration::from_secs(1), |_| {
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
        assert!(!cache.refresh(&set(&[]), later, |_| panic!("must not scan")));
        assert_eq!(cache.owners_of(1), &[] as &[u32]);
    }
}
