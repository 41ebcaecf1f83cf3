//! Background work for the window: [`Tasks::spawn`] runs a closure on a
//! named thread and brings its result back as a message, which the app
//! routes to the feature that asked ([`Tasks::poll`], once per frame). A
//! feature never sees the runner's message type: it gets a [`Scoped`]
//! spawner that wraps its own messages.
//!
//! Tests pick another [`Runner`]: `Inline` runs the work at once on the
//! caller's thread (UI tests never wait for a thread), `Manual` keeps it
//! until the test runs it ([`Tasks::run_queued`]), so a test can look at
//! what was asked for and decide when it finishes.
//!
//! No egui here: the window gives a wake callback (`request_repaint`).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

/// Called from a worker thread after its message is sent.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// How spawned work runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// Each task on its own named thread (the window).
    Threads,
    /// At once, on the spawning thread (UI tests).
    Inline,
    /// Queued until [`Tasks::run_queued`] (state tests).
    Manual,
}

type Job<M> = Box<dyn FnOnce() -> M + Send>;

/// The running background tasks; their results arrive as `M`.
pub struct Tasks<M> {
    runner: Runner,
    tx: Sender<M>,
    rx: Receiver<M>,
    wake: Wake,
    queued: Vec<(String, Job<M>)>,
}

impl<M: Send + 'static> Tasks<M> {
    pub fn new(runner: Runner, wake: Wake) -> Tasks<M> {
        let (tx, rx) = mpsc::channel();
        Tasks {
            runner,
            tx,
            rx,
            wake,
            queued: Vec::new(),
        }
    }

    /// A runner that keeps every task until the caller runs it.
    pub fn manual() -> Tasks<M> {
        Tasks::new(Runner::Manual, Arc::new(|| {}))
    }

    pub fn runner(&self) -> Runner {
        self.runner
    }

    /// Run `work` on a thread named `name`; its result, turned into a
    /// message by `into_msg`, comes out of [`Tasks::poll`]. An error says
    /// the thread could not start (in words, for a toast).
    pub fn spawn<T: 'static>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
        into_msg: impl FnOnce(T) -> M + Send + 'static,
    ) -> Result<(), String> {
        let job: Job<M> = Box::new(move || into_msg(work()));
        match self.runner {
            Runner::Inline => {
                let _ = self.tx.send(job());
                Ok(())
            }
            Runner::Manual => {
                self.queued.push((name.to_string(), job));
                Ok(())
            }
            Runner::Threads => {
                let tx = self.tx.clone();
                let wake = self.wake.clone();
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || {
                        let _ = tx.send(job());
                        wake();
                    })
                    .map(|_| ())
                    .map_err(|e| format!("Cannot start a thread ({name}): {e}"))
            }
        }
    }

    /// The messages of the tasks that finished since the last call, in
    /// the order they finished; never blocks.
    pub fn poll(&mut self) -> Vec<M> {
        self.rx.try_iter().collect()
    }

    /// A spawner for one feature: its messages are wrapped with `wrap`.
    pub fn scoped<F: 'static>(&mut self, wrap: fn(F) -> M) -> Scoped<'_, F> {
        Scoped {
            spawn: Box::new(move |name, job| self.spawn(name, job, wrap)),
        }
    }

    /// The names of the tasks a `Manual` runner holds, oldest first.
    pub fn queued(&self) -> Vec<&str> {
        self.queued.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Run the held tasks named `name` (all when `None`), oldest first;
    /// their messages then come out of [`Tasks::poll`]. Returns how many ran.
    pub fn run_queued(&mut self, name: Option<&str>) -> usize {
        let (run, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queued)
            .into_iter()
            .partition(|(n, _)| name.is_none_or(|want| n == want));
        self.queued = keep;
        let n = run.len();
        for (_, job) in run {
            let _ = self.tx.send(job());
        }
        n
    }
}

type SpawnFn<'a, F> = Box<dyn FnMut(&str, Job<F>) -> Result<(), String> + 'a>;

/// A feature's view of [`Tasks`]: spawns work whose result is one of the
/// feature's own messages.
pub struct Scoped<'a, F> {
    spawn: SpawnFn<'a, F>,
}

impl<F: 'static> Scoped<'_, F> {
    /// See [`Tasks::spawn`].
    pub fn spawn<T: 'static>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> T + Send + 'static,
        into_msg: impl FnOnce(T) -> F + Send + 'static,
    ) -> Result<(), String> {
        (self.spawn)(name, Box::new(move || into_msg(work())))
    }
}

/// Something asked of a worker: not asked yet, under way, or arrived.
/// One type for every "asked / still reading" flag of the views.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Pending<T> {
    #[default]
    NotAsked,
    Running,
    Done(T),
}

impl<T> Pending<T> {
    /// Mark it asked for when nobody asked yet: true when the caller must
    /// now start the work.
    pub fn ask(&mut self) -> bool {
        if matches!(self, Pending::NotAsked) {
            *self = Pending::Running;
            true
        } else {
            false
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, Pending::Running)
    }

    /// The value, once it arrived.
    pub fn done(&self) -> Option<&T> {
        match self {
            Pending::Done(v) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn threads_bring_results_back_as_messages_and_wake() {
        let (woke_tx, woke_rx) = mpsc::channel();
        let woke_tx = std::sync::Mutex::new(woke_tx);
        let wake: Wake = Arc::new(move || {
            let _ = woke_tx.lock().map(|t| t.send(()));
        });
        let mut tasks: Tasks<String> = Tasks::new(Runner::Threads, wake);
        tasks
            .spawn(
                "portwise-test-task",
                || std::thread::current().name().map(str::to_string),
                |n| format!("ran on {n:?}"),
            )
            .unwrap();
        woke_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(tasks.poll(), vec!["ran on Some(\"portwise-test-task\")"]);
        assert!(tasks.poll().is_empty());
    }

    #[test]
    fn inline_runs_at_once_and_manual_waits_to_be_run() {
        let mut inline: Tasks<u32> = Tasks::new(Runner::Inline, Arc::new(|| {}));
        inline.spawn("a", || 2, |x| x * 10).unwrap();
        assert_eq!(inline.poll(), vec![20]);

        let mut manual: Tasks<u32> = Tasks::manual();
        manual.spawn("a", || 1, |x| x).unwrap();
        manual.spawn("b", || 2, |x| x).unwrap();
        assert_eq!(manual.queued(), vec!["a", "b"]);
        assert!(manual.poll().is_empty());
        assert_eq!(manual.run_queued(Some("b")), 1);
        assert_eq!(manual.poll(), vec![2]);
        assert_eq!(manual.run_queued(None), 1);
        assert_eq!(manual.poll(), vec![1]);
    }

    #[test]
    fn scoped_spawns_wrap_the_features_messages() {
        #[derive(Debug, PartialEq)]
        enum Outer {
            Feature(u8),
        }
        let mut tasks: Tasks<Outer> = Tasks::new(Runner::Inline, Arc::new(|| {}));
        tasks
            .scoped(Outer::Feature)
            .spawn("f", || 7u8, |x| x + 1)
            .unwrap();
        assert_eq!(tasks.poll(), vec![Outer::Feature(8)]);
    }

    #[test]
    fn pending_is_asked_once() {
        let mut p: Pending<u8> = Pending::default();
        assert!(p.ask());
        assert!(!p.ask(), "asked once");
        assert!(p.is_running());
        p = Pending::Done(3);
        assert_eq!(p.done(), Some(&3));
        assert!(!p.ask());
    }
}
