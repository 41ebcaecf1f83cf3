//! Many hosts at once, for the window's host tabs and Fleet view: one
//! worker thread and one ssh session per host, each refreshing on its own
//! clock, so a slow or dead host never delays another, and readers (the UI
//! thread) only copy the latest state out from under a short lock; they
//! never wait on the network. A lost session reconnects with backoff.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{ConnectError, Dest, Mode, Session, Ssh};
use super::protocol::{Answer, Hello, Op};
use crate::sockets::model::Snapshot;
use crate::sockets::{SocketSource, SourceError};

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
    /// Why the last attempt failed, kept while the next one connects;
    /// cleared by a good refresh.
    pub last_error: Option<String>,
}

/// Called from a host's worker thread when its status changes (the window
/// passes `request_repaint`).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// The longest a request may wait for its answer before the session is
/// declared lost (a host that went silent behind a black hole; ssh's own
/// keepalives are the user's choice and may be off).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Work for a host's worker, from anyone holding a [`HostLink`].
enum Job {
    /// Send this request through the host's session; the answer (or why
    /// not) goes back on `reply`.
    Call {
        op: Op,
        reply: Sender<Result<Answer, String>>,
    },
    /// Refresh the snapshot now.
    Refresh,
    /// Not connected: try again now instead of after the backoff.
    Retry,
}

struct Worker {
    state: Arc<Mutex<HostState>>,
    stop: Arc<AtomicBool>,
    jobs: Sender<Job>,
}

/// A handle on one host's session, for any thread: requests travel through
/// the one ssh session the host's worker keeps open. Cheap to clone.
#[derive(Clone)]
pub struct HostLink {
    pub dest: Dest,
    jobs: Sender<Job>,
    state: Arc<Mutex<HostState>>,
}

impl HostLink {
    /// Send `op` to the host and wait up to `timeout` for the answer. For
    /// background threads only: it waits on the network.
    pub fn call(&self, op: Op, timeout: Duration) -> Result<Answer, String> {
        // Not connected: say so now rather than queue behind a connection
        // attempt that may take ssh's whole ConnectTimeout.
        let status = self.state.lock().map(|s| s.status.clone());
        match status {
            Ok(HostStatus::Connected { .. }) => {}
            Ok(HostStatus::Connecting) => {
                return Err(format!("not connected to {} yet: connecting…", self.dest));
            }
            Ok(HostStatus::Failed { reason, .. }) => {
                return Err(format!("not connected to {}: {reason}", self.dest));
            }
            Err(_) => return Err(format!("{}: its state is unreadable", self.dest)),
        }
        let (reply, answer) = mpsc::channel();
        self.jobs
            .send(Job::Call { op, reply })
            .map_err(|_| format!("{} is no longer watched", self.dest))?;
        match answer.recv_timeout(timeout) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "{}: no answer within {} s",
                self.dest,
                timeout.as_secs()
            )),
            Err(RecvTimeoutError::Disconnected) => {
                Err(format!("{} is no longer watched", self.dest))
            }
        }
    }

    /// Run `portwise SUB ARGS` there (one of the command-shaped requests)
    /// and return what it printed: (stdout, stderr, exit code), made safe
    /// to show.
    pub fn run(&self, op: Op) -> Result<(String, String, i32), String> {
        match self.call(op, REQUEST_TIMEOUT + Duration::from_secs(5))? {
            Answer::Output {
                stdout,
                stderr,
                code,
            } => Ok((
                super::terminal_safe(&stdout),
                super::terminal_safe(&stderr),
                code,
            )),
            other => Err(format!("unexpected answer {}", kind(&other))),
        }
    }
}

fn kind(a: &Answer) -> &'static str {
    match a {
        Answer::Snapshot(_) => "snapshot",
        Answer::Output { .. } => "output",
        Answer::StopPlan { .. } => "stop plan",
        Answer::Stopped { .. } => "stopped",
    }
}

/// A [`SocketSource`] on another machine: every snapshot is a request
/// through the host's session (every state, like the local source), so the
/// window's sampler and Sockets view work unchanged against it.
pub struct RemoteSource {
    link: HostLink,
}

impl RemoteSource {
    pub fn new(link: HostLink) -> RemoteSource {
        RemoteSource { link }
    }
}

impl SocketSource for RemoteSource {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let op = Op::Snapshot {
            port: None,
            proto: None,
            pid: None,
            all: true,
        };
        match self.link.call(op, REQUEST_TIMEOUT + Duration::from_secs(5)) {
            Ok(Answer::Snapshot(s)) => Ok(s),
            Ok(other) => Err(SourceError(format!(
                "{}: unexpected answer {}",
                self.link.dest,
                kind(&other)
            ))),
            Err(e) => Err(SourceError(e)),
        }
    }
}

