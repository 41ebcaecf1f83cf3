//! "Who holds port P?" as a user asks it: `portwise list --port P` and
//! `portwise bind-test P` stop reading /proc once they have found the
//! owners (Linux), and must name the same processes as `portwise list`,
//! which reads every process. Real processes holding a real loopback
//! listener, low and high among many descriptors; all killed at the end.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Children killed and reaped however the test ends.
struct Kids(Vec<Child>);

impl Drop for Kids {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `sleep 30` holding `fd` of this process as its descriptor `at`, with
/// /dev/null on every other descriptor from 3 below `upto`.
fn spawn_busy(kids: &mut Kids, fd: i32, at: i32, upto: i32) -> u32 {
    let null = std::fs::File::open("/dev/null").unwrap();
    let null_fd = null.as_raw_fd();
    let mut cmd = Command::new("sleep");
    cmd.arg("30")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: fcntl and dup2 are async-signal-safe. The sources move above
    // 800 first (close-on-exec copies), so filling 3.. cannot overwrite
    // them; the copies made by dup2 survive exec.
    unsafe {
        cmd.pre_exec(move || {
            let sock = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 800);
            let nul = libc::fcntl(null_fd, libc::F_DUPFD_CLOEXEC, 800);
            if sock < 0 || nul < 0 || libc::dup2(sock, at) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for n in (3..upto).filter(|&n| n != at) {
                if libc::dup2(nul, n) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    kids.0.push(child);
    pid
}

fn portwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = portwise(args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// The pids `portwise list ARGS --json` names for the listener on
/// 127.0.0.1:`port`.
fn listed_owners(args: &[&str], port: u16) -> BTreeSet<u64> {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    all.push("--json");
    let v = json(&all);
    let rows: Vec<&Value> = v["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["state"] == "LISTEN" && s["local_addr"] == "127.0.0.1" && s["local_port"] == port
        })
        .collect();
    assert_eq!(rows.len(), 1, "{all:?}: {rows:?}");
    rows[0]["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect()
}

/// The holders `portwise bind-test --json` names for 127.0.0.1:`port`.
fn bind_test_holders(port: u16) -> BTreeSet<u64> {
    let p = port.to_string();
    let v = json(&["bind-test", &p, "--addr", "127.0.0.1", "--json"]);
    assert_eq!(v["ok"], false, "{v}");
    v["holders"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|h| h["pid"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_port_query_names_the_same_owners_as_the_full_table() {
    let me = u64::from(std::process::id());
    let mut kids = Kids(Vec::new());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Held by this process, by a busy child far above its lowest
    // descriptors, and by another busy child at descriptor 3.
    let high = u64::from(spawn_busy(&mut kids, listener.as_raw_fd(), 380, 400));
    let low = u64::from(spawn_busy(&mut kids, listener.as_raw_fd(), 3, 400));
    let expected: BTreeSet<u64> = [me, high, low].into_iter().collect();

    // Bounded: until both children have exec'd (before that, a forked
    // child holds every descriptor of this process).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let full = listed_owners(&["--all"], port);
        if full == expected {
            break;
        }
        assert!(Instant::now() < deadline, "full table names {full:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let p = port.to_string();
    assert_eq!(
        listed_owners(&["--port", &p], port),
        expected,
        "list --port"
    );
    assert_eq!(
        listed_owners(&["--all", "--port", &p], port),
        expected,
        "list --all --port"
    );
    assert_eq!(bind_test_holders(port), expected, "bind-test");
    // The full table again: nothing changed meanwhile.
    assert_eq!(listed_owners(&["--all"], port), expected);
    drop(listener);
}
