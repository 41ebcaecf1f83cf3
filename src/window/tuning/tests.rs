//! The Kernel tuning view without any UI: messages in, state and effects
//! out.

use crate::tuning::{Goal, Os};
use crate::window::shell::*;
use crate::window::tuning::{LiveValues, TuningState};

#[test]
fn tuning_replans_on_every_choice() {
    let mut t = TuningState::default();
    assert_eq!(t.goals, vec![Goal::Restart]);
    assert!(matches!(t.live, LiveValues::NotAsked));
    assert!(t.want_values());
    assert!(!t.want_values(), "asked once");
    let row = t.rows[0].clone();
    assert_eq!(t.current_text(&row), "reading…");
    t.values_read(crate::tuning::FixedValues::new([(
        "net.ipv4.tcp_tw_reuse",
        "2",
    )]));

    t.set_os(Os::Linux);
    t.set_goal(Goal::Outbound, true);
    let text = t.preview.as_ref().unwrap().text();
    assert!(text.contains("net.ipv4.tcp_tw_reuse = 1"), "{text}");
    let row = t
        .rows
        .iter()
        .find(|r| r.tunable.key == "net.ipv4.tcp_tw_reuse")
        .unwrap()
        .clone();
    if Os::current() == Os::Linux {
        assert_eq!(t.current_text(&row), "2");
    } else {
        assert_eq!(t.current_text(&row), "not read: another OS");
    }
    t.set_toggle("net.ipv4.tcp_tw_reuse", false);
    assert!(
        !t.preview
            .as_ref()
            .unwrap()
            .text()
            .lines()
            .any(|l| l == "net.ipv4.tcp_tw_reuse = 1")
    );

    t.set_goal(Goal::Reserve, true);
    assert!(t.preview.as_ref().unwrap_err().contains("needs the ports"));
    t.set_reserve_text("80,x".into());
    assert!(
        t.preview
            .as_ref()
            .unwrap_err()
            .starts_with("Ports to keep free:")
    );
    t.set_reserve_text("8080".into());
    assert!(t.preview.is_ok());

    t.set_goal(Goal::Restart, false);
    t.set_goal(Goal::Outbound, false);
    t.set_goal(Goal::Reserve, false);
    assert!(
        t.preview
            .as_ref()
            .unwrap_err()
            .contains("at least one goal")
    );
    assert!(t.rows.is_empty());
}

#[test]
fn tuning_save_and_audit_go_through_effects() {
    let mut st = AppState::new(Settings::default(), 1_000);
    st.apply(Action::Tuning(TuningAction::SetOs(Os::Linux)));
    st.apply(Action::Tuning(TuningAction::Save));
    let (os, text) = match st.take_effects().as_slice() {
        [
            Effect::SaveTuning {
                os,
                file_name,
                text,
            },
        ] => {
            assert_eq!(file_name, "99-zz-portwise.conf");
            (*os, text.clone())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(text, st.tuning.preview.as_ref().unwrap().text());
    let path = std::path::Path::new("/etc/sysctl.d/99-zz-portwise.conf");
    st.apply(Action::Tuning(TuningAction::Saved {
        os,
        path: path.into(),
        result: Ok(()),
    }));
    assert_eq!(
        st.tuning.apply_command().unwrap(),
        "sudo sysctl -p /etc/sysctl.d/99-zz-portwise.conf"
    );
    st.apply(Action::Tuning(TuningAction::Saved {
        os,
        path: path.into(),
        result: Err("permission denied".into()),
    }));
    assert_eq!(
        st.tuning.save_error.as_deref(),
        Some("Cannot save /etc/sysctl.d/99-zz-portwise.conf: permission denied")
    );

    st.apply(Action::Tuning(TuningAction::Audit));
    assert_eq!(st.take_effects(), vec![Effect::OpenAudit]);

    // Opening the Kernel tuning view reads the values once.
    st.apply(Action::ShowView(View::Tuning));
    st.tick(2_000);
    st.tick(3_000);
    assert!(st.take_effects().is_empty());
    assert_eq!(st.tasks.queued(), vec!["portwise-sysctl"]);
}
