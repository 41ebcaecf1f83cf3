//! The shell of the window: which view shows, the refresh controls, the
//! status bar, toasts, the path prompt, and the routing of every
//! [`Action`] to the feature that handles it. No egui here: the views draw
//! [`AppState`] and emit [`Action`]s; [`AppState::apply`] changes the state,
//! starts background [`Tasks`] (their results come back as the feature's
//! own [`Action`]) and queues [`Effect`]s, the things only `app.rs` may do
//! (the clipboard, file dialogs, the sampler).
//!
//! Time is injected: every call takes or uses `now_ms` (Unix milliseconds
//! from the app's clock), so countdowns and highlights are testable.
//!
//! Adding a view: a folder beside `sockets/` (state, message, `update`,
//! `view.rs`), a [`View`] variant, and one [`Action`] wrapper routed in
//! [`AppState::apply`].

pub mod path_prompt;
pub mod settings;
pub mod status_bar;
pub mod toasts;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::sockets::{Proto, Snapshot};
use crate::window::bind_test::{self, BindState};
use crate::window::ctx::{Ctx, Toasts, Workers};
use crate::window::free_port::{self, FreePortState};
use crate::window::sampler::Sample;
use crate::window::sockets::export::ExportJob;
use crate::window::sockets::{Column, CopyWhat, Quick, RowKey, RowRef, SocketsState};
use crate::window::stop::{self, StopDialog, StopMsg};
use crate::window::tasks::Tasks;
use crate::window::tuning::{self, TuningState};

pub use crate::window::bind_test::BindAction;
pub use crate::window::ctx::{Effect, FileJob, Toast, ToastKind, interval_text, utc_clock_text};
pub use crate::window::free_port::FreeAction;
pub use crate::window::sockets::with_sockets;
pub use crate::window::tuning::TuningAction;
pub use settings::{DEFAULT_INTERVAL_MS, INTERVALS_MS, Settings, View};

/// Everything a view can ask for.
#[derive(Clone, Debug)]
pub enum Action {
    ShowView(View),
    SetFilterText(String),
    /// Esc: empty the filter box.
    ClearFilterText,
    SetQuick(Quick, bool),
    /// Sort by this column; again on the same column flips the direction.
    SortBy(Column),
    SetColumnWidths(Vec<f32>),
    Select(Option<RowKey>),
    Copy(CopyWhat, RowKey),
    /// Ctrl+C: the selected row.
    CopySelected,
    RefreshNow,
    SetInterval(u64),
    Pause,
    Resume,
    ToggleDetails,
    /// "Export…": ask for a file, then write the visible rows.
    Export,
    /// Write the visible rows to this path (chosen in a dialog).
    ExportTo(PathBuf),
    /// An export finished: the rows written, or why not.
    Exported {
        path: PathBuf,
        result: Result<usize, String>,
    },
    /// "Stop process…" on a row: plan stopping its processes.
    AskStop(RowKey),
    /// The stop confirmation's messages.
    Stop(StopMsg),
    DismissToast(u64),
    /// Put any text on the clipboard, confirming with `notice`.
    CopyText {
        text: String,
        notice: String,
    },
    /// Show the Sockets view with only the sockets on this port, in every
    /// state.
    ShowSocketsOnPort(u16),
    /// Drop the port filter of the Sockets view.
    ClearPortFilter,
    /// "Test bind on this port": the Bind test view with the port filled in.
    OpenBindTest {
        port: u16,
        proto: Proto,
    },
    Free(FreeAction),
    Bind(BindAction),
    Tuning(TuningAction),
    /// The "type a path" fallback of a file dialog that could not open.
    PathPromptEdit(String),
    PathPromptConfirm,
    PathPromptCancel,
}

/// The "type a path" fallback, shown when a file dialog closed at once.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPrompt {
    pub job: FileJob,
    pub text: String,
    /// The typed file exists and a second confirm replaces it (a file
    /// dialog asks the same before it returns a path).
    pub replace: Option<PathBuf>,
}

/// The [`Ctx`] a feature's `update` gets, its messages wrapped by `$wrap`.
/// A macro, not a method, so the borrows stay per field: the feature's
/// own state is borrowed beside it.
macro_rules! feature_ctx {
    ($s:ident, $wrap:expr) => {
        Ctx {
            now_ms: $s.now_ms,
            snapshot: &$s.sockets.snapshot,
            toasts: &mut $s.toasts,
            effects: &mut $s.effects,
            tasks: $s.tasks.scoped($wrap),
            workers: &$s.workers,
        }
    };
}

