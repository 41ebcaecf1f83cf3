use super::*;
use crate::sockets::{Proto, SocketEntry, TcpState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts calls; returns snapshots whose `taken_at_unix_ms` is the call
/// number, with two sockets deliberately out of order. Each differs from
/// the one before (its first listener moves up a port), so the sampler
/// sends every one.
struct Counting {
    calls: Arc<AtomicUsize>,
    fail_on: Option<usize>,
}

impl SocketSource for Counting {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(n) == self.fail_on {
            return Err(SourceError(format!("failure {n}")));
        }
        let entry = |port| {
            SocketEntry::new(
                Proto::Tcp,
                SocketAddr::from(([127, 0, 0, 1], port)),
                None,
                Some(TcpState::Listen),
            )
        };
        Ok(Snapshot {
            taken_at_unix_ms: n as u64,
            sockets: vec![entry(9000 + n as u16 - 1), entry(80)],
            ..Snapshot::default()
        })
    }
}

fn counting(fail_on: Option<usize>) -> (Box<dyn SocketSource>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (
        Box::new(Counting {
            calls: calls.clone(),
            fail_on,
        }),
        calls,
    )
}

fn wake_counter() -> (Wake, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    (
        Box::new(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        }),
        n,
    )
}

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn first_snapshot_comes_at_once_sorted_and_wakes_the_window() {
    let (src, _) = counting(None);
    let (wake, woken) = wake_counter();
    let s = Sampler::spawn(src, Duration::from_secs(3600), wake).unwrap();
    let thread_name = s.thread.as_ref().unwrap().thread().name().map(String::from);
    assert_eq!(thread_name.as_deref(), Some("portwise-sampler"));
    match s.recv_timeout(WAIT) {
        Some(Sample::Snapshot { snapshot, .. }) => {
            assert_eq!(snapshot.taken_at_unix_ms, 1);
            let ports: Vec<u16> = snapshot.sockets.iter().map(|e| e.local_port).collect();
            assert_eq!(ports, vec![80, 9000], "sampler sorts unsorted snapshots");
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    // The wake runs after the send; give it a moment.
    let t0 = Instant::now();
    while woken.load(Ordering::SeqCst) == 0 && t0.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    assert!(s.stop());
}

#[test]
fn interval_refresh_pause_and_resume() {
    let (src, calls) = counting(None);
    let (wake, _) = wake_counter();
    let s = Sampler::spawn(src, Duration::from_secs(3600), wake).unwrap();
    assert!(s.recv_timeout(WAIT).is_some());
    // Hour-long interval: nothing more comes on its own...
    assert!(s.recv_timeout(Duration::from_millis(200)).is_none());
    // ...until asked.
    s.refresh_now();
    assert!(s.recv_timeout(WAIT).is_some());
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // A short interval brings snapshots without asking.
    s.set_interval(Duration::from_millis(100));
    assert!(s.recv_timeout(WAIT).is_some());
    assert!(s.recv_timeout(WAIT).is_some());

    // Paused: nothing arrives (one in flight may still land).
    s.pause();
    std::thread::sleep(Duration::from_millis(150));
    let _ = s.drain();
    let before = calls.load(Ordering::SeqCst);
    assert!(s.recv_timeout(Duration::from_millis(400)).is_none());
    assert_eq!(calls.load(Ordering::SeqCst), before);

    // Refresh-now works while paused, and does not resume.
    s.refresh_now();
    assert!(s.recv_timeout(WAIT).is_some());
    assert!(s.recv_timeout(Duration::from_millis(400)).is_none());

    s.resume();
    assert!(s.recv_timeout(WAIT).is_some());
    assert!(s.stop());
}

#[test]
fn errors_are_sent_and_sampling_goes_on() {
    let (src, _) = counting(Some(2));
    let (wake, _) = wake_counter();
    let s = Sampler::spawn(src, Duration::from_millis(100), wake).unwrap();
    assert!(matches!(
        s.recv_timeout(WAIT),
        Some(Sample::Snapshot { .. })
    ));
    match s.recv_timeout(WAIT) {
        Some(Sample::Error(e)) => assert_eq!(e.0, "failure 2"),
        other => panic!("expected the error, got {other:?}"),
    }
    assert!(matches!(
        s.recv_timeout(WAIT),
        Some(Sample::Snapshot { .. })
    ));
}

#[test]
fn starts_paused_when_asked_and_drop_stops_the_thread() {
    let (src, calls) = counting(None);
    let (wake, _) = wake_counter();
    let s = Sampler::spawn_paused(src, Duration::from_millis(100), wake).unwrap();
    assert!(s.recv_timeout(Duration::from_millis(300)).is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(!s.thread.as_ref().unwrap().is_finished());
    let t0 = Instant::now();
    drop(s);
    assert!(t0.elapsed() < WAIT, "drop must not hang");
}

/// Takes `delay` per snapshot: slower than the interval it is used with.
struct Slow {
    delay: Duration,
    calls: Arc<AtomicUsize>,
}

impl SocketSource for Slow {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        // Each one different, so each is sent.
        Ok(Snapshot {
            unattributed: n,
            ..Snapshot::default()
        })
    }
}

#[test]
fn a_snapshot_slower_than_the_interval_still_lets_commands_through() {
    let calls = Arc::new(AtomicUsize::new(0));
    let src = Box::new(Slow {
        delay: Duration::from_millis(150),
        calls: calls.clone(),
    });
    let (wake, _) = wake_counter();
    let s = Sampler::spawn(src, Duration::from_millis(100), wake).unwrap();
    assert!(s.recv_timeout(WAIT).is_some());
    assert!(s.recv_timeout(WAIT).is_some());
    // Pause takes effect after at most the snapshot in flight.
    s.pause();
    std::thread::sleep(Duration::from_millis(400));
    let _ = s.drain();
    let before = calls.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(500));
    let after = calls.load(Ordering::SeqCst);
    if after != before {
        // Dropping `s` would join a thread that never stops: leak it so
        // the test fails instead of hanging.
        std::mem::forget(s);
        panic!("pause was ignored: {before} snapshots, then {after}");
    }
    assert!(s.drain().is_empty());
    // Sampling again, back to back; stop() must still return promptly
    // (before the fix it joined a thread that never read the stop).
    s.resume();
    assert!(s.recv_timeout(WAIT).is_some());
    assert!(s.recv_timeout(WAIT).is_some());
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("test-sampler-stop".into())
        .spawn(move || {
            let _ = done_tx.send(s.stop());
        })
        .unwrap();
    assert_eq!(
        done_rx.recv_timeout(Duration::from_secs(2)),
        Ok(true),
        "stop() did not return within 2 s"
    );
}

#[test]
fn scripted_source_replays_then_repeats_the_last_snapshot() {
    let snap = |t| Snapshot {
        taken_at_unix_ms: t,
        ..Snapshot::default()
    };
    let mut src = ScriptedSource::new([Ok(snap(1)), Err(SourceError("boom".into()))]);
    assert_eq!(src.snapshot().unwrap().taken_at_unix_ms, 1);
    assert_eq!(src.snapshot().unwrap_err().0, "boom");
    assert_eq!(src.snapshot().unwrap().taken_at_unix_ms, 1);
    src.push(Ok(snap(2)));
    assert_eq!(src.snapshot().unwrap().taken_at_unix_ms, 2);
    assert_eq!(src.calls(), 4);
    let mut empty = ScriptedSource::default();
    assert!(empty.snapshot().is_err());
}

/// Returns the same sockets on every call (a quiet machine), with the time
/// taken and TIME_WAIT's time left moving on as the kernel's do; or, once
/// `change` is set, one socket more.
struct Quiet {
    calls: Arc<AtomicUsize>,
    change: Arc<std::sync::atomic::AtomicBool>,
}

impl SocketSource for Quiet {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) as u64;
        let mut tw = SocketEntry::new(
            Proto::Tcp,
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(SocketAddr::from(([127, 0, 0, 1], 41_000))),
            Some(TcpState::TimeWait),
        );
        tw.time_wait_expires_in_ms = Some(60_000 - 100 * n);
        let listen = |port| {
            SocketEntry::new(
                Proto::Tcp,
                SocketAddr::from(([127, 0, 0, 1], port)),
                None,
                Some(TcpState::Listen),
            )
        };
        let mut sockets = vec![listen(8080), tw];
        if self.change.load(Ordering::SeqCst) {
            sockets.push(listen(9090));
        }
        Ok(Snapshot {
            taken_at_unix_ms: 1_000 + 100 * n,
            sockets,
            ..Snapshot::default()
        })
    }
}

