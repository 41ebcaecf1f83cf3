//! The "type a path" fallback for a file dialog that could not open (on
//! Linux, rfd's dialogs need xdg-desktop-portal): used by Export…, the
//! tuning view's Save… and Audit a file….

use egui::{Id, Key, Modal, RichText};

use crate::window::shell::{Action, AppState};
use crate::window::widgets;

pub fn show(ctx: &egui::Context, state: &AppState, out: &mut Vec<Action>) {
    let Some(p) = &state.path_prompt else {
        return;
    };
    let resp = Modal::new(Id::unique("portwise.path_prompt")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        ui.heading(p.job.title());
        ui.add_space(4.0);
        let what = if p.job.saves() { "save" } else { "open" };
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "No file was chosen: the {what} dialog closed at once. If none appeared, \
                     file dialogs are unavailable here (on Linux they need xdg-desktop-portal \
                     running). Type the path instead."
                ))
                .weak(),
            )
            .wrap(),
        );
        ui.add_space(6.0);
        let mut confirm = false;
        ui.horizontal(|ui| {
            let label = ui.label("Path");
            let mut text = p.text.clone();
            let r = ui
                .add(egui::TextEdit::singleline(&mut text).desired_width(440.0))
                .labelled_by(label.id);
            if r.changed() {
                out.push(Action::PathPromptEdit(text));
            }
            if r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                confirm = true;
            }
        });
        if let Some(path) = &p.replace {
            ui.label(
                RichText::new(format!(
                    "{} exists. Replace it, or type another path.",
                    path.display()
                ))
                .color(widgets::warn_color(ui)),
            );
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let verb = match (p.job.saves(), p.replace.is_some()) {
                (false, _) => "Open",
                (true, false) => "Save",
                (true, true) => "Replace",
            };
            if ui.button(verb).clicked() {
                confirm = true;
            }
            if ui.button("Cancel").clicked() {
                out.push(Action::PathPromptCancel);
            }
        });
        if confirm {
            out.push(Action::PathPromptConfirm);
        }
    });
    if resp.should_close()
        && !out
            .iter()
            .any(|a| matches!(a, Action::PathPromptConfirm | Action::PathPromptCancel))
    {
        out.push(Action::PathPromptCancel);
    }
}
