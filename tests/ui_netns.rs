//! Network namespaces in the window: the Namespace / container column, the
//! "All namespaces" toggle and the banner about other namespaces, the
//! Details panel's namespace and container, and filtering by container
//! name. Driven through the whole app (kittest), first with a scripted
//! source that reports namespaces, then, as root, with the real engine
//! and a server in an `ip netns add` namespace (SKIPPED otherwise).

mod common;

use std::sync::Arc;

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portwise::sockets::{
    Container, NetnsRef, NetnsSelection, NetnsSummary, Published, SocketEntry,
};
use portwise::window::app::PortwiseApp;
use portwise::window::shell::Settings;

type H = Harness<'static, PortwiseApp>;

const WEB_ID: &str = "9d2c5e1f0a3b4c6d8e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d";

fn shown_ports(h: &H) -> Vec<u16> {
    let st = &h.state().state.sockets;
    st.rows()
        .iter()
        .map(|r| st.entry(*r).unwrap().local_port)
        .collect()
}

fn has_text(h: &H, text: &str) -> bool {
    h.query_by_label_contains(text).is_some()
}

fn in_ns(mut e: SocketEntry, ns: &Arc<NetnsRef>) -> SocketEntry {
    e.netns = Some(ns.clone());
    e
}

/// `e` held by the conmon of container "web", which publishes it.
fn published(mut e: SocketEntry) -> SocketEntry {
    e.published = Some(Box::new(Published {
        via: "conmon".into(),
        container: Some(Container {
            runtime: "podman".into(),
            id: WEB_ID.into(),
            name: Some("web".into()),
        }),
        target: None,
    }));
    e
}

fn summary(privileged: bool, listed: Vec<u64>) -> NetnsSummary {
    NetnsSummary {
        own: Some(1),
        others: 2,
        other_containers: 1,
        asked_all: listed.len() > 1,
        listed,
        privileged,
        ..NetnsSummary::default()
    }
}

#[test]
fn the_toggle_lists_every_namespace_and_the_column_details_and_filter_name_them() {
    let rig = Rig::new();
    rig.source.set_netns_summary(Some(summary(true, vec![1])));
    let mut h = rig.harness(Settings::default());
    let own = Arc::new(NetnsRef {
        inode: 1,
        name: None,
        container: None,
    });
    refresh(
        &rig,
        &mut h,
        snapshot(
            T0,
            vec![in_ns(listener("127.0.0.1", 8080, 4242, "python3"), &own)],
        ),
    );
    // Only the own namespace: the banner says how many others exist and
    // how to see them; the own rows leave the column empty.
    h.get_by_label_contains(
        "2 other network namespaces exist on this machine (1 with containers); the table \
         shows only portwise's own. Turn on \"All namespaces\" to list their sockets too.",
    );
    h.get_by_label("Namespace / container");
    assert!(!has_text(&h, "netns 1"));
    assert!(!disabled(&h, "All namespaces"));

    click(&mut h, "All namespaces");
    assert_eq!(rig.source.netns_selection(), NetnsSelection::All);
    assert!(h.state().state.sockets.all_namespaces);

    let blue = Arc::new(NetnsRef {
        inode: 2,
        name: Some("blue".into()),
        container: None,
    });
    let web = Arc::new(NetnsRef {
        inode: 3,
        name: None,
        container: Some(Container {
            runtime: "podman".into(),
            id: WEB_ID.into(),
            name: Some("web".into()),
        }),
    });
    rig.source
        .set_netns_summary(Some(summary(true, vec![1, 2, 3])));
    refresh(
        &rig,
        &mut h,
        snapshot(
            T0 + 1_000,
            vec![
                in_ns(listener("127.0.0.1", 8080, 4242, "python3"), &own),
                in_ns(listener("127.0.0.1", 8081, 5151, "python3"), &blue),
                in_ns(listener("0.0.0.0", 8082, 6161, "busybox"), &web),
                published(in_ns(listener("127.0.0.1", 18080, 7171, "conmon"), &own)),
            ],
        ),
    );
    h.get_by_label_contains(
        "Showing the sockets of every network namespace: portwise's own and 2 other \
         network namespaces (1 with containers).",
    );
    h.get_by_label("netns blue");
    h.get_by_label("container web");
    h.get_by_label("published for container web");
    assert_eq!(shown_ports(&h), vec![8080, 8081, 8082, 18080]);

    // The Details panel names the namespace and the container.
    h.get_by_label("container web").click();
    h.run();
    h.get_by_label("Namespace");
    h.get_by_label("net:[3], unnamed");
    h.get_by_label("Container");
    h.get_by_label("web (podman, id 9d2c5e1f0a3b)");
    h.get_by_label("netns blue").click();
    h.run();
    h.get_by_label("blue (net:[2])");
    assert!(h.query_by_label("Container").is_none());
    h.get_by_label("published for container web").click();
    h.run();
    h.get_by_label("portwise's own (net:[1])");
    h.get_by_label("published by container web (via conmon)");
    h.get_by_label("podman stop web");

    // Filtering by the container's name (or its short id) keeps its rows.
    set_field(&mut h, "Filter", "web");
    assert_eq!(shown_ports(&h), vec![8082, 18080]);
    set_field(&mut h, "Filter", "9d2c5e");
    assert_eq!(shown_ports(&h), vec![8082, 18080]);
    set_field(&mut h, "Filter", "blue");
    assert_eq!(shown_ports(&h), vec![8081]);

    // Off again: back to the own namespace.
    click(&mut h, "All namespaces");
    assert_eq!(rig.source.netns_selection(), NetnsSelection::Own);
    assert!(!h.state().state.sockets.all_namespaces);
}

