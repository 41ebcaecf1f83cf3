//! `portwise run`: pick a port the way `free` does and run a program with
//! it, without the race between picking and binding (see `crate::handoff`).
//!
//! Exit codes: the program's own (128 + N when signal N killed it); 2 bad
//! usage; 1 no port or an OS failure; 127 the program was not found; 126 it
//! cannot be run; 124 (`none` mode) it never bound the port within
//! `--bind-timeout`, and was stopped.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use super::args::{parse_addr, parse_port, parse_seconds};
use super::{CliError, CliResult, emit};
use crate::handoff::{self, Announce, FdMode, Progress, RunError, RunRequest};
use crate::platform::handoff as os;
use crate::ports::{PortRange, Strategy};
use crate::sockets::Proto;
use crate::util::text::escape_control as esc;

/// How long a stopped program gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How often `none` mode looks at the program while waiting for its bind.
const POLL: Duration = Duration::from_millis(20);

const AFTER_HELP: &str = "\
Modes (--fd-mode):
  none     (default) The program binds the port itself; it finds the number in $PORT
           (see --env) or in {port} in its arguments. Until it has bound the port, portwise
           keeps it reserved: a plain bind by any other program fails, while the program's
           own bind with SO_REUSEADDR (which servers set) succeeds. Linux holds the port
           with a bound socket; macOS and Windows leave it in TIME_WAIT instead (TCP).
  systemd  portwise binds and listens; the program inherits the listening socket as
           descriptor 3, with LISTEN_FDS=1, LISTEN_PID and LISTEN_FDNAMES (systemd's socket
           activation: listenfd, systemfd, sd_listen_fds). No race at all.
  fd       The same socket at descriptor --fd (default 3); {fd} in the arguments is
           replaced with it: uvicorn --fd {fd}, gunicorn --bind fd://{fd}.
On Windows only `none` is available.

Exit codes: the program's own (128+N if signal N killed it); 2 bad usage; 1 no free port;
127 program not found; 126 program cannot be run; 124 it never bound the port (none mode).

Examples:
  portwise run --print url -- python3 -m http.server {port} --bind 127.0.0.1
  portwise run --fd-mode fd -- uvicorn app:app --fd {fd}
  portwise run --fd-mode systemd -- ./my-listenfd-server";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct RunArgs {
    /// The protocol: tcp (default) or udp.
    #[arg(long, value_name = "tcp|udp")]
    pub proto: Option<String>,
    /// The address the handed-over socket is bound to (default 127.0.0.1);
    /// also the host of --print url.
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<String>,
    /// Pick at random within LO-HI (1-65535) instead of outside the
    /// ephemeral range.
    #[arg(
        long,
        value_name = "LO-HI",
        conflicts_with = "os",
        allow_hyphen_values = true
    )]
    pub range: Option<String>,
    /// Let the OS assign the port (bind port 0).
    #[arg(long)]
    pub os: bool,
    /// Use this port instead of picking one (e.g. one grabbed earlier with
    /// `portwise free --reserve`); fails if another program holds it.
    #[arg(long, value_name = "PORT", conflicts_with_all = ["range", "os"])]
    pub port: Option<String>,
    /// The environment variable that carries the port (default PORT).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// How the program gets the port: none (default), systemd or fd.
    #[arg(long, value_name = "systemd|fd|none")]
    pub fd_mode: Option<String>,
    /// The descriptor number in fd mode (3 to 1023; default 3). Implies
    /// --fd-mode fd.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub fd: Option<String>,
    /// LISTEN_FDNAMES in systemd mode (default portwise).
    #[arg(long, value_name = "NAME")]
    pub fd_name: Option<String>,
    /// none mode: how long to wait for the program to bind the port before
    /// stopping it (default 30).
    #[arg(long, value_name = "SECS")]
    pub bind_timeout: Option<String>,
    /// Write the port to stdout before the program starts: url, port, or
    /// json ({"port", "proto", "addr", "url", "fd_mode", "fd", "env"}).
    #[arg(long, value_name = "url|port|json")]
    pub print: Option<String>,
    /// The program and its arguments; {port} and {fd} are replaced.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

/// What `--print` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintAs {
    Url,
    Port,
    Json,
}

impl std::str::FromStr for PrintAs {
    type Err = CliError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "url" => Ok(PrintAs::Url),
            "port" => Ok(PrintAs::Port),
            "json" => Ok(PrintAs::Json),
            _ => Err(CliError::Usage(format!(
                "invalid --print '{}' (expected url, port or json)",
                esc(s.trim())
            ))),
        }
    }
}

