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
    // The window's fixes are its own buttons, not CLI commands (issue 13
    // §4): "Stop process…" opens the stop confirmation for the holder.
    assert!(
        !has_text(&h, "portwise stop --pid"),
        "a CLI command as a fix"
    );
    rig.stop
        .targets
        .lock()
        .unwrap()
        .push(stop_target(me, "ui_bind", port));
    click(&mut h, "Stop process…");
    settled(&mut h, |app| app.state.stop_dialog.is_some());
    h.get_by_label("Stop this process?");
    assert_eq!(
        h.state().state.stop_dialog.as_ref().unwrap().targets[0].pid,
        me
    );
    click(&mut h, "Cancel");
    assert!(h.state().state.stop_dialog.is_none());
    assert!(rig.stop.stopped.lock().unwrap().is_empty());

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

    // The holder goes: the card keeps its diagnosis, says the port looks
    // free now, and no longer offers to stop a process that is not there.
    drop(held);
    click(&mut h, "Bind test");
    h.key_press(egui::Key::F5);
    settled(&mut h, |app| {
        !app.state
            .sockets
            .snapshot
            .sockets
            .iter()
            .any(|s| s.local_port == port)
    });
    h.get_by_label_contains("nothing on this port any more: test again");
    h.get_by_label("Another socket is bound to this port");
    assert!(disabled(&h, "Stop process…"));
}

#[test]
fn watch_until_free_says_when_the_port_binds() {
    let rig = Rig::new();
    let mut h = real_app_on_rig_clock(&rig);
    let notes = portwise::notify::Recording::default();
    h.state_mut().set_notifier(Box::new(notes.clone()));
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    h.get_by_label("Watch until free").click();
    h.run_steps(3);
    assert!(h.state().state.bind.watch.is_some());
    // Watching is quiet: nothing animates while it waits (a spinner did,
    // every frame, for as long as the watch lasted). The next frame is
    // the next attempt's, up to a second away.
    h.run();
    let delay = h
        .output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map_or(std::time::Duration::MAX, |v| v.repaint_delay);
    assert!(
        delay >= std::time::Duration::from_millis(100),
        "watching repaints every {delay:?}"
    );
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
    // And the desktop is told (the user may have left the window).
    let notes = notes.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].summary, format!("Port {port} is free"));
    assert!(
        notes[0]
            .body
            .starts_with(&format!("TCP 127.0.0.1:{port} binds now, after")),
        "{notes:?}"
    );
}

/// Watched ports: added from the form, kept in the settings (and so
/// across runs), a notification when the port becomes bindable and when
/// it is taken, naming who took it. The listener is real; the socket table
/// is scripted to match it.
#[test]
fn watched_ports_notify_when_free_and_when_taken() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    let notes = portwise::notify::Recording::default();
    h.state_mut().set_notifier(Box::new(notes.clone()));
    let me = std::process::id();
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let holding = |t| snapshot(t, vec![listener("127.0.0.1", port, me, "ui_bind")]);
    refresh(&rig, &mut h, holding(T0));
    assert!(has_text(&h, "Watched ports"));
    set_field(&mut h, "Port", &port.to_string());
    click(&mut h, "Add to watched ports");
    assert!(disabled(&h, "Add to watched ports"), "already watched");
    h.get_by_label(&format!(
        "TCP {port}: held by ui_bind (pid {me}, user alice)"
    ));
    let w = portwise::notify::WatchedPort {
        port,
        proto: Proto::Tcp,
    };
    assert_eq!(h.state().state.settings.watched_ports, vec![w]);
    assert!(notes.notes().is_empty(), "the first look says nothing");

    // The holder exits: the port binds, and the desktop is told.
    drop(held);
    refresh(&rig, &mut h, snapshot(T0 + 1_000, vec![]));
    h.get_by_label(&format!("TCP {port}: bindable now"));
    let n = notes.notes();
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].summary, format!("Port {port} is free"));
    assert_eq!(
        n[0].body,
        format!("TCP {port} binds now (it was held by ui_bind (pid {me}, user alice)).")
    );

    // Taken again: who took it.
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    refresh(&rig, &mut h, holding(T0 + 2_000));
    let n = notes.notes();
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(n[1].summary, format!("Port {port} was taken"));
    assert_eq!(
        n[1].body,
        format!("TCP {port} is now held by ui_bind (pid {me}, user alice).")
    );

    // Across runs: the next window starts with the list from the settings.
    let saved = h.state().state.settings.clone();
    let mut h2 = rig.harness(saved);
    h2.get_by_label(&format!("Remove TCP {port}"));
    click(&mut h2, &format!("Remove TCP {port}"));
    assert!(h2.state().state.settings.watched_ports.is_empty());
    assert!(!has_text(&h2, &format!("Remove TCP {port}")));
    drop(held);
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
    // The row's address too, and the test has run.
    assert_eq!(b.addr_text, "0.0.0.0");
    assert!(b.result.is_some());
    h.get_by_label("portwise bind-test 5353 --proto udp");
}

