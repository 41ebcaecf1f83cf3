//! The socket engine against real loopback sockets.

mod common;

use std::net::{IpAddr, TcpListener, TcpStream, UdpSocket};

use common::{eventually, make_time_wait, my_name_matches};
use portwise::platform::OS_NAME;
use portwise::sockets::{
    Filter, Proto, Snapshot, SocketEntry, SocketSource, SystemSource, TcpState,
};

fn find(
    snap: &Snapshot,
    proto: Proto,
    local: std::net::SocketAddr,
    state: Option<TcpState>,
) -> Option<&SocketEntry> {
    snap.sockets.iter().find(|s| {
        s.proto == proto
            && s.local_addr == local.ip()
            && s.local_port == local.port()
            && s.state == state
    })
}

fn assert_mine(s: &SocketEntry) {
    let me = std::process::id();
    let p = s
        .processes
        .iter()
        .find(|p| p.pid == me)
        .unwrap_or_else(|| panic!("not owned by this process: {s:?}"));
    assert!(my_name_matches(&p.name), "name {:?}", p.name);
    let exe = std::env::current_exe().unwrap();
    assert_eq!(p.exe.as_deref(), exe.to_str(), "exe");
    assert!(p.user.is_some(), "user of {p:?}");
}

#[test]
fn v4_v6_listeners_and_a_udp_socket_appear_owned_by_this_process() {
    if common::wine_hides_owners() {
        return;
    }
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let v6 = TcpListener::bind("[::1]:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut source = SystemSource::new();
    let snap = source.snapshot().unwrap();

    let l4 = find(
        &snap,
        Proto::Tcp,
        v4.local_addr().unwrap(),
        Some(TcpState::Listen),
    )
    .expect("IPv4 listener listed");
    assert_mine(l4);
    assert_eq!(l4.remote_addr, None);
    assert_eq!(l4.time_wait_expires_in_ms, None);
    let l6 = find(
        &snap,
        Proto::Tcp,
        v6.local_addr().unwrap(),
        Some(TcpState::Listen),
    )
    .expect("IPv6 listener listed");
    assert_mine(l6);
    assert_eq!(l6.family, portwise::sockets::Family::Ipv6);
    let u = find(&snap, Proto::Udp, udp.local_addr().unwrap(), None).expect("UDP socket listed");
    assert_mine(u);
    assert_eq!(u.remote_port, None);

    // All three are in the default view, and the output order is the
    // documented one.
    let shown = Filter::default().apply(&snap);
    for s in [l4, l6, u] {
        assert!(shown.contains(&s));
    }
    let mut sorted = snap.sockets.clone();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    assert_eq!(sorted, snap.sockets);
    assert_eq!(
        snap.privileged,
        portwise::platform::os::process::is_elevated()
    );
}

#[test]
fn time_wait_sockets_on_a_known_port_are_counted_with_their_time_left() {
    if OS_NAME == "macos" {
        // macOS lists sockets through their processes: TIME_WAIT is never
        // listed there (see platform/macos/sockets.rs).
        return;
    }
    const N: usize = 5;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let l = listener.local_addr().unwrap();
    let clients = make_time_wait(&listener, N);
    drop(listener);
    let mut source = SystemSource::new();
    // Match the exact 4-tuples: other sockets may share the port number.
    let tws: Vec<SocketEntry> = eventually("5 TIME_WAIT sockets", || {
        let snap = source.snapshot().unwrap();
        let tws: Vec<SocketEntry> = snap
            .sockets
            .into_iter()
            .filter(|s| {
                s.local_addr == l.ip()
                    && s.local_port == l.port()
                    && s.state == Some(TcpState::TimeWait)
                    && clients
                        .iter()
                        .any(|c| s.remote_addr == Some(c.ip()) && s.remote_port == Some(c.port()))
            })
            .collect();
        (tws.len() == N).then_some(tws)
    });
    for tw in &tws {
        assert!(tw.processes.is_empty(), "the kernel owns TIME_WAIT: {tw:?}");
        assert_eq!(tw.local_addr, IpAddr::from([127, 0, 0, 1]));
        assert!(tw.remote_port.is_some());
        if OS_NAME == "linux" {
            let ms = tw
                .time_wait_expires_in_ms
                .expect("Linux reports the time left");
            assert!(ms > 0 && ms <= 60_000, "time left {ms} ms");
        } else {
            assert_eq!(tw.time_wait_expires_in_ms, None, "never invented");
        }
    }
}

#[test]
fn a_connection_seen_established_names_its_owner_once_in_time_wait() {
    if common::wine_hides_owners() {
        return;
    }
    if OS_NAME == "macos" {
        return; // No TIME_WAIT listing on macOS (see above).
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let laddr = listener.local_addr().unwrap();
    let client = TcpStream::connect(laddr).unwrap();
    let (server, peer) = listener.accept().unwrap();
    let mut source = SystemSource::new();

    let snap = source.snapshot().unwrap();
    let est = snap
        .sockets
        .iter()
        .find(|s| {
            s.local_port == laddr.port()
                && s.remote_port == Some(peer.port())
                && s.state == Some(TcpState::Established)
        })
        .expect("the accepted connection is ESTABLISHED");
    assert_mine(est);
    assert_eq!(est.last_known_owner, None);
    assert!(source.remembered_connections() >= 1);

    drop(server);
    let mut buf = [0u8; 1];
    assert_eq!(std::io::Read::read(&mut &client, &mut buf).unwrap(), 0);
    drop(client);

    let tw = eventually("the connection in TIME_WAIT", || {
        let snap = source.snapshot().unwrap();
        snap.sockets.into_iter().find(|s| {
            s.local_port == laddr.port()
                && s.remote_port == Some(peer.port())
                && s.state == Some(TcpState::TimeWait)
        })
    });
    let owner = tw.last_known_owner.expect("former owner remembered");
    assert_eq!(owner.pid, std::process::id());
    assert!(my_name_matches(&owner.name), "{owner:?}");
    assert!(tw.processes.is_empty());

    // A fresh source has no memory: it cannot name the owner.
    let fresh = SystemSource::new().snapshot().unwrap();
    let again = fresh
        .sockets
        .iter()
        .find(|s| s.local_port == laddr.port() && s.remote_port == Some(peer.port()));
    if let Some(s) = again {
        assert_eq!(s.last_known_owner, None);
    }
}

#[test]
fn own_sockets_are_never_unattributed() {
    if common::wine_hides_owners() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut source = SystemSource::new();
    let snap = source.snapshot().unwrap();
    let mine = find(
        &snap,
        Proto::Tcp,
        listener.local_addr().unwrap(),
        Some(TcpState::Listen),
    )
    .unwrap();
    assert!(!portwise::sockets::is_unattributed(mine));
    let counted = snap
        .sockets
        .iter()
        .filter(|s| portwise::sockets::is_unattributed(s))
        .count();
    assert_eq!(snap.unattributed, counted);
    assert_eq!(snap.unattributed_reason.is_some(), counted > 0);
}

#[test]
fn owners_are_cached_between_snapshots_and_new_sockets_are_found() {
    if common::wine_hides_owners() {
        return;
    }
    let mut source = SystemSource::new();
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    source.snapshot().unwrap();
    let scans = source.owner_scans();
    source.snapshot().unwrap();
    let unchanged = source.owner_scans();
    // A new socket appears: it must be attributed on the next snapshot.
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    let snap = source.snapshot().unwrap();
    let s = find(
        &snap,
        Proto::Tcp,
        second.local_addr().unwrap(),
        Some(TcpState::Listen),
    )
    .unwrap();
    assert_mine(s);
    let s = find(
        &snap,
        Proto::Tcp,
        first.local_addr().unwrap(),
        Some(TcpState::Listen),
    )
    .unwrap();
    assert_mine(s);
    if OS_NAME == "linux" {
        assert!(scans >= 1);
        // Other processes may open sockets meanwhile, so the second snapshot
        // may have scanned too; the new listener always forces one.
        assert!(source.owner_scans() > unchanged);
    }
}

#[test]
fn a_tcp_socket_bound_but_not_listening_shows_as_closed() {
    let (_socket, local) = common::bound_only();
    let mut source = SystemSource::new();
    let snap = source.snapshot().unwrap();
    let found = find(&snap, Proto::Tcp, local, Some(TcpState::Closed));
    if common::kernel_lists_bound_only() {
        let s = found.expect("bound-only socket listed as CLOSED");
        assert_mine(s);
        assert_eq!(s.remote_addr, None);
        assert!(!Filter::default().matches(s), "not in the default view");
        assert!(Filter::all().matches(s));
    }
    // Left out on request.
    source.set_bound_only(false);
    let snap = source.snapshot().unwrap();
    assert!(find(&snap, Proto::Tcp, local, Some(TcpState::Closed)).is_none());
}
