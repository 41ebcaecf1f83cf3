//! Desktop notifications for watched ports: what to say and when (pure,
//! tested with a fake notifier), and how it reaches the desktop.
//!
//! - [`WatchedPort`]: a port and protocol the user asked to watch (the
//!   window keeps the list in its persisted settings).
//! - [`status_of`]: what one snapshot (plus a test bind when nothing live
//!   holds the port) says about a watched port: bindable, taken (by whom),
//!   or busy (TIME_WAIT, closing connections).
//! - [`PortWatcher`]: remembers each watched port's last status and turns
//!   changes into [`Note`]s: "became bindable", "was taken by NAME (pid)".
//!   The first look at a port only records it.
//! - [`Notifier`]: where notes go. [`Desktop`] sends them to the OS from a
//!   worker thread ([`crate::platform::notify::show`]); [`Recording`]
//!   keeps them (tests); [`Silent`] drops them.
//!
//! egui-free: the window calls it with its snapshots and forwards notes.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::bind::diagnose::is_orphaned_close;
use crate::sockets::{Proto, Snapshot, SocketEntry};

/// How many ports may be watched at once.
pub const MAX_WATCHED: usize = 32;

/// One notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub summary: String,
    pub body: String,
}

/// A port the user watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WatchedPort {
    pub port: u16,
    pub proto: Proto,
}

impl WatchedPort {
    /// "TCP 8080".
    pub fn label(&self) -> String {
        format!("{} {}", self.proto.as_str().to_uppercase(), self.port)
    }
}

/// What a snapshot says about a watched port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortStatus {
    /// Nothing live holds it and a test bind of the wildcard succeeded.
    Bindable,
    /// Live sockets use it: `by` names their processes ("python3 (pid
    /// 42, user alice)"), or the uid of a hidden one.
    Taken { by: String },
    /// Nothing live holds it, yet a bind fails: `why` says what is left
    /// (TIME_WAIT, closing connections) or what the OS answered.
    Busy { why: String },
}

