//! The local end: `ssh [options] DEST <fixed command>` and one session that
//! carries every request to that host.

use std::fmt;
use std::io::{BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::agent::{BoundedLines, Line};
use super::protocol::{
    Answer, Hello, MAX_ANSWER, Op, Outcome, PROTOCOL_VERSION, Request, Response,
};

/// The one command the remote shell ever runs to start the agent: the copy
/// portwise installed in ~/.cache/portwise/ first, then `portwise` on PATH.
/// Exit 127 with a marker on stderr when neither exists. No user text is in
/// it; requests travel as JSON on stdin.
pub const REMOTE_AGENT: &str = "sh -c 'p=\"$HOME/.cache/portwise/portwise\"; \
if [ -x \"$p\" ]; then exec \"$p\" agent; fi; \
if command -v portwise >/dev/null 2>&1; then exec portwise agent; fi; \
echo \"portwise-agent: not found on PATH or in ~/.cache/portwise/\" >&2; exit 127'";

const NOT_FOUND_MARKER: &str = "portwise-agent: not found";

/// The environment variable naming the ssh command, like git's
/// GIT_SSH_COMMAND: split into words as a POSIX shell would (quotes,
/// backslashes), without running a shell.
pub const SSH_COMMAND_VAR: &str = "PORTWISE_SSH_COMMAND";

/// How ssh may ask for things.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The CLI: ssh may prompt on the terminal (password, passphrase, a new
    /// host key), as it would for the user's own `ssh`.
    Interactive,
    /// The window: `-o BatchMode=yes`, never a prompt; a key must be in the
    /// agent.
    Batch,
}

/// The ssh program and its leading arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ssh {
    pub program: String,
    pub args: Vec<String>,
}

impl Ssh {
    /// `$PORTWISE_SSH_COMMAND` split into words, or plain `ssh` from PATH.
    pub fn from_env() -> Result<Ssh, String> {
        match std::env::var(SSH_COMMAND_VAR) {
            Ok(v) if !v.trim().is_empty() => Ssh::parse(&v),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(Ssh {
                program: "ssh".into(),
                args: Vec::new(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{SSH_COMMAND_VAR} is not valid UTF-8"))
            }
        }
    }

    pub fn parse(command: &str) -> Result<Ssh, String> {
        let words = shlex::split(command).ok_or_else(|| {
            format!(
                "{SSH_COMMAND_VAR} '{}' has an unbalanced quote or a trailing backslash",
                super::shown(command, 200)
            )
        })?;
        let mut it = words.into_iter();
        let program = it
            .next()
            .ok_or_else(|| format!("{SSH_COMMAND_VAR} names no command"))?;
        Ok(Ssh {
            program,
            args: it.collect(),
        })
    }

    /// `ssh ARGS -T [-o BatchMode=yes] [-o ConnectTimeout=10] -- DEST REMOTE`.
    /// Host key checking is left exactly as the user's config has it.
    pub fn command(&self, dest: &Dest, mode: Mode, remote: &str) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args).arg("-T");
        if mode == Mode::Batch {
            c.args(["-o", "BatchMode=yes"]);
        }
        if !self.has_connect_timeout(dest) {
            // ssh's own default is the OS's TCP timeout (minutes); the
            // issue promises 10 s unless the user chose otherwise.
            c.args(["-o", "ConnectTimeout=10"]);
        }
        c.arg("--").arg(&dest.0).arg(remote);
        c
    }

    /// Whether the user's config sets ConnectTimeout for `dest` (`ssh -G`
    /// prints the resolved config without connecting).
    fn has_connect_timeout(&self, dest: &Dest) -> bool {
        let out = Command::new(&self.program)
            .args(&self.args)
            .arg("-G")
            .arg("--")
            .arg(&dest.0)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.starts_with("connecttimeout ") && l.trim_end() != "connecttimeout none"),
            _ => false,
        }
    }
}

/// Where to go: anything ssh takes as a destination (`[user@]host`, an
/// ssh_config alias, `ssh://[user@]host[:port]`). Checked only so that it
/// cannot be read as an option or split into words.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dest(String);

