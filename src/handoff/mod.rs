//! Run a program with a port nobody else can take in between
//! (`portwise run`): pick a port the way `free` does, claim it, and start
//! the program with it.
//!
//! Three modes ([`FdMode`]):
//! - `systemd`: portwise binds and listens; the program inherits the
//!   listening socket as descriptor 3 with `LISTEN_FDS=1`,
//!   `LISTEN_PID=<its pid>` and `LISTEN_FDNAMES` (systemd's socket
//!   activation protocol, sd_listen_fds(3)).
//! - `fd`: the same socket at a chosen descriptor number, `{fd}` in the
//!   arguments replaced by it (`uvicorn --fd {fd}`,
//!   `gunicorn --bind fd://{fd}`).
//! - `none`: the program binds the port itself. Until it does, portwise
//!   keeps the port reserved so that plain binds by others fail, and it
//!   watches the socket table to see the program's own socket appear.
//!
//! In every mode `{port}` in the arguments and an environment variable
//! (`PORT` by default) carry the number.
//!
//! The pieces: [`plan`] checks the request and finds the executable (no
//! socket yet), [`Plan::claim`] takes the port, [`Plan::start`] starts the
//! program, and [`Running::poll`] follows it.

pub mod claim;
pub mod running;
pub mod session;
pub mod words;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::platform::handoff::{self as os, ChildSpec, Resolved};
use crate::ports::Strategy;
use crate::sockets::Proto;

pub use claim::{Claim, Hold};
pub use running::{Progress, Running};
pub use session::Session;

/// The first descriptor of systemd's protocol (`SD_LISTEN_FDS_START` in
/// systemd's sd-daemon.h).
pub const SD_LISTEN_FDS_START: i32 = 3;

/// The highest descriptor number `--fd` accepts: enough for any server,
/// and below the usual soft limit of 1024 open files.
pub const MAX_FD: i32 = 1023;

/// The environment variables of systemd's protocol. portwise sets them in
/// `systemd` mode and removes any inherited ones otherwise (they would
/// describe some other process's descriptors).
pub const LISTEN_VARS: [&str; 3] = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"];

/// How the program gets the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FdMode {
    /// The listening socket at descriptor 3, with `LISTEN_FDS`.
    Systemd,
    /// The listening socket at a chosen descriptor number.
    Fd,
    /// No socket: the program binds the port itself.
    None,
}

impl FdMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FdMode::Systemd => "systemd",
            FdMode::Fd => "fd",
            FdMode::None => "none",
        }
    }

    /// Whether a socket is handed to the program.
    pub fn passes_socket(self) -> bool {
        self != FdMode::None
    }
}

impl fmt::Display for FdMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FdMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "systemd" => Ok(FdMode::Systemd),
            "fd" => Ok(FdMode::Fd),
            "none" => Ok(FdMode::None),
            _ => Err(format!(
                "unknown fd mode '{}' (expected systemd, fd or none)",
                s.trim()
            )),
        }
    }
}

/// Everything `portwise run` was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    pub strategy: Strategy,
    /// This very port instead of a pick (`--port`): for a port chosen
    /// earlier, e.g. grabbed and reserved in the window. Taken with
    /// SO_REUSEADDR, so portwise's own TIME_WAIT reservation of it does not
    /// stand in the way; a listener on it does.
    pub port: Option<u16>,
    pub proto: Proto,
    /// Where the handed-over socket is bound (`systemd`, `fd`), and the
    /// host of the printed URL.
    pub addr: IpAddr,
    /// The IPv6 scope (interface index) of a link-local `addr`; 0 for none.
    pub scope_id: u32,
    /// The environment variable that carries the port.
    pub env_name: String,
    pub mode: FdMode,
    /// The descriptor number in `fd` mode (always 3 in `systemd` mode).
    pub fd: i32,
    /// `LISTEN_FDNAMES` in `systemd` mode.
    pub fd_name: String,
    /// How long `none` mode waits for the program's own socket.
    pub bind_timeout: Duration,
    /// The program and its arguments, `{port}` / `{fd}` not yet replaced.
    pub command: Vec<OsString>,
}

