//! Starting the program and following it: in `none` mode, until its own
//! socket shows up in the socket table (then the reservation is let go);
//! in every mode, until it ends.

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use super::{Claim, FdMode, Hold, Plan, RunError, shown};
use crate::platform::handoff::{self as os, Pass};
use crate::sockets::raw::RawSocket;
use crate::sockets::{Proto, TcpState};

/// How often `none` mode reads the socket table while it waits.
const TABLE_EVERY: Duration = Duration::from_millis(100);

/// Where a running program stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// `none` mode: the program has not bound the port yet.
    WaitingForBind,
    /// The program has the port: handed over, or seen in the socket table.
    Serving,
    /// The program ended.
    Exited(ExitStatus),
}

/// A started program and its port.
#[derive(Debug)]
pub struct Running {
    pub child: Child,
    pub port: u16,
    proto: Proto,
    /// What portwise still holds: `None` once the program has the port.
    claim: Option<Claim>,
    /// Whether a reservation held the port against plain binds while the
    /// program started (`none` mode).
    reserved: bool,
    /// `none` mode: the socket table is watched for the program's socket.
    watching: bool,
    /// The program's socket was seen.
    bind_seen: bool,
    own_ids: Vec<u64>,
    started: Instant,
    bind_timeout: Duration,
    last_check: Option<Instant>,
    /// The program, as it may be shown in messages.
    pub name: String,
    env_name: String,
    /// What the caller should tell the user (taken with `take_notes`).
    notes: Vec<String>,
    exited: Option<ExitStatus>,
}

impl Plan {
    /// Starts the program with `claim`'s port. `configure` may set the
    /// program's stdin/stdout/stderr (the CLI lets it inherit portwise's).
    /// A handed-over socket is closed on portwise's side at once: from then
    /// on the port is the program's alone.
    pub fn start(
        &self,
        mut claim: Claim,
        configure: impl FnOnce(&mut Command),
    ) -> Result<Running, RunError> {
        let req = &self.request;
        let spec = self.spec(claim.port);
        let name = shown(&spec.arg0);
        let pass = match (claim.socket(), req.target_fd()) {
            (Some(socket), Some(target_fd)) => Some(Pass {
                socket,
                target_fd,
                listen_pid: req.mode == FdMode::Systemd,
            }),
            _ => None,
        };
        let mut cmd = os::command(&spec, pass).map_err(|e| match e.kind() {
            io::ErrorKind::Unsupported | io::ErrorKind::InvalidInput => {
                RunError::Usage(format!("cannot run '{name}': {e}"))
            }
            _ => RunError::Failed(format!("cannot prepare '{name}': {e}")),
        })?;
        configure(&mut cmd);
        let child = cmd.spawn().map_err(|e| spawn_error(&name, &e))?;
        // Closes portwise's copy of the descriptor made for the child.
        drop(cmd);
        let own_ids = claim.own_ids.clone();
        let reserved = matches!(claim.hold, Hold::Held(_) | Hold::TimeWait(_));
        let claim = if req.mode.passes_socket() {
            claim.release();
            None
        } else {
            Some(claim)
        };
        Ok(Running {
            child,
            port: spec_port(&spec, &req.env_name),
            proto: req.proto,
            claim,
            reserved: reserved && !req.mode.passes_socket(),
            watching: !req.mode.passes_socket(),
            bind_seen: false,
            own_ids,
            started: Instant::now(),
            bind_timeout: req.bind_timeout,
            last_check: None,
            name,
            env_name: req.env_name.clone(),
            notes: Vec::new(),
            exited: None,
        })
    }
}

/// The port the program was given (read back from its environment, where
/// [`Plan::spec`] put it).
fn spec_port(spec: &crate::platform::handoff::ChildSpec, env_name: &str) -> u16 {
    spec.env
        .iter()
        .rev()
        .find(|(k, _)| k.as_os_str() == std::ffi::OsStr::new(env_name))
        .and_then(|(_, v)| v.to_str()?.parse().ok())
        .unwrap_or(0)
}

fn spawn_error(name: &str, e: &io::Error) -> RunError {
    match e.kind() {
        io::ErrorKind::NotFound => RunError::NotFound(format!("cannot run '{name}': {e}")),
        _ => RunError::NotExecutable(format!("cannot run '{name}': {e}")),
    }
}

impl Running {
    /// Whether the program ended (or is) still without the port being seen
    /// bound: `none` mode before the socket table showed its socket.
    pub fn bind_unseen(&self) -> bool {
        self.watching && !self.bind_seen
    }

    /// Whether portwise still holds a reservation (`none` mode, before the
    /// program's bind).
    pub fn holds_reservation(&self) -> bool {
        self.claim.is_some()
    }

