//! The eframe application: drains the sampler and the background tasks,
//! routes messages to the state, and is the only place that opens file
//! dialogs or touches the clipboard. What it talks to sits behind the
//! traits of [`crate::window::services`], so tests supply their own.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::notify::Notifier;
use crate::tuning::Os;
use crate::window::ctx::Workers;
use crate::window::sampler::Sampler;
use crate::window::shell::{Action, AppState, Effect, FileJob, Settings, TuningAction, View};
use crate::window::sockets::SocketsMsg;
use crate::window::tasks::{Runner, Tasks};

pub use crate::stop::{EngineStop, StopService};
pub use crate::window::services::{
    Clipboard, Clock, EguiClipboard, FileDialogs, FileFilter, OpenRequest, RfdDialogs, SaveRequest,
    Services, SharedSysctls,
};

/// Key of the persisted [`Settings`] in eframe's storage.
pub const SETTINGS_KEY: &str = "portwise.settings";

/// The window's size when it first opens (logical points).
pub const DEFAULT_SIZE: [f32; 2] = [1220.0, 720.0];

/// A file dialog that returns within this long never appeared.
const DIALOG_GONE_AT_ONCE: Duration = Duration::from_millis(150);

/// Which file dialog to show.
enum Dialog<'a> {
    Save(&'a SaveRequest),
    Open(&'a OpenRequest),
}

pub struct PortwiseApp {
    pub state: AppState,
    sampler: Option<Sampler>,
    dialogs: Box<dyn FileDialogs>,
    clipboard: Box<dyn Clipboard>,
    clock: Clock,
    /// Desktop notifications: the desktop's in the real window
    /// ([`PortwiseApp::new`]), none in tests unless they set one.
    notifier: Box<dyn Notifier>,
}

impl PortwiseApp {
    /// Build the app: restore settings, follow the system theme, start the
    /// sampler (waking the window with `request_repaint`).
    pub fn new(cc: &eframe::CreationContext<'_>, services: Services) -> PortwiseApp {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, SETTINGS_KEY))
            .unwrap_or_default();
        cc.egui_ctx
            .options_mut(|o| o.theme_preference = egui::ThemePreference::System);
        let mut app = Self::with_context(&cc.egui_ctx, settings, services);
        let ctx = cc.egui_ctx.clone();
        app.set_notifier(Box::new(crate::notify::Desktop::with_wake(Arc::new(
            move || ctx.request_repaint(),
        ))));
        app
    }

    /// Where desktop notifications go.
    pub fn set_notifier(&mut self, notifier: Box<dyn Notifier>) {
        self.notifier = notifier;
    }

    /// Build the app for a given context and settings (what `new` does
    /// after reading the storage).
    pub fn with_context(ctx: &egui::Context, settings: Settings, services: Services) -> Self {
        let now = (services.clock)();
        let ctx2 = ctx.clone();
        let tasks = Tasks::new(services.runner, Arc::new(move || ctx2.request_repaint()));
        let ctx3 = ctx.clone();
        let workers = Workers {
            stop: Arc::from(services.stop),
            sysctls: services.sysctls,
            wake: Arc::new(move || ctx3.request_repaint()),
        };
        let mut state = AppState::with(settings, now, tasks, workers);
        let ctx2 = ctx.clone();
        let wake = Box::new(move || ctx2.request_repaint());
        let interval = state.settings.interval();
        let spawned = match (services.runner, services.start_paused) {
            (Runner::Threads, false) => Sampler::spawn(services.source, interval, wake),
            (Runner::Threads, true) => Sampler::spawn_paused(services.source, interval, wake),
            (_, paused) => Ok(Sampler::inline(services.source, paused)),
        };
        let sampler = match spawned {
            Ok(s) => Some(s),
            Err(e) => {
                state
                    .sockets
                    .on_error(format!("cannot start the sampling thread: {e}"), now);
                None
            }
        };
        state.paused = services.start_paused;
        PortwiseApp {
            state,
            sampler,
            dialogs: services.dialogs,
            clipboard: services.clipboard,
            clock: services.clock,
            notifier: Box::new(crate::notify::Silent),
        }
    }

    /// Apply actions and carry out what they ask of the outside world.
    pub fn apply(&mut self, ctx: &egui::Context, actions: Vec<Action>) {
        for a in actions {
            self.state.apply(a);
        }
        // An inline runner (tests) has finished its tasks already.
        self.state.poll_tasks();
        self.run_effects(ctx);
        self.state.ensure_rows();
    }

    fn run_effects(&mut self, ctx: &egui::Context) {
        for effect in self.state.take_effects() {
            self.run_effect(ctx, effect);
        }
    }

    fn run_effect(&mut self, ctx: &egui::Context, effect: Effect) {
        let sampler = self.sampler.as_ref();
        match effect {
            Effect::CopyText(t) => self.clipboard.copy(ctx, t),
            Effect::RefreshNow => sampler.into_iter().for_each(Sampler::refresh_now),
            Effect::SetInterval(d) => sampler.into_iter().for_each(|s| s.set_interval(d)),
            Effect::Pause => sampler.into_iter().for_each(Sampler::pause),
            Effect::Resume => sampler.into_iter().for_each(Sampler::resume),
            Effect::SetNetns(n) => sampler.into_iter().for_each(|s| s.set_netns(n.clone())),
            Effect::Export { suggested_name } => {
                let req = SaveRequest {
                    title: FileJob::ExportSockets.title().into(),
                    file_name: suggested_name,
                    filters: vec![
                        FileFilter::new("CSV", &["csv"]),
                        FileFilter::new("JSON", &["json"]),
                    ],
                };
                if let Some(path) = self.pick_save_path(&req, FileJob::ExportSockets) {
                    self.file_job(ctx, FileJob::ExportSockets, path);
                }
            }
            Effect::SaveTuning {
                os,
                file_name,
                text,
            } => {
                let (name, ext) = match os {
                    Os::Linux => ("sysctl.d file", "conf"),
                    Os::Macos => ("Shell script", "sh"),
                    Os::Windows => ("PowerShell script", "ps1"),
                };
                let req = SaveRequest {
                    title: format!("Save the {} tuning snippet", os.label()),
                    file_name,
                    filters: vec![FileFilter::new(name, &[ext])],
                };
                let job = FileJob::SaveTuning { os, text };
                if let Some(path) = self.pick_save_path(&req, job.clone()) {
                    self.file_job(ctx, job, path);
                }
            }
            Effect::OpenAudit => {
                let req = OpenRequest {
                    title: FileJob::Audit.title().into(),
                    filters: vec![
                        FileFilter::new("sysctl files", &["conf"]),
                        FileFilter::new("All files", &["*"]),
                    ],
                };
                if let Some(path) = self.pick_path(Dialog::Open(&req), FileJob::Audit, "") {
                    self.file_job(ctx, FileJob::Audit, path);
                }
            }
            Effect::UsePath { job, path } => self.file_job(ctx, job, path),
            Effect::Notify(note) => self.notifier.notify(note),
            Effect::UseHost(host) => {
                let source = host
                    .and_then(|h| self.state.hosts.source(&h))
                    .map(|s| Box::new(s) as Box<dyn crate::sockets::SocketSource>);
                if let Some(s) = &self.sampler {
                    s.use_source(source, self.state.paused);
                }
            }
        }
    }

    /// Ask for a path to save to, for `job`. See [`PortwiseApp::pick_path`].
    pub fn pick_save_path(&mut self, req: &SaveRequest, job: FileJob) -> Option<PathBuf> {
        self.pick_path(Dialog::Save(req), job, &req.file_name)
    }

    /// Ask for a path with a file dialog. A dialog that "closes" within a
    /// blink never appeared (on Linux, rfd's dialogs go through
    /// xdg-desktop-portal, which some desktops lack): then the window asks
    /// for the path itself (the path prompt), suggesting `file_name` in the
    /// home directory, and carries out `job` when it is confirmed.
    fn pick_path(&mut self, dialog: Dialog<'_>, job: FileJob, file_name: &str) -> Option<PathBuf> {
        let started = Instant::now();
        let path = match dialog {
            Dialog::Save(r) => self.dialogs.save_file(r),
            Dialog::Open(r) => self.dialogs.open_file(r),
        };
        if path.is_none() && started.elapsed() < DIALOG_GONE_AT_ONCE {
            let dir = std::env::home_dir().unwrap_or_default();
            self.state.open_path_prompt(job, dir.join(file_name));
        }
        path
    }

    /// Carry out a file job on a chosen path: the feature that owns the
    /// file does it, on a background task.
    fn file_job(&mut self, ctx: &egui::Context, job: FileJob, path: PathBuf) {
        let action = match job {
            FileJob::ExportSockets => Action::Sockets(SocketsMsg::ExportTo(path)),
            FileJob::SaveTuning { os, text } => {
                Action::Tuning(TuningAction::SaveTo { os, text, path })
            }
            FileJob::Audit => Action::Tuning(TuningAction::AuditFile(path)),
        };
        self.state.apply(action);
        // An inline runner has finished already.
        self.state.poll_tasks();
        self.run_effects(ctx);
    }

    /// Take in sampler messages and task results; advance the clock; carry
    /// out what that asks for.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let now = (self.clock)();
        self.state.now_ms = now;
        if let Some(s) = &self.sampler {
            let samples = s.drain();
            if !samples.is_empty() {
                // What the source learnt about network namespaces with the
                // snapshots it just sent (stored before it sends them).
                self.state.sockets.set_netns_summary(s.netns_summary());
            }
            for sample in samples {
                if let Some(old) = self.state.on_sample(sample) {
                    s.dispose(old);
                }
            }
        }
        self.state.poll_tasks();
        self.state.tick(now);
        // Task results and tick may ask for more (an inline runner's
        // results are there at once).
        self.state.poll_tasks();
        self.run_effects(ctx);
        if let Some(why) = self.notifier.take_failure() {
            self.state.toast(
                crate::window::shell::ToastKind::Error,
                format!(
                    "Desktop notifications cannot be shown ({why}). Watched ports still show \
                     their status in Bind test, and Watch until free says so there."
                ),
            );
        }
    }

    /// When the window must next wake although nothing arrives, or `None`
    /// when nothing it shows changes with time alone. Only what the state
    /// itself changes on a timer is here: a shown row's highlight fading a
    /// step (also the "N new" line above the table), and a bind watch's
    /// next try. Whatever is drawn from the clock asks for its own repaint
    /// while it is drawn (countdowns: [`crate::window::widgets::countdown`];
    /// toasts: when they expire), so rows scrolled out of view, views not
    /// shown and a hidden window ask for nothing. A minimised window asks
    /// for nothing at all: eframe then runs only `logic` (no painting),
    /// woken by the sampler's messages, which come only when the sockets
    /// change.
    pub fn next_repaint(&self, minimized: bool) -> Option<Duration> {
        if minimized {
            return None;
        }
        let now = self.state.now_ms;
        let s = &self.state.sockets;
        let mut next: Option<Duration> = None;
        let mut at = |d: Duration| next = Some(next.map_or(d, |n| n.min(d)));
        if self.state.settings.view == View::Sockets
            && let Some(ms) = s.next_highlight_change_ms(now)
        {
            at(Duration::from_millis(ms.max(20)));
        }
        if let Some(w) = self.state.bind.watch
            && self.state.settings.view == View::BindTest
        {
            let wait = w.next_ms.saturating_sub(now);
            at(Duration::from_millis(wait.clamp(20, 1000)));
        }
        next
    }
}

