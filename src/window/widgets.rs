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
/// to 0. `left_ms`: the time left at [`countdown_clock`]`(now_ms)`.
pub fn countdown(ui: &mut egui::Ui, left_ms: u64, width: f32, now_ms: u64) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 6.0), egui::Sense::hover());
    let painter = ui.painter();
    let v = ui.visuals();
    painter.rect_filled(rect, 2.0, v.extreme_bg_color);
    let mut fill = rect;
    fill.set_width(rect.width() * countdown_fraction(left_ms));
    painter.rect_filled(fill, 2.0, v.selection.bg_fill);
    ui.label(countdown_text(left_ms));
    repaint_for_countdown(ui, left_ms, now_ms);
}

/// The clock countdowns are drawn at: `now_ms` down to its whole second.
/// Every socket's timer has its own phase; counted from this clock, every
/// countdown on screen changes its text at the same instant, the clock's
/// next second, so thirty rows cost one repaint a second, not thirty. A
/// countdown then reads up to a second high, never low.
pub fn countdown_clock(now_ms: u64) -> u64 {
    now_ms - now_ms % 1000
}

/// Ask for one repaint at the clock's next whole second, when a countdown
/// drawn at [`countdown_clock`] next changes; nothing once it shows 0.
/// Call it where a countdown is drawn: then only what is on screen ticks,
/// once a second, and nothing ticks for rows scrolled away, other views or
/// a hidden window.
pub fn repaint_for_countdown(ui: &egui::Ui, left_ms: u64, now_ms: u64) {
    if let Some(ms) = ms_to_next_tick(left_ms, now_ms) {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(ms));
    }
}

/// Milliseconds from `now_ms` until the clock's next whole second, where a
/// countdown at `left_ms` shows its next number; `None` at 0 (it shows
/// "0 s" for good).
pub fn ms_to_next_tick(left_ms: u64, now_ms: u64) -> Option<u64> {
    (left_ms > 0).then(|| 1000 - now_ms % 1000)
}

/// A colour for warnings that reads on both themes.
pub fn warn_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().warn_fg_color
}

/// A colour for errors that reads on both themes.
pub fn error_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}

/// One row: `left` from the left edge, and `right` right-aligned at the
/// end of the same row when it fits beside `left`, else right-aligned on a
/// row of its own below (so a narrow window never draws one over the
/// other). `right`'s width is measured when drawn and remembered under
/// `id_salt` for the next frame's decision; until then it is assumed wide
/// (the row splits), so the first frame never overlaps either.
/// `out` is handed to both (for the actions they push).
pub fn row_with_right_part<T>(
    ui: &mut egui::Ui,
    id_salt: &str,
    out: &mut T,
    left: impl FnOnce(&mut egui::Ui, &mut T),
    right: impl FnOnce(&mut egui::Ui, &mut T),
) {
    let id = egui::Id::unique(id_salt);
    let right_w: f32 = ui.data(|d| d.get_temp(id)).unwrap_or(f32::INFINITY);
    let gap = ui.spacing().item_spacing.x * 4.0;
    let mut right = Some(right);
    let mut measured = None;
    ui.horizontal(|ui| {
        left(ui, out);
        if ui.available_width() >= right_w + gap
            && let Some(r) = right.take()
        {
            measured = Some(right_to_left(ui, |ui| r(ui, out)));
        }
    });
    if let Some(r) = right.take() {
        ui.horizontal(|ui| measured = Some(right_to_left(ui, |ui| r(ui, out))));
    }
    if let Some(w) = measured
        && (w - right_w).abs() > 0.5
    {
        ui.data_mut(|d| d.insert_temp(id, w));
        // Lay the row out again at once with the measured width (a
        // discarded pass is never shown).
        ui.ctx().request_discard("row_with_right_part: measured");
    }
}

/// Draw `add` right to left in the rest of the row; returns the width it
/// took.
fn right_to_left(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) -> f32 {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let right_edge = ui.max_rect().right();
        add(ui);
        right_edge - ui.min_rect().left()
    })
    .inner
}

/// A label and a one-line text field named by it (so tests and screen
/// readers find the field by the label's text). Returns the new text when
/// the user changed it this frame.
pub fn labelled_text(
    ui: &mut egui::Ui,
    label: &str,
    text: &str,
    hint: &str,
    width: f32,
) -> Option<String> {
    let label = ui.label(label);
    let mut t = text.to_owned();
    let r = ui
        .add(
            egui::TextEdit::singleline(&mut t)
                .hint_text(hint)
                .desired_width(width),
        )
        .labelled_by(label.id);
    r.changed().then_some(t)
}
