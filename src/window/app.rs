//! The eframe application: wires the sampler, the state and the views, and
//! is the only place that touches the outside world from the window: file
//! dialogs, the clipboard, stopping processes, the worker threads. Each of
//! those sits behind a small trait ([`FileDialogs`], [`Clipboard`],
//! [`StopService`], [`Sysctls`]) so tests can supply their own.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ports::{FreeRequest, Picker, PortFacts};
use crate::sockets::SocketSource;
use crate::sockets::{Proto, Snapshot};
use crate::stop::{Stopper, SystemStopper};
use crate::tuning::{Finding, FixedValues, LiveSystem, Os, Sysctls};
use crate::util::fs::{Overwrite, write_atomic};
use crate::window::free_port::GrabOutcome;
use crate::window::sampler::Sampler;
use crate::window::shell::{Action, AppState, Effect, FileJob, Settings, ToastKind, View};
use crate::window::stop::{StopOutcome, StopReport, StopTarget};

/// Key of the persisted [`Settings`] in eframe's storage.
pub const SETTINGS_KEY: &str = "portwise.settings";

// ---------------------------------------------------------------------------
// Seams

/// One entry of a file dialog's type list: a name and its extensions
/// (without dots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFilter {
    pub name: String,
    pub extensions: Vec<String>,
}

impl FileFilter {
    pub fn new(name: &str, extensions: &[&str]) -> FileFilter {
        FileFilter {
            name: name.into(),
            extensions: extensions.iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// What a save dialog should offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveRequest {
    pub title: String,
    pub file_name: String,
    pub filters: Vec<FileFilter>,
}

/// What an open dialog should offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequest {
    pub title: String,
    pub filters: Vec<FileFilter>,
}

/// File dialogs. `None` means the user cancelled.
pub trait FileDialogs {
    fn save_file(&mut self, req: &SaveRequest) -> Option<PathBuf>;
    fn open_file(&mut self, req: &OpenRequest) -> Option<PathBuf>;
}

/// The native dialogs (rfd).
pub struct RfdDialogs;

impl FileDialogs for RfdDialogs {
    fn save_file(&mut self, req: &SaveRequest) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new()
            .set_title(&req.title)
            .set_file_name(&req.file_name);
        for f in &req.filters {
            d = d.add_filter(&f.name, &f.extensions);
        }
        d.save_file()
    }

    fn open_file(&mut self, req: &OpenRequest) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new().set_title(&req.title);
        for f in &req.filters {
            d = d.add_filter(&f.name, &f.extensions);
        }
        d.pick_file()
    }
}

/// The clipboard.
pub trait Clipboard {
    fn copy(&mut self, ctx: &egui::Context, text: String);
}

/// The system clipboard, through egui (`ctx.copy_text`).
pub struct EguiClipboard;

impl Clipboard for EguiClipboard {
    fn copy(&mut self, ctx: &egui::Context, text: String) {
        ctx.copy_text(text);
    }
}

/// Planning and stopping processes (the engine's `stop`). Both run on
/// worker threads, planning possibly while a stop is under way: `&self`,
/// so planning never waits for a stop to finish.
pub trait StopService: Send + Sync {
    /// What stopping these processes, seen holding `port` in `snapshot`,
    /// would do: pid, name, user, command line, caveats, refusals.
    fn plan(&self, port: u16, pids: &[u32], snapshot: &Snapshot)
    -> Result<Vec<StopTarget>, String>;
    /// Stop one target; may block for a few seconds (runs off the UI thread).
    fn stop(&self, target: &StopTarget, force: bool) -> StopReport;
}

/// Planning with the engine's `plan_port` / `plan_pid`, stopping with a
/// [`Stopper`] (the real [`SystemStopper`], or a fake in tests).
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

