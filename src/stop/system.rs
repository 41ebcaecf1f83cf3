//! The real stopper: sysinfo's `Process::kill_with` (SIGTERM, SIGKILL on
//! Unix; TerminateProcess on Windows, which has no polite signal there).

use std::io;
use std::time::{Duration, Instant};

use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, Signal, System};

use super::{StopOutcome, StopReport, StopTarget, Stopper, elevated_hint, refusal};
use crate::bind::holders_on;
use crate::sockets::SocketSource;

/// How long a politely asked process gets before it is reported as still
/// running (the 5 s).
pub const GRACE: Duration = Duration::from_secs(5);
/// How long a killed process gets to disappear.
const KILL_WAIT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(50);

/// Stops processes on this machine. Holds a socket source for the
/// "still holds the port" check right before signalling.
pub struct SystemStopper {
    sys: Option<System>,
    source: Box<dyn SocketSource>,
    grace: Duration,
}

impl SystemStopper {
    pub fn new(source: Box<dyn SocketSource>) -> SystemStopper {
        SystemStopper {
            sys: System::new().ok(),
            source,
            grace: GRACE,
        }
    }

    /// A different wait after SIGTERM (tests; the default is 5 s).
    pub fn with_grace(mut self, grace: Duration) -> SystemStopper {
        self.grace = grace;
        self
    }

    /// The start time of `pid` now; `None` when it has exited (a zombie
    /// has exited too: only its parent's wait() is missing).
    fn start_time(&mut self, pid: u32) -> Option<u64> {
        let sys = self.sys.as_mut()?;
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[Pid::from_u32(pid)]),
            true,
            ProcessRefreshKind::nothing().without_tasks(),
        );
        let p = sys.process(Pid::from_u32(pid))?;
        (p.status() != ProcessStatus::Zombie).then(|| p.start_time())
    }

    fn is_gone(&mut self, t: &StopTarget) -> bool {
        self.start_time(t.pid) != Some(t.start_time)
    }

    /// Send the signal. `Ok(true)` when the polite one went out, `Ok(false)`
    /// when the OS has none and the process was terminated at once.
    fn signal(&mut self, pid: u32, force: bool) -> Result<bool, io::Error> {
        let Some(p) = self
            .sys
            .as_ref()
            .and_then(|s| s.process(Pid::from_u32(pid)))
        else {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        };
        let polite = !force;
        let sent = if polite {
            match p.kill_with(Signal::Term) {
                Some(ok) => ok.then_some(true),
                None => p.kill().then_some(false),
            }
        } else {
            p.kill().then_some(false)
        };
        // sysinfo returns only a bool; the OS's reason is still in errno /
        // GetLastError right after the call.
        sent.ok_or_else(io::Error::last_os_error)
    }

    fn wait_gone(&mut self, t: &StopTarget, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.is_gone(t) {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Stopper for SystemStopper {
    fn stop(&mut self, t: &StopTarget, force: bool) -> StopReport {
        let start = Instant::now();
        let who = format!("{} (pid {})", t.name, t.pid);
        let done = |outcome: StopOutcome, message: String, port_freed: Option<bool>| StopReport {
            pid: t.pid,
            name: t.name.clone(),
            outcome,
            message,
            elapsed_ms: start.elapsed().as_millis() as u64,
            port_freed,
        };
        if let Some(reason) = t.refusal.clone().or_else(|| refusal(t.pid, &t.name)) {
            return done(
                StopOutcome::Refused,
                format!("not stopping {who}: {reason}"),
                None,
            );
        }
        if self.sys.is_none() {
            return done(
                StopOutcome::Failed,
                format!("cannot stop {who}: the process list cannot be read here"),
                None,
            );
        }
        // The guard against pid reuse, right before signalling.
        match self.start_time(t.pid) {
            None => {
                return done(
                    StopOutcome::AlreadyGone,
                    format!("{who} had already exited"),
                    self.port_free(t),
                );
            }
            Some(st) if st != t.start_time => {
                return done(
                    StopOutcome::PidReused,
                    format!(
                        "pid {} now belongs to another process (it started at a different \
                         time): not signalled",
                        t.pid
                    ),
                    None,
                );
            }
            Some(_) => {}
        }
        if let Some(port) = t.port {
            match self.source.snapshot() {
                Ok(snap) if holders_on(&snap, port, None).iter().any(|h| h.pid == t.pid) => {}
                Ok(_) => {
                    return done(
                        StopOutcome::NoLongerHoldsPort,
                        format!("{who} no longer holds port {port}: not signalled"),
                        None,
                    );
                }
                Err(e) => {
                    return done(
                        StopOutcome::Failed,
                        format!(
                            "cannot confirm that {who} still holds port {port} ({e}): not \
                             signalled"
                        ),
                        None,
                    );
                }
            }
        }
        let polite = match self.signal(t.pid, force) {
            Ok(polite) => polite,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                let user = t.user.as_deref().unwrap_or("another user");
                let cmd = match t.port {
                    Some(p) => format!("portwise stop --port {p}"),
                    None => format!("portwise stop --pid {}", t.pid),
                };
                return done(
                    StopOutcome::PermissionDenied,
                    format!(
                        "permission denied: {who} runs as {user}; run elevated: {}",
                        elevated_hint(&cmd)
                    ),
                    None,
                );
            }
            Err(e) => {
                if self.is_gone(t) {
                    return done(
                        StopOutcome::AlreadyGone,
                        format!("{who} had already exited"),
                        self.port_free(t),
                    );
                }
                return done(
                    StopOutcome::Failed,
                    format!("cannot signal {who}: {e}"),
                    None,
                );
            }
        };
        let limit = if polite { self.grace } else { KILL_WAIT };
        if !self.wait_gone(t, limit) {
            let message = if polite {
                format!(
                    "{who} is still running {} s after SIGTERM; `portwise stop --pid {} --force` \
                     kills it at once",
                    limit.as_secs_f64(),
                    t.pid
                )
            } else {
                format!("{who} is still running after being killed (it may be stuck in the kernel)")
            };
            return done(StopOutcome::StillRunning, message, None);
        }
        let secs = start.elapsed().as_secs_f64();
        let (outcome, mut message) = match (polite, force) {
            (true, _) => (
                StopOutcome::Terminated,
                format!("stopped {who} with SIGTERM after {secs:.1} s"),
            ),
            (false, true) => (StopOutcome::Killed, format!("killed {who} at once")),
            (false, false) => (
                StopOutcome::Killed,
                format!("terminated {who} at once: this OS has no polite stop signal for it"),
            ),
        };
        let freed = self.port_free(t);
        if let (Some(port), Some(free)) = (t.port, freed) {
            message.push_str(&if free {
                format!("; port {port} is free of holders now")
            } else {
                format!("; port {port} is still held by another process")
            });
        }
        done(outcome, message, freed)
    }
}

impl SystemStopper {
    /// Whether nothing holds the target's port any more (a fresh snapshot).
    fn port_free(&mut self, t: &StopTarget) -> Option<bool> {
        let port = t.port?;
        let snap = self.source.snapshot().ok()?;
        Some(holders_on(&snap, port, None).is_empty())
    }
}
