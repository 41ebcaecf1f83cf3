//! The Free port view, driven through the whole app: the engine really
//! picks ports on this machine; snapshots are scripted, so the history's
//! status can be checked against a known socket table.

mod common;

use std::net::TcpListener;

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portwise::ports::ProtoChoice;
use portwise::window::app::PortwiseApp;
use portwise::window::shell::View;

type H = Harness<'static, PortwiseApp>;

fn grab(h: &mut H) -> Vec<u16> {
    let before = h.state().state.free.history.len();
    click(h, "Grab a free port");
    settled(h, |app| {
        !app.state.free.busy() && app.state.free.history.len() > before
    });
    h.state().state.free.last.clone()
}

#[test]
fn grab_puts_the_port_into_the_history_and_the_clipboard() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    h.get_by_label("Nothing grabbed yet.");

    let ports = grab(&mut h);
    assert_eq!(ports.len(), 1);
    let p = ports[0];
    // Outside the ephemeral range this machine reports, as the view says.
    let facts = h.state().state.free.facts.done().cloned().unwrap();
    assert!(!facts.is_ephemeral(p), "{p} is ephemeral");
    h.get_by_label_contains("The ephemeral range here:");

    // Copied, confirmed, and in the history with its own copy button.
    assert_eq!(rig.clipboard.texts(), vec![p.to_string()]);
    h.get_by_label(&format!("Copied {p}"));
    h.get_by_label(&format!("Copy {p}"));
    // It really was free: a plain bind of it works.
    TcpListener::bind(("0.0.0.0", p)).unwrap();

    // Status from the snapshots: free, then held by whoever binds it.
    refresh(&rig, &mut h, machine(T0));
    h.get_by_label("still free");
    refresh(
        &rig,
        &mut h,
        snapshot(T0 + 1_000, vec![listener("0.0.0.0", p, 4242, "python3")]),
    );
    h.get_by_label("now held by python3 (4242)");

    // The history's copy button copies that port again.
    click(&mut h, &format!("Copy {p}"));
    assert_eq!(rig.clipboard.texts(), vec![p.to_string(), p.to_string()]);
}

#[test]
fn several_ports_from_a_range_for_tcp_and_udp() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    click(&mut h, "TCP and UDP");
    click(&mut h, "Within a range:");
    set_field(&mut h, "From", "42000");
    set_field(&mut h, "To", "42999");
    set_field(&mut h, "How many", "3");
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(h.state().state.free.count(), Ok(3));
    h.get_by_label("portwise free --count 3 --proto both --range 42000-42999");
    click(&mut h, "Grab 3 free ports");
    settled(&mut h, |app| app.state.free.history.len() == 3);
    let mut ports = h.state().state.free.last.clone();
    assert_eq!(
        rig.clipboard.texts(),
        vec![
            ports
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ]
    );
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 3);
    assert!(ports.iter().all(|p| (42000..=42999).contains(p)));
    let h0 = &h.state().state.free.history[0];
    assert_eq!(h0.proto, ProtoChoice::Both);
}

#[test]
fn invalid_options_disable_grab_and_say_why() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    click(&mut h, "Within a range:");
    set_field(&mut h, "From", "9000");
    set_field(&mut h, "To", "8000");
    h.get_by_label("From (9000) is above To (8000)");
    assert!(disabled(&h, "Grab a free port"));
    set_field(&mut h, "To", "70000");
    h.get_by_label("To: '70000' is not a port from 1 to 65535");
    assert!(disabled(&h, "Grab a free port"));
    set_field(&mut h, "To", "9100");
    assert!(!disabled(&h, "Grab a free port"));

    // UDP has no TIME_WAIT: no reservation to offer.
    assert!(!disabled(&h, "Reserve for about a minute"));
    click(&mut h, "UDP");
    assert!(disabled(&h, "Reserve for about a minute"));
}

#[test]
fn a_reserved_port_shows_as_reserved_in_time_wait() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    click(&mut h, "Reserve for about a minute");
    h.get_by_label("portwise free --reserve");
    let p = grab(&mut h)[0];
    let g = &h.state().state.free.history[0];
    assert!(
        g.reserved_until_unix_ms.is_some(),
        "notes: {:?}",
        h.state().state.free.notes
    );
    // The snapshot shows the loopback TIME_WAIT socket the reservation left.
    refresh(
        &rig,
        &mut h,
        snapshot(T0 + 1_000, vec![time_wait(p, 50_000, 59_000, None)]),
    );
    h.get_by_label("reserved (TIME_WAIT), 59 s left");
    rig.set_now(T0 + 10_000);
    h.run();
    h.get_by_label("reserved (TIME_WAIT), 50 s left");
}

/// "How many" is checked as typed: 0, 5000 and a word each get a message
/// beside the field and turn the grab button off; nothing is clamped.
#[test]
fn a_bad_count_is_said_beside_the_field_and_blocks_the_grab() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    for (typed, says) in [
        ("0", "How many: at least 1 (up to 100)"),
        (
            "5000",
            "How many: 5000 is more than the window grabs at once (at most 100)",
        ),
        ("many", "How many: 'many' is not a number (enter 1 to 100)"),
    ] {
        set_field(&mut h, "How many", typed);
        assert_eq!(h.state().state.free.count_text, typed, "kept as typed");
        h.get_by_label(says);
        assert!(disabled(&h, "Grab a free port"), "grab with {typed:?}");
        // The button does nothing while off, and no port is picked.
        h.get_by_label("Grab a free port").click();
        h.run();
        assert!(h.state().state.free.history.is_empty());
        assert!(!h.state().state.free.busy());
    }
    set_field(&mut h, "How many", "2");
    assert!(!has_text(&h, "How many:"), "the message went");
    assert!(!disabled(&h, "Grab 2 free ports"));
    h.get_by_label("portwise free --count 2");
}
