//! `portwise bind-test` end to end: every cause this machine can produce,
//! with real sockets on loopback.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::make_time_wait;
use socket2::{Domain, Protocol, Socket, Type};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
}

fn portwise(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Runs with `--json` and returns (exit code, parsed JSON).
fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let out = portwise(&a);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

fn pids(v: &serde_json::Value) -> Vec<u64> {
    v["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["pid"].as_u64().unwrap())
        .collect()
}

fn me() -> u64 {
    u64::from(std::process::id())
}

#[test]
fn listener_on_the_same_address() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let (code, v) = json(&["bind-test", &port, "--addr", "127.0.0.1"]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(v["addr"], "127.0.0.1");
    assert_eq!(v["proto"], "tcp");
    let (name, errno) = match portwise::platform::OS_NAME {
        "windows" => ("WSAEADDRINUSE", 10048),
        "macos" => ("EADDRINUSE", 48),
        _ => ("EADDRINUSE", 98),
    };
    assert_eq!(v["error"]["code"], name);
    assert_eq!(v["error"]["errno"], errno);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("Address already in use"), "{message}");
    assert!(!message.contains("FormatMessage"), "{message}");
    assert_eq!(v["cause"], "listener");
    if common::wine_hides_owners() {
        return;
    }
    assert!(pids(&v).contains(&me()), "{v}");
    assert!(v["time_wait"].is_null());
    let fixes = v["fixes"].to_string();
    assert!(
        fixes.contains(&format!("portwise stop --pid {}", me())),
        "{fixes}"
    );
}

#[test]
fn listener_on_the_wildcard() {
    let l = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let (code, v) = json(&["bind-test", &port, "--addr", "127.0.0.1"]);
    assert_eq!(code, 1);
    assert_eq!(v["cause"], "listener");
    assert!(
        v["explanation"].as_str().unwrap().contains("wildcard"),
        "{v}"
    );
    assert!(pids(&v).contains(&me()) || portwise::platform::under_wine());
    // And the reverse: a specific listener blocks the wildcard.
    let l2 = TcpListener::bind("127.0.0.1:0").unwrap();
    let port2 = l2.local_addr().unwrap().port().to_string();
    let (_, v) = json(&["bind-test", &port2]);
    assert_eq!(v["cause"], "listener");
    assert!(v["explanation"].as_str().unwrap().contains("every address"));
}

#[test]
fn udp_socket_is_a_holder() {
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = u.local_addr().unwrap().port().to_string();
    let (code, v) = json(&["bind-test", &port, "--addr", "127.0.0.1", "--proto", "udp"]);
    assert_eq!(code, 1);
    assert_eq!(v["proto"], "udp");
    assert_eq!(v["cause"], "listener");
    assert!(pids(&v).contains(&me()) || portwise::platform::under_wine());
}

/// A listener without SO_REUSEADDR (std sets it on Unix; socket2 does not).
fn plain_listener() -> TcpListener {
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    s.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    s.listen(8).unwrap();
    s.into()
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Linux/macOS TIME_WAIT rules: on Windows a TIME_WAIT socket does not block a bind"
)]
fn time_wait_then_reuseaddr_binds_when_the_old_socket_had_it() {
    // std's listener sets SO_REUSEADDR, and accepted sockets inherit it.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    make_time_wait(&l, 2);
    drop(l);
    let p = port.to_string();
    let (code, v) = json(&["bind-test", &p, "--addr", "127.0.0.1"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["cause"], "time_wait", "{v}");
    assert!(v["time_wait"]["count"].as_u64().unwrap() >= 2, "{v}");
    let left = v["time_wait"]["longest_remaining_ms"].as_u64().unwrap();
    assert!(left > 0 && left <= 60_000, "{left}");
    assert!(v["holders"].as_array().unwrap().is_empty());
    assert!(v["fixes"].to_string().contains("--reuseaddr"));
    let (code, v) = json(&["bind-test", &p, "--addr", "127.0.0.1", "--reuseaddr"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["port"], port);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Linux/macOS TIME_WAIT rules: on Windows a TIME_WAIT socket does not block a bind"
)]
fn time_wait_of_a_socket_without_reuseaddr_blocks_even_with_it() {
    let l = plain_listener();
    let port = l.local_addr().unwrap().port();
    make_time_wait(&l, 1);
    drop(l);
    let p = port.to_string();
    let (code, v) = json(&["bind-test", &p, "--addr", "127.0.0.1", "--reuseaddr"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["cause"], "time_wait");
    assert!(
        v["explanation"]
            .as_str()
            .unwrap()
            .contains("so the old ones did not"),
        "{v}"
    );
}

#[test]
fn address_not_local() {
    let local = portwise::bind::local_addresses();
    if local.contains(&"192.0.2.1".parse().unwrap()) {
        eprintln!("SKIPPED address_not_local: 192.0.2.1 is assigned to this machine");
        return;
    }
    let (code, v) = json(&["bind-test", "8080", "--addr", "192.0.2.1"]);
    assert_eq!(code, 1);
    assert_eq!(v["cause"], "address_not_local");
    let name = if cfg!(windows) {
        "WSAEADDRNOTAVAIL"
    } else {
        "EADDRNOTAVAIL"
    };
    assert_eq!(v["error"]["code"], name);
    assert!(v["explanation"].as_str().unwrap().contains("192.0.2.1"));
}

#[test]
fn port_zero_says_which_port_it_got() {
    let (code, v) = json(&["bind-test", "0", "--addr", "127.0.0.1"]);
    assert_eq!(code, 0);
    assert_eq!(v["ok"], true);
    assert_eq!(v["addr"], "127.0.0.1");
    let port = v["port"].as_u64().unwrap();
    assert!(port > 0);
    let out = portwise(&["bind-test", "0"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("ok: tcp 0.0.0.0:") && !text.contains("0.0.0.0:0 "),
        "{text}"
    );
}

#[test]
fn success_prints_ok_and_the_bound_address() {
    let (code, v) = json(&["bind-test", "0", "--addr", "::1", "--v6only"]);
    if code != 0 && v["error"]["code"] == "EADDRNOTAVAIL" {
        eprintln!("SKIPPED ::1 check: no IPv6 loopback here");
        return;
    }
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["addr"], "::1");
}

#[test]
fn wait_succeeds_once_the_holder_closes() {
    if portwise::platform::under_wine() {
        // Seen in CI: under Wine the retry still failed after the holder
        // closed. Not investigated yet.
        eprintln!("SKIPPED: under Wine the retry does not see the port freed");
        return;
    }
    let l = plain_listener();
    let port = l.local_addr().unwrap().port();
    let closer = std::thread::Builder::new()
        .name("closer".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            drop(l);
        })
        .unwrap();
    let start = Instant::now();
    let out = portwise(&[
        "bind-test",
        &port.to_string(),
        "--addr",
        "127.0.0.1",
        "--wait",
        "10",
    ]);
    closer.join().unwrap();
    let took = start.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("waiting") && err.contains("listener"), "{err}");
    assert!(err.contains(&format!("pid {}", me())), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("ok: ") && text.contains("(after "),
        "{text}"
    );
}