impl RunRequest {
    /// The defaults of `portwise run -- COMMAND...`.
    pub fn new(command: Vec<OsString>) -> RunRequest {
        RunRequest {
            strategy: Strategy::OutsideEphemeral,
            port: None,
            proto: Proto::Tcp,
            addr: IpAddr::from([127, 0, 0, 1]),
            scope_id: 0,
            env_name: "PORT".into(),
            mode: FdMode::None,
            fd: SD_LISTEN_FDS_START,
            fd_name: "portwise".into(),
            bind_timeout: Duration::from_secs(30),
            command,
        }
    }

    /// Where the handed-over socket is bound.
    pub fn socket_addr(&self, port: u16) -> std::net::SocketAddr {
        match self.addr {
            IpAddr::V6(a) => std::net::SocketAddrV6::new(a, port, 0, self.scope_id).into(),
            a => std::net::SocketAddr::new(a, port),
        }
    }

    /// The descriptor the program finds the socket at, if one is passed.
    pub fn target_fd(&self) -> Option<i32> {
        match self.mode {
            FdMode::Systemd => Some(SD_LISTEN_FDS_START),
            FdMode::Fd => Some(self.fd),
            FdMode::None => None,
        }
    }
}

/// Why the program did not run, or did not get its port. Each kind has
/// its exit code (see [`RunError::exit_code`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// Bad usage (exit 2).
    Usage(String),
    /// No port, or the OS refused something (exit 1).
    Failed(String),
    /// The program was not found (exit 127, as in the shell).
    NotFound(String),
    /// The program was found but cannot be run (exit 126, as in the shell).
    NotExecutable(String),
    /// `none` mode: the program did not bind the port in time; it was
    /// stopped (exit 124, as timeout(1) uses).
    NeverBound(String),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Usage(_) => 2,
            RunError::Failed(_) => 1,
            RunError::NotFound(_) => 127,
            RunError::NotExecutable(_) => 126,
            RunError::NeverBound(_) => 124,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            RunError::Usage(m)
            | RunError::Failed(m)
            | RunError::NotFound(m)
            | RunError::NotExecutable(m)
            | RunError::NeverBound(m) => m,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for RunError {}

/// A program name or argument as it may be shown (lossy, control
/// characters escaped).
pub fn shown(s: &OsStr) -> String {
    s.to_string_lossy().escape_debug().to_string()
}

/// Checks a name for the port's environment variable: not empty, no `=`,
/// no NUL.
fn check_env_name(name: &str) -> Result<(), RunError> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(RunError::Usage(format!(
            "invalid --env '{}' (expected a variable name such as PORT, without '=')",
            name.escape_debug()
        )));
    }
    if LISTEN_VARS.contains(&name) {
        return Err(RunError::Usage(format!(
            "invalid --env '{name}': portwise manages {name} itself (systemd's protocol)"
        )));
    }
    Ok(())
}

/// systemd's rule for a descriptor name (`fdname_is_valid()`,
/// src/basic/fd-util.c): 1-255 printable ASCII characters, no `:`.
fn check_fd_name(name: &str) -> Result<(), RunError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b':');
    if ok {
        Ok(())
    } else {
        Err(RunError::Usage(format!(
            "invalid --fd-name '{}' (expected 1-255 printable ASCII characters without ':')",
            name.escape_debug()
        )))
    }
}

/// A checked request with its executable found: ready to claim a port.
#[derive(Clone, Debug)]
pub struct Plan {
    pub request: RunRequest,
    /// Where the executable is.
    pub program: std::path::PathBuf,
}

