//! State of the Free port view: the options, the last grab, and the history
//! of ports grabbed in this session with their status in the latest
//! snapshot. Picking itself is the engine's (`crate::ports`, the same
//! `Picker` that `portwise free` runs); it runs on a background task,
//! because reading the OS facts runs `netsh` on Windows and a reservation
//! waits for its TIME_WAIT socket. [`FreeAction`] is this view's message,
//! [`update`] handles it.

pub mod run;
pub mod view;

use crate::bind::{PortUse, port_use};
use crate::ports::{
    FreeError, FreeRequest, FreeResult, PortFacts, PortRange, ProtoChoice, Strategy,
};
use crate::sockets::{Proto, Snapshot};
use crate::window::ctx::{Ctx, Effect, ToastKind};
use crate::window::tasks::Pending;

/// What the Free port view can ask for, and what its tasks bring back.
#[derive(Clone, Debug)]
pub enum FreeAction {
    SetProto(ProtoChoice),
    SetStrategy(StrategyKind),
    SetRangeFrom(String),
    SetRangeTo(String),
    SetReserve(bool),
    /// The "How many" field was edited (checked, never clamped).
    SetCount(String),
    Grab,
    /// Copy one port of the history.
    Copy(u16),
    ClearHistory,
    /// Copy `PORT=41234`.
    CopyPortEnv(u16),
    /// The "Run a command with this port" field was edited.
    SetRunCommand(String),
    /// Run the typed command with the last grab's first port.
    Run,
    /// Stop the program run from the view.
    StopRun,
    /// A grab finished on its worker.
    Grabbed(GrabOutcome),
    /// The OS's port facts arrived.
    FactsRead(PortFacts),
}

/// At most this many ports per grab in the window (the CLI allows more).
pub const COUNT_MAX: usize = 100;
/// The history keeps the newest this many ports.
pub const HISTORY_MAX: usize = 50;

/// Which strategy the radio buttons select.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StrategyKind {
    /// Outside the ephemeral range (the default).
    #[default]
    OutsideEphemeral,
    /// Bind port 0 and let the OS assign it.
    Os,
    /// Within the range typed in the two fields.
    Range,
}

/// A port in the history, and what the latest snapshot says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Grabbed {
    pub port: u16,
    pub proto: ProtoChoice,
    /// The app clock's time of the grab (Unix ms).
    pub grabbed_at_ms: u64,
    /// Until when the TIME_WAIT reservation lasts (wall clock), if reserved.
    pub reserved_until_unix_ms: Option<u64>,
    /// `None` until a snapshot arrived after the grab.
    pub usage: Option<PortUse>,
    /// `taken_at_unix_ms` of the snapshot `usage` comes from.
    pub seen_at_ms: u64,
}

impl Grabbed {
    fn proto_filter(&self) -> Option<Proto> {
        match self.proto {
            ProtoChoice::Tcp => Some(Proto::Tcp),
            ProtoChoice::Udp => Some(Proto::Udp),
            ProtoChoice::Both => None,
        }
    }
}

/// What a finished grab brings back from the worker thread.
#[derive(Clone, Debug)]
pub struct GrabOutcome {
    pub request: FreeRequest,
    pub result: Result<FreeResult, FreeError>,
    /// The OS facts the pick used (the ephemeral range shown in the view).
    pub facts: PortFacts,
}

/// The Free port view's state.
#[derive(Clone, Debug)]
pub struct FreePortState {
    pub proto: ProtoChoice,
    pub strategy: StrategyKind,
    pub range_from: String,
    pub range_to: String,
    pub reserve: bool,
    /// The "How many" field as typed ([`FreePortState::count`] checks it).
    pub count_text: String,
    /// A grab on its worker.
    pub grab: Pending<()>,
    /// The ports of the last grab.
    pub last: Vec<u16>,
    /// Why the last grab gave nothing.
    pub error: Option<String>,
    /// What the engine said beside the ports (unread range, reservation).
    pub notes: Vec<String>,
    /// The OS facts: read when the view first shows, then those of the
    /// last grab.
    pub facts: Pending<PortFacts>,
    /// Newest first.
    pub history: Vec<Grabbed>,
    /// The "Run a command with this port" field.
    pub run_command: String,
    /// Why the command could not start (a bad line, no port yet).
    pub run_error: Option<String>,
    /// The command run last, running or finished.
    pub run: Option<run::RunView>,
}

