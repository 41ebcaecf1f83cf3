//! Issue 13 §4: the window's texts name its buttons, not CLI flags, and Tab
//! moves through each view's controls in visual order. Every label of Free
//! port, Bind test (with real failures on loopback), Kernel tuning and the
//! Stop dialog is walked: none names a flag (" --x") or a `portwise`
//! command, except a command line shown on purpose right after a
//! "Command line:" or "In a terminal:" label, or a line of the snippet
//! file the tuning preview shows.

mod common;

use std::net::{Ipv4Addr, TcpListener};

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _, by};
use portwise::sockets::SystemSource;
use portwise::tuning::Goal;
use portwise::window::app::PortwiseApp;
use portwise::window::shell::{Action, Settings, TuningAction, View};
use portwise::window::stop::StopMsg;

type H = Harness<'static, PortwiseApp>;

/// The labels that may show a command line: the one right after them.
const CLI_MARKERS: [&str; 2] = ["Command line:", "In a terminal:"];

/// Every node's text, in the tree's (drawing) order.
fn texts(h: &H) -> Vec<String> {
    h.query_all(by().predicate(|_| true))
        .filter_map(|n| {
            let n = n.accesskit_node();
            n.label().or_else(|| n.value())
        })
        .filter(|t| !t.is_empty())
        .fold(Vec::new(), |mut v: Vec<String>, t| {
            // A label and its text run carry the same text: once.
            if v.last() != Some(&t) {
                v.push(t);
            }
            v
        })
}

/// " --x", "`portwise ", "portwise bind-test" and the like.
fn names_cli(t: &str) -> bool {
    let b = t.as_bytes();
    let flag = (0..b.len().saturating_sub(2)).any(|i| {
        b[i] == b'-'
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_alphabetic()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'))
    });
    let command = ["list", "free", "bind-test", "stop", "run", "tuning"]
        .iter()
        .any(|c| t.contains(&format!("portwise {c}")));
    flag || command
}

/// Fails on any text naming the CLI that is not a command line shown on
/// purpose (after a marker label) or one of `allowed` (snippet lines).
fn assert_no_cli_texts(h: &H, what: &str, allowed: &[String]) {
    let all = texts(h);
    let mut bad = Vec::new();
    for (i, t) in all.iter().enumerate() {
        if !names_cli(t) || allowed.iter().any(|a| a.trim() == t.trim()) {
            continue;
        }
        let marked = i > 0 && CLI_MARKERS.contains(&all[i - 1].as_str());
        // A Copy button's own label names only the command it copies.
        if !marked {
            bad.push(format!("{t:?} (after {:?})", &all[i.saturating_sub(2)..i]));
        }
    }
    assert!(bad.is_empty(), "{what}: texts naming CLI flags: {bad:#?}");
}

#[test]
fn the_checker_catches_flags_and_commands() {
    assert!(names_cli("Reserving (--reserve) goes further"));
    assert!(names_cli("--os"));
    assert!(names_cli("run `portwise bind-test 8080`"));
    assert!(!names_cli("Tick SO_REUSEADDR and test again"));
    assert!(!names_cli("range 20000-29999 -- or not"));
}

fn free_loopback_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The app on the real socket engine and the real clock, on `view`.
fn real_app(rig: &Rig, view: View) -> H {
    let mut services = rig.services();
    services.source = Box::new(SystemSource::new());
    services.clock = Box::new(portwise::util::time::now_unix_ms);
    let settings = Settings {
        view,
        ..Settings::default()
    };
    Rig::builder()
        .build_eframe(move |cc| PortwiseApp::with_context(&cc.egui_ctx, settings, services))
}

#[test]
fn free_port_names_its_controls_not_flags() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    click(&mut h, "Assigned by the OS (port 0)");
    click(&mut h, "Reserve for about a minute");
    set_field(&mut h, "How many", "2");
    click(&mut h, "Grab 2 free ports");
    settled(&mut h, |app| app.state.free.history.len() == 2);
    // The command line is there, labelled as such.
    h.get_by_label("portwise free --count 2 --os --reserve");
    assert_no_cli_texts(&h, "Free port", &[]);
    h.get_by_label_contains("\"Reserve for about a minute\" goes one step further");
}

/// Wait until the failed test's diagnosis arrived.
fn diagnosed(h: &mut H) {
    settled(h, |app| {
        app.state
            .bind
            .result
            .as_ref()
            .is_some_and(|r| r.report.diagnosis.is_some())
    });
}