    /// What to add when the program ended with an error before binding:
    /// the reservation refuses binds without SO_REUSEADDR, the program's
    /// own included.
    pub fn early_exit_hint(&self) -> Option<String> {
        self.reserved.then(|| {
            "if it failed with \"Address already in use\", it binds without SO_REUSEADDR, \
             which the reservation refuses: hand it the socket instead (--fd-mode systemd or fd)"
                .to_string()
        })
    }

    /// Notes gathered since the last call (a reservation let go early).
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// One look: has the program ended, has it bound the port? After
    /// `bind_timeout` without a bind this is [`RunError::NeverBound`]; the
    /// caller then stops the program ([`Running::stop`]).
    pub fn poll(&mut self) -> Result<Progress, RunError> {
        if let Some(status) = self.exited {
            return Ok(Progress::Exited(status));
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.exited = Some(status);
                self.claim = None;
                return Ok(Progress::Exited(status));
            }
            Ok(None) => {}
            Err(e) => {
                return Err(RunError::Failed(format!(
                    "cannot follow '{}' (pid {}): {e}",
                    self.name,
                    self.child.id()
                )));
            }
        }
        if self.claim.is_none() {
            return Ok(Progress::Serving);
        }
        let due = self.last_check.is_none_or(|t| t.elapsed() >= TABLE_EVERY);
        if due {
            self.last_check = Some(Instant::now());
            let bound = match someone_else_has(self.proto, self.port, &self.own_ids) {
                Ok(b) => b,
                Err(e) => {
                    // Without the table there is no telling when the program
                    // binds: let the port go now rather than block it.
                    self.notes.push(format!(
                        "cannot read the socket table to see '{}' bind port {} ({e}); the \
                         reservation is released now",
                        self.name, self.port
                    ));
                    true
                }
            };
            if bound {
                // The program's socket is there: let the reservation go.
                self.claim = None;
                self.bind_seen = true;
                return Ok(Progress::Serving);
            }
        }
        if self.started.elapsed() >= self.bind_timeout {
            let waited = seconds(self.bind_timeout);
            return Err(RunError::NeverBound(format!(
                "'{}' (pid {}) did not {} port {} within {}; does it take the port from ${} or \
                 {{port}}? (--bind-timeout waits longer)",
                self.name,
                self.child.id(),
                match self.proto {
                    Proto::Tcp => "listen on",
                    Proto::Udp => "bind",
                },
                self.port,
                waited,
                self.env_name,
            )));
        }
        Ok(Progress::WaitingForBind)
    }

    /// Waits for the program to end (signals are forwarded meanwhile, see
    /// `platform::handoff::install_signal_forwarding`).
    pub fn wait(&mut self) -> Result<ExitStatus, RunError> {
        if let Some(status) = self.exited {
            return Ok(status);
        }
        let status = self.child.wait().map_err(|e| {
            RunError::Failed(format!(
                "cannot wait for '{}' (pid {}): {e}",
                self.name,
                self.child.id()
            ))
        })?;
        self.exited = Some(status);
        self.claim = None;
        Ok(status)
    }

    /// Asks the program to stop (SIGTERM on Unix), waits up to `grace`,
    /// then kills it. Returns how it ended.
    pub fn stop(&mut self, grace: Duration) -> Result<ExitStatus, RunError> {
        if let Some(status) = self.exited {
            return Ok(status);
        }
        let pid = self.child.id();
        if let Ok(Some(status)) = self.child.try_wait() {
            self.exited = Some(status);
            return Ok(status);
        }
        let _ = os::stop_child(&mut self.child, false);
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exited = Some(status);
                self.claim = None;
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = os::stop_child(&mut self.child, true);
        let status = self.child.wait().map_err(|e| {
            RunError::Failed(format!("cannot stop '{}' (pid {pid}): {e}", self.name))
        })?;
        self.exited = Some(status);
        self.claim = None;
        Ok(status)
    }
}

/// "30 s", "0.5 s".
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Whether a socket that is not one of `own` has the port: a TCP
/// listener, or any UDP socket.
fn someone_else_has(proto: Proto, port: u16, own: &[u64]) -> Result<bool, String> {
    let mut found = false;
    crate::platform::SocketTable::dump(
        &crate::platform::HOST,
        &mut |r: RawSocket| {
            if found || r.proto != proto || r.local.port() != port {
                return;
            }
            if r.inode != 0 && own.contains(&r.inode) {
                return;
            }
            found = match proto {
                Proto::Tcp => r.state == Some(TcpState::Listen),
                Proto::Udp => true,
            };
        },
        &mut || {},
        false,
    )?;
    Ok(found)
}
