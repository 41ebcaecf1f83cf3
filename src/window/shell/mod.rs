//! The window's state and the actions that change it. No egui here: the
//! views draw [`AppState`] and emit [`Action`]s; [`AppState::apply`] changes
//! the state and queues [`Effect`]s, the things only `app.rs` may do (the
//! clipboard, file dialogs, the sampler, stopping processes).
//!
//! Time is injected: every call takes or uses `now_ms` (Unix milliseconds
//! from the app's clock), so countdowns and highlights are testable.

pub mod path_prompt;
pub mod status_bar;
pub mod toasts;
pub mod view;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ports::{FreeRequest, ProtoChoice};
use crate::sockets::{Proto, Snapshot};
use crate::tuning::{Finding, FixedValues, Goal, Os};
use crate::window::bind_test::BindState;
use crate::window::free_port::{self, FreePortState, GrabOutcome, StrategyKind};
use crate::window::sampler::Sample;
use crate::window::sockets::{
    Column, CopyWhat, Quick, QuickFilter, RowKey, RowRef, SocketsState, Sort,
};
use crate::window::stop::{StopDialog, StopReport, StopTarget};
use crate::window::tuning::{self, AuditState, TuningState};

/// The views of the window, in navigation order. Only views that exist are
/// listed: a view is added here when it is built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    #[default]
    Sockets,
    FreePort,
    BindTest,
    Tuning,
}

impl View {
    pub const ALL: &'static [View] = &[View::Sockets, View::FreePort, View::BindTest, View::Tuning];

    pub fn title(self) -> &'static str {
        match self {
            View::Sockets => "Sockets",
            View::FreePort => "Free port",
            View::BindTest => "Bind test",
            View::Tuning => "Kernel tuning",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            View::Sockets => "Live table of the sockets that decide whether a port is free",
            View::FreePort => "Grab a port that is free now, outside the ephemeral range",
            View::BindTest => "Try a bind exactly as your server would, and see why it fails",
            View::Tuning => {
                "Which kernel settings matter for your problem, and a file to apply them"
            }
        }
    }
}

/// Refresh intervals offered, in milliseconds.
pub const INTERVALS_MS: &[u64] = &[500, 1_000, 2_000, 5_000, 10_000];
pub const DEFAULT_INTERVAL_MS: u64 = 1_000;

/// What persists across runs (eframe storage).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub view: View,
    pub filter: QuickFilter,
    pub sort: Sort,
    /// Column widths in [`Column::ALL`] order; empty means the defaults.
    pub column_widths: Vec<f32>,
    pub interval_ms: u64,
    /// Whether the details side panel is open.
    pub details_open: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            view: View::Sockets,
            filter: QuickFilter::default(),
            sort: Sort::default(),
            column_widths: Vec::new(),
            interval_ms: DEFAULT_INTERVAL_MS,
            details_open: true,
        }
    }
}

impl Settings {
    /// Repair values a stale or hand-edited store may hold.
    pub fn sanitised(mut self) -> Settings {
        if !INTERVALS_MS.contains(&self.interval_ms) {
            self.interval_ms = DEFAULT_INTERVAL_MS;
        }
        let widths_ok = self.column_widths.len() == Column::ALL.len()
            && self
                .column_widths
                .iter()
                .all(|w| w.is_finite() && *w >= 10.0 && *w <= 4000.0);
        if !widths_ok {
            self.column_widths.clear();
        }
        self
    }

    /// The width of a column: saved, else its default.
    pub fn column_width(&self, col: Column) -> f32 {
        Column::ALL
            .iter()
            .position(|c| *c == col)
            .and_then(|i| self.column_widths.get(i).copied())
            .unwrap_or_else(|| col.default_width())
    }

    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
}

/// Everything a view can ask for.
#[derive(Clone, Debug, PartialEq)]
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
    /// "Stop process…" on a row: plan stopping its processes.
    AskStop(RowKey),
    ConfirmStop {
        force: bool,
    },
    CancelStop,
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