#[test]
fn bind_test_fixes_are_buttons_that_do_what_they_say() {
    let rig = Rig::new();
    let mut h = real_app(&rig, View::BindTest);

    // A live listener: Stop process…, Watch until free, Open Free port.
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    diagnosed(&mut h);
    h.run();
    h.get_by_label("Stop process…");
    h.get_by_label("Open Free port");
    assert_no_cli_texts(&h, "Bind test, a listener", &[]);
    click(&mut h, "Open Free port");
    assert_eq!(h.state().state.settings.view, View::FreePort);
    drop(held);

    // TIME_WAIT left by a closed connection (the listener set
    // SO_REUSEADDR, as Rust's std does on Unix): "Tick SO_REUSEADDR and
    // test again" really binds.
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let tw_port = l.local_addr().unwrap().port();
    common::make_time_wait(&l, 1);
    drop(l);
    h.state_mut().state.apply(Action::ShowView(View::BindTest));
    h.run();
    set_field(&mut h, "Port", &tw_port.to_string());
    click(&mut h, "Test");
    diagnosed(&mut h);
    h.run();
    let r = h.state().state.bind.result.clone().unwrap();
    if r.report.ok {
        eprintln!("SKIPPED: this kernel let the bind through beside TIME_WAIT");
        return;
    }
    assert_eq!(
        r.report.diagnosis.as_ref().unwrap().cause,
        portwise::bind::Cause::TimeWait,
        "{r:?}"
    );
    // The fix's own "Watch until free" beside the form's.
    assert_eq!(h.query_all_by_label("Watch until free").count(), 2);
    assert_no_cli_texts(&h, "Bind test, TIME_WAIT", &[]);
    click(&mut h, "Tick SO_REUSEADDR and test again");
    let b = &h.state().state.bind;
    assert!(b.reuseaddr, "the box is ticked");
    assert!(
        b.result.as_ref().is_some_and(|r| r.report.ok),
        "SO_REUSEADDR binds beside TIME_WAIT"
    );
    h.get_by_label("Bindable");
}

#[test]
fn kernel_tuning_names_its_controls_not_flags() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::Tuning);
    for g in Goal::ALL {
        h.state_mut()
            .state
            .apply(Action::Tuning(TuningAction::SetGoal(g, true)));
    }
    h.state_mut()
        .state
        .apply(Action::Tuning(TuningAction::SetReservePorts("8080".into())));
    h.run();
    for os in [
        portwise::tuning::Os::Linux,
        portwise::tuning::Os::Macos,
        portwise::tuning::Os::Windows,
    ] {
        h.state_mut()
            .state
            .apply(Action::Tuning(TuningAction::SetOs(os)));
        h.run();
        let snippet: Vec<String> = match &h.state().state.tuning.preview {
            Ok(s) => s.text().lines().map(str::to_string).collect(),
            Err(e) => panic!("no preview for {os:?}: {e}"),
        };
        assert_no_cli_texts(&h, &format!("Kernel tuning, {os:?}"), &snippet);
    }
    // The restart goal's note names the Bind test view, not the command.
    h.state_mut()
        .state
        .apply(Action::Tuning(TuningAction::SetOs(
            portwise::tuning::Os::Linux,
        )));
    h.run();
    h.get_by_label_contains("the Bind test view names the holder");
}

#[test]
fn the_stop_dialog_names_no_flags() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::Sockets);
    let t = stop_target(4242, "python3", 8080);
    h.state_mut()
        .state
        .apply(Action::Stop(StopMsg::Planned(Ok(vec![t.clone()]))));
    h.run();
    h.get_by_label("Stop this process?");
    assert_no_cli_texts(&h, "Stop dialog", &[]);
    h.state_mut().state.apply(Action::Stop(StopMsg::Finished {
        force: false,
        results: vec![(
            t.clone(),
            portwise::stop::StopReport {
                elapsed_ms: 5_000,
                ..stop_report(
                    &t,
                    portwise::stop::StopOutcome::StillRunning,
                    "python3 (pid 4242) is still running 5 s after SIGTERM; `portwise stop --pid \
                     4242 --force` kills it at once",
                )
            },
        )],
    }));
    h.run();
    h.get_by_label("Still running: kill it?");
    assert_no_cli_texts(&h, "Stop dialog, still running", &[]);
}

/// The labels Tab visits from `first`, in order, until it comes back to
/// `first` or after `max` presses.
fn tab_order(h: &mut H, first: &str, max: usize) -> Vec<String> {
    h.get_by_label(first).focus();
    h.run();
    let mut seen = Vec::new();
    for _ in 0..max {
        let focused = h
            .query_all(by().predicate(|n| n.is_focused()))
            .next()
            .map(|n| n.accesskit_node().label().unwrap_or_default());
        let Some(name) = focused else { break };
        if seen.first() == Some(&name) {
            break;
        }
        seen.push(name);
        h.key_press(egui::Key::Tab);
        h.run();
    }
    seen
}

/// The view's own controls Tab visits, in order (the shell's top bar
/// follows them, and Tab then comes back round to the view).
fn view_tab_order(h: &mut H, first: &str) -> Vec<String> {
    let mut order = tab_order(h, first, 60);
    if let Some(i) = order.iter().position(|l| l == "Sockets") {
        assert_eq!(
            order[i..i + 5],
            [
                "Sockets",
                "Free port",
                "Bind test",
                "Kernel tuning",
                "Fleet"
            ],
            "the top bar, left to right"
        );
        order.truncate(i);
    }
    order
}

