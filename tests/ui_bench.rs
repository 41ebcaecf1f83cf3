//! Benchmark of the Sockets view (not a timed test: `#[ignore]`d, run by
//! `benches/sockets_view.sh`, figures in BENCHMARKS.md).
//!
//! - a frame of the view with 100k rows, on a headless `egui::Context`
//!   (layout and tessellation, no GPU), against 30 rows;
//! - what taking in a new 100k snapshot costs on the UI thread (diff,
//!   filter, sort);
//! - the whole app while a slow 50k-socket refresh runs on the sampler
//!   thread: no frame waits for it.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use portwise::sockets::Snapshot as Snap;
use portwise::sockets::{
    Family, OwnerRef, ProcessInfo, Proto, Snapshot, SocketEntry, SocketSource, SourceError,
    TcpState,
};
use portwise::window::app::{
    Clipboard, FileDialogs, OpenRequest, PortwiseApp, SaveRequest, Services, StopService,
};
use portwise::window::sampler::Sample;
use portwise::window::shell::{Action, AppState, Settings};
use portwise::window::sockets::SocketsMsg;
use portwise::window::stop::{StopOutcome, StopReport, StopTarget};

const T0: u64 = 1_700_000_000_000;

/// `n` sockets: 1% listeners with owners, 90% TIME_WAIT on loopback,
/// the rest ESTABLISHED; sorted as the sampler delivers them.
fn big_snapshot(n: usize, taken: u64, salt: u32) -> Snapshot {
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let addr = std::net::Ipv4Addr::new(127, 0, (i / 50_000) as u8, 1 + (i % 200) as u8);
        let (state, processes, remote, inode) = match i % 100 {
            0 => (
                TcpState::Listen,
                vec![ProcessInfo {
                    pid: 1000 + (i as u32 % 500),
                    name: format!("server-{}", i % 37),
                    user: Some("alice".into()),
                    exe: None,
                    cmdline: None,
                }],
                None,
                i as u64 + 1,
            ),
            1..=90 => (
                TcpState::TimeWait,
                vec![],
                Some((i as u32 * 7 + salt) % 28_000 + 32_768),
                0,
            ),
            _ => (
                TcpState::Established,
                vec![ProcessInfo {
                    pid: 2000 + (i as u32 % 300),
                    name: "client".into(),
                    user: None,
                    exe: None,
                    cmdline: None,
                }],
                Some((i as u32 * 13 + salt) % 28_000 + 32_768),
                i as u64 + 1,
            ),
        };
        sockets.push(SocketEntry {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            local_addr: addr.into(),
            local_port: 1024 + (i % 60_000) as u16,
            remote_addr: remote.map(|_| std::net::IpAddr::from([127, 0, 0, 1])),
            remote_port: remote.map(|p| p as u16),
            state: Some(state),
            processes,
            time_wait_expires_in_ms: (state == TcpState::TimeWait)
                .then_some(1_000 + (i as u64 * 37) % 59_000),
            last_known_owner: (state == TcpState::TimeWait && i % 3 == 0).then(|| OwnerRef {
                pid: 1000 + (i as u32 % 500),
                name: "server".into(),
            }),
            netns: None,
            published: None,
            inode,
            uid: None,
            orphan: inode == 0,
        });
    }
    let mut s = Snapshot {
        taken_at_unix_ms: taken,
        sockets,
        ..Snapshot::default()
    };
    s.sort();
    s
}

/// Take in a snapshot as the app does; returns the replaced one, which the
/// app hands to the sampler thread to drop.
fn feed(state: &mut AppState, snap: Snapshot) -> Option<Snapshot> {
    let old = state.on_sample(Sample::Snapshot {
        snapshot: Box::new(snap),
        took: Duration::from_millis(1),
    });
    state.ensure_rows();
    old
}

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = ms(v[v.len() / 2]);
    let p95 = ms(v[v.len() * 95 / 100]);
    let max = ms(v[v.len() - 1]);
    (median, p95, max)
}

/// Frames of the whole window (shell + Sockets view) on a headless context.
fn frame_times(state: &AppState, frames: usize) -> Vec<Duration> {
    let ctx = egui::Context::default();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 720.0),
        )),
        ..Default::default()
    };
    // Warm up: fonts, galley cache, table sizing pass.
    for _ in 0..5 {
        let _ = ctx.run_ui(input(), |ui| {
            let mut actions: Vec<Action> = Vec::new();
            portwise::window::shell::view::show(ui, state, &mut actions);
        });
    }
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let t = Instant::now();
        let out = ctx.run_ui(input(), |ui| {
            let mut actions: Vec<Action> = Vec::new();
            portwise::window::shell::view::show(ui, state, &mut actions);
        });
        // Tessellation is part of a frame's CPU cost; painting is not.
        let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        times.push(t.elapsed());
        assert!(!prims.is_empty());
    }
    times
}