/// The window's whole state.
pub struct AppState {
    pub settings: Settings,
    /// The clock's time for this frame (Unix ms).
    pub now_ms: u64,
    pub sockets: SocketsState,
    pub paused: bool,
    pub stop_dialog: Option<StopDialog>,
    pub free: FreePortState,
    pub bind: BindState,
    pub tuning: TuningState,
    pub path_prompt: Option<PathPrompt>,
    /// Background work; results come back as [`Action`]s.
    pub tasks: Tasks<Action>,
    workers: Workers,
    toasts: Toasts,
    effects: Vec<Effect>,
    rows_dirty: bool,
    /// The status bar's counts of the current snapshot, counted once when
    /// it arrives (not on every frame).
    counts: (usize, usize, usize),
}

impl AppState {
    /// State for tests and tools: tasks are held until run
    /// ([`Tasks::run_queued`]); workers would use this machine.
    pub fn new(settings: Settings, now_ms: u64) -> AppState {
        let workers = Workers {
            stop: Arc::new(crate::stop::EngineStop::system()),
            sysctls: Arc::new(crate::tuning::LiveSystem),
            wake: Arc::new(|| {}),
        };
        AppState::with(settings, now_ms, Tasks::manual(), workers)
    }

    /// State whose background work runs on `tasks` with `workers`.
    pub fn with(settings: Settings, now_ms: u64, tasks: Tasks<Action>, workers: Workers) -> Self {
        AppState {
            settings: settings.sanitised(),
            now_ms,
            sockets: SocketsState::default(),
            paused: false,
            stop_dialog: None,
            free: FreePortState::default(),
            bind: BindState::default(),
            tuning: TuningState::default(),
            path_prompt: None,
            tasks,
            workers,
            toasts: Toasts::default(),
            effects: Vec::new(),
            rows_dirty: true,
            counts: (0, 0, 0),
        }
    }

