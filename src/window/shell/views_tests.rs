//! The Free port, Bind test and Kernel tuning state without any UI:
//! actions in, state and effects out. Binds are real, on loopback.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use super::tests::{feed, snap};
use super::*;
use crate::bind::{Cause, PortUse};
use crate::ports::ProtoChoice;
use crate::ports::{FreeError, FreePort, FreeResult, PortRange, Strategy};
use crate::sockets::{ProcessInfo, SocketEntry, TcpState};
use crate::tuning::{Goal, Os};
use crate::window::bind_test::{BindState, parse_addr, parse_port};
use crate::window::free_port::{self, FreePortState, GrabOutcome, Grabbed, StrategyKind};
use crate::window::tasks::Pending;
use crate::window::tuning::{LiveValues, TuningState};

fn sock(proto: Proto, port: u16, state: Option<TcpState>, pid: Option<(u32, &str)>) -> SocketEntry {
    let mut e = SocketEntry::new(
        proto,
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        None,
        state,
    );
    if let Some((pid, name)) = pid {
        e.processes = vec![ProcessInfo {
            pid,
            name: name.into(),
            user: None,
            exe: None,
        }];
    }
    e.inode = u64::from(port);
    e
}

use crate::fixtures::port_facts as facts;

// ------------------------------------------------------------------ free port

#[test]
fn free_request_follows_the_options_and_names_bad_values() {
    let mut f = FreePortState::default();
    assert_eq!(f.request().unwrap(), crate::ports::FreeRequest::default());
    f.strategy = StrategyKind::Range;
    f.range_from = "9000".into();
    f.range_to = "8000".into();
    assert_eq!(f.request().unwrap_err(), "From (9000) is above To (8000)");
    f.range_to = "".into();
    assert_eq!(f.request().unwrap_err(), "To: enter a port from 1 to 65535");
    f.range_to = "0".into();
    assert_eq!(
        f.request().unwrap_err(),
        "To: '0' is not a port from 1 to 65535"
    );
    f.range_to = "9100".into();
    f.proto = ProtoChoice::Udp;
    f.reserve = true;
    f.count = 4;
    let req = f.request().unwrap();
    assert_eq!(
        req.strategy,
        Strategy::Range(PortRange::new(9000, 9100).unwrap())
    );
    assert!(!req.reserve, "no reservation for UDP");
    assert_eq!(
        free_port::cli_equivalent(&req),
        "portwise free --count 4 --proto udp --range 9000-9100"
    );
    f.count = 0;
    assert!(f.request().unwrap_err().contains("How many"));
}

#[test]
fn grab_goes_to_a_worker_once_and_its_ports_to_history_and_clipboard() {
    let mut st = AppState::new(Settings::default(), 5_000);
    let req = st.free.request().unwrap();
    st.apply(Action::Free(FreeAction::Grab));
    assert_eq!(st.tasks.queued(), vec!["portwise-free"]);
    // A second click while picking does nothing.
    st.apply(Action::Free(FreeAction::Grab));
    assert!(st.take_effects().is_empty());
    assert_eq!(st.tasks.queued(), vec!["portwise-free"]);

    let port = |p| FreePort {
        port: p,
        proto: ProtoChoice::Tcp,
        reserved_until_unix_ms: None,
    };
    st.apply(Action::Free(FreeAction::Grabbed(GrabOutcome {
        request: req,
        result: Ok(FreeResult {
            strategy: Strategy::OutsideEphemeral,
            ports: vec![port(20001), port(20002)],
            notes: vec!["a note".into()],
        }),
        facts: facts(),
    })));
    assert!(!st.free.busy());
    let hist: Vec<u16> = st.free.history.iter().map(|g| g.port).collect();
    assert_eq!(hist, vec![20001, 20002]);
    assert_eq!(
        st.take_effects(),
        vec![Effect::CopyText("20001 20002".into()), Effect::RefreshNow]
    );
    assert_eq!(st.toasts()[0].text, "Copied 2 ports: 20001, 20002");
    assert_eq!(st.free.notes, vec!["a note".to_string()]);

    // Newest first; an error keeps the history and says why.
    st.apply(Action::Free(FreeAction::Grab));
    st.take_effects();
    st.apply(Action::Free(FreeAction::Grabbed(GrabOutcome {
        request: req,
        result: Err(FreeError::NoneFree("no free port in range 1-2".into())),
        facts: facts(),
    })));
    assert_eq!(st.free.history.len(), 2);
    assert_eq!(st.free.error.as_deref(), Some("no free port in range 1-2"));
    assert!(st.take_effects().is_empty());

    // The history is bounded.
    for i in 0..(free_port::HISTORY_MAX as u16 + 5) {
        st.free.grab = Pending::Running;
        st.apply(Action::Free(FreeAction::Grabbed(GrabOutcome {
            request: req,
            result: Ok(FreeResult {
                strategy: Strategy::OutsideEphemeral,
                ports: vec![port(30000 + i)],
                notes: vec![],
            }),
            facts: facts(),
        })));
    }
    assert_eq!(st.free.history.len(), free_port::HISTORY_MAX);
    assert_eq!(
        st.free.history[0].port,
        30000 + free_port::HISTORY_MAX as u16 + 4
    );
}

