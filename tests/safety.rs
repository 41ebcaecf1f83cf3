//! Hostile input against the real binary (issue 11): process names that
//! try to drive the terminal or a spreadsheet, special files in the way of
//! a write, pid reuse, concurrent reservations, kernel threads and zombies,
//! scoped IPv6 addresses, usage errors. Real processes, real sockets on
//! loopback, real files; bounded in time and cleaned up.

mod common;

use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};

use common::{Kid, eventually};

const BIN: &str = env!("CARGO_BIN_EXE_portwise");

fn portwise(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the portwise binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn linux() -> bool {
    let ok = portwise::platform::OS_NAME == "linux";
    if !ok {
        eprintln!("SKIPPED: needs Linux (/proc/PID/comm sets a process name)");
    }
    ok
}

/// The name the child gives itself: an OSC title change, BEL, a newline
/// and the C1 CSI (U+009B), starting with '=' for spreadsheets. 12 bytes:
/// it fits the kernel's 15-byte `comm`.
const HOSTILE: &str = "=x\x1b]0;T\x07\n\u{9b}2J";

/// The body of this binary's `child_listener` test: when re-run with
/// PORTWISE_HOSTILE_PORT set, rename itself (Linux `comm`) to the value of
/// PORTWISE_HOSTILE_NAME and listen on the port for up to 30 s.
#[test]
fn child_listener() {
    let Ok(port) = std::env::var("PORTWISE_HOSTILE_PORT") else {
        return;
    };
    let name = std::env::var("PORTWISE_HOSTILE_NAME").unwrap_or_default();
    // Writing /proc/self/comm renames the process (proc(5)).
    std::fs::write("/proc/self/comm", name.as_bytes()).unwrap();
    let l = TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(30));
    drop(l);
}

/// A child of this binary named `name`, listening on a loopback port.
fn spawn_named_listener(name: &str) -> (Kid, u16) {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kid = Kid(Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_listener",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PORTWISE_HOSTILE_PORT", port.to_string())
        .env("PORTWISE_HOSTILE_NAME", name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap());
    eventually("the child to listen", || {
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()
    });
    let pid = kid.0.id();
    eventually("the child's new name", || {
        let comm = std::fs::read(format!("/proc/{pid}/comm")).ok()?;
        (comm.strip_suffix(b"\n")? == name.as_bytes()).then_some(())
    });
    (kid, port)
}

/// No byte a terminal acts on: C0 but newline, DEL, and C1 (as UTF-8).
fn assert_no_raw_controls(what: &str, text: &str) {
    for c in text.chars() {
        assert!(
            c == '\n' || !c.is_control(),
            "{what} prints {:?} raw:\n{text}",
            c
        );
    }
}

const ESCAPED: &str = "=x\\x1b]0;T\\x07\\x0a\\x9b2J";

