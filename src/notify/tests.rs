//! The decision logic with a fake notifier: a sequence of snapshots (and
//! test-bind answers) in, notes out.

use super::*;
use crate::fixtures::{listener, snapshot, time_wait, udp};

const W: WatchedPort = WatchedPort {
    port: 8080,
    proto: Proto::Tcp,
};

fn binds(_: &WatchedPort) -> Result<(), String> {
    Ok(())
}

fn refused(_: &WatchedPort) -> Result<(), String> {
    Err("EADDRINUSE".into())
}

/// Runs the watcher over `steps` and sends every note to a recording
/// notifier, as the window does.
type Bind = fn(&WatchedPort) -> Result<(), String>;

fn run(steps: Vec<(Snapshot, Bind)>) -> Vec<Note> {
    let mut watcher = PortWatcher::default();
    let mut notifier = Recording::default();
    for (snap, bind) in steps {
        let mut bind = bind;
        for n in watcher.observe(&[W], &snap, &mut bind) {
            notifier.notify(n);
        }
    }
    notifier.notes()
}

#[test]
fn a_port_that_frees_and_is_taken_again_gives_two_notes() {
    let held = || snapshot(1, vec![listener("0.0.0.0", 8080, 42, "python3")]);
    let free = || snapshot(2, vec![]);
    let notes = run(vec![
        (held(), refused), // first look: recorded, no note
        (held(), refused), // unchanged
        (free(), binds),   // became bindable
        (free(), binds),   // unchanged
        (
            snapshot(3, vec![listener("127.0.0.1", 8080, 77, "node")]),
            refused,
        ),
    ]);
    assert_eq!(
        notes,
        vec![
            Note {
                summary: "Port 8080 is free".into(),
                body: "TCP 8080 binds now (it was held by python3 (pid 42, user alice)).".into(),
            },
            Note {
                summary: "Port 8080 was taken".into(),
                body: "TCP 8080 is now held by node (pid 77, user alice).".into(),
            },
        ]
    );
}

#[test]
fn the_first_look_says_nothing() {
    assert!(run(vec![(snapshot(1, vec![]), binds)]).is_empty());
    let held = snapshot(1, vec![listener("0.0.0.0", 8080, 42, "python3")]);
    assert!(run(vec![(held, refused)]).is_empty());
}

/// TIME_WAIT left by the server that exited: not bindable yet (a plain
/// bind fails), so no "free" note until the test bind succeeds.
#[test]
fn time_wait_is_busy_not_free() {
    let tw = || {
        snapshot(
            2,
            vec![time_wait(8080, 50_000, 30_000, Some((42, "python3")))],
        )
    };
    let mut watcher = PortWatcher::default();
    let mut bind = refused;
    let held = snapshot(1, vec![listener("0.0.0.0", 8080, 42, "python3")]);
    assert!(watcher.observe(&[W], &held, &mut bind).is_empty());
    assert!(watcher.observe(&[W], &tw(), &mut bind).is_empty());
    assert_eq!(
        watcher.status(&W),
        Some(&PortStatus::Busy {
            why: "1 connection(s) in TIME_WAIT".into()
        })
    );
    let mut bind = binds;
    let notes = watcher.observe(&[W], &snapshot(3, vec![]), &mut bind);
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0].body,
        "TCP 8080 binds now (it was blocked: 1 connection(s) in TIME_WAIT)."
    );
}

/// The protocol matters: a UDP socket on 8080 does not take TCP 8080,
/// and a hidden owner is named by its uid.
#[test]
fn protocol_and_hidden_owners() {
    let mut watcher = PortWatcher::default();
    let u = WatchedPort {
        port: 8080,
        proto: Proto::Udp,
    };
    let mut bind = binds;
    watcher.observe(&[W, u], &snapshot(1, vec![]), &mut bind);
    let mut hidden = listener("::", 8080, 1, "x");
    hidden.processes.clear();
    hidden.uid = Some(0);
    let s = snapshot(2, vec![udp("0.0.0.0", 8080, 5, "dnsmasq"), hidden]);
    let mut bind = refused;
    let notes = watcher.observe(&[W, u], &s, &mut bind);
    let bodies: Vec<&str> = notes.iter().map(|n| n.body.as_str()).collect();
    assert_eq!(
        bodies,
        vec![
            "TCP 8080 is now held by a process of uid 0 this user cannot see.",
            "UDP 8080 is now held by dnsmasq (pid 5, user alice).",
        ]
    );
    // Unwatched ports are forgotten.
    watcher.observe(&[u], &s, &mut bind);
    assert!(watcher.status(&W).is_none());
}
