//! Toast notifications: short notices stacked in the bottom-right corner.

use egui::{Align2, Area, Frame, Id, Order, RichText, Stroke};

use crate::window::shell::{Action, AppState, ToastKind};
use crate::window::widgets;

pub fn show(ctx: &egui::Context, state: &AppState, out: &mut Vec<Action>) {
    let toasts = state.toasts();
    if toasts.is_empty() {
        return;
    }
    // Wake once when the first of them is due to go (nothing else ticks);
    // a failure stays until dismissed and wakes nothing.
    if let Some(left) = toasts
        .iter()
        .filter_map(|t| {
            let life = t.lifetime_ms()?;
            Some((t.shown_at_ms + life).saturating_sub(state.now_ms))
        })
        .min()
    {
        ctx.request_repaint_after(std::time::Duration::from_millis(left.max(20)));
    }
    Area::new(Id::unique("portwise.toasts"))
        .anchor(Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -36.0))
        .order(Order::Tooltip)
        .interactable(true)
        .show(ctx, |ui| {
            ui.set_max_width(420.0);
            for t in toasts {
                let color = match t.kind {
                    ToastKind::Info => ui.visuals().widgets.active.bg_stroke.color,
                    ToastKind::Success => egui::Color32::from_rgb(60, 170, 90),
                    ToastKind::Error => widgets::error_color(ui),
                };
                Frame::popup(ui.style())
                    .stroke(Stroke::new(1.5, color))
                    .show(ui, |ui| {
                        ui.horizontal_top(|ui| {
                            let text = RichText::new(&t.text);
                            let text = if t.kind == ToastKind::Error {
                                text.color(color)
                            } else {
                                text
                            };
                            // A long notice wraps, leaving room for its
                            // button (one line ran off the window's left).
                            ui.scope(|ui| {
                                ui.set_max_width(380.0);
                                ui.add(egui::Label::new(text).wrap());
                            });
                            if ui
                                .small_button("×")
                                .on_hover_text("Dismiss this notice")
                                .clicked()
                            {
                                out.push(Action::DismissToast(t.id));
                            }
                        });
                    });
                ui.add_space(4.0);
            }
        });
}
