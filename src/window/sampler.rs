//! The background sampler: a named thread that takes socket snapshots at an
//! interval and hands them to the window over a channel.
//!
//! The window's thread never enumerates sockets: it only drains the channel.
//! While a snapshot is being taken the window keeps drawing the previous one.
//! The sampler knows nothing of egui; the window gives it a wake callback
//! (`ctx.request_repaint`) to call after each message.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sockets::{Snapshot, SocketSource, SourceError};

/// Called after every message the sampler sends, from the sampler thread.
pub type Wake = Box<dyn Fn() + Send>;

/// The shortest interval the sampler accepts; shorter requests are raised
/// to it so a slip of the mouse cannot make it spin.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// What the sampler sends to the window.
#[derive(Debug)]
pub enum Sample {
    /// A whole snapshot, with its sockets in [`Snapshot::sort`] order, and
    /// how long taking it took.
    Snapshot {
        snapshot: Box<Snapshot>,
        took: Duration,
    },
    /// Taking a snapshot failed; the window keeps its last good one.
    Error(SourceError),
}

enum Command {
    SetInterval(Duration),
    Pause,
    Resume,
    RefreshNow,
    Dispose(Box<Snapshot>),
}

/// Handle to the sampling thread. Dropping it stops the thread and waits
/// for it (at most the time one snapshot takes).
pub struct Sampler {
    commands: Option<Sender<Command>>,
    samples: Receiver<Sample>,
    thread: Option<JoinHandle<()>>,
    /// The inline sampler's source and queue ([`Sampler::inline`]).
    inline: Option<std::sync::Mutex<Inline>>,
}

/// A sampler without a thread: each refresh is taken at once on the
/// caller's thread. For UI tests, which then never wait for a snapshot.
struct Inline {
    source: Box<dyn SocketSource>,
    samples: Sender<Sample>,
}

impl Sampler {
    /// Start sampling `source` every `interval` on a thread named
    /// "portwise-sampler". The first snapshot is taken at once.
    pub fn spawn(
        source: Box<dyn SocketSource>,
        interval: Duration,
        wake: Wake,
    ) -> std::io::Result<Sampler> {
        Self::spawn_with(source, interval, wake, false)
    }

    /// Like [`Sampler::spawn`], but starts paused: nothing is sampled until
    /// [`Sampler::resume`] or [`Sampler::refresh_now`].
    pub fn spawn_paused(
        source: Box<dyn SocketSource>,
        interval: Duration,
        wake: Wake,
    ) -> std::io::Result<Sampler> {
        Self::spawn_with(source, interval, wake, true)
    }

    fn spawn_with(
        source: Box<dyn SocketSource>,
        interval: Duration,
        wake: Wake,
        paused: bool,
    ) -> std::io::Result<Sampler> {
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let (sample_tx, sample_rx) = mpsc::channel();
        let worker = Worker {
            source,
            interval: interval.max(MIN_INTERVAL),
            paused,
            wake,
            commands: cmd_rx,
            samples: sample_tx,
        };
        let thread = std::thread::Builder::new()
            .name("portwise-sampler".into())
            .spawn(move || worker.run())?;
        Ok(Sampler {
            commands: Some(cmd_tx),
            samples: sample_rx,
            thread: Some(thread),
            inline: None,
        })
    }

    /// A sampler with no thread and no timer: [`Sampler::refresh_now`] and
    /// [`Sampler::resume`] take one snapshot at once, on the caller's
    /// thread, ready for the next [`Sampler::drain`]. Unless `paused`, the
    /// first is taken now. For UI tests.
    pub fn inline(source: Box<dyn SocketSource>, paused: bool) -> Sampler {
        let (tx, rx) = mpsc::channel();
        let s = Sampler {
            commands: None,
            samples: rx,
            thread: None,
            inline: Some(std::sync::Mutex::new(Inline {
                source,
                samples: tx,
            })),
        };
        if !paused {
            s.take_inline();
        }
        s
    }

    /// Inline: take one snapshot now. Returns false for a threaded sampler.
    fn take_inline(&self) -> bool {
        let Some(m) = &self.inline else {
            return false;
        };
        if let Ok(mut i) = m.lock() {
            let sample = take(i.source.as_mut());
            let _ = i.samples.send(sample);
        }
        true
    }

    fn send(&self, cmd: Command) {
        if let Some(tx) = &self.commands {
            // A send error means the thread is gone (its source panicked);
            // the window then simply receives nothing more.
            let _ = tx.send(cmd);
        }
    }

    /// Sample every `interval` from now on (at least [`MIN_INTERVAL`]).
    pub fn set_interval(&self, interval: Duration) {
        self.send(Command::SetInterval(interval));
    }

    /// Stop sampling until [`Sampler::resume`]; a snapshot already being
    /// taken is still delivered.
    pub fn pause(&self) {
        self.send(Command::Pause);
    }

    /// Sample again at the interval, starting with one snapshot now.
    pub fn resume(&self) {
        if self.take_inline() {
            return;
        }
        self.send(Command::Resume);
    }

    /// Take one snapshot as soon as possible (also while paused).
    pub fn refresh_now(&self) {
        if self.take_inline() {
            return;
        }
        self.send(Command::RefreshNow);
    }

    /// Drop a snapshot on the sampler thread, not the caller's: freeing
    /// 100k sockets takes a millisecond or two the window need not spend.
    pub fn dispose(&self, old: Snapshot) {
        if old.sockets.is_empty() {
            return;
        }
        self.send(Command::Dispose(Box::new(old)));
    }