#[test]
fn without_root_the_toggle_is_off_and_the_banner_says_how_to_see_them() {
    let rig = Rig::new();
    let mut user = summary(false, vec![1]);
    user.unreadable_processes = 30;
    rig.source.set_netns_summary(Some(user));
    let mut h = rig.harness(Settings::default());
    refresh(
        &rig,
        &mut h,
        snapshot(T0, vec![listener("127.0.0.1", 8080, 4242, "python3")]),
    );
    assert!(disabled(&h, "All namespaces"));
    h.get_by_label_contains(
        "at least 2 other network namespaces exist on this machine (1 with containers); \
         the table shows only portwise's own. Listing their sockets means entering them, \
         which needs root: start the window as root (sudo -E portwise).",
    );
}

#[test]
fn without_namespaces_there_is_no_toggle_and_no_banner() {
    // macOS, Windows, a remote host: the source reports no namespaces.
    let rig = Rig::new();
    let mut h = rig.harness(Settings::default());
    refresh(
        &rig,
        &mut h,
        snapshot(T0, vec![listener("127.0.0.1", 8080, 4242, "python3")]),
    );
    assert!(h.query_by_label("All namespaces").is_none());
    assert!(!has_text(&h, "network namespace"));
}

/// The same with the real engine, as root: a server on 127.0.0.1 inside an
/// `ip netns add` namespace is not in the default table, the banner says
/// other namespaces exist, and "All namespaces" shows it under the
/// namespace's name, with its owner.
#[cfg(target_os = "linux")]
#[test]
fn a_server_in_an_ip_netns_namespace_shows_up_with_all_namespaces() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};

    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: creating and entering network namespaces needs root");
        return;
    }
    let tools = ["ip", "python3"].iter().all(|t| {
        Command::new(t)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !tools {
        eprintln!("SKIPPED: needs `ip` (iproute2) and python3");
        return;
    }
    struct Netns(String);
    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let name = format!("pw-ui-{}", std::process::id());
    let ok = Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: `ip netns add` failed (no namespace support here?)");
        return;
    }
    let ns = Netns(name);
    // Port 0 inside the namespace: its own loopback, its own ports. The
    // server prints the port it got, then waits for stdin to close (60 s
    // at most).
    let script = "import socket,sys,select\n\
                  s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n\
                  print(s.getsockname()[1], flush=True)\n\
                  select.select([sys.stdin],[],[],60)\n";
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.0, "sh", "-c"])
        .arg("ip link set lo up && exec python3 -c \"$0\"")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port: u16 = line.trim().parse().expect("the server printed its port");
    let pid = server.0.id();

    let rig = Rig::new();
    let mut services = rig.services();
    services.source = Box::new(portwise::sockets::SystemSource::new());
    let mut h = Rig::builder().build_eframe(move |cc| {
        PortwiseApp::with_context(&cc.egui_ctx, Settings::default(), services)
    });
    h.key_press(egui::Key::F5);
    settled(&mut h, |app| app.state.sockets.received_at_ms.is_some());
    let listed = |h: &H| shown_ports(h).contains(&port);
    assert!(!listed(&h), "the namespace's server shown as the host's");
    assert!(
        has_text(&h, "other network namespace"),
        "no banner about other namespaces"
    );

    click(&mut h, "All namespaces");
    settled(&mut h, |app| {
        app.state
            .sockets
            .netns
            .as_ref()
            .is_some_and(|n| n.listed.len() > 1)
    });
    assert!(listed(&h), "port {port} not shown with All namespaces");
    // Filtering by the namespace's name keeps exactly its rows (the
    // table draws only the rows in view; the machine has many).
    set_field(&mut h, "Filter", &ns.0);
    assert_eq!(shown_ports(&h), vec![port]);
    let place = format!("netns {}", ns.0);
    h.get_by_label(&place).click();
    h.run();
    h.get_by_label_contains(&format!("{} (net:[", ns.0));
    h.get_by_label(&format!("python3 (pid {pid})"));
    drop(server);
    drop(ns);
}

