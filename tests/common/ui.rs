//! Shared by the window tests: a scripted machine, the app in a harness
//! ([`Rig`]), observable stand-ins for the clipboard, the file dialogs and
//! stopping, and ways to drive the app. Socket fixtures come from
//! `portwise::fixtures`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::{Harness, HarnessBuilder};
use portwise::sockets::Snapshot as Snap;
use portwise::sockets::{Snapshot, TcpState};
use portwise::stop::Stopper;
use portwise::tuning::FixedValues;
use portwise::window::app::{
    Clipboard, FileDialogs, OpenRequest, PortwiseApp, SaveRequest, Services, SharedSysctls,
    StopService,
};
use portwise::window::sampler::ScriptedSource;
use portwise::window::shell::Settings;
use portwise::window::stop::{StopOutcome, StopReport, StopTarget};
use portwise::window::tasks::Runner;

pub const T0: u64 = 1_700_000_000_000;

#[allow(unused_imports)] // not every test binary uses every builder
pub use portwise::fixtures::{
    entry, ip, listener, process, snapshot, stop_report, stop_target, time_wait, udp,
};

/// A small machine: two listeners, a UDP socket, two TIME_WAIT remnants
/// of the 8080 server, one ESTABLISHED connection.
pub fn machine(taken: u64) -> Snapshot {
    let mut est = listener("127.0.0.1", 8080, 4242, "python3");
    est.state = Some(TcpState::Established);
    est.remote_addr = Some(ip("127.0.0.1"));
    est.remote_port = Some(50_000);
    est.inode = 77;
    snapshot(
        taken,
        vec![
            listener("127.0.0.1", 8080, 4242, "python3"),
            listener("::1", 5432, 900, "postgres"),
            udp("0.0.0.0", 5353, 321, "avahi-daemon"),
            time_wait(8080, 41_000, 42_000, Some((4242, "python3"))),
            time_wait(8080, 41_001, 12_300, None),
            est,
        ],
    )
}

/// A Linux machine with the kernel defaults of the knowledge sheet, as
/// `/proc/sys` prints them.
pub fn linux_defaults() -> FixedValues {
    FixedValues::new([
        ("net.ipv4.tcp_tw_reuse", "2"),
        ("net.ipv4.tcp_timestamps", "1"),
        ("net.ipv4.tcp_fin_timeout", "60"),
        ("net.ipv4.tcp_max_tw_buckets", "262144"),
        ("net.ipv4.ip_local_port_range", "32768 60999"),
        ("net.ipv4.ip_local_reserved_ports", ""),
        ("net.ipv4.ip_unprivileged_port_start", "1024"),
        ("net.core.somaxconn", "4096"),
        ("net.ipv4.tcp_max_syn_backlog", "1024"),
        ("net.ipv6.bindv6only", "0"),
    ])
}

/// Records what was copied.
#[derive(Clone, Default)]
pub struct RecordingClipboard(pub Arc<Mutex<Vec<String>>>);

impl Clipboard for RecordingClipboard {
    fn copy(&mut self, ctx: &egui::Context, text: String) {
        self.0.lock().unwrap().push(text.clone());
        // Still go through egui, so the platform output carries it too.
        ctx.copy_text(text);
    }
}