    /// Advance the clock: fades highlights, drops old lingering rows and
    /// toasts, lets the current view read what it needs. Call once per
    /// frame before drawing.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        self.sockets.prune(now_ms);
        self.toasts.prune(now_ms);
        {
            let mut ctx = feature_ctx!(self, Action::Bind);
            bind_test::tick(&mut self.bind, &mut ctx);
        }
        // A program run from the Free port view reports while any view shows.
        free_port::run::tick(&mut self.free);
        match self.settings.view {
            View::Tuning => {
                let mut ctx = feature_ctx!(self, Action::Tuning);
                tuning::on_show(&mut self.tuning, &mut ctx);
            }
            View::BindTest => {
                let mut ctx = feature_ctx!(self, Action::Bind);
                bind_test::on_show(&mut self.bind, &mut ctx);
            }
            View::FreePort => {
                let mut ctx = feature_ctx!(self, Action::Free);
                free_port::on_show(&mut self.free, &mut ctx);
            }
            View::Sockets => {}
        }
        self.ensure_rows();
    }

    /// Take in the results of finished background tasks.
    pub fn poll_tasks(&mut self) {
        // A result may start more work; an inline runner finishes it at once.
        loop {
            let msgs = self.tasks.poll();
            if msgs.is_empty() {
                return;
            }
            for msg in msgs {
                self.apply(msg);
            }
        }
    }

    /// Take in what the sampler sent. Returns the snapshot a new one
    /// replaced, for the caller to drop where it costs the window nothing.
    pub fn on_sample(&mut self, sample: Sample) -> Option<Snapshot> {
        match sample {
            Sample::Snapshot { snapshot, took } => {
                let old = self
                    .sockets
                    .on_snapshot(*snapshot, took.as_millis() as u64, self.now_ms);
                self.rows_dirty = true;
                self.counts = count(&self.sockets.snapshot);
                self.free.on_snapshot(&self.sockets.snapshot);
                self.bind.on_snapshot(&self.sockets.snapshot);
                let mut ctx = feature_ctx!(self, Action::Bind);
                self.bind.read_wanted_facts(&mut ctx);
                Some(old)
            }
            Sample::Error(e) => {
                self.sockets.on_error(e.0, self.now_ms);
                None
            }
        }
    }

    /// Rebuild the table's rows if a snapshot, the filter or the sort changed.
    pub fn ensure_rows(&mut self) {
        if self.rows_dirty {
            self.sockets
                .rebuild_rows(&self.settings.filter, self.settings.sort);
            self.rows_dirty = false;
        }
    }

    /// The effects queued since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn toasts(&self) -> &[Toast] {
        self.toasts.all()
    }

    pub fn toast(&mut self, kind: ToastKind, text: impl Into<String>) {
        self.toasts.push(kind, text, self.now_ms);
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::ShowView(v) => self.settings.view = v,
            Action::SetFilterText(t) => {
                if t != self.settings.filter.text {
                    self.settings.filter.text = t;
                    self.rows_dirty = true;
                }
            }
            Action::ClearFilterText => {
                if !self.settings.filter.text.is_empty() {
                    self.settings.filter.text.clear();
                    self.rows_dirty = true;
                }
            }
            Action::SetQuick(q, on) => {
                self.settings.filter.set(q, on);
                self.rows_dirty = true;
            }
            Action::SortBy(col) => {
                let s = &mut self.settings.sort;
                if s.column == col {
                    s.descending = !s.descending;
                } else {
                    s.column = col;
                    s.descending = false;
                }
                self.rows_dirty = true;
            }
            Action::SetColumnWidths(w) => {
                if w.len() == Column::ALL.len() {
                    self.settings.column_widths = w;
                }
            }
            Action::Select(k) => self.sockets.selected = k,
            Action::Copy(what, key) => self.copy(what, &key),
            Action::CopySelected => {
                if let Some(k) = self.sockets.selected {
                    self.copy(CopyWhat::Row, &k);
                }
            }
            Action::RefreshNow => self.effects.push(Effect::RefreshNow),
            Action::SetInterval(ms) => {
                if INTERVALS_MS.contains(&ms) {
                    self.settings.interval_ms = ms;
                    self.effects
                        .push(Effect::SetInterval(self.settings.interval()));
                }
            }
            Action::Pause => {
                self.paused = true;
                self.effects.push(Effect::Pause);
            }
            Action::Resume => {
                self.paused = false;
                self.effects.push(Effect::Resume);
            }
            Action::ToggleDetails => self.settings.details_open = !self.settings.details_open,
            Action::Export => self.effects.push(Effect::Export {
                suggested_name: "portwise-sockets.csv".into(),
            }),
            Action::ExportTo(path) => self.export(path),
            Action::Exported { path, result } => self.exported(&path, &result),
            Action::AskStop(key) => match self.sockets.find_live(&key) {
                Some(e) if !e.processes.is_empty() => {
                    let pids = e.processes.iter().map(|p| p.pid).collect();
                    let msg = StopMsg::Plan {
                        port: e.local_port,
                        pids,
                    };
                    self.apply(Action::Stop(msg));
                }
                Some(_) => self.toast(
                    ToastKind::Error,
                    "No visible process holds this socket, so there is nothing to stop",
                ),
                None => self.toast(ToastKind::Error, "That socket is gone"),
            },
            Action::Stop(msg) => {
                let mut ctx = feature_ctx!(self, Action::Stop);
                stop::update(&mut self.stop_dialog, msg, &mut ctx);
            }
            Action::DismissToast(id) => self.toasts.dismiss(id),
            Action::CopyText { text, notice } => self.copy_to_clipboard(text, notice),
            Action::ShowSocketsOnPort(port) => {
                self.settings.view = View::Sockets;
                self.settings.filter.port = Some(port);
                self.settings.filter.all_states = true;
                self.rows_dirty = true;
            }
            Action::ClearPortFilter => {
                self.settings.filter.port = None;
                self.rows_dirty = true;
            }
            Action::OpenBindTest { port, proto } => {
                self.settings.view = View::BindTest;
                self.bind.port_text = port.to_string();
                self.bind.proto = proto;
                self.bind.result = None;
                self.bind.edited();
            }
            Action::Free(a) => {
                let mut ctx = feature_ctx!(self, Action::Free);
                free_port::update(&mut self.free, a, &mut ctx);
            }
            Action::Bind(a) => {
                let mut ctx = feature_ctx!(self, Action::Bind);
                bind_test::update(&mut self.bind, a, &mut ctx);
            }
            Action::Tuning(a) => {
                let mut ctx = feature_ctx!(self, Action::Tuning);
                tuning::update(&mut self.tuning, a, &mut ctx);
            }
            Action::PathPromptEdit(t) => {
                if let Some(p) = self.path_prompt.as_mut() {
                    p.text = t;
                    p.replace = None;
                }
            }
            Action::PathPromptConfirm => {
                if let Some(mut p) = self.path_prompt.take() {
                    let path = PathBuf::from(p.text.trim());
                    if path.as_os_str().is_empty() {
                        self.toast(ToastKind::Error, "Type a path first");
                        self.path_prompt = Some(p);
                    } else if p.job.saves() && path.exists() && p.replace.as_ref() != Some(&path) {
                        p.replace = Some(path);
                        self.path_prompt = Some(p);
                    } else {
                        self.effects.push(Effect::UsePath { job: p.job, path });
                    }
                }
            }
            Action::PathPromptCancel => self.path_prompt = None,
        }
    }

    /// A file dialog could not open: ask for the path in the window instead.
    pub fn open_path_prompt(&mut self, job: FileJob, suggested: PathBuf) {
        self.path_prompt = Some(PathPrompt {
            job,
            text: suggested.to_string_lossy().into_owned(),
            replace: None,
        });
    }

    fn copy(&mut self, what: CopyWhat, key: &RowKey) {
        let now = self.now_ms;
        let Some((e, gone)) = self.sockets.find(key) else {
            self.toast(ToastKind::Error, "That socket is gone");
            return;
        };
        let taken = gone.map_or(self.sockets.snapshot.taken_at_unix_ms, |g| {
            g.last_taken_at_ms
        });
        let text = SocketsState::copy_text(what, e, taken, now);
        let notice = match what {
            CopyWhat::Port | CopyWhat::Address => format!("Copied {text}"),
            CopyWhat::Row => "Copied the row".to_string(),
        };
        self.copy_to_clipboard(text, notice);
    }

    /// Put `text` on the clipboard (through `app.rs`) and confirm with a
    /// toast, e.g. "Copied 41234". For every view.
    pub fn copy_to_clipboard(&mut self, text: String, notice: impl Into<String>) {
        self.effects.push(Effect::CopyText(text));
        self.toast(ToastKind::Info, notice);
    }

    /// The live rows the table shows, in its order (what Export writes).
    pub fn visible_live_rows(&self) -> Vec<&crate::sockets::SocketEntry> {
        self.sockets
            .rows()
            .iter()
            .filter(|r| matches!(r, RowRef::Live(_)))
            .filter_map(|r| self.sockets.entry(*r))
            .collect()
    }

    /// What writing the visible rows to `path` needs, copied so that a
    /// worker thread can write the file ([`ExportJob::run`]).
    pub fn export_job(&self, path: &Path) -> ExportJob {
        ExportJob::new(
            path,
            &self.sockets.snapshot,
            self.visible_live_rows().into_iter().cloned().collect(),
        )
    }

    /// Write the visible rows to `path` on a worker (with fsync); reported
    /// in a toast either way.
    fn export(&mut self, path: PathBuf) {
        let job = self.export_job(&path);
        let started = self.tasks.spawn(
            "portwise-export",
            move || {
                let result = job.run();
                (job.path, result)
            },
            |(path, result)| Action::Exported { path, result },
        );
        if let Err(e) = started {
            self.toast(ToastKind::Error, e);
        }
    }

    /// Say in a toast how an export went.
    pub fn exported(&mut self, path: &Path, result: &Result<usize, String>) {
        match result {
            Ok(n) => self.toast(
                ToastKind::Success,
                format!("Exported {n} rows to {}", path.display()),
            ),
            Err(e) => self.toast(ToastKind::Error, format!("Export failed: {e}")),
        }
    }

    /// Write the visible rows to `path` (CSV, or JSON for ".json") here and
    /// now, and say how it went in a toast. Errors are reported, never
    /// raised. (The window writes on a worker: [`Action::ExportTo`].)
    pub fn export_to(&mut self, path: &Path) -> Result<usize, String> {
        let job = self.export_job(path);
        let path = job.path.clone();
        let result = job.run();
        self.exported(&path, &result);
        result
    }

    /// Counts for the status bar: listening, TIME_WAIT, unattributed.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.counts
    }
}

/// Listening, TIME_WAIT and unattributed sockets of `s`, in one pass.
fn count(s: &Snapshot) -> (usize, usize, usize) {
    let (mut listening, mut time_wait) = (0, 0);
    for e in &s.sockets {
        if e.is_listening() {
            listening += 1;
        } else if e.is_kernel_owned() {
            time_wait += 1;
        }
    }
    (listening, time_wait, s.unattributed)
}

#[cfg(test)]
pub(crate) mod tests;
