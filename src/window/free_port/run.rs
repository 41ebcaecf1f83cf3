//! "Run a command with this port": the Free port view hands the grabbed
//! port to a program, as `portwise run --port N -- COMMAND` does (the
//! engine's [`handoff::session::Session`]: `$PORT` and `{port}` carry the
//! number, the port is held until the program binds it), and shows the
//! program's output and state while it runs.
//!
//! The session runs on its own named thread. A watcher thread
//! (`portwise-run-watch`) polls its progress every 50 ms without copying
//! the output, and asks the window for a frame only when something
//! changed; [`tick`] then copies the new state in. No egui here.

use std::ffi::OsString;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::handoff::session::{Session, State, Status};
use crate::handoff::{RunRequest, words};
use crate::ports::ProtoChoice;
use crate::sockets::Proto;
use crate::window::tasks::Wake;

/// How often the watcher looks at the session.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// A running (or finished) session, shared by clones of the state.
#[derive(Clone)]
pub struct Handle {
    session: Arc<Session>,
    /// Set by the watcher when the session changed since the last [`tick`].
    changed: Arc<AtomicBool>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    pub fn stop(&self) {
        self.session.stop();
    }
}

/// The command run last, and what it has done so far.
#[derive(Clone, Debug)]
pub struct RunView {
    /// The command line as typed.
    pub command: String,
    /// The port it was given.
    pub port: u16,
    /// The latest state copied from the session.
    pub state: State,
    pub handle: Handle,
}

impl RunView {
    pub fn is_running(&self) -> bool {
        self.state.status.is_running()
    }
}

/// The engine request for `line` with `port`: the words of the line, the
/// port given as `--port` gives it, TCP unless the grab was for UDP.
pub fn request(line: &str, port: u16, proto: ProtoChoice) -> Result<RunRequest, String> {
    let words = words::split(line)?;
    if words.is_empty() {
        return Err("Type a command to run, e.g. python3 -m http.server {port}".into());
    }
    let mut req = RunRequest::new(words.into_iter().map(OsString::from).collect());
    req.port = Some(port);
    if proto == ProtoChoice::Udp {
        req.proto = Proto::Udp;
    }
    Ok(req)
}

/// Start `req` and its watcher; `wake` asks the window for a frame.
pub fn start(command: String, port: u16, req: RunRequest, wake: Wake) -> Result<RunView, String> {
    let session = Session::start(req).map_err(|e| format!("Cannot start the run thread: {e}"))?;
    let session = Arc::new(session);
    let changed = Arc::new(AtomicBool::new(true));
    watch(Arc::downgrade(&session), Arc::clone(&changed), wake)
        .map_err(|e| format!("Cannot start the watcher thread: {e}"))?;
    let state = session.state();
    Ok(RunView {
        command,
        port,
        state,
        handle: Handle { session, changed },
    })
}

/// Poll the session until it has finished (or the view let it go), and
/// wake the window when its progress changed.
fn watch(session: Weak<Session>, changed: Arc<AtomicBool>, wake: Wake) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("portwise-run-watch".into())
        .spawn(move || {
            let mut seen = None;
            loop {
                let Some(s) = session.upgrade() else { return };
                let now = s.progress();
                let finished = s.is_finished();
                drop(s);
                if seen.as_ref() != Some(&now) || finished {
                    seen = Some(now);
                    changed.store(true, Ordering::SeqCst);
                    wake();
                }
                if finished {
                    return;
                }
                std::thread::sleep(WATCH_EVERY);
            }
        })
        .map(|_| ())
}

/// Copy the session's state in when the watcher saw a change. Cheap when
/// nothing changed (one atomic load), so it runs every frame.
pub fn tick(f: &mut super::FreePortState) {
    if let Some(r) = &mut f.run
        && r.handle.changed.swap(false, Ordering::SeqCst)
    {
        r.state = r.handle.session.state();
    }
}

/// The state in words, e.g. "serving on port 41234 (pid 1234)".
pub fn status_text(r: &RunView) -> String {
    let pid = r
        .state
        .pid
        .map(|p| format!(" (pid {p})"))
        .unwrap_or_default();
    match &r.state.status {
        Status::Starting => format!("starting on port {}", r.port),
        Status::WaitingForBind => format!(
            "running{pid}, waiting for it to bind port {}; portwise holds the port until then",
            r.port
        ),
        Status::Serving => format!("serving on port {}{pid}", r.port),
        Status::Exited { code, how } => format!("exited: {how} (exit code {code})"),
        Status::Failed { code, message } => format!("failed: {message} (exit code {code})"),
    }
}

/// `PORT=41234`, for a shell or an `.env` file.
pub fn port_env_text(port: u16) -> String {
    format!("PORT={port}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::FdMode;

    #[test]
    fn the_typed_line_becomes_a_run_request_for_the_grabbed_port() {
        let req = request("node 'my server.js' --port {port}", 41234, ProtoChoice::Tcp).unwrap();
        let words: Vec<&str> = req.command.iter().filter_map(|w| w.to_str()).collect();
        assert_eq!(words, ["node", "my server.js", "--port", "{port}"]);
        assert_eq!(req.port, Some(41234));
        assert_eq!(req.proto, Proto::Tcp);
        assert_eq!(req.env_name, "PORT");
        assert_eq!(req.mode, FdMode::None);
        let udp = request("dnsd", 5300, ProtoChoice::Udp).unwrap();
        assert_eq!(udp.proto, Proto::Udp);
    }

    #[test]
    fn an_empty_or_broken_line_says_why() {
        assert!(
            request("   ", 1, ProtoChoice::Tcp)
                .unwrap_err()
                .contains("Type a command")
        );
        assert!(request("echo 'open", 1, ProtoChoice::Tcp).is_err());
        assert_eq!(port_env_text(41234), "PORT=41234");
    }
}