fn usage(e: RunError) -> CliError {
    CliError::Usage(e.message().to_string())
}

/// The flags as a request, or a one-line usage error naming the bad value.
pub fn request_from_args(args: &RunArgs) -> Result<RunRequest, CliError> {
    let mut req = RunRequest::new(args.command.clone());
    if let Some(p) = args.proto.as_deref() {
        req.proto = match p.trim().to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => {
                return Err(CliError::Usage(format!(
                    "invalid --proto '{}' (expected tcp or udp; a program gets one socket)",
                    esc(p.trim())
                )));
            }
        };
    }
    if let Some(a) = args.addr.as_deref() {
        let scoped = parse_addr(a)?;
        req.addr = scoped.ip;
        req.scope_id = scoped.scope_id;
    }
    req.strategy =
        match (&args.range, args.os) {
            (Some(r), _) => Strategy::Range(r.parse::<PortRange>().map_err(|e| {
                CliError::Usage(format!("invalid --range: {}", esc(&e.to_string())))
            })?),
            (None, true) => Strategy::Os,
            (None, false) => Strategy::OutsideEphemeral,
        };
    if let Some(p) = args.port.as_deref() {
        let port = parse_port(p)?;
        if port == 0 {
            return Err(CliError::Usage(
                "invalid --port 0 (use --os to let the OS assign one)".into(),
            ));
        }
        req.port = Some(port);
    }
    if let Some(e) = &args.env {
        req.env_name = e.clone();
    }
    req.mode = match (args.fd_mode.as_deref(), &args.fd) {
        (Some(m), _) => m
            .parse::<FdMode>()
            .map_err(|e| CliError::Usage(esc(&e).into_owned()))?,
        (None, Some(_)) => FdMode::Fd,
        (None, None) => FdMode::None,
    };
    if let Some(fd) = args.fd.as_deref() {
        if req.mode != FdMode::Fd {
            return Err(CliError::Usage(format!(
                "--fd is for --fd-mode fd (systemd mode always uses descriptor 3), not {}",
                req.mode
            )));
        }
        req.fd = fd.trim().parse::<i32>().map_err(|_| {
            CliError::Usage(format!(
                "invalid --fd '{}' (expected a descriptor number from 3 to {})",
                esc(fd),
                handoff::MAX_FD
            ))
        })?;
    }
    if let Some(name) = &args.fd_name {
        if req.mode != FdMode::Systemd {
            return Err(CliError::Usage(
                "--fd-name is for --fd-mode systemd (it sets LISTEN_FDNAMES)".into(),
            ));
        }
        req.fd_name = name.clone();
    }
    if let Some(t) = args.bind_timeout.as_deref() {
        if req.mode != FdMode::None {
            return Err(CliError::Usage(
                "--bind-timeout is for --fd-mode none (with a handed-over socket there is nothing to wait for)"
                    .into(),
            ));
        }
        req.bind_timeout = parse_seconds(t, "--bind-timeout", 0.1)?;
    }
    Ok(req)
}

/// The `--print` text, with its newline.
pub fn render_announce(a: &Announce, how: PrintAs) -> String {
    match how {
        PrintAs::Url => format!("{}\n", a.url),
        PrintAs::Port => format!("{}\n", a.port),
        PrintAs::Json => {
            let mut s = serde_json::to_string(a).unwrap_or_else(|_| "{}".into());
            s.push('\n');
            s
        }
    }
}

/// A failure after the request was understood: its own exit code.
fn fail(e: RunError) -> CliResult {
    if let RunError::Usage(_) = e {
        return Err(usage(e));
    }
    eprintln!("portwise: {}", e.message());
    Ok(ExitCode::from(e.exit_code()))
}

pub fn run(args: RunArgs) -> CliResult {
    let req = request_from_args(&args)?;
    let print = args
        .print
        .as_deref()
        .map(str::parse::<PrintAs>)
        .transpose()?;
    let plan = match handoff::plan(req) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let claim = match plan.claim() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    for note in &claim.notes {
        eprintln!("portwise: note: {note}");
    }
    let port = claim.port;
    if let Some(how) = print {
        emit(&render_announce(&plan.announce(port), how))?;
    }
    // From here on Ctrl-C and SIGTERM no longer end portwise: they reach
    // the program, and its exit code becomes ours.
    if let Err(e) = os::install_signal_forwarding() {
        return fail(RunError::Failed(format!(
            "cannot set up signal forwarding: {e}"
        )));
    }
    let mut running = match plan.start(claim, |_| {}) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    os::forward_signals_to(Some(running.child.id()));
    let result = follow(&mut running);
    os::forward_signals_to(None);
    result
}