    /// Everything that arrived since the last call, oldest first; never
    /// blocks.
    pub fn drain(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        loop {
            match self.samples.try_recv() {
                Ok(s) => out.push(s),
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => return out,
            }
        }
    }

    /// Wait up to `timeout` for the next message (for tests and tools; the
    /// window never blocks on the sampler).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Sample> {
        self.samples.recv_timeout(timeout).ok()
    }

    /// Stop the thread and wait for it. Returns false if it had panicked.
    pub fn stop(mut self) -> bool {
        self.shutdown()
    }

    fn shutdown(&mut self) -> bool {
        // Closing the command channel is the stop signal: the thread sees
        // `Disconnected` at its next wait, or right after a snapshot.
        self.commands = None;
        match self.thread.take() {
            Some(t) => t.join().is_ok(),
            None => true,
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    source: Box<dyn SocketSource>,
    interval: Duration,
    paused: bool,
    wake: Wake,
    commands: Receiver<Command>,
    samples: Sender<Sample>,
}

impl Worker {
    fn run(mut self) {
        let mut due = if self.paused {
            None
        } else {
            Some(Instant::now())
        };
        loop {
            // Wait for the next due time, or a command.
            let cmd = match due {
                // Always look at the commands, even when the snapshot is
                // already overdue (a snapshot slower than the interval):
                // a zero timeout still returns a queued command, so pause,
                // interval changes, disposals and the stop signal are never
                // starved by back-to-back snapshots.
                Some(at) => match self
                    .commands
                    .recv_timeout(at.saturating_duration_since(Instant::now()))
                {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match self.commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                },
            };
            match cmd {
                Some(Command::SetInterval(d)) => {
                    let d = d.max(MIN_INTERVAL);
                    self.interval = d;
                    if !self.paused {
                        // Count the new interval from now, not from the
                        // last snapshot, so a shorter interval applies at once
                        // without a burst.
                        due = Some(Instant::now() + d);
                    }
                    continue;
                }
                Some(Command::Pause) => {
                    self.paused = true;
                    due = None;
                    continue;
                }
                Some(Command::Resume) => {
                    self.paused = false;
                    due = Some(Instant::now());
                    continue;
                }
                Some(Command::RefreshNow) => {
                    due = Some(Instant::now());
                    continue;
                }
                Some(Command::Dispose(old)) => {
                    drop(old);
                    continue;
                }
                None => {}
            }
            // Due: take one snapshot.
            let started = Instant::now();
            let msg = take(self.source.as_mut());
            if self.samples.send(msg).is_err() {
                return; // the window is gone
            }
            (self.wake)();
            due = if self.paused {
                None
            } else {
                Some(started + self.interval)
            };
        }
    }
}

/// One snapshot of `source`, sorted, with how long it took.
fn take(source: &mut dyn SocketSource) -> Sample {
    let started = Instant::now();
    match source.snapshot() {
        Ok(mut snap) => {
            if !is_sorted(&snap) {
                snap.sort();
            }
            Sample::Snapshot {
                snapshot: Box::new(snap),
                took: started.elapsed(),
            }
        }
        Err(e) => Sample::Error(e),
    }
}

/// The window relies on [`Snapshot::sort`] order (it diffs snapshots by
/// merging); checking costs one pass, sorting only happens when needed.
fn is_sorted(snap: &Snapshot) -> bool {
    snap.sockets
        .windows(2)
        .all(|w| w[0].sort_key() <= w[1].sort_key())
}

/// A source that replays scripted results, for tests and demos: each
/// snapshot call takes the next one; when the script runs out it repeats
/// the last snapshot. The script can be extended while the sampler runs.
#[derive(Clone, Default)]
pub struct ScriptedSource {
    script: std::sync::Arc<std::sync::Mutex<ScriptState>>,
}

#[derive(Default)]
struct ScriptState {
    queue: std::collections::VecDeque<Result<Snapshot, SourceError>>,
    last: Option<Snapshot>,
    calls: usize,
}

impl ScriptedSource {
    pub fn new(script: impl IntoIterator<Item = Result<Snapshot, SourceError>>) -> ScriptedSource {
        let s = ScriptedSource::default();
        for r in script {
            s.push(r);
        }
        s
    }

    /// Queue one more result.
    pub fn push(&self, r: Result<Snapshot, SourceError>) {
        if let Ok(mut st) = self.script.lock() {
            st.queue.push_back(r);
        }
    }

    /// How many snapshots were asked for.
    pub fn calls(&self) -> usize {
        self.script.lock().map_or(0, |st| st.calls)
    }
}

impl SocketSource for ScriptedSource {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let mut st = self
            .script
            .lock()
            .map_err(|_| SourceError("the script's lock is poisoned".into()))?;
        st.calls += 1;
        match st.queue.pop_front() {
            Some(Ok(snap)) => {
                st.last = Some(snap.clone());
                Ok(snap)
            }
            Some(Err(e)) => Err(e),
            None => st
                .last
                .clone()
                .ok_or_else(|| SourceError("the script is empty".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::{Proto, SocketEntry, TcpState};
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts calls; returns snapshots whose `taken_at_unix_ms` is the call
    /// number, with two sockets deliberately out of order.
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
                sockets: vec![entry(9000), entry(80)],
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
            self.calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            Ok(Snapshot::default())
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
}
