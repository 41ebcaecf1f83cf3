//! What every feature may read or ask for while it handles a message:
//! the time, the latest snapshot, toasts, background tasks, the shell's
//! [`Effect`]s, and the services workers use. A leaf: it names no feature
//! and no part of the shell, so features import it without loops. No egui.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::sockets::{NetnsSelection, Snapshot};
use crate::stop::StopService;
use crate::tuning::{Os, Sysctls};
use crate::window::tasks::Scoped;

/// Where the tuning view reads current values and the audit checks keys:
/// the running system, or fixed values in tests.
pub type SharedSysctls = Arc<dyn Sysctls + Send + Sync>;

/// The services background work uses (shared with worker threads).
#[derive(Clone)]
pub struct Workers {
    pub stop: Arc<dyn StopService>,
    pub sysctls: SharedSysctls,
    /// Asks the window for a frame (egui's `request_repaint`), from any
    /// thread: for watchers of long-running work, such as a program run
    /// from the Free port view, that report more than once.
    pub wake: crate::window::tasks::Wake,
}

/// What a feature's `update` gets: `M` is the feature's own message type.
pub struct Ctx<'a, M> {
    /// The clock's time for this frame (Unix ms).
    pub now_ms: u64,
    /// The sampler's latest snapshot.
    pub snapshot: &'a Snapshot,
    pub toasts: &'a mut Toasts,
    /// Work only the shell may do (clipboard, dialogs, the sampler).
    pub effects: &'a mut Vec<Effect>,
    pub tasks: Scoped<'a, M>,
    pub workers: &'a Workers,
}

impl<M: 'static> Ctx<'_, M> {
    /// Put `text` on the clipboard (through the app) and confirm with a
    /// toast, e.g. "Copied 41234".
    pub fn copy(&mut self, text: String, notice: impl Into<String>) {
        self.effects.push(Effect::CopyText(text));
        self.toasts.push(ToastKind::Info, notice, self.now_ms);
    }

    pub fn toast(&mut self, kind: ToastKind, text: impl Into<String>) {
        self.toasts.push(kind, text, self.now_ms);
    }

    /// Run `work` on a named thread; its result comes back as `into_msg`'s
    /// message. A thread that cannot start is said in a toast; returns
    /// whether it started.
    pub fn spawn<T: 'static>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
        into_msg: impl FnOnce(T) -> M + Send + 'static,
    ) -> bool {
        match self.tasks.spawn(name, work, into_msg) {
            Ok(()) => true,
            Err(e) => {
                self.toast(ToastKind::Error, e);
                false
            }
        }
    }
}

/// Work for `app.rs`: the things only the shell may do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    CopyText(String),
    RefreshNow,
    SetInterval(Duration),
    Pause,
    Resume,
    /// List these network namespaces from now on (the Sockets view's "All
    /// namespaces" toggle).
    SetNetns(NetnsSelection),
    /// Ask for a save path (suggested file name given), then export.
    Export {
        suggested_name: String,
    },
    /// Ask for a path to save the snippet to, then write it.
    SaveTuning {
        os: Os,
        file_name: String,
        text: String,
    },
    /// Ask for a sysctl file, then audit it.
    OpenAudit,
    /// Carry out `job` on a path typed in the fallback prompt.
    UsePath {
        job: FileJob,
        path: PathBuf,
    },
    /// Show a desktop notification (watched ports, "Watch until free").
    Notify(crate::notify::Note),
    /// Sample this host from now on (None: this machine).
    UseHost(Option<String>),
}

/// Something to do with a file once a path is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum FileJob {
    /// Write the visible rows of the Sockets view.
    ExportSockets,
    /// Write this tuning snippet.
    SaveTuning { os: Os, text: String },
    /// Read and audit a sysctl file.
    Audit,
}

impl FileJob {
    /// True for jobs that write the file.
    pub fn saves(&self) -> bool {
        !matches!(self, FileJob::Audit)
    }

    /// The prompt's heading.
    pub fn title(&self) -> &'static str {
        match self {
            FileJob::ExportSockets => "Export the visible sockets",
            FileJob::SaveTuning { .. } => "Save the tuning snippet",
            FileJob::Audit => "Audit a sysctl file",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Success,
    Error,
}

/// A short notice in the corner of the window.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub text: String,
    pub shown_at_ms: u64,
}

impl Toast {
    /// How long it stays; `None`: until dismissed. A failure stays until
    /// the user has read it and clicked its ×.
    pub fn lifetime_ms(&self) -> Option<u64> {
        match self.kind {
            ToastKind::Error => None,
            _ => Some(4_000),
        }
    }
}

/// The toasts on screen.
#[derive(Clone, Debug, Default)]
pub struct Toasts {
    list: Vec<Toast>,
    next: u64,
}

impl Toasts {
    /// Show `text`, one paragraph. Control characters in it, line feeds
    /// included, are escaped (`\x1b`, `\x0a`): a toast often names a
    /// process, and a process names itself.
    pub fn push(&mut self, kind: ToastKind, text: impl Into<String>, now_ms: u64) {
        let id = self.next;
        self.next += 1;
        let text = text.into();
        let text = match crate::util::text::escape_control(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
        self.list.push(Toast {
            id,
            kind,
            text,
            shown_at_ms: now_ms,
        });
    }

    /// Take back the toasts whose text starts with `prefix` (one that
    /// reported a problem since solved).
    pub fn dismiss_starting_with(&mut self, prefix: &str) {
        let prefix = crate::util::text::escape_control(prefix);
        self.list.retain(|t| !t.text.starts_with(prefix.as_ref()));
    }

    pub fn all(&self) -> &[Toast] {
        &self.list
    }

    pub fn dismiss(&mut self, id: u64) {
        self.list.retain(|t| t.id != id);
    }

    /// Drop the toasts whose time is up.
    pub fn prune(&mut self, now_ms: u64) {
        self.list.retain(|t| {
            t.lifetime_ms()
                .is_none_or(|l| now_ms.saturating_sub(t.shown_at_ms) < l)
        });
    }
}

/// Full TIME_WAIT length used to scale the countdown bar. Only Linux reports
/// the time left (sock_diag `idiag_expires`), and there TIME_WAIT lasts
/// `TCP_TIMEWAIT_LEN = 60*HZ`, hard-coded (include/net/tcp.h). A longer
/// reported time simply fills the bar.
pub const TIME_WAIT_FULL_MS: u64 = 60_000;

/// The countdown as text: "42 s", rounded up so "0 s" means free.
pub fn countdown_text(left_ms: u64) -> String {
    format!("{} s", left_ms.div_ceil(1000))
}

/// How full the countdown bar is: 1.0 at the full TIME_WAIT length, 0.0 when
/// the port frees.
pub fn countdown_fraction(left_ms: u64) -> f32 {
    (left_ms as f32 / TIME_WAIT_FULL_MS as f32).clamp(0.0, 1.0)
}

/// "14:02:11 UTC" for a Unix time in ms.
pub fn utc_clock_text(unix_ms: u64) -> String {
    format!("{} UTC", crate::util::time::utc_hms(unix_ms))
}

/// "every 1 s", "every 500 ms".
pub fn interval_text(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}
