//! Drawing shared by the views: colours that read on both themes, the
//! TIME_WAIT countdown bar, the new/gone row highlight. A leaf: it uses only
//! [`crate::window::ctx`]'s texts.

use egui::Color32;

use crate::window::ctx::{countdown_fraction, countdown_text};

/// Green for new rows, red for rows that went, at a strength from 0 to 1.
pub fn highlight(ui: &egui::Ui, new: bool, strength: f32) -> Color32 {
    let a = (strength.clamp(0.0, 1.0) * if ui.visuals().dark_mode { 110.0 } else { 90.0 }) as u8;
    if new {
        Color32::from_rgba_unmultiplied(40, 170, 70, a)
    } else {
        Color32::from_rgba_unmultiplied(210, 50, 50, a)
    }
}

/// "42 s" and a bar `width` wide draining from the full TIME_WAIT length
/// to 0.
pub fn countdown(ui: &mut egui::Ui, left_ms: u64, width: f32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 6.0), egui::Sense::hover());
    let painter = ui.painter();
    let v = ui.visuals();
    painter.rect_filled(rect, 2.0, v.extreme_bg_color);
    let mut fill = rect;
    fill.set_width(rect.width() * countdown_fraction(left_ms));
    painter.rect_filled(fill, 2.0, v.selection.bg_fill);
    ui.label(countdown_text(left_ms));
}

/// A colour for warnings that reads on both themes.
pub fn warn_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().warn_fg_color
}

/// A colour for errors that reads on both themes.
pub fn error_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}
