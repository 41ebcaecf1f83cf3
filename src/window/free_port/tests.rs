//! The Free port view without any UI: messages in, state and effects out.

use crate::bind::PortUse;
use crate::fixtures::port_facts as facts;
use crate::ports::ProtoChoice;
use crate::ports::{FreeError, FreePort, FreeResult, PortRange, Strategy};
use crate::sockets::{Proto, TcpState};
use crate::window::free_port::{self, FreePortState, GrabOutcome, Grabbed, StrategyKind};
use crate::window::shell::tests::{feed, snap, sock};
use crate::window::shell::*;
use crate::window::tasks::Pending;

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
    f.count_text = "4".into();
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
    f.count_text = "0".into();
    assert!(f.request().unwrap_err().contains("How many"));
}

#[test]
fn the_count_is_checked_never_clamped() {
    use crate::window::free_port::{COUNT_MAX, parse_count};
    assert_eq!(parse_count("1"), Ok(1));
    assert_eq!(parse_count(" 100 "), Ok(COUNT_MAX));
    assert_eq!(
        parse_count("0").unwrap_err(),
        "How many: at least 1 (up to 100)"
    );
    assert_eq!(
        parse_count("5000").unwrap_err(),
        "How many: 5000 is more than the window grabs at once (at most 100)"
    );
    assert!(
        parse_count("99999999999999999999999")
            .unwrap_err()
            .contains("more than")
    );
    assert_eq!(
        parse_count("abc").unwrap_err(),
        "How many: 'abc' is not a number (enter 1 to 100)"
    );
    assert!(parse_count("-3").unwrap_err().contains("not a number"));
    assert!(parse_count("").unwrap_err().contains("enter a number"));
    // The state keeps what was typed: nothing turns 0 into 1 behind the
    // user's back, and a grab is refused until the field is fixed.
    let mut st = AppState::new(Settings::default(), 5_000);
    st.apply(Action::Free(FreeAction::SetCount("0".into())));
    assert_eq!(st.free.count_text, "0");
    st.apply(Action::Free(FreeAction::Grab));
    assert!(st.tasks.queued().is_empty(), "no grab with a bad count");
    st.apply(Action::Free(FreeAction::SetCount("5000".into())));
    assert_eq!(st.free.count_text, "5000");
    assert!(st.free.request().is_err());
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
