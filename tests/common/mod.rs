//! Helpers shared by the integration tests: real sockets on loopback and
//! child listeners, bounded in count and time; [`ui`] drives the window.

#![allow(dead_code)]

#[cfg(unix)]
pub mod sshd;
pub mod ui;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any wait for the kernel may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Open `n` connections to `listener` and close each from the accepting
/// side first, so the TIME_WAIT sockets sit on the listener's port. Returns
/// the clients' addresses: the TIME_WAIT sockets' remote ends.
pub fn make_time_wait(listener: &TcpListener, n: usize) -> Vec<SocketAddr> {
    let addr = listener.local_addr().unwrap();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let client = TcpStream::connect(addr).unwrap();
        clients.push(client.local_addr().unwrap());
        let (server, _) = listener.accept().unwrap();
        drop(server);
        // Wait for the server's FIN, then close: the server side moves from
        // FIN_WAIT_2 to TIME_WAIT.
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0u8; 16];
        let n = (&client).read(&mut buf).unwrap();
        assert_eq!(n, 0, "expected EOF from the closed server side");
        drop(client);
    }
    clients
}

/// Poll `f` until it returns `Some`, or panic after [`PATIENCE`].
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The process name the OS reports for this test binary: its file name,
/// cut to 15 bytes on Linux (the kernel's `comm`).
pub fn my_name_matches(name: &str) -> bool {
    let exe = std::env::current_exe().unwrap();
    let file = exe.file_name().unwrap().to_string_lossy().into_owned();
    !name.is_empty() && file.starts_with(name) && name.len() >= file.len().min(15)
}

/// Whether this kernel lists TCP sockets that are only bound (Linux 6.8 and
/// later: TCP_BOUND_INACTIVE, see platform/linux/sockets.rs).
pub fn kernel_lists_bound_only() -> bool {
    if portwise::platform::OS_NAME != "linux" {
        return false;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut nums = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    (nums.next().unwrap_or(0), nums.next().unwrap_or(0)) >= (6, 8)
}

/// A TCP socket bound to a loopback port, neither listening nor connected.
pub fn bound_only() -> (socket2::Socket, SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&addr.into()).unwrap();
    let local = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, local)
}

/// A child process, killed and reaped when dropped.
pub struct Kid(pub Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The body of a test binary's `child_listener` test: when the binary was
/// re-run by [`spawn_listener`] with `port_var` set, listen on that port for
/// up to 30 s; otherwise do nothing.
pub fn listen_if_child(port_var: &str) {
    let Ok(port) = std::env::var(port_var) else {
        return;
    };
    let l = TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    std::thread::sleep(Duration::from_secs(30));
    drop(l);
}

/// This test binary, re-run as its `child_listener` test (ignored or not)
/// with `port_var` set to a port that was free a moment ago; returns once
/// the port accepts connections.
pub fn spawn_listener(port_var: &str) -> (Kid, u16) {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kid = Kid(Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_listener",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(port_var, port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap());
    eventually("the child to listen", || {
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()
    });
    (kid, port)
}

/// True (after saying SKIPPED) when this run cannot see socket owners
/// because it runs under Wine, which reports no owning pid for any socket
/// (GetExtendedTcpTable gives 0); the test then checks nothing more.
pub fn wine_hides_owners() -> bool {
    if portwise::platform::under_wine() {
        eprintln!("SKIPPED: Wine reports no owning pid for sockets");
        return true;
    }
    false
}

/// Run portwise as `nobody` (uid 65534) with every capability dropped, from
/// a test running as root: what an unprivileged user sees. `None` (after
/// saying SKIPPED) when this is not root or `setpriv` cannot do it.
pub fn portwise_as_nobody(args: &[&str]) -> Option<std::process::Output> {
    if !portwise::platform::os::process::is_elevated() {
        eprintln!("SKIPPED: running portwise as another user needs root");
        return None;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("SKIPPED: running as root and setpriv is not installed");
        return None;
    }
    // setpriv changes uid before exec; leaving uid 0 drops the
    // capabilities (capabilities(7), "Effect of user ID changes").
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .output()
        .ok()?;
    if out.stdout.is_empty() {
        eprintln!(
            "SKIPPED: could not run as an unprivileged user: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(out)
}
