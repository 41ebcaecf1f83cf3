//! The window's host tabs against a real OpenSSH server (tests/common/sshd.rs:
//! Debian's sshd on 127.0.0.1, throwaway keys, the remote being this
//! machine): the picker offers the ssh_config's hosts, the Install button
//! copies portwise there, and the Sockets, Bind test, Free port and Kernel
//! tuning views then answer from that host; unreachable and auth failures
//! show ssh's reason. SKIPPED (with the reason) where sshd cannot run.

#![cfg(unix)]

mod common;

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::sshd::{Sshd, start_sshd};
use common::ui::{Rig, click, has_text, set_field};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portwise::remote::client::Ssh;
use portwise::remote::fleet::HostStatus;
use portwise::window::app::PortwiseApp;
use portwise::window::shell::Settings;
use portwise::window::tasks::Pending;

/// Step the window until `cond` holds; fails after `secs`.
#[track_caller]
fn until(
    h: &mut Harness<'_, PortwiseApp>,
    secs: u64,
    what: &str,
    cond: impl Fn(&PortwiseApp) -> bool,
) {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if cond(h.state()) {
            h.run();
            return;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}; sockets error {:?}, {} sockets; tabs: {:#?}",
            h.state().state.sockets.error,
            h.state().state.sockets.snapshot.sockets.len(),
            h.state().state.hosts.tabs
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn status<'a>(app: &'a PortwiseApp, host: &str) -> Option<&'a HostStatus> {
    app.state
        .hosts
        .tabs
        .iter()
        .find(|t| t.dest.as_str() == host)
        .map(|t| &t.state.status)
}

fn connected(app: &PortwiseApp, host: &str) -> bool {
    matches!(status(app, host), Some(HostStatus::Connected { .. }))
}

fn failed_with(app: &PortwiseApp, host: &str, words: &str) -> bool {
    matches!(status(app, host), Some(HostStatus::Failed { reason, .. }) if reason.contains(words))
}

/// The window with the test sshd's ssh command, sampling paused.
fn window(sshd: &Sshd, rig: &Rig) -> Harness<'static, PortwiseApp> {
    let mut h = rig.harness(Settings::default());
    let hosts = &mut h.state_mut().state.hosts;
    hosts.set_ssh(Ssh::parse(&sshd.ssh_command()).unwrap());
    hosts.set_binary(PathBuf::from(env!("CARGO_BIN_EXE_portwise")));
    h.run();
    h
}

/// Connect to `host` by typing it in the picker.
fn connect_typed(h: &mut Harness<'_, PortwiseApp>, host: &str) {
    click(h, "Add host…");
    set_field(h, "Host", host);
    click(h, "Connect");
}

/// Click the one tab whose name contains `host` (tabs carry a status or
/// a latency).
fn click_tab(h: &mut Harness<'_, PortwiseApp>, host: &str) {
    use egui::accesskit::Role;
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    {
        let tabs: Vec<_> = h
            .query_all_by_label_contains(host)
            .filter(|n| n.accesskit_node().role() != Role::Label)
            .collect();
        assert_eq!(tabs.len(), 1, "one tab for {host}");
        tabs[0].click();
    }
    h.run();
}

