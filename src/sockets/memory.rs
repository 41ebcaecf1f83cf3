//! Last-known owners: who held a connection before it went into TIME_WAIT.
//!
//! A TIME_WAIT socket has no process (the kernel keeps it), so the only
//! honest way to say "who left this" is to remember the owner seen while the
//! connection was alive, keyed by network namespace, protocol and 4-tuple,
//! and label it as a memory. The memory is bounded in size and forgets an entry once its
//! connection is gone: when a remembered TIME_WAIT socket disappears, or when
//! a connection has not been seen for [`OwnerMemory::FORGET_AFTER`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::model::{OwnerRef, Proto};

/// Network namespace, protocol and 4-tuple of a connection. Two namespaces
/// (two containers) can each have 127.0.0.1:8080 <-> 127.0.0.1:40000 at the
/// same time: without the namespace one's TIME_WAIT would be named after the
/// other's process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnKey {
    /// The namespace's inode; 0 where the OS has no namespaces to tell.
    pub netns: u64,
    pub proto: Proto,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

#[derive(Clone, Debug)]
struct Entry {
    owner: OwnerRef,
    last_seen: Instant,
    /// Seen in TIME_WAIT: forget it as soon as it is no longer listed.
    in_time_wait: bool,
    /// Generation of the last snapshot that listed it.
    seen_in: u64,
}

/// Bounded memory of connection owners.
#[derive(Debug)]
pub struct OwnerMemory {
    entries: HashMap<ConnKey, Entry>,
    capacity: usize,
    generation: u64,
}

impl Default for OwnerMemory {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl OwnerMemory {
    /// How long a connection no longer listed is remembered. It must cover a
    /// whole TIME_WAIT plus the gap between two snapshots: TIME_WAIT lasts
    /// 60 s on Linux (TCP_TIMEWAIT_LEN, include/net/tcp.h), 30 s on macOS
    /// and up to 300 s on Windows (TcpTimedWaitDelay, learn.microsoft.com).
    pub const FORGET_AFTER: Duration = Duration::from_secs(360);
    pub const DEFAULT_CAPACITY: usize = 100_000;

    pub fn new(capacity: usize) -> Self {
        OwnerMemory {
            entries: HashMap::new(),
            capacity: capacity.max(1),
            generation: 0,
        }
    }

    /// Start a new snapshot's round of [`remember`](Self::remember) and
    /// [`recall`](Self::recall) calls; end it with [`finish`](Self::finish).
    pub fn begin(&mut self) {
        self.generation += 1;
    }

    /// A live connection and its owner.
    pub fn remember(&mut self, key: ConnKey, owner: OwnerRef, now: Instant) {
        let generation = self.generation;
        self.entries.insert(
            key,
            Entry {
                owner,
                last_seen: now,
                in_time_wait: false,
                seen_in: generation,
            },
        );
    }

    /// The owner remembered for a connection now seen in TIME_WAIT.
    pub fn recall(&mut self, key: &ConnKey, now: Instant) -> Option<OwnerRef> {
        if self.entries.is_empty() {
            return None;
        }
        let generation = self.generation;
        let entry = self.entries.get_mut(key)?;
        entry.last_seen = now;
        entry.in_time_wait = true;
        entry.seen_in = generation;
        Some(entry.owner.clone())
    }

    /// Forget what has expired, then trim to capacity (oldest first).
    pub fn finish(&mut self, now: Instant) {
        let generation = self.generation;
        self.entries.retain(|_, e| {
            let expired_tw = e.in_time_wait && e.seen_in != generation;
            let too_old = now.saturating_duration_since(e.last_seen) > Self::FORGET_AFTER;
            !expired_tw && !too_old
        });
        if self.entries.len() > self.capacity {
            // Drop the oldest down to 90 % so trimming is not paid for on
            // every snapshot.
            let keep = self.capacity - self.capacity / 10;
            let mut ages: Vec<(Instant, ConnKey)> = self
                .entries
                .iter()
                .map(|(k, e)| (e.last_seen, *k))
                .collect();
            ages.sort_unstable_by_key(|(t, _)| std::cmp::Reverse(*t));
            for (_, key) in ages.into_iter().skip(keep) {
                self.entries.remove(&key);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(remote_port: u16) -> ConnKey {
        ConnKey {
            netns: 0,
            proto: Proto::Tcp,
            local: "127.0.0.1:8080".parse().unwrap(),
            remote: SocketAddr::new("127.0.0.1".parse().unwrap(), remote_port),
        }
    }

    fn owner(pid: u32) -> OwnerRef {
        OwnerRef {
            pid,
            name: format!("p{pid}"),
        }
    }

    #[test]
    fn recalls_the_owner_then_forgets_once_time_wait_ends() {
        let mut m = OwnerMemory::default();
        let t = Instant::now();
        m.begin();
        m.remember(key(1), owner(7), t);
        m.finish(t);
        m.begin();
        assert_eq!(m.recall(&key(1), t), Some(owner(7)));
        assert_eq!(m.recall(&key(2), t), None);
        m.finish(t);
        assert_eq!(m.len(), 1);
        // Next snapshot no longer lists the TIME_WAIT socket: forgotten.
        m.begin();
        m.finish(t);
        assert!(m.is_empty());
    }

    #[test]
    fn unseen_connections_expire_after_the_ttl() {
        let mut m = OwnerMemory::default();
        let t = Instant::now();
        m.begin();
        m.remember(key(1), owner(7), t);
        m.finish(t);
        m.begin();
        m.finish(t + Duration::from_secs(10));
        assert_eq!(m.len(), 1, "kept while it may still show up in TIME_WAIT");
        m.begin();
        m.finish(t + OwnerMemory::FORGET_AFTER + Duration::from_secs(1));
        assert!(m.is_empty());
    }

    #[test]
    fn capacity_is_a_hard_bound_and_keeps_the_newest() {
        let mut m = OwnerMemory::new(10);
        let t = Instant::now();
        m.begin();
        for i in 0..25u16 {
            m.remember(
                key(i),
                owner(u32::from(i)),
                t + Duration::from_millis(u64::from(i)),
            );
        }
        m.finish(t + Duration::from_secs(1));
        assert!(m.len() <= 10);
        m.begin();
        assert_eq!(m.recall(&key(24), t), Some(owner(24)));
        assert_eq!(m.recall(&key(0), t), None);
    }
}
