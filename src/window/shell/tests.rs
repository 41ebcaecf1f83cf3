//! AppState without any UI: actions in, state and effects out.

use std::time::Duration;

use super::*;
use crate::fixtures::{self, entry, ip};
use crate::sockets::{ProcessInfo, Proto, Snapshot, SocketEntry, TcpState};
use crate::window::sampler::Sample;
use crate::window::sockets::*;
use crate::window::stop::StopMsg;
use crate::window::stop::{StopOutcome, StopReport, StopTarget};
use crate::window::tasks::Tasks;

fn listener(port: u16, name: &str, pid: u32) -> SocketEntry {
    fixtures::listener("127.0.0.1", port, pid, name)
}

fn time_wait(port: u16, remote_port: u16, left_ms: u64) -> SocketEntry {
    fixtures::time_wait(port, remote_port, left_ms, Some((77, "server")))
}

pub(super) use crate::fixtures::snapshot as snap;

pub(super) fn feed(st: &mut AppState, s: Snapshot) {
    st.on_sample(Sample::Snapshot {
        snapshot: Box::new(s),
        took: Duration::from_millis(3),
    });
    st.ensure_rows();
}

fn ports(st: &AppState) -> Vec<u16> {
    st.sockets
        .rows()
        .iter()
        .map(|r| st.sockets.entry(*r).unwrap().local_port)
        .collect()
}

fn base() -> Vec<SocketEntry> {
    let mut udp = entry(Proto::Udp, "0.0.0.0", 5353, None);
    udp.processes = vec![ProcessInfo {
        pid: 9,
        name: "avahi".into(),
        user: None,
        exe: None,
    }];
    let mut est = listener(8080, "python3", 4242);
    est.state = Some(TcpState::Established);
    est.remote_addr = Some(ip("10.0.0.2"));
    est.remote_port = Some(51000);
    est.inode = 5;
    vec![
        listener(8080, "python3", 4242),
        listener(22, "sshd", 1),
        udp,
        time_wait(8080, 40000, 30_000),
        est,
    ]
}

#[test]
fn default_toggles_show_listeners_udp_and_time_wait_sorted_by_port() {
    let mut st = AppState::new(Settings::default(), 1_000);
    feed(&mut st, snap(1_000, base()));
    assert_eq!(ports(&st), vec![22, 5353, 8080, 8080]);
    assert_eq!(st.sockets.shown_counts(), (4, 5));
    assert_eq!(st.counts(), (3, 1, 0));
    let s = &st.sockets.snapshot;
    assert_eq!(
        st.counts(),
        (s.listening_count(), s.time_wait_count(), s.unattributed)
    );
    // Counted again when the next snapshot arrives.
    let mut next = snap(2_000, base()[..1].to_vec());
    next.unattributed = 4;
    feed(&mut st, next);
    assert_eq!(st.counts(), (1, 0, 4));
}

#[test]
fn quick_toggles_and_text_filter() {
    let mut st = AppState::new(Settings::default(), 1_000);
    feed(&mut st, snap(1_000, base()));

    st.apply(Action::SetQuick(Quick::AllStates, true));
    st.ensure_rows();
    assert_eq!(st.sockets.shown_counts(), (5, 5));

    st.apply(Action::SetQuick(Quick::AllStates, false));
    st.apply(Action::SetQuick(Quick::Listening, false));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![8080], "only TIME_WAIT");

    st.apply(Action::SetQuick(Quick::Listening, true));
    st.apply(Action::SetQuick(Quick::TimeWait, false));
    st.apply(Action::SetQuick(Quick::Udp, false));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![22, 8080]);

    st.apply(Action::SetQuick(Quick::Udp, true));
    st.apply(Action::SetQuick(Quick::Tcp, false));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![5353]);

    // Text: process name (any case), pid, port, address.
    st.apply(Action::SetQuick(Quick::Tcp, true));
    st.apply(Action::SetQuick(Quick::TimeWait, true));
    for (text, want) in [
        ("SSHD", vec![22]),
        ("4242", vec![8080]),
        ("5353", vec![5353]),
        ("0.0.0.0", vec![5353]),
    ] {
        st.apply(Action::SetFilterText(text.into()));
        st.ensure_rows();
        assert_eq!(ports(&st), want, "filter {text:?}");
    }
    st.apply(Action::SetFilterText("nothing-like-this".into()));
    st.ensure_rows();
    assert!(st.sockets.rows().is_empty());
    assert_eq!(st.sockets.shown_counts(), (0, 5));
    st.apply(Action::ClearFilterText);
    st.ensure_rows();
    assert_eq!(st.sockets.rows().len(), 4);
}