#[test]
fn wait_gives_up_with_exit_1() {
    let l = plain_listener();
    let port = l.local_addr().unwrap().port().to_string();
    let start = Instant::now();
    let (code, v) = json(&["bind-test", &port, "--addr", "127.0.0.1", "--wait", "1"]);
    assert_eq!(code, 1);
    assert_eq!(v["cause"], "listener");
    assert!(v["waited_ms"].as_u64().unwrap() >= 1000);
    // Wine takes seconds to start a process.
    let limit = if portwise::platform::under_wine() {
        30
    } else {
        5
    };
    assert!(start.elapsed() < Duration::from_secs(limit));
    drop(l);
}

#[test]
fn privileged_port_with_privileges_dropped() {
    let limit: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024);
    if limit == 0 {
        eprintln!(
            "SKIPPED privileged_port: ip_unprivileged_port_start is 0, no port is privileged"
        );
        return;
    }
    let port = (limit - 1).to_string();
    let exe = env!("CARGO_BIN_EXE_portwise");
    let args = ["bind-test", port.as_str(), "--json"];
    let out = if portwise::platform::os::process::is_elevated() {
        // setpriv changes uid before exec; leaving uid 0 drops the
        // capabilities (capabilities(7), "Effect of user ID changes").
        let ok = Command::new("setpriv").arg("--version").output().is_ok();
        if !ok {
            eprintln!("SKIPPED privileged_port: running as root and setpriv is not installed");
            return;
        }
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(exe)
            .args(args)
            .output()
            .unwrap()
    } else {
        bin().args(args).output().unwrap()
    };
    let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(_) => {
            let err = String::from_utf8_lossy(&out.stderr);
            eprintln!("SKIPPED privileged_port: could not run as an unprivileged user: {err}");
            return;
        }
    };
    if v["ok"] == true {
        eprintln!("SKIPPED privileged_port: this user may bind port {port} (CAP_NET_BIND_SERVICE)");
        return;
    }
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["error"]["code"], "EACCES", "{v}");
    assert_eq!(v["cause"], "privileged_port", "{v}");
    assert!(
        v["explanation"]
            .as_str()
            .unwrap()
            .contains(&format!("below {limit}"))
    );
    assert!(
        v["fixes"]
            .to_string()
            .contains("setcap cap_net_bind_service=+ep")
    );
}

