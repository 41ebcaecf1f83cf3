//! The Sockets view, driven through the whole app (eframe::App in kittest)
//! with a scripted socket source, a settable clock, and observable
//! clipboard, file dialogs and stopper. Every `run()` also checks that
//! each button and field has an accessible name (kittest's check).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::ui::*;
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use portwise::sockets::SourceError;
use portwise::window::app::PortwiseApp;
use portwise::window::shell::Settings;
use portwise::window::sockets::Column;
use portwise::window::stop::StopTarget;

type H = Harness<'static, PortwiseApp>;

fn shown_ports(h: &H) -> Vec<u16> {
    let st = &h.state().state.sockets;
    st.rows()
        .iter()
        .map(|r| st.entry(*r).unwrap().local_port)
        .collect()
}

/// Click the control (not a plain text label) with this exact name.
fn click(h: &mut H, label: &str) {
    {
        let nodes: Vec<_> = h
            .query_all_by_label(label)
            .filter(|n| n.accesskit_node().role() != Role::Label)
            .collect();
        assert_eq!(nodes.len(), 1, "expected one control named {label:?}");
        nodes[0].click();
    }
    h.run();
}

/// "Stop process…", then wait for the plan (made on a worker thread).
fn ask_stop(h: &mut H) {
    click(h, "Stop process…");
    settled(h, |app| app.state.stop_dialog.is_some());
}

/// Step until a toast starting with `text` shows (files are written on a
/// worker thread).
fn wait_toast(h: &mut H, text: &str) {
    settled(h, |app| {
        app.state.toasts().iter().any(|t| t.text.starts_with(text))
    });
}

fn has_text(h: &H, text: &str) -> bool {
    h.query_by_label_contains(text).is_some()
}

/// Started with the details panel closed: a right-click selects its row,
/// and the details would show the menu's buttons a second time.
fn started_menu_only(rig: &Rig) -> H {
    let settings = Settings {
        details_open: false,
        ..Settings::default()
    };
    let mut h = rig.harness(settings);
    refresh(rig, &mut h, machine(T0));
    h
}

fn started(rig: &Rig) -> H {
    let mut h = rig.harness(Settings::default());
    refresh(rig, &mut h, machine(T0));
    h
}

#[test]
fn first_snapshot_rows_counts_and_status_bar() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    h.get_by_label("Taking the first snapshot…");
    h.get_by_label("No snapshot yet");

    refresh(&rig, &mut h, machine(T0));
    // Default toggles: listeners, UDP and TIME_WAIT, not ESTABLISHED.
    h.get_by_label("Showing 5 of 6 sockets");
    assert_eq!(shown_ports(&h), vec![5353, 5432, 8080, 8080, 8080]);
    h.get_by_label("python3 (4242)");
    h.get_by_label("postgres (900)");
    h.get_by_label("avahi-daemon (321)");
    h.get_by_label("was: python3 (4242)");
    h.get_by_label("bound"); // UDP has no TCP state

    // Status bar: time, counts, interval, privileges.
    h.get_by_label_contains("Updated 22:13:20 UTC (took");
    h.get_by_label("3 listening");
    h.get_by_label("2 TIME_WAIT");
    h.get_by_label("0 unattributed");
    h.get_by_label("Paused");
    h.get_by_label("Not elevated");
    assert!(!has_text(&h, "hidden from this user"));
}

#[test]
fn filter_box_shortcuts_and_quick_toggles() {
    let rig = Rig::new();
    let mut h = started(&rig);

    // Ctrl+F focuses the filter; typing filters by process name.
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    assert!(h.get_by_role(Role::TextInput).is_focused());
    h.get_by_role(Role::TextInput).type_text("postgres");
    h.run();
    assert_eq!(shown_ports(&h), vec![5432]);
    h.get_by_label("Showing 1 of 6 sockets");

    // By pid and by port.
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().state.settings.filter.text, "", "Esc clears");
    assert_eq!(shown_ports(&h).len(), 5);
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("321");
    h.run();
    assert_eq!(shown_ports(&h), vec![5353]);
    h.key_press(Key::Escape);
    h.run();

    // Quick toggles.
    click(&mut h, "TIME_WAIT");
    assert_eq!(shown_ports(&h), vec![5353, 5432, 8080]);
    let selected = |h: &H, label: &str| {
        h.query_all_by_label(label)
            .find(|n| n.accesskit_node().role() != Role::Label)
            .and_then(|n| n.accesskit_node().toggled())
            == Some(egui::accesskit::Toggled::True)
    };
    assert!(selected(&h, "Listening") && !disabled(&h, "Listening"));
    click(&mut h, "All states");
    assert_eq!(shown_ports(&h).len(), 6);
    h.get_by_label("ESTABLISHED");
    // With every state shown, the state toggles neither look on nor act.
    assert!(selected(&h, "All states"));
    for covered in ["Listening", "TIME_WAIT"] {
        assert!(disabled(&h, covered), "{covered} is disabled");
        assert!(!selected(&h, covered), "{covered} does not look on");
    }
    click(&mut h, "UDP");
    assert!(!shown_ports(&h).contains(&5353));
    click(&mut h, "TCP");
    h.get_by_label("No sockets match the filter");
    h.get_by_label("Showing 0 of 6 sockets");
    click(&mut h, "Reset the filter");
    assert_eq!(shown_ports(&h), vec![5353, 5432, 8080, 8080, 8080]);
}

