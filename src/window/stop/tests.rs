//! The stop confirmation without any UI: plan, confirm, report.

use crate::fixtures::{stop_report, stop_target};
use crate::sockets::Snapshot;
use crate::window::shell::tests::*;
use crate::window::shell::*;
use crate::window::sockets::*;
use crate::window::stop::StopMsg;
use crate::window::stop::{StopOutcome, StopReport, StopTarget};
use crate::window::tasks::Tasks;

/// Records what it is asked to plan and stop; plans nothing.
#[derive(Default)]
struct RecordingStop {
    plans: std::sync::Mutex<Vec<(u16, Vec<u32>)>>,
    stops: std::sync::Mutex<Vec<(u32, bool)>>,
}

impl crate::stop::StopService for RecordingStop {
    fn plan(&self, port: u16, pids: &[u32], _: &Snapshot) -> Result<Vec<StopTarget>, String> {
        self.plans.lock().unwrap().push((port, pids.to_vec()));
        Err("recorded".into())
    }
    fn stop(&self, t: &StopTarget, force: bool) -> StopReport {
        self.stops.lock().unwrap().push((t.pid, force));
        stop_report(t, StopOutcome::Terminated, "recorded")
    }
}

#[test]
fn stop_flow_plans_confirms_and_reports() {
    let service = std::sync::Arc::new(RecordingStop::default());
    let workers = crate::window::ctx::Workers {
        stop: service.clone(),
        sysctls: std::sync::Arc::new(crate::tuning::NoSystem),
        wake: std::sync::Arc::new(|| {}),
    };
    let mut st = AppState::with(Settings::default(), 0, Tasks::manual(), workers);
    let mut hidden = listener(631, "cupsd", 1);
    hidden.processes.clear();
    let mut sockets = base();
    sockets.push(hidden.clone());
    let mut first = snap(0, sockets);
    first.sort();
    feed(&mut st, first);
    // A hidden owner: nothing to stop here, and elevation would show it
    // (the snapshot was taken without privileges).
    st.apply(Action::Sockets(SocketsMsg::AskStop(RowKey::of(&hidden))));
    assert!(st.tasks.queued().is_empty());
    assert!(st.toasts().last().unwrap().text.contains(
        "hidden from this user, so there is nothing to stop here: start portwise elevated"
    ));
    let k = RowKey::of(&listener(8080, "python3", 4242));
    st.apply(Action::Sockets(SocketsMsg::AskStop(k)));
    assert_eq!(st.tasks.queued(), vec!["portwise-plan"]);
    st.tasks.run_queued(None);
    assert_eq!(*service.plans.lock().unwrap(), vec![(8080, vec![4242])]);
    st.poll_tasks();

    // TIME_WAIT has no process: no plan, a clear notice.
    st.apply(Action::Sockets(SocketsMsg::AskStop(RowKey::of(
        &time_wait(8080, 40000, 1),
    ))));
    assert!(st.take_effects().is_empty() && st.tasks.queued().is_empty());
    assert!(st.toasts().last().unwrap().text.contains("nothing to stop"));
    assert!(
        st.toasts()
            .last()
            .unwrap()
            .text
            .contains("The kernel holds")
    );

    let target = StopTarget {
        cmdline: "python3 -m http.server 8080".into(),
        ..stop_target(4242, "python3", 8080)
    };
    // A refused target is shown but never sent to the stopper.
    let refused = StopTarget {
        pid: 1,
        name: "systemd".into(),
        refusal: Some("pid 1 is the init process".into()),
        ..target.clone()
    };
    let planned = |st: &mut AppState, p| st.apply(Action::Stop(StopMsg::Planned(p)));
    planned(&mut st, Ok(vec![target.clone()]));
    assert!(st.stop_dialog.is_some());
    st.apply(Action::Stop(StopMsg::Cancel));
    assert!(st.stop_dialog.is_none());

    planned(&mut st, Ok(vec![target.clone(), refused.clone()]));
    st.apply(Action::Stop(StopMsg::Confirm { force: false }));
    assert!(st.stop_dialog.is_none());
    // The stop runs on a worker, with only the stoppable target.
    assert_eq!(st.tasks.queued(), vec!["portwise-stop"]);
    st.tasks.run_queued(None);
    assert_eq!(*service.stops.lock().unwrap(), vec![(target.pid, false)]);
    st.poll_tasks();
    st.take_effects();
    planned(&mut st, Ok(vec![refused]));
    st.apply(Action::Stop(StopMsg::Confirm { force: true }));
    assert!(
        st.take_effects().is_empty() && st.tasks.queued().is_empty(),
        "nothing stoppable"
    );
    let finished = |st: &mut AppState, r: Vec<StopReport>| {
        let results = r.into_iter().map(|r| (target.clone(), r)).collect();
        st.apply(Action::Stop(StopMsg::Finished {
            force: false,
            results,
        }))
    };
    finished(
        &mut st,
        vec![StopReport {
            elapsed_ms: 30,
            port_freed: Some(true),
            ..stop_report(&target, StopOutcome::Terminated, "stopped python3 (4242)")
        }],
    );
    assert_eq!(st.take_effects(), vec![Effect::RefreshNow]);
    let t = st.toasts().last().unwrap();
    assert_eq!(
        (t.kind, t.text.as_str()),
        (ToastKind::Success, "stopped python3 (4242)")
    );

    finished(
        &mut st,
        vec![stop_report(
            &target,
            StopOutcome::PermissionDenied,
            "permission denied: run sudo portwise stop --pid 4242",
        )],
    );
    let t = st.toasts().last().unwrap();
    assert_eq!(t.kind, ToastKind::Error);
    assert_eq!(
        t.text,
        "Permission denied: python3 (pid 4242) runs as alice; start portwise elevated (root, or \
         as Administrator) to stop it"
    );
    planned(&mut st, Err("permission denied".into()));
    assert!(st.stop_dialog.is_none());
    assert!(
        st.toasts()
            .last()
            .unwrap()
            .text
            .contains("permission denied")
    );
}