impl RecordingClipboard {
    pub fn texts(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Answers every dialog with a fixed path, and records the requests.
/// With no path it "cancels", after `cancel_after` (a person takes a
/// while; a dialog that cannot open returns at once).
#[derive(Clone, Default)]
pub struct FixedDialogs {
    pub path: Arc<Mutex<Option<PathBuf>>>,
    pub saves: Arc<Mutex<Vec<SaveRequest>>>,
    pub cancel_after: Arc<Mutex<Duration>>,
}

impl FileDialogs for FixedDialogs {
    fn save_file(&mut self, req: &SaveRequest) -> Option<PathBuf> {
        self.saves.lock().unwrap().push(req.clone());
        let path = self.path.lock().unwrap().clone();
        if path.is_none() {
            std::thread::sleep(*self.cancel_after.lock().unwrap());
        }
        path
    }
    fn open_file(&mut self, _req: &OpenRequest) -> Option<PathBuf> {
        self.path.lock().unwrap().clone()
    }
}

/// A report as the engine's stopper gives one, for a stop that worked.
pub fn stopped_report(t: &StopTarget) -> StopReport {
    StopReport {
        elapsed_ms: 12,
        port_freed: Some(true),
        ..stop_report(
            t,
            StopOutcome::Terminated,
            &format!("Stopped {} ({})", t.name, t.pid),
        )
    }
}

/// An engine `Stopper` that records what it was asked to stop and
/// signals nothing.
#[derive(Clone, Default)]
pub struct RecordingStopper {
    pub calls: Arc<Mutex<Vec<(u32, bool)>>>,
}

impl Stopper for RecordingStopper {
    fn stop(&mut self, t: &StopTarget, force: bool) -> StopReport {
        self.calls.lock().unwrap().push((t.pid, force));
        stopped_report(t)
    }
}

/// Plans from a fixed table (for caveats and refusals no test machine
/// has) and records stop calls instead of signalling.
#[derive(Clone, Default)]
pub struct FakeStop {
    pub targets: Arc<Mutex<Vec<StopTarget>>>,
    pub stopped: Arc<Mutex<Vec<(u32, bool)>>>,
    /// How long each stop takes (a polite stop may take seconds).
    pub stop_takes: Arc<Mutex<Duration>>,
}

impl StopService for FakeStop {
    fn plan(&self, _port: u16, pids: &[u32], _snap: &Snap) -> Result<Vec<StopTarget>, String> {
        let t = self.targets.lock().unwrap();
        let found: Vec<StopTarget> = t
            .iter()
            .filter(|t| pids.contains(&t.pid))
            .cloned()
            .collect();
        if found.is_empty() {
            Err(format!("no process with pid {pids:?}"))
        } else {
            Ok(found)
        }
    }
    fn stop(&self, target: &StopTarget, force: bool) -> StopReport {
        let takes = *self.stop_takes.lock().unwrap();
        std::thread::sleep(takes);
        self.stopped.lock().unwrap().push((target.pid, force));
        stopped_report(target)
    }
}

/// Everything a test needs to drive and observe the app.
pub struct Rig {
    pub source: ScriptedSource,
    pub clock: Arc<AtomicU64>,
    pub clipboard: RecordingClipboard,
    pub dialogs: FixedDialogs,
    pub stop: FakeStop,
    pub sysctls: SharedSysctls,
    /// `Inline` (the default): refreshes and background tasks finish
    /// before the call that started them returns. `Threads` for tests of
    /// concurrency itself.
    pub runner: Runner,
}

impl Rig {
    pub fn new() -> Rig {
        Rig {
            source: ScriptedSource::default(),
            clock: Arc::new(AtomicU64::new(T0)),
            clipboard: RecordingClipboard::default(),
            dialogs: FixedDialogs::default(),
            stop: FakeStop::default(),
            sysctls: Arc::new(linux_defaults()),
            runner: Runner::Inline,
        }
    }

    pub fn services(&self) -> Services {
        let clock = self.clock.clone();
        Services {
            source: Box::new(self.source.clone()),
            dialogs: Box::new(self.dialogs.clone()),
            clipboard: Box::new(self.clipboard.clone()),
            stop: Box::new(self.stop.clone()),
            clock: Box::new(move || clock.load(Ordering::SeqCst)),
            sysctls: self.sysctls.clone(),
            start_paused: true,
            runner: self.runner,
        }
    }

    pub fn set_now(&self, ms: u64) {
        self.clock.store(ms, Ordering::SeqCst);
    }

    /// A harness around the whole app, sampling paused: snapshots come
    /// only when a test presses F5 (see [`refresh`]).
    pub fn harness(&self, settings: Settings) -> Harness<'static, PortwiseApp> {
        self.build(Self::builder(), settings)
    }

    /// The harness settings every window test uses.
    pub fn builder() -> HarnessBuilder<PortwiseApp> {
        Harness::builder()
            .with_size([1280.0, 720.0])
            .with_max_steps(20)
    }

    /// Build the app with this rig's services in a customised harness.
    pub fn build(
        &self,
        builder: HarnessBuilder<PortwiseApp>,
        settings: Settings,
    ) -> Harness<'static, PortwiseApp> {
        let services = self.services();
        builder.build_eframe(move |cc| PortwiseApp::with_context(&cc.egui_ctx, settings, services))
    }
}