#[test]
fn the_filter_matches_every_column_and_ctrl_f_selects_its_text() {
    let rig = Rig::new();
    let mut h = started(&rig);
    click(&mut h, "All states");
    let filter_text = |h: &H| h.state().state.settings.filter.text.clone();
    h.get_by_role(Role::TextInput).focus();
    h.run();
    // State and last owner, two words: both must match.
    h.get_by_role(Role::TextInput).type_text("time_wait was:");
    h.run();
    assert_eq!(shown_ports(&h), vec![8080]);
    h.get_by_label("was: python3 (4242)");
    h.get_by_label("Showing 1 of 6 sockets");

    // Focus leaves the box; Ctrl+F comes back with its text selected, so
    // typing replaces it.
    h.key_press(Key::Tab);
    h.run();
    assert!(!h.get_by_role(Role::TextInput).is_focused());
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    assert!(h.get_by_role(Role::TextInput).is_focused());
    h.get_by_role(Role::TextInput)
        .type_text("alice established");
    h.run();
    assert_eq!(filter_text(&h), "alice established");
    assert_eq!(shown_ports(&h), vec![8080]);
    h.get_by_label("127.0.0.1:50000");

    // The protocol column (TCP6), the remote address, the user.
    for (text, ports) in [
        ("tcp6", vec![5432]),
        ("127.0.0.1:41001", vec![8080]),
        ("ALICE udp", vec![5353]),
    ] {
        h.key_press_modifiers(Modifiers::COMMAND, Key::F);
        h.run();
        h.get_by_role(Role::TextInput).type_text(text);
        h.run();
        assert_eq!(filter_text(&h), text);
        assert_eq!(shown_ports(&h), ports, "filter {text:?}");
    }
}

#[test]
fn clicking_headers_sorts_and_reverses() {
    let rig = Rig::new();
    let mut h = started(&rig);
    click(&mut h, "Port");
    assert_eq!(shown_ports(&h), vec![8080, 8080, 8080, 5432, 5353]);
    click(&mut h, "Port");
    assert_eq!(shown_ports(&h), vec![5353, 5432, 8080, 8080, 8080]);

    // TIME_WAIT left: soonest free first, then the rest.
    click(&mut h, "TIME_WAIT left");
    let st = &h.state().state.sockets;
    let first: Vec<Option<u64>> = st
        .rows()
        .iter()
        .take(2)
        .map(|r| st.entry(*r).unwrap().time_wait_expires_in_ms)
        .collect();
    assert_eq!(first, vec![Some(12_300), Some(42_000)]);

    click(&mut h, "Process");
    let s = h.state().state.settings.sort;
    assert_eq!((s.column, s.descending), (Column::Process, false));
    let st = &h.state().state.sockets;
    let names: Vec<String> = st
        .rows()
        .iter()
        .map(|r| portwise::window::sockets::process_text(st.entry(*r).unwrap()))
        .collect();
    assert_eq!(
        names,
        vec![
            "avahi-daemon (321)",
            "postgres (900)",
            "python3 (4242)",
            "",
            ""
        ]
    );
}

#[test]
fn time_wait_countdown_follows_the_clock() {
    let rig = Rig::new();
    let mut h = started(&rig);
    h.get_by_label("42 s");
    h.get_by_label("13 s"); // 12.3 s rounds up

    // Drawn at the clock's whole second (T0 + 2 s), so every countdown
    // changes on the same frame: 9.8 s left reads "11 s" until T0 + 3 s.
    rig.set_now(T0 + 2_500);
    h.run();
    h.get_by_label("40 s");
    h.get_by_label("11 s");

    rig.set_now(T0 + 13_000);
    h.run();
    h.get_by_label("29 s");
    h.get_by_label("0 s");
}

/// Filled rects of the last frame, as (r, g, b, a).
fn fills(h: &H) -> Vec<[u8; 4]> {
    let mut out = Vec::new();
    for cs in &h.output().shapes {
        if let egui::epaint::Shape::Rect(r) = &cs.shape {
            out.push(r.fill.to_array());
        }
    }
    out
}

fn greenish(c: &[u8; 4]) -> bool {
    c[3] > 0 && c[1] > c[0].saturating_mul(2) && c[1] > c[2]
}

fn reddish(c: &[u8; 4]) -> bool {
    c[3] > 0 && c[0] > c[1].saturating_mul(2) && c[0] > c[2].saturating_mul(2)
}

#[test]
fn new_rows_glow_green_and_closed_rows_linger_red() {
    let rig = Rig::new();
    let mut h = started(&rig);
    assert!(
        !fills(&h).iter().any(greenish),
        "first snapshot: nothing new"
    );

    // Next refresh: postgres is gone, a node server appeared.
    let mut next = machine(T0 + 1_000);
    next.sockets.retain(|e| e.local_port != 5432);
    next.sockets.push(listener("0.0.0.0", 3000, 777, "node"));
    rig.set_now(T0 + 1_000);
    refresh(&rig, &mut h, next);

    h.get_by_label_contains("1 new (green), 1 just closed (red)");
    h.get_by_label("node (777)");
    h.get_by_label("postgres (900)"); // still there, lingering
    assert!(fills(&h).iter().any(greenish), "new row highlighted");
    assert!(fills(&h).iter().any(reddish), "gone row highlighted");
    // The lingering row is not counted as shown.
    h.get_by_label_contains("Showing 5 of 6 sockets");

    // After a few seconds both fade out and the closed row goes.
    rig.set_now(T0 + 4_100);
    h.run();
    assert!(!fills(&h).iter().any(greenish));
    assert!(!fills(&h).iter().any(reddish));
    assert!(h.query_by_label("postgres (900)").is_none());
    assert!(!has_text(&h, "just closed"));
}