impl Default for FreePortState {
    fn default() -> Self {
        FreePortState {
            proto: ProtoChoice::Tcp,
            strategy: StrategyKind::OutsideEphemeral,
            range_from: "20000".into(),
            range_to: "29999".into(),
            reserve: false,
            count_text: "1".into(),
            grab: Pending::NotAsked,
            last: Vec::new(),
            error: None,
            notes: Vec::new(),
            facts: Pending::NotAsked,
            history: Vec::new(),
            run_command: String::new(),
            run_error: None,
            run: None,
        }
    }
}

/// A port typed in a range field: 1-65535, or a message naming the field
/// and the value.
fn range_field(name: &str, text: &str) -> Result<u16, String> {
    let t = text.trim();
    match t.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ if t.is_empty() => Err(format!("{name}: enter a port from 1 to 65535")),
        _ => Err(format!("{name}: '{t}' is not a port from 1 to 65535")),
    }
}

/// The "How many" field: 1 to [`COUNT_MAX`], or a message saying what is
/// wrong with the typed text (never a silent clamp: 0 and 5000 are
/// refused, not turned into 1 and 100).
pub fn parse_count(text: &str) -> Result<usize, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("How many: enter a number from 1 to {COUNT_MAX}"));
    }
    match t.parse::<u64>() {
        Ok(n) if (1..=COUNT_MAX as u64).contains(&n) => Ok(n as usize),
        Ok(0) => Err(format!("How many: at least 1 (up to {COUNT_MAX})")),
        Ok(n) => Err(format!(
            "How many: {n} is more than the window grabs at once (at most {COUNT_MAX})"
        )),
        // Digits too many for a u64 are still a number, just far too big.
        Err(_) if t.chars().all(|c| c.is_ascii_digit()) => Err(format!(
            "How many: {t} is more than the window grabs at once (at most {COUNT_MAX})"
        )),
        Err(_) => Err(format!(
            "How many: '{t}' is not a number (enter 1 to {COUNT_MAX})"
        )),
    }
}

impl FreePortState {
    /// How many ports to grab, or why the field's text is not a count.
    pub fn count(&self) -> Result<usize, String> {
        parse_count(&self.count_text)
    }

    /// The custom range, or why it is not one.
    pub fn range(&self) -> Result<PortRange, String> {
        let lo = range_field("From", &self.range_from)?;
        let hi = range_field("To", &self.range_to)?;
        PortRange::new(lo, hi).ok_or_else(|| format!("From ({lo}) is above To ({hi})"))
    }

    /// Whether the reservation can apply: TIME_WAIT is a TCP state.
    pub fn reserve_applies(&self) -> bool {
        self.proto != ProtoChoice::Udp
    }

    /// The engine request the options describe, or what is wrong with them.
    pub fn request(&self) -> Result<FreeRequest, String> {
        let strategy = match self.strategy {
            StrategyKind::OutsideEphemeral => Strategy::OutsideEphemeral,
            StrategyKind::Os => Strategy::Os,
            StrategyKind::Range => Strategy::Range(self.range()?),
        };
        let count = self.count()?;
        Ok(FreeRequest {
            strategy,
            count,
            proto: self.proto,
            reserve: self.reserve && self.reserve_applies(),
        })
    }

    /// A grab is running.
    pub fn busy(&self) -> bool {
        self.grab.is_running()
    }

