//! Desktop notifications on a real D-Bus session bus: `dbus-run-session`
//! starts a private bus, `dbus-monitor` watches it, and portwise's desktop
//! notifier (the window's, worker thread and all) sends the Notify call
//! of the freedesktop.org notification spec. No notification server runs,
//! so the call is answered with ServiceUnknown; the monitor still sees it,
//! with its app name, summary and body. SKIPPED where D-Bus is missing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portwise::notify::{Desktop, Note, Notifier};

const CHILD_ENV: &str = "PORTWISE_CHILD_DBUS";
const SUMMARY: &str = "Port 8080 is free";
const BODY: &str = "TCP 8080 binds now (it was held by python3 (pid 42)).";

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn notify_call_reaches_the_session_bus() {
    if portwise::platform::OS_NAME != "linux" {
        eprintln!("SKIPPED: D-Bus notifications are the Linux path");
        return;
    }
    if !have("dbus-run-session") || !have("dbus-monitor") {
        eprintln!(
            "SKIPPED: dbus-run-session or dbus-monitor is not installed (packages dbus-daemon, dbus-bin)"
        );
        return;
    }
    let mut kid = Command::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_on_the_session_bus",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while kid.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = kid.kill();
            let _ = kid.wait();
            panic!("the child on the session bus did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = kid.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("child ok"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs inside `dbus-run-session` (DBUS_SESSION_BUS_ADDRESS set).
#[test]
fn child_on_the_session_bus() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let mut monitor = Command::new("dbus-monitor")
        .args([
            "--session",
            "type='method_call',interface='org.freedesktop.Notifications'",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = monitor.stdout.take().unwrap();
    let sink = lines.clone();
    let reader = std::thread::Builder::new()
        .name("monitor-reader".into())
        .spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        })
        .unwrap();
    let wait_for = |what: &dyn Fn(&[String]) -> bool| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if what(&lines.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    // The monitor is ready once it has become one (its unique name lost).
    assert!(
        wait_for(&|l| l.iter().any(|x| x.contains("member=NameLost"))),
        "dbus-monitor did not start: {:?}",
        lines.lock().unwrap()
    );
    let mut desktop = Desktop::default();
    desktop.notify(Note {
        summary: SUMMARY.into(),
        body: BODY.into(),
    });
    let seen = wait_for(&|l| {
        let all = l.join("\n");
        all.contains("member=Notify")
            && all.contains("string \"portwise\"")
            && all.contains(&format!("string \"{SUMMARY}\""))
            && all.contains(&format!("string \"{BODY}\""))
    });
    // No notification server runs on this bus: the call fails, and the
    // notifier says so once (the window shows it in a toast).
    let start = Instant::now();
    let mut failure = None;
    while failure.is_none() && start.elapsed() < Duration::from_secs(10) {
        failure = desktop.take_failure();
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    let _ = reader.join();
    assert!(seen, "no Notify call seen: {:?}", lines.lock().unwrap());
    let failure = failure.expect("the failed Notify call was not reported");
    assert!(
        failure.starts_with("cannot show a desktop notification:"),
        "{failure}"
    );
    assert_eq!(desktop.take_failure(), None, "reported once");
    println!("child ok");
}