impl Dest {
    pub fn parse(text: &str) -> Result<Dest, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty host (expected [user@]host, an ssh_config alias or ssh://[user@]host[:port])".into());
        }
        if t.starts_with('-') {
            return Err(format!(
                "invalid host '{}' (a host cannot start with '-')",
                super::shown(t, 80)
            ));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) || t.len() > 1024 {
            return Err(format!(
                "invalid host '{}' (no spaces or control characters)",
                super::shown(t, 80)
            ));
        }
        Ok(Dest(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Dest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why no session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// The ssh program could not be started.
    NoSsh(String),
    /// ssh itself failed (exit 255): unreachable, refused, timed out, auth
    /// failed, host key changed. `reason` is ssh's own message.
    Ssh { reason: String },
    /// The remote has no portwise on PATH or in ~/.cache/portwise/.
    NotInstalled,
    /// The remote portwise speaks another protocol version.
    Protocol { remote: Hello },
    /// Anything else: the agent started but did not say hello.
    Agent(String),
}

impl ConnectError {
    /// Whether copying this portwise there would fix it.
    pub fn install_would_help(&self) -> bool {
        matches!(
            self,
            ConnectError::NotInstalled | ConnectError::Protocol { .. }
        )
    }

    pub fn message(&self, dest: &Dest) -> String {
        match self {
            ConnectError::NoSsh(e) => format!("cannot run ssh: {e}"),
            ConnectError::Ssh { reason } => format!("cannot reach {dest}: {reason}"),
            ConnectError::NotInstalled => format!(
                "portwise is not installed on {dest} (not on PATH, not in ~/.cache/portwise/)"
            ),
            ConnectError::Protocol { remote } => format!(
                "portwise {} on {dest} speaks protocol version {}, this portwise {} speaks {}: \
                 update portwise there",
                super::shown(&remote.portwise, 40),
                remote.protocol,
                env!("CARGO_PKG_VERSION"),
                PROTOCOL_VERSION
            ),
            ConnectError::Agent(e) => format!("portwise agent on {dest} failed: {e}"),
        }
    }
}

/// A request that got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The connection dropped; ssh's last words, if any.
    Lost(String),
    /// The agent answered with an error.
    Remote(String),
    /// The answer was not what the protocol says.
    Protocol(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Lost(m) => write!(f, "connection lost: {m}"),
            RequestError::Remote(m) => f.write_str(m),
            RequestError::Protocol(m) => write!(f, "unexpected answer: {m}"),
        }
    }
}