/// Queue `snap` and press F5: the inline sampler takes it at once and the
/// next frame shows it. (With real threads, wait for it.)
pub fn refresh(rig: &Rig, h: &mut Harness<'_, PortwiseApp>, snap: Snapshot) {
    let want = snap.taken_at_unix_ms;
    rig.source.push(Ok(snap));
    h.key_press(egui::Key::F5);
    let shown = move |app: &PortwiseApp| {
        app.state.sockets.received_at_ms.is_some()
            && app.state.sockets.snapshot.taken_at_unix_ms == want
    };
    if rig.runner == Runner::Threads {
        wait_for_threads(h, shown);
    } else {
        settled(h, shown);
    }
}

/// Let the app settle, then check it reached `cond`. With the inline
/// runner, refreshes and background tasks finish before the frame that
/// started them ends, so nothing is waited for.
#[track_caller]
pub fn settled(h: &mut Harness<'_, PortwiseApp>, cond: impl Fn(&PortwiseApp) -> bool) {
    h.run();
    assert!(cond(h.state()), "the app did not reach the expected state");
}

/// Step the app until `cond` holds; panics after 5 s. Only for the few
/// tests about real threads running at once (`Runner::Threads`).
pub fn wait_for_threads(h: &mut Harness<'_, PortwiseApp>, cond: impl Fn(&PortwiseApp) -> bool) {
    let t0 = Instant::now();
    loop {
        h.step();
        if cond(h.state()) {
            h.run();
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "timed out waiting");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Scroll the one control (not a plain text label) with this exact name
/// into view, click it, then let the app settle.
pub fn click(h: &mut Harness<'_, PortwiseApp>, label: &str) {
    use egui::accesskit::Role;
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    for step in ["scroll", "click"] {
        {
            let nodes: Vec<_> = h
                .query_all_by_label(label)
                .filter(|n| n.accesskit_node().role() != Role::Label)
                .collect();
            assert_eq!(nodes.len(), 1, "expected one control named {label:?}");
            if step == "scroll" {
                nodes[0].scroll_to_me();
            } else if h.ctx.content_rect().contains(nodes[0].rect().center()) {
                nodes[0].click();
            } else {
                // Inside a scroll area inside another one, scrolling into
                // view may not reach it: click it the way a screen reader
                // would.
                nodes[0].click_accesskit();
            }
        }
        h.run();
    }
}

/// Whether the control with this exact name is disabled.
pub fn disabled(h: &Harness<'_, PortwiseApp>, label: &str) -> bool {
    use egui::accesskit::Role;
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    let nodes: Vec<_> = h
        .query_all_by_label(label)
        .filter(|n| n.accesskit_node().role() != Role::Label)
        .collect();
    assert_eq!(nodes.len(), 1, "expected one control named {label:?}");
    nodes[0].accesskit_node().is_disabled()
}

/// Replace the text of the field labelled `label`.
pub fn set_field(h: &mut Harness<'_, PortwiseApp>, label: &str, text: &str) {
    use egui_kittest::kittest::Queryable as _;
    h.get_by_label(label).scroll_to_me();
    h.run();
    h.get_by_label(label).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.get_by_label(label).type_text(text);
    h.run();
}

/// Whether some node's name contains `text` (one or more).
pub fn has_text(h: &Harness<'_, PortwiseApp>, text: &str) -> bool {
    use egui_kittest::kittest::Queryable as _;
    h.query_all_by_label_contains(text).next().is_some()
}

/// The harness on one view, sampling paused.
pub fn on_view(rig: &Rig, view: portwise::window::shell::View) -> Harness<'static, PortwiseApp> {
    rig.harness(Settings {
        view,
        ..Settings::default()
    })
}