/// What the Free port view can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum FreeAction {
    SetProto(ProtoChoice),
    SetStrategy(StrategyKind),
    SetRangeFrom(String),
    SetRangeTo(String),
    SetReserve(bool),
    SetCount(usize),
    Grab,
    /// Copy one port of the history.
    Copy(u16),
    ClearHistory,
}

/// What the Bind test view can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum BindAction {
    SetPort(String),
    SetAddr(String),
    SetProto(Proto),
    SetReuseAddr(bool),
    SetReusePort(bool),
    SetV6Only(bool),
    Test,
    /// Start (true) or stop "watch until free".
    Watch(bool),
}

/// What the Kernel tuning view can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum TuningAction {
    SetGoal(Goal, bool),
    SetOs(Os),
    SetReservePorts(String),
    /// Switch one setting of the preview on or off.
    SetLine(String, bool),
    Copy,
    Save,
    Audit,
    /// Read the current values again.
    Reread,
    CloseAudit,
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

/// The "type a path" fallback, shown when a file dialog closed at once.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPrompt {
    pub job: FileJob,
    pub text: String,
    /// The typed file exists and a second confirm replaces it (a file
    /// dialog asks the same before it returns a path).
    pub replace: Option<PathBuf>,
}

/// Work for `app.rs`, queued by [`AppState::apply`].
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    CopyText(String),
    RefreshNow,
    SetInterval(Duration),
    Pause,
    Resume,
    /// Ask for a save path (suggested file name given), then call
    /// [`AppState::export_to`].
    Export {
        suggested_name: String,
    },
    /// Ask the engine what stopping these processes, found holding this
    /// port, would do; then call [`AppState::open_stop_dialog`].
    PlanStop {
        port: u16,
        pids: Vec<u32>,
    },
    /// Stop these targets, then call [`AppState::stop_finished`].
    Stop {
        targets: Vec<StopTarget>,
        force: bool,
    },
    /// Pick free ports on a worker thread, then call
    /// [`AppState::grab_finished`].
    Grab(FreeRequest),
    /// Ask for a path to save the snippet to, then write it and call
    /// [`AppState::tuning_saved`].
    SaveTuning {
        os: Os,
        file_name: String,
        text: String,
    },
    /// Ask for a sysctl file, then audit it on a worker thread and call
    /// [`AppState::audit_finished`].
    OpenAudit,
    /// Carry out `job` on a path typed in the fallback prompt.
    UsePath {
        job: FileJob,
        path: PathBuf,
    },
    /// Read the tuning settings of this machine on a worker thread, then
    /// call [`AppState::sysctls_read`].
    ReadSysctls,
    /// Read the OS's port facts (ephemeral range, ...) on a worker thread,
    /// then call [`AppState::port_facts_read`].
    ReadPortFacts(ProtoChoice),
    /// Read the system facts a bind diagnosis needs on a worker thread
    /// ([`crate::bind::SystemFacts::read_for`]), then call
    /// [`AppState::bind_facts_read`].
    ReadBindFacts(crate::window::bind_test::FactsKey),
    /// Read this machine's addresses on a worker thread, then call
    /// [`AppState::local_addrs_read`].
    ReadLocalAddrs,
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
    /// How long it stays: errors longer, so they can be read.
    pub fn lifetime_ms(&self) -> u64 {
        match self.kind {
            ToastKind::Error => 10_000,
            _ => 4_000,
        }
    }
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
    toasts: Vec<Toast>,
    next_toast: u64,
    effects: Vec<Effect>,
    rows_dirty: bool,
    /// The status bar's counts of the current snapshot, counted once when
    /// it arrives (not on every frame).
    counts: (usize, usize, usize),
}

