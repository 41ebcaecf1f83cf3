//! Planning over constructed snapshots, and the real stopper against real
//! child processes (bounded: every child is killed and reaped).

use std::process::{Child, Command};
use std::time::Duration;

use super::*;
use crate::sockets::{ProcessInfo, SocketEntry, SocketSource, SourceError, TcpState};

struct FixedSource(Snapshot);

impl SocketSource for FixedSource {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        Ok(self.0.clone())
    }
}

fn listener(port: u16, pids: &[(u32, &str)]) -> SocketEntry {
    SocketEntry {
        processes: pids
            .iter()
            .map(|&(pid, name)| ProcessInfo {
                pid,
                name: name.into(),
                user: None,
                exe: None,
                cmdline: None,
            })
            .collect(),
        inode: 1,
        ..SocketEntry::new(
            crate::sockets::Proto::Tcp,
            ([0, 0, 0, 0], port).into(),
            None,
            Some(TcpState::Listen),
        )
    }
}

fn snap(sockets: Vec<SocketEntry>) -> Snapshot {
    Snapshot {
        sockets,
        ..Default::default()
    }
}

/// A child that sleeps; killed and reaped on drop.
struct Sleeper(Child);

impl Sleeper {
    fn spawn(script: &str) -> Sleeper {
        Sleeper(Command::new("sh").arg("-c").arg(script).spawn().unwrap())
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the child has exec'd `sleep` (the `sh -c` script, with its
/// trap, has run by then).
fn wait_started(pid: u32) {
    for _ in 0..200 {
        // The kernel sets the new name (comm) in begin_new_exec() before the
        // ELF loader sets up the argument pages, so for a moment the name is
        // "sleep" while /proc/<pid>/cmdline is still empty: wait for both.
        if let Ok(t) = plan_pid(pid)
            && t[0].name == "sleep"
            && t[0].cmdline.contains("sleep 30")
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("child {pid} did not exec sleep");
}

#[test]
fn pid_one_zero_and_self_are_refused() {
    for pid in [0, 1, std::process::id()] {
        assert!(
            matches!(plan_pid(pid), Err(StopError::Refused { .. })),
            "{pid}"
        );
    }
    let e = plan_pid(1).unwrap_err().to_string();
    assert!(e.contains("pid 1") && e.contains("init"), "{e}");
    assert!(refusal(77, "systemd").is_some());
    assert!(refusal(4, "System").is_some());
    assert!(refusal(4, "bash").is_none());
}

#[test]
fn command_lines_show_on_one_line() {
    let args: Vec<String> = ["evil\x1b[2J", "-c", "\nimport x\tq", "arg with space"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        crate::util::text::escape_control(&crate::sockets::quote_args(&args)),
        "evil\\x1b[2J -c '\\x0aimport x\\x09q' 'arg with space'"
    );
}

#[test]
fn caveats_for_docker_proxy_and_systemd() {
    let c = caveats("docker-proxy", Some(5432), &["docker-proxy".into()], &[]);
    assert_eq!(c.len(), 1);
    assert!(c[0].contains("docker stop $(docker ps -q --filter publish=5432)"));
    let c = caveats(
        "postgres",
        Some(5432),
        &["systemd".into(), "postgres".into()],
        &["pg.socket".into()],
    );
    assert_eq!(c.len(), 1);
    assert!(c[0].contains("systemctl stop pg.socket"), "{c:?}");
    assert!(caveats("nginx", Some(80), &["nginx".into()], &[]).is_empty());
}

#[test]
fn plan_port_errors_say_why() {
    assert_eq!(
        plan_port(8080, &snap(vec![])),
        Err(StopError::NothingHolds(8080))
    );
    let hidden = snap(vec![listener(8080, &[])]);
    assert!(matches!(
        plan_port(8080, &hidden),
        Err(StopError::Hidden {
            port: 8080,
            sockets: 1
        })
    ));
    let mut tw = listener(8080, &[]);
    tw.state = Some(TcpState::TimeWait);
    tw.inode = 0;
    tw.time_wait_expires_in_ms = Some(2500);
    let e = plan_port(8080, &snap(vec![tw])).unwrap_err();
    assert!(matches!(e, StopError::OnlyTimeWait { count: 1, .. }));
    assert!(e.to_string().contains("within 3 s"), "{e}");
}

#[test]
fn plan_port_lists_live_holders_and_refuses_itself() {
    let me = std::process::id();
    let child = Sleeper::spawn("exec sleep 30");
    wait_started(child.pid());
    let s = snap(vec![
        listener(8080, &[(me, "tests"), (child.pid(), "sleep")]),
        listener(8080, &[(999_999_999, "gone")]),
    ]);
    let plan = plan_port(8080, &s).unwrap();
    let pids: Vec<u32> = plan.iter().map(|t| t.pid).collect();
    let mut want = vec![me, child.pid()];
    want.sort();
    assert_eq!(pids, want, "the exited holder is skipped");
    let mine = plan.iter().find(|t| t.pid == me).unwrap();
    assert!(mine.refusal.as_deref().unwrap().contains("portwise itself"));
    let theirs = plan.iter().find(|t| t.pid == child.pid()).unwrap();
    assert_eq!(theirs.refusal, None);
    assert_eq!(theirs.port, Some(8080));
    assert!(theirs.cmdline.contains("sleep 30"), "{}", theirs.cmdline);
    assert!(theirs.start_time > 0);
}

#[test]
fn stopper_terminates_a_child_politely() {
    let child = Sleeper::spawn("exec sleep 30");
    wait_started(child.pid());
    let t = plan_pid(child.pid()).unwrap().remove(0);
    let mut s = SystemStopper::new(Box::new(FixedSource(snap(vec![]))));
    let r = s.stop(&t, false);
    assert_eq!(r.outcome, StopOutcome::Terminated, "{}", r.message);
    assert!(r.message.contains("SIGTERM"), "{}", r.message);
    // Stopping it again: it is gone.
    let r = s.stop(&t, false);
    assert!(r.outcome.stopped() && !matches!(r.outcome, StopOutcome::Terminated));
}

#[test]
fn stopper_guards_against_pid_reuse_and_lost_ports() {
    let child = Sleeper::spawn("exec sleep 30");
    wait_started(child.pid());
    let t = plan_pid(child.pid()).unwrap().remove(0);
    let mut s = SystemStopper::new(Box::new(FixedSource(snap(vec![]))));
    let reused = StopTarget {
        start_time: t.start_time - 100,
        ..t.clone()
    };
    assert_eq!(s.stop(&reused, true).outcome, StopOutcome::PidReused);
    // Planned on port 8080, but the fresh snapshot shows it holds nothing.
    let by_port = StopTarget {
        port: Some(8080),
        ..t.clone()
    };
    assert_eq!(
        s.stop(&by_port, true).outcome,
        StopOutcome::NoLongerHoldsPort
    );
    // Neither signalled it: it still runs.
    assert!(plan_pid(child.pid()).is_ok());
    // With the port in the snapshot, it is stopped.
    let mut s = SystemStopper::new(Box::new(FixedSource(snap(vec![listener(
        8080,
        &[(child.pid(), "sleep")],
    )]))));
    let r = s.stop(&by_port, true);
    assert_eq!(r.outcome, StopOutcome::Killed, "{}", r.message);
    assert_eq!(
        r.port_freed,
        Some(false),
        "the fixed snapshot still shows it"
    );
}

#[test]
fn stopper_reports_a_process_that_ignores_sigterm() {
    let child = Sleeper::spawn("trap '' TERM; exec sleep 30");
    wait_started(child.pid());
    let t = plan_pid(child.pid()).unwrap().remove(0);
    let mut s = SystemStopper::new(Box::new(FixedSource(snap(vec![]))))
        .with_grace(Duration::from_millis(300));
    let r = s.stop(&t, false);
    assert_eq!(r.outcome, StopOutcome::StillRunning, "{}", r.message);
    assert!(r.message.contains("--force"));
    let r = s.stop(&t, true);
    assert_eq!(r.outcome, StopOutcome::Killed, "{}", r.message);
}

/// A proxy that publishes the port for a container: the plan names the
/// container and the command that stops it, not only the proxy.
#[test]
fn plan_port_names_the_container_a_proxy_publishes_for() {
    let child = Sleeper::spawn("exec sleep 30");
    wait_started(child.pid());
    let mut l = listener(8080, &[(child.pid(), "conmon")]);
    l.published = Some(Box::new(crate::sockets::Published {
        via: "conmon".into(),
        container: Some(crate::sockets::Container {
            runtime: "podman".into(),
            id: "3f2a9c1b7d0e11223344".into(),
            name: Some("web".into()),
        }),
        target: None,
    }));
    let plan = plan_port(8080, &snap(vec![l])).unwrap();
    let t = plan.iter().find(|t| t.pid == child.pid()).unwrap();
    assert!(
        t.caveats
            .iter()
            .any(|c| c.contains("container web") && c.contains("podman stop web")),
        "{:?}",
        t.caveats
    );
    // Without a known container there is no such line.
    let plain = plan_port(
        8080,
        &snap(vec![listener(8080, &[(child.pid(), "conmon")])]),
    )
    .unwrap();
    assert!(plain[0].caveats.iter().all(|c| !c.contains("podman stop")));
}
