//! `--host` end to end through a real OpenSSH: the test starts Debian's
//! sshd on 127.0.0.1 on a random port with throwaway host and user keys and
//! hands portwise an ssh_config through PORTWISE_SSH_COMMAND="ssh -F ...".
//! The remote is this machine, so the remote HOME (set by sshd's SetEnv) is
//! a temporary directory: the copy of portwise lands there, not in ~root.
//! SKIPPED (with the reason) where sshd cannot run: not root, no sshd.

// sshd, ssh-keygen, geteuid and kill: a Unix test.
#![cfg(unix)]

mod common;

use common::sshd::{Sshd, start_sshd};

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CHILD_PORT: &str = "PORTWISE_TEST_REMOTE_LISTEN_PORT";

#[test]
#[ignore = "the listener child of the remote stop test, run by spawn_listener"]
fn child_listener() {
    common::listen_if_child(CHILD_PORT);
}

/// portwise with `args`, PORTWISE_SSH_COMMAND set, stdin closed, killed if
/// it runs past 60 s.
fn portwise(sshd: &Sshd, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .env("PORTWISE_SSH_COMMAND", sshd.ssh_command())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let watchdog = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_secs(60));
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        })
        .unwrap();
    let out = child.wait_with_output().unwrap();
    drop(watchdog);
    (out, start.elapsed())
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