#[test]
fn a_snapshot_that_shows_nothing_new_is_not_sent_and_wakes_nobody() {
    let calls = Arc::new(AtomicUsize::new(0));
    let change = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let src = Box::new(Quiet {
        calls: calls.clone(),
        change: change.clone(),
    });
    let (wake, woken) = wake_counter();
    let s = Sampler::spawn(src, Duration::from_millis(100), wake).unwrap();
    assert!(s.recv_timeout(WAIT).is_some(), "the first one always comes");
    // Several looks at an unchanged machine: nothing sent, nobody woken.
    let t0 = Instant::now();
    while calls.load(Ordering::SeqCst) < 5 && t0.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(calls.load(Ordering::SeqCst) >= 5);
    assert!(s.drain().is_empty(), "unchanged snapshots were sent");
    assert_eq!(woken.load(Ordering::SeqCst), 1);

    // "Refresh now" answers even when nothing changed.
    s.refresh_now();
    assert!(s.recv_timeout(WAIT).is_some());

    // A real change is sent (and wakes the window).
    change.store(true, Ordering::SeqCst);
    match s.recv_timeout(WAIT) {
        Some(Sample::Snapshot { snapshot, .. }) => assert_eq!(snapshot.sockets.len(), 3),
        other => panic!("expected the changed snapshot, got {other:?}"),
    }
    // The wake runs just after the send; give it a moment.
    let t0 = Instant::now();
    while woken.load(Ordering::SeqCst) < 3 && t0.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(woken.load(Ordering::SeqCst), 3);
    assert!(s.stop());
}