#[test]
fn highlights_repaint_once_a_second_not_every_frame() {
    let rig = Rig::new();
    let mut h = started(&rig);
    let mut next = machine(T0 + 1_000);
    next.sockets.push(listener("0.0.0.0", 3000, 777, "node"));
    rig.set_now(T0 + 1_000);
    refresh(&rig, &mut h, next);
    h.get_by_label_contains("1 new (green)");
    // A highlighted row changes once a second (a fade step), sharing the
    // countdowns' tick: no 60 ms animation.
    assert_eq!(h.state().next_repaint(false), Some(Duration::from_secs(1)));
    rig.set_now(T0 + 1_300);
    h.run();
    assert_eq!(
        h.state().next_repaint(false),
        Some(Duration::from_millis(700))
    );
    // Minimised: nothing is drawn, so nothing is scheduled (the sampler's
    // messages still wake the app's logic).
    assert_eq!(h.state().next_repaint(true), None);
}

fn stop_targets() -> Vec<StopTarget> {
    vec![
        StopTarget {
            cmdline: "python3 -m http.server 8080".into(),
            ..stop_target(4242, "python3", 8080)
        },
        StopTarget {
            user: Some("postgres".into()),
            cmdline: "/usr/lib/postgresql/16/bin/postgres".into(),
            start_time: 2,
            caveats: vec![
                "systemd holds this port for postgresql.socket: stopping the process will not \
                 free it; stop the .socket unit"
                    .into(),
            ],
            ..stop_target(900, "postgres", 5432)
        },
        StopTarget {
            user: Some("root".into()),
            cmdline: "/sbin/init".into(),
            start_time: 0,
            refusal: Some("pid 1 is the init process; stopping it would stop the system".into()),
            ..stop_target(1, "systemd", 111)
        },
    ]
}

#[test]
fn stop_from_the_context_menu_confirms_then_reports_in_a_toast() {
    let rig = Rig::new();
    *rig.stop.targets.lock().unwrap() = stop_targets();
    let mut h = started_menu_only(&rig);

    h.get_by_label("python3 (4242)").click_secondary();
    h.run();
    ask_stop(&mut h);

    // The confirmation shows pid, name, user and command line.
    h.get_by_label("Stop this process?");
    h.get_by_label("4242");
    h.get_by_label("python3 -m http.server 8080");
    assert!(rig.stop.stopped.lock().unwrap().is_empty(), "nothing yet");

    click(&mut h, "Stop");
    settled(&mut h, |app| {
        app.state
            .toasts()
            .iter()
            .any(|t| t.text == "Stopped python3 (4242)")
    });
    assert_eq!(*rig.stop.stopped.lock().unwrap(), vec![(4242, false)]);
    h.get_by_label("Stopped python3 (4242)");
    assert!(h.query_by_label("Stop this process?").is_none());
}

#[test]
fn planning_a_stop_does_not_wait_for_a_stop_under_way() {
    // Real threads: this is about two tasks running at once.
    let mut rig = Rig::new();
    rig.runner = portwise::window::tasks::Runner::Threads;
    *rig.stop.targets.lock().unwrap() = stop_targets();
    *rig.stop.stop_takes.lock().unwrap() = Duration::from_secs(3);
    let mut h = started_menu_only(&rig);
    h.get_by_label("python3 (4242)").click_secondary();
    h.run();
    click(&mut h, "Stop process…");
    wait_for_threads(&mut h, |app| app.state.stop_dialog.is_some());
    click(&mut h, "Stop");
    // The stop thread is busy for 3 s; planning the next one must not wait
    // for it (it used to lock the stop service on the UI thread).
    let t0 = Instant::now();
    h.get_by_label("postgres (900)").click_secondary();
    h.run();
    click(&mut h, "Stop process…");
    wait_for_threads(&mut h, |app| app.state.stop_dialog.is_some());
    h.get_by_label("Stop this process?");
    h.get_by_label("/usr/lib/postgresql/16/bin/postgres");
    assert!(
        t0.elapsed() < Duration::from_millis(1_500),
        "planning waited {:?} for the stop under way",
        t0.elapsed()
    );
    click(&mut h, "Cancel");
    wait_for_threads(&mut h, |app| {
        app.state
            .toasts()
            .iter()
            .any(|t| t.text == "Stopped python3 (4242)")
    });
    assert_eq!(*rig.stop.stopped.lock().unwrap(), vec![(4242, false)]);
}

#[test]
fn stop_dialog_shows_caveats_and_cancel_stops_nothing() {
    let rig = Rig::new();
    *rig.stop.targets.lock().unwrap() = stop_targets();
    let mut h = started(&rig);

    // Select the row: the details panel offers the same actions.
    h.get_by_label("postgres (900)").click();
    h.run();
    h.get_by_label("postgres (pid 900)");
    ask_stop(&mut h);
    h.get_by_label_contains("stop the .socket unit");
    h.get_by_label("/usr/lib/postgresql/16/bin/postgres");
    click(&mut h, "Cancel");
    assert!(h.query_by_label("Stop this process?").is_none());
    assert!(rig.stop.stopped.lock().unwrap().is_empty());

    // A refused holder: shown with the reason, and nothing can be stopped.
    let mut snap = machine(T0 + 1_000);
    snap.sockets.push(listener("0.0.0.0", 111, 1, "systemd"));
    refresh(&rig, &mut h, snap);
    h.get_by_label("systemd (1)").click();
    h.run();
    ask_stop(&mut h);
    h.get_by_label_contains("portwise will not stop it: pid 1 is the init process");
    let stop = h
        .query_all_by_label("Stop")
        .find(|n| n.accesskit_node().role() != Role::Label)
        .unwrap();
    assert!(stop.accesskit_node().is_disabled());
    click(&mut h, "Cancel");
    assert!(rig.stop.stopped.lock().unwrap().is_empty());

    // TIME_WAIT rows have no process: the action is there but disabled.
    h.get_by_label("42 s").click();
    h.run();
    let stop = h
        .query_all_by_label("Stop process…")
        .find(|n| n.accesskit_node().role() != Role::Label)
        .unwrap();
    assert!(stop.accesskit_node().is_disabled());
}