    /// Facts read for the view (a grab's own facts replace them).
    pub fn facts_read(&mut self, facts: PortFacts) {
        if self.facts.done().is_none() {
            self.facts = Pending::Done(facts);
        }
    }

    /// Start a grab: the request for the worker, or `None` (busy, or the
    /// options are invalid: the view already shows why).
    pub fn start(&mut self) -> Option<FreeRequest> {
        if self.busy() {
            return None;
        }
        let req = self.request().ok()?;
        self.grab = Pending::Running;
        self.error = None;
        Some(req)
    }

    /// Take in a finished grab. Returns the ports picked (empty on error).
    pub fn finished(&mut self, outcome: GrabOutcome, now_ms: u64) -> Vec<u16> {
        self.grab = Pending::Done(());
        self.facts = Pending::Done(outcome.facts);
        match outcome.result {
            Ok(r) => {
                self.error = None;
                self.notes = r.notes;
                self.last = r.ports.iter().map(|p| p.port).collect();
                for p in r.ports.iter().rev() {
                    self.history.insert(
                        0,
                        Grabbed {
                            port: p.port,
                            proto: p.proto,
                            grabbed_at_ms: now_ms,
                            reserved_until_unix_ms: p.reserved_until_unix_ms,
                            usage: None,
                            seen_at_ms: 0,
                        },
                    );
                }
                self.history.truncate(HISTORY_MAX);
                self.last.clone()
            }
            Err(e) => {
                self.error = Some(e.to_string());
                self.notes.clear();
                Vec::new()
            }
        }
    }

    /// The port a command would run with: the last grab's first.
    pub fn run_port(&self) -> Option<u16> {
        self.last.first().copied()
    }

    /// A program started from the view is still running.
    pub fn running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.is_running())
    }

    /// Update every history entry's status from a new snapshot.
    pub fn on_snapshot(&mut self, snap: &Snapshot) {
        for g in &mut self.history {
            g.usage = Some(port_use(snap, g.port, g.proto_filter()));
            g.seen_at_ms = snap.taken_at_unix_ms;
        }
    }
}

/// Handle one message of the view.
pub fn update(f: &mut FreePortState, a: FreeAction, ctx: &mut Ctx<'_, FreeAction>) {
    match a {
        FreeAction::SetProto(p) => f.proto = p,
        FreeAction::SetStrategy(k) => f.strategy = k,
        FreeAction::SetRangeFrom(t) => f.range_from = t,
        FreeAction::SetRangeTo(t) => f.range_to = t,
        FreeAction::SetReserve(on) => f.reserve = on,
        FreeAction::SetCount(t) => f.count_text = t,
        FreeAction::Grab => {
            if let Some(req) = f.start() {
                // Pick as `portwise free` does: read the OS facts, then pick.
                let started = ctx.spawn(
                    "portwise-free",
                    move || {
                        let facts = PortFacts::read(req.proto);
                        let result = crate::ports::Picker::new(facts.clone()).run(&req);
                        GrabOutcome {
                            request: req,
                            result,
                            facts,
                        }
                    },
                    FreeAction::Grabbed,
                );
                if !started {
                    f.grab = Pending::NotAsked;
                }
            }
        }
        FreeAction::Copy(port) => ctx.copy(port.to_string(), format!("Copied {port}")),
        FreeAction::ClearHistory => f.history.clear(),
        FreeAction::CopyPortEnv(port) => {
            let text = run::port_env_text(port);
            ctx.copy(text.clone(), format!("Copied {text}"));
        }
        FreeAction::SetRunCommand(t) => {
            f.run_command = t;
            f.run_error = None;
        }
        FreeAction::Run => {
            if f.running() {
                return;
            }
            let Some(port) = f.run_port() else {
                f.run_error = Some("Grab a port first: the command runs with it".into());
                return;
            };
            let started = run::request(&f.run_command, port, f.proto).and_then(|req| {
                run::start(f.run_command.clone(), port, req, ctx.workers.wake.clone())
            });
            match started {
                Ok(r) => {
                    f.run_error = None;
                    f.run = Some(r);
                }
                Err(e) => f.run_error = Some(e),
            }
        }
        FreeAction::StopRun => {
            if let Some(r) = &f.run {
                r.handle.stop();
            }
        }
        FreeAction::Grabbed(outcome) => {
            let ports = f.finished(outcome, ctx.now_ms);
            if ports.is_empty() {
                if let Some(e) = f.error.clone() {
                    ctx.toast(ToastKind::Error, format!("No port: {e}"));
                }
                return;
            }
            ctx.copy(
                ports_text(&ports),
                format!("Copied {}", ports_notice(&ports)),
            );
            // The history's status comes from the next snapshot.
            ctx.effects.push(Effect::RefreshNow);
        }
        FreeAction::FactsRead(facts) => f.facts_read(facts),
    }
}