/// From a [::1] row: the row's address and protocol, tested at once, and
/// the card names the ::1 listener (a real one, held by this test).
#[test]
fn test_bind_from_an_ipv6_loopback_row_tests_that_address() {
    let Ok(held) = TcpListener::bind("[::1]:0") else {
        eprintln!("SKIPPED: no IPv6 loopback here");
        return;
    };
    let port = held.local_addr().unwrap().port();
    let me = std::process::id();
    let rig = Rig::new();
    // The details panel closed, as above: a right-click selects its row.
    let mut h = rig.harness(portwise::window::shell::Settings {
        details_open: false,
        ..Default::default()
    });
    let snap = snapshot(T0, vec![listener("::1", port, me, "ui_bind")]);
    refresh(&rig, &mut h, snap);
    h.get_by_label(&format!("ui_bind ({me})")).click_secondary();
    h.run();
    click(&mut h, "Test bind on this port");
    let st = &h.state().state;
    assert_eq!(st.settings.view, View::BindTest);
    assert_eq!(st.bind.addr_text, "::1");
    let r = st.bind.result.as_ref().unwrap();
    assert_eq!(r.request.addr.to_string(), "::1");
    assert!(!r.report.ok);
    h.get_by_label_contains("EADDRINUSE");
    h.get_by_label_contains(&format!("(pid {me}) already listens on [::1]:{port}"));
    drop(held);
}

/// A result is for the inputs it was tested with: change a field and the
/// card says it is out of date; testing again clears that.
#[test]
fn a_result_goes_stale_when_its_inputs_change() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    let port = free_loopback_port();
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    h.get_by_label("Bindable");
    assert!(!has_text(&h, "Out of date"));
    set_field(&mut h, "Port", &(port.wrapping_add(1).max(1)).to_string());
    h.get_by_label_contains(&format!(
        "Out of date: this result is for the old inputs (TCP 127.0.0.1 port {port}, no socket \
         options)"
    ));
    assert!(h.state().state.bind.is_stale());
    // Back to the tested inputs: no longer stale.
    set_field(&mut h, "Port", &port.to_string());
    assert!(!has_text(&h, "Out of date"));
    // An option ticked: the old inputs say they had none.
    h.get_by_label("SO_REUSEADDR").click();
    h.run();
    h.get_by_label_contains("no socket options)");
    h.get_by_label("SO_REUSEADDR").click();
    h.run();
    assert!(!has_text(&h, "Out of date"));
    // A change of protocol, then a test of the new inputs.
    h.get_by_label("UDP").click();
    h.run();
    assert!(has_text(&h, "Out of date"));
    click(&mut h, "Test the new inputs");
    assert!(!has_text(&h, "Out of date"));
    assert_eq!(
        h.state().state.bind.result.as_ref().unwrap().request.proto,
        Proto::Udp
    );
}

/// `localhost` in the address field tests 127.0.0.1 and ::1: two cards.
#[test]
fn localhost_tests_both_loopbacks_in_the_window() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: no IPv6 loopback here");
        return;
    }
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    let port = free_loopback_port();
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "localhost");
    assert!(!disabled(&h, "Test"));
    // The command line shown tests what the form does: both loopbacks.
    h.get_by_label(&format!("portwise bind-test {port} --addr localhost"));
    click(&mut h, "Test");
    h.get_by_label(&format!("TCP 127.0.0.1:{port} binds now."));
    h.get_by_label(&format!("TCP [::1]:{port} binds now."));
    h.get_by_label_contains("localhost is 127.0.0.1 and ::1");
    assert_eq!(h.query_all_by_label("Bindable").count(), 2);
}

