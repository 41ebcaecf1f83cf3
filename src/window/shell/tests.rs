//! The shell's state without any UI: actions in, state and effects out;
//! and the fixtures the features' state tests share.

use std::time::Duration;

use super::*;
use crate::fixtures::{self, ip};
use crate::sockets::{Proto, Snapshot, SocketEntry, TcpState};
use crate::tuning::Os;
use crate::window::sampler::Sample;
use crate::window::sockets::*;

pub(crate) fn listener(port: u16, name: &str, pid: u32) -> SocketEntry {
    fixtures::listener("127.0.0.1", port, pid, name)
}

pub(crate) fn time_wait(port: u16, remote_port: u16, left_ms: u64) -> SocketEntry {
    fixtures::time_wait(port, remote_port, left_ms, Some((77, "server")))
}

pub(crate) use crate::fixtures::snapshot as snap;

/// A socket on 127.0.0.1:`port`, its owner seen without user or path.
pub(crate) use crate::fixtures::bare as sock;

pub(crate) fn feed(st: &mut AppState, s: Snapshot) {
    st.on_sample(Sample::Snapshot {
        snapshot: Box::new(s),
        took: Duration::from_millis(3),
    });
    st.ensure_rows();
}

pub(crate) fn ports(st: &AppState) -> Vec<u16> {
    st.sockets
        .rows()
        .iter()
        .map(|r| st.sockets.entry(*r).unwrap().local_port)
        .collect()
}

pub(crate) fn base() -> Vec<SocketEntry> {
    let mut udp = sock(Proto::Udp, 5353, None, Some((9, "avahi")));
    udp.local_addr = ip("0.0.0.0");
    udp.inode = 0;
    let mut est = listener(8080, "python3", 4242);
    est.state = Some(TcpState::Established);
    est.remote_addr = Some(ip("10.0.0.2"));
    est.remote_port = Some(51000);
    est.inode = 5;
    vec![
        listener(8080, "python3", 4242),
        listener(22, "sshd", 1),
        udp,
        time_wait(8080, 40000, 30_000),
        est,
    ]
}

#[test]
fn toasts_expire_and_can_be_dismissed() {
    let mut st = AppState::new(Settings::default(), 0);
    st.toast(ToastKind::Info, "a");
    st.toast(ToastKind::Error, "b");
    let id_b = st.toasts()[1].id;
    st.tick(5_000);
    assert_eq!(
        st.toasts().len(),
        1,
        "info goes after 4 s, errors stay longer"
    );
    st.tick(600_000);
    assert_eq!(st.toasts()[0].text, "b", "a failure stays until dismissed");
    st.apply(Action::DismissToast(id_b));
    assert!(st.toasts().is_empty());
}

#[test]
fn interval_pause_resume_refresh_become_sampler_effects() {
    let mut st = AppState::new(Settings::default(), 0);
    st.apply(Action::SetInterval(2_000));
    st.apply(Action::SetInterval(3)); // not offered: ignored
    st.apply(Action::Pause);
    st.apply(Action::Resume);
    st.apply(Action::RefreshNow);
    assert_eq!(
        st.take_effects(),
        vec![
            Effect::SetInterval(Duration::from_secs(2)),
            Effect::Pause,
            Effect::Resume,
            Effect::RefreshNow
        ]
    );
    assert_eq!(st.settings.interval_ms, 2_000);
}

#[test]
fn settings_round_trip_and_bad_values_are_repaired() {
    let mut s = Settings::default();
    s.filter.text = "8080".into();
    s.sort = Sort {
        column: Column::TimeWait,
        descending: true,
    };
    s.column_widths = Column::ALL
        .iter()
        .map(|c| c.default_width() + 1.0)
        .collect();
    let json = serde_json::to_string(&s).unwrap();
    let back: Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(back.clone().sanitised(), s);

    let mut bad = back;
    bad.interval_ms = 7;
    bad.column_widths = vec![f32::NAN; 3];
    let fixed = bad.sanitised();
    assert_eq!(fixed.interval_ms, DEFAULT_INTERVAL_MS);
    assert!(fixed.column_widths.is_empty());
    assert_eq!(
        fixed.column_width(Column::Port),
        Column::Port.default_width()
    );

    // Missing fields (an older store) fall back to defaults.
    let partial: Settings = serde_json::from_str(r#"{"interval_ms": 5000}"#).unwrap();
    assert_eq!(partial.interval_ms, 5_000);
    assert_eq!(partial.filter, QuickFilter::default());
}

#[test]
fn utc_clock_and_interval_texts() {
    assert_eq!(utc_clock_text(0), "00:00:00 UTC");
    assert_eq!(utc_clock_text(1_700_000_000_000), "22:13:20 UTC");
    assert_eq!(interval_text(500), "500 ms");
    assert_eq!(interval_text(2_000), "2 s");
}

#[test]
fn the_path_prompt_carries_its_job_to_a_path() {
    let mut st = AppState::new(Settings::default(), 1_000);
    st.open_path_prompt(FileJob::Audit, "/home/a/".into());
    st.apply(Action::PathPromptEdit("   ".into()));
    st.apply(Action::PathPromptConfirm);
    assert!(st.path_prompt.is_some(), "an empty path is refused");
    assert_eq!(st.toasts()[0].text, "Type a path first");
    st.apply(Action::PathPromptEdit("/tmp/x.conf".into()));
    st.apply(Action::PathPromptConfirm);
    assert!(st.path_prompt.is_none());
    assert_eq!(
        st.take_effects(),
        vec![Effect::UsePath {
            job: FileJob::Audit,
            path: "/tmp/x.conf".into()
        }]
    );
    st.open_path_prompt(FileJob::ExportSockets, "/tmp/a.csv".into());
    st.apply(Action::PathPromptCancel);
    assert!(st.path_prompt.is_none() && st.take_effects().is_empty());

    // Saving over an existing file takes a second confirm.
    let dir = tempfile::tempdir().unwrap();
    let there = dir.path().join("99-zz-portwise.conf");
    std::fs::write(&there, "old").unwrap();
    let job = FileJob::SaveTuning {
        os: Os::Linux,
        text: "new".into(),
    };
    st.open_path_prompt(job.clone(), there.clone());
    st.apply(Action::PathPromptConfirm);
    assert_eq!(
        st.path_prompt.as_ref().unwrap().replace,
        Some(there.clone())
    );
    assert!(st.take_effects().is_empty());
    st.apply(Action::PathPromptConfirm);
    assert_eq!(
        st.take_effects(),
        vec![Effect::UsePath { job, path: there }]
    );

    // A directory or a device is refused at once, never offered for
    // replacing; an export to one is not moved to "name.csv" beside it.
    let mut not_files = vec![dir.path().to_path_buf()];
    if cfg!(unix) {
        not_files.push(PathBuf::from("/dev/null"));
    }
    for not_a_file in not_files {
        st.open_path_prompt(FileJob::ExportSockets, not_a_file.clone());
        st.apply(Action::PathPromptConfirm);
        let p = st.path_prompt.as_ref().expect("the prompt stays");
        assert_eq!(p.replace, None);
        assert!(st.take_effects().is_empty());
        let last = &st.toasts().last().unwrap().text;
        assert!(
            last.starts_with("Cannot save there:") && last.contains("not a regular file"),
            "{last}"
        );
        assert_eq!(
            crate::window::sockets::export::normalise_path(not_a_file.clone()),
            not_a_file
        );
        st.apply(Action::PathPromptCancel);
    }
    assert_eq!(
        crate::window::sockets::export::normalise_path(dir.path().join("rows")),
        dir.path().join("rows.csv")
    );
}
