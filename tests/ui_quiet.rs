//! Quiet CPU (issue 13): the window asks for a repaint only when something
//! it shows changes with time. Read from what the app asks egui for after
//! a settled frame (`repaint_delay` of the root viewport): `Duration::MAX`
//! means "nothing until an event", so an idle window draws nothing.

mod common;

use std::time::Duration;

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portwise::window::app::PortwiseApp;
use portwise::window::shell::{Settings, View};

type H = Harness<'static, PortwiseApp>;

/// The delay egui was asked to wait before the next frame, after the last
/// frame of a settled run.
fn repaint_delay(h: &H) -> Duration {
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map_or(Duration::MAX, |v| v.repaint_delay)
}

/// Listeners and a UDP socket: nothing that counts down.
fn quiet_machine(taken: u64) -> portwise::sockets::Snapshot {
    snapshot(
        taken,
        vec![
            listener("127.0.0.1", 8080, 4242, "python3"),
            listener("::1", 5432, 900, "postgres"),
            udp("0.0.0.0", 5353, 321, "avahi-daemon"),
        ],
    )
}

#[test]
fn nothing_changing_and_nothing_counting_down_asks_for_no_repaint() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, quiet_machine(T0));
    h.get_by_label("Showing 3 of 3 sockets");
    // The status bar has no "N s ago" that would tick.
    h.get_by_label_contains("Updated 22:13:20 UTC (took");
    assert!(!has_text(&h, "s ago"));
    rig.set_now(T0 + 5_000);
    h.run();
    assert_eq!(
        repaint_delay(&h),
        Duration::MAX,
        "an idle window must sleep"
    );
    assert_eq!(h.state().next_repaint(false), None);
}

#[test]
fn a_shown_countdown_ticks_once_a_second_on_the_clocks_second() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, machine(T0)); // TIME_WAIT with 42 s and 12.3 s left
    h.get_by_label("42 s");
    h.get_by_label("13 s");
    // Countdowns change together on the clock's whole second (T0 is one).
    assert_eq!(repaint_delay(&h), Duration::from_millis(1000));
    rig.set_now(T0 + 300);
    h.run();
    // Between two seconds nothing changes: 12.0 s left still reads "13 s"
    // (a second high at most, never low), and the next frame is due at
    // the second.
    h.get_by_label("13 s");
    assert_eq!(repaint_delay(&h), Duration::from_millis(700));
    rig.set_now(T0 + 1_000);
    h.run();
    h.get_by_label("41 s");
    h.get_by_label("12 s");
    assert_eq!(repaint_delay(&h), Duration::from_millis(1000));
}

/// Thirty TIME_WAIT rows whose timers have thirty different phases (as
/// real sockets do) still ask for one repaint a second, at the clock's
/// next second, not one per row (which cost 40-70% of a core with
/// software GL).
#[test]
fn many_countdowns_with_their_own_phases_ask_for_one_repaint_a_second() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    let sockets: Vec<_> = (0..30u16)
        .map(|i| time_wait(8080, 41_000 + i, 30_000 + u64::from(i) * 1_033, None))
        .collect();
    refresh(&rig, &mut h, snapshot(T0, sockets));
    h.get_by_label("Showing 30 of 30 sockets");
    for ms in [250, 600, 999] {
        rig.set_now(T0 + ms);
        h.run();
        assert_eq!(
            repaint_delay(&h),
            Duration::from_millis(1000 - ms),
            "at +{ms} ms"
        );
    }
}

/// A row that appears mid-second fades on the clock's whole seconds too,
/// with the countdowns: one frame a second for both, not a second one at
/// the snapshot's own phase.
#[test]
fn highlights_step_with_the_countdowns_on_the_clocks_second() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, machine(T0)); // countdowns
    let mut next = machine(T0 + 1_300);
    next.sockets.push(listener("0.0.0.0", 3000, 777, "node"));
    next.sort();
    rig.set_now(T0 + 1_300);
    refresh(&rig, &mut h, next);
    h.get_by_label_contains("1 new (green)");
    assert_eq!(repaint_delay(&h), Duration::from_millis(700));
    for at in [2_000, 3_000] {
        rig.set_now(T0 + at);
        h.run();
        assert_eq!(
            repaint_delay(&h),
            Duration::from_millis(1000),
            "at +{at} ms the fade's next step is the clock's next second"
        );
    }
    // Gone after its third clock second, with the countdowns' frame.
    rig.set_now(T0 + 4_000);
    h.run();
    assert!(!has_text(&h, "new (green)"));
}

#[test]
fn countdowns_on_a_view_not_shown_ask_for_nothing() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, machine(T0));
    assert!(repaint_delay(&h) <= Duration::from_secs(1));
    for view in [View::FreePort, View::Tuning] {
        click(&mut h, view.title());
        assert_eq!(h.state().state.settings.view, view);
        rig.set_now(T0 + 5_000);
        h.run();
        assert_eq!(
            repaint_delay(&h),
            Duration::MAX,
            "{view:?} shows no countdown, yet a repaint was asked for"
        );
    }
}

#[test]
fn countdowns_scrolled_out_of_view_ask_for_nothing() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    // 200 listeners on low ports, then one TIME_WAIT on a high port: sorted
    // by port, the TIME_WAIT row is far below the visible rows.
    let mut sockets: Vec<_> = (0..200u16)
        .map(|i| listener("127.0.0.1", 2_000 + i, 4242, "python3"))
        .collect();
    sockets.push(time_wait(60_000, 41_000, 42_000, None));
    refresh(&rig, &mut h, snapshot(T0, sockets));
    h.get_by_label("Showing 201 of 201 sockets");
    assert!(
        h.query_by_label("42 s").is_none(),
        "the countdown is off screen"
    );
    rig.set_now(T0 + 2_000);
    h.run();
    assert_eq!(repaint_delay(&h), Duration::MAX);
}

#[test]
fn a_toast_wakes_the_window_once_when_it_is_due_to_go() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, quiet_machine(T0));
    h.state_mut()
        .state
        .toast(portwise::window::shell::ToastKind::Info, "Copied something");
    h.run();
    h.get_by_label("Copied something");
    let d = repaint_delay(&h);
    assert!(
        d > Duration::from_secs(1) && d <= Duration::from_secs(10),
        "a toast should wake the window when it goes, not every frame: {d:?}"
    );
}

#[test]
fn a_minimised_window_schedules_nothing() {
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(&rig, &mut h, machine(T0));
    let mut next = machine(T0 + 1_000);
    next.sockets.push(listener("0.0.0.0", 3000, 777, "node"));
    rig.set_now(T0 + 1_000);
    refresh(&rig, &mut h, next);
    assert!(h.state().next_repaint(false).is_some(), "a fading row");
    assert_eq!(h.state().next_repaint(true), None);
}