#[test]
fn keys_move_the_selection_open_details_and_stop_and_right_click_selects() {
    let rig = Rig::new();
    *rig.stop.targets.lock().unwrap() = stop_targets();
    let mut h = started(&rig);
    let selected = |h: &H| {
        let st = &h.state().state.sockets;
        st.selected
            .and_then(|k| st.find(&k))
            .map(|(e, _)| (e.local_port, portwise::window::sockets::state_text(e)))
    };
    // The rows: 5353, 5432, 8080 LISTEN, then two TIME_WAIT on 8080.
    h.get_by_label("postgres (900)").click_secondary();
    h.run();
    assert_eq!(selected(&h), Some((5432, "LISTEN")), "right-click selects");
    h.get_by_label("Showing 5 of 6 sockets").click(); // closes the menu
    h.run();
    let press = |h: &mut H, key: Key| {
        h.key_press(key);
        h.run();
    };
    press(&mut h, Key::ArrowDown);
    assert_eq!(selected(&h), Some((8080, "LISTEN")));
    press(&mut h, Key::ArrowUp);
    press(&mut h, Key::ArrowUp);
    press(&mut h, Key::ArrowUp);
    assert_eq!(selected(&h), Some((5353, "bound")), "stops at the top");
    press(&mut h, Key::End);
    assert_eq!(selected(&h), Some((8080, "TIME_WAIT")));
    press(&mut h, Key::PageUp);
    assert_eq!(selected(&h), Some((5353, "bound")));
    press(&mut h, Key::PageDown);
    assert_eq!(selected(&h), Some((8080, "TIME_WAIT")));
    press(&mut h, Key::Home);
    assert_eq!(selected(&h), Some((5353, "bound")));
    // A click focuses the row it selects; the keys still move the
    // selection (only a text field keeps them).
    h.get_by_label("postgres (900)").click();
    h.run();
    assert_eq!(selected(&h), Some((5432, "LISTEN")));
    press(&mut h, Key::ArrowDown);
    assert_eq!(selected(&h), Some((8080, "LISTEN")));
    press(&mut h, Key::Home);

    // Enter opens the details of the selection.
    click(&mut h, "Details");
    assert!(!h.state().state.settings.details_open);
    assert!(!has_text(&h, "Protocol"));
    press(&mut h, Key::Enter);
    assert!(h.state().state.settings.details_open);
    h.get_by_label("Protocol"); // the details grid
    // Delete opens Stop for the selection.
    press(&mut h, Key::ArrowDown);
    press(&mut h, Key::ArrowDown);
    assert_eq!(selected(&h), Some((8080, "LISTEN")));
    h.key_press(Key::Delete);
    settled(&mut h, |app| app.state.stop_dialog.is_some());
    h.get_by_label("Stop this process?");
    assert_eq!(
        h.state().state.stop_dialog.as_ref().unwrap().targets[0].pid,
        4242
    );
}

#[test]
fn keys_scroll_the_selection_into_view() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    let many: Vec<_> = (0..300)
        .map(|i| listener("127.0.0.1", 10_000 + i, 5_000 + u32::from(i), "srv"))
        .collect();
    refresh(&rig, &mut h, snapshot(T0, many));
    h.get_by_label("srv (5000)");
    assert!(
        !has_text(&h, "srv (5299)"),
        "only the visible rows are drawn"
    );
    h.key_press(Key::End);
    h.run();
    h.run();
    h.get_by_label("srv (5299)");
    assert!(!has_text(&h, "srv (5000)"));
    h.key_press(Key::Home);
    h.run();
    h.run();
    h.get_by_label("srv (5000)");
}

#[test]
fn copy_port_address_and_row() {
    let rig = Rig::new();
    let mut h = started_menu_only(&rig);

    h.get_by_label("postgres (900)").click_secondary();
    h.run();
    click(&mut h, "Copy port 5432");
    h.get_by_label("postgres (900)").click_secondary();
    h.run();
    click(&mut h, "Copy address [::1]:5432");
    assert_eq!(rig.clipboard.texts(), vec!["5432", "[::1]:5432"]);
    h.get_by_label("Copied [::1]:5432");

    // Ctrl+C copies the selected row; egui gets the text too.
    h.get_by_label("postgres (900)").click();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::C);
    h.run();
    let row = "TCP6\t[::1]:5432\tLISTEN\tpostgres (900)\talice\t\t\t";
    assert_eq!(rig.clipboard.texts().last().unwrap(), row);
    h.get_by_label("Copied the row");
}

#[test]
fn the_real_clipboard_goes_through_egui() {
    use portwise::window::app::{Clipboard as _, EguiClipboard};
    let mut h = Harness::new_ui(|ui| {
        if ui.button("copy").clicked() {
            EguiClipboard.copy(ui.ctx(), "41234".into());
        }
    });
    h.get_by_label("copy").click();
    h.step();
    let copied = h
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(t) if t == "41234"));
    assert!(copied);
}

