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
#[derive(Clone, Debug, PartialEq)]
pub struct StopDialog {
    pub targets: Vec<StopTarget>,
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
    /// The stops finished: one report each.
    Finished(Vec<StopReport>),
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
            Ok(targets) if !targets.is_empty() => *dialog = Some(StopDialog { targets }),
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
                move || targets.iter().map(|t| service.stop(t, force)).collect(),
                StopMsg::Finished,
            ) {
                ctx.toast(ToastKind::Info, format!("Stopping {}…", names.join(", ")));
            }
        }
        StopMsg::Cancel => *dialog = None,
        StopMsg::Finished(reports) => {
            // Say how it went, and refresh so the table shows it.
            for r in reports {
                let kind = if r.outcome.stopped() {
                    ToastKind::Success
                } else {
                    ToastKind::Error
                };
                ctx.toast(kind, r.message);
            }
            ctx.effects.push(Effect::RefreshNow);
        }
    }
}

#[cfg(test)]
mod tests;