/// Port 80 as root: "Bindable", and that a normal user would get EACCES.
#[test]
fn port_80_as_root_says_a_normal_user_would_be_refused() {
    if !portwise::platform::os::process::is_elevated() || portwise::platform::OS_NAME != "linux" {
        eprintln!("SKIPPED: needs root on Linux");
        return;
    }
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    set_field(&mut h, "Port", "80");
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    if !h
        .state()
        .state
        .bind
        .result
        .as_ref()
        .is_some_and(|r| r.report.ok)
    {
        eprintln!("SKIPPED: port 80 is taken on 127.0.0.1 here");
        return;
    }
    h.get_by_label("Bindable");
    h.get_by_label_contains("a normal user (without CAP_NET_BIND_SERVICE) would get EACCES");
}

/// The body of `child_port_80_as_a_user` when re-run as `nobody`: port 80
/// is refused with EACCES, explained as a privileged port, and the card
/// never says "nothing on this port any more: test again" (the latest
/// snapshot shows the port free, which says nothing about EACCES).
#[test]
fn child_port_80_as_a_user() {
    if std::env::var("PORTWISE_CHILD_PORT80").is_err() {
        return;
    }
    let rig = Rig::new();
    let mut h = on_view(&rig, View::BindTest);
    refresh(&rig, &mut h, snapshot(T0, vec![]));
    set_field(&mut h, "Port", "80");
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    h.run();
    h.get_by_label_contains("EACCES");
    h.get_by_label("A privileged port");
    assert!(!has_text(&h, "test again"));
    println!("child ok");
}

#[test]
fn port_80_as_a_normal_user_is_not_told_to_test_again() {
    let limit: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024);
    if portwise::platform::OS_NAME != "linux" || limit <= 80 {
        eprintln!("SKIPPED: needs Linux with port 80 privileged");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let test_args = [
        "--exact",
        "child_port_80_as_a_user",
        "--nocapture",
        "--test-threads=1",
    ];
    let mut cmd = if portwise::platform::os::process::is_elevated() {
        if std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: running as root and setpriv is not installed");
            return;
        }
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe);
        c
    } else {
        std::process::Command::new(&exe)
    };
    let out = cmd
        .args(test_args)
        .env("PORTWISE_CHILD_PORT80", "1")
        // Where `nobody` may write (egui_kittest writes nothing without
        // the snapshots feature; HOME for anything that looks).
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() && text.is_empty() {
        eprintln!(
            "SKIPPED: could not run as an unprivileged user: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    assert!(
        out.status.success() && text.contains("child ok"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where notifications cannot be shown (no notification server, no
/// session bus), the window says so in a toast that stays, instead of
/// only on stderr.
#[test]
fn a_notifier_that_fails_is_said_in_the_window() {
    struct Failing(bool);
    impl portwise::notify::Notifier for Failing {
        fn notify(&mut self, _: portwise::notify::Note) {}
        fn take_failure(&mut self) -> Option<String> {
            (!std::mem::replace(&mut self.0, true)).then(|| {
                "cannot show a desktop notification: Failed to connect to the session bus"
                    .to_string()
            })
        }
    }
    let rig = Rig::new();
    let mut h = real_app_on_rig_clock(&rig);
    h.state_mut().set_notifier(Box::new(Failing(false)));
    h.run();
    h.get_by_label_contains(
        "Desktop notifications cannot be shown (cannot show a desktop notification: Failed to \
         connect to the session bus)",
    );
    // Long as it is, it wraps inside the window (one line ran off its
    // left edge).
    let r = h
        .get_by_label_contains("Desktop notifications cannot be shown")
        .rect();
    assert!(r.left() >= 0.0 && r.width() <= 400.0, "{r:?}");
    rig.set_now(T0 + 3_600_000);
    h.run();
    h.get_by_label_contains("Desktop notifications cannot be shown");
}