#[test]
fn export_writes_the_visible_rows_and_shows_errors() {
    let rig = Rig::new();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("sockets.json");
    *rig.dialogs.path.lock().unwrap() = Some(json.clone());
    let mut h = started(&rig);

    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("8080");
    h.run();
    click(&mut h, "Export…");
    wait_toast(&mut h, "Exported 3 rows to");

    let req = rig.dialogs.saves.lock().unwrap()[0].clone();
    assert_eq!(req.file_name, "portwise-sockets.csv");
    let exts: Vec<String> = req
        .filters
        .iter()
        .flat_map(|f| f.extensions.clone())
        .collect();
    assert_eq!(exts, vec!["csv", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let ports: Vec<u64> = v["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["local_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, vec![8080, 8080, 8080]);
    h.get_by_label_contains("Exported 3 rows to");

    // A path that cannot be written: the error shows in the window.
    *rig.dialogs.path.lock().unwrap() = Some("/nonexistent-dir/out.csv".into());
    click(&mut h, "Export…");
    wait_toast(&mut h, "Export failed");
    h.get_by_label_contains("Export failed: cannot write /nonexistent-dir/out.csv");

    // Cancelling the dialog writes nothing and says nothing.
    *rig.dialogs.path.lock().unwrap() = None;
    *rig.dialogs.cancel_after.lock().unwrap() = std::time::Duration::from_millis(200);
    let toasts = h.state().state.toasts().len();
    click(&mut h, "Export…");
    assert_eq!(h.state().state.toasts().len(), toasts);

    // A dialog that could not even open: say so, and take a typed path.
    *rig.dialogs.cancel_after.lock().unwrap() = std::time::Duration::ZERO;
    click(&mut h, "Export…");
    h.get_by_label_contains("the save dialog closed at once");
    let typed = dir.path().join("typed.csv");
    h.get_by_label("Path").focus();
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Path").type_text(&typed.to_string_lossy());
    h.run();
    click(&mut h, "Save");
    // Written on a worker; the file appears whole (renamed into place).
    settled(&mut h, |_| typed.exists());
    let csv = std::fs::read_to_string(&typed).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(h.state().state.path_prompt.is_none());
}

#[test]
fn banner_when_some_owners_are_hidden() {
    let rig = Rig::new();
    let mut h = started(&rig);
    assert!(!has_text(&h, "hidden,"));

    let mut snap = machine(T0 + 1_000);
    let mut hidden = listener("0.0.0.0", 631, 1, "cupsd");
    hidden.processes.clear();
    // The kernel says whose socket it is (sock_diag's uid) even though
    // the process is hidden: the User column names that user.
    hidden.uid = Some(0);
    snap.sockets.push(hidden);
    snap.owner_users.insert(0, "root".into());
    let mut hidden_tw = time_wait(8080, 41_002, 1_000, None);
    hidden_tw.state = Some(portwise::sockets::TcpState::Established);
    hidden_tw.remote_port = Some(631);
    snap.sockets.push(hidden_tw);
    snap.sort();
    snap.unattributed = 2;
    snap.unattributed_reason = Some("other users' processes are not readable without root".into());
    refresh(&rig, &mut h, snap);

    // One short line, counting the shown rows only (the ESTABLISHED one
    // is not shown by default).
    h.get_by_label("1 socket's owner is hidden,");
    assert!(!has_text(&h, "as root"), "the details wait for 'why?'");
    h.get_by_label("2 unattributed");
    h.get_by_label("hidden"); // the process cell of the unowned listener
    h.get_by_label("root"); // its User cell, from the socket's uid
    click(&mut h, "All states");
    h.get_by_label("2 sockets' owners are hidden,");
    click(&mut h, "why?");
    h.get_by_label_contains("as root (or as Administrator on Windows)");
    h.get_by_label_contains("not readable without root");
    click(&mut h, "hide why");
    assert!(!has_text(&h, "as root"));
    // The filter narrows the count, and can leave none.
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("631");
    h.run();
    h.get_by_label("2 sockets' owners are hidden,");
    h.key_press(Key::Escape);
    h.run();
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("0.0.0.0");
    h.run();
    h.get_by_label("1 socket's owner is hidden,");
    h.key_press(Key::Escape);
    h.run();
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("5432");
    h.run();
    assert!(!has_text(&h, "hidden,"));
    h.key_press(Key::Escape);
    h.run();
    // The filter matches the hidden owner's user, and Details names it.
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("root");
    h.run();
    assert_eq!(shown_ports(&h), vec![631]);
    h.get_by_label("hidden").click();
    h.run();
    h.get_by_label("root (the socket's, as the kernel reports it)");
    h.key_press(Key::Escape);
    h.run();
    // Dismissed, it stays away.
    click(&mut h, "Dismiss");
    assert!(!has_text(&h, "hidden,"));
    refresh(&rig, &mut h, {
        let mut s = machine(T0 + 2_000);
        let mut again = listener("0.0.0.0", 631, 1, "cupsd");
        again.processes.clear();
        s.sockets.push(again);
        s.sort();
        s
    });
    assert!(!has_text(&h, "hidden,"));
}

#[test]
fn sampling_error_is_shown_and_the_last_snapshot_stays() {
    let rig = Rig::new();
    let mut h = started(&rig);
    rig.source
        .push(Err(SourceError("netlink dump failed: EPERM".into())));
    h.key_press(Key::F5);
    settled(&mut h, |app| app.state.sockets.error.is_some());
    h.get_by_label_contains("Sampling failed: netlink dump failed: EPERM.");
    h.get_by_label_contains("Still showing the last good snapshot, from 22:13:20 UTC");
    assert_eq!(shown_ports(&h).len(), 5);
    h.get_by_label("python3 (4242)");

    // The next good snapshot clears it.
    refresh(&rig, &mut h, machine(T0 + 2_000));
    assert!(!has_text(&h, "Sampling failed"));
}

#[test]
fn interval_pause_and_resume_drive_the_sampler() {
    // The real sampler thread: this is about its own timer.
    let mut rig = Rig::new();
    rig.runner = portwise::window::tasks::Runner::Threads;
    let mut h = started(&rig);
    h.get_by_label("Refresh every").click();
    h.run();
    click(&mut h, "500 ms");
    assert_eq!(h.state().state.settings.interval_ms, 500);

    // Resume: the sampler takes snapshots on its own again.
    let calls = rig.source.calls();
    click(&mut h, "Resume");
    h.get_by_label("Every 500 ms");
    wait_for_threads(&mut h, |_| rig.source.calls() >= calls + 2);
    click(&mut h, "Pause");
    h.get_by_label("Paused");
}

/// eframe storage in memory.
#[derive(Default)]
struct MemStorage(HashMap<String, String>);

impl eframe::Storage for MemStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.into(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn settings_persist_across_runs() {
    let rig = Rig::new();
    let mut h = started(&rig);
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("python");
    h.run();
    click(&mut h, "UDP");
    click(&mut h, "State");
    h.get_by_label("Refresh every").click();
    h.run();
    click(&mut h, "2 s");

    let mut storage = MemStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved = h.state().state.settings.clone();
    drop(h);

    let rig2 = Rig::new();
    let services = rig2.services();
    let h2: Harness<'_, PortwiseApp> =
        Harness::builder()
            .with_size([1280.0, 720.0])
            .build_eframe(|cc| {
                cc.storage = Some(&storage);
                PortwiseApp::new(cc, services)
            });
    let restored = &h2.state().state.settings;
    assert_eq!(*restored, saved);
    assert_eq!(restored.filter.text, "python");
    assert!(!restored.filter.udp);
    assert_eq!(restored.sort.column, Column::State);
    assert_eq!(restored.interval_ms, 2_000);
}

/// `machine` with command lines: two python3 servers that differ only in
/// their arguments (one with an escape sequence, one very long), and a
/// listener whose owner is hidden.
fn servers(taken: u64) -> portwise::sockets::Snapshot {
    let mut snap = machine(taken);
    let args = |v: &[&str]| Some(v.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    for e in &mut snap.sockets {
        if let Some(p) = e.processes.first_mut()
            && p.pid == 4242
        {
            p.cmdline = args(&["/usr/local/bin/python3", "-m", "http.server", "8080"]);
        }
    }
    let mut other = listener("127.0.0.1", 9090, 4343, "python3");
    other.processes[0].cmdline = args(&["python3", "/srv/app.py", "--title", "red\u{1b}[31m"]);
    let long = format!("--token-file=/run/{}", "x".repeat(200));
    let mut third = listener("127.0.0.1", 7070, 4444, "python3");
    third.processes[0].cmdline = args(&["python3", "worker.py", long.as_str()]);
    let mut hidden = listener("0.0.0.0", 631, 1, "cupsd");
    hidden.processes.clear();
    snap.sockets.extend([other, third, hidden]);
    snap.sort();
    snap.unattributed = 1;
    snap
}

#[test]
fn the_command_line_column_tells_servers_apart_safely() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, servers(T0));
    h.get_by_label("Command line"); // the header
    // The program by its file name; the whole path on hover.
    h.get_by_label("python3 -m http.server 8080").hover();
    h.run();
    h.run();
    h.get_by_label("4242: /usr/local/bin/python3 -m http.server 8080");
    // A control character is shown escaped, never sent to the screen.
    h.get_by_label("python3 /srv/app.py --title red\\x1b[31m");
    assert!(!has_text(&h, "\u{1b}"));
    // A long line is cut with "…"; the whole line is on hover.
    // (A label the column clips carries its text as the node's value.)
    let text = |n: &egui_kittest::Node<'_>| {
        let ak = n.accesskit_node();
        ak.label()
            .or_else(|| ak.value())
            .unwrap_or_default()
            .to_string()
    };
    let cut = h
        .query_all_by_label_contains("python3 worker.py --token-file=")
        .map(|n| text(&n))
        .find(|l| l.ends_with('…'))
        .expect("the long command line, elided");
    assert_eq!(cut.chars().count(), 121, "{cut}");
    h.query_all_by_label_contains("python3 worker.py --token-file=")
        .find(|n| text(n) == cut)
        .unwrap()
        .hover();
    h.run();
    h.run();
    h.get_by_label_contains(&format!(
        "4444: python3 worker.py --token-file=/run/{}",
        "x".repeat(200)
    ));
    // The hidden owner's row shows nothing (no guess): the only cells of
    // the 631 row are its address, port, state and "hidden".
    assert!(!has_text(&h, "cupsd"));
    // The filter matches arguments: one python3 server out of three.
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("http.server");
    h.run();
    assert_eq!(shown_ports(&h), vec![8080]);
    h.key_press(Key::Escape);
    h.run();
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("python3 app.py");
    h.run();
    assert_eq!(shown_ports(&h), vec![9090]);
    // The Details panel shows the whole line too.
    h.get_by_label("python3 (4343)").click();
    h.run();
    assert_eq!(
        h.query_all_by_label("Command line").count(),
        2,
        "header and details"
    );
    assert_eq!(
        h.query_all_by_label("python3 /srv/app.py --title red\\x1b[31m")
            .count(),
        2,
        "in the table and in the details"
    );
}

/// The column chooser's checkbox for `title` (the menu must be open).
fn tick(h: &mut H, title: &str) {
    let node = h
        .query_all_by_label(title)
        .find(|n| n.accesskit_node().role() == Role::CheckBox)
        .unwrap_or_else(|| panic!("no checkbox {title:?}"));
    node.click();
    h.run();
}

fn header_shown(h: &H, title: &str) -> bool {
    h.query_all_by_label(title)
        .any(|n| n.accesskit_node().role() == Role::Button)
}

#[test]
fn the_column_chooser_hides_columns_keeps_one_and_persists() {
    let rig = Rig::new();
    let mut settings = Settings {
        details_open: false,
        ..Settings::default()
    };
    // A saved width for Remote address (stored by column, not position).
    settings.column_widths = Column::ALL.iter().map(|c| c.default_width()).collect();
    settings.column_widths[Column::Remote.store_index()] = 230.0;
    let mut h = rig.harness(settings);
    refresh(&rig, &mut h, servers(T0));
    assert!(header_shown(&h, "User"));
    click(&mut h, "Columns");
    tick(&mut h, "User");
    assert!(!header_shown(&h, "User"), "User hidden");
    assert_eq!(h.state().state.settings.hidden_columns, vec![Column::User]);
    // The Remote column keeps its own width when a column before it hides.
    let remote_width = |h: &H| {
        h.query_all_by_label("Remote address")
            .find(|n| n.accesskit_node().role() == Role::Button)
            .map(|n| n.rect().width())
            .unwrap()
    };
    let _ = remote_width(&h);
    let rects: Vec<f32> = (0..1).map(|_| remote_width(&h)).collect();
    assert!(rects[0] <= 230.0 + 0.5, "the header fits its column");
    assert_eq!(
        h.state().state.settings.column_width(Column::Remote),
        230.0,
        "the saved width stays"
    );
    // The filter matches shown columns only: "alice" is in the hidden
    // User column alone.
    // The menu stays open for more boxes; Esc closes it (and leaves the
    // filter alone).
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("x");
    h.run();
    h.key_press(Key::Escape);
    h.run();
    assert!(
        !h.query_all_by_label("User")
            .any(|n| n.accesskit_node().role() == Role::CheckBox)
    );
    assert_eq!(h.state().state.settings.filter.text, "x");
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().state.settings.filter.text, "");
    h.get_by_role(Role::TextInput).focus();
    h.run();
    h.get_by_role(Role::TextInput).type_text("alice");
    h.run();
    h.get_by_label("No sockets match the filter");
    click(&mut h, "Columns");
    tick(&mut h, "User");
    assert!(header_shown(&h, "User"));
    assert_eq!(
        shown_ports(&h),
        vec![5353, 5432, 7070, 8080, 9090],
        "alice's rows are back"
    );
    // Hide all but one: the last one cannot be unticked.
    for col in Column::ORDER.iter().skip(1) {
        tick(&mut h, col.title());
    }
    assert_eq!(
        h.state().state.settings.shown_columns(),
        vec![Column::Proto]
    );
    let proto_box = h
        .query_all_by_label("Proto")
        .find(|n| n.accesskit_node().role() == Role::CheckBox)
        .unwrap();
    assert!(
        proto_box.accesskit_node().is_disabled(),
        "the last column stays"
    );
    let _ = proto_box;
    tick(&mut h, "Command line");
    tick(&mut h, "Port");

    // Remembered across runs.
    let mut storage = MemStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved = h.state().state.settings.clone();
    drop(h);
    let rig2 = Rig::new();
    let services = rig2.services();
    let h2: Harness<'_, PortwiseApp> =
        Harness::builder()
            .with_size([1280.0, 720.0])
            .build_eframe(|cc| {
                cc.storage = Some(&storage);
                PortwiseApp::new(cc, services)
            });
    let restored = &h2.state().state.settings;
    assert_eq!(*restored, saved);
    assert_eq!(
        restored.shown_columns(),
        vec![Column::Proto, Column::Port, Column::Command]
    );
}

