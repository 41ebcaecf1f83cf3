//! The real stopper. The process is identified exactly (pid and the OS's
//! start stamp, see `platform::process_identity`) and signalled only if it
//! is still that process: on Linux through a pidfd (the check and the
//! signal cannot be split by a pid reuse), on Windows through one process
//! handle, on macOS by a check right before kill(2).

use std::time::{Duration, Instant};

use super::{StopOutcome, StopReport, StopTarget, Stopper, elevated_hint, refusal};
use crate::bind::holders_on;
use crate::platform::os;
use crate::platform::process_identity::{Liveness, Sent, SignalError};
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
    source: Box<dyn SocketSource>,
    grace: Duration,
}

impl SystemStopper {
    pub fn new(source: Box<dyn SocketSource>) -> SystemStopper {
        SystemStopper {
            source,
            grace: GRACE,
        }
    }

    /// A different wait after SIGTERM (tests; the default is 5 s).
    pub fn with_grace(mut self, grace: Duration) -> SystemStopper {
        self.grace = grace;
        self
    }

    /// Whether the planned process no longer runs: exited, a zombie (only
    /// its parent's wait() is missing), or its pid taken by another.
    fn is_gone(&mut self, t: &StopTarget) -> bool {
        os::process::liveness(t.pid)
            != Liveness::Running {
                start: t.start_time,
            }
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
        // The guard against pid reuse: the exact start stamp, checked again
        // inside `signal_exact` where the OS can make it atomic.
        match os::process::liveness(t.pid) {
            Liveness::Running { start } if start == t.start_time => {}
            Liveness::Zombie { .. } | Liveness::Gone => {
                return done(
                    StopOutcome::AlreadyGone,
                    format!("{who} had already exited"),
                    self.port_free(t),
                );
            }
            Liveness::Running { .. } | Liveness::KernelThread => {
                return done(StopOutcome::PidReused, reused(t.pid), None);
            }
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
        let polite = match os::process::signal_exact(t.pid, t.start_time, force) {
            Ok(Sent::Polite) => true,
            Ok(Sent::Killed) => false,
            Err(SignalError::Reused) => {
                return done(StopOutcome::PidReused, reused(t.pid), None);
            }
            Err(SignalError::Gone) => {
                return done(
                    StopOutcome::AlreadyGone,
                    format!("{who} had already exited"),
                    self.port_free(t),
                );
            }
            Err(SignalError::Io(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
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
            Err(SignalError::Io(e)) => {
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

/// The report for a pid that now belongs to another process.
fn reused(pid: u32) -> String {
    format!(
        "pid {pid} now belongs to another process (it started at a different time): not \
         signalled"
    )
}

impl SystemStopper {
    /// Whether nothing holds the target's port any more (a fresh snapshot).
    fn port_free(&mut self, t: &StopTarget) -> Option<bool> {
        let port = t.port?;
        let snap = self.source.snapshot().ok()?;
        Some(holders_on(&snap, port, None).is_empty())
    }
}