impl AppState {
    pub fn new(settings: Settings, now_ms: u64) -> AppState {
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
            toasts: Vec::new(),
            next_toast: 0,
            effects: Vec::new(),
            rows_dirty: true,
            counts: (0, 0, 0),
        }
    }

    /// Advance the clock: fades highlights, drops old lingering rows and
    /// toasts. Call once per frame before drawing.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        self.sockets.prune(now_ms);
        self.toasts
            .retain(|t| now_ms.saturating_sub(t.shown_at_ms) < t.lifetime_ms());
        if let Some(after) = self.bind.tick(&self.sockets.snapshot, now_ms) {
            let port = self.bind.result.as_ref().map_or(0, |r| r.report.port);
            self.toast(
                ToastKind::Success,
                format!("Port {port} binds now (after {} s)", after.div_ceil(1000)),
            );
        }
        self.load_view_data();
        self.ensure_rows();
    }

    /// Start reading what the current view needs and nobody read yet.
    fn load_view_data(&mut self) {
        match self.settings.view {
            View::Tuning => {
                if self.tuning.want_values() {
                    self.effects.push(Effect::ReadSysctls);
                }
            }
            View::BindTest => {
                if self.bind.want_local_addrs() {
                    self.effects.push(Effect::ReadLocalAddrs);
                }
            }
            View::FreePort => {
                if self.free.want_facts() {
                    self.effects.push(Effect::ReadPortFacts(self.free.proto));
                }
            }
            View::Sockets => {}
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
        // A failed bind test (from an action, a watch tick or a snapshot)
        // may need system facts read.
        if let Some(key) = self.bind.take_facts_wanted() {
            self.effects.push(Effect::ReadBindFacts(key));
        }
        std::mem::take(&mut self.effects)
    }

    pub fn toasts(&self) -> &[Toast] {
        &self.toasts
    }

    pub fn toast(&mut self, kind: ToastKind, text: impl Into<String>) {
        let id = self.next_toast;
        self.next_toast += 1;
        self.toasts.push(Toast {
            id,
            kind,
            text: text.into(),
            shown_at_ms: self.now_ms,
        });
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
            Action::AskStop(key) => match self.sockets.find_live(&key) {
                Some(e) if !e.processes.is_empty() => {
                    let pids = e.processes.iter().map(|p| p.pid).collect();
                    self.effects.push(Effect::PlanStop {
                        port: e.local_port,
                        pids,
                    });
                }
                Some(_) => self.toast(
                    ToastKind::Error,
                    "No visible process holds this socket, so there is nothing to stop",
                ),
                None => self.toast(ToastKind::Error, "That socket is gone"),
            },
            Action::ConfirmStop { force } => {
                if let Some(d) = self.stop_dialog.take() {
                    let targets = d.stoppable();
                    if !targets.is_empty() {
                        self.effects.push(Effect::Stop { targets, force });
                    }
                }
            }
            Action::CancelStop => self.stop_dialog = None,
            Action::DismissToast(id) => self.toasts.retain(|t| t.id != id),
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
            Action::Free(a) => self.apply_free(a),
            Action::Bind(a) => self.apply_bind(a),
            Action::Tuning(a) => self.apply_tuning(a),
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

    fn apply_free(&mut self, a: FreeAction) {
        let f = &mut self.free;
        match a {
            FreeAction::SetProto(p) => f.proto = p,
            FreeAction::SetStrategy(k) => f.strategy = k,
            FreeAction::SetRangeFrom(t) => f.range_from = t,
            FreeAction::SetRangeTo(t) => f.range_to = t,
            FreeAction::SetReserve(on) => f.reserve = on,
            FreeAction::SetCount(n) => f.count = n.clamp(1, free_port::COUNT_MAX),
            FreeAction::Grab => {
                if let Some(req) = f.start() {
                    self.effects.push(Effect::Grab(req));
                }
            }
            FreeAction::Copy(port) => {
                self.copy_to_clipboard(port.to_string(), format!("Copied {port}"));
            }
            FreeAction::ClearHistory => f.history.clear(),
        }
    }

    fn apply_bind(&mut self, a: BindAction) {
        let b = &mut self.bind;
        match a {
            BindAction::SetPort(t) => {
                b.port_text = t;
                b.edited();
            }
            BindAction::SetAddr(t) => {
                b.addr_text = t;
                b.edited();
            }
            BindAction::SetProto(p) => {
                b.proto = p;
                b.edited();
            }
            BindAction::SetReuseAddr(on) => {
                b.reuseaddr = on;
                b.edited();
            }
            BindAction::SetReusePort(on) => {
                b.reuseport = on;
                b.edited();
            }
            BindAction::SetV6Only(on) => {
                b.v6only = on;
                b.edited();
            }
            BindAction::Test => {
                b.stop_watch();
                if b.test(&self.sockets.snapshot, self.now_ms) {
                    self.effects.push(Effect::RefreshNow);
                }
            }
            BindAction::Watch(true) => {
                if b.start_watch(&self.sockets.snapshot, self.now_ms) {
                    self.effects.push(Effect::RefreshNow);
                }
            }
            BindAction::Watch(false) => b.stop_watch(),
        }
    }

    fn apply_tuning(&mut self, a: TuningAction) {
        let t = &mut self.tuning;
        match a {
            TuningAction::SetGoal(g, on) => t.set_goal(g, on),
            TuningAction::SetOs(os) => t.set_os(os),
            TuningAction::SetReservePorts(text) => t.set_reserve_text(text),
            TuningAction::SetLine(key, on) => t.set_toggle(&key, on),
            TuningAction::Copy => {
                if let Ok(s) = &t.preview {
                    let text = s.text();
                    let n = s.enabled_settings().len();
                    let notice = format!(
                        "Copied the {} snippet ({n} setting{})",
                        s.os.label(),
                        if n == 1 { "" } else { "s" }
                    );
                    self.copy_to_clipboard(text, notice);
                }
            }
            TuningAction::Save => {
                if let Ok(s) = &t.preview {
                    t.save_error = None;
                    self.effects.push(Effect::SaveTuning {
                        os: s.os,
                        file_name: s.file_name.to_string(),
                        text: s.text(),
                    });
                }
            }
            TuningAction::Audit => self.effects.push(Effect::OpenAudit),
            TuningAction::Reread => {
                if !matches!(t.live, tuning::LiveValues::Reading) {
                    t.live = tuning::LiveValues::Reading;
                    self.effects.push(Effect::ReadSysctls);
                }
            }
            TuningAction::CloseAudit => t.audit = None,
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

    /// Take in a finished grab: history, clipboard, notice.
    pub fn grab_finished(&mut self, outcome: GrabOutcome) {
        let ports = self.free.finished(outcome, self.now_ms);
        if ports.is_empty() {
            if let Some(e) = self.free.error.clone() {
                self.toast(ToastKind::Error, format!("No port: {e}"));
            }
            return;
        }
        let text = free_port::ports_text(&ports);
        let notice = format!("Copied {}", free_port::ports_notice(&ports));
        self.copy_to_clipboard(text, notice);
        // The history's status comes from the next snapshot.
        self.effects.push(Effect::RefreshNow);
    }

    /// The snippet was written (or not) to `path`.
    pub fn tuning_saved(&mut self, os: Os, path: &Path, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.tuning.saved = Some((os, path.to_path_buf()));
                self.tuning.save_error = None;
                self.toast(ToastKind::Success, format!("Saved {}", path.display()));
            }
            Err(e) => {
                let msg = format!("Cannot save {}: {e}", path.display());
                self.tuning.save_error = Some(msg.clone());
                self.toast(ToastKind::Error, msg);
            }
        }
    }

    /// An audit started on `path`.
    pub fn audit_started(&mut self, path: &Path) {
        self.tuning.audit = Some(AuditState::Running {
            path: path.to_path_buf(),
        });
    }

    /// An audit finished.
    pub fn audit_finished(&mut self, path: PathBuf, result: Result<Vec<Finding>, String>) {
        self.tuning.audit = Some(match result {
            Ok(findings) => AuditState::Done { path, findings },
            Err(error) => AuditState::Failed { path, error },
        });
    }

    /// The OS's port facts arrived.
    pub fn port_facts_read(&mut self, facts: crate::ports::PortFacts) {
        self.free.facts_read(facts);
    }

    /// The system facts for a bind diagnosis arrived.
    pub fn bind_facts_read(
        &mut self,
        key: crate::window::bind_test::FactsKey,
        facts: crate::bind::SystemFacts,
    ) {
        self.bind.facts_read(key, facts, &self.sockets.snapshot);
    }

    /// This machine's addresses arrived (the Bind test's address list).
    pub fn local_addrs_read(&mut self, addrs: Vec<std::net::IpAddr>) {
        self.bind.local_addrs = Some(addrs);
    }

    /// The tuning settings of this machine arrived.
    pub fn sysctls_read(&mut self, values: FixedValues) {
        self.tuning.values_read(values);
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
    /// worker thread can write the file ([`ExportJob::run`]); then call
    /// [`AppState::exported`].
    pub fn export_job(&self, path: &Path) -> ExportJob {
        ExportJob {
            path: crate::window::sockets::export::normalise_path(path.to_path_buf()),
            header: with_sockets(&self.sockets.snapshot, Vec::new()),
            rows: self.visible_live_rows().into_iter().cloned().collect(),
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
    /// raised. (The window runs [`AppState::export_job`] on a worker.)
    pub fn export_to(&mut self, path: &Path) -> Result<usize, String> {
        let job = self.export_job(path);
        let path = job.path.clone();
        let result = job.run();
        self.exported(&path, &result);
        result
    }

    /// Show the stop confirmation for what the engine planned.
    pub fn open_stop_dialog(&mut self, planned: Result<Vec<StopTarget>, String>) {
        match planned {
            Ok(targets) if !targets.is_empty() => self.stop_dialog = Some(StopDialog { targets }),
            Ok(_) => self.toast(ToastKind::Error, "Nothing to stop: the process is gone"),
            Err(e) => self.toast(ToastKind::Error, format!("Cannot stop: {e}")),
        }
    }

    /// Report how stopping went, and refresh so the table shows it.
    pub fn stop_finished(&mut self, reports: Vec<StopReport>) {
        for r in reports {
            let kind = if r.outcome.stopped() {
                ToastKind::Success
            } else {
                ToastKind::Error
            };
            self.toast(kind, r.message);
        }
        self.effects.push(Effect::RefreshNow);
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

/// `s`'s header fields (time, unattributed, privileged) with `sockets`:
/// the part of a snapshot a worker thread needs, without copying it all.
pub fn with_sockets(s: &Snapshot, sockets: Vec<crate::sockets::SocketEntry>) -> Snapshot {
    Snapshot {
        taken_at_unix_ms: s.taken_at_unix_ms,
        unattributed: s.unattributed,
        unattributed_reason: s.unattributed_reason.clone(),
        privileged: s.privileged,
        sockets,
    }
}

/// An export to run off the UI thread: the visible rows, copied.
#[derive(Clone, Debug)]
pub struct ExportJob {
    /// Where it goes (".csv" added when the name has no extension).
    pub path: PathBuf,
    /// The snapshot's header fields (no sockets).
    header: Snapshot,
    rows: Vec<crate::sockets::SocketEntry>,
}

impl ExportJob {
    /// Write the file (atomically, with fsync): the number of rows, or a
    /// one-line reason.
    pub fn run(&self) -> Result<usize, String> {
        let rows: Vec<&crate::sockets::SocketEntry> = self.rows.iter().collect();
        crate::window::sockets::export::write(&self.path, &self.header, &rows)
    }
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod views_tests;
