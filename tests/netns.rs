//! Network namespaces, for real: servers inside an `ip netns add` namespace
//! and inside an `unshare -n` child, seen by `portwise list --netns ...` and
//! `portwise bind-test` from the host namespace.
//!
//! Needs root (creating and entering namespaces); otherwise each test says
//! `SKIPPED: <reason>` and returns. Everything made here has a unique name
//! and is removed in `Drop`, whatever happens. The servers listen on
//! 127.0.0.1 inside their own namespaces (each has its own loopback).
//! Network namespaces are Linux-only, and so is this file.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Env var that turns this test binary into a listener (see
/// [`helper_listener`]).
const HELPER_PORT: &str = "PORTWISE_TEST_NETNS_LISTEN_PORT";
const READY: &str = "PORTWISE_NETNS_HELPER_READY";

/// Not a test of its own: when run with [`HELPER_PORT`] set (inside a
/// namespace, by the tests below), bring up loopback, listen on
/// 127.0.0.1:PORT, say so, and stay until stdin closes (at most 60 s).
#[test]
fn helper_listener() {
    let Ok(port) = std::env::var(HELPER_PORT) else {
        return;
    };
    let port: u16 = port.parse().unwrap();
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(up.success());
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    // On a line of its own: libtest has already printed "test ... " here.
    println!("\n{READY} {}", std::process::id());
    std::thread::Builder::new()
        .name("helper-deadline".into())
        .spawn(|| {
            std::thread::sleep(Duration::from_secs(60));
            std::process::exit(0);
        })
        .unwrap();
    let mut buf = [0u8; 1];
    let _ = std::io::stdin().read(&mut buf);
    drop(listener);
}

fn skip_unless_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: creating and entering network namespaces needs root");
        return true;
    }
    let ok = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("unshare")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: needs `ip` (iproute2) and `unshare` (util-linux)");
        return true;
    }
    false
}

/// A named namespace, deleted on drop.
struct NamedNetns {
    name: String,
}

impl NamedNetns {
    fn new() -> Option<NamedNetns> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pw-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: `ip netns add {name}` failed (no namespace support here?)");
            return None;
        }
        Some(NamedNetns { name })
    }
}

impl Drop for NamedNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A listener process in a namespace of its own, killed on drop.
struct Server {
    child: Child,
    pid: u32,
}

impl Server {
    /// `prefix` runs this test binary as the helper in a namespace.
    /// Panics if it does not come up: as root with `ip` and `unshare`
    /// present, that is a real failure.
    fn start(prefix: &[&str], port: u16) -> Server {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = Command::new(prefix[0]);
        cmd.args(&prefix[1..])
            .arg(&exe)
            .args([
                "--exact",
                "helper_listener",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HELPER_PORT, port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut server = Server { child, pid: 0 };
        // Read until the helper says it listens (or exits: EOF).
        let mut lines = BufReader::new(stdout).lines();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(pid) = line.trim().strip_prefix(READY) {
                        server.pid = pid.trim().parse().unwrap();
                        return server;
                    }
                }
                _ => break,
            }
        }
        panic!("the listener in {prefix:?} did not start");
    }

    fn netns_inode(&self) -> u64 {
        std::fs::metadata(format!("/proc/{}/ns/net", self.pid))
            .unwrap()
            .ino()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn portwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .output()
        .unwrap()
}