#[test]
fn the_fingerprint_ignores_only_the_clock_and_time_wait_left() {
    let entry = |port| {
        SocketEntry::new(
            Proto::Tcp,
            SocketAddr::from(([127, 0, 0, 1], port)),
            None,
            Some(TcpState::Listen),
        )
    };
    let mut a = Snapshot {
        taken_at_unix_ms: 1,
        sockets: vec![entry(80)],
        ..Snapshot::default()
    };
    a.sockets[0].time_wait_expires_in_ms = Some(5_000);
    let base = fingerprint(&mut a);
    assert_eq!(
        a.sockets[0].time_wait_expires_in_ms,
        Some(5_000),
        "restored"
    );
    assert_eq!(a.taken_at_unix_ms, 1, "restored");
    let mut b = a.clone();
    b.taken_at_unix_ms = 2;
    b.sockets[0].time_wait_expires_in_ms = Some(4_000);
    assert_eq!(fingerprint(&mut b), base);
    let mut c = a.clone();
    c.sockets[0].processes.push(crate::sockets::ProcessInfo {
        pid: 7,
        name: "x".into(),
        user: None,
        exe: None,
        cmdline: None,
    });
    assert_ne!(fingerprint(&mut c), base, "a new owner is a change");
    let mut d = a.clone();
    d.privileged = true;
    assert_ne!(fingerprint(&mut d), base, "the header counts");
    let mut e = a.clone();
    e.sockets[0].time_wait_expires_in_ms = None;
    assert_ne!(fingerprint(&mut e), base, "reported or not counts");
}

/// The "All namespaces" toggle's path: the selection reaches the source on
/// the sampler thread, a snapshot follows at once (even while paused), and
/// the source's namespace summary is readable once it has arrived.
#[test]
fn set_netns_reaches_the_source_and_its_summary_comes_back() {
    use crate::sockets::{NetnsSelection, NetnsSummary};
    let src = ScriptedSource::new([Ok(Snapshot::default())]);
    let summary = NetnsSummary {
        own: Some(1),
        others: 2,
        listed: vec![1],
        ..NetnsSummary::default()
    };
    src.set_netns_summary(Some(summary.clone()));
    let (wake, _) = wake_counter();
    let s = Sampler::spawn_paused(Box::new(src.clone()), Duration::from_secs(3600), wake).unwrap();
    assert_eq!(s.netns_summary(), None, "nothing sampled yet");
    s.set_netns(NetnsSelection::All);
    assert!(matches!(
        s.recv_timeout(WAIT),
        Some(Sample::Snapshot { .. })
    ));
    assert_eq!(src.netns_selection(), NetnsSelection::All);
    assert_eq!(s.netns_summary(), Some(summary));
    assert_eq!(src.calls(), 1);
    assert!(s.stop());

    // The inline sampler (UI tests) does the same on the caller's thread.
    let src = ScriptedSource::new([Ok(Snapshot::default())]);
    let s = Sampler::inline(Box::new(src.clone()), true);
    s.set_netns(NetnsSelection::Named("blue".into()));
    assert_eq!(src.netns_selection(), NetnsSelection::Named("blue".into()));
    assert_eq!(s.drain().len(), 1);
}

fn taken(s: &Sample) -> u64 {
    match s {
        Sample::Snapshot { snapshot, .. } => snapshot.taken_at_unix_ms,
        Sample::Error(e) => panic!("{e}"),
    }
}

#[test]
fn another_source_replaces_the_first_and_nothing_old_leaks_through() {
    let (home, home_calls) = counting(None);
    let (other, other_calls) = counting(None);
    let s = Sampler::inline(home, false);
    // The home source's first sample is still queued when the source
    // changes: it must not come out as the new machine's.
    s.use_source(Some(other), false);
    let got = s.drain();
    assert_eq!(got.len(), 1);
    assert_eq!(other_calls.load(Ordering::SeqCst), 1);
    assert_eq!(taken(&got[0]), 1);
    s.refresh_now();
    assert_eq!(other_calls.load(Ordering::SeqCst), 2);
    // Back home: the same source object (its count goes on), not a new one.
    s.use_source(None, false);
    let got = s.drain();
    assert_eq!(got.len(), 1, "the other source's refresh is dropped");
    assert_eq!(home_calls.load(Ordering::SeqCst), 2);
    assert_eq!(taken(&got[0]), 2);
}

#[test]
fn a_threaded_sampler_switches_sources_too() {
    let (home, home_calls) = counting(None);
    let (other, other_calls) = counting(None);
    let s = Sampler::spawn_paused(home, Duration::from_secs(60), Box::new(|| {})).unwrap();
    s.use_source(Some(other), false);
    let got = s.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(taken(&got), 1);
    assert_eq!(other_calls.load(Ordering::SeqCst), 1);
    assert_eq!(home_calls.load(Ordering::SeqCst), 0);
    s.use_source(None, false);
    let got = s.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(taken(&got), 1);
    assert_eq!(home_calls.load(Ordering::SeqCst), 1);
    assert!(s.stop());
}
