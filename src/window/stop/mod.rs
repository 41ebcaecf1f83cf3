//! The "Stop process…" confirmation. The plan and the stopping itself are
//! the engine's (`crate::stop`: [`StopService`], whose policy for a table
//! row is [`crate::stop::plan_row`]); both run on background tasks, and
//! planning never waits for a stop under way. [`StopMsg`] is this
//! feature's message, [`update`] handles it.

pub mod view;

use crate::sockets::Proto;
pub use crate::stop::{StopOutcome, StopReport, StopService, StopTarget};
use crate::window::ctx::{Ctx, Effect, ToastKind};

/// The confirmation dialog: what would be stopped, and what will not be.
/// After a polite stop that did not end a process, the same dialog comes
/// back for it ([`StopDialog::still_running`]) and offers Kill.
#[derive(Clone, Debug, PartialEq)]
pub struct StopDialog {
    pub targets: Vec<StopTarget>,
    /// Set when `targets` were asked to stop (SIGTERM where the OS has
    /// it) and were still running when the wait ran out: how long the
    /// stop waited (ms). The dialog then says so and offers only Kill.
    pub still_running: Option<u64>,
}

impl StopDialog {
    /// The targets portwise may stop (the engine refuses pid 1, itself,
    /// the kernel, ...).
    pub fn stoppable(&self) -> Vec<StopTarget> {
        self.targets
            .iter()
            .filter(|t| t.refusal.is_none())
            .cloned()
            .collect()
    }
}

/// What the stop confirmation can ask for, and what its tasks bring back.
#[derive(Clone, Debug)]
pub enum StopMsg {
    /// Plan stopping these processes, seen holding `port`.
    Plan {
        port: u16,
        pids: Vec<u32>,
    },
    /// The plan arrived: show the confirmation.
    Planned(Result<Vec<StopTarget>, String>),
    Confirm {
        force: bool,
    },
    Cancel,
    /// The stops finished: each target with its report. `force`: they were
    /// killed at once rather than asked to stop.
    Finished {
        force: bool,
        results: Vec<(StopTarget, StopReport)>,
    },
}

/// Handle one message; `dialog` is the confirmation on screen.
pub fn update(dialog: &mut Option<StopDialog>, msg: StopMsg, ctx: &mut Ctx<'_, StopMsg>) {
    match msg {
        StopMsg::Plan { port, pids } => {
            // Planning reads processes (and runs systemctl): a worker's
            // job. It needs only the port's sockets, not a copy of all.
            let s = ctx.snapshot;
            let on_port = [Proto::Tcp, Proto::Udp]
                .into_iter()
                .flat_map(|p| s.on_port(p, port))
                .cloned()
                .collect();
            let snapshot = crate::window::sockets::with_sockets(s, on_port);
            let service = ctx.workers.stop.clone();
            ctx.spawn(
                "portwise-plan",
                move || service.plan(port, &pids, &snapshot),
                StopMsg::Planned,
            );
        }
        StopMsg::Planned(planned) => match planned {
            Ok(targets) if !targets.is_empty() => {
                *dialog = Some(StopDialog {
                    targets,
                    still_running: None,
                })
            }
            Ok(_) => ctx.toast(ToastKind::Error, "Nothing to stop: the process is gone"),
            Err(e) => ctx.toast(ToastKind::Error, format!("Cannot stop: {e}")),
        },
        StopMsg::Confirm { force } => {
            let Some(d) = dialog.take() else {
                return;
            };
            let targets = d.stoppable();
            if targets.is_empty() {
                return;
            }
            // A polite stop waits up to 5 s: the window keeps drawing.
            let names: Vec<String> = targets
                .iter()
                .map(|t| format!("{} ({})", t.name, t.pid))
                .collect();
            let service = ctx.workers.stop.clone();
            if ctx.spawn(
                "portwise-stop",
                move || {
                    targets
                        .into_iter()
                        .map(|t| {
                            let r = service.stop(&t, force);
                            (t, r)
                        })
                        .collect()
                },
                move |results| StopMsg::Finished { force, results },
            ) {
                let verb = if force { "Killing" } else { "Stopping" };
                ctx.toast(ToastKind::Info, format!("{verb} {}…", names.join(", ")));
            }
        }
        StopMsg::Cancel => *dialog = None,
        StopMsg::Finished { force, results } => {
            // Say how it went, and refresh so the table shows it.
            let mut survivors = Vec::new();
            let mut waited_ms = 0;
            for (t, r) in results {
                if r.outcome == StopOutcome::StillRunning && !force {
                    // Asked politely and still there: the toast says so
                    // in the window's words (the engine's message names
                    // the CLI's flag), and the dialog comes back with
                    // Kill for this very process (the same start time:
                    // the engine refuses a pid that was reused).
                    ctx.toast(ToastKind::Error, still_running_text(&t, r.elapsed_ms));
                    waited_ms = waited_ms.max(r.elapsed_ms);
                    survivors.push(t);
                    continue;
                }
                if r.outcome.stopped() {
                    // An earlier "still running" toast for it is now wrong.
                    ctx.toasts.dismiss_starting_with(&still_running_prefix(&t));
                }
                let kind = if r.outcome.stopped() {
                    ToastKind::Success
                } else {
                    ToastKind::Error
                };
                let text = match r.outcome {
                    // The engine's words name the CLI command to run
                    // elevated; the window says how to do it here.
                    StopOutcome::PermissionDenied => format!(
                        "Permission denied: {} (pid {}) runs as {}; start portwise elevated \
                         (root, or as Administrator) to stop it",
                        t.name,
                        t.pid,
                        t.user.as_deref().unwrap_or("another user")
                    ),
                    _ => r.message,
                };
                ctx.toast(kind, text);
            }
            if !survivors.is_empty() {
                *dialog = Some(StopDialog {
                    targets: survivors,
                    still_running: Some(waited_ms),
                });
            }
            ctx.effects.push(Effect::RefreshNow);
        }
    }
}

/// "python3 (pid 4242) is still running 5 s after it was asked to stop":
/// the toast for a process that outlived a polite stop.
pub fn still_running_text(t: &StopTarget, waited_ms: u64) -> String {
    format!(
        "{} {} after it was asked to stop: Kill ends it at once",
        still_running_prefix(t),
        waited_text(waited_ms)
    )
}

/// How [`still_running_text`] starts, for `t` (the same process: pid and
/// name).
fn still_running_prefix(t: &StopTarget) -> String {
    format!("{} (pid {}) is still running", t.name, t.pid)
}

/// "5 s", "0.3 s".
pub fn waited_text(ms: u64) -> String {
    if ms >= 1000 {
        // To the nearest second: a 5 s wait that took 5.04 s is "5 s".
        format!("{} s", (ms + 500) / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests;