#[test]
fn hostile_process_names_are_escaped_for_people_and_exact_in_json() {
    if !linux() {
        return;
    }
    let (kid, port) = spawn_named_listener(HOSTILE);
    let pid = kid.0.id().to_string();
    let p = port.to_string();

    let out = portwise(&["list", "--port", &p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_no_raw_controls("list", &text);
    assert!(text.contains(ESCAPED), "{text}");
    // One row: the newline in the name did not make a second one.
    assert_eq!(
        text.lines().filter(|l| l.contains(&pid)).count(),
        1,
        "{text}"
    );

    let out = portwise(&["list", "--port", &p, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["sockets"][0]["processes"][0]["name"], HOSTILE);

    let out = portwise(&["bind-test", &p, "--addr", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_no_raw_controls("bind-test", &text);
    assert!(text.contains(&format!("pid {pid}  {ESCAPED}")), "{text}");
    let out = portwise(&["bind-test", &p, "--addr", "127.0.0.1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["holders"][0]["name"], HOSTILE, "{v}");

    // The plan is printed, then the question is refused on a non-terminal.
    let out = portwise(&["stop", "--port", &p]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert_no_raw_controls("stop", &text);
    assert!(text.contains(&format!("pid {pid}  {ESCAPED}")), "{text}");
    assert_no_raw_controls("stop's stderr", &stderr(&out));

    // The CSV keeps the name but not as a formula.
    let out = portwise(&["list", "--port", &p, "--csv"]);
    let text = stdout(&out);
    let row = text.lines().nth(1).expect("a row");
    assert!(
        row.ends_with(&format!(",{pid},\"'=x\x1b]0;T\x07")),
        "{text}"
    );
    drop(kid);
}

#[test]
fn audit_escapes_the_file_text_it_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.conf");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "net.ipv4.tcp_tw_recycle = 1\x1b[2J\x07").unwrap();
    writeln!(f, "net.ipv4.\x1b]0;x\x07 = 1").unwrap();
    drop(f);
    let out = portwise(&["tuning", "audit", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert_no_raw_controls("tuning audit", &text);
    assert!(text.contains("\\x1b"), "{text}");
}

/// clap's errors: the whole message on the first line, as portwise's own
/// ("portwise: ..."), then clap's usage as help; exit 2.
#[test]
fn usage_errors_carry_the_whole_message_on_the_first_line() {
    for (args, needle) in [
        (&["tuning", "export"][..], "--goal"),
        (&["tuning", "audit"], "<FILE>"),
        (&["stop"], "--port"),
        (&["list", "--bogus"], "'--bogus'"),
        (&["list", "--json", "--csv"], "'--csv'"),
        (&["frobnicate"], "'frobnicate'"),
    ] {
        let out = portwise(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("portwise: ") && first.contains(needle),
            "{args:?}: {err}"
        );
        assert!(err.contains("Usage: portwise"), "{args:?}: {err}");
    }
    // Help and version still go to stdout with 0.
    let out = portwise(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("portwise "));
}

/// Invalid UTF-8: the message names the argument and shows the bytes.
#[cfg(unix)]
#[test]
fn invalid_utf8_names_the_argument() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let bad = || OsString::from_vec(vec![b'8', 0xff]);
    let mut eq = b"--port=".to_vec();
    eq.push(0xfe);
    for (args, needle) in [
        (
            vec![OsString::from("list"), "--port".into(), bad()],
            "in the value of --port: '8\\xff'",
        ),
        (
            vec![OsString::from("list"), OsString::from_vec(eq)],
            "in the value of --port: '\\xfe'",
        ),
        (
            vec![OsString::from("bind-test"), bad()],
            "in PORT: '8\\xff'",
        ),
        (
            vec![
                OsString::from("bind-test"),
                "80".into(),
                "--addr".into(),
                bad(),
            ],
            "in the value of --addr",
        ),
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains(needle), "{args:?}: {err}");
    }
}

/// `stop --port` takes 1-65535, and says so for every bad value alike.
#[test]
fn stop_port_range_is_the_same_for_every_bad_value() {
    for bad in ["0", "-1", "65536", "http"] {
        let out = portwise(&["stop", "--port", bad, "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert_eq!(
            stderr(&out),
            format!("portwise: invalid port '{bad}' (expected a number from 1 to 65535)\n")
        );
    }
}

/// One rule for "nothing matched": exit 1 (`list` as `bind-test`, `stop`
/// and `free`); 0 when something does.
#[test]
fn nothing_matched_exits_1() {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let p = port.to_string();
    for fmt in [None, Some("--json"), Some("--csv")] {
        let mut args = vec!["list", "--port", &p];
        args.extend(fmt);
        let out = portwise(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    drop(l);
    for fmt in [None, Some("--json"), Some("--csv")] {
        let mut args = vec!["list", "--port", &p, "--state", "listen"];
        args.extend(fmt);
        let out = portwise(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            !stdout(&out).is_empty(),
            "{args:?}: the empty result is printed"
        );
    }
}

/// Field 22 of /proc/PID/stat: the start in clock ticks after boot.
fn start_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &text[text.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().parse().unwrap()
}

/// Run inside a fresh pid namespace by the test below: plan to stop a
/// `sleep`, let it exit, make the kernel hand its pid to a new `sleep`
/// (ns_last_pid), then stop as planned. The new process must not be
/// signalled, above all when it started within the same second.
#[test]
fn pid_reuse_child() {
    if std::env::var_os("PORTWISE_PID_REUSE_CHILD").is_none() {
        return;
    }
    use portwise::stop::{StopOutcome, Stopper, SystemStopper, plan_pid};
    let hz: u64 = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let mut same_second = 0;
    for _ in 0..20 {
        let mut victim = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = victim.id();
        let planned = plan_pid(pid).unwrap().remove(0);
        assert_eq!(planned.name, "sleep");
        let victim_ticks = start_ticks(pid);
        victim.kill().unwrap();
        victim.wait().unwrap();
        // The next pid the kernel hands out is ns_last_pid + 1.
        std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).unwrap();
        let mut replacement = Command::new("sleep").arg("30").spawn().unwrap();
        if replacement.id() != pid {
            let _ = replacement.kill();
            let _ = replacement.wait();
            continue;
        }
        let same = start_ticks(pid) / hz == victim_ticks / hz;
        let mut stopper = SystemStopper::new(Box::new(portwise::sockets::SystemSource::new()));
        let r = stopper.stop(&planned, true);
        let alive = replacement.try_wait().unwrap().is_none();
        let _ = replacement.kill();
        let _ = replacement.wait();
        assert_eq!(r.outcome, StopOutcome::PidReused, "{}", r.message);
        assert!(alive, "the process that took the pid was signalled");
        if same {
            same_second += 1;
            if same_second == 3 {
                break;
            }
        }
    }
    assert!(same_second > 0, "no pid was reused within the same second");
    println!("PID-REUSED-WITHIN-THE-SAME-SECOND {same_second}");
}

#[test]
fn a_pid_reused_within_the_same_second_is_not_signalled() {
    if !linux() {
        return;
    }
    if !portwise::platform::os::process::is_elevated() {
        eprintln!("SKIPPED: forcing pid reuse (ns_last_pid in a new pid namespace) needs root");
        return;
    }
    let out = Command::new("unshare")
        .args(["-p", "-f", "--mount-proc"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pid_reuse_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PORTWISE_PID_REUSE_CHILD", "1")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: cannot run unshare: {e}");
            return;
        }
    };
    let text = format!("{}{}", stdout(&out), stderr(&out));
    if !out.status.success() && text.contains("unshare failed") {
        eprintln!("SKIPPED: no new pid namespace here: {text}");
        return;
    }
    assert!(out.status.success(), "{text}");
    assert!(text.contains("PID-REUSED-WITHIN-THE-SAME-SECOND"), "{text}");
}

/// `stop --pid 2` (kthreadd): refused as a kernel thread, nothing planned.
#[test]
fn kernel_threads_are_refused() {
    if !linux() {
        return;
    }
    let comm = std::fs::read_to_string("/proc/2/comm").unwrap_or_default();
    if comm.trim() != "kthreadd" {
        eprintln!("SKIPPED: pid 2 is not kthreadd here (a pid namespace)");
        return;
    }
    let out = portwise(&["stop", "--pid", "2", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "no plan: {}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("will not stop pid 2") && err.contains("kernel thread (kthreadd)"),
        "{err}"
    );
}

/// A zombie: said to have exited, to hold no port, and its parent named.
#[test]
fn zombies_are_explained_with_their_parent() {
    if !linux() {
        return;
    }
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    // Not reaped yet: it stays a zombie until wait() below.
    eventually("the child to become a zombie", || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = &stat[stat.rfind(')')? + 1..];
        (after.trim_start().starts_with('Z')).then_some(())
    });
    let out = portwise(&["stop", "--pid", &pid.to_string(), "--yes"]);
    child.wait().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let me = std::process::id();
    assert!(
        err.contains(&format!("(pid {pid}) has already exited"))
            && err.contains("zombie")
            && err.contains("holds no port")
            && err.contains(&format!("(pid {me})")),
        "{err}"
    );
}

/// Twenty `portwise free --reserve` at once on one 200-port range, each
/// callers' ports parsed from its output: no port may go to two callers.
/// `lo` is the range's first port.
fn reserve_concurrently(lo: u16, count: usize) -> Result<(), String> {
    let range = format!("{lo}-{}", lo + 199);
    let n = count.to_string();
    let kids: Vec<std::process::Child> = (0..20)
        .map(|_| {
            Command::new(BIN)
                .args(["free", "--count", &n, "--reserve", "--range", &range])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen = std::collections::BTreeMap::<u16, usize>::new();
    for (i, kid) in kids.into_iter().enumerate() {
        let out = kid.wait_with_output().unwrap();
        assert!(out.status.success(), "caller {i}: {}", stderr(&out));
        let ports: Vec<u16> = stdout(&out)
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        assert_eq!(ports.len(), count, "caller {i}: {}", stdout(&out));
        for p in ports {
            assert!((lo..=lo + 199).contains(&p));
            *seen.entry(p).or_default() += 1;
        }
    }
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    if dups.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "range {range}, --count {count}: ports handed to several callers: {dups:?}"
        ))
    }
}

/// Twenty concurrent `portwise free --count 5 --reserve` on a 200-port
/// range (the probe, which found 12 shared ports), twice, then 20
/// x 9 ports of 200, where the old check-then-reserve shared several ports
/// every time: every port goes to one caller only.
#[test]
fn concurrent_reservations_never_share_a_port() {
    // Blocks outside Linux's default ephemeral range (32768-60999) and the
    // ranges other tests use, picked from the clock, so a rerun within
    // TIME_WAIT's 60 s finds fresh ones.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let base = 10_000 + (seed % 15) as u16 * 600;
    let results = [
        reserve_concurrently(base, 5),
        reserve_concurrently(base + 200, 5),
        reserve_concurrently(base + 400, 9),
    ];
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The numbers a reason counts: "2 sockets held by ...; 1 socket not
/// found ..." -> 3.
fn counted_in(reason: &str) -> usize {
    reason
        .split("; ")
        .filter_map(|part| part.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

/// As a normal user next to root's sockets (a listener and an established
/// connection, which plain `list` does not show): the footer's
/// unattributed count and its reason count the same sockets, in the table
/// and in JSON, with and without a filter.
#[test]
fn unattributed_count_and_reason_count_the_same_sockets() {
    if !linux() {
        return;
    }
    if !portwise::platform::os::process::is_elevated() {
        eprintln!("SKIPPED: needs root, to hold sockets another user cannot attribute");
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("SKIPPED: setpriv is not installed");
        return;
    }
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let _client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    let _server = l.accept().unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(BIN)
            .args(args)
            .output()
            .unwrap()
    };
    let p = port.to_string();
    for args in [&["list"][..], &["list", "--port", &p], &["list", "--all"]] {
        let out = as_nobody(args);
        let text = stdout(&out);
        let line = text
            .lines()
            .find(|l| l.starts_with("unattributed: "))
            .unwrap_or_else(|| panic!("{args:?}: {text}{}", stderr(&out)));
        let rest = &line["unattributed: ".len()..];
        let (n, reason) = match rest.split_once(" (") {
            Some((n, r)) => (n.parse::<usize>().unwrap(), r.trim_end_matches(')')),
            None => (rest.parse::<usize>().unwrap(), ""),
        };
        assert!(n >= 1, "{args:?}: root's listener is unattributed: {line}");
        assert_eq!(n, counted_in(reason), "{args:?}: {line}");
        assert!(reason.contains("root (uid 0)"), "{args:?}: {line}");
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let out = as_nobody(&json_args);
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let n = v["unattributed"].as_u64().unwrap() as usize;
        let reason = v["unattributed_reason"].as_str().unwrap_or_default();
        assert_eq!(n, counted_in(reason), "{json_args:?}: {v}");
    }
}

/// Scoped IPv6 addresses are accepted and bound with their scope: ::1 with
/// lo's name or index; an unknown interface is a usage error naming it.
#[test]
fn scoped_ipv6_addresses_are_accepted() {
    if !linux() {
        return;
    }
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: no IPv6 loopback here");
        return;
    }
    let lo_index = std::fs::read_to_string("/sys/class/net/lo/ifindex")
        .unwrap()
        .trim()
        .to_string();
    for addr in ["::1%lo".to_string(), format!("[::1%{lo_index}]")] {
        let out = portwise(&["bind-test", "0", "--addr", &addr, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{addr}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["ok"], true, "{addr}: {v}");
    }
    let out = portwise(&["bind-test", "0", "--addr", "fe80::1%no-such-if0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'fe80::1%no-such-if0'"),
        "{}",
        stderr(&out)
    );
}

/// A link-local address binds with its scope (name or index) and not
/// without one. Root only: the address goes on the loopback interface of a
/// throwaway network namespace (`unshare -n`), never the machine's own.
#[test]
fn link_local_addresses_bind_with_their_scope() {
    if !linux() {
        return;
    }
    if !portwise::platform::os::process::is_elevated() {
        eprintln!("SKIPPED: adding a link-local address in a new network namespace needs root");
        return;
    }
    let script = format!(
        "ip link set lo up && ip addr add fe80::1/64 dev lo nodad && \
         for a in 'fe80::1%lo' '[fe80::1%1]'; do '{BIN}' bind-test 0 --addr \"$a\" || exit 10; done; \
         '{BIN}' bind-test 0 --addr fe80::1; echo \"unscoped=$?\""
    );
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: cannot run unshare: {e}");
            return;
        }
    };
    let text = format!("{}{}", stdout(&out), stderr(&out));
    if text.contains("unshare failed") || text.contains("Operation not permitted") {
        eprintln!("SKIPPED: no new network namespace here: {text}");
        return;
    }
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("ok: tcp [fe80::1]:").count(), 2, "{text}");
    // Without the scope the kernel refuses a link-local bind (EINVAL).
    assert!(text.contains("unscoped=1"), "{text}");
}