/// With "All namespaces", a server on the port in another namespace does
/// not make it busy for the other views (they judge by portwise's own
/// namespace), and the Bind test names it as not conflicting.
#[test]
fn the_bind_test_names_a_server_in_another_namespace_as_no_conflict() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rig = Rig::new();
    rig.source
        .set_netns_summary(Some(summary(true, vec![1, 2])));
    let mut h = on_view(&rig, portwise::window::shell::View::BindTest);
    let own = Arc::new(NetnsRef {
        inode: 1,
        name: None,
        container: None,
    });
    let blue = Arc::new(NetnsRef {
        inode: 2,
        name: Some("blue".into()),
        container: None,
    });
    refresh(
        &rig,
        &mut h,
        snapshot(
            T0,
            vec![
                in_ns(listener("127.0.0.1", 8080, 4242, "python3"), &own),
                in_ns(listener("127.0.0.1", port, 5151, "python3"), &blue),
            ],
        ),
    );
    // The toggle is the Sockets view's; here its state is set directly.
    h.state_mut().state.sockets.all_namespaces = true;
    refresh(
        &rig,
        &mut h,
        snapshot(
            T0 + 1_000,
            vec![
                in_ns(listener("127.0.0.1", 8080, 4242, "python3"), &own),
                in_ns(listener("127.0.0.1", port, 5151, "python3"), &blue),
            ],
        ),
    );
    let st = &h.state().state.sockets;
    assert_eq!(st.snapshot.sockets.len(), 2);
    assert_eq!(
        st.host
            .sockets
            .iter()
            .map(|e| e.local_port)
            .collect::<Vec<_>>(),
        vec![8080],
        "the other views see only portwise's own namespace"
    );
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    h.get_by_label("Bindable");
    h.get_by_label("In other network namespaces");
    h.get_by_label(&format!(
        "• a server in network namespace blue (python3, pid 5151) listens on tcp \
         127.0.0.1:{port} in its own network namespace; it does not conflict with a bind here"
    ));
}

/// A port a container's proxy holds: the failed Bind test says which
/// container publishes it and how to stop the container instead of the
/// proxy. (A real listener holds the port; the snapshot says it is
/// conmon's.)
#[test]
fn the_bind_test_of_a_published_port_says_to_stop_the_container() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let rig = Rig::new();
    rig.source.set_netns_summary(Some(summary(true, vec![1])));
    let mut h = on_view(&rig, portwise::window::shell::View::BindTest);
    let own = Arc::new(NetnsRef {
        inode: 1,
        name: None,
        container: None,
    });
    refresh(
        &rig,
        &mut h,
        snapshot(
            T0,
            vec![published(in_ns(
                listener("127.0.0.1", port, 7171, "conmon"),
                &own,
            ))],
        ),
    );
    set_field(&mut h, "Port", &port.to_string());
    set_field(&mut h, "Address", "127.0.0.1");
    click(&mut h, "Test");
    h.get_by_label("Published port");
    h.get_by_label("• conmon (pid 7171) holds it: published by container web");
    // The command to stop it, marked as one for a terminal.
    h.get_by_label("Stop the container, not its proxy.");
    h.get_by_label("In a terminal:");
    h.get_by_label("podman stop web");
    drop(held);
}