#[test]
fn a_store_from_before_the_column_chooser_still_loads() {
    // Settings as an older portwise saved them: ten widths (no Command
    // line column), no hidden columns.
    let rig = Rig::new();
    let mut settings = Settings {
        interval_ms: 2_000,
        ..Settings::default()
    };
    settings.column_widths = Column::ALL.iter().map(|c| c.default_width()).collect();
    settings.column_widths[Column::User.store_index()] = 99.0;
    let mut h = rig.harness(settings);
    let mut storage = MemStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);
    let key = portwise::window::app::SETTINGS_KEY;
    let new = storage.0.get(key).expect("settings saved").clone();
    let old = new
        .replace("hidden_columns:[],", "")
        .replace(",180.0]", "]");
    assert!(
        !old.contains("hidden_columns") && old.len() < new.len(),
        "{old}"
    );
    storage.0.insert(key.into(), old);
    let services = rig.services();
    let h: Harness<'_, PortwiseApp> =
        Harness::builder()
            .with_size([1280.0, 720.0])
            .build_eframe(|cc| {
                cc.storage = Some(&storage);
                PortwiseApp::new(cc, services)
            });
    let s = &h.state().state.settings;
    assert_eq!(s.interval_ms, 2_000, "the old store was read");
    assert!(s.hidden_columns.is_empty());
    assert_eq!(s.column_width(Column::User), 99.0);
    assert_eq!(
        s.column_width(Column::Command),
        Column::Command.default_width()
    );
}

