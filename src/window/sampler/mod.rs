//! The background sampler: a named thread that takes socket snapshots at an
//! interval and hands them to the window over a channel.
//!
//! The window's thread never enumerates sockets: it only drains the channel.
//! While a snapshot is being taken the window keeps drawing the previous one.
//! The sampler knows nothing of egui; the window gives it a wake callback
//! (`ctx.request_repaint`) to call after each message.
//!
//! A snapshot that shows the same as the last one sent is not sent at all
//! (see [`fingerprint`]): on a quiet machine the window then wakes for
//! nothing, which is most of what keeps it under 2% of a core while it
//! stays open all day. "Refresh now" and resuming always send one, so a
//! person who asks sees an answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use crate::sockets::{NetnsSelection, NetnsSummary, Snapshot, SocketSource, SourceError};

mod scripted;
pub use scripted::ScriptedSource;

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
    SetNetns(NetnsSelection),
    /// Sample this source from now on (None: the one the sampler started
    /// with), tagging what it sends with this generation.
    UseSource(Option<Box<dyn SocketSource>>, u64),
}

/// A sample and the generation of the source that took it.
type Tagged = (u64, Sample);

/// Handle to the sampling thread. Dropping it stops the thread and waits
/// for it (at most the time one snapshot takes).
pub struct Sampler {
    commands: Option<Sender<Command>>,
    samples: Receiver<Tagged>,
    /// Bumped by [`Sampler::use_source`]: samples of an older source,
    /// still in the channel, are dropped by [`Sampler::drain`].
    generation: AtomicU64,
    thread: Option<JoinHandle<()>>,
    /// The inline sampler's source and queue ([`Sampler::inline`]).
    inline: Option<std::sync::Mutex<Inline>>,
    /// The source's namespace summary after its latest snapshot.
    netns: Arc<Mutex<Option<NetnsSummary>>>,
}

/// A sampler without a thread: each refresh is taken at once on the
/// caller's thread. For UI tests, which then never wait for a snapshot.
struct Inline {
    source: Box<dyn SocketSource>,
    /// The starting source while another is used.
    home: Option<Box<dyn SocketSource>>,
    generation: u64,
    samples: Sender<Tagged>,
}

/// Store the source's namespace summary, for [`Sampler::netns_summary`].
/// Returns whether it changed.
fn publish_netns(source: &dyn SocketSource, to: &Mutex<Option<NetnsSummary>>) -> bool {
    let now = source.netns_summary();
    match to.lock() {
        Ok(mut slot) if *slot != now => {
            *slot = now;
            true
        }
        _ => false,
    }
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
        let netns = Arc::new(Mutex::new(None));
        let worker = Worker {
            netns: netns.clone(),
            source,
            home: None,
            generation: 0,
            interval: interval.max(MIN_INTERVAL),
            paused,
            wake,
            commands: cmd_rx,
            samples: sample_tx,
            last_sent: None,
            force: true,
        };
        let thread = std::thread::Builder::new()
            .name("portwise-sampler".into())
            .spawn(move || worker.run())?;
        Ok(Sampler {
            commands: Some(cmd_tx),
            samples: sample_rx,
            generation: AtomicU64::new(0),
            thread: Some(thread),
            inline: None,
            netns,
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
            generation: AtomicU64::new(0),
            thread: None,
            inline: Some(std::sync::Mutex::new(Inline {
                source,
                home: None,
                generation: 0,
                samples: tx,
            })),
            netns: Arc::new(Mutex::new(None)),
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
            publish_netns(i.source.as_ref(), &self.netns);
            let _ = i.samples.send((i.generation, sample));
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

    /// List these network namespaces from now on, starting with one
    /// snapshot as soon as possible (the "All namespaces" toggle). Sources
    /// without namespaces ignore it.
    pub fn set_netns(&self, selection: NetnsSelection) {
        if let Some(m) = &self.inline {
            if let Ok(mut i) = m.lock() {
                i.source.set_netns(selection);
            }
            self.take_inline();
            return;
        }
        self.send(Command::SetNetns(selection));
    }

    /// What the source said about network namespaces after its latest
    /// snapshot (how many others exist, how to see them); `None` before
    /// the first, or from a source without namespaces.
    pub fn netns_summary(&self) -> Option<NetnsSummary> {
        self.netns.lock().ok().and_then(|s| s.clone())
    }

    /// Sample `source` from now on (another machine's, for one), or with
    /// `None` the source the sampler started with (kept meanwhile, with its
    /// memory). One snapshot of it is taken at once unless paused; nothing
    /// the previous source took comes out of [`Sampler::drain`] after this
    /// call.
    pub fn use_source(&self, source: Option<Box<dyn SocketSource>>, paused: bool) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(m) = &self.inline {
            if let Ok(mut guard) = m.lock() {
                let i = &mut *guard;
                swap_source(&mut i.source, &mut i.home, source);
                i.generation = generation;
            }
            if !paused {
                self.take_inline();
            }
            return;
        }
        self.send(Command::UseSource(source, generation));
        if !paused {
            self.send(Command::RefreshNow);
        }
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
        let current = self.generation.load(Ordering::Relaxed);
        loop {
            match self.samples.try_recv() {
                Ok((g, s)) if g == current => out.push(s),
                Ok(_) => {}
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => return out,
            }
        }
    }

    /// Wait up to `timeout` for the next message (for tests and tools; the
    /// window never blocks on the sampler).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Sample> {
        let current = self.generation.load(Ordering::Relaxed);
        let end = std::time::Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match self.samples.recv_timeout(left) {
                Ok((g, s)) if g == current => return Some(s),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
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
    netns: Arc<Mutex<Option<NetnsSummary>>>,
    /// The starting source while another is used.
    home: Option<Box<dyn SocketSource>>,
    generation: u64,
    interval: Duration,
    paused: bool,
    wake: Wake,
    commands: Receiver<Command>,
    samples: Sender<Tagged>,
    /// [`fingerprint`] of the last snapshot sent; `None` after an error
    /// (the next good snapshot must clear it in the window).
    last_sent: Option<u64>,
    /// Send the next snapshot even if it shows nothing new (someone asked).
    force: bool,
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
                    self.force = true;
                    due = Some(Instant::now());
                    continue;
                }
                Some(Command::RefreshNow) => {
                    self.force = true;
                    due = Some(Instant::now());
                    continue;
                }
                Some(Command::Dispose(old)) => {
                    drop(old);
                    continue;
                }
                Some(Command::SetNetns(selection)) => {
                    self.source.set_netns(selection);
                    self.force = true;
                    due = Some(Instant::now());
                    continue;
                }
                Some(Command::UseSource(source, generation)) => {
                    swap_source(&mut self.source, &mut self.home, source);
                    self.generation = generation;
                    // Another machine: its first snapshot is news even if
                    // it looks like the last one sent.
                    self.last_sent = None;
                    self.force = true;
                    continue;
                }
                None => {}
            }
            // Due: take one snapshot.
            let started = Instant::now();
            let mut msg = take(self.source.as_mut());
            let print = match &mut msg {
                Sample::Snapshot { snapshot, .. } => Some(fingerprint(snapshot)),
                Sample::Error(_) => None,
            };
            // Before the snapshot is sent: whoever reads the snapshot finds
            // the summary that belongs to it. A changed summary (a namespace
            // came or went) is news even when the sockets are the same.
            let netns_changed = publish_netns(self.source.as_ref(), &self.netns);
            let same = print.is_some() && print == self.last_sent && !netns_changed;
            let asked = std::mem::take(&mut self.force);
            if !same || asked {
                self.last_sent = print;
                if self.samples.send((self.generation, msg)).is_err() {
                    return; // the window is gone
                }
                (self.wake)();
            }
            due = if self.paused {
                None
            } else {
                Some(started + self.interval)
            };
        }
    }
}