#[test]
#[ignore = "benchmark: run benches/sockets_view.sh"]
fn sockets_view_frame_100k_rows() {
    let frames = 300;
    for (n, label) in [(30, "30 rows"), (100_000, "100k rows")] {
        let mut state = AppState::new(Settings::default(), T0);
        // All states, so all n rows are in the table.
        state.apply(Action::Sockets(SocketsMsg::SetQuick(
            portwise::window::sockets::Quick::AllStates,
            true,
        )));
        feed(&mut state, big_snapshot(n, T0, 0));
        state.tick(T0 + 500);
        assert_eq!(state.sockets.rows().len(), n);
        let (med, p95, max) = stats(frame_times(&state, frames));
        println!(
            "frame, {label:>9}: median {med:.3} ms, p95 {p95:.3} ms, max {max:.3} ms ({frames} frames)"
        );
    }

    // Taking in a new snapshot on the UI thread: merge-diff, filter, sort.
    // "unchanged": the same sockets again; "90% churn": every TIME_WAIT
    // socket replaced by another (the worst case).
    for (quick_all, churn, label) in [
        (false, 0, "default toggles, unchanged"),
        (false, 1, "default toggles, 90% churn"),
        (true, 0, "all states, unchanged"),
        (true, 1, "all states, 90% churn"),
    ] {
        let mut times = Vec::new();
        for round in 0..5u32 {
            let mut state = AppState::new(Settings::default(), T0);
            if quick_all {
                state.apply(Action::Sockets(SocketsMsg::SetQuick(
                    portwise::window::sockets::Quick::AllStates,
                    true,
                )));
            }
            feed(&mut state, big_snapshot(100_000, T0, round));
            let next = big_snapshot(100_000, T0 + 1_000, round + churn);
            state.tick(T0 + 1_000);
            let t = Instant::now();
            let old = feed(&mut state, next);
            times.push(t.elapsed());
            drop(old);
        }
        let (med, _, max) = stats(times);
        println!("new 100k snapshot ({label}): median {med:.1} ms, max {max:.1} ms");
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        let mut state = AppState::new(Settings::default(), T0);
        feed(&mut state, big_snapshot(100_000, T0, 0));
        let t = Instant::now();
        state.apply(Action::Sockets(SocketsMsg::SortBy(
            portwise::window::sockets::Column::Process,
        )));
        state.ensure_rows();
        times.push(t.elapsed());
    }
    let (med, _, max) = stats(times);
    println!("re-sort 100k by process: median {med:.1} ms, max {max:.1} ms");
}

/// A source whose every snapshot builds 50k sockets and then holds the
/// sampler for 400 ms more, like a slow system.
struct SlowSource {
    round: u32,
}

impl SocketSource for SlowSource {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        self.round += 1;
        let s = big_snapshot(50_000, T0 + self.round as u64 * 1_000, self.round);
        std::thread::sleep(Duration::from_millis(400));
        Ok(s)
    }
}

struct NoDialogs;
impl FileDialogs for NoDialogs {
    fn save_file(&mut self, _: &SaveRequest) -> Option<std::path::PathBuf> {
        None
    }
    fn open_file(&mut self, _: &OpenRequest) -> Option<std::path::PathBuf> {
        None
    }
}
struct NoClipboard;
impl Clipboard for NoClipboard {
    fn copy(&mut self, _: &egui::Context, _: String) {}
}
struct NoStop;
impl StopService for NoStop {
    fn plan(&self, _: u16, _: &[u32], _: &Snap) -> Result<Vec<StopTarget>, String> {
        Err("not in a benchmark".into())
    }
    fn stop(&self, t: &StopTarget, _: bool) -> StopReport {
        portwise::fixtures::stop_report(t, StopOutcome::Refused, "not in a benchmark")
    }
}

#[test]
#[ignore = "benchmark: run benches/sockets_view.sh"]
fn frames_do_not_wait_for_a_slow_50k_refresh() {
    let services = Services {
        source: Box::new(SlowSource { round: 0 }),
        dialogs: Box::new(NoDialogs),
        clipboard: Box::new(NoClipboard),
        stop: Box::new(NoStop),
        clock: Box::new(portwise::util::time::now_unix_ms),
        sysctls: std::sync::Arc::new(portwise::tuning::NoSystem),
        start_paused: false,
        runner: portwise::window::tasks::Runner::Threads,
    };
    let mut h: Harness<'_, PortwiseApp> = Harness::builder()
        .with_size([1280.0, 720.0])
        .with_max_steps(1_000)
        .build_eframe(move |cc| {
            PortwiseApp::with_context(&cc.egui_ctx, Settings::default(), services)
        });

    // Frames for ~3 s of wall time while the sampler works (each snapshot
    // takes > 400 ms there). Frames that took in a new snapshot are timed
    // apart from the rest.
    let mut idle = Vec::new();
    let mut ingest = Vec::new();
    let end = Instant::now() + Duration::from_secs(3);
    let mut last_taken = 0;
    while Instant::now() < end {
        let t = Instant::now();
        h.step();
        let d = t.elapsed();
        let taken = h.state().state.sockets.snapshot.taken_at_unix_ms;
        if taken != last_taken {
            ingest.push(d);
            last_taken = taken;
        } else {
            idle.push(d);
        }
        std::thread::sleep(Duration::from_millis(4));
    }
    let (med, p95, max) = stats(idle.clone());
    println!(
        "app frames while a 50k refresh (> 400 ms) runs: {} frames, median {med:.2} ms, p95 {p95:.2} ms, max {max:.2} ms (kittest step, accesskit on)",
        idle.len()
    );
    if !ingest.is_empty() {
        let (imed, _, imax) = stats(ingest.clone());
        println!(
            "frames that took in a new 50k snapshot: {} frames, median {imed:.1} ms, max {imax:.1} ms",
            ingest.len()
        );
    }
    assert!(
        ingest.len() >= 2,
        "the sampler delivered snapshots meanwhile"
    );
    // No idle frame came near the 400 ms the sampler spends per snapshot.
    assert!(max < 200.0, "a frame waited: {max:.1} ms");
}