/// Checks the request (usage errors) and finds the executable (127, 126),
/// before any port is taken.
pub fn plan(request: RunRequest) -> Result<Plan, RunError> {
    let Some(first) = request.command.first() else {
        return Err(RunError::Usage(
            "no command given: portwise run [OPTIONS] -- COMMAND [ARGS...]".into(),
        ));
    };
    if first.is_empty() {
        return Err(RunError::Usage("the command is an empty string".into()));
    }
    check_env_name(&request.env_name)?;
    if request.mode.passes_socket()
        && let Err(why) = os::SOCKET_HANDOFF
    {
        return Err(RunError::Usage(format!(
            "--fd-mode {} is not available: {why}",
            request.mode
        )));
    }
    match request.mode {
        FdMode::Fd if !(SD_LISTEN_FDS_START..=MAX_FD).contains(&request.fd) => {
            return Err(RunError::Usage(format!(
                "invalid --fd {} (expected {SD_LISTEN_FDS_START} to {MAX_FD}; 0-2 are stdin, stdout and stderr)",
                request.fd
            )));
        }
        FdMode::Systemd => check_fd_name(&request.fd_name)?,
        FdMode::None => {
            if request
                .command
                .iter()
                .any(|a| a.to_string_lossy().contains("{fd}"))
            {
                return Err(RunError::Usage(
                    "{fd} in the command needs --fd-mode fd or systemd (with --fd-mode none no socket is passed)"
                        .into(),
                ));
            }
        }
        FdMode::Fd => {}
    }
    let path = std::env::var_os("PATH");
    let program = match os::resolve_program(first, path.as_deref()) {
        Resolved::Found(p) => p,
        Resolved::NotFound => {
            return Err(RunError::NotFound(format!(
                "cannot run '{}': no such program{}",
                shown(first),
                if first.to_string_lossy().contains('/') {
                    ""
                } else {
                    " in PATH"
                }
            )));
        }
        Resolved::NotExecutable(p) => {
            return Err(RunError::NotExecutable(format!(
                "cannot run '{}': {} is not an executable file (check its permissions)",
                shown(first),
                shown(p.as_os_str())
            )));
        }
    };
    Ok(Plan { request, program })
}

/// Replaces `{port}` and `{fd}` in one argument.
pub fn substitute(arg: &OsStr, port: u16, fd: Option<i32>) -> OsString {
    let Some(text) = arg.to_str() else {
        // Not UTF-8: left as it is (the placeholders are ASCII, but
        // replacing inside arbitrary bytes portably is not worth it).
        return arg.to_os_string();
    };
    if !text.contains('{') {
        return arg.to_os_string();
    }
    let mut out = text.replace("{port}", &port.to_string());
    if let Some(fd) = fd {
        out = out.replace("{fd}", &fd.to_string());
    }
    OsString::from(out)
}

/// What the program is told, printed by `--print` before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Announce {
    pub port: u16,
    pub proto: Proto,
    pub addr: IpAddr,
    /// `http://127.0.0.1:PORT/` for TCP (`udp://...` for UDP); a wildcard
    /// address is shown as its loopback, where a client can reach it.
    pub url: String,
    pub fd_mode: FdMode,
    /// The descriptor the socket is at, if one is passed.
    pub fd: Option<i32>,
    /// The environment variable carrying the port.
    pub env: String,
}

impl Plan {
    /// The program's full specification for `port`: arguments with the
    /// placeholders replaced, and the environment (this process's, with
    /// the port variable set and systemd's variables set or removed).
    pub fn spec(&self, port: u16) -> ChildSpec {
        let req = &self.request;
        let fd = req.target_fd();
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
            .filter(|(k, _)| {
                k.as_os_str() != OsStr::new(&req.env_name)
                    && !LISTEN_VARS.iter().any(|v| k.as_os_str() == OsStr::new(v))
            })
            .collect();
        env.push((req.env_name.clone().into(), port.to_string().into()));
        if req.mode == FdMode::Systemd {
            env.push(("LISTEN_FDS".into(), "1".into()));
            env.push(("LISTEN_FDNAMES".into(), req.fd_name.clone().into()));
            // LISTEN_PID is written by the child itself, after fork
            // (platform::handoff).
        }
        ChildSpec {
            program: self.program.clone(),
            arg0: req.command.first().cloned().unwrap_or_default(),
            args: req
                .command
                .iter()
                .skip(1)
                .map(|a| substitute(a, port, fd))
                .collect(),
            env,
        }
    }

