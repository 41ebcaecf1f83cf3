//! Drawing: the shell (navigation, status bar, toasts, dialogs) and the
//! views. Everything here reads [`AppState`] and pushes [`Action`]s; it
//! changes nothing itself.

use egui::{Key, Modifiers};

use crate::window::shell::{Action, AppState, INTERVALS_MS, View, interval_text};

/// Draw the whole window for one frame.
pub fn show(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    shortcuts(ui, state, out);

    egui::Panel::top("portwise.nav").show(ui, |ui| {
        // The refresh controls sit at the right end of the tabs' row when
        // they fit there, else on a row of their own (a narrow window must
        // not draw them over the tabs).
        crate::window::widgets::row_with_right_part(
            ui,
            "portwise.nav.row",
            out,
            |ui, out| nav(ui, state, out),
            |ui, out| refresh_controls(ui, state, out),
        );
    });
    egui::Panel::top("portwise.hosts").show(ui, |ui| {
        crate::window::hosts::view::bar(ui, state, out);
    });
    egui::Panel::bottom("portwise.status").show(ui, |ui| {
        super::status_bar::show(ui, state);
    });
    egui::CentralPanel::default().show(ui, |ui| {
        if crate::window::hosts::view::show_remote(ui, state, out) {
            return;
        }
        match state.settings.view {
            View::Sockets => crate::window::sockets::view::show(ui, state, out),
            View::FreePort => crate::window::free_port::view::show(ui, state, out),
            View::BindTest => crate::window::bind_test::view::show(ui, state, out),
            View::Tuning => crate::window::tuning::view::show(ui, state, out),
            View::Fleet => crate::window::fleet::view::show(ui, state, out),
        }
    });

    crate::window::stop::view::show(ui.ctx(), state, out);
    super::path_prompt::show(ui.ctx(), state, out);
    crate::window::hosts::view::picker(ui.ctx(), state, out);
    super::toasts::show(ui.ctx(), state, out);
}

/// Keyboard shortcuts of the whole window: F5 refresh. (Each view reads
/// its own keys when it draws.)
fn shortcuts(ui: &mut egui::Ui, _state: &AppState, out: &mut Vec<Action>) {
    if ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F5)) {
        out.push(Action::RefreshNow);
    }
}

fn nav(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    ui.strong("portwise");
    ui.separator();
    for v in View::ALL {
        let r = ui
            .selectable_label(state.settings.view == *v, v.title())
            .on_hover_text(v.tooltip());
        if r.clicked() && state.settings.view != *v {
            out.push(Action::ShowView(*v));
        }
    }
}

/// Refresh now, pause / resume and the interval (laid out right to left).
fn refresh_controls(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let mut ms = state.settings.interval_ms;
    let combo = egui::ComboBox::from_id_salt("portwise.interval")
        .selected_text(interval_text(ms))
        .width(70.0)
        .show_ui(ui, |ui| {
            for v in INTERVALS_MS {
                ui.selectable_value(&mut ms, *v, interval_text(*v));
            }
        });
    // Right to left: the label lands left of the box it names.
    let label = ui.label("Refresh every");
    combo.response.labelled_by(label.id);
    if ms != state.settings.interval_ms {
        out.push(Action::SetInterval(ms));
    }
    if state.paused {
        if ui
            .button("Resume")
            .on_hover_text("Sample again at the interval")
            .clicked()
        {
            out.push(Action::Resume);
        }
    } else if ui
        .button("Pause")
        .on_hover_text("Stop sampling; the table keeps the last snapshot")
        .clicked()
    {
        out.push(Action::Pause);
    }
    if ui
        .button("Refresh now")
        .on_hover_text("Take a snapshot now (F5)")
        .clicked()
    {
        out.push(Action::RefreshNow);
    }
}
