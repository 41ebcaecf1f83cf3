//! The Sockets view without any UI: snapshots and actions in, rows,
//! highlights, copies and exports out.

use crate::fixtures::ip;
use crate::sockets::TcpState;
use crate::window::sampler::Sample;
use crate::window::shell::tests::*;
use crate::window::shell::*;
use crate::window::sockets::*;

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

    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::AllStates,
        true,
    )));
    st.ensure_rows();
    assert_eq!(st.sockets.shown_counts(), (5, 5));

    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::AllStates,
        false,
    )));
    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::Listening,
        false,
    )));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![8080], "only TIME_WAIT");

    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::Listening,
        true,
    )));
    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::TimeWait,
        false,
    )));
    st.apply(Action::Sockets(SocketsMsg::SetQuick(Quick::Udp, false)));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![22, 8080]);

    st.apply(Action::Sockets(SocketsMsg::SetQuick(Quick::Udp, true)));
    st.apply(Action::Sockets(SocketsMsg::SetQuick(Quick::Tcp, false)));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![5353]);

    // Text: process name (any case), pid, port, address.
    st.apply(Action::Sockets(SocketsMsg::SetQuick(Quick::Tcp, true)));
    st.apply(Action::Sockets(SocketsMsg::SetQuick(Quick::TimeWait, true)));
    for (text, want) in [
        ("SSHD", vec![22]),
        ("4242", vec![8080]),
        ("5353", vec![5353]),
        ("0.0.0.0", vec![5353]),
    ] {
        st.apply(Action::Sockets(SocketsMsg::SetFilterText(text.into())));
        st.ensure_rows();
        assert_eq!(ports(&st), want, "filter {text:?}");
    }
    st.apply(Action::Sockets(SocketsMsg::SetFilterText(
        "nothing-like-this".into(),
    )));
    st.ensure_rows();
    assert!(st.sockets.rows().is_empty());
    assert_eq!(st.sockets.shown_counts(), (0, 5));
    st.apply(Action::Sockets(SocketsMsg::ClearFilterText));
    st.ensure_rows();
    assert_eq!(st.sockets.rows().len(), 4);
}

#[test]
fn sorting_by_header_and_reversing() {
    let mut st = AppState::new(Settings::default(), 1_000);
    feed(&mut st, snap(1_000, base()));
    st.apply(Action::Sockets(SocketsMsg::SortBy(Column::Port)));
    st.ensure_rows();
    assert!(st.settings.sort.descending);
    assert_eq!(ports(&st), vec![8080, 8080, 5353, 22]);

    st.apply(Action::Sockets(SocketsMsg::SortBy(Column::Process)));
    st.ensure_rows();
    let names: Vec<String> = st
        .sockets
        .rows()
        .iter()
        .map(|r| process_text(st.sockets.entry(*r).unwrap()))
        .collect();
    // Owned sockets by name, the unowned TIME_WAIT last.
    assert_eq!(names, vec!["avahi (9)", "python3 (4242)", "sshd (1)", ""]);

    st.apply(Action::Sockets(SocketsMsg::SortBy(Column::State)));
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
    assert_eq!(st.sockets.visible_live_rows().len(), 4);
    assert_eq!(st.sockets.shown_counts(), (4, 6));
    let (_, gone) = st.sockets.find(&k22).unwrap();
    let gone = gone.expect("lingering, not live");
    // The row's countdown base comes with it (the details panel uses it).
    assert_eq!(gone.last_taken_at_ms, st.sockets.taken_at(gone_row));

    // The fade moves in whole-second steps (one repaint a second, not an
    // animation): the same strength all through the first second...
    assert_eq!(st.sockets.next_highlight_change_ms(11_000), Some(1_000));
    assert_eq!(
        st.sockets.highlight(live9000, 11_999),
        Some((Change::New, 1.0))
    );
    assert_eq!(st.sockets.next_highlight_change_ms(11_999), Some(1));
    // ...then two thirds, then one third, then nothing.
    st.tick(12_500);
    let (c, h) = st.sockets.highlight(live9000, 12_500).unwrap();
    assert!(c == Change::New && (h - 2.0 / 3.0).abs() < 1e-3, "{h}");
    let (c, h) = st.sockets.highlight(gone_row, 12_500).unwrap();
    assert!(c == Change::Gone && (h - 2.0 / 3.0).abs() < 1e-3, "{h}");
    assert_eq!(st.sockets.next_highlight_change_ms(12_500), Some(500));
    let (_, h) = st.sockets.highlight(live9000, 13_000).unwrap();
    assert!((h - 1.0 / 3.0).abs() < 1e-3, "{h}");
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
    assert_eq!(st.sockets.next_highlight_change_ms(14_100), None);

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
    st.apply(Action::Sockets(SocketsMsg::Copy(CopyWhat::Port, tw)));
    st.apply(Action::Sockets(SocketsMsg::Copy(CopyWhat::Address, tw)));
    st.apply(Action::Sockets(SocketsMsg::Select(Some(tw))));
    st.apply(Action::Sockets(SocketsMsg::CopySelected));
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
    st.apply(Action::Sockets(SocketsMsg::SetFilterText("8080".into())));
    st.ensure_rows();

    let csv = dir.path().join("out"); // no extension: becomes out.csv
    assert_eq!(st.export_to(&csv), Ok(2));
    let text = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], export::CSV_HEADER);
    assert_eq!(lines[1], "tcp,ipv4,127.0.0.1,8080,,,LISTEN,4242,python3,,");
    assert_eq!(
        lines[2],
        "tcp,ipv4,127.0.0.1,8080,127.0.0.1,40000,TIME_WAIT,,,30000,"
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
            .ends_with(",3,\"we,ird \"\"name\"\"\",,")
    );
}

