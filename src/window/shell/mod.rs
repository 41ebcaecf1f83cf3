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
//! [`AppState::apply`]. What a feature asks of another (the Sockets view
//! asking the stop confirmation to plan) is a value its `update` returns,
//! turned into the other feature's message here.

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
use crate::window::fleet::{self, FleetMsg, FleetState};
use crate::window::free_port::{self, FreePortState};
use crate::window::hosts::{self, HostsMsg, HostsState};
use crate::window::sampler::Sample;
use crate::window::sockets::{self as sockets, Prefs, Request, SocketsMsg, SocketsState};
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
    RefreshNow,
    SetInterval(u64),
    Pause,
    Resume,
    DismissToast(u64),
    /// Put any text on the clipboard, confirming with `notice`.
    CopyText {
        text: String,
        notice: String,
    },
    /// "Test bind on this port": the Bind test view with the row's
    /// address, port and protocol filled in, tested at once.
    OpenBindTest {
        addr: std::net::IpAddr,
        port: u16,
        proto: Proto,
    },
    Sockets(SocketsMsg),
    /// The stop confirmation's messages.
    Stop(StopMsg),
    Free(FreeAction),
    Bind(BindAction),
    Tuning(TuningAction),
    /// The host bar, the host picker and the views run on a host.
    Hosts(HostsMsg),
    Fleet(FleetMsg),
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
            snapshot: &$s.sockets.host,
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
    /// Other machines: tabs, picker, the views run there.
    pub hosts: HostsState,
    pub fleet: FleetState,
    pub path_prompt: Option<PathPrompt>,
    /// Background work; results come back as [`Action`]s.
    pub tasks: Tasks<Action>,
    workers: Workers,
    toasts: Toasts,
    effects: Vec<Effect>,
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
        let settings = settings.sanitised();
        let mut bind = BindState::default();
        bind.watched.clone_from(&settings.watched_ports);
        AppState {
            settings,
            now_ms,
            sockets: SocketsState::default(),
            paused: false,
            stop_dialog: None,
            free: FreePortState::default(),
            bind,
            tuning: TuningState::default(),
            hosts: HostsState::default(),
            fleet: FleetState::default(),
            path_prompt: None,
            tasks,
            workers,
            toasts: Toasts::default(),
            effects: Vec::new(),
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
        self.hosts.poll();
        {
            let mut ctx = feature_ctx!(self, Action::Bind);
            bind_test::tick(&mut self.bind, &mut ctx);
        }
        // A program run from the Free port view reports while any view shows.
        free_port::run::tick(&mut self.free);
        match self.settings.view {
            View::Tuning if self.hosts.selected.is_some() => {
                let mut ctx = feature_ctx!(self, Action::Hosts);
                hosts::on_show_tuning(&mut self.hosts, &mut ctx);
            }
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
            View::Sockets | View::Fleet => {}
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
                self.sockets.refresh_host();
                self.counts = count(&self.sockets.snapshot);
                // The other views judge ports by portwise's own namespace.
                self.free.on_snapshot(&self.sockets.host);
                self.bind.on_snapshot(&self.sockets.host);
                for note in self.bind.observe_watched(&self.sockets.host) {
                    self.effects.push(Effect::Notify(note));
                }
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
        self.sockets.ensure_rows(
            &self.settings.filter,
            self.settings.sort,
            &self.settings.hidden_columns,
        );
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
            Action::Sockets(msg) => {
                // The view's own state is borrowed beside its context: the
                // context reads the snapshot through a second handle.
                let snapshot = Arc::clone(&self.sockets.snapshot);
                let request = {
                    let mut ctx = Ctx {
                        now_ms: self.now_ms,
                        snapshot: &snapshot,
                        toasts: &mut self.toasts,
                        effects: &mut self.effects,
                        tasks: self.tasks.scoped(Action::Sockets),
                        workers: &self.workers,
                    };
                    let s = &mut self.settings;
                    let prefs = Prefs {
                        filter: &mut s.filter,
                        sort: &mut s.sort,
                        column_widths: &mut s.column_widths,
                        hidden_columns: &mut s.hidden_columns,
                        details_open: &mut s.details_open,
                    };
                    sockets::update(&mut self.sockets, prefs, msg, &mut ctx)
                };
                match request {
                    Some(Request::Show) => self.settings.view = View::Sockets,
                    Some(Request::Stop { port, .. }) if self.hosts.selected.is_some() => {
                        // The rows are another machine's: its pids mean
                        // nothing here.
                        let host = self.hosts.selected.as_ref().map(|d| d.to_string());
                        self.toast(
                            ToastKind::Error,
                            format!(
                                "The window stops processes on this machine only: run `portwise \
                                 stop --host {} --port {port}` in a terminal to stop it there",
                                host.unwrap_or_default()
                            ),
                        );
                    }
                    Some(Request::Stop { port, pids }) => {
                        self.apply(Action::Stop(StopMsg::Plan { port, pids }));
                    }
                    None => {}
                }
            }
            Action::Stop(msg) => {
                let mut ctx = feature_ctx!(self, Action::Stop);
                stop::update(&mut self.stop_dialog, msg, &mut ctx);
            }
            Action::DismissToast(id) => self.toasts.dismiss(id),
            Action::CopyText { text, notice } => self.copy_to_clipboard(text, notice),
            Action::OpenBindTest { addr, port, proto } => {
                self.settings.view = View::BindTest;
                if self.hosts.selected.is_some() {
                    // A row of another machine: tested there, on that
                    // host's Bind test form (this machine's would test
                    // here).
                    for m in [
                        HostsMsg::SetBindPort(port.to_string()),
                        HostsMsg::SetBindAddr(addr.to_string()),
                        HostsMsg::SetBindProto(proto),
                        HostsMsg::BindTest,
                    ] {
                        self.apply(Action::Hosts(m));
                    }
                } else {
                    let mut ctx = feature_ctx!(self, Action::Bind);
                    bind_test::test_from_row(&mut self.bind, addr, port, proto, &mut ctx);
                }
            }
            Action::Free(a) => {
                let mut ctx = feature_ctx!(self, Action::Free);
                free_port::update(&mut self.free, a, &mut ctx);
            }
            Action::Bind(a) => {
                let mut ctx = feature_ctx!(self, Action::Bind);
                bind_test::update(&mut self.bind, a, &mut ctx);
                // The watched ports persist with the settings.
                self.settings.watched_ports.clone_from(&self.bind.watched);
            }
            Action::Tuning(a) => {
                let mut ctx = feature_ctx!(self, Action::Tuning);
                tuning::update(&mut self.tuning, a, &mut ctx);
            }
            Action::Hosts(m) => {
                let change = {
                    let mut ctx = feature_ctx!(self, Action::Hosts);
                    hosts::update(
                        &mut self.hosts,
                        m,
                        &mut self.settings.recent_hosts,
                        &mut ctx,
                    )
                };
                if let Some(hosts::Change::Switched(host)) = change {
                    self.switch_machine(host);
                }
            }
            Action::Fleet(m) => fleet::update(&mut self.fleet, m),
            Action::PathPromptEdit(t) => {
                if let Some(p) = self.path_prompt.as_mut() {
                    p.text = t;
                    p.replace = None;
                }
            }
            Action::PathPromptConfirm => {
                if let Some(mut p) = self.path_prompt.take() {
                    let path = PathBuf::from(p.text.trim());
                    // What cannot be written is said at once, never
                    // offered for replacing (a directory, a device).
                    let refused = if p.job.saves() {
                        crate::util::fs::write_target(&path).err()
                    } else {
                        None
                    };
                    if path.as_os_str().is_empty() {
                        self.toast(ToastKind::Error, "Type a path first");
                        self.path_prompt = Some(p);
                    } else if let Some(e) = refused {
                        self.toast(ToastKind::Error, format!("Cannot save there: {e}"));
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

    /// Another machine is shown: the Sockets view starts afresh (its
    /// rows, highlights and selection were the other machine's) and the
    /// sampler switches to it.
    fn switch_machine(&mut self, host: Option<String>) {
        self.sockets = SocketsState::default();
        self.counts = (0, 0, 0);
        self.sockets.mark_dirty();
        self.effects.push(Effect::UseHost(host));
    }

    /// A file dialog could not open: ask for the path in the window instead.
    pub fn open_path_prompt(&mut self, job: FileJob, suggested: PathBuf) {
        self.path_prompt = Some(PathPrompt {
            job,
            text: suggested.to_string_lossy().into_owned(),
            replace: None,
        });
    }

    /// Put `text` on the clipboard (through `app.rs`) and confirm with a
    /// toast, e.g. "Copied 41234". For every view.
    pub fn copy_to_clipboard(&mut self, text: String, notice: impl Into<String>) {
        self.effects.push(Effect::CopyText(text));
        self.toast(ToastKind::Info, notice);
    }

    /// Say in a toast how an export went.
    pub fn exported(&mut self, path: &Path, result: &Result<usize, String>) {
        let mut ctx = feature_ctx!(self, Action::Sockets);
        sockets::exported(path, result, &mut ctx);
    }

    /// Write the visible rows to `path` (CSV, or JSON for ".json") here and
    /// now, and say how it went in a toast. Errors are reported, never
    /// raised. (The window writes on a worker: [`SocketsMsg::ExportTo`].)
    pub fn export_to(&mut self, path: &Path) -> Result<usize, String> {
        let job = self.sockets.export_job(path);
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