#[test]
fn filter_by_this_process_shows_its_sockets_until_cleared() {
    let rig = Rig::new();
    let settings = Settings {
        details_open: false,
        ..Settings::default()
    };
    let mut h = rig.harness(settings);
    refresh(&rig, &mut h, servers(T0));
    assert_eq!(
        shown_ports(&h),
        vec![631, 5353, 5432, 7070, 8080, 8080, 8080, 9090]
    );
    // Three python3 servers: the one right-clicked (pid 4242, port 8080)
    // keeps its listener and the TIME_WAIT it left.
    h.get_by_label("python3 (4242)").click_secondary();
    h.run();
    click(&mut h, "Filter by this process");
    assert_eq!(shown_ports(&h), vec![8080, 8080]);
    h.get_by_label("was: python3 (4242)");
    assert!(!has_text(&h, "python3 (4343)"));
    // It survives a new snapshot, and its chip clears it.
    refresh(&rig, &mut h, servers(T0 + 1_000));
    assert_eq!(shown_ports(&h), vec![8080, 8080]);
    click(&mut h, "Process python3 (4242) ×");
    assert_eq!(shown_ports(&h).len(), 8);
    assert!(h.state().state.settings.filter.process.is_none());
    // A row whose owner is hidden has no process to filter by.
    h.get_by_label("hidden").click_secondary();
    h.run();
    assert!(disabled(&h, "Filter by this process"));
    // "Reset the filter" clears it too.
    h.key_press(Key::Escape);
    h.run();
    h.get_by_label("python3 (4343)").click_secondary();
    h.run();
    click(&mut h, "Filter by this process");
    assert_eq!(shown_ports(&h), vec![9090]);
    click(&mut h, "UDP");
    click(&mut h, "TCP");
    click(&mut h, "Reset the filter");
    assert_eq!(shown_ports(&h).len(), 8);
}