/// The hosts being watched.
pub struct Fleet {
    ssh: Ssh,
    interval: Duration,
    wake: Wake,
    workers: BTreeMap<Dest, Worker>,
}

/// Reconnect delays: 1 s, doubling to at most a minute.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.min(6)).min(Duration::from_secs(60))
}

impl Fleet {
    pub fn new(ssh: Ssh, interval: Duration) -> Fleet {
        Fleet::with_wake(ssh, interval, Arc::new(|| {}))
    }

    /// A fleet whose workers call `wake` when a host's status changes.
    pub fn with_wake(ssh: Ssh, interval: Duration, wake: Wake) -> Fleet {
        Fleet {
            ssh,
            interval,
            wake,
            workers: BTreeMap::new(),
        }
    }

    /// The ssh command the sessions run.
    pub fn ssh(&self) -> &Ssh {
        &self.ssh
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
            last_error: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs_tx, jobs) = mpsc::channel();
        let w = HostWorker {
            ssh: self.ssh.clone(),
            dest: dest.clone(),
            interval: self.interval,
            state: Arc::clone(&state),
            stop: Arc::clone(&stop),
            jobs,
            wake: Arc::clone(&self.wake),
        };
        std::thread::Builder::new()
            .name(format!("host {dest}"))
            .spawn(move || w.run())?;
        self.workers.insert(
            dest,
            Worker {
                state,
                stop,
                jobs: jobs_tx,
            },
        );
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

    /// A handle for requests to `dest`, if it is watched.
    pub fn link(&self, dest: &Dest) -> Option<HostLink> {
        self.workers.get(dest).map(|w| HostLink {
            dest: dest.clone(),
            jobs: w.jobs.clone(),
            state: Arc::clone(&w.state),
        })
    }

    /// Refresh `dest`'s snapshot now rather than at its next tick.
    pub fn refresh_now(&self, dest: &Dest) {
        if let Some(w) = self.workers.get(dest) {
            let _ = w.jobs.send(Job::Refresh);
        }
    }