#[test]
fn host_tabs_run_the_views_on_a_real_sshd() {
    let sshd = match start_sshd() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let me = std::process::id();
    let rig = Rig::new();
    let mut h = window(&sshd, &rig);

    // The picker offers the named hosts of the ssh_config ssh reads (-F),
    // not the pw-test-* pattern.
    click(&mut h, "Add host…");
    until(&mut h, 5, "the ssh_config's hosts", |a| {
        a.state
            .hosts
            .picker
            .as_ref()
            .is_some_and(|p| matches!(p.config_hosts, Pending::Done(_)))
    });
    for name in ["pw-test", "pw-changed", "pw-noauth", "pw-dead"] {
        assert!(has_text(&h, name), "{name} offered");
    }
    assert!(!has_text(&h, "pw-test-*"));
    click(&mut h, "pw-test");

    // Nothing installed there: the tab says so and offers the copy.
    until(&mut h, 20, "the install offer", |a| {
        a.state
            .hosts
            .selected_tab()
            .is_some_and(|t| t.state.needs_install)
    });
    assert!(has_text(&h, "portwise is not installed on pw-test"));
    click(&mut h, "Install portwise on pw-test");
    assert!(
        rig.clipboard.texts().is_empty(),
        "installing copies nothing to the clipboard"
    );
    until(&mut h, 30, "pw-test connected", |a| connected(a, "pw-test"));
    assert!(has_text(&h, "pw-test · "));
    assert!(has_text(&h, "pw-test: connected"));
    let copied = sshd.home().join(".cache/portwise/portwise");
    assert!(copied.exists(), "the Install button copied portwise there");

    // The Sockets view samples that host: this test's listener, with its pid.
    h.key_press(egui::Key::F5);
    until(&mut h, 30, "the remote snapshot", |a| {
        a.state.sockets.received_at_ms.is_some()
            && a.state
                .sockets
                .snapshot
                .sockets
                .iter()
                .any(|e| e.local_port == port && e.processes.iter().any(|p| p.pid == me))
    });
    set_field(&mut h, "Filter", &port.to_string());
    assert!(
        has_text(&h, &format!("127.0.0.1:{port}")) || has_text(&h, &port.to_string()),
        "the row is drawn"
    );
    // "Test bind on this port" from that row tests on pw-test, with the
    // row's port and address, not on this machine.
    h.query_all_by_label_contains(&format!("({me})"))
        .next()
        .expect("the listener's row")
        .click();
    h.run();
    click(&mut h, "Test bind on this port");
    until(&mut h, 30, "the bind test from the row", |a| {
        a.state
            .hosts
            .selected_results()
            .is_some_and(|r| matches!(r.bind, Pending::Done(_)))
    });
    assert!(has_text(&h, "Bind test on pw-test"));
    assert!(h.state().state.bind.result.is_none(), "tested here too");
    let Some(Pending::Done(Ok(from_row))) = h
        .state()
        .state
        .hosts
        .selected_results()
        .map(|r| r.bind.clone())
    else {
        panic!("no remote bind result");
    };
    assert_eq!(
        from_row.command,
        format!("portwise bind-test {port} --addr 127.0.0.1 --host pw-test")
    );
    click(&mut h, "Sockets");
    set_field(&mut h, "Filter", "");

    // Bind test there: the port is held, by this test's pid.
    click(&mut h, "Bind test");
    assert!(has_text(&h, "Bind test on pw-test"));
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test bind there");
    let bind = h
        .state()
        .state
        .hosts
        .selected_results()
        .unwrap()
        .bind
        .clone();
    let Pending::Done(Ok(out)) = bind else {
        panic!("{bind:?}")
    };
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&me.to_string()), "{out:?}");
    assert_eq!(
        out.command,
        format!("portwise bind-test {port} --addr 127.0.0.1 --host pw-test")
    );
    assert!(has_text(
        &h,
        &format!("bind-test {port} --addr 127.0.0.1 --host pw-test")
    ));

    // Free port there: a port, copied.
    click(&mut h, "Free port");
    click(&mut h, "Grab a free port there");
    let free = h
        .state()
        .state
        .hosts
        .selected_results()
        .unwrap()
        .free
        .clone();
    let Pending::Done(Ok(out)) = free else {
        panic!("{free:?}")
    };
    assert_eq!(out.ports.len(), 1, "{out:?}");
    assert_eq!(rig.clipboard.texts(), [out.ports[0].to_string()]);
    assert!(has_text(&h, "Free there:"));

    // Kernel tuning there: read when the view shows.
    click(&mut h, "Kernel tuning");
    let tuning = h
        .state()
        .state
        .hosts
        .selected_results()
        .unwrap()
        .tuning
        .clone();
    let Pending::Done(Ok(out)) = tuning else {
        panic!("{tuning:?}")
    };
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("net.ipv4"), "{out:?}");

    // Unreachable, and a key the agent does not hold: ssh's reason, and
    // for the key, what to do (BatchMode cannot prompt).
    connect_typed(&mut h, "pw-dead");
    until(&mut h, 15, "pw-dead refused", |a| {
        failed_with(a, "pw-dead", "Connection refused")
    });
    assert!(has_text(&h, "pw-dead · not connected"));
    assert!(has_text(&h, "Connection refused"));
    assert!(!has_text(&h, "Install portwise on pw-dead"));
    connect_typed(&mut h, "pw-noauth");
    until(&mut h, 15, "pw-noauth denied", |a| {
        failed_with(a, "pw-noauth", "ssh-add")
    });
    assert!(has_text(&h, "Permission denied"));
    // A typo never reaches ssh as an option.
    connect_typed(&mut h, "-oProxyCommand=x");
    assert!(has_text(&h, "a host cannot start with '-'"));
    click(&mut h, "Cancel");

    // Back to this machine and to pw-test: the tabs switch the sampler.
    click(&mut h, "This machine");
    assert!(h.state().state.hosts.selected.is_none());
    click_tab(&mut h, "pw-test · ");
    assert_eq!(
        h.state().state.hosts.selected.as_ref().map(|d| d.as_str()),
        Some("pw-test")
    );
    assert_eq!(
        h.state().state.settings.recent_hosts,
        ["pw-noauth", "pw-dead", "pw-test"],
        "the bad destination is not remembered"
    );
    drop(listener);
}

