//! Planning and stopping for a front end that runs them on worker threads
//! (the window): [`StopService`], and [`EngineStop`], the engine's
//! [`plan_port`] / [`plan_pid`] with a [`Stopper`]. The policy for a table
//! row lives here, not in the window: by port first, narrowed to the row's
//! processes.

use std::sync::Mutex;

use super::{StopOutcome, StopReport, StopTarget, Stopper, SystemStopper, plan_pid, plan_port};
use crate::sockets::Snapshot;

/// Planning and stopping processes. Both run on worker threads, planning
/// possibly while a stop is under way: `&self`, so planning never waits
/// for a stop to finish.
pub trait StopService: Send + Sync {
    /// What stopping these processes, seen holding `port` in `snapshot`,
    /// would do: pid, name, user, command line, caveats, refusals.
    fn plan(&self, port: u16, pids: &[u32], snapshot: &Snapshot)
    -> Result<Vec<StopTarget>, String>;
    /// Stop one target; may block for a few seconds (run it off the UI
    /// thread).
    fn stop(&self, target: &StopTarget, force: bool) -> StopReport;
}

/// Planning with [`plan_port`] / [`plan_pid`], stopping with a [`Stopper`]
/// (the real [`SystemStopper`], or a fake in tests).
pub struct EngineStop {
    /// Locked only while stopping (one stop at a time).
    stopper: Mutex<Box<dyn Stopper>>,
}

impl EngineStop {
    pub fn new(stopper: Box<dyn Stopper>) -> EngineStop {
        EngineStop {
            stopper: Mutex::new(stopper),
        }
    }

    /// Stop real processes. The stopper takes its own snapshots for the
    /// "still holds the port" check right before signalling.
    pub fn system() -> EngineStop {
        EngineStop::new(Box::new(SystemStopper::new(Box::new(
            crate::sockets::SystemSource::new(),
        ))))
    }
}

/// The targets for stopping one row: the processes `pids`, seen holding
/// `port`. By port first: those targets carry the port, so the stopper
/// checks the process still holds it, and the caveats know the socket
/// (docker-proxy, systemd). Narrowed to this row's processes; by pid when
/// the port plan has none of them.
pub fn plan_row(port: u16, pids: &[u32], snapshot: &Snapshot) -> Result<Vec<StopTarget>, String> {
    if let Ok(all) = plan_port(port, snapshot) {
        let mine: Vec<StopTarget> = all.into_iter().filter(|t| pids.contains(&t.pid)).collect();
        if !mine.is_empty() {
            return Ok(mine);
        }
    }
    let mut out = Vec::new();
    for pid in pids {
        out.extend(plan_pid(*pid).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

impl StopService for EngineStop {
    fn plan(
        &self,
        port: u16,
        pids: &[u32],
        snapshot: &Snapshot,
    ) -> Result<Vec<StopTarget>, String> {
        plan_row(port, pids, snapshot)
    }

    fn stop(&self, target: &StopTarget, force: bool) -> StopReport {
        match self.stopper.lock() {
            Ok(mut s) => s.stop(target, force),
            Err(_) => StopReport {
                pid: target.pid,
                name: target.name.clone(),
                outcome: StopOutcome::Failed,
                message: "the stop service failed earlier".into(),
                elapsed_ms: 0,
                port_freed: None,
            },
        }
    }
}