#[test]
fn sorting_by_header_and_reversing() {
    let mut st = AppState::new(Settings::default(), 1_000);
    feed(&mut st, snap(1_000, base()));
    st.apply(Action::SortBy(Column::Port));
    st.ensure_rows();
    assert!(st.settings.sort.descending);
    assert_eq!(ports(&st), vec![8080, 8080, 5353, 22]);

    st.apply(Action::SortBy(Column::Process));
    st.ensure_rows();
    let names: Vec<String> = st
        .sockets
        .rows()
        .iter()
        .map(|r| process_text(st.sockets.entry(*r).unwrap()))
        .collect();
    // Owned sockets by name, the unowned TIME_WAIT last.
    assert_eq!(names, vec!["avahi (9)", "python3 (4242)", "sshd (1)", ""]);

    st.apply(Action::SortBy(Column::State));
    st.ensure_rows();
    let states: Vec<&str> = st
        .sockets
        .rows()
        .iter()
        .map(|r| state_text(st.sockets.entry(*r).unwrap()))
        .collect();
    assert_eq!(states, vec!["LISTEN", "LISTEN", "TIME_WAIT", "bound"]);
}

#[test]
fn countdown_counts_down_from_the_snapshot_and_rounds_up() {
    let e = time_wait(8080, 40000, 30_000);
    assert_eq!(time_wait_left_ms(&e, 1_000, 1_000), Some(30_000));
    assert_eq!(time_wait_left_ms(&e, 1_000, 6_500), Some(24_500));
    assert_eq!(countdown_text(24_500), "25 s");
    assert_eq!(countdown_text(1), "1 s");
    assert_eq!(time_wait_left_ms(&e, 1_000, 99_000), Some(0));
    assert_eq!(countdown_text(0), "0 s");
    assert!((countdown_fraction(30_000) - 0.5).abs() < 1e-6);
    assert_eq!(countdown_fraction(90_000), 1.0);
    // No countdown for non-TIME_WAIT, none invented where the OS gave none.
    assert_eq!(time_wait_left_ms(&listener(1, "x", 1), 0, 0), None);
    let mut unknown = time_wait(1, 2, 0);
    unknown.time_wait_expires_in_ms = None;
    assert_eq!(time_wait_left_ms(&unknown, 0, 0), None);
}

