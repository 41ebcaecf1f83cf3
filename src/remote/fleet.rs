//! Many hosts at once, for the window's host tabs and Fleet view: one
//! worker thread and one ssh session per host, each refreshing on its own
//! clock, so a slow or dead host never delays another, and readers (the UI
//! thread) only copy the latest state out from under a short lock; they
//! never wait on the network. A lost session reconnects with backoff.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{ConnectError, Dest, Mode, Session, Ssh};
use super::protocol::{Answer, Hello, Op};
use crate::sockets::model::Snapshot;

/// Where a host stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostStatus {
    Connecting,
    /// Connected; `latency` is the round trip of the last refresh.
    Connected {
        hello: Hello,
        latency: Duration,
    },
    /// Not connected; `reason` is ssh's or the agent's own words. The
    /// worker tries again after `retry_in`.
    Failed {
        reason: String,
        retry_in: Duration,
    },
}

/// What the readers see of one host.
#[derive(Clone, Debug)]
pub struct HostState {
    pub status: HostStatus,
    /// The last snapshot (LISTEN, bound UDP and TIME_WAIT), kept while
    /// reconnecting so the views don't go blank.
    pub snapshot: Option<Arc<Snapshot>>,
    pub refreshed_at: Option<Instant>,
    pub refreshes: u64,
    /// Set when the failure is one a copy of portwise would fix.
    pub needs_install: bool,
}

struct Worker {
    state: Arc<Mutex<HostState>>,
    stop: Arc<AtomicBool>,
}

/// The hosts being watched.
pub struct Fleet {
    ssh: Ssh,
    interval: Duration,
    workers: BTreeMap<Dest, Worker>,
}

/// Reconnect delays: 1 s, doubling to at most a minute.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.min(6)).min(Duration::from_secs(60))
}

impl Fleet {
    pub fn new(ssh: Ssh, interval: Duration) -> Fleet {
        Fleet {
            ssh,
            interval,
            workers: BTreeMap::new(),
        }
    }

    /// Start watching `dest` (no-op if already watched).
    pub fn add(&mut self, dest: Dest) -> std::io::Result<()> {
        if self.workers.contains_key(&dest) {
            return Ok(());
        }
        let state = Arc::new(Mutex::new(HostState {
            status: HostStatus::Connecting,
            snapshot: None,
            refreshed_at: None,
            refreshes: 0,
            needs_install: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (ssh, interval) = (self.ssh.clone(), self.interval);
        let (st, sp, d) = (Arc::clone(&state), Arc::clone(&stop), dest.clone());
        std::thread::Builder::new()
            .name(format!("host {dest}"))
            .spawn(move || run_worker(&ssh, &d, interval, &st, &sp))?;
        self.workers.insert(dest, Worker { state, stop });
        Ok(())
    }

    /// Stop watching `dest`; its session closes in the background.
    pub fn remove(&mut self, dest: &Dest) {
        if let Some(w) = self.workers.remove(dest) {
            w.stop.store(true, Ordering::Relaxed);
        }
    }

    pub fn hosts(&self) -> impl Iterator<Item = &Dest> {
        self.workers.keys()
    }

    /// A copy of one host's state.
    pub fn state(&self, dest: &Dest) -> Option<HostState> {
        let w = self.workers.get(dest)?;
        w.state.lock().ok().map(|s| s.clone())
    }

    /// Copies of every host's state, in host order.
    pub fn states(&self) -> Vec<(Dest, HostState)> {
        self.workers
            .iter()
            .filter_map(|(d, w)| w.state.lock().ok().map(|s| (d.clone(), s.clone())))
            .collect()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for w in self.workers.values() {
            w.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// Sleep up to `d`, waking every 100 ms to see whether to stop. True if
/// asked to stop.
fn nap(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(100)));
    }
    stop.load(Ordering::Relaxed)
}

fn set(state: &Mutex<HostState>, f: impl FnOnce(&mut HostState)) {
    if let Ok(mut s) = state.lock() {
        f(&mut s);
    }
}

fn run_worker(
    ssh: &Ssh,
    dest: &Dest,
    interval: Duration,
    state: &Mutex<HostState>,
    stop: &AtomicBool,
) {
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        set(state, |s| s.status = HostStatus::Connecting);
        let mut session =
            match Session::connect(ssh, dest, Mode::Batch, Some(Duration::from_secs(30))) {
                Ok(s) => s,
                Err(e) => {
                    let retry_in = backoff(failures);
                    failures += 1;
                    set(state, |s| {
                        s.needs_install = e.install_would_help();
                        s.status = HostStatus::Failed {
                            reason: batch_reason(&e, dest),
                            retry_in,
                        };
                    });
                    if nap(retry_in, stop) {
                        return;
                    }
                    continue;
                }
            };
        let hello = session.hello.clone();
        loop {
            let started = Instant::now();
            match session.request(Op::Snapshot {
                port: None,
                proto: None,
                pid: None,
                all: false,
            }) {
                Ok(Answer::Snapshot(snap)) => {
                    failures = 0;
                    let latency = started.elapsed();
                    set(state, |s| {
                        s.needs_install = false;
                        s.status = HostStatus::Connected {
                            hello: hello.clone(),
                            latency,
                        };
                        s.snapshot = Some(Arc::new(snap));
                        s.refreshed_at = Some(Instant::now());
                        s.refreshes += 1;
                    });
                }
                Ok(other) => {
                    set(state, |s| {
                        s.status = HostStatus::Failed {
                            reason: format!("unexpected answer {other:?}"),
                            retry_in: backoff(failures),
                        }
                    });
                    break;
                }
                Err(e) => {
                    set(state, |s| {
                        s.status = HostStatus::Failed {
                            reason: e.to_string(),
                            retry_in: backoff(failures),
                        }
                    });
                    break;
                }
            }
            if nap(interval.saturating_sub(started.elapsed()), stop) {
                return;
            }
        }
        let retry_in = backoff(failures);
        failures += 1;
        if nap(retry_in, stop) {
            return;
        }
    }
}

/// The window's wording: BatchMode cannot prompt, so an auth failure means
/// the key is not in the agent.
fn batch_reason(e: &ConnectError, dest: &Dest) -> String {
    let m = e.message(dest);
    if matches!(e, ConnectError::Ssh { reason } if reason.contains("Permission denied")) {
        format!(
            "{m}. portwise cannot ask for a passphrase here: load the key into your ssh agent (ssh-add) and retry"
        )
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(6), Duration::from_secs(60));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn a_missing_ssh_is_a_failure_with_its_reason_not_a_hang() {
        let ssh = Ssh::parse("/nonexistent/ssh-for-portwise-test").unwrap();
        let mut f = Fleet::new(ssh, Duration::from_secs(2));
        let d = Dest::parse("somewhere").unwrap();
        f.add(d.clone()).unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let s = f.state(&d).unwrap();
            if let HostStatus::Failed { reason, .. } = &s.status {
                assert!(reason.contains("cannot run ssh"), "{reason}");
                break;
            }
            assert!(Instant::now() < end, "{s:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        f.remove(&d);
        assert_eq!(f.hosts().count(), 0);
    }
}