/// Each control after the one before it on screen: further right on the
/// same row, or on a row below.
fn assert_visual_order(h: &H, labels: &[String]) {
    let rect = |l: &str| {
        h.query_all_by_label(l)
            .find(|n| !n.accesskit_node().is_hidden())
            .map(|n| n.rect())
            .unwrap_or_else(|| panic!("no {l}"))
    };
    for w in labels.windows(2) {
        let (a, b) = (rect(&w[0]), rect(&w[1]));
        let same_row = b.center().y > a.top() && b.center().y < a.bottom();
        assert!(
            (same_row && b.left() >= a.right() - 1.0) || b.top() >= a.bottom() - 1.0,
            "Tab goes from {:?} {a:?} to {:?} {b:?}, not in reading order",
            w[0],
            w[1]
        );
    }
}

#[test]
fn tab_runs_left_to_right_in_free_port() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    click(&mut h, "Within a range:");
    let order = view_tab_order(&mut h, "Grab a free port");
    assert_eq!(
        order,
        [
            "Grab a free port",
            "Copy command",
            "Command",
            "TCP",
            "UDP",
            "TCP and UDP",
            "Outside the ephemeral range (recommended)",
            "Assigned by the OS (port 0)",
            "Within a range:",
            "From",
            "To",
            "Reserve for about a minute",
            "How many",
        ]
    );
    assert_visual_order(&h, &order);
}

#[test]
fn tab_runs_left_to_right_in_bind_test() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    set_field(&mut h, "Port", &free_loopback_port().to_string());
    set_field(&mut h, "Address", "::1");
    let order = view_tab_order(&mut h, "Port");
    assert_eq!(
        order,
        [
            "Port",
            "Address",
            "wildcards, loopback, this machine",
            "TCP",
            "UDP",
            "SO_REUSEADDR",
            "SO_REUSEPORT",
            "IPV6_V6ONLY",
            "Test",
            "Watch until free",
            "Add to watched ports",
            "Copy command",
        ]
    );
    // The address list sits left of its label: checked by the label's
    // row, the rest by position.
    let mut shown = order.clone();
    shown.retain(|l| l != "wildcards, loopback, this machine");
    assert_visual_order(&h, &shown);
}

#[test]
fn tab_runs_left_to_right_in_kernel_tuning() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::Tuning);
    settled(&mut h, |app| {
        matches!(
            app.state.tuning.live,
            portwise::window::tuning::LiveValues::Done(_)
        )
    });
    click(&mut h, "Keep my service ports free");
    set_field(&mut h, "Ports to keep free", "8080");
    let order = view_tab_order(&mut h, "Audit a file…");
    assert_eq!(
        order[..8],
        [
            "Audit a file…",
            "Server restarts fail with \"Address already in use\"",
            "Many outgoing connections",
            "Keep my service ports free",
            "Connection bursts",
            "Low ports without root",
            "Ports to keep free",
            "Read again",
        ]
    );
    let tail: Vec<&str> = order[8..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "Linux (this machine)",
            "macOS",
            "Windows",
            // The preview's one setting, which can be unticked.
            "net.ipv4.ip_local_reserved_ports = 8080",
            "Copy",
            "Save…",
            "Copy command"
        ]
    );
    // "Audit a file…" is the header's right end, above the goals; the
    // preview's line sits in the preview's own scroll area (its rect is
    // in the scrolled content), between Windows and Copy.
    let mut shown = order[1..].to_vec();
    shown.retain(|l| !l.starts_with("net.ipv4"));
    assert_visual_order(&h, &shown);
}

#[test]
fn tab_runs_left_to_right_in_the_stop_dialog() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::Sockets);
    let t = stop_target(4242, "python3", 8080);
    h.state_mut()
        .state
        .apply(Action::Stop(StopMsg::Planned(Ok(vec![t.clone()]))));
    h.run();
    // A modal keeps Tab inside it.
    let order = tab_order(&mut h, "Stop", 10);
    assert_eq!(order, ["Stop", "Kill now", "Cancel"]);
    assert_visual_order(&h, &order);
    h.state_mut().state.apply(Action::Stop(StopMsg::Finished {
        force: false,
        results: vec![(
            t.clone(),
            stop_report(
                &t,
                portwise::stop::StopOutcome::StillRunning,
                "still running",
            ),
        )],
    }));
    h.run();
    // Then the still-running toast's × (bottom right, above the modal).
    let order = tab_order(&mut h, "Kill", 10);
    assert_eq!(order, ["Kill", "Leave it running", "×"]);
    assert_visual_order(&h, &order);
}