#[test]
fn new_rows_highlight_and_gone_rows_linger_then_fade() {
    let mut st = AppState::new(Settings::default(), 10_000);
    feed(&mut st, snap(10_000, base()));
    assert_eq!(
        st.sockets.new_count(10_000),
        0,
        "the first snapshot is not 'new'"
    );

    // Next snapshot: sshd went away, a listener on 9000 appeared.
    let mut next = base();
    next.retain(|e| e.local_port != 22);
    next.push(listener(9000, "node", 555));
    // A new ESTABLISHED connection: new, but filtered out, so not counted.
    let mut est = listener(9000, "node", 555);
    est.state = Some(TcpState::Established);
    est.remote_addr = Some(ip("127.0.0.1"));
    est.remote_port = Some(60_000);
    est.inode = 9;
    next.push(est);
    st.tick(11_000);
    feed(&mut st, snap(11_000, next.clone()));
    let k9000 = RowKey::of(&listener(9000, "node", 555));
    let k22 = RowKey::of(&listener(22, "sshd", 1));
    let live9000 = RowRef::Live(st.sockets.live_index(&k9000).unwrap());
    assert_eq!(
        st.sockets.highlight(live9000, 11_000),
        Some((Change::New, 1.0))
    );
    assert_eq!(st.sockets.new_count(11_000), 1);
    assert_eq!(st.sockets.gone_count(), 1);
    assert_eq!(ports(&st), vec![22, 5353, 8080, 8080, 9000]);
    let gone_row = st
        .sockets
        .rows()
        .iter()
        .find(|r| matches!(r, RowRef::Gone(_)))
        .copied()
        .unwrap();
    assert_eq!(st.sockets.entry(gone_row).unwrap().local_port, 22);
    // The gone row is not a live row: export and counts skip it.
    assert_eq!(st.visible_live_rows().len(), 4);
    assert_eq!(st.sockets.shown_counts(), (4, 6));
    let (_, gone) = st.sockets.find(&k22).unwrap();
    let gone = gone.expect("lingering, not live");
    // The row's countdown base comes with it (the details panel uses it).
    assert_eq!(gone.last_taken_at_ms, st.sockets.taken_at(gone_row));

    // Half way: both fade.
    st.tick(12_500);
    let (c, h) = st.sockets.highlight(live9000, 12_500).unwrap();
    assert!(c == Change::New && (h - 0.5).abs() < 1e-3);
    let (c, h) = st.sockets.highlight(gone_row, 12_500).unwrap();
    assert!(c == Change::Gone && (h - 0.5).abs() < 1e-3);
    assert!(st.sockets.animating(12_500));
    // Still new one refresh later, while inside its time.
    let same = snap(12_600, st.sockets.snapshot.sockets.clone());
    st.tick(12_600);
    feed(&mut st, same);
    let live9000 = RowRef::Live(st.sockets.live_index(&k9000).unwrap());
    assert_eq!(
        st.sockets.highlight(live9000, 12_600).unwrap().0,
        Change::New
    );
    assert_eq!(st.sockets.new_count(12_600), 1);

    // Past the linger time: the gone row leaves the table, no highlight.
    st.tick(14_100);
    assert_eq!(ports(&st), vec![5353, 8080, 8080, 9000]);
    assert_eq!(st.sockets.highlight(live9000, 14_100), None);
    assert_eq!(st.sockets.new_count(14_100), 0);
    assert!(!st.sockets.animating(14_100));

    // Same snapshot again: nothing new, nothing gone.
    feed(&mut st, snap(15_000, next));
    assert_eq!(
        (st.sockets.new_count(15_000), st.sockets.gone_count()),
        (0, 0)
    );
}

#[test]
fn a_socket_that_comes_back_is_not_also_shown_as_gone() {
    let mut st = AppState::new(Settings::default(), 0);
    feed(&mut st, snap(0, base()));
    let mut without = base();
    without.retain(|e| e.local_port != 22);
    feed(&mut st, snap(1_000, without));
    assert_eq!(st.sockets.gone_count(), 1);
    feed(&mut st, snap(2_000, base()));
    assert_eq!(st.sockets.gone_count(), 0);
    assert_eq!(ports(&st), vec![22, 5353, 8080, 8080]);
}

#[test]
fn sampling_error_keeps_the_last_good_snapshot() {
    let mut st = AppState::new(Settings::default(), 0);
    feed(&mut st, snap(0, base()));
    st.on_sample(Sample::Error(crate::sockets::SourceError(
        "netlink: EPERM".into(),
    )));
    st.ensure_rows();
    assert_eq!(st.sockets.error.as_ref().unwrap().0, "netlink: EPERM");
    assert_eq!(st.sockets.rows().len(), 4);
    feed(&mut st, snap(1_000, base()));
    assert!(st.sockets.error.is_none());
}

