//! The Bind test view without any UI: messages in, state and effects out.
//! Binds are real, on loopback.

use std::net::{Ipv4Addr, TcpListener};

use crate::bind::Cause;
use crate::sockets::{Proto, TcpState};
use crate::window::bind_test::{BindState, parse_addr, parse_port};
use crate::window::shell::tests::{feed, snap, sock};
use crate::window::shell::*;
use crate::window::sockets::SocketsMsg;
use crate::window::tasks::Pending;

#[test]
fn bind_fields_are_validated() {
    assert_eq!(parse_port(" 8080 "), Ok(8080));
    assert_eq!(parse_port("0"), Ok(0));
    assert!(parse_port("65536").unwrap_err().contains("'65536'"));
    assert!(parse_port("").unwrap_err().contains("Enter a port"));
    assert_eq!(parse_addr("[::1]").unwrap().to_string(), "::1");
    assert!(parse_addr("localhost").unwrap_err().contains("'localhost'"));
    let mut b = BindState {
        port_text: "80".into(),
        addr_text: "127.0.0.1".into(),
        v6only: true,
        ..BindState::default()
    };
    // IPV6_V6ONLY is only sent for IPv6 addresses.
    assert!(!b.request().unwrap().v6only);
    b.addr_text = "::".into();
    assert!(b.request().unwrap().v6only);
    b.local_addrs = Pending::Done(vec![
        "127.0.0.1".parse().unwrap(),
        "10.1.2.3".parse().unwrap(),
    ]);
    assert_eq!(
        b.offered_addrs(),
        vec!["0.0.0.0", "::", "127.0.0.1", "::1", "10.1.2.3"]
    );
}

#[test]
fn a_failed_test_asks_for_a_snapshot_and_is_diagnosed_again_when_it_comes() {
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let mut st = AppState::new(Settings::default(), 1_000);
    st.apply(Action::OpenBindTest {
        addr: Ipv4Addr::LOCALHOST.into(),
        port,
        proto: Proto::Tcp,
    });
    // From a row: its address, port and protocol, tested at once.
    assert_eq!(st.settings.view, View::BindTest);
    assert_eq!(st.bind.addr_text, "127.0.0.1");
    assert_eq!(st.bind.port_text, port.to_string());
    // A fresh snapshot, and the system facts read on a worker.
    assert_eq!(st.take_effects(), vec![Effect::RefreshNow]);
    assert_eq!(st.tasks.queued(), vec!["portwise-bindfacts"]);
    let r = st.bind.result.clone().unwrap();
    assert!(!r.report.ok);
    assert!(r.report.diagnosis.is_none(), "no facts yet: no diagnosis");
    // Testing again meanwhile does not read them twice.
    st.apply(Action::Bind(BindAction::Test));
    assert_eq!(st.take_effects(), vec![Effect::RefreshNow]);
    assert_eq!(st.tasks.queued(), vec!["portwise-bindfacts"]);
    st.tasks.run_queued(None);
    let (key, facts) = match st.tasks.poll().pop() {
        Some(Action::Bind(BindAction::FactsRead(read))) => *read,
        other => panic!("unexpected message {other:?}"),
    };
    assert_eq!(key.request.port, port);
    assert!(!key.systemd_holds);
    st.apply(Action::Bind(BindAction::FactsRead(Box::new((key, facts)))));
    let r = st.bind.result.clone().unwrap();
    // The snapshot it had was empty: nothing explains it yet.
    assert_eq!(r.report.diagnosis.unwrap().cause, Cause::Unknown);
    // The facts are kept: a second failure is diagnosed at once.
    st.apply(Action::Bind(BindAction::Test));
    assert_eq!(st.take_effects(), vec![Effect::RefreshNow]);
    assert!(st.bind.result.clone().unwrap().report.diagnosis.is_some());

    // The fresh snapshot shows the listener: the card follows it.
    feed(
        &mut st,
        snap(
            2_000,
            vec![sock(
                Proto::Tcp,
                port,
                Some(TcpState::Listen),
                Some((4242, "python3")),
            )],
        ),
    );
    let d = st.bind.result.clone().unwrap().report.diagnosis.unwrap();
    assert_eq!(d.cause, Cause::Listener);
    assert_eq!(d.holders[0].pid, 4242);
    // The holder goes: the card keeps what held the port when it was
    // tested (it says the port looks free now), instead of "nothing
    // explains it".
    feed(&mut st, snap(3_000, vec![]));
    let r = st.bind.result.clone().unwrap();
    assert_eq!(r.report.diagnosis.as_ref().unwrap().cause, Cause::Listener);
    assert!(BindState::looks_free_now(&r, &st.sockets.snapshot));

    // Clicking a holder shows the Sockets view on that port, every state.
    st.apply(Action::Sockets(SocketsMsg::ShowPort(port)));
    assert_eq!(st.settings.view, View::Sockets);
    assert_eq!(st.settings.filter.port, Some(port));
    assert!(st.settings.filter.all_states);
    st.apply(Action::Sockets(SocketsMsg::ClearPortFilter));
    assert_eq!(st.settings.filter.port, None);
    drop(held);
}

#[test]
fn watching_retests_every_second_until_the_port_binds() {
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let mut st = AppState::new(Settings::default(), 1_000);
    st.apply(Action::Bind(BindAction::SetPort(port.to_string())));
    st.apply(Action::Bind(BindAction::SetAddr("127.0.0.1".into())));
    st.apply(Action::Bind(BindAction::Watch(true)));
    assert!(st.bind.watch.is_some());
    st.tick(1_500);
    assert_eq!(st.bind.watch.unwrap().attempts, 1, "not due yet");
    st.tick(2_000);
    assert_eq!(st.bind.watch.unwrap().attempts, 2);
    drop(held);
    st.tick(2_500);
    assert!(st.bind.watch.is_some(), "not due yet");
    st.tick(3_000);
    assert!(st.bind.watch.is_none());
    let r = st.bind.result.clone().unwrap();
    assert!(r.report.ok);
    assert_eq!(r.freed_after_ms, Some(2_000));
    assert!(
        st.toasts()
            .iter()
            .any(|t| t.text == format!("Port {port} binds now (after 2 s)"))
    );

    // A port that binds at once leaves nothing to watch.
    st.apply(Action::Bind(BindAction::Watch(true)));
    assert!(st.bind.watch.is_none());

    // Editing a field stops a watch of the old request.
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    st.apply(Action::Bind(BindAction::Watch(true)));
    assert!(st.bind.watch.is_some());
    st.apply(Action::Bind(BindAction::SetProto(Proto::Udp)));
    assert!(st.bind.watch.is_none());
    drop(held);
}

#[test]
fn the_bind_view_reads_the_local_addresses_on_a_worker_once() {
    let mut st = AppState::new(Settings::default(), 1_000);
    st.tick(1_000);
    assert!(!st.tasks.queued().contains(&"portwise-addrs"));
    st.apply(Action::ShowView(View::BindTest));
    st.tick(1_100);
    assert_eq!(st.tasks.queued(), vec!["portwise-addrs"]);
    assert!(
        st.bind.local_addrs.done().is_none(),
        "not read on this thread"
    );
    st.tick(1_200);
    assert_eq!(st.tasks.queued(), vec!["portwise-addrs"], "asked once");
    st.apply(Action::Bind(BindAction::LocalAddrs(vec![
        "10.1.2.3".parse().unwrap(),
    ])));
    assert!(st.bind.offered_addrs().contains(&"10.1.2.3".to_string()));
}
