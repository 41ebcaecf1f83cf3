//! "Stop process…" confirmation: what will be stopped, and why stopping may
//! not free the port.

use egui::{Id, Modal, RichText};

use crate::util::text::escape_control as esc;
use crate::window::shell::{Action, AppState};
use crate::window::stop::StopMsg;
use crate::window::widgets;

pub fn show(ctx: &egui::Context, state: &AppState, out: &mut Vec<Action>) {
    let Some(d) = &state.stop_dialog else {
        return;
    };
    let resp =
        Modal::new(Id::unique("portwise.stop_dialog")).show(ctx, |ui| {
            ui.set_max_width(560.0);
            let title = match (d.still_running, d.targets.len()) {
                (Some(_), 1) => "Still running: kill it?".to_string(),
                (Some(_), n) => format!("{n} processes still running: kill them?"),
                (None, 1) => "Stop this process?".to_string(),
                (None, n) => format!("Stop these {n} processes?"),
            };
            ui.heading(title);
            if let Some(ms) = d.still_running {
                let it = if d.targets.len() == 1 { "It" } else { "They" };
                ui.add(egui::Label::new(
                RichText::new(format!(
                    "{it} did not exit within {} of being asked to stop (SIGTERM where the OS \
                     has it): it may ignore the signal, or still be cleaning up. Kill ends \
                     it at once, without letting it clean up (SIGKILL; on Windows, \
                     TerminateProcess).",
                    crate::window::stop::waited_text(ms)
                ))
                .color(widgets::warn_color(ui)),
            ).wrap());
            }
            ui.add_space(6.0);
            for t in &d.targets {
                egui::Grid::new(("stop_target", t.pid))
                    .num_columns(2)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        ui.label("PID");
                        ui.monospace(t.pid.to_string());
                        ui.end_row();
                        ui.label("Name");
                        ui.strong(esc(&t.name));
                        ui.end_row();
                        ui.label("User");
                        ui.label(esc(t.user.as_deref().unwrap_or("unknown")));
                        ui.end_row();
                        ui.label("Command line");
                        ui.add(egui::Label::new(RichText::new(&t.cmdline).monospace()).wrap());
                        ui.end_row();
                    });
                for c in &t.caveats {
                    ui.label(RichText::new(esc(c.as_str())).color(widgets::warn_color(ui)));
                }
                if let Some(r) = &t.refusal {
                    ui.label(
                        RichText::new(format!("portwise will not stop it: {}", esc(r)))
                            .color(widgets::error_color(ui)),
                    );
                }
                ui.separator();
            }
            let can_stop = d.targets.iter().any(|t| t.refusal.is_none());
            ui.horizontal(|ui| {
                if d.still_running.is_some() {
                    // The very processes that were asked (pid and start time:
                    // the engine signals nothing whose pid was reused).
                    if ui
                        .add_enabled(can_stop, egui::Button::new("Kill"))
                        .on_hover_text("End it at once, without letting it clean up")
                        .clicked()
                    {
                        out.push(Action::Stop(StopMsg::Confirm { force: true }));
                    }
                    if ui
                        .button("Leave it running")
                        .on_hover_text("Close this; the process keeps running")
                        .clicked()
                    {
                        out.push(Action::Stop(StopMsg::Cancel));
                    }
                    return;
                }
                ui.add_enabled_ui(can_stop, |ui| stop_buttons(ui, out));
                if ui.button("Cancel").clicked() {
                    out.push(Action::Stop(StopMsg::Cancel));
                }
            });
        });
    if resp.should_close()
        && !out
            .iter()
            .any(|a| matches!(a, Action::Stop(StopMsg::Confirm { .. })))
    {
        out.push(Action::Stop(StopMsg::Cancel));
    }
}

fn stop_buttons(ui: &mut egui::Ui, out: &mut Vec<Action>) {
    if ui
        .button("Stop")
        .on_hover_text(
            "Ask the process to exit (SIGTERM where the OS has it), \
                     wait up to 5 s, then report",
        )
        .clicked()
    {
        out.push(Action::Stop(StopMsg::Confirm { force: false }));
    }
    if ui
        .button("Kill now")
        .on_hover_text("End the process at once, without letting it clean up")
        .clicked()
    {
        out.push(Action::Stop(StopMsg::Confirm { force: true }));
    }
}