impl eframe::App for PortwiseApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll(ctx);
        let minimized = ctx.input(|i| i.viewport().minimized.unwrap_or(false));
        if let Some(d) = self.next_repaint(minimized) {
            ctx.request_repaint_after(d);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut actions = Vec::new();
        crate::window::shell::view::show(ui, &self.state, &mut actions);
        if !actions.is_empty() {
            let ctx = ui.ctx().clone();
            self.apply(&ctx, actions);
            ctx.request_repaint();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.state.settings);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Stop the sampler now rather than whenever the app is dropped.
        if let Some(s) = self.sampler.take() {
            s.stop();
        }
    }
}

/// Open the window.
pub fn run() -> ExitCode {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("portwise")
        .with_app_id("portwise")
        .with_inner_size(DEFAULT_SIZE)
        .with_min_inner_size([640.0, 360.0]);
    match eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")) {
        Ok(icon) => viewport = viewport.with_icon(Arc::new(icon)),
        Err(e) => eprintln!("portwise: the app icon is unreadable ({e}); using the default"),
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let result = eframe::run_native(
        "portwise",
        options,
        Box::new(|cc| Ok(Box::new(PortwiseApp::new(cc, Services::system())))),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portwise: cannot open the window: {e}");
            ExitCode::from(1)
        }
    }
}