    /// A host that failed: try again now, not after the backoff.
    pub fn retry_now(&self, dest: &Dest) {
        if let Some(w) = self.workers.get(dest) {
            let _ = w.jobs.send(Job::Retry);
        }
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

fn set(state: &Mutex<HostState>, f: impl FnOnce(&mut HostState)) {
    if let Ok(mut s) = state.lock() {
        f(&mut s);
    }
}

/// What a wait for jobs ended with.
enum Woke {
    /// The time is up.
    Due,
    /// Asked to stop (or the fleet is gone).
    Stop,
    Refresh,
    Retry,
}

/// One host's thread: connects, refreshes on its own clock, carries the
/// requests of [`HostLink`]s, reconnects with backoff.
struct HostWorker {
    ssh: Ssh,
    dest: Dest,
    interval: Duration,
    state: Arc<Mutex<HostState>>,
    stop: Arc<AtomicBool>,
    jobs: Receiver<Job>,
    wake: Wake,
}

impl HostWorker {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The reason of the current failure, if the host is failed.
    fn failure(&self) -> Option<String> {
        match self.state.lock().ok()?.status.clone() {
            HostStatus::Failed { reason, .. } => Some(reason),
            _ => None,
        }
    }

    fn set_status(&self, status: HostStatus) {
        let changed = self
            .state
            .lock()
            .map(|mut s| {
                let kind_changed =
                    std::mem::discriminant(&s.status) != std::mem::discriminant(&status);
                match &status {
                    HostStatus::Failed { reason, .. } => s.last_error = Some(reason.clone()),
                    HostStatus::Connected { .. } => s.last_error = None,
                    HostStatus::Connecting => {}
                }
                s.status = status;
                kind_changed
            })
            .unwrap_or(false);
        if changed {
            (self.wake)();
        }
    }

    /// Wait up to `d` for jobs, carrying each: with a session, through it;
    /// without one, answered at once with `offline` (why there is none).
    /// Wakes every 100 ms to see whether to stop.
    fn wait(
        &self,
        d: Duration,
        session: &mut Option<Session>,
        offline: &str,
        hello: Option<&Hello>,
    ) -> Woke {
        let end = Instant::now() + d;
        loop {
            if self.stopped() {
                return Woke::Stop;
            }
            let now = Instant::now();
            if now >= end {
                return Woke::Due;
            }
            match self
                .jobs
                .recv_timeout((end - now).min(Duration::from_millis(100)))
            {
                Ok(Job::Call { op, reply }) => {
                    let r = match session.as_mut() {
                        Some(s) => {
                            let is_snapshot = matches!(op, Op::Snapshot { .. });
                            let started = Instant::now();
                            match s.request_within(op, Some(REQUEST_TIMEOUT)) {
                                Ok(a) => {
                                    if is_snapshot && let Some(h) = hello {
                                        let latency = started.elapsed();
                                        set(&self.state, |st| {
                                            st.status = HostStatus::Connected {
                                                hello: h.clone(),
                                                latency,
                                            }
                                        });
                                    }
                                    Ok(a)
                                }
                                Err(e @ super::client::RequestError::Remote(_)) => {
                                    Err(format!("{}: {e}", self.dest))
                                }
                                Err(e) => {
                                    let _ = reply.send(Err(format!("{}: {e}", self.dest)));
                                    *session = None;
                                    self.set_status(HostStatus::Failed {
                                        reason: e.to_string(),
                                        retry_in: backoff(0),
                                    });
                                    return Woke::Due;
                                }
                            }
                        }
                        None => Err(format!("not connected to {}: {offline}", self.dest)),
                    };
                    let _ = reply.send(r);
                }
                Ok(Job::Refresh) => return Woke::Refresh,
                Ok(Job::Retry) => return Woke::Retry,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Woke::Stop,
            }
        }
    }

    fn run(self) {
        let mut failures = 0u32;
        while !self.stopped() {
            self.set_status(HostStatus::Connecting);
            let connected =
                Session::connect(&self.ssh, &self.dest, Mode::Batch, Some(REQUEST_TIMEOUT));
            let session = match connected {
                Ok(s) => s,
                Err(e) => {
                    let retry_in = backoff(failures);
                    failures += 1;
                    let reason = batch_reason(&e, &self.dest);
                    set(&self.state, |s| s.needs_install = e.install_would_help());
                    self.set_status(HostStatus::Failed {
                        reason: reason.clone(),
                        retry_in,
                    });
                    match self.wait(retry_in, &mut None, &reason, None) {
                        Woke::Stop => return,
                        Woke::Retry => failures = 0,
                        Woke::Due | Woke::Refresh => {}
                    }
                    continue;
                }
            };
            let hello = session.hello.clone();
            let mut session = Some(session);
            let reason = loop {
                let Some(s) = session.as_mut() else {
                    break self.failure().unwrap_or_else(|| "connection lost".into());
                };
                let started = Instant::now();
                let answer = s.request_within(
                    Op::Snapshot {
                        port: None,
                        proto: None,
                        pid: None,
                        all: false,
                    },
                    Some(REQUEST_TIMEOUT),
                );
                match answer {
                    Ok(Answer::Snapshot(snap)) => {
                        failures = 0;
                        let latency = started.elapsed();
                        set(&self.state, |s| {
                            s.needs_install = false;
                            s.snapshot = Some(Arc::new(snap));
                            s.refreshed_at = Some(Instant::now());
                            s.refreshes += 1;
                        });
                        self.set_status(HostStatus::Connected {
                            hello: hello.clone(),
                            latency,
                        });
                    }
                    Ok(other) => break format!("unexpected answer {}", kind(&other)),
                    Err(e) => break e.to_string(),
                }
                let left = self.interval.saturating_sub(started.elapsed());
                match self.wait(left, &mut session, "connection lost", Some(&hello)) {
                    Woke::Stop => return,
                    Woke::Due | Woke::Refresh | Woke::Retry => {}
                }
            };
            drop(session);
            let retry_in = backoff(failures);
            failures += 1;
            self.set_status(HostStatus::Failed {
                reason: reason.clone(),
                retry_in,
            });
            match self.wait(retry_in, &mut None, &reason, None) {
                Woke::Stop => return,
                Woke::Retry => failures = 0,
                Woke::Due | Woke::Refresh => {}
            }
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
        let link = f.link(&d).unwrap();
        let e = link.call(Op::TuningShow { args: vec![] }, Duration::from_secs(5));
        let e = e.unwrap_err();
        assert!(
            e.starts_with("not connected to somewhere: cannot run ssh"),
            "{e}"
        );
        // The host's worker answers fast too, without the state check.
        let (reply, answer) = mpsc::channel();
        f.workers[&d]
            .jobs
            .send(Job::Call {
                op: Op::TuningShow { args: vec![] },
                reply,
            })
            .unwrap();
        let e = answer.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(e.unwrap_err().contains("cannot run ssh"));
        f.remove(&d);
        assert_eq!(f.hosts().count(), 0);
        let e = link.call(Op::TuningShow { args: vec![] }, Duration::from_secs(5));
        assert!(e.is_err());
    }
}