/// One open `ssh DEST portwise agent`: every request to the host goes
/// through it. Dropping it closes stdin (the agent then exits) and reaps
/// ssh.
pub struct Session {
    pub dest: Dest,
    pub hello: Hello,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<std::io::Result<Line>>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

/// Up to this much of ssh's stderr is kept for error messages.
const STDERR_KEEP: usize = 16 * 1024;

impl Session {
    /// Start ssh and wait for the agent's hello. `hello_timeout` bounds the
    /// wait after ssh has started (None: as long as ssh takes, for a CLI
    /// user typing a passphrase).
    pub fn connect(
        ssh: &Ssh,
        dest: &Dest,
        mode: Mode,
        hello_timeout: Option<Duration>,
    ) -> Result<Session, ConnectError> {
        let mut child = ssh
            .command(dest, mode, REMOTE_AGENT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ConnectError::NoSsh(format!("{}: {e}", ssh.program)))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let spawned = (|| {
            let out = child.stdout.take().ok_or("no stdout")?;
            std::thread::Builder::new()
                .name(format!("ssh-out {dest}"))
                .spawn(move || {
                    let mut r = BoundedLines::new(BufReader::new(out), MAX_ANSWER);
                    loop {
                        match r.next_line() {
                            Ok(Some(l)) => {
                                if tx.send(Ok(l)).is_err() {
                                    return;
                                }
                            }
                            Ok(None) => return,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                })
                .map_err(|_| "cannot start a thread")?;
            let mut err = child.stderr.take().ok_or("no stderr")?;
            let keep = Arc::clone(&stderr);
            std::thread::Builder::new()
                .name(format!("ssh-err {dest}"))
                .spawn(move || {
                    use std::io::Read;
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = err.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if let Ok(mut s) = keep.lock()
                            && s.len() < STDERR_KEEP
                        {
                            s.push_str(&String::from_utf8_lossy(&buf[..n]));
                        }
                    }
                })
                .map_err(|_| "cannot start a thread")?;
            Ok::<(), &str>(())
        })();
        if let Err(e) = spawned {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ConnectError::Agent(e.into()));
        }
        let stdin = child.stdin.take();
        let mut session = Session {
            dest: dest.clone(),
            hello: Hello::this_machine(),
            child,
            stdin,
            lines,
            stderr,
            next_id: 1,
        };
        let first = match hello_timeout {
            Some(t) => match session.lines.recv_timeout(t) {
                Ok(l) => Some(l),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(ConnectError::Agent(format!(
                        "no answer within {} s",
                        t.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => None,
            },
            None => session.lines.recv().ok(),
        };
        match first {
            Some(Ok(Line::Text(bytes))) => {
                session.hello = parse_hello(&bytes)?;
                Ok(session)
            }
            Some(Ok(Line::TooLong)) => Err(ConnectError::Agent("hello line too long".into())),
            Some(Err(e)) => Err(ConnectError::Agent(format!("cannot read from ssh: {e}"))),
            None => Err(session.classify_exit()),
        }
    }

    /// ssh ended before a hello: why.
    fn classify_exit(&mut self) -> ConnectError {
        self.stdin = None;
        let code = self.child.wait().ok().and_then(|s| s.code());
        let stderr = self.stderr_text();
        if code == Some(127) && stderr.contains(NOT_FOUND_MARKER) {
            return ConnectError::NotInstalled;
        }
        let reason = last_words(&stderr);
        match code {
            Some(255) => ConnectError::Ssh {
                reason: if reason.is_empty() {
                    "ssh failed (exit 255) without a message".into()
                } else {
                    reason
                },
            },
            other => ConnectError::Agent(format!(
                "{} (exit {})",
                if reason.is_empty() {
                    "no hello".to_string()
                } else {
                    reason
                },
                other.map_or("by signal".into(), |c| c.to_string())
            )),
        }
    }

    fn stderr_text(&self) -> String {
        // The reader thread ends with ssh; give it a moment to drain.
        for _ in 0..50 {
            if Arc::strong_count(&self.stderr) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Send one request and wait for its answer.
    pub fn request(&mut self, op: Op) -> Result<Answer, RequestError> {
        self.request_within(op, None)
    }

    /// Send one request and wait at most `timeout` for its answer. A
    /// session that missed an answer is out of step: it is closed (ssh
    /// killed) and the request fails as lost.
    pub fn request_within(
        &mut self,
        op: Op,
        timeout: Option<Duration>,
    ) -> Result<Answer, RequestError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut line = serde_json::to_vec(&Request { id, op })
            .map_err(|e| RequestError::Protocol(e.to_string()))?;
        line.push(b'\n');
        let written = match self.stdin.as_mut() {
            Some(s) => s.write_all(&line).and_then(|_| s.flush()),
            None => Err(std::io::Error::other("closed")),
        };
        if written.is_err() {
            return Err(self.lost());
        }
        let got = match timeout {
            None => self
                .lines
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(t) => self.lines.recv_timeout(t),
        };
        if matches!(got, Err(RecvTimeoutError::Timeout)) {
            self.stdin = None;
            let _ = self.child.kill();
            let _ = self.child.wait();
            return Err(RequestError::Lost(format!(
                "no answer within {} s",
                timeout.map_or(0, |t| t.as_secs())
            )));
        }
        match got {
            Ok(Ok(Line::Text(bytes))) => {
                let r: Response = serde_json::from_slice(&bytes)
                    .map_err(|e| RequestError::Protocol(e.to_string()))?;
                if r.id != Some(id) {
                    return Err(RequestError::Protocol(format!(
                        "answer for request {:?}, expected {id}",
                        r.id
                    )));
                }
                match r.result {
                    Outcome::Ok(a) => Ok(a),
                    Outcome::Error(e) => Err(RequestError::Remote(super::shown(&e, 2000))),
                }
            }
            Ok(Ok(Line::TooLong)) => Err(RequestError::Protocol("answer line too long".into())),
            Ok(Err(e)) => Err(RequestError::Lost(e.to_string())),
            Err(_) => Err(self.lost()),
        }
    }

    fn lost(&mut self) -> RequestError {
        self.stdin = None;
        let _ = self.child.wait();
        let words = last_words(&self.stderr_text());
        RequestError::Lost(if words.is_empty() {
            "ssh ended".into()
        } else {
            words
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stdin = None;
        // The agent exits at end of input; don't hang on a stuck ssh.
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_hello(bytes: &[u8]) -> Result<Hello, ConnectError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| {
        ConnectError::Agent(format!(
            "expected a hello, got '{}'",
            super::shown(&String::from_utf8_lossy(bytes), 200)
        ))
    })?;
    let h = v.get("hello").ok_or_else(|| {
        ConnectError::Agent(format!(
            "expected a hello, got '{}'",
            super::shown(&String::from_utf8_lossy(bytes), 200)
        ))
    })?;
    let text = |k: &str| {
        h.get(k)
            .and_then(|x| x.as_str())
            .map(|s| super::shown(s, 60))
            .unwrap_or_else(|| "?".into())
    };
    let hello = Hello {
        protocol: h
            .get("protocol")
            .and_then(|p| p.as_u64())
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0),
        portwise: text("portwise"),
        os: text("os"),
        arch: text("arch"),
    };
    if hello.protocol != PROTOCOL_VERSION {
        return Err(ConnectError::Protocol { remote: hello });
    }
    Ok(hello)
}

/// The last meaningful lines ssh printed, on one line, terminal-safe.
pub fn last_words(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // A changed host key comes with a 20-line banner: keep its headline and
    // ssh's verdict.
    if let Some(h) = lines
        .iter()
        .find(|l| l.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"))
    {
        let verdict = lines.last().copied().unwrap_or_default();
        return super::shown(
            &format!("{} ... {verdict}", h.trim_matches('@').trim()),
            600,
        );
    }
    let tail = lines.len().saturating_sub(2);
    super::shown(&lines[tail..].join(" / "), 600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_command_splits_like_a_shell() {
        let s = Ssh::parse("ssh -F '/tmp/my config' -o \"User=a b\" -v").unwrap();
        assert_eq!(s.program, "ssh");
        assert_eq!(s.args, ["-F", "/tmp/my config", "-o", "User=a b", "-v"]);
        assert!(Ssh::parse("ssh -F 'open").is_err());
        assert!(Ssh::parse("   ").is_err());
    }

    #[test]
    fn dests() {
        for ok in ["host", "me@host", "alias-1", "ssh://me@host:2222", "[::1]"] {
            assert_eq!(Dest::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "-oProxyCommand=x", "a b", "a\nb"] {
            assert!(Dest::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hello_versions() {
        let ok = format!(
            "{{\"hello\":{{\"protocol\":{PROTOCOL_VERSION},\"portwise\":\"9\",\"os\":\"linux\",\"arch\":\"x86_64\"}}}}"
        );
        assert_eq!(parse_hello(ok.as_bytes()).unwrap().portwise, "9");
        let old = br#"{"hello":{"protocol":0,"portwise":"0.0.1"}}"#;
        match parse_hello(old) {
            Err(e @ ConnectError::Protocol { .. }) => {
                let m = e.message(&Dest::parse("h").unwrap());
                assert!(
                    m.contains("portwise 0.0.1 on h speaks protocol version 0"),
                    "{m}"
                );
                assert!(e.install_would_help());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_hello(b"Welcome!"),
            Err(ConnectError::Agent(_))
        ));
    }

    #[test]
    fn ssh_reasons() {
        assert_eq!(
            last_words("\nssh: connect to host 127.0.0.1 port 1: Connection refused\n"),
            "ssh: connect to host 127.0.0.1 port 1: Connection refused"
        );
        let banner = "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@\nIT IS POSSIBLE\nHost key verification failed.\n";
        assert_eq!(
            last_words(banner),
            "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! ... Host key verification failed."
        );
    }
}
