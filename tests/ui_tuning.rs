//! The Kernel tuning view, driven through the whole app. Current values
//! come from a fixed Linux machine (the rig's `linux_defaults`), so the
//! recommendations are known; Save and Audit go through the dialog seam
//! to real files in a temp dir.

mod common;

use common::ui::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use portwise::tuning::{Os, Severity};
use portwise::window::app::PortwiseApp;
use portwise::window::shell::View;
use portwise::window::tuning::{AuditState, LiveValues};

type H = Harness<'static, PortwiseApp>;

fn started(rig: &Rig) -> H {
    let mut h = on_view(rig, View::Tuning);
    settled(&mut h, |app| {
        matches!(app.state.tuning.live, LiveValues::Done(_))
    });
    h
}

fn preview_text(h: &H) -> String {
    h.state().state.tuning.preview.as_ref().unwrap().text()
}

#[test]
fn choosing_goals_changes_the_preview() {
    let rig = Rig::new();
    let mut h = started(&rig);
    // The default goal: restarts, which no kernel setting fixes.
    assert!(has_text(&h, "No kernel setting changes what bind() does"));
    h.get_by_label_contains("No setting is switched on");
    assert!(!preview_text(&h).contains("net.ipv4.tcp_tw_reuse = 1"));
    // The wrong advice is shown beside the setting it is about.
    assert!(has_text(&h, "Wrong advice: lower net.ipv4.tcp_fin_timeout"));
    assert!(has_text(&h, "Wrong advice: enable net.ipv4.tcp_tw_recycle"));

    click(&mut h, "Many outgoing connections");
    let text = preview_text(&h);
    assert!(text.contains("net.ipv4.tcp_tw_reuse = 1"), "{text}");
    // The widened range is derived from this machine's current one.
    assert!(
        text.contains("Widen the ephemeral range from 32768-60999"),
        "{text}"
    );
    h.get_by_label_contains("settings switched on, for Linux.");

    // A line switched off stays as a comment.
    click(&mut h, "net.ipv4.tcp_tw_reuse = 1");
    let text = preview_text(&h);
    assert!(
        !text.lines().any(|l| l == "net.ipv4.tcp_tw_reuse = 1"),
        "{text}"
    );
    assert!(text.contains("# (off) net.ipv4.tcp_tw_reuse = 1"), "{text}");
    h.get_by_label("1 (optional, switched off below)");

    // Keep ports free: asks for the ports, then reserves them.
    click(&mut h, "Keep my service ports free");
    h.get_by_label_contains("needs the ports to reserve");
    set_field(&mut h, "Ports to keep free", "8080,9000-9010");
    assert!(preview_text(&h).contains("net.ipv4.ip_local_reserved_ports = 8080,9000-9010"));

    // Another OS: its own file, and no values read from this machine.
    click(&mut h, "Windows");
    let t = &h.state().state.tuning;
    assert_eq!(t.os, Os::Windows);
    assert_eq!(t.preview.as_ref().unwrap().file_name, "portwise-tuning.ps1");
    assert!(h.query_all_by_label("not read: another OS").count() > 0);
}

#[test]
fn save_writes_the_file_and_updates_the_apply_command() {
    let rig = Rig::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("99-zz-portwise.conf");
    *rig.dialogs.path.lock().unwrap() = Some(path.clone());
    let mut h = started(&rig);
    click(&mut h, "Many outgoing connections");
    click(&mut h, "Save…");
    // Written on a worker thread.
    settled(&mut h, |app| app.state.tuning.saved.is_some());

    let req = rig.dialogs.saves.lock().unwrap()[0].clone();
    assert_eq!(req.file_name, "99-zz-portwise.conf");
    assert_eq!(req.filters[0].extensions, vec!["conf"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), preview_text(&h));
    h.get_by_label(&format!("Saved to {}", path.display()));
    let cmd = h.state().state.tuning.apply_command().unwrap();
    assert!(cmd.contains(&path.display().to_string()), "{cmd}");
    h.get_by_label(&cmd);

    // Copy puts the same text on the clipboard.
    click(&mut h, "Copy");
    assert_eq!(rig.clipboard.texts(), vec![preview_text(&h)]);

    // A path that cannot be written: the error shows in the window.
    *rig.dialogs.path.lock().unwrap() = Some("/nonexistent-dir/99-zz-portwise.conf".into());
    click(&mut h, "Save…");
    settled(&mut h, |app| app.state.tuning.save_error.is_some());
    assert!(has_text(
        &h,
        "Cannot save /nonexistent-dir/99-zz-portwise.conf"
    ));
}

#[test]
fn audit_lists_the_findings_of_a_bad_file() {
    let rig = Rig::new();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(
        &bad,
        "# from a blog post\n\
         net.ipv4.tcp_tw_recycle = 1\n\
         net.ipv4.tcp_fin_timeout = 10\n\
         this line is not a setting\n",
    )
    .unwrap();
    *rig.dialogs.path.lock().unwrap() = Some(bad.clone());
    let mut h = started(&rig);
    click(&mut h, "Audit a file…");
    settled(&mut h, |app| {
        matches!(app.state.tuning.audit, Some(AuditState::Done { .. }))
    });
    let Some(AuditState::Done { findings, .. }) = h.state().state.tuning.audit.clone() else {
        unreachable!()
    };
    let lines: Vec<(usize, Severity)> = findings.iter().map(|f| (f.line, f.severity)).collect();
    assert_eq!(
        lines,
        vec![
            (2, Severity::Error),
            (3, Severity::Warning),
            // `sysctl -p` skips a line without `=` and still succeeds: the
            // audit's errors are exactly what sysctl -p rejects (issue 10).
            (4, Severity::Warning)
        ]
    );
    h.get_by_label(&format!("Audit of {}", bad.display()));
    h.get_by_label("3 findings (1 error, 2 warnings)");
    h.get_by_label("line 2");
    h.get_by_label("line 4");
    h.get_by_label_contains("tcp_tw_recycle: removed in Linux 4.12");
    click(&mut h, "Close");
    assert!(h.state().state.tuning.audit.is_none());
}

#[test]
fn a_dialog_that_cannot_open_asks_for_the_path_in_the_window() {
    let rig = Rig::new();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("sysctl.conf");
    std::fs::write(&bad, "net.ipv4.tcp_tw_recycle=1\n").unwrap();
    let mut h = started(&rig);
    // No path: the stand-in dialog returns at once, as rfd does without
    // xdg-desktop-portal.
    click(&mut h, "Audit a file…");
    h.get_by_label("Audit a sysctl file");
    h.get_by_label_contains("the open dialog closed at once");
    set_field(&mut h, "Path", &bad.to_string_lossy());
    click(&mut h, "Open");
    settled(&mut h, |app| {
        matches!(app.state.tuning.audit, Some(AuditState::Done { .. }))
    });
    h.get_by_label("line 1");

    // The same fallback for Save…; Cancel writes nothing.
    click(&mut h, "Save…");
    h.get_by_label("Save the tuning snippet");
    click(&mut h, "Cancel");
    assert!(h.state().state.path_prompt.is_none());
    let typed = dir.path().join("typed.conf");
    click(&mut h, "Save…");
    set_field(&mut h, "Path", &typed.to_string_lossy());
    click(&mut h, "Save");
    settled(&mut h, |_| typed.exists());
    assert_eq!(std::fs::read_to_string(&typed).unwrap(), preview_text(&h));
}