/// Who holds `s`, for a notification.
fn holder_text(s: &SocketEntry) -> String {
    if s.processes.is_empty() {
        return match s.uid {
            Some(uid) => format!("a process of uid {uid} this user cannot see"),
            None => "a process this user cannot see".into(),
        };
    }
    s.processes
        .iter()
        .map(|p| match &p.user {
            Some(u) => format!("{} (pid {}, user {u})", p.name, p.pid),
            None => format!("{} (pid {})", p.name, p.pid),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The status of `w` in `snap`. `bindable` is asked only when no live
/// socket holds the port (a real test bind in the window).
pub fn status_of(
    w: &WatchedPort,
    snap: &Snapshot,
    bindable: &mut dyn FnMut(&WatchedPort) -> Result<(), String>,
) -> PortStatus {
    let on = snap.on_port(w.proto, w.port);
    let live: Vec<&SocketEntry> = on
        .iter()
        .filter(|s| !s.is_kernel_owned() && !is_orphaned_close(s))
        .collect();
    // Listeners first: they are what a server restart meets.
    let first = live
        .iter()
        .find(|s| s.is_listening())
        .or_else(|| live.first());
    if let Some(s) = first {
        let mut by = holder_text(s);
        let others: Vec<String> = live
            .iter()
            .map(|x| holder_text(x))
            .filter(|t| *t != by)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !others.is_empty() {
            by.push_str(&format!(" and {}", others.join(", ")));
        }
        return PortStatus::Taken { by };
    }
    match bindable(w) {
        Ok(()) => PortStatus::Bindable,
        Err(e) => {
            let tw = on.iter().filter(|s| s.is_kernel_owned()).count();
            let orphans = on.iter().filter(|s| is_orphaned_close(s)).count();
            let why = if tw > 0 {
                format!("{tw} connection(s) in TIME_WAIT")
            } else if orphans > 0 {
                format!("{orphans} closed connection(s) the kernel is still finishing")
            } else {
                e
            };
            PortStatus::Busy { why }
        }
    }
}

/// Remembers each watched port's last status; [`PortWatcher::observe`]
/// turns changes into notes.
#[derive(Clone, Debug, Default)]
pub struct PortWatcher {
    seen: Vec<(WatchedPort, PortStatus)>,
}

impl PortWatcher {
    /// The last status of `w`, if it was looked at.
    pub fn status(&self, w: &WatchedPort) -> Option<&PortStatus> {
        self.seen.iter().find(|(x, _)| x == w).map(|(_, s)| s)
    }

    /// Look at every watched port in `snap`: a port that became bindable,
    /// or was taken, gives a note. A port seen for the first time gives
    /// none (the user just added it and sees its status); ports no longer
    /// watched are forgotten.
    pub fn observe(
        &mut self,
        watched: &[WatchedPort],
        snap: &Snapshot,
        bindable: &mut dyn FnMut(&WatchedPort) -> Result<(), String>,
    ) -> Vec<Note> {
        let mut notes = Vec::new();
        let mut next = Vec::with_capacity(watched.len());
        for w in watched {
            let now = status_of(w, snap, bindable);
            if let Some(before) = self.status(w)
                && let Some(n) = change_note(w, before, &now)
            {
                notes.push(n);
            }
            next.push((*w, now));
        }
        self.seen = next;
        notes
    }
}

/// The note for a change from `before` to `now`, if it is one to tell.
fn change_note(w: &WatchedPort, before: &PortStatus, now: &PortStatus) -> Option<Note> {
    match (before, now) {
        (PortStatus::Bindable, PortStatus::Bindable) => None,
        (_, PortStatus::Bindable) => {
            let was = match before {
                PortStatus::Taken { by } => format!(" (it was held by {by})"),
                PortStatus::Busy { why } => format!(" (it was blocked: {why})"),
                PortStatus::Bindable => String::new(),
            };
            Some(Note {
                summary: format!("Port {} is free", w.port),
                body: format!("{} binds now{was}.", w.label()),
            })
        }
        (PortStatus::Taken { .. }, PortStatus::Taken { .. }) => None,
        (_, PortStatus::Taken { by }) => Some(Note {
            summary: format!("Port {} was taken", w.port),
            body: format!("{} is now held by {by}.", w.label()),
        }),
        (_, PortStatus::Busy { .. }) => None,
    }
}

/// Where notes go. Must not block: the window calls it on its UI thread.
pub trait Notifier: Send {
    fn notify(&mut self, note: Note);
    /// Why notes could not be shown, once: the first failure since the
    /// last call (the window says it in a toast). `None` when all went out.
    fn take_failure(&mut self) -> Option<String> {
        None
    }
}

/// Drops every note.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Notifier for Silent {
    fn notify(&mut self, _note: Note) {}
}

/// Keeps every note (tests read them back).
#[derive(Clone, Debug, Default)]
pub struct Recording(pub Arc<Mutex<Vec<Note>>>);

impl Recording {
    pub fn notes(&self) -> Vec<Note> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Notifier for Recording {
    fn notify(&mut self, note: Note) {
        if let Ok(mut v) = self.0.lock() {
            v.push(note);
        }
    }
}

/// The desktop's notifications, shown from one worker thread
/// ("portwise-notify", started on first use) so a slow or missing
/// notification server never holds up the window. The first failure (a
/// desktop without a notification server is common) goes to stderr and to
/// [`Notifier::take_failure`], and wakes the window so it can say so.
#[derive(Default)]
pub struct Desktop {
    tx: Option<Sender<Note>>,
    failed: bool,
    /// The worker's first failure, until taken.
    failure: Arc<Mutex<Option<String>>>,
    /// Called after a failure is stored (the window's repaint).
    wake: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Desktop {
    /// A notifier that calls `wake` when a failure is there to be taken.
    pub fn with_wake(wake: Arc<dyn Fn() + Send + Sync>) -> Desktop {
        Desktop {
            wake: Some(wake),
            ..Desktop::default()
        }
    }

    fn fail(&mut self, why: String) {
        eprintln!("portwise: {why}");
        if let Ok(mut f) = self.failure.lock() {
            *f = Some(why);
        }
        self.failed = true;
    }
}

impl Notifier for Desktop {
    fn notify(&mut self, note: Note) {
        if self.failed {
            return;
        }
        if self.tx.is_none() {
            let (tx, rx) = channel::<Note>();
            let failure = Arc::clone(&self.failure);
            let wake = self.wake.clone();
            let spawned = std::thread::Builder::new()
                .name("portwise-notify".into())
                .spawn(move || {
                    let mut told = false;
                    for n in rx {
                        // Shown by the desktop, which may not expect
                        // control characters: a process names itself.
                        let summary = crate::util::text::escape_control(&n.summary);
                        let body = crate::util::text::escape_control_keep_lines(&n.body);
                        if let Err(e) = crate::platform::notify::show(&summary, &body)
                            && !told
                        {
                            let why = format!("cannot show a desktop notification: {e}");
                            eprintln!("portwise: {why}");
                            if let Ok(mut f) = failure.lock() {
                                *f = Some(why);
                            }
                            if let Some(w) = &wake {
                                w();
                            }
                            told = true;
                        }
                    }
                });
            match spawned {
                Ok(_) => self.tx = Some(tx),
                Err(e) => {
                    self.fail(format!("cannot start the notification thread: {e}"));
                    return;
                }
            }
        }
        if let Some(tx) = &self.tx
            && tx.send(note).is_err()
        {
            self.fail("the notification thread has stopped".into());
        }
    }

    fn take_failure(&mut self) -> Option<String> {
        self.failure.lock().ok()?.take()
    }
}

#[cfg(test)]
mod tests;