#[test]
fn bad_usage_exits_2() {
    for (args, needle) in [
        (&["bind-test", "70000"][..], "'70000'"),
        (&["bind-test", "-1"][..], "'-1'"),
        (&["bind-test", "http"][..], "'http'"),
        (&["bind-test", "80", "--addr", "nowhere"][..], "'nowhere'"),
        (&["bind-test", "80", "--proto", "sctp"][..], "'sctp'"),
        (&["bind-test", "80", "--v6only"][..], "--v6only"),
        (&["bind-test", "80", "--wait", "soon"][..], "'soon'"),
        (&["bind-test"][..], "PORT"),
    ] {
        let out = portwise(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn plain_output_has_verdict_explanation_holders_and_fixes() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let out = portwise(&["bind-test", &port, "--addr", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("fails: tcp 127.0.0.1:") && first.contains("EADDRINUSE"),
        "{first}"
    );
    assert!(
        portwise::platform::under_wine()
            || text.contains("holders:") && text.contains(&format!("pid {}", me())),
        "{text}"
    );
    assert!(
        text.contains("fixes:") && text.contains("portwise free"),
        "{text}"
    );
}

// ---- Issue 13 section 3: diagnoses a restart meets ----

/// The body of this binary's `child_orphan_server` test: when re-run with
/// `PORTWISE_ORPHAN_PORT` set, listen on 127.0.0.1 at that port (std's
/// listener sets SO_REUSEADDR on Unix, and accepted sockets inherit it),
/// accept one connection and exit without a word: the kernel sends the FIN
/// and finishes the connection with no process left.
#[test]
fn child_orphan_server() {
    let Ok(port) = std::env::var("PORTWISE_ORPHAN_PORT") else {
        return;
    };
    let l = TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    println!("listening");
    l.set_nonblocking(false).unwrap();
    let accepted = l.accept();
    // Exit at once, the accepted socket still open: the process's exit
    // closes it (tcp_close() on an orphan).
    std::process::exit(if accepted.is_ok() { 0 } else { 3 });
}

/// A server process exits while its client keeps the connection open: the
/// server side of the connection is left in FIN_WAIT_2 with no process.
/// Returns the client (keep it open) and the port.
#[cfg(unix)]
fn orphan_fin_wait_2() -> (std::net::TcpStream, u16) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut kid = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_orphan_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PORTWISE_ORPHAN_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(kid.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("listening") {
        line.clear();
    }
    let client = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    let status = kid.wait().unwrap();
    assert_eq!(status.code(), Some(0), "the server child failed");
    // The server's FIN arrives; the client reads EOF and does NOT close.
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4];
    let n = std::io::Read::read(&mut &client, &mut buf).unwrap();
    assert_eq!(n, 0, "expected EOF from the exited server");
    (client, port)
}

/// A bind over an orphaned FIN_WAIT_2 is explained as a kernel leftover,
/// like TIME_WAIT, with its lifetime (tcp_fin_timeout), SO_REUSEADDR, and
/// no "hidden process" or sudo advice; and SO_REUSEADDR does let the new
/// server bind, since the old one set it too.
#[test]
fn orphaned_fin_wait_2_is_the_kernels_and_reuseaddr_binds_over_it() {
    if portwise::platform::OS_NAME != "linux" {
        eprintln!("SKIPPED: orphaned sockets are read with sock_diag (Linux)");
        return;
    }
    orphan_check();
}

#[cfg(not(unix))]
fn orphan_check() {}

#[cfg(unix)]
fn orphan_check() {
    {
        let (client, port) = orphan_fin_wait_2();
        let p = port.to_string();
        // The orphan is there, with no process (what `list` shows too):
        // in FIN_WAIT_1 until the client's ACK of the FIN, which the client
        // may delay (delayed ACK, up to ~40 ms on loopback), then FIN_WAIT_2.
        let t0 = std::time::Instant::now();
        let l = loop {
            let (_, l) = json(&["list", "--all", "--port", &p]);
            if l.to_string().contains("FIN_WAIT_2") || t0.elapsed() > Duration::from_secs(3) {
                break l;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let states = l.to_string();
        assert!(states.contains("FIN_WAIT_2"), "{states}");
        // With tcp_fin_timeout at most 60 s the kernel finishes the orphan
        // as a timewait socket and reports its timer (net/ipv4/tcp.c
        // tcp_close()): the time left is listed, within that bound.
        let fin_s: u64 = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_fin_timeout")
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(60);
        let orphan = l["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["state"] == "FIN_WAIT_2" && s["local_port"] == port)
            .unwrap_or_else(|| panic!("the orphan in {l}"))
            .clone();
        if fin_s <= 60 {
            let left = orphan["time_wait_expires_in_ms"]
                .as_u64()
                .unwrap_or_else(|| panic!("a timer for {orphan}"));
            assert!(left > 0 && left <= fin_s * 1000, "{orphan}");
            // The table's TIME LEFT column: "59.2s".
            let out = portwise(&["list", "--all", "--port", &p]);
            let table = String::from_utf8_lossy(&out.stdout);
            let row = table
                .lines()
                .find(|l| l.contains("FIN_WAIT_2"))
                .unwrap_or_else(|| panic!("{table}"));
            let secs: f64 = row
                .split_whitespace()
                .nth(4)
                .and_then(|t| t.strip_suffix('s'))
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("a time left in {row:?}"));
            assert!(secs > 0.0 && secs <= fin_s as f64, "{row}");
        }

        let (code, v) = json(&["bind-test", &p, "--addr", "127.0.0.1"]);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["cause"], "orphaned", "{v}");
        let t = v["explanation"].as_str().unwrap();
        assert!(t.contains("FIN_WAIT_2"), "{t}");
        assert!(t.contains("to the kernel, like TIME_WAIT"), "{t}");
        assert!(t.contains("net.ipv4.tcp_fin_timeout"), "{t}");
        assert!(t.contains("SO_REUSEADDR"), "{t}");
        assert!(!t.contains("cannot see"), "{t}");
        if fin_s <= 60 {
            assert!(t.contains("The kernel's timer frees it within"), "{t}");
        }
        assert!(v["holders"].as_array().unwrap().is_empty(), "{v}");
        let fixes = v["fixes"].to_string();
        assert!(!fixes.contains("sudo"), "{fixes}");
        assert!(fixes.contains("--reuseaddr"), "{fixes}");

        // The old socket set SO_REUSEADDR (std's listener; the accepted
        // socket inherits it): the new one with it binds.
        let (code, v) = json(&["bind-test", &p, "--addr", "127.0.0.1", "--reuseaddr"]);
        assert_eq!(code, 0, "{v}");
        drop(client);
    }
}

/// Who runs portwise as `nobody` (uid 65534) when this runs as root, with
/// every capability dropped; `None` (after SKIPPED) when that cannot be.
fn as_nobody(args: &[&str]) -> Option<Output> {
    if !portwise::platform::os::process::is_elevated() {
        return Some(bin().args(args).output().unwrap());
    }
    common::portwise_as_nobody(args)
}

/// A listener whose process the user cannot see: the diagnosis shows the
/// uid sock_diag reports (and the user name), and suggests elevation,
/// since this run is not elevated.
#[test]
fn a_hidden_owner_is_named_by_its_uid() {
    if portwise::platform::OS_NAME != "linux" || !portwise::platform::os::process::is_elevated() {
        eprintln!("SKIPPED: needs root on Linux (a root listener seen by nobody)");
        return;
    }
    let l = plain_listener();
    let p = l.local_addr().unwrap().port().to_string();
    let Some(out) = as_nobody(&["bind-test", &p, "--addr", "127.0.0.1", "--json"]) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cause"], "listener", "{v}");
    let t = v["explanation"].as_str().unwrap();
    assert!(
        t.starts_with("a process of user root (uid 0) that this user cannot see"),
        "{t}"
    );
    assert_eq!(v["hidden_owners"][0]["uid"], 0, "{v}");
    assert_eq!(v["hidden_owners"][0]["user"], "root", "{v}");
    // Not elevated: seeing the owner needs sudo, and says so.
    assert!(
        v["fixes"].to_string().contains("sudo portwise bind-test"),
        "{v}"
    );
    // Elevated (this run): the owner is seen, no sudo anywhere.
    let (_, v) = json(&["bind-test", &p, "--addr", "127.0.0.1"]);
    assert!(pids(&v).contains(&me()), "{v}");
    assert!(!v["fixes"].to_string().contains("sudo"), "{v}");
    drop(l);
}

/// EADDRNOTAVAIL lists no holder of the port on other addresses, and
/// offers only addresses where the same bind was just tried and succeeded.
#[test]
fn address_not_local_lists_no_unrelated_holder_and_checks_its_suggestions() {
    if portwise::bind::local_addresses().contains(&"192.0.2.1".parse().unwrap()) {
        eprintln!("SKIPPED: 192.0.2.1 is assigned to this machine");
        return;
    }
    // 8080-like: a port held on 127.0.0.1 (so 127.0.0.1 and 0.0.0.0 fail).
    let held = plain_listener();
    let port = held.local_addr().unwrap().port();
    let p = port.to_string();
    let (code, v) = json(&["bind-test", &p, "--addr", "192.0.2.1"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["cause"], "address_not_local", "{v}");
    assert!(v["holders"].as_array().unwrap().is_empty(), "{v}");
    assert!(
        !v["explanation"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {}", me()))
    );
    let cmds: Vec<String> = v["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["command"].as_str().map(str::to_string))
        .collect();
    for c in &cmds {
        assert!(
            !c.ends_with(&format!("bind-test {p}")) && !c.contains("--addr 127.0.0.1"),
            "suggests an address where the port is taken: {cmds:?}"
        );
    }
    drop(held);

    // A free port: 127.0.0.1 is suggested, and that suggestion binds.
    let free = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (_, v) = json(&["bind-test", &free, "--addr", "192.0.2.1"]);
    let want = format!("portwise bind-test {free} --addr 127.0.0.1");
    assert!(v["fixes"].to_string().contains(&want), "{v}");
    let (code, ok) = json(&["bind-test", &free, "--addr", "127.0.0.1"]);
    assert_eq!(code, 0, "{ok}");
}

/// `--addr localhost` tests 127.0.0.1 and ::1 and reports both.
#[test]
fn localhost_tests_both_loopbacks() {
    let v6 = std::net::TcpListener::bind("[::1]:0");
    let Ok(held6) = v6 else {
        eprintln!("SKIPPED: no IPv6 loopback here");
        return;
    };
    let port = held6.local_addr().unwrap().port();
    let p = port.to_string();
    let (code, v) = json(&["bind-test", &p, "--addr", "localhost"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["addr"], "localhost");
    assert_eq!(v["ok"], false);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2, "{v}");
    assert_eq!(
        (r[0]["addr"].as_str(), r[0]["ok"].as_bool()),
        (Some("127.0.0.1"), Some(true)),
        "{v}"
    );
    assert_eq!(
        (r[1]["addr"].as_str(), r[1]["ok"].as_bool()),
        (Some("::1"), Some(false)),
        "{v}"
    );
    assert_eq!(r[1]["cause"], "listener", "{v}");
    // The 127.0.0.1 bind is told that ::1 has a listener on the port.
    assert!(
        r[0]["notes"].to_string().contains(&format!("[::1]:{port}")),
        "{v}"
    );
    // Plain output: both verdicts.
    let out = portwise(&["bind-test", &p, "--addr", "LOCALHOST"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("ok: tcp 127.0.0.1:{port} binds")),
        "{text}"
    );
    assert!(text.contains(&format!("fails: tcp [::1]:{port}")), "{text}");
    drop(held6);
    let (code, v) = json(&["bind-test", &p, "--addr", "localhost"]);
    assert_eq!(code, 0, "{v}");
}

/// Port 80 as root binds, and says a normal user would get EACCES; as a
/// normal user, EACCES is explained as a privileged port.
#[test]
fn port_80_as_root_warns_and_as_a_user_is_privileged() {
    let limit: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024);
    if portwise::platform::OS_NAME != "linux" || limit <= 80 {
        eprintln!("SKIPPED: needs Linux with port 80 privileged (limit {limit})");
        return;
    }
    if portwise::platform::os::process::is_elevated() {
        let (code, v) = json(&["bind-test", "80", "--addr", "127.0.0.1"]);
        if code != 0 {
            eprintln!("SKIPPED as root: port 80 is taken here: {v}");
        } else {
            let notes = v["notes"].to_string();
            assert!(notes.contains("a normal user"), "{v}");
            assert!(notes.contains("EACCES"), "{v}");
            assert!(
                notes.contains(&format!("ip_unprivileged_port_start = {limit}")),
                "{v}"
            );
            let out = portwise(&["bind-test", "80", "--addr", "127.0.0.1"]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("note: It binds because this runs with privileges"),
                "{text}"
            );
        }
    }
    let Some(out) = as_nobody(&["bind-test", "80", "--addr", "127.0.0.1"]) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("EACCES"), "{text}");
    assert!(text.contains("privileged"), "{text}");
    assert!(!text.contains("test again"), "{text}");
    assert!(!text.contains("note: It binds"), "{text}");
}
