//! The Bind test view, driven through the whole app. Binds are real, on
//! loopback; the holder test runs the real socket engine, so the holder it
//! shows is this test process.

mod common;

use std::net::{Ipv4Addr, TcpListener};

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use portwise::bind::Cause;
use portwise::sockets::{Proto, SystemSource};
use portwise::window::app::PortwiseApp;
use portwise::window::shell::View;

type H = Harness<'static, PortwiseApp>;

/// The app on the real socket engine and the real clock.
fn real_app(rig: &Rig) -> H {
    let mut services = rig.services();
    services.source = Box::new(SystemSource::new());
    services.clock = Box::new(portwise::util::time::now_unix_ms);
    bind_view(services)
}

/// Like [`real_app`], on the rig's clock (a test moves time itself).
fn real_app_on_rig_clock(rig: &Rig) -> H {
    let mut services = rig.services();
    services.source = Box::new(SystemSource::new());
    bind_view(services)
}

fn bind_view(services: portwise::window::app::Services) -> H {
    let settings = portwise::window::shell::Settings {
        view: View::BindTest,
        ..Default::default()
    };
    Rig::builder()
        .build_eframe(move |cc| PortwiseApp::with_context(&cc.egui_ctx, settings, services))
}

fn free_loopback_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_invalid_port_disables_test_and_says_why() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    assert!(disabled(&h, "Test"), "empty port");
    set_field(&mut h, "Port", "70000");
    h.get_by_label("'70000' is not a port: enter a number from 0 to 65535");
    assert!(disabled(&h, "Test"));
    assert!(disabled(&h, "Watch until free"));
    set_field(&mut h, "Port", "http");
    h.get_by_label("'http' is not a port: enter a number from 0 to 65535");
    assert!(disabled(&h, "Test"));

    set_field(&mut h, "Port", "8080");
    assert!(!disabled(&h, "Test"));
    h.get_by_label("portwise bind-test 8080");

    // A bad address disables it too; IPV6_V6ONLY only for IPv6.
    set_field(&mut h, "Address", "300.1.1.1");
    h.get_by_label("'300.1.1.1' is not an IPv4 or IPv6 address");
    assert!(disabled(&h, "Test"));
    assert!(disabled(&h, "IPV6_V6ONLY"));
    set_field(&mut h, "Address", "::1");
    assert!(!disabled(&h, "Test"));
    assert!(!disabled(&h, "IPV6_V6ONLY"));
}

#[test]
fn a_free_port_shows_bindable() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    let port = free_loopback_port();
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    h.get_by_label("Bindable");
    h.get_by_label(&format!("TCP 127.0.0.1:{port} binds now."));
}

#[test]
fn a_real_loopback_listener_shows_its_holder() {
    let rig = Rig::new();
    let mut h = real_app(&rig);
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let me = std::process::id();

    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    h.get_by_label_contains("EADDRINUSE");
    // The failure asked the sampler for a fresh snapshot; the diagnosis
    // follows it and names this process.
    settled(&mut h, |app| {
        app.state.bind.result.as_ref().is_some_and(|r| {
            r.report
                .diagnosis
                .as_ref()
                .is_some_and(|d| d.holders.iter().any(|x| x.pid == me))
        })
    });
    let d = h
        .state()
        .state
        .bind
        .result
        .clone()
        .unwrap()
        .report
        .diagnosis
        .unwrap();
    assert_eq!(d.cause, Cause::Listener);
    h.get_by_label("Another socket is bound to this port");
    h.get_by_label_contains(&format!("(pid {me}) already listens on 127.0.0.1:{port}"));
    h.get_by_label(&format!("portwise stop --pid {me}"));

    // Its fix commands copy.
    let copy_stop = format!("Copy: portwise stop --pid {me}");
    h.query_all_by_label("Copy")
        .find(|n| n.accesskit_node().description().as_deref() == Some(copy_stop.as_str()))
        .map(|n| n.click())
        .unwrap_or_else(|| panic!("no copy button for the stop command"));
    h.run();
    assert!(
        rig.clipboard
            .texts()
            .contains(&format!("portwise stop --pid {me}"))
    );

    // Clicking the holder opens the Sockets view on that port.
    let holder = h
        .query_all_by_label_contains(&format!("(pid {me})"))
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .map(|n| n.accesskit_node().label().unwrap_or_default())
        .unwrap();
    click(&mut h, &holder);
    let st = &h.state().state;
    assert_eq!(st.settings.view, View::Sockets);
    assert_eq!(st.settings.filter.port, Some(port));
    h.get_by_label(&format!("Port {port} ×"));
    drop(held);
}

#[test]
fn watch_until_free_says_when_the_port_binds() {
    let rig = Rig::new();
    let mut h = real_app_on_rig_clock(&rig);
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    // While watching a spinner turns, so the ui never settles: step it.
    h.get_by_label("Watch until free").click();
    h.run_steps(3);
    assert!(h.state().state.bind.watch.is_some());
    h.get_by_label("Stop watching");
    h.get_by_label_contains("Watching: re-testing every second");
    h.get_by_label_contains("EADDRINUSE");

    drop(held);
    // The next attempt, a second later on the app's clock, binds.
    rig.set_now(T0 + 1_100);
    h.step();
    assert!(
        h.state()
            .state
            .bind
            .result
            .as_ref()
            .is_some_and(|r| r.report.ok),
        "never bound"
    );
    h.run();
    assert!(h.state().state.bind.watch.is_none());
    h.get_by_label("Bindable");
    h.get_by_label_contains("(freed after");
    h.get_by_label_contains(&format!("Port {port} binds now (after"));
    h.get_by_label("Watch until free");
}

#[test]
fn test_bind_on_this_port_from_the_sockets_view() {
    let rig = Rig::new();
    // The details panel closed: a right-click selects its row, and the
    // panel would show the menu's buttons a second time.
    let mut h = rig.harness(portwise::window::shell::Settings {
        details_open: false,
        ..Default::default()
    });
    refresh(&rig, &mut h, machine(T0));
    h.get_by_label("avahi-daemon (321)").click_secondary();
    h.run();
    click(&mut h, "Test bind on this port");
    let b = &h.state().state.bind;
    assert_eq!(h.state().state.settings.view, View::BindTest);
    assert_eq!((b.port_text.as_str(), b.proto), ("5353", Proto::Udp));
    h.get_by_label("portwise bind-test 5353 --proto udp");
}