/// The view is on screen: read the OS's port facts the first time.
pub fn on_show(f: &mut FreePortState, ctx: &mut Ctx<'_, FreeAction>) {
    if f.facts.ask() {
        let proto = f.proto;
        ctx.spawn(
            "portwise-portfacts",
            move || PortFacts::read(proto),
            FreeAction::FactsRead,
        );
    }
}

/// The `portwise free` command that makes the same request.
pub fn cli_equivalent(req: &FreeRequest) -> String {
    let mut c = String::from("portwise free");
    if req.count != 1 {
        c.push_str(&format!(" --count {}", req.count));
    }
    if req.proto != ProtoChoice::Tcp {
        c.push_str(&format!(" --proto {}", req.proto));
    }
    match req.strategy {
        Strategy::OutsideEphemeral => {}
        Strategy::Os => c.push_str(" --os"),
        Strategy::Range(r) => c.push_str(&format!(" --range {}-{}", r.lo, r.hi)),
    }
    if req.reserve {
        c.push_str(" --reserve");
    }
    c
}

/// Ports as the clipboard gets them: "41234", or "41234 41235" (one shell
/// word each).
pub fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ports for a notice: "41234", or "3 ports: 41234, 41235, 41236".
pub fn ports_notice(ports: &[u16]) -> String {
    let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    match list.len() {
        1 => list[0].clone(),
        n => format!("{n} ports: {}", list.join(", ")),
    }
}

/// The TIME_WAIT time left that [`status_text`] counts down for a history
/// entry, when it shows one (so the view repaints once a second for it).
pub fn time_wait_left_ms(g: &Grabbed, now_ms: u64) -> Option<u64> {
    let u = g.usage.as_ref()?;
    if !u.holders.is_empty() || u.hidden > 0 {
        return None;
    }
    let ms = u.time_wait?.longest_remaining_ms?;
    Some(ms.saturating_sub(now_ms.saturating_sub(g.seen_at_ms)))
}

/// A history entry's status in words, from the latest snapshot.
pub fn status_text(g: &Grabbed, now_ms: u64) -> String {
    let Some(u) = &g.usage else {
        return "not checked yet".into();
    };
    if !u.holders.is_empty() {
        let who: Vec<String> = u
            .holders
            .iter()
            .map(|h| format!("{} ({})", crate::util::text::escape_control(&h.name), h.pid))
            .collect();
        return format!("now held by {}", who.join(", "));
    }
    if u.hidden > 0 {
        return "now in use by a process this user cannot see".into();
    }
    if let Some(tw) = u.time_wait {
        let what = if g.reserved_until_unix_ms.is_some() {
            "reserved (TIME_WAIT)"
        } else {
            "in TIME_WAIT"
        };
        return match tw.longest_remaining_ms {
            Some(_) => {
                let left = time_wait_left_ms(g, now_ms).unwrap_or(0);
                format!("{what}, {} s left", left.div_ceil(1000))
            }
            None => what.to_string(),
        };
    }
    "still free".into()
}

#[cfg(test)]
mod tests;