impl StopService for EngineStop {
    fn plan(
        &self,
        port: u16,
        pids: &[u32],
        snapshot: &Snapshot,
    ) -> Result<Vec<StopTarget>, String> {
        // By port first: those targets carry the port, so the stopper checks
        // the process still holds it, and the caveats know the socket
        // (docker-proxy, systemd). Narrowed to this row's processes.
        if let Ok(all) = crate::stop::plan_port(port, snapshot) {
            let mine: Vec<StopTarget> = all.into_iter().filter(|t| pids.contains(&t.pid)).collect();
            if !mine.is_empty() {
                return Ok(mine);
            }
        }
        let mut out = Vec::new();
        for pid in pids {
            out.extend(crate::stop::plan_pid(*pid).map_err(|e| e.to_string())?);
        }
        Ok(out)
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

/// Milliseconds since the Unix epoch.
pub type Clock = Box<dyn Fn() -> u64>;

/// Where the tuning view reads current values and the audit checks keys:
/// the running system ([`LiveSystem`]), or fixed values in tests.
pub type SharedSysctls = Arc<dyn Sysctls + Send + Sync>;

/// A file dialog that returns within this long never appeared.
const DIALOG_GONE_AT_ONCE: Duration = Duration::from_millis(150);

/// Everything the app talks to.
pub struct Services {
    pub source: Box<dyn SocketSource>,
    pub dialogs: Box<dyn FileDialogs>,
    pub clipboard: Box<dyn Clipboard>,
    pub stop: Box<dyn StopService>,
    pub clock: Clock,
    pub sysctls: SharedSysctls,
    /// Start with sampling paused (tests drive refreshes by hand).
    pub start_paused: bool,
}

impl Services {
    /// The real machine.
    pub fn system() -> Services {
        Services {
            source: Box::new(crate::sockets::SystemSource::new()),
            dialogs: Box::new(RfdDialogs),
            clipboard: Box::new(EguiClipboard),
            stop: Box::new(EngineStop::system()),
            clock: Box::new(crate::util::time::now_unix_ms),
            sysctls: Arc::new(LiveSystem),
            start_paused: false,
        }
    }
}

/// What a worker thread brings back.
enum JobDone {
    Grabbed(GrabOutcome),
    PortFacts(PortFacts),
    Sysctls(FixedValues),
    Audited {
        path: PathBuf,
        result: Result<Vec<Finding>, String>,
    },
    BindFacts(crate::window::bind_test::FactsKey, crate::bind::SystemFacts),
    Planned(Result<Vec<StopTarget>, String>),
    Exported {
        path: PathBuf,
        result: Result<usize, String>,
    },
    Saved {
        os: Os,
        path: PathBuf,
        result: Result<(), String>,
    },
    LocalAddrs(Vec<std::net::IpAddr>),
}

/// Which file dialog to show.
enum Dialog<'a> {
    Save(&'a SaveRequest),
    Open(&'a OpenRequest),
}

// ---------------------------------------------------------------------------
// The app

pub struct PortwiseApp {
    pub state: AppState,
    sampler: Option<Sampler>,
    dialogs: Box<dyn FileDialogs>,
    clipboard: Box<dyn Clipboard>,
    stop: Arc<dyn StopService>,
    stop_tx: Sender<Vec<StopReport>>,
    stop_rx: Receiver<Vec<StopReport>>,
    jobs_tx: Sender<JobDone>,
    jobs_rx: Receiver<JobDone>,
    sysctls: SharedSysctls,
    clock: Clock,
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
        Self::with_context(&cc.egui_ctx, settings, services)
    }

    /// Build the app for a given context and settings (what `new` does
    /// after reading the storage).
    pub fn with_context(ctx: &egui::Context, settings: Settings, services: Services) -> Self {
        let now = (services.clock)();
        let mut state = AppState::new(settings, now);
        let ctx2 = ctx.clone();
        let wake = Box::new(move || ctx2.request_repaint());
        let interval = state.settings.interval();
        let spawned = if services.start_paused {
            Sampler::spawn_paused(services.source, interval, wake)
        } else {
            Sampler::spawn(services.source, interval, wake)
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
        let (stop_tx, stop_rx) = mpsc::channel();
        let (jobs_tx, jobs_rx) = mpsc::channel();
        PortwiseApp {
            state,
            sampler,
            dialogs: services.dialogs,
            clipboard: services.clipboard,
            stop: Arc::from(services.stop),
            stop_tx,
            stop_rx,
            jobs_tx,
            jobs_rx,
            sysctls: services.sysctls,
            clock: services.clock,
        }
    }

    /// Apply actions and carry out what they ask of the outside world.
    pub fn apply(&mut self, ctx: &egui::Context, actions: Vec<Action>) {
        for a in actions {
            self.state.apply(a);
        }
        for effect in self.state.take_effects() {
            self.run_effect(ctx, effect);
        }
        self.state.ensure_rows();
    }

    fn run_effect(&mut self, ctx: &egui::Context, effect: Effect) {
        match effect {
            Effect::CopyText(t) => self.clipboard.copy(ctx, t),
            Effect::RefreshNow => {
                if let Some(s) = &self.sampler {
                    s.refresh_now();
                }
            }
            Effect::SetInterval(d) => {
                if let Some(s) = &self.sampler {
                    s.set_interval(d);
                }
            }
            Effect::Pause => {
                if let Some(s) = &self.sampler {
                    s.pause();
                }
            }
            Effect::Resume => {
                if let Some(s) = &self.sampler {
                    s.resume();
                }
            }
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
            Effect::Grab(req) => self.spawn_grab(ctx, req),
            Effect::ReadSysctls => self.spawn_read_sysctls(ctx),
            Effect::ReadPortFacts(proto) => {
                self.spawn_job(ctx, "portwise-portfacts", move || {
                    JobDone::PortFacts(PortFacts::read(proto))
                });
            }
            Effect::ReadBindFacts(key) => {
                self.spawn_job(ctx, "portwise-bindfacts", move || {
                    let facts = crate::bind::SystemFacts::read_for(&key.request, key.systemd_holds);
                    JobDone::BindFacts(key, facts)
                });
            }
            Effect::ReadLocalAddrs => {
                self.spawn_job(ctx, "portwise-addrs", || {
                    JobDone::LocalAddrs(crate::bind::local_addresses())
                });
            }
            Effect::PlanStop { port, pids } => {
                // Planning reads processes (and runs systemctl): a worker's
                // job. It needs only the port's sockets, not a copy of all.
                let s = &self.state.sockets.snapshot;
                let on_port = [Proto::Tcp, Proto::Udp]
                    .into_iter()
                    .flat_map(|p| s.on_port(p, port))
                    .cloned()
                    .collect();
                let snapshot = crate::window::shell::with_sockets(s, on_port);
                let service = self.stop.clone();
                self.spawn_job(ctx, "portwise-plan", move || {
                    JobDone::Planned(service.plan(port, &pids, &snapshot))
                });
            }
            Effect::Stop { targets, force } => self.spawn_stop(ctx, targets, force),
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

    /// Carry out a file job on a chosen path.
    fn file_job(&mut self, ctx: &egui::Context, job: FileJob, path: PathBuf) {
        match job {
            // Writing (with fsync) is a worker's job; reported in a toast
            // either way.
            FileJob::ExportSockets => {
                let job = self.state.export_job(&path);
                self.spawn_job(ctx, "portwise-export", move || {
                    let result = job.run();
                    JobDone::Exported {
                        path: job.path,
                        result,
                    }
                });
            }
            FileJob::SaveTuning { os, text } => {
                self.spawn_job(ctx, "portwise-save", move || {
                    let result = write_atomic(&path, text.as_bytes(), Overwrite::Allow)
                        .map_err(|e| e.to_string());
                    JobDone::Saved { os, path, result }
                });
            }
            FileJob::Audit => self.spawn_audit(ctx, path),
        }
    }

    /// Run `work` on a named thread; what it returns arrives in `poll`.
    fn spawn_job(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        work: impl FnOnce() -> JobDone + Send + 'static,
    ) -> bool {
        let tx = self.jobs_tx.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(work());
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.state
                .toast(ToastKind::Error, format!("Cannot start a thread: {e}"));
            return false;
        }
        true
    }

    /// Pick ports as `portwise free` does (read the OS facts, then pick),
    /// off the UI thread: on Windows the facts come from `netsh`, and each
    /// reservation waits for its TIME_WAIT socket.
    fn spawn_grab(&mut self, ctx: &egui::Context, req: FreeRequest) {
        let ok = self.spawn_job(ctx, "portwise-free", move || {
            let facts = PortFacts::read(req.proto);
            let result = Picker::new(facts.clone()).run(&req);
            JobDone::Grabbed(GrabOutcome {
                request: req,
                result,
                facts,
            })
        });
        if !ok {
            self.state.free.busy = false;
        }
    }

    /// Read the running OS's tuning settings once (Windows runs `reg` and
    /// `netsh` for them).
    fn spawn_read_sysctls(&mut self, ctx: &egui::Context) {
        let sys = self.sysctls.clone();
        self.spawn_job(ctx, "portwise-sysctl", move || {
            JobDone::Sysctls(FixedValues::snapshot(Os::current(), sys.as_ref()))
        });
    }

    /// Audit a sysctl file as `portwise tuning audit` does: keys are checked
    /// against this machine (Windows has no sysctls to check against).
    fn spawn_audit(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.state.audit_started(&path);
        let sys = self.sysctls.clone();
        self.spawn_job(ctx, "portwise-audit", move || {
            let result = crate::tuning::audit_file(&path, sys.as_ref());
            JobDone::Audited { path, result }
        });
    }

    /// Stop on a named thread: a polite stop waits up to 5 s, and the window
    /// must keep drawing meanwhile.
    fn spawn_stop(&mut self, ctx: &egui::Context, targets: Vec<StopTarget>, force: bool) {
        let service = self.stop.clone();
        let tx = self.stop_tx.clone();
        let ctx = ctx.clone();
        let names: Vec<String> = targets
            .iter()
            .map(|t| format!("{} ({})", t.name, t.pid))
            .collect();
        let spawned = std::thread::Builder::new()
            .name("portwise-stop".into())
            .spawn(move || {
                let outcomes = targets.iter().map(|t| service.stop(t, force)).collect();
                let _ = tx.send(outcomes);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self
                .state
                .toast(ToastKind::Info, format!("Stopping {}…", names.join(", "))),
            Err(e) => self
                .state
                .toast(ToastKind::Error, format!("Cannot start stopping: {e}")),
        }
    }

    /// Take in sampler messages, stop results and worker results; advance
    /// the clock; carry out what that asks for.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let now = (self.clock)();
        self.state.now_ms = now;
        if let Some(s) = &self.sampler {
            for sample in s.drain() {
                if let Some(old) = self.state.on_sample(sample) {
                    s.dispose(old);
                }
            }
        }
        while let Ok(outcomes) = self.stop_rx.try_recv() {
            self.state.stop_finished(outcomes);
        }
        while let Ok(done) = self.jobs_rx.try_recv() {
            match done {
                JobDone::Grabbed(outcome) => self.state.grab_finished(outcome),
                JobDone::PortFacts(facts) => self.state.port_facts_read(facts),
                JobDone::Sysctls(values) => self.state.sysctls_read(values),
                JobDone::Audited { path, result } => self.state.audit_finished(path, result),
                JobDone::BindFacts(key, facts) => self.state.bind_facts_read(key, facts),
                JobDone::LocalAddrs(addrs) => self.state.local_addrs_read(addrs),
                JobDone::Planned(planned) => self.state.open_stop_dialog(planned),
                JobDone::Exported { path, result } => self.state.exported(&path, &result),
                JobDone::Saved { os, path, result } => self.state.tuning_saved(os, &path, result),
            }
        }
        self.state.tick(now);
        // stop_finished, grab_finished and tick may ask for more.
        for effect in self.state.take_effects() {
            self.run_effect(ctx, effect);
        }
    }

    /// When the window must repaint even if nothing arrives: fades,
    /// countdowns, toasts, "N s ago".
    fn next_repaint(&self) -> Duration {
        let s = &self.state.sockets;
        if s.animating(self.state.now_ms) {
            return Duration::from_millis(60);
        }
        if let Some(w) = self.state.bind.watch
            && self.state.settings.view == View::BindTest
        {
            let wait = w.next_ms.saturating_sub(self.state.now_ms);
            return Duration::from_millis(wait.clamp(20, 1000));
        }
        let mut next = Duration::from_secs(1);
        if let Some(at) = s.received_at_ms {
            // Tick on the countdowns' second boundaries.
            let into = self.state.now_ms.saturating_sub(at) % 1000;
            next = next.min(Duration::from_millis((1000 - into).max(20)));
        }
        next
    }
}

impl eframe::App for PortwiseApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll(ctx);
        ctx.request_repaint_after(self.next_repaint());
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
        .with_inner_size([1220.0, 720.0])
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