/// The focused widget's name, rect and visible (unclipped) part, after
/// the last frame.
fn focused(h: &H) -> Option<(String, egui::Rect, egui::Rect)> {
    let id = h.ctx.memory(|m| m.focused())?;
    let (rect, visible) = h.ctx.viewport(|v| {
        v.prev_pass
            .widgets
            .get(id)
            .map(|w| (w.rect, w.interact_rect))
    })?;
    let name = h
        .root()
        .children_recursive()
        .find(|n| n.accesskit_node().locate().0.0 == id.value())
        .map(|n| {
            let ak = n.accesskit_node();
            ak.label()
                .or_else(|| ak.value())
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    Some((name, rect, visible))
}

#[test]
fn tab_runs_left_to_right_through_toolbar_table_and_details() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, servers(T0));
    h.get_by_label("python3 (4343)").click(); // details of a row
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    let (first, start, v) = focused(&h).expect("the filter has focus");
    let mut seen = vec![(first, start, v)];
    for _ in 0..200 {
        h.key_press(Key::Tab);
        h.run();
        let Some(f) = focused(&h) else { break };
        if f.1 == start {
            break; // round again
        }
        seen.push(f);
    }
    // What Tab visits in the Sockets view: from the filter until it leaves
    // for the window's top bar (above the filter) or its status bar.
    let details_left = h
        .query_all_by_label("Details")
        .find(|n| {
            n.accesskit_node().role() == Role::Heading || n.accesskit_node().role() == Role::Label
        })
        .map(|n| n.rect().left())
        .expect("the details heading");
    // Only the labelled controls: egui_extras's column resize handles and
    // the rows' cells have no name. (egui adds the panel's own "Resize
    // panel" splitter last, whatever the order of the rest.)
    let in_view: Vec<&(String, egui::Rect, egui::Rect)> = seen
        .iter()
        .take_while(|(_, r, _)| r.top() >= start.top() - 2.0)
        .filter(|(name, _, _)| !name.is_empty() && name != "Resize panel")
        .collect();
    let names: Vec<&str> = in_view.iter().map(|(n, _, _)| n.as_str()).collect();
    // The labelled controls, in the order they are seen on screen: the
    // toolbar left to right, the table (headers left to right, then rows
    // top to bottom), then the Details panel on the right. (The region is
    // told by the visible part: a header scrolled under the panel is still
    // the table's.)
    let key = |(_, r, visible): &(String, egui::Rect, egui::Rect)| {
        let region = u8::from(visible.is_positive() && visible.left() >= details_left - 1.0);
        (
            region,
            (r.top() / 4.0).round() as i64,
            r.left().round() as i64,
        )
    };
    for w in in_view.windows(2) {
        assert!(
            key(w[0]) <= key(w[1]),
            "Tab went from {:?} {:?} (visible {:?}) back to {:?} {:?}; details at {details_left}; order: {names:?}",
            w[0].0,
            w[0].1,
            w[0].2,
            w[1].0,
            w[1].1
        );
    }
    for want in [
        "TCP",
        "Columns",
        "Export…",
        "Proto",
        "Last known owner",
        "Copy row",
    ] {
        assert!(names.contains(&want), "Tab reaches {want:?}: {names:?}");
    }
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("Export…") < at("Proto") && at("Last known owner") < at("Copy row"));
}
