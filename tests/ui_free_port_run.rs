//! "Run a command with this port" in the Free port view, driven through
//! the whole app: a real program (python3) gets the grabbed port, binds
//! it, prints, and is stopped from the view. Its output and state arrive
//! from the session's threads, so these tests step the app in real time
//! until the view shows them (bounded).

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portwise::handoff::session::Status;
use portwise::window::app::PortwiseApp;
use portwise::window::shell::View;

type H = Harness<'static, PortwiseApp>;

/// Prints $PORT, binds it the way servers do (SO_REUSEADDR), says so,
/// and serves until stopped.
const SERVER: &str = r#"python3 -u -c 'import os, socket, time
p = int(os.environ["PORT"])
print("PORT is", p)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", p))
s.listen()
print("listening on", p)
time.sleep(60)'"#;

fn grab(h: &mut H) -> u16 {
    click(h, "Grab a free port");
    settled(h, |app| {
        !app.state.free.busy() && !app.state.free.last.is_empty()
    });
    h.state().state.free.last[0]
}

/// Step the app until `cond` holds; panics after 15 s.
#[track_caller]
fn wait_until(h: &mut H, what: &str, cond: impl Fn(&PortwiseApp) -> bool) {
    let t0 = Instant::now();
    loop {
        h.step();
        if cond(h.state()) {
            h.run();
            return;
        }
        let run = h.state().state.free.run.as_ref().map(|r| r.state.clone());
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}; run state: {run:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn status(app: &PortwiseApp) -> Option<Status> {
    app.state.free.run.as_ref().map(|r| r.state.status.clone())
}

#[test]
fn a_command_gets_the_port_shows_its_output_and_state_and_stops() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    // Nothing to run with before a grab.
    h.get_by_label("Run a command with this port");
    assert!(disabled(&h, "Run"));

    let p = grab(&mut h);
    h.get_by_label(&format!("Run a command with port {p}"));
    assert!(disabled(&h, "Run"), "no command typed yet");
    set_field(&mut h, "Command", SERVER);
    assert!(!disabled(&h, "Run"));
    click(&mut h, "Run");

    wait_until(&mut h, "the program to bind its port", |app| {
        status(app) == Some(Status::Serving)
            && app
                .state
                .free
                .run
                .as_ref()
                .is_some_and(|r| r.state.lines.len() >= 2)
    });
    // The state and the program's own output, as the view shows them.
    let pid = h
        .state()
        .state
        .free
        .run
        .as_ref()
        .and_then(|r| r.state.pid)
        .unwrap();
    h.get_by_label(&format!("serving on port {p} (pid {pid})"));
    h.get_by_label(&format!("PORT is {p}"));
    h.get_by_label(&format!("listening on {p}"));
    // While it runs the command cannot be changed or run again.
    assert!(disabled(&h, "Command"));
    // It really holds the port: a plain bind by anyone else fails.
    assert!(
        TcpListener::bind(("127.0.0.1", p)).is_err(),
        "{p} is not held"
    );

    click(&mut h, "Stop");
    wait_until(&mut h, "the program to end", |app| {
        matches!(status(app), Some(Status::Exited { .. }))
    });
    let Some(Status::Exited { how, .. }) = status(h.state()) else {
        unreachable!()
    };
    assert!(how.contains("SIGTERM"), "{how}");
    assert!(has_text(&h, "exited: "));
    // Its output stays readable after it ended, and the port is free again.
    h.get_by_label(&format!("listening on {p}"));
    TcpListener::bind(("127.0.0.1", p)).unwrap();
    // Run is offered again.
    assert!(!disabled(&h, "Run"));
    assert!(!disabled(&h, "Command"));
}

#[test]
fn bad_commands_say_why() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    grab(&mut h);

    // A line that cannot be split never starts anything.
    set_field(&mut h, "Command", "echo 'open quote");
    click(&mut h, "Run");
    assert!(h.state().state.free.run.is_none());
    assert!(has_text(&h, "quote"), "no message about the open quote");

    // A program that does not exist: the CLI's exit code 127 and message.
    set_field(&mut h, "Command", "portwise-no-such-program-18 {port}");
    click(&mut h, "Run");
    wait_until(&mut h, "the run to fail", |app| {
        matches!(status(app), Some(Status::Failed { .. }))
    });
    let Some(Status::Failed { code, message }) = status(h.state()) else {
        unreachable!()
    };
    assert_eq!(code, 127, "{message}");
    assert!(message.contains("portwise-no-such-program-18"), "{message}");
    assert!(has_text(&h, "failed: "));
}

#[test]
fn copy_as_port_env() {
    let rig = Rig::new();
    let mut h = on_view(&rig, View::FreePort);
    let p = grab(&mut h);
    click(&mut h, "Copy as PORT=…");
    assert_eq!(
        rig.clipboard.texts(),
        vec![p.to_string(), format!("PORT={p}")]
    );
    h.get_by_label(&format!("Copied PORT={p}"));
}
