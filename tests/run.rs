//! `portwise run` end to end: the real binary, real python3 servers on
//! loopback, real signals. Every server gives up on its own after 60 s
//! without a connection, and every `portwise run` is stopped (SIGTERM,
//! forwarded to its server; SIGKILL after 10 s) when its guard drops.
//!
//! Unix only: the socket handoff, signals and the pty are Unix things; on
//! Windows `run` offers `none` mode only (platform/handoff/windows.rs).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous: twenty python servers start on a shared, busy machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// A small real server. With LISTEN_FDS it accepts on the inherited
/// socket (descriptor 3, or argv[2] in fd mode); otherwise it sleeps
/// argv[2] seconds, then binds $PORT itself with SO_REUSEADDR, as servers
/// do. Each connection gets one line: "<ident> port=<PORT> <how> pid_ok=<..>".
/// SIGTERM and SIGINT end it with exit code 40 + (signal % 10).
const SERVER: &str = r#"
import os, signal, socket, sys, time
def bye(sig, frame):
    sys.exit(40 + sig % 10)
signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
ident, how = sys.argv[1], sys.argv[2]
port = int(os.environ["PORT"])
proto = sys.argv[4] if len(sys.argv) > 4 else "tcp"
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
if how == "systemd":
    ok = os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_PID") == str(os.getpid())
    extra = "pid_ok=%s names=%s" % (ok, os.environ.get("LISTEN_FDNAMES"))
    s = socket.socket(fileno=3)
elif how == "fd":
    extra = "fd=%s listen_fds=%s" % (sys.argv[3], os.environ.get("LISTEN_FDS"))
    s = socket.socket(fileno=int(sys.argv[3]))
else:
    time.sleep(float(sys.argv[3]))
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    if proto == "tcp":
        s.listen(16)
    extra = "bound-late"
line = ("%s port=%d %s\n" % (ident, port, extra)).encode()
s.settimeout(60)
while True:
    if proto == "udp":
        data, peer = s.recvfrom(100)
        s.sendto(line, peer)
        continue
    c, _ = s.accept()
    c.sendall(line)
    c.close()
"#;

fn python() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .arg("-c")
        .arg("import socket")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from("python3"))
}

/// The server script, written once per test into its own directory.
fn server_script(dir: &Path) -> PathBuf {
    let p = dir.join("server.py");
    std::fs::write(&p, SERVER).unwrap();
    p
}

fn portwise() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
}

/// A running `portwise run`, stopped when dropped.
struct Run {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Run {
    fn start(args: &[&str]) -> Run {
        let mut child = portwise()
            .arg("run")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Run { child, stdout }
    }

    /// The first stdout line: what --print wrote.
    fn printed(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_string()
    }

