//! `portwise list` as a user runs it: the real binary against real loopback
//! sockets.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{PATIENCE, make_time_wait, my_name_matches};
use portwise::platform::OS_NAME;
use serde_json::Value;

fn portwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .output()
        .unwrap()
}

/// Run `portwise list ARGS --json` and return the parsed object. Exit 0
/// when some socket matches, 1 when none does (the document is printed
/// either way).
fn list_json(args: &[&str]) -> Value {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = portwise(&all);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{all:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let matched = !v["sockets"].as_array().is_none_or(|s| s.is_empty());
    assert_eq!(
        out.status.code(),
        Some(if matched { 0 } else { 1 }),
        "{:?}: {}",
        all,
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

fn sockets(v: &Value) -> &Vec<Value> {
    v["sockets"].as_array().unwrap()
}

/// The listed sockets with exactly this local and remote end. Tests match
/// their own sockets this way: other sockets on the machine (a benchmark's
/// TIME_WAIT pile, say) may share a port number.
fn find(v: &Value, local: SocketAddr, remote: Option<SocketAddr>) -> Vec<&Value> {
    sockets(v)
        .iter()
        .filter(|s| {
            s["local_addr"] == local.ip().to_string()
                && s["local_port"] == local.port()
                && s["remote_addr"] == remote.map_or(Value::Null, |r| r.ip().to_string().into())
                && s["remote_port"] == remote.map_or(Value::Null, |r| r.port().into())
        })
        .collect()
}

fn states(v: &Value) -> Vec<Value> {
    sockets(v).iter().map(|s| s["state"].clone()).collect()
}

/// A connected pair on a fresh listener: (listener, client, accepted).
fn connection() -> (TcpListener, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (listener, client, server)
}

#[test]
fn default_view_shows_listeners_udp_and_time_wait_but_not_established() {
    if common::wine_hides_owners() {
        return;
    }
    let (listener, client, server) = connection();
    let l = listener.local_addr().unwrap();
    let (c, sv) = (client.local_addr().unwrap(), server.local_addr().unwrap());
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let u = udp.local_addr().unwrap();

    let v = list_json(&[]);
    let mine = find(&v, l, None);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["state"], "LISTEN");
    assert_eq!(mine[0]["processes"][0]["pid"], std::process::id());
    assert!(my_name_matches(
        mine[0]["processes"][0]["name"].as_str().unwrap()
    ));
    let found = find(&v, u, None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["proto"], "udp");
    assert_eq!(found[0]["state"], Value::Null);
    assert!(find(&v, c, Some(l)).is_empty() && find(&v, sv, Some(c)).is_empty());
    for st in states(&v) {
        assert!(st == "LISTEN" || st == "TIME_WAIT" || st.is_null(), "{st}");
    }

    // --all adds both ends of the connection.
    let all = list_json(&["--all"]);
    assert_eq!(find(&all, c, Some(l))[0]["state"], "ESTABLISHED");
    assert_eq!(find(&all, sv, Some(c))[0]["state"], "ESTABLISHED");
    assert_eq!(find(&all, l, None).len(), 1);
}

#[test]
fn state_port_proto_and_pid_filters() {
    if common::wine_hides_owners() {
        return;
    }
    let (listener, client, server) = connection();
    let l = listener.local_addr().unwrap();
    let port = l.port();
    let (c, sv) = (client.local_addr().unwrap(), server.local_addr().unwrap());
    let client_port = c.port();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();

    // --state, with the spellings the issue promises.
    for spelling in ["established", "ESTABLISHED", "Established"] {
        let v = list_json(&["--state", spelling, "--port", &port.to_string()]);
        assert!(
            states(&v).iter().all(|s| s == "ESTABLISHED"),
            "{spelling}: {v}"
        );
        assert_eq!(find(&v, c, Some(l)).len(), 1, "{spelling}");
        assert_eq!(find(&v, sv, Some(c)).len(), 1, "{spelling}");
        assert!(find(&v, l, None).is_empty());
    }
    let v = list_json(&["--state", "listen,established", "--port", &port.to_string()]);
    assert!(
        states(&v)
            .iter()
            .all(|s| s == "LISTEN" || s == "ESTABLISHED")
    );
    assert_eq!(
        find(&v, l, None).len() + find(&v, c, Some(l)).len() + find(&v, sv, Some(c)).len(),
        3
    );
    let v = list_json(&[
        "--state",
        "close-wait",
        "--state",
        "fin_wait_2",
        "--port",
        &port.to_string(),
    ]);
    assert!(
        states(&v)
            .iter()
            .all(|s| s == "CLOSE_WAIT" || s == "FIN_WAIT_2")
    );
    assert!(find(&v, l, None).is_empty() && find(&v, c, Some(l)).is_empty());

    // --port matches the remote end too: the client's socket has the
    // listener's port as its remote port.
    let v = list_json(&["--all", "--port", &port.to_string()]);
    assert!(
        sockets(&v)
            .iter()
            .any(|s| s["local_port"] == client_port && s["remote_port"] == port)
    );
    assert!(
        sockets(&v)
            .iter()
            .all(|s| s["local_port"] == port || s["remote_port"] == port)
    );

    // --proto
    let v = list_json(&["--proto", "udp"]);
    assert!(sockets(&v).iter().all(|s| s["proto"] == "udp"));
    assert!(sockets(&v).iter().any(|s| s["local_port"] == udp_port));
    // (A TCP socket elsewhere may share the number: TCP and UDP ports are
    // separate spaces.)
    let v = list_json(&["--all", "--proto", "TCP", "--port", &udp_port.to_string()]);
    assert!(sockets(&v).iter().all(|s| s["proto"] == "tcp"), "{v}");
    assert!(find(&v, udp.local_addr().unwrap(), None).is_empty());

    // --pid keeps this process's sockets only.
    let me = std::process::id();
    let v = list_json(&["--all", "--pid", &me.to_string()]);
    assert!(sockets(&v).len() >= 4, "{v}");
    assert!(sockets(&v).iter().all(|s| {
        s["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == me)
    }));
    // A child process's pid keeps none of ours. The Reaper kills it even
    // when an assertion fails first.
    let child = Reaper(
        Command::new(env!("CARGO_BIN_EXE_portwise"))
            .args(["list", "--watch", "60"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let v = list_json(&[
        "--all",
        "--pid",
        &child.0.id().to_string(),
        "--port",
        &port.to_string(),
    ]);
    drop(child);
    assert!(sockets(&v).is_empty());
}

#[test]
fn time_wait_shows_in_every_format_with_the_right_count() {
    if common::wine_hides_owners() {
        return;
    }
    if OS_NAME == "macos" {
        return; // macOS lists no TIME_WAIT sockets (platform/macos/sockets.rs).
    }
    const N: usize = 3;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let l = listener.local_addr().unwrap();
    let port = l.port();
    let clients: Vec<SocketAddr> = make_time_wait(&listener, N);
    let p = port.to_string();
    let ours = |local: &str, lport: &str, remote: &str, rport: &str| {
        local == "127.0.0.1"
            && lport == p
            && remote == "127.0.0.1"
            && clients.iter().any(|c| c.port().to_string() == rport)
    };

    // JSON
    let v = common::eventually("TIME_WAIT in --json", || {
        let v = list_json(&["--state", "time-wait", "--port", &p]);
        let tw: Vec<Value> = clients
            .iter()
            .flat_map(|c| find(&v, l, Some(*c)))
            .cloned()
            .collect();
        (tw.len() == N).then_some(tw)
    });
    for s in &v {
        assert_eq!(s["state"], "TIME_WAIT");
        assert_eq!(s["processes"], Value::Array(vec![]));
        if OS_NAME == "linux" {
            let ms = s["time_wait_expires_in_ms"].as_u64().unwrap();
            assert!(ms > 0 && ms <= 60_000);
        } else {
            assert_eq!(s["time_wait_expires_in_ms"], Value::Null);
        }
    }

    // CSV
    let out = portwise(&["list", "--csv", "--port", &p]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "proto,family,local_addr,local_port,remote_addr,remote_port,state,pids,process,time_wait_expires_in_ms,command"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 11), "{text}");
    let tw: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[6] == "TIME_WAIT" && ours(r[2], r[3], r[4], r[5]))
        .collect();
    assert_eq!(tw.len(), N, "{text}");
    let listen: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[6] == "LISTEN" && r[2] == "127.0.0.1" && r[3] == p)
        .collect();
    assert_eq!(listen.len(), 1);
    assert_eq!(listen[0][7], std::process::id().to_string());
    for r in &tw {
        assert_eq!(r[7], "", "no pid for TIME_WAIT");
        if OS_NAME == "linux" {
            let ms: u64 = r[9].parse().unwrap();
            assert!(ms > 0 && ms <= 60_000);
        }
    }

    // Table: aligned columns, countdown, footer with counts per state.
    let out = portwise(&["list", "--port", &p]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROTO"), "{text}");
    let state_col = lines[0].find("STATE").unwrap();
    let rows: Vec<&str> = lines[1..]
        .iter()
        .take_while(|l| !l.is_empty())
        .copied()
        .collect();
    let tw_lines: Vec<&&str> = rows
        .iter()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (local, remote) = (f[1].rsplit_once(':').unwrap(), f[2].rsplit_once(':'));
            f[3] == "TIME_WAIT" && remote.is_some_and(|(ra, rp)| ours(local.0, local.1, ra, rp))
        })
        .collect();
    assert_eq!(tw_lines.len(), N, "{text}");
    for l in &tw_lines {
        assert_eq!(l.find("TIME_WAIT"), Some(state_col), "{text}");
        if OS_NAME == "linux" {
            let left = l.split_whitespace().nth(4).unwrap();
            let secs: f64 = left.trim_end_matches('s').parse().unwrap();
            assert!(secs > 0.0 && secs <= 60.0, "{l}");
        }
    }
    // The footer counts what the table shows, per state.
    let count = |state: &str| {
        rows.iter()
            .filter(|l| l.split_whitespace().nth(3) == Some(state))
            .count()
    };
    let (listening, waiting) = (count("LISTEN"), count("TIME_WAIT"));
    assert!(listening >= 1 && waiting >= N);
    let mut expected = format!(
        "{} sockets: {listening} LISTEN, {waiting} TIME_WAIT\n",
        rows.len()
    );
    if listening + waiting < rows.len() {
        // Other sockets on this port number (UDP): then the line differs;
        // check only the TCP part is there.
        expected = format!("{listening} LISTEN, {waiting} TIME_WAIT");
    }
    assert!(text.contains(&expected), "{text}");
    assert!(text.contains("\nunattributed: "), "{text}");
}

#[test]
fn bound_only_sockets_show_with_state_closed() {
    if !common::kernel_lists_bound_only() {
        return;
    }
    let (_socket, local) = common::bound_only();
    let p = local.port().to_string();
    for args in [
        &["--state", "closed", "--port", &p][..],
        &["--state", "listen,CLOSED", "--port", &p][..],
    ] {
        let v = list_json(args);
        let found = find(&v, local, None);
        assert_eq!(found.len(), 1, "{args:?}: {v}");
        assert_eq!(found[0]["state"], "CLOSED");
        assert_eq!(found[0]["processes"][0]["pid"], std::process::id());
    }
    assert!(find(&list_json(&["--port", &p]), local, None).is_empty());
}

#[test]
fn json_has_exactly_the_documented_fields() {
    if common::wine_hides_owners() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let v = list_json(&["--port", &port.to_string()]);
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in ["taken_at_unix_ms", "unattributed", "sockets"] {
        assert!(top.contains(&k), "{top:?}");
    }
    assert!(v["taken_at_unix_ms"].as_u64().unwrap() > 1_600_000_000_000);
    let s = &sockets(&v)[0];
    let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "family",
            "last_known_owner",
            "local_addr",
            "local_port",
            "netns",
            "processes",
            "proto",
            "remote_addr",
            "remote_port",
            "state",
            "time_wait_expires_in_ms"
        ]
    );
    assert_eq!(s["proto"], "tcp");
    assert_eq!(s["family"], "ipv4");
    assert_eq!(s["local_addr"], "127.0.0.1");
    assert_eq!(s["remote_addr"], Value::Null);
    assert_eq!(s["time_wait_expires_in_ms"], Value::Null);
    assert_eq!(s["last_known_owner"], Value::Null);
    let p = &s["processes"][0];
    let mut pkeys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    pkeys.sort();
    // cmdline is left out where the OS gives none; this test's own
    // process has one: its arguments, as the OS reports them.
    assert_eq!(pkeys, ["cmdline", "exe", "name", "pid", "user"]);
    let mine: Vec<String> = std::env::args().collect();
    let got: Vec<String> = p["cmdline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, mine);
}

/// Two python3 servers that differ only in their arguments: `list` tells
/// them apart in JSON and CSV, and the table stays as it was.
#[test]
fn command_lines_tell_two_python3_servers_apart() {
    if common::wine_hides_owners() {
        return;
    }
    let ok = Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 is not installed");
        return;
    }
    // Each binds 127.0.0.1:0, prints its port, then waits for stdin to close.
    let script = "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen()\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()";
    let start = |tag: &str| {
        let mut child = Command::new("python3")
            .args(["-c", script, tag, "two words"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        (Reaper(child), port)
    };
    let (_a, port_a) = start("--serve=alpha");
    let (_b, port_b) = start("--serve=beta");
    for (port, tag) in [(port_a, "--serve=alpha"), (port_b, "--serve=beta")] {
        let v = list_json(&["--port", &port.to_string()]);
        let s = &sockets(&v)[0];
        let p = &s["processes"][0];
        assert_eq!(p["name"], "python3");
        let args: Vec<&str> = p["cmdline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args.len(), 5, "{args:?}");
        assert!(args[0].contains("python3"), "{args:?}");
        assert_eq!(args[1..], ["-c", script, tag, "two words"]);
        // CSV: the last column, the arguments as one line (a newline in
        // the script quoted, as RFC 4180 wants).
        let out = portwise(&["list", "--port", &port.to_string(), "--csv"]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("proto,"), "{text}");
        assert!(text.lines().next().unwrap().ends_with(",command"));
        assert!(
            text.trim_end().ends_with(&format!("{tag} 'two words'\"")),
            "{text}"
        );
    }
}

/// Kills the child when the test ends, passing or not.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_remembers_owners_and_names_them_in_time_wait() {
    if common::wine_hides_owners() {
        return;
    }
    if OS_NAME == "macos" {
        return; // macOS lists no TIME_WAIT sockets.
    }
    let (listener, client, server) = connection();
    let port = listener.local_addr().unwrap().port();
    let mut child = Reaper(
        Command::new(env!("CARGO_BIN_EXE_portwise"))
            .args([
                "list",
                "--watch",
                "0.2",
                "--all",
                "--json",
                "--port",
                &port.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let reader = std::thread::Builder::new()
        .name("watch-reader".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let line = line.trim_end_matches(',');
                if line.starts_with("{\"proto\"")
                    && let Ok(v) = serde_json::from_str::<Value>(line)
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        })
        .unwrap();

    // Wait until the watcher has seen the connection alive.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let v = rx.recv_timeout(PATIENCE).expect("watch output");
        if v["state"] == "ESTABLISHED" && v["local_port"] == port {
            break;
        }
        assert!(Instant::now() < deadline, "never saw ESTABLISHED");
    }
    // Close from the accepting side first: TIME_WAIT on the listener port.
    drop(server);
    let mut buf = [0u8; 1];
    assert_eq!((&client).read(&mut buf).unwrap(), 0);
    drop(client);

    let deadline = Instant::now() + PATIENCE;
    let tw = loop {
        let v = rx.recv_timeout(PATIENCE).expect("watch output");
        if v["state"] == "TIME_WAIT" && v["local_port"] == port {
            break v;
        }
        assert!(Instant::now() < deadline, "never saw TIME_WAIT");
    };
    assert_eq!(tw["processes"], Value::Array(vec![]));
    assert_eq!(tw["last_known_owner"]["pid"], std::process::id(), "{tw}");
    assert!(my_name_matches(
        tw["last_known_owner"]["name"].as_str().unwrap()
    ));
    drop(child);
    drop(rx);
    reader.join().unwrap();
}

#[test]
fn bad_input_exits_2_with_a_one_line_message_naming_the_value() {
    let cases: [(&[&str], &str); 9] = [
        (&["--state", "bogus"], "bogus"),
        (&["--state", "listen,nope"], "nope"),
        (&["--port", "65536"], "65536"),
        (&["--port", "-1"], "-1"),
        (&["--port", "http"], "http"),
        (&["--proto", "sctp"], "sctp"),
        (&["--pid", "abc"], "abc"),
        (&["--watch", "0"], "0"),
        (&["--watch", "soon"], "soon"),
    ];
    for (args, bad) in cases {
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        let out = portwise(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {err}");
        assert!(out.stdout.is_empty(), "{all:?}");
        assert_eq!(err.lines().count(), 1, "{all:?}: {err}");
        assert!(err.contains(&format!("'{bad}'")), "{all:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Port 0 and 65535 are valid ports: no usage error, whether or not
    // something matches (0: yes, 1: no, as documented).
    for ok in ["0", "65535"] {
        let code = portwise(&["list", "--port", ok]).status.code();
        assert!(matches!(code, Some(0 | 1)), "{ok}: {code:?}");
    }
}

#[test]
fn help_is_available_and_closed_pipes_are_not_errors() {
    let out = portwise(&["list", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--all", "--state", "--port", "--proto", "--pid", "--json", "--csv", "--watch",
    ] {
        assert!(text.contains(flag), "{flag} missing from help");
    }
    // `portwise list --watch 0.1 | head -1`: the reader leaves; portwise
    // must end on its own, quietly.
    let mut child = Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(["list", "--watch", "0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 13];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"portwise list".as_slice());
    drop(stdout);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > PATIENCE {
            child.kill().unwrap();
            panic!("portwise kept running after its reader left");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.is_empty(), "{err}");
}

/// A listener of another user (root) whose process `nobody` cannot see:
/// the table names its user from the socket's uid, not "?", and says the
/// process is hidden (issue 13: "show the user"). Needs root to be another
/// user than `nobody`.
#[test]
fn a_hidden_owner_is_named_by_the_sockets_user() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let Some(out) = common::portwise_as_nobody(&["list", "--port", &port]) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = text
        .lines()
        .find(|l| l.contains(&format!("127.0.0.1:{port} ")))
        .unwrap_or_else(|| panic!("no row for the listener:\n{text}"));
    assert!(row.contains("(hidden, see below)"), "{row}");
    let user = row.split_whitespace().rev().nth(3).unwrap_or_default();
    assert_eq!(user, "root", "the USER cell: {row}");
    drop(l);
}

/// `--port` reads only that port's sockets: an empty answer says so, and
/// does not claim the machine has none ("of 0 on this machine").
#[test]
fn an_empty_port_answer_does_not_count_the_machine() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = portwise(&["list", "--port", &free.to_string()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("0 sockets match on port {free}")),
        "{text}"
    );
    assert!(!text.contains("on this machine"), "{text}");
}