#[test]
fn copy_actions_put_text_on_the_clipboard_effect() {
    let mut st = AppState::new(Settings::default(), 6_000);
    feed(&mut st, snap(1_000, base()));
    let tw = RowKey::of(&time_wait(8080, 40000, 30_000));
    st.apply(Action::Copy(CopyWhat::Port, tw));
    st.apply(Action::Copy(CopyWhat::Address, tw));
    st.apply(Action::Select(Some(tw)));
    st.apply(Action::CopySelected);
    let texts: Vec<String> = st
        .take_effects()
        .into_iter()
        .map(|e| match e {
            Effect::CopyText(t) => t,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(texts[0], "8080");
    assert_eq!(texts[1], "127.0.0.1:8080");
    assert_eq!(
        texts[2],
        "TCP\t127.0.0.1:8080\tTIME_WAIT\t\t\t25 s\t127.0.0.1:40000\twas: server (77)"
    );
    assert!(st.toasts().iter().any(|t| t.text == "Copied 8080"));
}

#[test]
fn export_writes_visible_rows_as_csv_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = AppState::new(Settings::default(), 0);
    feed(&mut st, snap(0, base()));
    st.apply(Action::SetFilterText("8080".into()));
    st.ensure_rows();

    let csv = dir.path().join("out"); // no extension: becomes out.csv
    assert_eq!(st.export_to(&csv), Ok(2));
    let text = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], export::CSV_HEADER);
    assert_eq!(lines[1], "tcp,ipv4,127.0.0.1,8080,,,LISTEN,4242,python3,");
    assert_eq!(
        lines[2],
        "tcp,ipv4,127.0.0.1,8080,127.0.0.1,40000,TIME_WAIT,,,30000"
    );
    assert_eq!(lines.len(), 3);

    let json = dir.path().join("out.json");
    assert_eq!(st.export_to(&json), Ok(2));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["sockets"].as_array().unwrap().len(), 2);
    assert_eq!(v["sockets"][0]["processes"][0]["name"], "python3");
    assert_eq!(v["sockets"][1]["state"], "TIME_WAIT");

    // Errors are reported, not raised.
    let bad = std::path::Path::new("/nonexistent-dir/x.csv");
    assert!(st.export_to(bad).is_err());
    let last = st.toasts().last().unwrap();
    assert_eq!(last.kind, ToastKind::Error);
    assert!(
        last.text.contains("/nonexistent-dir/x.csv"),
        "{}",
        last.text
    );
}

#[test]
fn csv_quotes_fields_that_need_it() {
    let mut e = listener(1, "we,ird \"name\"", 3);
    e.processes[0].user = None;
    let out = export::to_csv([&e]);
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .ends_with(",3,\"we,ird \"\"name\"\"\",")
    );
}

/// Records what it is asked to plan and stop; plans nothing.
#[derive(Default)]
struct RecordingStop {
    plans: std::sync::Mutex<Vec<(u16, Vec<u32>)>>,
    stops: std::sync::Mutex<Vec<(u32, bool)>>,
}

impl crate::stop::StopService for RecordingStop {
    fn plan(&self, port: u16, pids: &[u32], _: &Snapshot) -> Result<Vec<StopTarget>, String> {
        self.plans.lock().unwrap().push((port, pids.to_vec()));
        Err("recorded".into())
    }
    fn stop(&self, t: &StopTarget, force: bool) -> StopReport {
        self.stops.lock().unwrap().push((t.pid, force));
        StopReport {
            pid: t.pid,
            name: t.name.clone(),
            outcome: StopOutcome::Terminated,
            message: "recorded".into(),
            elapsed_ms: 0,
            port_freed: None,
        }
    }
}