/// A process that outlived SIGTERM: an error toast that stays, and the
/// dialog back for that same target (same pid and start time) with Kill,
/// which asks the stopper to kill exactly it.
#[test]
fn still_running_after_a_polite_stop_offers_kill_for_the_same_process() {
    let service = std::sync::Arc::new(RecordingStop::default());
    let workers = crate::window::ctx::Workers {
        stop: service.clone(),
        sysctls: std::sync::Arc::new(crate::tuning::NoSystem),
        wake: std::sync::Arc::new(|| {}),
    };
    let mut st = AppState::with(Settings::default(), 0, Tasks::manual(), workers);
    let target = StopTarget {
        start_time: 987_654,
        ..stop_target(4242, "python3", 8080)
    };
    let other = stop_target(4343, "node", 8080);
    st.apply(Action::Stop(StopMsg::Finished {
        force: false,
        results: vec![
            (
                target.clone(),
                StopReport {
                    elapsed_ms: 5_000,
                    ..stop_report(
                        &target,
                        StopOutcome::StillRunning,
                        "python3 (pid 4242) is still running 5 s after SIGTERM; `portwise stop \
                         --pid 4242 --force` kills it at once",
                    )
                },
            ),
            (
                other.clone(),
                stop_report(&other, StopOutcome::Terminated, "stopped node"),
            ),
        ],
    }));
    let d = st.stop_dialog.clone().expect("the dialog is back");
    assert_eq!(d.targets, vec![target.clone()], "only the survivor");
    assert_eq!(d.still_running, Some(5_000));
    let errors: Vec<_> = st
        .toasts()
        .iter()
        .filter(|t| t.kind == ToastKind::Error)
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].text,
        "python3 (pid 4242) is still running 5 s after it was asked to stop: Kill ends it at once"
    );
    assert!(!errors[0].text.contains("--"), "no CLI flag in the window");
    // The failure stays: an hour later it is still there.
    st.tick(3_600_000);
    assert!(st.toasts().iter().any(|t| t.text.contains("still running")));

    st.apply(Action::Stop(StopMsg::Confirm { force: true }));
    assert_eq!(st.tasks.queued(), vec!["portwise-stop"]);
    st.tasks.run_queued(None);
    assert_eq!(*service.stops.lock().unwrap(), vec![(4242, true)]);
    // Killed: the "still running" toast was about it, and is taken back.
    st.poll_tasks();
    assert!(
        !st.toasts().iter().any(|t| t.text.contains("still running")),
        "{:?}",
        st.toasts()
    );
    assert!(st.toasts().iter().any(|t| t.kind == ToastKind::Success));

    // A forced stop that leaves it running (stuck in the kernel) does not
    // offer Kill again: the engine's words say what happened.
    st.stop_dialog = None;
    st.apply(Action::Stop(StopMsg::Finished {
        force: true,
        results: vec![(
            target.clone(),
            stop_report(
                &target,
                StopOutcome::StillRunning,
                "still running after being killed",
            ),
        )],
    }));
    assert!(st.stop_dialog.is_none());
}