/// Make `source` the one sampled (None: back to the starting one, kept in
/// `home` meanwhile).
fn swap_source(
    current: &mut Box<dyn SocketSource>,
    home: &mut Option<Box<dyn SocketSource>>,
    source: Option<Box<dyn SocketSource>>,
) {
    match source {
        Some(new) => {
            let old = std::mem::replace(current, new);
            // The starting source is kept; another remote one is dropped.
            if home.is_none() {
                *home = Some(old);
            }
        }
        None => {
            if let Some(h) = home.take() {
                *current = h;
            }
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

/// A fingerprint of what the window shows of a snapshot: its header and
/// every field of every socket, except the time it was taken and the time
/// a TIME_WAIT socket has left (both change on every look; the window
/// counts TIME_WAIT down itself from the snapshot that brought the socket,
/// so an unchanged snapshot it never receives loses nothing). Fields are
/// hashed through their `Debug` text, so a field added to the model later
/// counts without anyone remembering to add it here. Costs one pass over
/// the sockets, on the sampler's thread.
pub fn fingerprint(snap: &mut Snapshot) -> u64 {
    use std::hash::{Hash, Hasher};
    /// Feeds formatted text straight into the hasher (no allocation).
    struct Feed<'a>(&'a mut std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Feed<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // The header (every field but the time), then the sockets one by one.
    let taken = std::mem::take(&mut snap.taken_at_unix_ms);
    let sockets = std::mem::take(&mut snap.sockets);
    let _ = std::fmt::write(&mut Feed(&mut h), format_args!("{snap:?}"));
    snap.taken_at_unix_ms = taken;
    snap.sockets = sockets;
    snap.sockets.len().hash(&mut h);
    for e in &mut snap.sockets {
        let left = e.time_wait_expires_in_ms.take();
        let _ = std::fmt::write(&mut Feed(&mut h), format_args!("{e:?}"));
        e.time_wait_expires_in_ms = left;
        // Whether TIME_WAIT's time left is reported at all does count.
        left.is_some().hash(&mut h);
    }
    h.finish()
}

/// The window relies on [`Snapshot::sort`] order (it diffs snapshots by
/// merging); checking costs one pass, sorting only happens when needed.
fn is_sorted(snap: &Snapshot) -> bool {
    snap.sockets
        .windows(2)
        .all(|w| w[0].sort_key() <= w[1].sort_key())
}

#[cfg(test)]
mod tests;
