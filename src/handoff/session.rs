//! `portwise run` for a front end that cannot block: the whole run (plan,
//! claim, start, watch, wait) on a named thread, the program's output
//! collected line by line, its state readable at any time, and a stop
//! button. The window's "Run a command with this port" uses it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Progress, RunError, RunRequest, plan};
use crate::platform::handoff as os;

/// Lines of output kept (the oldest are dropped first).
pub const MAX_LINES: usize = 2000;

/// Longest line kept, in characters; longer ones are cut.
const MAX_LINE_CHARS: usize = 2000;

/// How long the last output lines are waited for once the program ended.
const READER_GRACE: Duration = Duration::from_secs(1);

/// How long a stopped program gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Where a session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Picking the port, starting the program.
    Starting,
    /// `none` mode: the program runs but has not bound the port yet.
    WaitingForBind,
    /// The program has the port.
    Serving,
    /// The program ended: its exit code (shell convention) and how.
    Exited { code: u8, how: String },
    /// It did not run, or was stopped for not binding: the message and
    /// the exit code `portwise run` would have returned.
    Failed { code: u8, message: String },
}

impl Status {
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            Status::Starting | Status::WaitingForBind | Status::Serving
        )
    }
}

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// portwise's own notes.
    Portwise,
}

/// One line of output, made safe to show: invalid UTF-8 replaced, control
/// characters (terminal escapes included) shown as `\u{1b}` and the like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub stream: Stream,
    pub text: String,
}

/// What a front end reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    pub port: Option<u16>,
    pub pid: Option<u32>,
    pub lines: VecDeque<Line>,
    /// Lines dropped because the buffer was full.
    pub dropped: usize,
}

/// A run on its own thread.
pub struct Session {
    state: Arc<Mutex<State>>,
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

/// Text from the program as it may be shown.
pub fn safe_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\n', '\r']);
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if i >= MAX_LINE_CHARS {
            out.push('…');
            break;
        }
        if c == '\t' || !c.is_control() {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn push(state: &Mutex<State>, stream: Stream, text: String) {
    let mut s = lock(state);
    if s.lines.len() >= MAX_LINES {
        s.lines.pop_front();
        s.dropped += 1;
    }
    s.lines.push_back(Line { stream, text });
}

fn set_status(state: &Mutex<State>, status: Status) {
    lock(state).status = status;
}

fn read_lines(
    name: &str,
    from: impl Read + Send + 'static,
    stream: Stream,
    state: Arc<Mutex<State>>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut reader = BufReader::new(from);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => push(&state, stream, safe_text(&buf)),
                }
            }
        })
}

impl Session {
    /// Starts `request` on a named thread. The program's stdin is empty;
    /// stdout and stderr are collected.
    pub fn start(request: RunRequest) -> std::io::Result<Session> {
        let state = Arc::new(Mutex::new(State {
            status: Status::Starting,
            port: None,
            pid: None,
            lines: VecDeque::new(),
            dropped: 0,
        }));
        let (stop, stop_rx) = mpsc::channel();
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("portwise-run".into())
            .spawn(move || {
                let status = match drive(request, &shared, &stop_rx) {
                    Ok(s) => s,
                    Err(e) => Status::Failed {
                        code: e.exit_code(),
                        message: e.message().to_string(),
                    },
                };
                set_status(&shared, status);
            })?;
        Ok(Session {
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// A copy of the current state.
    pub fn state(&self) -> State {
        lock(&self.state).clone()
    }

    /// What changes when the state does, read without copying the lines:
    /// the status, port, pid and how many lines arrived in all. A front end
    /// that polls this learns of new output without cloning the buffer.
    pub fn progress(&self) -> (Status, Option<u16>, Option<u32>, usize) {
        let s = lock(&self.state);
        (s.status.clone(), s.port, s.pid, s.lines.len() + s.dropped)
    }

    /// Asks the program to stop (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&self) {
        let _ = self.stop.send(());
    }

    /// Whether the session's thread has finished.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for Session {
    /// The program does not outlive its session: stop it and wait (at most
    /// the stop grace, then it is killed).
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The run, on the session's thread.
fn drive(
    request: RunRequest,
    state: &Arc<Mutex<State>>,
    stop: &Receiver<()>,
) -> Result<Status, RunError> {
    let plan = plan(request)?;
    let claim = plan.claim()?;
    lock(state).port = Some(claim.port);
    for note in &claim.notes {
        push(state, Stream::Portwise, note.clone());
    }
    let mut running = plan.start(claim, |cmd| {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    })?;
    lock(state).pid = Some(running.child.id());
    let mut readers = Vec::new();
    if let Some(out) = running.child.stdout.take() {
        readers.push(read_lines(
            "portwise-run-out",
            out,
            Stream::Stdout,
            Arc::clone(state),
        ));
    }
    if let Some(err) = running.child.stderr.take() {
        readers.push(read_lines(
            "portwise-run-err",
            err,
            Stream::Stderr,
            Arc::clone(state),
        ));
    }
    let finish = |running: &mut super::Running, stopped: bool| -> Result<Status, RunError> {
        let status = if stopped {
            running.stop(STOP_GRACE)?
        } else {
            running.wait()?
        };
        Ok(Status::Exited {
            code: os::exit_code(status),
            how: os::status_text(status),
        })
    };
    let result = loop {
        let progress = running.poll();
        for note in running.take_notes() {
            push(state, Stream::Portwise, note);
        }
        match progress {
            Ok(Progress::WaitingForBind) => set_status(state, Status::WaitingForBind),
            Ok(Progress::Serving) => set_status(state, Status::Serving),
            Ok(Progress::Exited(_)) => break finish(&mut running, false),
            Err(e) => {
                push(state, Stream::Portwise, e.message().to_string());
                let _ = running.stop(STOP_GRACE);
                break Err(e);
            }
        }
        match stop.recv_timeout(Duration::from_millis(50)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break finish(&mut running, true),
            Err(RecvTimeoutError::Timeout) => {}
        }
    };
    // The readers end when the program (and anything it started that kept
    // its output open) has closed the pipes. Wait a little for the last
    // lines, but not forever: a grandchild may hold the pipes open.
    let until = std::time::Instant::now() + READER_GRACE;
    for r in readers.into_iter().flatten() {
        while !r.is_finished() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if r.is_finished() {
            let _ = r.join();
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_made_safe() {
        assert_eq!(safe_text(b"plain\tline\r\n"), "plain\tline");
        assert_eq!(safe_text(b"\x1b[31mred\x07"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(safe_text(b"bad \xff byte"), "bad \u{fffd} byte");
        let long = vec![b'x'; MAX_LINE_CHARS + 10];
        assert_eq!(safe_text(&long).chars().count(), MAX_LINE_CHARS + 1);
    }
}