#[test]
fn remote_commands_through_a_real_sshd() {
    let sshd = match start_sshd() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port_n = listener.local_addr().unwrap().port();
    let port = port_n.to_string();
    let me = std::process::id();

    // 1. Nothing installed there: a clear message that says how, exit 1.
    let (o, _) = portwise(
        &sshd,
        &["list", "--host", "pw-test", "--port", &port, "--json"],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("portwise is not installed on pw-test"), "{t}");
    assert!(t.contains("Pass --yes to copy this portwise"), "{t}");

    // 2. An older portwise there: a version error, not garbage.
    let cache = sshd.home().join(".cache/portwise");
    std::fs::create_dir_all(&cache).unwrap();
    let old = cache.join("portwise");
    std::fs::write(
        &old,
        "#!/bin/sh\necho '{\"hello\":{\"protocol\":0,\"portwise\":\"0.0.1\",\"os\":\"linux\",\"arch\":\"x86_64\"}}'\ncat >/dev/null\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (o, _) = portwise(&sshd, &["list", "--host", "pw-test", "--port", &port]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("portwise 0.0.1 on pw-test speaks protocol version 0"),
        "{t}"
    );

    // 3. --yes: portwise copies itself there (sha256 checked) and lists
    //    this test's listener with its pid.
    let (o, _) = portwise(
        &sshd,
        &[
            "list", "--host", "pw-test", "--port", &port, "--json", "--yes",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("sha256") && t.contains("verified"), "{t}");
    let copied = std::fs::read(&old).unwrap();
    let mine = std::fs::read(env!("CARGO_BIN_EXE_portwise")).unwrap();
    assert!(copied == mine, "the copy differs from this binary");
    let v = json(&o);
    assert_eq!(v["host"], "pw-test", "{t}");
    let sockets = v["sockets"].as_array().unwrap();
    assert!(
        sockets.iter().any(|s| s["local_port"] == port_n
            && s["state"] == "LISTEN"
            && s["processes"][0]["pid"] == me),
        "{t}"
    );

    // The table format is the local one, byte for byte (same header).
    let (o, _) = portwise(&sshd, &["list", "--host", "pw-test", "--port", &port]);
    let local = Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(["list", "--port", &port])
        .output()
        .unwrap();
    let first = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(first(&o), first(&local));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&me.to_string()));

    // 4. bind-test explains the holder there.
    let bind_test = [
        "bind-test",
        &port,
        "--addr",
        "127.0.0.1",
        "--host",
        "pw-test",
    ];
    let (o, _) = portwise(&sshd, &[&bind_test[..], &["--json"]].concat());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let v = json(&o);
    assert_eq!(v["host"], "pw-test");
    assert_eq!(v["ok"], false, "{t}");
    assert!(t.contains(&me.to_string()), "the holder's pid: {t}");
    // In text, the fixes it suggests act there: a copied `portwise stop
    // --pid N` must not stop a local pid N.
    let (o, _) = portwise(&sshd, &bind_test);
    let t = text(&o);
    let commands: Vec<&str> = t
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("portwise "))
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("portwise stop --pid")),
        "{t}"
    );
    for c in &commands {
        assert!(c.ends_with(" --host pw-test"), "{c:?} in {t}");
    }

    // 5. free gives a port that is free there.
    let (o, _) = portwise(&sshd, &["free", "--host", "pw-test", "--json"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let v = json(&o);
    assert_eq!(v["host"], "pw-test");
    let p = v["ports"][0]["port"].as_u64().unwrap();
    assert!(p > 0, "{t}");

    // 6. tuning show and an audit of a file on the remote.
    let (o, _) = portwise(&sshd, &["tuning", "show", "--host", "pw-test", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["host"], "pw-test");
    let conf = sshd.dir.path().join("bad.conf");
    std::fs::write(&conf, "net.ipv4.tcp_tw_recycle = 1\n").unwrap();
    let (o, _) = portwise(
        &sshd,
        &[
            "tuning",
            "audit",
            conf.to_str().unwrap(),
            "--host",
            "pw-test",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("tcp_tw_recycle"), "{t}");

    // 7. stop: refuses to guess without a terminal, stops with --yes.
    let (mut kid, kport) = common::spawn_listener(CHILD_PORT);
    let kpid = kid.0.id();
    let kport = kport.to_string();
    let (o, _) = portwise(&sshd, &["stop", "--host", "pw-test", "--port", &kport]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        kid.0.try_wait().unwrap().is_none(),
        "stopped without consent"
    );
    let (o, _) = portwise(
        &sshd,
        &["stop", "--host", "pw-test", "--port", &kport, "--yes"],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains(&format!("pid {kpid}")), "{t}");
    let status = kid.0.wait().unwrap();
    assert!(!status.success());

    // 8. Unreachable: fast, ssh's own reason, exit 1.
    let (o, took) = portwise(&sshd, &["list", "--host", "pw-dead"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("cannot reach pw-dead") && t.contains("Connection refused"),
        "{t}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    // 9. A changed host key is refused, with ssh's verdict.
    let (o, _) = portwise(&sshd, &["list", "--host", "pw-changed"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("Host key verification failed"), "{t}");
    assert!(t.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"), "{t}");

    // 11. The fleet (the window's host tabs): three aliases of this sshd
    //    connect and refresh on their own; a dead host fails with ssh's
    //    reason without holding the others up.
    {
        use portwise::remote::client::{Dest, Ssh};
        use portwise::remote::fleet::{Fleet, HostStatus};
        let ssh = Ssh::parse(&sshd.ssh_command()).unwrap();
        let mut fleet = Fleet::new(ssh, Duration::from_millis(300));
        let names = [
            "pw-test-1",
            "pw-test-2",
            "pw-test-3",
            "pw-dead",
            "pw-noauth",
        ];
        for n in names {
            fleet.add(Dest::parse(n).unwrap()).unwrap();
        }
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let states = fleet.states();
            let good = states
                .iter()
                .filter(|(_, s)| {
                    s.refreshes >= 2 && matches!(s.status, HostStatus::Connected { .. })
                })
                .count();
            let dead = states
                .iter()
                .find(|(d, _)| d.as_str() == "pw-dead")
                .unwrap();
            let dead_failed = matches!(&dead.1.status,
                HostStatus::Failed { reason, .. } if reason.contains("Connection refused"));
            let noauth = states
                .iter()
                .find(|(d, _)| d.as_str() == "pw-noauth")
                .unwrap();
            let noauth_told = matches!(&noauth.1.status,
                HostStatus::Failed { reason, .. } if reason.contains("ssh-add"));
            if good == 3 && dead_failed && noauth_told {
                for (_, s) in &states {
                    if let Some(snap) = &s.snapshot {
                        assert!(
                            snap.sockets.iter().any(|e| e.local_port == port_n
                                && e.processes.iter().any(|p| p.pid == me))
                        );
                    }
                }
                break;
            }
            assert!(Instant::now() < end, "{states:#?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    // An auth failure: ssh's reason, exit 1.
    let (o, _) = portwise(&sshd, &["list", "--host", "pw-noauth"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("cannot reach pw-noauth") && t.contains("Permission denied"),
        "{t}"
    );

    // 10. Bad destinations never reach ssh as options.
    let (o, _) = portwise(&sshd, &["list", "--host", "-oProxyCommand=touch /tmp/x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    drop(listener);
}

#[test]
fn the_agent_answers_garbage_with_errors_and_keeps_going() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_portwise"))
        .arg("agent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::Builder::new()
        .name("agent-input".into())
        .spawn(move || {
            let mut w = || -> std::io::Result<()> {
                input.write_all(b"not json\n")?;
                input.write_all(&vec![b'z'; 3 << 20])?;
                input.write_all(b"\n{\"id\":4,\"op\":\"rm_rf\"}\n")?;
                input.write_all(b"\xff\xfe\n")?;
                input.write_all(b"{\"id\":5,\"op\":\"snapshot\",\"port\":1}\n")
            };
            w()
        })
        .unwrap();
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{}", text(&out));
    assert_eq!(lines[0]["hello"]["protocol"], 1);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON")
    );
    assert!(lines[2]["error"].as_str().unwrap().contains("longer than"));
    assert_eq!(lines[3]["error"], "unknown request 'rm_rf'");
    assert_eq!(lines[4]["error"], "request is not UTF-8");
    assert_eq!(lines[5]["id"], 5);
    assert!(
        lines[5]["ok"]["snapshot"]["sockets"].is_array(),
        "{}",
        lines[5]
    );
}
