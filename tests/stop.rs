//! `portwise stop` end to end against real child processes (this test
//! binary re-run as a listener, and `sh`). Every child is killed and reaped.

mod common;

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Output};

use common::{Kid, eventually, listen_if_child};

fn portwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .output()
        .unwrap()
}

const CHILD_PORT: &str = "PORTWISE_TEST_LISTEN_PORT";

/// Not a test of its own (hence ignored, so it never counts as a pass): when
/// re-run by `spawn_listener` with `CHILD_PORT` set, this becomes the child
/// that listens on that port for up to 30 s.
#[test]
#[ignore = "the listener child of the stop tests, run by spawn_listener"]
fn child_listener() {
    listen_if_child(CHILD_PORT);
}

fn spawn_listener() -> (Kid, u16) {
    common::spawn_listener(CHILD_PORT)
}

#[test]
fn a_listening_child_is_stopped_and_reported_by_pid() {
    if common::wine_hides_owners() {
        return;
    }
    let (mut kid, port) = spawn_listener();
    let pid = kid.0.id();
    let out = portwise(&["stop", "--port", &port.to_string(), "--yes"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("pid {pid}")), "{text}");
    assert!(text.contains("command: "), "{text}");
    assert!(
        text.contains("stopped ") && text.contains("SIGTERM"),
        "{text}"
    );
    // The child really ended (by SIGTERM), and the port is free again.
    let status = kid.0.wait().unwrap();
    assert!(!status.success());
    assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
}

#[test]
#[cfg_attr(windows, ignore = "uses sh and SIGTERM, which Windows does not have")]
fn stop_by_pid_and_force() {
    // A child that ignores SIGTERM: --force kills it at once.
    let mut kid = Kid(Command::new("sh")
        .args(["-c", "trap '' TERM; exec sleep 30"])
        .spawn()
        .unwrap());
    let pid = kid.0.id().to_string();
    eventually("the child to exec sleep", || {
        let plan = portwise::stop::plan_pid(kid.0.id()).ok()?;
        (plan[0].name == "sleep").then_some(())
    });
    let out = portwise(&["stop", "--pid", &pid, "--force", "--yes"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("kill at once") && text.contains("killed"),
        "{text}"
    );
    assert!(!kid.0.wait().unwrap().success());
}

#[test]
fn pid_one_and_self_are_refused() {
    let out = portwise(&["stop", "--pid", "1", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("will not stop pid 1"), "{err}");
}

#[test]
fn a_port_nobody_holds_exits_1() {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = portwise(&["stop", "--port", &port.to_string(), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("nothing holds port {port}")), "{err}");
}

#[test]
fn a_missing_pid_exits_1() {
    let out = portwise(&["stop", "--pid", "4000000000", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no process with pid 4000000000"));
}

#[test]
fn no_question_without_a_terminal_unless_yes() {
    if common::wine_hides_owners() {
        return;
    }
    let (_kid, port) = spawn_listener();
    let out = Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(["stop", "--port", &port.to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    // The child still listens.
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok());
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["stop"][..],
        &["stop", "--port", "x"][..],
        &["stop", "--port", "0"][..],
        &["stop", "--port", "70000"][..],
        &["stop", "--pid", "-4"][..],
        &["stop", "--port", "80", "--pid", "1"][..],
    ] {
        let out = portwise(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}