#[test]
fn fleet_view_compares_hosts_on_a_real_sshd() {
    let sshd = match start_sshd() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    sshd.install_portwise(std::path::Path::new(env!("CARGO_BIN_EXE_portwise")));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let me = std::process::id();
    // A TIME_WAIT pile on this machine, which is the hosts' machine.
    common::make_time_wait(&listener, 3);
    let rig = Rig::new();
    let mut h = window(&sshd, &rig);
    for host in ["pw-test-1", "pw-test-2", "pw-dead"] {
        connect_typed(&mut h, host);
    }
    until(&mut h, 30, "two hosts refreshed", |a| {
        ["pw-test-1", "pw-test-2"].iter().all(|n| {
            a.state.hosts.tabs.iter().any(|t| {
                t.dest.as_str() == *n
                    && t.state.refreshes >= 1
                    && matches!(t.state.status, HostStatus::Connected { .. })
            })
        }) && failed_with(a, "pw-dead", "Connection refused")
    });
    click(&mut h, "Fleet");
    set_field(&mut h, "Who listens on port", &port.to_string());
    let rows = portwise::window::fleet::rows(&h.state().state.hosts.tabs, Some(port));
    assert_eq!(rows.len(), 3);
    for r in rows.iter().filter(|r| r.host != "pw-dead") {
        assert!(r.host.starts_with("pw-test-"), "{r:?}");
        assert_eq!(r.holders.len(), 1, "{r:?}");
        assert!(
            r.holders[0].starts_with(&format!("tcp 127.0.0.1:{port} ")),
            "{r:?}"
        );
        // This process holds it; a child caught between fork and exec
        // (an ssh being started) may briefly hold a copy too.
        assert!(r.holders[0].contains(&format!(" ({me})")), "{r:?}");
        assert!(r.time_wait.unwrap_or(0) >= 3, "{r:?}");
        assert!(r.unattributed.is_some());
    }
    let dead = rows.iter().find(|r| r.host == "pw-dead").unwrap();
    assert!(!dead.connected && dead.time_wait.is_none(), "{dead:?}");
    assert!(has_text(&h, &format!("Listening on {port}")));
    assert!(has_text(&h, &format!("tcp 127.0.0.1:{port}")));
    assert!(has_text(&h, "pw-test-2"));
    assert!(has_text(&h, "Connection refused"));
    // A port nobody holds: "nobody" on every connected host.
    set_field(&mut h, "Who listens on port", "1");
    assert!(has_text(&h, "nobody"));
    set_field(&mut h, "Who listens on port", "99999");
    assert!(has_text(&h, "is not a port"));
    drop(listener);
}