#[test]
fn history_status_follows_the_snapshots() {
    let mut st = AppState::new(Settings::default(), 10_000);
    let g = |port, proto| Grabbed {
        port,
        proto,
        grabbed_at_ms: 10_000,
        reserved_until_unix_ms: None,
        usage: None,
        seen_at_ms: 0,
    };
    st.free.history = vec![
        g(20001, ProtoChoice::Tcp),
        g(20002, ProtoChoice::Tcp),
        g(20003, ProtoChoice::Udp),
        g(20004, ProtoChoice::Both),
    ];
    st.free.history[1].reserved_until_unix_ms = Some(70_000);
    let text = |st: &AppState, i: usize| free_port::status_text(&st.free.history[i], st.now_ms);
    assert_eq!(text(&st, 0), "not checked yet");

    let mut tw = sock(Proto::Tcp, 20002, Some(TcpState::TimeWait), None);
    tw.time_wait_expires_in_ms = Some(42_000);
    feed(
        &mut st,
        snap(
            10_000,
            vec![
                sock(Proto::Tcp, 20001, Some(TcpState::Listen), Some((7, "node"))),
                tw,
                // TCP on a UDP-only port does not count; hidden owners do.
                sock(Proto::Tcp, 20003, Some(TcpState::Listen), Some((8, "x"))),
                sock(Proto::Udp, 20004, None, None),
            ],
        ),
    );
    assert_eq!(text(&st, 0), "now held by node (7)");
    assert_eq!(text(&st, 1), "reserved (TIME_WAIT), 42 s left");
    assert_eq!(text(&st, 2), "still free");
    assert_eq!(text(&st, 3), "now in use by a process this user cannot see");
    st.tick(12_500);
    assert_eq!(text(&st, 1), "reserved (TIME_WAIT), 40 s left");
    assert!(matches!(
        st.free.history[2].usage,
        Some(PortUse { hidden: 0, .. })
    ));
}

// ------------------------------------------------------------------ bind test

#[test]
fn bind_fields_are_validated() {
    assert_eq!(parse_port(" 8080 "), Ok(8080));
    assert_eq!(parse_port("0"), Ok(0));
    assert!(parse_port("65536").unwrap_err().contains("'65536'"));
    assert!(parse_port("").unwrap_err().contains("Enter a port"));
    assert_eq!(parse_addr("[::1]").unwrap().to_string(), "::1");
    assert!(parse_addr("localhost").unwrap_err().contains("'localhost'"));
    let mut b = BindState::default();
    b.port_text = "80".into();
    b.addr_text = "127.0.0.1".into();
    b.v6only = true;
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
        port,
        proto: Proto::Tcp,
    });
    assert_eq!(st.settings.view, View::BindTest);
    st.apply(Action::Bind(BindAction::SetAddr("127.0.0.1".into())));
    st.apply(Action::Bind(BindAction::Test));
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
        Some(Action::Bind(BindAction::FactsRead(k, f))) => (k, f),
        other => panic!("unexpected message {other:?}"),
    };
    assert_eq!(key.request.port, port);
    assert!(!key.systemd_holds);
    st.apply(Action::Bind(BindAction::FactsRead(key, facts)));
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

    // Clicking a holder shows the Sockets view on that port, every state.
    st.apply(Action::ShowSocketsOnPort(port));
    assert_eq!(st.settings.view, View::Sockets);
    assert_eq!(st.settings.filter.port, Some(port));
    assert!(st.settings.filter.all_states);
    st.apply(Action::ClearPortFilter);
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

// ------------------------------------------------------------------ tuning