#[test]
fn stop_flow_plans_confirms_and_reports() {
    let service = std::sync::Arc::new(RecordingStop::default());
    let workers = crate::window::ctx::Workers {
        stop: service.clone(),
        sysctls: std::sync::Arc::new(crate::tuning::NoSystem),
    };
    let mut st = AppState::with(Settings::default(), 0, Tasks::manual(), workers);
    feed(&mut st, snap(0, base()));
    let k = RowKey::of(&listener(8080, "python3", 4242));
    st.apply(Action::AskStop(k));
    assert_eq!(st.tasks.queued(), vec!["portwise-plan"]);
    st.tasks.run_queued(None);
    assert_eq!(*service.plans.lock().unwrap(), vec![(8080, vec![4242])]);
    st.poll_tasks();

    // TIME_WAIT has no process: no plan, a clear notice.
    st.apply(Action::AskStop(RowKey::of(&time_wait(8080, 40000, 1))));
    assert!(st.take_effects().is_empty() && st.tasks.queued().is_empty());
    assert!(st.toasts().last().unwrap().text.contains("nothing to stop"));

    let target = StopTarget {
        pid: 4242,
        name: "python3".into(),
        user: Some("alice".into()),
        cmdline: "python3 -m http.server 8080".into(),
        start_time: 1,
        caveats: vec![],
        port: Some(8080),
        refusal: None,
    };
    // A refused target is shown but never sent to the stopper.
    let refused = StopTarget {
        pid: 1,
        name: "systemd".into(),
        refusal: Some("pid 1 is the init process".into()),
        ..target.clone()
    };
    let planned = |st: &mut AppState, p| st.apply(Action::Stop(StopMsg::Planned(p)));
    planned(&mut st, Ok(vec![target.clone()]));
    assert!(st.stop_dialog.is_some());
    st.apply(Action::Stop(StopMsg::Cancel));
    assert!(st.stop_dialog.is_none());

    planned(&mut st, Ok(vec![target.clone(), refused.clone()]));
    st.apply(Action::Stop(StopMsg::Confirm { force: false }));
    assert!(st.stop_dialog.is_none());
    // The stop runs on a worker, with only the stoppable target.
    assert_eq!(st.tasks.queued(), vec!["portwise-stop"]);
    st.tasks.run_queued(None);
    assert_eq!(*service.stops.lock().unwrap(), vec![(target.pid, false)]);
    st.poll_tasks();
    st.take_effects();
    planned(&mut st, Ok(vec![refused]));
    st.apply(Action::Stop(StopMsg::Confirm { force: true }));
    assert!(
        st.take_effects().is_empty() && st.tasks.queued().is_empty(),
        "nothing stoppable"
    );
    let finished = |st: &mut AppState, r| st.apply(Action::Stop(StopMsg::Finished(r)));
    finished(
        &mut st,
        vec![StopReport {
            pid: 4242,
            name: "python3".into(),
            outcome: StopOutcome::Terminated,
            message: "stopped python3 (4242)".into(),
            elapsed_ms: 30,
            port_freed: Some(true),
        }],
    );
    assert_eq!(st.take_effects(), vec![Effect::RefreshNow]);
    let t = st.toasts().last().unwrap();
    assert_eq!(
        (t.kind, t.text.as_str()),
        (ToastKind::Success, "stopped python3 (4242)")
    );

    finished(
        &mut st,
        vec![StopReport {
            pid: 4242,
            name: "python3".into(),
            outcome: StopOutcome::PermissionDenied,
            message: "permission denied: run sudo portwise".into(),
            elapsed_ms: 0,
            port_freed: None,
        }],
    );
    assert_eq!(st.toasts().last().unwrap().kind, ToastKind::Error);
    planned(&mut st, Err("permission denied".into()));
    assert!(st.stop_dialog.is_none());
    assert!(
        st.toasts()
            .last()
            .unwrap()
            .text
            .contains("permission denied")
    );
}

#[test]
fn toasts_expire_and_can_be_dismissed() {
    let mut st = AppState::new(Settings::default(), 0);
    st.toast(ToastKind::Info, "a");
    st.toast(ToastKind::Error, "b");
    let id_b = st.toasts()[1].id;
    st.tick(5_000);
    assert_eq!(
        st.toasts().len(),
        1,
        "info goes after 4 s, errors stay longer"
    );
    st.apply(Action::DismissToast(id_b));
    assert!(st.toasts().is_empty());
}