    fn signal(&self, sig: i32) {
        let rc = unsafe { libc::kill(self.child.id() as i32, sig) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Waits (bounded) for portwise to end; returns its status and stderr.
    fn finish(mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(start.elapsed() < PATIENCE, "portwise run did not end");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, err)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Connects (retrying until the server is up) and reads its one line.
fn ask(port: u16) -> String {
    let start = Instant::now();
    loop {
        if let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            s.set_read_timeout(Some(PATIENCE)).unwrap();
            let mut line = String::new();
            s.read_to_string(&mut line).unwrap();
            return line.trim().to_string();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "nothing answered on port {port}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn run_to_end(args: &[&str]) -> Output {
    let child = portwise()
        .arg("run")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Bounded: kill the whole thing if it hangs.
    let watchdog = std::thread::Builder::new()
        .name("run-watchdog".into())
        .spawn(move || {
            std::thread::sleep(PATIENCE);
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        })
        .unwrap();
    drop(watchdog);
    child.wait_with_output().unwrap()
}

macro_rules! need_python {
    () => {
        if python().is_none() {
            eprintln!("SKIPPED: python3 is not installed (the test servers are python3 scripts)");
            return;
        }
    };
}

#[test]
fn twenty_concurrent_runs_get_distinct_ports_and_all_serve() {
    need_python!();
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    let script = script.to_str().unwrap();
    // Half hand over a listening socket, half let the server bind late
    // under a held reservation; all start at once.
    let mut runs: Vec<(String, Run)> = (0..20)
        .map(|i| {
            let ident = format!("server{i}");
            let run = if i % 2 == 0 {
                Run::start(&[
                    "--fd-mode",
                    "systemd",
                    "--print",
                    "port",
                    "--",
                    "python3",
                    script,
                    &ident,
                    "systemd",
                ])
            } else {
                Run::start(&[
                    "--print", "port", "--", "python3", script, &ident, "none", "0.3",
                ])
            };
            (ident, run)
        })
        .collect();
    let mut ports = Vec::new();
    for (ident, run) in &mut runs {
        let port: u16 = run
            .printed()
            .parse()
            .unwrap_or_else(|e| panic!("{ident}: --print port gave no number: {e}"));
        ports.push((ident.clone(), port));
    }
    let mut distinct: Vec<u16> = ports.iter().map(|(_, p)| *p).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 20, "ports were shared: {ports:?}");
    for (ident, port) in &ports {
        let line = ask(*port);
        assert!(
            line.starts_with(&format!("{ident} port={port} ")),
            "port {port} answered {line:?}, expected {ident}"
        );
        if line.contains("pid_ok") {
            assert!(line.contains("pid_ok=True"), "{line}");
        }
    }
    // SIGTERM to each portwise reaches its server (exit 40 + 15 % 10 = 45),
    // and that code becomes portwise's.
    for (_, run) in runs {
        run.signal(libc::SIGTERM);
        let (status, err) = run.finish();
        assert_eq!(status.code(), Some(45), "stderr: {err}");
    }
}

#[test]
fn socket_activation_child_accepts_on_fd_3() {
    need_python!();
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    let mut run = Run::start(&[
        "--fd-mode",
        "systemd",
        "--fd-name",
        "web",
        "--print",
        "json",
        "--",
        "python3",
        script.to_str().unwrap(),
        "sd",
        "systemd",
    ]);
    let v: serde_json::Value = serde_json::from_str(&run.printed()).unwrap();
    assert_eq!(v["fd_mode"], "systemd");
    assert_eq!(v["fd"], 3);
    let port = v["port"].as_u64().unwrap() as u16;
    assert_eq!(v["url"], format!("http://127.0.0.1:{port}/"));
    // The socket was listening before the server even started: connect
    // at once, no retry needed.
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut line = String::new();
    s.read_to_string(&mut line).unwrap();
    assert_eq!(line.trim(), format!("sd port={port} pid_ok=True names=web"));
    run.signal(libc::SIGTERM);
    let (status, err) = run.finish();
    assert_eq!(status.code(), Some(45), "stderr: {err}");
}

#[test]
fn fd_mode_passes_the_socket_at_the_chosen_number() {
    need_python!();
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    let mut run = Run::start(&[
        "--fd",
        "7",
        "--print",
        "port",
        "--",
        "python3",
        script.to_str().unwrap(),
        "fdmode",
        "fd",
        "{fd}",
    ]);
    let port: u16 = run.printed().parse().unwrap();
    assert_eq!(
        ask(port),
        format!("fdmode port={port} fd=7 listen_fds=None")
    );
}

#[test]
fn udp_socket_is_handed_over_too() {
    need_python!();
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    let mut run = Run::start(&[
        "--proto",
        "udp",
        "--fd-mode",
        "systemd",
        "--print",
        "url",
        "--",
        "python3",
        script.to_str().unwrap(),
        "dgram",
        "systemd",
        "-",
        "udp",
    ]);
    let url = run.printed();
    let port: u16 = url
        .strip_prefix("udp://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected url {url:?}"));
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let start = Instant::now();
    let reply = loop {
        sock.send_to(b"hi", (Ipv4Addr::LOCALHOST, port)).unwrap();
        let mut buf = [0u8; 200];
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            break String::from_utf8_lossy(&buf[..n]).trim().to_string();
        }
        assert!(start.elapsed() < PATIENCE, "no UDP reply");
    };
    assert!(
        reply.starts_with(&format!("dgram port={port} pid_ok=True")),
        "{reply}"
    );
}

#[test]
fn none_mode_late_binder_gets_the_port_and_an_outside_plain_bind_fails() {
    need_python!();
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    // The server waits 2 s before its bind.
    let mut run = Run::start(&[
        "--print",
        "port",
        "--",
        "python3",
        script.to_str().unwrap(),
        "late",
        "none",
        "2",
    ]);
    let port: u16 = run.printed().parse().unwrap();
    let started = Instant::now();
    // Meanwhile an outsider tries a plain bind (no SO_REUSEADDR), on the
    // loopback address and on the wildcard: both fail.
    for addr in [Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED] {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let e = s
            .bind(&SocketAddr::from((addr, port)).into())
            .expect_err("an outside plain bind took the reserved port");
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the outside binds ran too late to prove anything"
    );
    assert_eq!(ask(port), format!("late port={port} bound-late"));
    run.signal(libc::SIGTERM);
    let (status, err) = run.finish();
    assert_eq!(status.code(), Some(45), "stderr: {err}");
}

#[test]
fn a_child_that_never_binds_is_stopped_with_124() {
    let start = Instant::now();
    let out = run_to_end(&["--bind-timeout", "1", "--", "sleep", "30"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(124), "stderr: {err}");
    assert!(err.contains("did not listen on port"), "{err}");
    assert!(err.contains("within 1 s"), "{err}");
    assert!(err.contains("stopped 'sleep'"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn missing_and_unrunnable_programs_and_bad_usage() {
    let out = run_to_end(&["--", "portwise-no-such-program"]);
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot run 'portwise-no-such-program': no such program in PATH"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("not-a-program");
    std::fs::write(&data, "x").unwrap();
    let out = run_to_end(&["--", data.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not an executable file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for (args, needle) in [
        (&["--", "sh", "-c", "echo {fd}"][..], "{fd} in the command"),
        (&["--fd-mode", "tcp", "--", "sh"][..], "'tcp'"),
        (&["--print", "xml", "--", "sh"][..], "'xml'"),
        (&["--env", "", "--", "sh"][..], "invalid --env"),
        (&["--fd", "1", "--", "sh"][..], "invalid --fd 1"),
    ] {
        let out = run_to_end(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // No command at all: clap's own usage error.
    let out = run_to_end(&[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_programs_exit_code_and_signal_become_portwises() {
    let out = run_to_end(&["--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'sh' exited with code 7 before portwise saw it bind port"),
        "{err}"
    );
    // Killed by a signal: 128 + N, as in the shell.
    let out = run_to_end(&["--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.code(), Some(143));
    // {port} and $PORT agree.
    let out = run_to_end(&[
        "--fd-mode",
        "fd",
        "--env",
        "APP_PORT",
        "--",
        "sh",
        "-c",
        "test \"$APP_PORT\" = {port} && test -S /dev/fd/3 && echo ok",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    // With a handed-over socket there is no bind to wait for: no note.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Ctrl-C typed in a terminal reaches the server once (the terminal sends
/// it to the whole foreground group; portwise does not send it again), the
/// server shuts down cleanly, and its exit code is portwise's.
#[test]
fn ctrl_c_in_a_terminal_stops_the_child_cleanly() {
    need_python!();
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    // A python pty driver: runs portwise on a new terminal, waits for the
    // server, types Ctrl-C, and reports what the terminal showed and
    // portwise's exit code.
    let driver = r#"
import os, pty, select, sys, time, socket
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["portwise", "run", "--print", "port", "--", "python3", sys.argv[2], "tty", "none", "0"])
out = b""
port = None
end = time.time() + 60
while time.time() < end and port is None:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        out += os.read(fd, 1000)
        if b"\n" in out:
            port = int(out.split(b"\n")[0].strip())
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.05)
os.write(fd, b"\x03")
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 1000)
        except OSError:
            break
        if not d:
            break
        out += d
_, st = os.waitpid(pid, 0)
print("exit=%d" % os.waitstatus_to_exitcode(st))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(driver)
        .arg(env!("CARGO_BIN_EXE_portwise"))
        .arg(&script)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // SIGINT once: the handler's exit code 40 + 2 % 10.
    assert!(
        text.contains("exit=42"),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stdin_is_the_programs() {
    // The program reads portwise's stdin (a test runner may pipe into it).
    let mut child = portwise()
        .args([
            "run",
            "--fd-mode",
            "systemd",
            "--",
            "sh",
            "-c",
            "read x; echo got-$x",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "got-hello");
}

/// The window's way: a session on its own thread collects the program's
/// output and follows its state; stop ends it.
#[test]
fn a_session_collects_output_and_stops_the_program() {
    use portwise::handoff::session::{Status, Stream};
    use portwise::handoff::{FdMode, RunRequest, Session};
    need_python!();
    let wait_for =
        |s: &Session, what: &str, f: &dyn Fn(&portwise::handoff::session::State) -> bool| {
            let start = Instant::now();
            loop {
                let st = s.state();
                if f(&st) {
                    return st;
                }
                assert!(
                    start.elapsed() < PATIENCE,
                    "timed out waiting for {what}: {st:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        };

    // Output from both streams, control characters made visible, exit code.
    let mut req = RunRequest::new(
        [
            "sh",
            "-c",
            "echo port=$PORT fd={fd}; printf 'oops\\033[31m\\n' >&2; exit 3",
        ]
        .map(std::ffi::OsString::from)
        .to_vec(),
    );
    req.mode = FdMode::Fd;
    let s = Session::start(req).unwrap();
    let st = wait_for(&s, "the exit", &|st| !st.status.is_running());
    let port = st.port.unwrap();
    assert_eq!(
        st.status,
        Status::Exited {
            code: 3,
            how: "exited with code 3".into()
        }
    );
    assert!(
        st.lines
            .iter()
            .any(|l| l.stream == Stream::Stdout && l.text == format!("port={port} fd=3")),
        "{st:?}"
    );
    assert!(
        st.lines
            .iter()
            .any(|l| l.stream == Stream::Stderr && l.text == "oops\\u{1b}[31m"),
        "{st:?}"
    );

    // A server in none mode: waiting, then serving, then stopped.
    let dir = tempfile::tempdir().unwrap();
    let script = server_script(dir.path());
    let req = RunRequest::new(vec![
        "python3".into(),
        script.into_os_string(),
        "sess".into(),
        "none".into(),
        "1".into(),
    ]);
    let s = Session::start(req).unwrap();
    let st = wait_for(&s, "the bind wait", &|st| {
        st.status == Status::WaitingForBind
    });
    let port = st.port.unwrap();
    wait_for(&s, "serving", &|st| st.status == Status::Serving);
    assert_eq!(ask(port), format!("sess port={port} bound-late"));
    s.stop();
    let st = wait_for(&s, "the stop", &|st| !st.status.is_running());
    assert_eq!(
        st.status,
        Status::Exited {
            code: 45,
            how: "exited with code 45".into()
        }
    );

    // A program that is not there.
    let s = Session::start(RunRequest::new(vec!["portwise-no-such-program".into()])).unwrap();
    let st = wait_for(&s, "the failure", &|st| !st.status.is_running());
    assert!(
        matches!(st.status, Status::Failed { code: 127, .. }),
        "{st:?}"
    );
}

/// `--port`: a port chosen earlier, even one this user reserved in
/// TIME_WAIT with `portwise free --reserve`; refused while a listener has it.
#[test]
fn an_exact_port_passes_its_own_reservation_but_not_a_listener() {
    let out = portwise().args(["free", "--reserve"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = run_to_end(&[
        "--port",
        &port,
        "--fd-mode",
        "fd",
        "--",
        "sh",
        "-c",
        "test \"$PORT\" = {port} && test -S /dev/fd/3 && echo handed",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "handed",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for mode in ["systemd", "none"] {
        let out = run_to_end(&["--port", &port, "--fd-mode", mode, "--", "true"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode}: {err}");
        assert!(
            err.contains(&format!("cannot take tcp port {port}")),
            "{err}"
        );
    }
    let out = run_to_end(&["--port", "0", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
}