/// Until the program ends: in `none` mode, watch for its bind first.
fn follow(running: &mut handoff::Running) -> CliResult {
    loop {
        let progress = running.poll();
        for note in running.take_notes() {
            eprintln!("portwise: note: {note}");
        }
        match progress {
            Ok(Progress::WaitingForBind) => std::thread::sleep(POLL),
            Ok(Progress::Serving) => break,
            Ok(Progress::Exited(status)) if !running.bind_unseen() => {
                return Ok(ExitCode::from(os::exit_code(status)));
            }
            Ok(Progress::Exited(status)) => {
                eprintln!(
                    "portwise: '{}' {} before portwise saw it bind port {}",
                    running.name,
                    os::status_text(status),
                    running.port
                );
                if !status.success()
                    && let Some(hint) = running.early_exit_hint()
                {
                    eprintln!("portwise: {hint}");
                }
                return Ok(ExitCode::from(os::exit_code(status)));
            }
            Err(e) => {
                eprintln!("portwise: {}", e.message());
                match running.stop(STOP_GRACE) {
                    Ok(status) => eprintln!(
                        "portwise: stopped '{}': it {}",
                        running.name,
                        os::status_text(status)
                    ),
                    Err(stop) => eprintln!("portwise: {}", stop.message()),
                }
                return Ok(ExitCode::from(e.exit_code()));
            }
        }
    }
    match running.wait() {
        Ok(status) => Ok(ExitCode::from(os::exit_code(status))),
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cmd: &[&str]) -> RunArgs {
        RunArgs {
            proto: None,
            addr: None,
            range: None,
            os: false,
            port: None,
            env: None,
            fd_mode: None,
            fd: None,
            fd_name: None,
            bind_timeout: None,
            print: None,
            command: cmd.iter().map(OsString::from).collect(),
        }
    }

    fn usage_msg(a: RunArgs) -> String {
        match request_from_args(&a) {
            Err(CliError::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn flags_become_a_request() {
        let r = request_from_args(&args(&["srv"])).unwrap();
        assert_eq!(r, RunRequest::new(vec!["srv".into()]));
        let r = request_from_args(&RunArgs {
            fd: Some("5".into()),
            range: Some("20000-20010".into()),
            env: Some("HTTP_PORT".into()),
            ..args(&["srv"])
        })
        .unwrap();
        assert_eq!((r.mode, r.fd), (FdMode::Fd, 5));
        assert_eq!(r.env_name, "HTTP_PORT");
        assert_eq!(
            r.strategy,
            Strategy::Range(PortRange::new(20000, 20010).unwrap())
        );
    }

    #[test]
    fn bad_flags_name_themselves() {
        assert!(
            usage_msg(RunArgs {
                proto: Some("both".into()),
                ..args(&["x"])
            })
            .contains("'both'")
        );
        assert!(
            usage_msg(RunArgs {
                fd_mode: Some("pipe".into()),
                ..args(&["x"])
            })
            .contains("'pipe'")
        );
        assert!(
            usage_msg(RunArgs {
                fd: Some("three".into()),
                ..args(&["x"])
            })
            .contains("'three'")
        );
        assert!(
            usage_msg(RunArgs {
                fd_mode: Some("systemd".into()),
                fd: Some("4".into()),
                ..args(&["x"])
            })
            .contains("--fd is for --fd-mode fd")
        );
        assert!(
            usage_msg(RunArgs {
                bind_timeout: Some("-1".into()),
                ..args(&["x"])
            })
            .contains("'-1'")
        );
        assert!(
            usage_msg(RunArgs {
                addr: Some("localhost:80".into()),
                ..args(&["x"])
            })
            .contains("'localhost:80'")
        );
        assert!(matches!(
            "xml".parse::<PrintAs>(),
            Err(CliError::Usage(m)) if m.contains("'xml'")
        ));
    }

    #[test]
    fn announce_renders() {
        let a = Announce {
            port: 41234,
            proto: Proto::Tcp,
            addr: "::1".parse().unwrap(),
            url: "http://[::1]:41234/".into(),
            fd_mode: FdMode::Fd,
            fd: Some(3),
            env: "PORT".into(),
        };
        assert_eq!(render_announce(&a, PrintAs::Port), "41234\n");
        assert_eq!(render_announce(&a, PrintAs::Url), "http://[::1]:41234/\n");
        let v: serde_json::Value =
            serde_json::from_str(&render_announce(&a, PrintAs::Json)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"port": 41234, "proto": "tcp", "addr": "::1",
                "url": "http://[::1]:41234/", "fd_mode": "fd", "fd": 3, "env": "PORT"})
        );
    }
}
