//! `portwise tuning` end to end: the real binary against this machine's
//! /proc/sys, exports applied inside a throwaway network namespace, audits of
//! real files, and the error paths.
//!
//! These tests need Linux (/proc/sys). Elsewhere, and where `unshare -n`
//! cannot run, they say on stderr that they were skipped and why.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_portwise");

fn portwise(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run the portwise binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn have_proc_sys() -> bool {
    let ok = Path::new("/proc/sys/net/ipv4").is_dir();
    if !ok {
        eprintln!("SKIPPED: no /proc/sys/net/ipv4 here (these tests need Linux)");
    }
    ok
}

/// The /proc/sys file of a dotted key (the keys portwise uses have no '/').
fn proc_path(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn read_proc(key: &str) -> Option<String> {
    std::fs::read_to_string(proc_path(key))
        .ok()
        .map(|s| fold(&s))
}

/// The `key = value` lines of a sysctl file.
fn settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not a key = value line: {l:?}"));
            (k.trim().to_string(), fold(v))
        })
        .collect()
}

/// Why `unshare -n` cannot be used here, if it cannot.
fn netns_unavailable() -> Option<String> {
    match Command::new("unshare").args(["-n", "true"]).output() {
        Err(e) => Some(format!("cannot run unshare: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "`unshare -n true` is not permitted here: {}",
            stderr(&o).trim()
        )),
        Ok(_) => match Command::new("sysctl").arg("--version").output() {
            Ok(o) if o.status.success() => None,
            Ok(_) | Err(_) => Some("sysctl (procps) is not installed".into()),
        },
    }
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "compares with this Linux kernel's /proc/sys"
)]
fn show_json_matches_proc_sys_for_every_key() {
    if !have_proc_sys() {
        return;
    }
    let out = portwise(&["tuning", "show", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["os"], "linux");
    let list = v["settings"].as_array().expect("settings array");
    assert!(list.len() >= 10, "only {} settings", list.len());
    let mut present = 0;
    for s in list {
        let key = s["key"].as_str().expect("key");
        for field in ["default", "per_namespace", "explanation"] {
            assert!(s.get(field).is_some(), "{key}: no {field}");
        }
        assert!(!s["explanation"].as_str().unwrap_or("").is_empty());
        match s["current"].as_str() {
            Some(current) => {
                present += 1;
                assert_eq!(Some(current.to_string()), read_proc(key), "{key}");
            }
            None => {
                assert!(s["current"].is_null(), "{key}: current is {}", s["current"]);
                assert!(!proc_path(key).exists(), "{key} exists but shown absent");
            }
        }
    }
    assert!(present >= 8, "only {present} keys read");
    // The values the issue names are printed as the kernel prints them.
    let range = list
        .iter()
        .find(|s| s["key"] == "net.ipv4.ip_local_port_range")
        .expect("port range listed");
    assert_eq!(range["default"], "32768 60999");
    assert!(!list.iter().any(|s| s["key"] == "net.ipv4.tcp_tw_recycle"));

    // The plain form lists the same keys with the same values.
    let plain = portwise(&["tuning", "show"]);
    assert!(plain.status.success());
    let text = stdout(&plain);
    for s in list {
        let key = s["key"].as_str().unwrap_or_default();
        assert!(text.contains(&format!("\n{key}: ")), "{key} missing");
        if let Some(c) = s["current"].as_str().filter(|c| !c.is_empty()) {
            assert!(text.contains(&format!("now:     {c}\n")), "{key}={c}");
        }
    }
}

#[test]
fn per_namespace_claims_hold_in_a_fresh_network_namespace() {
    if !have_proc_sys() {
        return;
    }
    if let Some(why) = netns_unavailable() {
        eprintln!("SKIPPED per-namespace check: {why}");
        return;
    }
    let out = portwise(&["tuning", "show", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let paths: Vec<String> = v["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .filter(|s| s["per_namespace"] == true && !s["current"].is_null())
        .map(|s| proc_path(s["key"].as_str().unwrap_or_default()))
        .map(|p| p.display().to_string())
        .collect();
    assert!(!paths.is_empty());
    let check = Command::new("unshare")
        .args([
            "-n",
            "sh",
            "-c",
            r#"for p; do test -f "$p" || echo "$p"; done"#,
            "sh",
        ])
        .args(&paths)
        .output()
        .expect("run unshare");
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(
        stdout(&check),
        "",
        "claimed per namespace but missing in a new one"
    );
}

#[test]
fn linux_exports_use_real_keys_and_apply_in_a_throwaway_netns() {
    if !have_proc_sys() {
        return;
    }
    let skip = netns_unavailable();
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[&[&str]] = &[
        &["--goal", "restart"],
        &["--goal", "restart", "--reserve-ports", "8080"],
        &["--goal", "outbound"],
        &[
            "--goal",
            "reserve",
            "--reserve-ports",
            "8080,9090,9100-9102",
        ],
        &["--goal", "backlog"],
        &["--goal", "low-ports"],
        &[
            "--goal",
            "restart,outbound,reserve,backlog,low-ports",
            "--reserve-ports",
            "443,8080",
        ],
    ];
    let mut applied = 0;
    for (i, extra) in cases.iter().enumerate() {
        let mut args = vec!["tuning", "export", "--os", "linux"];
        args.extend_from_slice(extra);
        let out = portwise(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains("tcp_tw_recycle ="), "{text}");
        let set = settings(&text);
        for (k, _) in &set {
            assert!(
                proc_path(k).is_file(),
                "{args:?}: {k} is not under /proc/sys"
            );
        }
        if extra.contains(&"restart") && extra.len() == 2 {
            assert!(set.is_empty(), "restart alone changes nothing: {set:?}");
            assert!(text.contains("SO_REUSEADDR"));
        }
        if let Some(why) = &skip {
            eprintln!("SKIPPED applying export {args:?} in a network namespace: {why}");
            continue;
        }
        let file = dir.path().join(format!("{i}-portwise.conf"));
        std::fs::write(&file, &text).expect("write export");
        let before: Vec<Option<String>> = set.iter().map(|(k, _)| read_proc(k)).collect();
        // Apply in a new network namespace, then print what it now holds.
        let script = r#"f=$1; shift; sysctl -q -p "$f" || exit 1; for k; do sysctl -n "$k"; done"#;
        let keys: Vec<&str> = set.iter().map(|(k, _)| k.as_str()).collect();
        let run = Command::new("unshare")
            .args(["-n", "sh", "-c", script, "sh"])
            .arg(&file)
            .args(&keys)
            .output()
            .expect("run unshare");
        assert!(
            run.status.success() && stderr(&run).is_empty(),
            "{args:?}: sysctl -p failed: {}\n{text}",
            stderr(&run)
        );
        let got: Vec<String> = stdout(&run).lines().map(fold).collect();
        let want: Vec<String> = set.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(got, want, "{args:?}: values inside the namespace");
        let after: Vec<Option<String>> = set.iter().map(|(k, _)| read_proc(k)).collect();
        assert_eq!(before, after, "{args:?}: the host's values changed");
        applied += 1;
    }
    if skip.is_none() {
        assert_eq!(applied, cases.len());
    }
}

const BAD_FILE: &str = "\
# copied from a blog post
net.ipv4.tcp_tw_recycle = 1
net.ipv4.tcp_fin_timeout = 30
net.ipv4.tcp_timestamps = 0
net.ipv4.tcp_tw_reuse = 1
net.ipv4.ip_local_port_range = 1024 65534
net.ipv4.ip_local_port_range = 900 65535
net.ipv4.portwise_no_such_key = 3
tcp_tw_reuse 1
";

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "checks findings against this Linux kernel's /proc/sys keys"
)]
fn audit_flags_a_bad_file_and_passes_sound_ones() {
    if !have_proc_sys() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, BAD_FILE).expect("write");
    let out = portwise(&["tuning", "audit", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let name = bad.display().to_string();
    for (line, needle) in [
        (2, "error: net.ipv4.tcp_tw_recycle: removed in Linux 4.12"),
        (
            3,
            "warning: net.ipv4.tcp_fin_timeout = 30 does not shorten TIME_WAIT",
        ),
        (5, "warning: net.ipv4.tcp_tw_reuse = 1 does nothing while"),
        (6, "same parity"),
        (7, "below net.ipv4.ip_unprivileged_port_start"),
        (7, "already set on line 6"),
        (
            8,
            "error: net.ipv4.portwise_no_such_key: this kernel has no such key",
        ),
        (9, "warning: `tcp_tw_reuse 1` is not `key = value`"),
    ] {
        let prefix = format!("{name}:{line}: ");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&prefix) && l.contains(needle)),
            "no finding {needle:?} on line {line}:\n{text}"
        );
    }
    assert!(text.contains("findings ("), "{text}");

    // A sound hand-written file passes.
    let good = dir.path().join("good.conf");
    std::fs::write(
        &good,
        "# Outgoing connections: reuse TIME_WAIT 4-tuples.\n\
         net.ipv4.tcp_tw_reuse = 1\n\
         net.ipv4.ip_local_port_range = 20000 60999\n\
         ; reserved service port\n\
         net/ipv4/ip_local_reserved_ports = 8080\n",
    )
    .expect("write");
    let out = portwise(&["tuning", "audit", &good.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("no problems found"));

    // portwise's own export passes its audit.
    let export = dir.path().join("99-zz-portwise.conf");
    let e = portwise(&[
        "tuning",
        "export",
        "--os",
        "linux",
        "--goal",
        "restart,outbound,reserve,backlog,low-ports",
        "--reserve-ports",
        "80,8080",
        "--out",
        &export.display().to_string(),
    ]);
    assert!(e.status.success(), "{}", stderr(&e));
    let out = portwise(&["tuning", "audit", &export.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Unreadable: exit 2 with the path in the message.
    let missing = dir.path().join("missing.conf");
    let out = portwise(&["tuning", "audit", &missing.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.conf"), "{}", stderr(&out));
}

/// Files that are not small regular files are refused at once (exit 2)
/// instead of filling memory (/dev/zero) or blocking forever (a FIFO).
#[test]
#[cfg_attr(windows, ignore = "FIFOs (mkfifo) and /dev/zero are Unix")]
fn audit_refuses_devices_and_fifos_quickly() {
    if !have_proc_sys() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    for path in [Path::new("/dev/zero"), fifo.as_path()] {
        let start = std::time::Instant::now();
        let out = portwise(&["tuning", "audit", &path.display().to_string()]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    for (args, needle) in [
        (
            &["tuning", "export", "--os", "bsd", "--goal", "outbound"][..],
            "bsd",
        ),
        (&["tuning", "export", "--goal", "outbound,speed"], "speed"),
        (
            &["tuning", "export", "--goal", "reserve"],
            "--reserve-ports",
        ),
        (
            &[
                "tuning",
                "export",
                "--goal",
                "reserve",
                "--reserve-ports",
                "70000",
            ],
            "70000",
        ),
        (
            &[
                "tuning",
                "export",
                "--goal",
                "reserve",
                "--reserve-ports",
                "0",
            ],
            "'0'",
        ),
        (
            &[
                "tuning",
                "export",
                "--goal",
                "reserve",
                "--reserve-ports",
                "80,http",
            ],
            "http",
        ),
        (&["tuning", "export"], "--goal"),
        (&["tuning", "audit"], "FILE"),
        (&["tuning", "frobnicate"], "frobnicate"),
    ] {
        let out = portwise(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

#[test]
fn out_files_are_written_atomically_and_never_clobbered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("99-zz-portwise.conf");
    let p = path.display().to_string();
    let export = |extra: &[&str]| {
        let mut args = vec!["tuning", "export", "--os", "linux", "--goal", "outbound"];
        args.extend_from_slice(extra);
        portwise(&args)
    };

    let out = export(&["--out", &p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = std::fs::read_to_string(&path).expect("written");
    assert!(first.contains("\nnet.ipv4.tcp_tw_reuse = 1\n"));
    assert!(stdout(&out).contains("sudo sysctl -p /etc/sysctl.d/99-zz-portwise.conf"));

    std::fs::write(&path, "old\n").expect("overwrite by hand");
    let out = export(&["--out", &p]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "old\n");

    let out = export(&["--out", &p, "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), first);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .expect("names");
    assert_eq!(names.len(), 1, "temporary files left behind: {names:?}");

    // `--out -` prints the same text.
    let out = export(&["--out", "-"]);
    assert_eq!(stdout(&out), first);

    // Unwritable places fail cleanly, even for root.
    for bad in [
        dir.path().join("no/such/dir/x.conf"),
        PathBuf::from("/proc/portwise-test.conf"),
    ] {
        let b = bad.display().to_string();
        let out = export(&["--out", &b, "--force"]);
        assert_eq!(out.status.code(), Some(1), "{b}");
        let err = stderr(&out);
        assert!(err.contains("cannot write") && err.contains(&b), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A directory in the way, with --force: a clean error, the directory stays.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let out = export(&["--out", &sub.display().to_string(), "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    assert!(sub.is_dir());
}

/// `--out` onto a FIFO, a socket or (as root) a device node is refused with
/// or without --force, and the special file stays what it was; a symbolic
/// link is written through to its target.
#[cfg(unix)]
#[test]
fn out_never_replaces_special_files_and_follows_links() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let sock = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind unix socket");
    let mut specials = vec![fifo.clone(), sock.clone()];
    let dev = dir.path().join("null");
    // A node like /dev/null (1,3) of our own: a bug cannot harm the real one.
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if made {
        specials.push(dev.clone());
    } else {
        eprintln!("SKIPPED: the device-node case (mknod needs root)");
    }
    for p in &specials {
        for force in [true, false] {
            let ps = p.display().to_string();
            let mut args = vec![
                "tuning", "export", "--os", "linux", "--goal", "outbound", "--out", &ps,
            ];
            if force {
                args.push("--force");
            }
            let out = portwise(&args);
            assert_eq!(out.status.code(), Some(1), "{ps}");
            let err = stderr(&out);
            assert!(err.contains("not a regular file"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
    let t = |p: &Path| std::fs::symlink_metadata(p).expect("stat").file_type();
    assert!(t(&fifo).is_fifo());
    assert!(t(&sock).is_socket());
    if made {
        assert!(t(&dev).is_char_device());
    }

    let target = dir.path().join("real.conf");
    std::fs::write(&target, "old\n").expect("write");
    let link = dir.path().join("99-link.conf");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let l = link.display().to_string();
    let out = portwise(&[
        "tuning", "export", "--os", "linux", "--goal", "outbound", "--out", &l, "--force",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(t(&link).is_symlink());
    let text = std::fs::read_to_string(&target).expect("read target");
    assert!(text.contains("net.ipv4.tcp_tw_reuse = 1"), "{text}");
}