#[test]
fn interval_pause_resume_refresh_become_sampler_effects() {
    let mut st = AppState::new(Settings::default(), 0);
    st.apply(Action::SetInterval(2_000));
    st.apply(Action::SetInterval(3)); // not offered: ignored
    st.apply(Action::Pause);
    st.apply(Action::Resume);
    st.apply(Action::RefreshNow);
    assert_eq!(
        st.take_effects(),
        vec![
            Effect::SetInterval(Duration::from_secs(2)),
            Effect::Pause,
            Effect::Resume,
            Effect::RefreshNow
        ]
    );
    assert_eq!(st.settings.interval_ms, 2_000);
}

#[test]
fn settings_round_trip_and_bad_values_are_repaired() {
    let mut s = Settings::default();
    s.filter.text = "8080".into();
    s.sort = Sort {
        column: Column::TimeWait,
        descending: true,
    };
    s.column_widths = Column::ALL
        .iter()
        .map(|c| c.default_width() + 1.0)
        .collect();
    let json = serde_json::to_string(&s).unwrap();
    let back: Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(back.clone().sanitised(), s);

    let mut bad = back;
    bad.interval_ms = 7;
    bad.column_widths = vec![f32::NAN; 3];
    let fixed = bad.sanitised();
    assert_eq!(fixed.interval_ms, DEFAULT_INTERVAL_MS);
    assert!(fixed.column_widths.is_empty());
    assert_eq!(
        fixed.column_width(Column::Port),
        Column::Port.default_width()
    );

    // Missing fields (an older store) fall back to defaults.
    let partial: Settings = serde_json::from_str(r#"{"interval_ms": 5000}"#).unwrap();
    assert_eq!(partial.interval_ms, 5_000);
    assert_eq!(partial.filter, QuickFilter::default());
}

#[test]
fn utc_clock_and_interval_texts() {
    assert_eq!(utc_clock_text(0), "00:00:00 UTC");
    assert_eq!(utc_clock_text(1_700_000_000_000), "22:13:20 UTC");
    assert_eq!(interval_text(500), "500 ms");
    assert_eq!(interval_text(2_000), "2 s");
}

#[test]
fn an_export_job_copies_the_rows_and_writes_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = AppState::new(Settings::default(), 0);
    feed(&mut st, snap(0, base()));
    st.apply(Action::SetFilterText("8080".into()));
    st.ensure_rows();
    let job = st.export_job(&dir.path().join("later"));
    assert_eq!(job.path, dir.path().join("later.csv"));
    // The state moves on (a new snapshot) before the worker writes.
    feed(&mut st, snap(1_000, Vec::new()));
    assert!(!job.path.exists(), "nothing written on this thread");
    let result = job.run();
    assert_eq!(result, Ok(2));
    assert_eq!(
        std::fs::read_to_string(&job.path).unwrap().lines().count(),
        3
    );
    st.exported(&job.path, &result);
    assert!(
        st.toasts()
            .iter()
            .any(|t| t.text.starts_with("Exported 2 rows to"))
    );
}

#[test]
fn all_states_includes_bound_only_sockets_and_says_so() {
    let mut st = AppState::new(Settings::default(), 1_000);
    let mut bound = listener(7070, "app", 77);
    bound.state = Some(TcpState::Closed);
    feed(&mut st, snap(1_000, vec![bound]));
    assert!(ports(&st).is_empty(), "not a port holder by default");
    st.apply(Action::SetQuick(Quick::AllStates, true));
    st.ensure_rows();
    // Unlike `portwise list --all`: a bound-only socket holds its port.
    assert_eq!(ports(&st), vec![7070]);
    let tip = Quick::AllStates.tooltip();
    assert!(
        tip.contains("bound-only") && tip.contains("--state closed"),
        "{tip}"
    );
}