#[test]
fn an_export_job_copies_the_rows_and_writes_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = AppState::new(Settings::default(), 0);
    feed(&mut st, snap(0, base()));
    st.apply(Action::Sockets(SocketsMsg::SetFilterText("8080".into())));
    st.ensure_rows();
    let job = st.sockets.export_job(&dir.path().join("later"));
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
    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::AllStates,
        true,
    )));
    st.ensure_rows();
    // Unlike `portwise list --all`: a bound-only socket holds its port.
    assert_eq!(ports(&st), vec![7070]);
    let tip = Quick::AllStates.tooltip();
    assert!(
        tip.contains("bound-only") && tip.contains("--state closed"),
        "{tip}"
    );
}

#[test]
fn the_filter_matches_every_column_and_all_its_words() {
    let mut st = AppState::new(Settings::default(), 1_000);
    feed(&mut st, snap(1_000, base()));
    st.apply(Action::Sockets(SocketsMsg::SetQuick(
        Quick::AllStates,
        true,
    )));
    let rows = |st: &mut AppState, text: &str| {
        st.apply(Action::Sockets(SocketsMsg::SetFilterText(text.into())));
        st.ensure_rows();
        st.sockets
            .rows()
            .iter()
            .map(|r| {
                let e = st.sockets.entry(*r).unwrap();
                (e.local_port, state_text(e))
            })
            .collect::<Vec<_>>()
    };
    // User, state, protocol, remote address, last owner, process.
    assert_eq!(
        rows(&mut st, "ALICE"),
        vec![(22, "LISTEN"), (8080, "LISTEN"), (8080, "ESTABLISHED")]
    );
    assert_eq!(rows(&mut st, "time_wait"), vec![(8080, "TIME_WAIT")]);
    assert_eq!(rows(&mut st, "udp"), vec![(5353, "bound")]);
    assert_eq!(rows(&mut st, "10.0.0.2:51000"), vec![(8080, "ESTABLISHED")]);
    assert_eq!(rows(&mut st, "was: server"), vec![(8080, "TIME_WAIT")]);
    assert_eq!(rows(&mut st, "avahi (9)"), vec![(5353, "bound")]);
    // Words combine with AND, each in any column.
    assert_eq!(
        rows(&mut st, "python3 established"),
        vec![(8080, "ESTABLISHED")]
    );
    assert_eq!(rows(&mut st, "  sshd   22 "), vec![(22, "LISTEN")]);
    assert!(rows(&mut st, "python3 sshd").is_empty());
    // A word never spans two columns ("LISTEN" then "alice").
    assert!(rows(&mut st, "listenalice").is_empty());
    assert_eq!(rows(&mut st, "").len(), 5);
}

