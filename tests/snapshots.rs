//! Image snapshots of the window (reference PNGs in tests/snapshots/).
//! Needs a GPU or a software one (mesa-vulkan-drivers): behind the
//! `snapshots` feature. Update with `UPDATE_SNAPSHOTS=1 cargo test
//! --features snapshots --test snapshots`.
#![cfg(feature = "snapshots")]

mod common;

use common::ui::*;
use egui_kittest::kittest::Queryable as _;
use portwise::window::shell::Settings;
use portwise::window::stop::StopTarget;

/// The status bar shows how long the (real) sampler thread took: mask it.
fn mask_timing(h: &mut egui_kittest::Harness<'_, portwise::window::app::PortwiseApp>) {
    let r = h.get_by_label_contains("Updated ").rect();
    h.mask(r);
}

/// The Sockets view a moment after a refresh: one row new (green), one
/// just closed (red), TIME_WAIT countdowns, the details panel empty.
fn sockets_view(theme: egui::Theme, name: &str) {
    let rig = Rig::new();
    let mut h = rig.build(Rig::builder().with_theme(theme), Settings::default());
    refresh(&rig, &mut h, machine(T0));
    let mut next = machine(T0 + 1_000);
    next.sockets.retain(|e| e.local_port != 5353);
    next.sockets.push(listener("0.0.0.0", 3000, 777, "node"));
    rig.set_now(T0 + 1_500);
    refresh(&rig, &mut h, next);
    mask_timing(&mut h);
    h.snapshot(name);
}

#[test]
fn sockets_view_dark() {
    sockets_view(egui::Theme::Dark, "sockets_dark");
}

#[test]
fn sockets_view_light() {
    sockets_view(egui::Theme::Light, "sockets_light");
}

#[test]
fn stop_confirmation() {
    let rig = Rig::new();
    *rig.stop.targets.lock().unwrap() = vec![StopTarget {
        pid: 900,
        name: "postgres".into(),
        user: Some("postgres".into()),
        cmdline: "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main".into(),
        start_time: 2,
        caveats: vec![
            "systemd holds this port for postgresql.socket: stopping the process will not free \
             it; stop the .socket unit"
                .into(),
        ],
        port: Some(5432),
        refusal: None,
    }];
    // The details panel closed: a right-click selects its row, and the
    // panel would show the menu's "Stop process…" a second time.
    let mut h = rig.harness(Settings {
        details_open: false,
        ..Settings::default()
    });
    refresh(&rig, &mut h, machine(T0));
    h.get_by_label("postgres (900)").click_secondary();
    h.run();
    h.get_by_label("Stop process…").click();
    h.run();
    mask_timing(&mut h);
    h.snapshot("stop_confirmation");
}