#[test]
fn tuning_replans_on_every_choice() {
    let mut t = TuningState::default();
    assert_eq!(t.goals, vec![Goal::Restart]);
    assert!(matches!(t.live, LiveValues::NotAsked));
    assert!(t.want_values());
    assert!(!t.want_values(), "asked once");
    let row = t.rows[0].clone();
    assert_eq!(t.current_text(&row), "reading…");
    t.values_read(crate::tuning::FixedValues::new([(
        "net.ipv4.tcp_tw_reuse",
        "2",
    )]));

    t.set_os(Os::Linux);
    t.set_goal(Goal::Outbound, true);
    let text = t.preview.as_ref().unwrap().text();
    assert!(text.contains("net.ipv4.tcp_tw_reuse = 1"), "{text}");
    let row = t
        .rows
        .iter()
        .find(|r| r.tunable.key == "net.ipv4.tcp_tw_reuse")
        .unwrap()
        .clone();
    if Os::current() == Os::Linux {
        assert_eq!(t.current_text(&row), "2");
    } else {
        assert_eq!(t.current_text(&row), "not read: another OS");
    }
    t.set_toggle("net.ipv4.tcp_tw_reuse", false);
    assert!(
        !t.preview
            .as_ref()
            .unwrap()
            .text()
            .lines()
            .any(|l| l == "net.ipv4.tcp_tw_reuse = 1")
    );

    t.set_goal(Goal::Reserve, true);
    assert!(t.preview.as_ref().unwrap_err().contains("needs the ports"));
    t.set_reserve_text("80,x".into());
    assert!(
        t.preview
            .as_ref()
            .unwrap_err()
            .starts_with("Ports to keep free:")
    );
    t.set_reserve_text("8080".into());
    assert!(t.preview.is_ok());

    t.set_goal(Goal::Restart, false);
    t.set_goal(Goal::Outbound, false);
    t.set_goal(Goal::Reserve, false);
    assert!(
        t.preview
            .as_ref()
            .unwrap_err()
            .contains("at least one goal")
    );
    assert!(t.rows.is_empty());
}

#[test]
fn tuning_save_and_audit_go_through_effects() {
    let mut st = AppState::new(Settings::default(), 1_000);
    st.apply(Action::Tuning(TuningAction::SetOs(Os::Linux)));
    st.apply(Action::Tuning(TuningAction::Save));
    let (os, text) = match st.take_effects().as_slice() {
        [
            Effect::SaveTuning {
                os,
                file_name,
                text,
            },
        ] => {
            assert_eq!(file_name, "99-zz-portwise.conf");
            (*os, text.clone())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(text, st.tuning.preview.as_ref().unwrap().text());
    let path = std::path::Path::new("/etc/sysctl.d/99-zz-portwise.conf");
    st.apply(Action::Tuning(TuningAction::Saved {
        os,
        path: path.into(),
        result: Ok(()),
    }));
    assert_eq!(
        st.tuning.apply_command().unwrap(),
        "sudo sysctl -p /etc/sysctl.d/99-zz-portwise.conf"
    );
    st.apply(Action::Tuning(TuningAction::Saved {
        os,
        path: path.into(),
        result: Err("permission denied".into()),
    }));
    assert_eq!(
        st.tuning.save_error.as_deref(),
        Some("Cannot save /etc/sysctl.d/99-zz-portwise.conf: permission denied")
    );

    st.apply(Action::Tuning(TuningAction::Audit));
    assert_eq!(st.take_effects(), vec![Effect::OpenAudit]);

    // Opening the Kernel tuning view reads the values once.
    st.apply(Action::ShowView(View::Tuning));
    st.tick(2_000);
    st.tick(3_000);
    assert!(st.take_effects().is_empty());
    assert_eq!(st.tasks.queued(), vec!["portwise-sysctl"]);
}

#[test]
fn the_path_prompt_carries_its_job_to_a_path() {
    let mut st = AppState::new(Settings::default(), 1_000);
    st.open_path_prompt(FileJob::Audit, "/home/a/".into());
    st.apply(Action::PathPromptEdit("   ".into()));
    st.apply(Action::PathPromptConfirm);
    assert!(st.path_prompt.is_some(), "an empty path is refused");
    assert_eq!(st.toasts()[0].text, "Type a path first");
    st.apply(Action::PathPromptEdit("/tmp/x.conf".into()));
    st.apply(Action::PathPromptConfirm);
    assert!(st.path_prompt.is_none());
    assert_eq!(
        st.take_effects(),
        vec![Effect::UsePath {
            job: FileJob::Audit,
            path: "/tmp/x.conf".into()
        }]
    );
    st.open_path_prompt(FileJob::ExportSockets, "/tmp/a.csv".into());
    st.apply(Action::PathPromptCancel);
    assert!(st.path_prompt.is_none() && st.take_effects().is_empty());

    // Saving over an existing file takes a second confirm.
    let dir = tempfile::tempdir().unwrap();
    let there = dir.path().join("99-zz-portwise.conf");
    std::fs::write(&there, "old").unwrap();
    let job = FileJob::SaveTuning {
        os: Os::Linux,
        text: "new".into(),
    };
    st.open_path_prompt(job.clone(), there.clone());
    st.apply(Action::PathPromptConfirm);
    assert_eq!(
        st.path_prompt.as_ref().unwrap().replace,
        Some(there.clone())
    );
    assert!(st.take_effects().is_empty());
    st.apply(Action::PathPromptConfirm);
    assert_eq!(
        st.take_effects(),
        vec![Effect::UsePath { job, path: there }]
    );
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