    /// What `--print` shows.
    pub fn announce(&self, port: u16) -> Announce {
        let req = &self.request;
        let host = match req.addr {
            IpAddr::V4(a) if a.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            IpAddr::V6(a) if a.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            a => a,
        };
        let mut endpoint = String::new();
        match host {
            // RFC 6874: the zone in a URL is "%25" + the zone id.
            IpAddr::V6(a) if req.scope_id != 0 => {
                endpoint = format!("[{a}%25{}]:{port}", req.scope_id);
            }
            _ => crate::sockets::write_endpoint(&mut endpoint, &host, port),
        }
        let url = match req.proto {
            Proto::Tcp => format!("http://{endpoint}/"),
            Proto::Udp => format!("udp://{endpoint}"),
        };
        Announce {
            port,
            proto: req.proto,
            addr: req.addr,
            url,
            fd_mode: req.mode,
            fd: req.target_fd(),
            env: req.env_name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cmd: &[&str]) -> RunRequest {
        RunRequest::new(cmd.iter().map(OsString::from).collect())
    }

    fn err(r: Result<Plan, RunError>) -> RunError {
        match r {
            Err(e) => e,
            Ok(p) => panic!("expected an error, got {p:?}"),
        }
    }

    #[test]
    fn placeholders_are_replaced() {
        assert_eq!(
            substitute(OsStr::new("--bind=127.0.0.1:{port}"), 8123, None),
            OsString::from("--bind=127.0.0.1:8123")
        );
        assert_eq!(
            substitute(OsStr::new("fd://{fd}"), 8123, Some(5)),
            OsString::from("fd://5")
        );
        assert_eq!(
            substitute(OsStr::new("{fd}"), 8123, None),
            OsString::from("{fd}")
        );
        assert_eq!(
            substitute(OsStr::new("{port}{port}"), 1, None),
            OsString::from("11")
        );
    }

    #[test]
    fn bad_requests_are_usage_errors() {
        assert_eq!(err(plan(req(&[]))).exit_code(), 2);
        assert_eq!(err(plan(req(&[""]))).exit_code(), 2);
        let e = err(plan(req(&["sh", "-c", "echo {fd}"])));
        assert!(e.message().contains("{fd}"), "{e}");
        let mut r = req(&["sh"]);
        r.env_name = "A=B".into();
        assert!(err(plan(r)).message().contains("'A=B'"));
        let mut r = req(&["sh"]);
        r.env_name = "LISTEN_FDS".into();
        assert_eq!(err(plan(r)).exit_code(), 2);
        let mut r = req(&["sh"]);
        r.mode = FdMode::Fd;
        r.fd = 2;
        if os::SOCKET_HANDOFF.is_ok() {
            assert!(err(plan(r)).message().contains("invalid --fd 2"));
        }
        let mut r = req(&["sh"]);
        r.mode = FdMode::Systemd;
        r.fd_name = "a:b".into();
        if os::SOCKET_HANDOFF.is_ok() {
            assert!(err(plan(r)).message().contains("'a:b'"));
        }
    }

    #[test]
    fn missing_programs_are_127() {
        if crate::platform::OS_NAME == "windows" {
            // Windows searches PATH and PATHEXT when the child starts
            // (platform/handoff/windows.rs): a missing program is reported
            // by the spawn, not by the plan.
            eprintln!("SKIPPED: on Windows the spawn, not the plan, finds the program");
            return;
        }
        let e = err(plan(req(&["portwise-no-such-program-xyz"])));
        assert_eq!(e.exit_code(), 127);
        assert!(e.message().contains("portwise-no-such-program-xyz"), "{e}");
    }

    #[test]
    fn environment_carries_the_port_and_systemd_vars() {
        let mut r = req(&["sh", "-c", "x {port}"]);
        r.mode = FdMode::Systemd;
        r.env_name = "MY_PORT".into();
        let Ok(p) = plan(r) else {
            return; // no sh here, or no handoff on this OS
        };
        let spec = p.spec(4242);
        let get = |k: &str| {
            spec.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("MY_PORT").as_deref(), Some("4242"));
        assert_eq!(get("LISTEN_FDS").as_deref(), Some("1"));
        assert_eq!(get("LISTEN_FDNAMES").as_deref(), Some("portwise"));
        assert_eq!(get("LISTEN_PID"), None);
        assert_eq!(
            spec.args,
            vec![OsString::from("-c"), OsString::from("x 4242")]
        );
        let a = p.announce(4242);
        assert_eq!(a.url, "http://127.0.0.1:4242/");
        assert_eq!(a.fd, Some(3));
    }

    #[test]
    fn fd_mode_parses() {
        assert_eq!("Systemd".parse::<FdMode>(), Ok(FdMode::Systemd));
        assert!("pipe".parse::<FdMode>().unwrap_err().contains("'pipe'"));
    }
}