/// `portwise ARGS` printing JSON: exit 0, or 1 exactly when no socket
/// matches (the documented rule).
fn json(args: &[&str]) -> Value {
    let out = portwise(args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let empty = v["sockets"].as_array().is_some_and(|a| a.is_empty());
    let want = if empty { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(want), "{args:?}: {v}");
    v
}

/// A port nothing on the host listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn listeners_on(v: &Value, port: u16) -> Vec<Value> {
    v["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["local_port"] == port && s["state"] == "LISTEN")
        .cloned()
        .collect()
}

fn own_inode() -> u64 {
    std::fs::metadata("/proc/self/ns/net").unwrap().ino()
}

/// The namespaces and servers both tests use.
struct Scene {
    named: NamedNetns,
    in_named: Server,
    anonymous: Server,
    port: u16,
}

fn scene() -> Option<Scene> {
    if skip_unless_root() {
        return None;
    }
    let port = free_port();
    let named = NamedNetns::new()?;
    let in_named = Server::start(&["ip", "netns", "exec", &named.name], port);
    let anonymous = Server::start(&["unshare", "-n", "--"], port);
    Some(Scene {
        named,
        in_named,
        anonymous,
        port,
    })
}

#[test]
fn list_netns_all_shows_named_and_anonymous_namespaces_with_owner_inode_and_name() {
    let Some(sc) = scene() else {
        return;
    };
    let own = own_inode();
    let named_inode = sc.in_named.netns_inode();
    let anon_inode = sc.anonymous.netns_inode();
    assert!(named_inode != own && anon_inode != own && named_inode != anon_inode);

    let v = json(&[
        "list",
        "--netns",
        "all",
        "--json",
        "--port",
        &sc.port.to_string(),
    ]);
    let found = listeners_on(&v, sc.port);
    let in_ns = |inode: u64| -> Value {
        let hits: Vec<&Value> = found
            .iter()
            .filter(|s| s["netns"]["inode"] == inode)
            .collect();
        assert_eq!(hits.len(), 1, "netns {inode}: {found:?}");
        hits[0].clone()
    };
    let named = in_ns(named_inode);
    assert_eq!(named["local_addr"], "127.0.0.1");
    assert_eq!(named["netns"]["name"], sc.named.name.as_str());
    assert_eq!(named["netns"]["container"], Value::Null);
    assert_eq!(named["processes"][0]["pid"], sc.in_named.pid);
    let anon = in_ns(anon_inode);
    assert_eq!(anon["netns"]["name"], Value::Null);
    assert_eq!(anon["processes"][0]["pid"], sc.anonymous.pid);
    // Nothing in the own namespace listens on the port.
    assert!(
        found.iter().all(|s| s["netns"]["inode"] != own),
        "{found:?}"
    );

    // The default list stays on the own namespace and says others exist.
    let v = json(&["list", "--json", "--port", &sc.port.to_string()]);
    assert!(listeners_on(&v, sc.port).is_empty(), "{v}");
    let note = v["netns_note"].as_str().unwrap_or_default();
    assert!(note.contains("other network namespace"), "{v}");
    let table =
        String::from_utf8(portwise(&["list", "--port", &sc.port.to_string()]).stdout).unwrap();
    assert!(!table.contains("LISTEN "), "{table}");
    assert!(
        table.contains("note: ") && table.contains("--netns all"),
        "{table}"
    );
    // Every socket of the default list carries the own namespace.
    let v = json(&["list", "--json"]);
    for s in v["sockets"].as_array().unwrap() {
        assert_eq!(s["netns"]["inode"], own, "{s}");
    }

    // One namespace by name, and by a pid inside it.
    let v = json(&["list", "--netns", &sc.named.name, "--json"]);
    let all = v["sockets"].as_array().unwrap();
    assert!(
        all.iter().all(|s| s["netns"]["inode"] == named_inode),
        "{v}"
    );
    assert_eq!(listeners_on(&v, sc.port).len(), 1);
    let pid = sc.anonymous.pid.to_string();
    let v = json(&["list", "--netns", &pid, "--json"]);
    let l = listeners_on(&v, sc.port);
    assert_eq!(l.len(), 1, "{v}");
    assert_eq!(l[0]["netns"]["inode"], anon_inode);
    assert_eq!(l[0]["processes"][0]["pid"], sc.anonymous.pid);

    // The table names the namespace in its NETNS column.
    let table = String::from_utf8(
        portwise(&["list", "--netns", "all", "--port", &sc.port.to_string()]).stdout,
    )
    .unwrap();
    assert!(table.contains("NETNS"), "{table}");
    assert!(
        table.contains(&format!("netns {}", sc.named.name)),
        "{table}"
    );
    assert!(table.contains(&format!("netns {anon_inode}")), "{table}");
}

#[test]
fn bind_test_here_succeeds_and_names_the_other_namespaces_listeners() {
    let Some(sc) = scene() else {
        return;
    };
    let port = sc.port.to_string();
    let out = portwise(&["bind-test", &port, "--addr", "127.0.0.1", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    let others = v["other_namespaces"].as_array().unwrap();
    assert_eq!(others.len(), 2, "{v}");
    for o in others {
        let note = o["note"].as_str().unwrap();
        assert!(note.contains("does not conflict"), "{note}");
        assert!(!note.contains("conflicts with"), "{note}");
    }
    let named = others
        .iter()
        .find(|o| o["netns"]["name"] == sc.named.name.as_str())
        .unwrap();
    assert_eq!(named["processes"][0]["pid"], sc.in_named.pid);
    assert!(
        named["note"]
            .as_str()
            .unwrap()
            .starts_with(&format!("a server in network namespace {}", sc.named.name)),
        "{named}"
    );
    let plain =
        String::from_utf8(portwise(&["bind-test", &port, "--addr", "127.0.0.1"]).stdout).unwrap();
    assert!(plain.starts_with("ok: tcp 127.0.0.1:"), "{plain}");
    assert!(plain.contains("other network namespaces:"), "{plain}");
    assert!(
        plain.contains(&format!("pid {}", sc.anonymous.pid)),
        "{plain}"
    );
}

#[test]
fn bad_and_unknown_namespaces_fail_clearly() {
    for bad in ["../etc", "a/b", ""] {
        let out = portwise(&["list", "--netns", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--netns") && err.lines().count() == 1, "{err}");
    }
    let out = portwise(&["list", "--netns", "pw-test-no-such-namespace"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no network namespace named 'pw-test-no-such-namespace'"),
        "{err}"
    );
}

#[test]
fn without_root_the_own_namespace_is_listed_and_the_others_counted() {
    let Some(sc) = scene() else {
        return;
    };
    // The binary must be reachable by an unprivileged user.
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_portwise"));
    let as_nobody = |args: &[&str]| -> Option<Output> {
        let out = Command::new("setpriv")
            .args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "--",
            ])
            .arg(bin)
            .args(args)
            .output()
            .ok()?;
        (out.status.code() != Some(126) && out.status.code() != Some(127)).then_some(out)
    };
    let Some(out) = as_nobody(&["list", "--netns", "all"]) else {
        eprintln!("SKIPPED: setpriv missing, or the binary is not executable by nobody");
        return;
    };
    if String::from_utf8_lossy(&out.stderr).contains("Permission denied") {
        eprintln!("SKIPPED: the binary is not executable by nobody");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&format!(":{} ", sc.port)), "{text}");
    // The named one is visible to everyone (/run/netns).
    assert!(text.contains("other network namespace"), "{text}");
    assert!(text.contains("sudo portwise list --netns all"), "{text}");
    let out = as_nobody(&["list", "--netns", &sc.named.name]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs root"),
        "{out:?}"
    );
}

/// A Podman container made here, removed on drop with its image.
struct PodmanContainer {
    name: String,
    image: String,
}

impl Drop for PodmanContainer {
    fn drop(&mut self) {
        let quiet = |args: &[&str]| {
            let _ = Command::new("podman")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        quiet(&["rm", "-f", "-t", "0", &self.name]);
        quiet(&["rmi", "-f", &self.image]);
    }
}

/// Run busybox's httpd on `port` in a rootful Podman container publishing
/// 127.0.0.1:`port`, from an image `podman import` makes of a tarball
/// holding only a static busybox (no registry needed). `None` (with the
/// reason printed as SKIPPED) when Podman cannot run a container here.
fn podman_web(port: u16) -> Option<PodmanContainer> {
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let podman_ok = Command::new("podman")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let Some(busybox) = busybox.filter(|_| podman_ok) else {
        eprintln!("SKIPPED: needs podman and a static busybox (Debian: podman busybox-static)");
        return None;
    };
    let file = Command::new("file").arg(busybox).output();
    if file.is_ok_and(|o| !String::from_utf8_lossy(&o.stdout).contains("statically linked")) {
        eprintln!("SKIPPED: {busybox} is not statically linked (Debian: busybox-static)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(busybox, bin.join("busybox")).unwrap();
    let tar = dir.path().join("rootfs.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(dir.path().join("rootfs"))
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "tar failed");
    let tag = format!("{}-{}", std::process::id(), port);
    let c = PodmanContainer {
        name: format!("pw-test-web-{tag}"),
        image: format!("localhost/pw-test-busybox:{tag}"),
    };
    let out = Command::new("podman")
        .arg("import")
        .arg(&tar)
        .arg(&c.image)
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "SKIPPED: podman import failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    // The default OCI runtime first, then runc (crun refuses this
    // machine's hybrid cgroup layout); low rlimits, as a sandbox may not
    // allow raising them.
    let mut why = String::new();
    for runtime in [None, Some("runc")] {
        let mut cmd = Command::new("podman");
        if let Some(r) = runtime {
            cmd.args(["--runtime", r]);
        }
        let publish = format!("127.0.0.1:{port}:{port}");
        let listen = port.to_string();
        let out = cmd
            .args(["run", "-d", "--name", &c.name, "-p", &publish])
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ])
            .args([
                c.image.as_str(),
                "/bin/busybox",
                "httpd",
                "-f",
                "-p",
                &listen,
            ])
            .output()
            .unwrap();
        if out.status.success() {
            return Some(c);
        }
        why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let _ = Command::new("podman")
            .args(["rm", "-f", &c.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    eprintln!("SKIPPED: podman cannot run a container here: {why}");
    None
}

/// End to end with a real Podman container: its server is listed in the
/// container's namespace under the container's name, the host port it
/// publishes is held by conmon and mapped to the container, and a bind
/// test there says to stop the container, not kill conmon.
#[test]
fn a_podman_container_is_named_and_its_published_port_mapped() {
    if skip_unless_root() {
        return;
    }
    let port = free_port();
    let Some(web) = podman_web(port) else {
        return;
    };
    let p = port.to_string();
    // The server comes up inside the container a moment after `run`.
    let start = Instant::now();
    let inside = loop {
        let v = json(&["list", "--netns", "all", "--json", "--port", &p]);
        let hits: Vec<Value> = listeners_on(&v, port)
            .into_iter()
            .filter(|s| s["netns"]["inode"] != own_inode())
            .collect();
        if !hits.is_empty() || start.elapsed() > Duration::from_secs(20) {
            break hits;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(inside.len(), 1, "{inside:?}");
    let c = &inside[0]["netns"]["container"];
    assert_eq!(c["runtime"], "podman", "{c}");
    assert_eq!(c["name"], web.name.as_str(), "{c}");
    assert_eq!(c["id"].as_str().map(str::len), Some(64), "{c}");
    assert_eq!(inside[0]["processes"][0]["name"], "busybox");

    // On the host, conmon holds the published port (rootful Podman keeps
    // it reserved there) and it is mapped to the container.
    let v = json(&["list", "--json", "--port", &p]);
    let host = listeners_on(&v, port);
    assert_eq!(host.len(), 1, "{v}");
    assert_eq!(host[0]["netns"]["inode"], own_inode());
    assert_eq!(host[0]["processes"][0]["name"], "conmon");
    assert_eq!(host[0]["published"]["via"], "conmon");
    assert_eq!(host[0]["published"]["container"]["name"], web.name.as_str());
    assert_eq!(host[0]["published"]["container"]["id"], c["id"]);

    let out = portwise(&["bind-test", &p, "--addr", "127.0.0.1", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let published = v["published"].as_array().unwrap();
    assert!(
        published
            .iter()
            .any(|x| x["command"] == format!("podman stop {}", web.name).as_str()),
        "{v}"
    );
}