#[test]
fn steps_move_the_selection_within_the_shown_rows() {
    let mut st = AppState::new(Settings::default(), 1_000);
    feed(&mut st, snap(1_000, base()));
    // Rows: 22, 5353, 8080 LISTEN, 8080 TIME_WAIT.
    let port = |st: &AppState, step| {
        let (i, k) = st.sockets.step_selection(step).unwrap();
        (i, k.local_port)
    };
    assert_eq!(port(&st, Step::Down(1)), (0, 22), "none selected: first");
    assert_eq!(port(&st, Step::Up(1)), (3, 8080), "none selected: last");
    st.apply(Action::Sockets(SocketsMsg::Select(Some(RowKey::of(
        &listener(5353, "x", 1),
    )))));
    // The key of a row not shown selects nothing: start over.
    assert_eq!(port(&st, Step::Down(1)), (0, 22));
    // 22, then one down: 5353.
    for _ in 0..2 {
        let (_, k) = st.sockets.step_selection(Step::Down(1)).unwrap();
        st.apply(Action::Sockets(SocketsMsg::Select(Some(k))));
    }
    assert_eq!(st.sockets.selected.unwrap().local_port, 5353);
    assert_eq!(port(&st, Step::Down(1)), (2, 8080));
    assert_eq!(port(&st, Step::Down(10)), (3, 8080));
    assert_eq!(port(&st, Step::Up(10)), (0, 22));
    assert_eq!(port(&st, Step::Last), (3, 8080));
    assert_eq!(port(&st, Step::First), (0, 22));
    // The filter hides the selected row: the selection goes with it, so
    // Details, Delete and Ctrl+C cannot act on a row off screen.
    st.apply(Action::Sockets(SocketsMsg::SetFilterText("sshd".into())));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![22]);
    assert_eq!(st.sockets.selected, None);
    st.apply(Action::Sockets(SocketsMsg::SetFilterText("nothing".into())));
    st.ensure_rows();
    assert_eq!(st.sockets.step_selection(Step::First), None);
}

/// A socket whose owner process is hidden still has a user: the one the
/// kernel reports (its uid, named by the snapshot). The User cell, the
/// sort, the filter and a copied row name it, also once the socket has
/// gone and lingers, after a snapshot that no longer names that uid.
#[test]
fn a_hidden_owner_is_named_by_the_sockets_user() {
    let mut st = AppState::new(Settings::default(), 1_000);
    let mut hidden = listener(631, "cupsd", 1);
    hidden.processes.clear();
    hidden.uid = Some(0);
    let mut unknown = listener(632, "x", 2);
    unknown.processes.clear();
    unknown.uid = Some(4321);
    let mut s = base();
    s.extend([hidden.clone(), unknown]);
    let mut first = snap(1_000, s);
    first.sort();
    first.owner_users.insert(0, "root".into());
    feed(&mut st, first);
    let users = st.sockets.users().clone();
    assert_eq!(user_text(&hidden, &users), "root");
    let key = RowKey::of(&hidden);

    st.apply(Action::Sockets(SocketsMsg::SetFilterText("root".into())));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![631]);
    st.apply(Action::Sockets(SocketsMsg::SetFilterText(
        "uid 4321".into(),
    )));
    st.ensure_rows();
    assert_eq!(ports(&st), vec![632], "an unnamed uid is shown as a number");

    st.apply(Action::Sockets(SocketsMsg::SetFilterText(String::new())));
    st.apply(Action::Sockets(SocketsMsg::SortBy(Column::User)));
    st.ensure_rows();
    // "" (no user known) < "alice" < "root" < "uid 4321".
    let sorted = ports(&st);
    assert_eq!(sorted.len(), 6);
    assert_eq!(sorted[4..], [631, 632], "{sorted:?}");

    // Gone, it lingers, still named though the new snapshot has no names.
    let mut next = snap(2_000, base());
    next.sort();
    feed(&mut st, next);
    assert!(st.sockets.find(&key).is_some_and(|(_, g)| g.is_some()));
    st.apply(Action::Sockets(SocketsMsg::Copy(CopyWhat::Row, key)));
    let copied: Vec<String> = st
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::CopyText(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(
        copied,
        vec!["TCP\t127.0.0.1:631\tLISTEN\t\troot\t\t\t".to_string()]
    );
}

/// An orphaned FIN_WAIT_2 the kernel reports a timer for counts down like
/// TIME_WAIT; a live connection's timer (none is read) shows nothing.
#[test]
fn an_orphan_with_a_kernel_timer_counts_down() {
    let mut orphan = sock(Proto::Tcp, 8080, Some(TcpState::FinWait2), None);
    orphan.orphan = true;
    orphan.time_wait_expires_in_ms = Some(30_000);
    assert_eq!(time_wait_left_ms(&orphan, 1_000, 11_000), Some(20_000));
    let mut live = listener(8080, "python3", 4242);
    live.state = Some(TcpState::FinWait2);
    live.time_wait_expires_in_ms = Some(30_000);
    assert_eq!(time_wait_left_ms(&live, 1_000, 11_000), None);
}
