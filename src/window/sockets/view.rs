//! The Sockets view: filter bar, banners, the live table and the details
//! panel of the selected row.

use egui::{Align, Id, Key, KeyboardShortcut, Layout, Modifiers, RichText, Sense};
use egui_extras::TableBuilder;

use crate::sockets::SocketEntry;
use crate::util::text::escape_control as esc;
use crate::window::shell::{Action, AppState, utc_clock_text};
use crate::window::sockets::{
    self as s, Change, Column, CopyWhat, Quick, RowKey, RowRef, SocketsMsg, SocketsState, Step,
};
use crate::window::widgets;

const ROW_HEIGHT: f32 = 20.0;

/// The filter box's id, so Ctrl+F can focus it.
pub fn filter_id() -> Id {
    Id::unique("portwise.filter")
}

/// The Details panel's widest: 40% of the view, at least its 200 px.
fn details_max_width(view_width: f32) -> f32 {
    (view_width * 0.4).max(200.0)
}

/// Where the Details panel's last width is kept (egui memory).
fn details_width_id() -> Id {
    Id::unique("portwise.details_width")
}

/// The view: the toolbar, banners and table on the left, the Details panel
/// on the right. The panel is drawn last, so that Tab runs left to right
/// (egui moves focus in the order widgets are created): its room is kept
/// free first, at the width it had last frame.
pub fn show(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let keys = shortcuts(ui, state, out);
    let full = ui.available_rect_before_wrap();
    let open = state.settings.details_open;
    let mut left = full;
    if open {
        let w = ui
            .data(|d| d.get_temp::<f32>(details_width_id()))
            .unwrap_or(280.0)
            .clamp(200.0, details_max_width(full.width()));
        left.max.x = (full.max.x - w).max(full.min.x);
    }
    let mut main = ui.new_child(
        egui::UiBuilder::new()
            .id_salt("portwise.sockets_main")
            .max_rect(left)
            .layout(*ui.layout()),
    );
    main.set_clip_rect(left.intersect(ui.clip_rect()));
    main_area(&mut main, state, out, &keys);
    if open {
        // At most 40% of the view (a narrow window keeps most of it for
        // the table), and no wider than dragged to: a long value wraps
        // instead of widening the panel and moving the table.
        let r = egui::Panel::right("portwise.details")
            .default_size(280.0)
            .min_size(200.0)
            .max_size(details_max_width(full.width()))
            .show(ui, |ui| {
                // A short window scrolls the panel rather than cut off its
                // buttons.
                egui::ScrollArea::vertical()
                    .id_salt("portwise.details_scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| details(ui, state, out));
            });
        let w = r.response.rect.width();
        if (w - full.width() + left.width()).abs() > 0.5 {
            // The panel was resized (or first shown): lay out again at once.
            ui.data_mut(|d| d.insert_temp(details_width_id(), w));
            ui.ctx().request_discard("the details panel changed width");
        }
    }
}

/// The toolbar, banners and the table.
fn main_area(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>, keys: &Keys) {
    toolbar(ui, state, out, keys.select_filter);
    banners(ui, state, out);

    let sockets = &state.sockets;
    if sockets.received_at_ms.is_none() {
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            if sockets.error.is_some() {
                ui.label("No snapshot could be taken yet.");
            } else {
                ui.label("Taking the first snapshot…");
            }
        });
        return;
    }
    if sockets.rows().is_empty() {
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            if sockets.snapshot.sockets.is_empty() {
                ui.heading("No sockets");
            } else {
                ui.heading("No sockets match the filter");
                ui.label("Change the filter text or the toggles above, or");
                if ui.button("Reset the filter").clicked() {
                    out.push(Action::Sockets(SocketsMsg::ClearFilterText));
                    if state.settings.filter.port.is_some() {
                        out.push(Action::Sockets(SocketsMsg::ClearPortFilter));
                    }
                    if state.settings.filter.process.is_some() {
                        out.push(Action::Sockets(SocketsMsg::ClearProcessFilter));
                    }
                    for q in Quick::ALL {
                        let default = crate::window::sockets::QuickFilter::default().get(q);
                        if state.settings.filter.get(q) != default {
                            out.push(Action::Sockets(SocketsMsg::SetQuick(q, default)));
                        }
                    }
                }
            }
        });
        return;
    }
    // Wider than the room beside the Details panel: scroll sideways rather
    // than draw over the panel (issue 13: layouts that fit).
    egui::ScrollArea::horizontal()
        .id_salt("portwise.sockets_table_h")
        .auto_shrink([false, false])
        .show(ui, |ui| table(ui, state, out, keys.scroll_to));
}

/// "Columns": a checkbox per column, in the table's order; the last shown
/// column cannot be unticked.
fn column_chooser(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let shown = state.settings.shown_columns();
    // Stays open while boxes are ticked: choosing several columns is one
    // visit, closed by a click outside or Esc.
    let config = egui::containers::menu::MenuConfig::new()
        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
    let (button, _) = egui::containers::menu::MenuButton::new("Columns")
        .config(config)
        .ui(ui, |ui| {
            for col in Column::ORDER {
                let mut on = shown.contains(&col);
                let last = on && shown.len() == 1;
                let r = ui.add_enabled(!last, egui::Checkbox::new(&mut on, col.title()));
                let r = if last {
                    r.on_disabled_hover_text("At least one column stays shown")
                } else {
                    r
                };
                if r.changed() {
                    out.push(Action::Sockets(SocketsMsg::SetColumnShown(col, on)));
                }
            }
        });
    button.on_hover_text(
        "Choose the table's columns (remembered); the filter matches the shown columns",
    );
}

/// What the keys of this frame ask of the drawing.
#[derive(Default)]
struct Keys {
    /// Select the filter's text (after the box is drawn: a box without
    /// focus drops its selection when it draws).
    select_filter: bool,
    /// Scroll this row into view (the selection moved to it).
    scroll_to: Option<usize>,
}

/// The row keys, unless a text field has focus: Up/Down, PageUp/PageDown,
/// Home/End move the selection; Enter opens the details, Delete asks to
/// stop the selected row's processes.
fn row_keys(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>, keys: &mut Keys) {
    let page = ((ui.available_height() / ROW_HEIGHT) as usize)
        .saturating_sub(3)
        .max(1);
    let none = Modifiers::NONE;
    let step = ui.input_mut(|i| {
        [
            (Key::ArrowDown, Step::Down(1)),
            (Key::ArrowUp, Step::Up(1)),
            (Key::PageDown, Step::Down(page)),
            (Key::PageUp, Step::Up(page)),
            (Key::Home, Step::First),
            (Key::End, Step::Last),
        ]
        .into_iter()
        .find(|(k, _)| i.consume_key(none, *k))
        .map(|(_, s)| s)
    });
    if let Some(step) = step
        && let Some((index, key)) = state.sockets.step_selection(step)
    {
        out.push(Action::Sockets(SocketsMsg::Select(Some(key))));
        keys.scroll_to = Some(index);
    }
    let Some(selected) = state.sockets.selected else {
        return;
    };
    if ui.input_mut(|i| i.consume_key(none, Key::Enter)) && !state.settings.details_open {
        out.push(Action::Sockets(SocketsMsg::OpenDetails));
    }
    if ui.input_mut(|i| i.consume_key(none, Key::Delete)) {
        out.push(Action::Sockets(SocketsMsg::AskStop(selected)));
    }
}

/// The view's keys: Ctrl+F focuses the filter and selects its text (so
/// typing replaces it), Ctrl+C copies the selected row (unless a text field
/// has focus: then it copies its text), Esc clears the filter.
fn shortcuts(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) -> Keys {
    let mut keys = Keys::default();
    let ctrl_f = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
    if ui.input_mut(|i| i.consume_shortcut(&ctrl_f)) {
        ui.memory_mut(|m| m.request_focus(filter_id()));
        keys.select_filter = true;
    }
    let modal_open = state.stop_dialog.is_some() || state.path_prompt.is_some();
    // An open menu (the column chooser, a row's menu) takes Esc first.
    let menu_open = egui::Popup::is_any_open(ui.ctx());
    if !modal_open && !menu_open && ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape)) {
        out.push(Action::Sockets(SocketsMsg::ClearFilterText));
    }
    // Only a text field takes the keys: a focused row or button (a click
    // focuses it) leaves them to the table.
    let text_focused = ui.ctx().text_edit_focused();
    if !text_focused && !modal_open {
        // Native windows turn Ctrl+C into a Copy event; tests and some
        // platforms send the key itself.
        let copy = ui.input_mut(|i| {
            let ev = i.events.iter().any(|e| matches!(e, egui::Event::Copy));
            let key = i.consume_key(Modifiers::COMMAND, Key::C);
            ev || key
        });
        if copy && state.sockets.selected.is_some() {
            out.push(Action::Sockets(SocketsMsg::CopySelected));
        }
        row_keys(ui, state, out, &mut keys);
    }
    keys
}

fn toolbar(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>, select_filter: bool) {
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Filter");
        let mut text = state.settings.filter.text.clone();
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .id(filter_id())
                    .hint_text("port, address, process, pid")
                    .desired_width(170.0),
            )
            .labelled_by(label.id)
            .on_hover_text("Ctrl+F focuses the filter, Esc clears it");
        if select_filter {
            let ctx = ui.ctx();
            let mut edit = egui::TextEdit::load_state(ctx, filter_id()).unwrap_or_default();
            let all = egui::text::CCursorRange::select_all_str(&text);
            edit.cursor.set_char_range(Some(all));
            egui::TextEdit::store_state(ctx, filter_id(), edit);
        }
        if r.changed() {
            out.push(Action::Sockets(SocketsMsg::SetFilterText(text)));
        }
        if let Some(p) = state.settings.filter.port
            && ui
                .button(format!("Port {p} ×"))
                .on_hover_text(
                    "Showing only sockets with this local or remote port; click to show all ports",
                )
                .clicked()
        {
            out.push(Action::Sockets(SocketsMsg::ClearPortFilter));
        }
        if let Some(p) = &state.settings.filter.process
            && ui
                .button(format!("Process {} ×", p.label))
                .on_hover_text(
                    "Showing only this process's sockets (and the TIME_WAIT it left); \
                     click to show every process",
                )
                .clicked()
        {
            out.push(Action::Sockets(SocketsMsg::ClearProcessFilter));
        }
        ui.separator();
        let all_states = state.settings.filter.all_states;
        for q in Quick::ALL {
            let mut on = state.settings.filter.get(q);
            // "All states" shows every state: the two state toggles then
            // choose nothing, so they must not look active.
            let covered = all_states && matches!(q, Quick::Listening | Quick::TimeWait);
            if covered {
                let mut off = false;
                ui.add_enabled_ui(false, |ui| ui.toggle_value(&mut off, q.label()))
                    .response
                    .on_disabled_hover_text("Included: \"All states\" is on");
                continue;
            }
            if ui
                .toggle_value(&mut on, q.label())
                .on_hover_text(q.tooltip())
                .changed()
            {
                out.push(Action::Sockets(SocketsMsg::SetQuick(q, on)));
            }
        }
        ui.separator();
        namespaces_toggle(ui, state, out);
        column_chooser(ui, state, out);
        if ui
            .button("Export…")
            .on_hover_text("Save the rows shown (not the fading ones) as CSV or JSON")
            .clicked()
        {
            out.push(Action::Sockets(SocketsMsg::Export));
        }
        let mut details = state.settings.details_open;
        if ui
            .toggle_value(&mut details, "Details")
            .on_hover_text("Show the details panel of the selected row")
            .changed()
        {
            out.push(Action::Sockets(SocketsMsg::ToggleDetails));
        }
    });
    let sockets = &state.sockets;
    if sockets.received_at_ms.is_some() {
        let (shown, total) = sockets.shown_counts();
        let mut line = format!("Showing {shown} of {total} sockets");
        let (new, gone) = (sockets.new_count(state.now_ms), sockets.gone_count());
        if new > 0 || gone > 0 {
            line.push_str(&format!("  ·  {new} new (green), {gone} just closed (red)"));
        }
        ui.label(RichText::new(line).weak());
    }
}

/// "All namespaces": on Linux only (where namespaces exist), and only with
/// the privileges to enter them.
fn namespaces_toggle(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let sockets = &state.sockets;
    let Some(summary) = sockets.netns.as_ref().filter(|n| n.own.is_some()) else {
        return;
    };
    let mut on = sockets.all_namespaces;
    let r = ui.add_enabled(
        summary.privileged,
        egui::Button::selectable(on, "All namespaces"),
    );
    let r = if summary.privileged {
        r.on_hover_text(
            "List the sockets of every network namespace on this machine (containers, \
             `ip netns` namespaces), not only portwise's own",
        )
    } else {
        r.on_disabled_hover_text(
            "Entering other network namespaces needs root: start the window as root \
             (sudo -E portwise)",
        )
    };
    if r.clicked() {
        on = !on;
        out.push(Action::Sockets(SocketsMsg::SetAllNamespaces(on)));
    }
    ui.separator();
}

fn banners(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let sockets = &state.sockets;
    if let Some(text) = sockets.netns_banner() {
        banner(ui, ui.visuals().weak_text_color(), &text);
    }
    if let Some((msg, _)) = &sockets.error {
        let tail = match sockets.received_at_ms {
            Some(_) => format!(
                " Still showing the last good snapshot, from {}.",
                utc_clock_text(sockets.snapshot.taken_at_unix_ms)
            ),
            None => String::new(),
        };
        banner(
            ui,
            widgets::error_color(ui),
            &format!("Sampling failed: {msg}.{tail}"),
        );
    }
    if let Some(note) = &sockets.coverage_note {
        banner(ui, ui.visuals().weak_text_color(), note);
    }
    hidden_owners(ui, state, out);
}

/// One line when shown rows have owners this user cannot see ("1
/// socket's owner is hidden, why?"), counting only the rows the filter
/// shows; "why?" unfolds the explanation; "Dismiss" hides it.
fn hidden_owners(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let sockets = &state.sockets;
    let n = sockets.hidden_shown();
    if n == 0 || sockets.hidden_dismissed {
        return;
    }
    let color = widgets::warn_color(ui);
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.0, color))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let what = if n == 1 {
                    "1 socket's owner is hidden,".to_string()
                } else {
                    format!("{n} sockets' owners are hidden,")
                };
                ui.label(RichText::new(what).color(color));
                let why = if sockets.hidden_why {
                    "hide why"
                } else {
                    "why?"
                };
                if ui.link(why).clicked() {
                    out.push(Action::Sockets(SocketsMsg::ToggleHiddenWhy));
                }
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    if ui
                        .small_button("Dismiss")
                        .on_hover_text("Hide this line until portwise restarts")
                        .clicked()
                    {
                        out.push(Action::Sockets(SocketsMsg::DismissHidden));
                    }
                });
            });
            if sockets.hidden_why {
                ui.label(hidden_why_text(&sockets.snapshot, n));
            }
        });
}

/// Why `n` shown sockets have no owner portwise can see.
fn hidden_why_text(snapshot: &crate::sockets::Snapshot, n: usize) -> String {
    let reason = crate::sockets::reason_for_some(snapshot, n);
    let (they, belong) = if n == 1 {
        ("Its owner", "belongs")
    } else {
        ("Their owners", "belong")
    };
    if snapshot.privileged {
        // Privileges do not help here: say what the engine found.
        match reason {
            Some(r) => format!("{they} cannot be seen even with privileges: {r}"),
            None => format!(
                "{they} cannot be seen even with privileges: a process that just exited \
                 or lives in another pid namespace."
            ),
        }
    } else {
        let mut t = format!(
            "{they} {belong} to another user. Running portwise as root (or as Administrator \
             on Windows) reveals them."
        );
        if let Some(r) = reason {
            t.push_str(&format!(" ({r})"));
        }
        t
    }
}

fn banner(ui: &mut egui::Ui, color: egui::Color32, text: &str) {
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.0, color))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(text).color(color));
        });
}

fn table(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>, scroll_to: Option<usize>) {
    let sockets = &state.sockets;
    let rows = sockets.rows();
    let now = state.now_ms;
    let selected = sockets.selected;
    let sort = state.settings.sort;
    // Cells are not text-selectable: a click anywhere on a row selects it
    // and a right-click opens its menu.
    ui.style_mut().interaction.selectable_labels = false;

    let mut builder = TableBuilder::new(ui)
        .striped(true)
        .resizable(true)
        .sense(Sense::click())
        .cell_layout(Layout::left_to_right(Align::Center))
        .min_scrolled_height(0.0);
    if let Some(row) = scroll_to {
        builder = builder.scroll_to_row(row, None);
    }
    // Only the shown columns; each keeps its own width (stored by column,
    // not by position, so hiding one does not shift the others' widths).
    let columns = state.settings.shown_columns();
    let last = columns.len().saturating_sub(1);
    for (i, col) in columns.iter().enumerate() {
        let c = if i == last {
            egui_extras::Column::remainder().at_least(60.0)
        } else {
            egui_extras::Column::initial(state.settings.column_width(*col)).at_least(30.0)
        };
        builder = builder.column(c.clip(true));
    }
    // The table's state (egui_extras keeps widths by position) is per set
    // of shown columns: a column shown again starts at its saved width,
    // not at its neighbour's.
    let mut table_id = Id::unique("portwise.sockets_table");
    for c in &columns {
        table_id = table_id.with(c.store_index());
    }
    builder = builder.id_salt(table_id);

    builder
        .header(ROW_HEIGHT + 2.0, |mut header| {
            for &col in &columns {
                header.col(|ui| {
                    let r = ui
                        .add(egui::Button::new(RichText::new(col.title()).strong()).frame(false))
                        .on_hover_text("Sort by this column; click again to reverse");
                    if r.clicked() {
                        out.push(Action::Sockets(SocketsMsg::SortBy(col)));
                    }
                    if sort.column == col {
                        sort_arrow(ui, sort.descending);
                    }
                });
            }
        })
        .body(|body| {
            let widths = body.widths();
            let changed: Vec<(Column, f32)> = if widths.len() == columns.len() {
                columns
                    .iter()
                    .zip(widths)
                    .take(last)
                    .filter(|(c, w)| (state.settings.column_width(**c) - **w).abs() > 0.5)
                    .map(|(c, w)| (*c, *w))
                    .collect()
            } else {
                Vec::new()
            };
            if !changed.is_empty() {
                out.push(Action::Sockets(SocketsMsg::SetColumnWidths(changed)));
            }
            body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                let r = rows[row.index()];
                let Some(e) = sockets.entry(r) else {
                    return;
                };
                let key = RowKey::of(e);
                row.set_selected(selected == Some(key));
                let bg = sockets.highlight(r, now);
                let gone = matches!(r, RowRef::Gone(_));
                let taken = sockets.taken_at(r);
                for &col in &columns {
                    row.col(|ui| {
                        if let Some((change, h)) = bg {
                            let rect = ui.max_rect().expand2(0.5 * ui.spacing().item_spacing);
                            let color = widgets::highlight(ui, change == Change::New, h);
                            ui.painter().rect_filled(rect, 0.0, color);
                        }
                        cell(ui, col, e, taken, now, gone, sockets);
                    });
                }
                let resp = row.response();
                // A right-click selects the row its menu acts on.
                if resp.clicked() || resp.secondary_clicked() {
                    out.push(Action::Sockets(SocketsMsg::Select(Some(key))));
                }
                resp.context_menu(|ui| {
                    row_actions(ui, e, key, !gone, out);
                });
            });
        });
}

/// A small triangle: up for ascending, down for descending. (Painted: the
/// bundled fonts have no arrow glyphs.)
fn sort_arrow(ui: &mut egui::Ui, descending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), Sense::hover());
    let c = rect.center();
    let (tip, base) = if descending { (4.0, -3.0) } else { (-4.0, 3.0) };
    let points = vec![
        egui::pos2(c.x, c.y + tip),
        egui::pos2(c.x - 4.0, c.y + base),
        egui::pos2(c.x + 4.0, c.y + base),
    ];
    let color = ui.visuals().strong_text_color();
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
}

/// Why a socket's owner is hidden: without privileges, most likely another
/// user's process (and elevation shows it); with them, elevation would not
/// help, so it is not suggested.
pub fn hidden_owner_hover(privileged: bool) -> &'static str {
    if privileged {
        "portwise cannot see the owner, although it runs elevated: a process whose open \
         files the system hides even then (a container or a security policy), one in \
         another pid namespace, or one that exited while the list was taken"
    } else {
        "portwise cannot see the owner: most likely another user's process (start portwise \
         as root or as Administrator to see it). The User column says whose socket it is, \
         where the system reports it."
    }
}

fn cell(
    ui: &mut egui::Ui,
    col: Column,
    e: &SocketEntry,
    taken: u64,
    now: u64,
    gone: bool,
    sockets: &SocketsState,
) {
    // Empty cells draw nothing: fewer widgets per frame.
    let text = |ui: &mut egui::Ui, t: String| {
        if !t.is_empty() {
            ui.label(if gone {
                RichText::new(t).strikethrough()
            } else {
                RichText::new(t)
            });
        }
    };
    match col {
        Column::Proto => text(ui, s::proto_text(e).to_string()),
        Column::Local => text(ui, e.local_addr.to_string()),
        Column::Port => {
            let t = RichText::new(e.local_port.to_string()).strong();
            ui.label(if gone { t.strikethrough() } else { t });
        }
        Column::State => text(ui, s::state_text(e).to_string()),
        Column::Process => {
            if s::owner_hidden(e) {
                ui.label(RichText::new("hidden").weak().italics())
                    .on_hover_text(hidden_owner_hover(sockets.snapshot.privileged));
            } else {
                text(ui, s::process_text(e));
            }
        }
        Column::Command => {
            let t = s::command_text(e);
            if !t.is_empty() {
                let r = ui.label(if gone {
                    RichText::new(t).strikethrough()
                } else {
                    RichText::new(t)
                });
                if let Some(full) = s::command_full_text(e) {
                    r.on_hover_text(full);
                }
            }
        }
        Column::User => text(ui, s::user_text(e, sockets.users()).into_owned()),
        Column::Namespace => text(ui, s::namespace_text(e, sockets.own_netns())),
        Column::TimeWait => {
            if let Some(left) = s::time_wait_left_ms(e, taken, widgets::countdown_clock(now)) {
                widgets::countdown(ui, left, 48.0, now);
            } else if e.is_kernel_owned() {
                ui.label(RichText::new("not reported").weak())
                    .on_hover_text("This OS does not report how long TIME_WAIT has left");
            }
        }
        Column::Remote => text(ui, s::remote_text(e)),
        Column::LastOwner => {
            let was = s::last_owner_text(e);
            if !was.is_empty() {
                ui.label(RichText::new(was).weak());
            }
        }
    }
}

/// The copy / stop actions for a row, in its context menu and its details.
fn row_actions(ui: &mut egui::Ui, e: &SocketEntry, key: RowKey, live: bool, out: &mut Vec<Action>) {
    if ui.button(format!("Copy port {}", e.local_port)).clicked() {
        out.push(Action::Sockets(SocketsMsg::Copy(CopyWhat::Port, key)));
        ui.close();
    }
    if ui
        .button(format!(
            "Copy address {}",
            s::socket_addr(e.local_addr, e.local_port)
        ))
        .clicked()
    {
        out.push(Action::Sockets(SocketsMsg::Copy(CopyWhat::Address, key)));
        ui.close();
    }
    if ui.button("Copy row").clicked() {
        out.push(Action::Sockets(SocketsMsg::Copy(CopyWhat::Row, key)));
        ui.close();
    }
    let has_owner = !e.processes.is_empty();
    let r = ui.add_enabled(has_owner, egui::Button::new("Filter by this process"));
    let r = if has_owner {
        r.on_hover_text(format!(
            "Show only the sockets of {} (by pid); click its chip in the toolbar to undo",
            s::process_text(e)
        ))
    } else {
        r.on_disabled_hover_text("No visible process holds this socket")
    };
    if r.clicked() {
        out.push(Action::Sockets(SocketsMsg::FilterByProcess(key)));
        ui.close();
    }
    if ui
        .button("Test bind on this port")
        .on_hover_text("Open the Bind test view with this port filled in")
        .clicked()
    {
        out.push(Action::OpenBindTest {
            addr: e.local_addr,
            port: e.local_port,
            proto: e.proto,
        });
        ui.close();
    }
    let can_stop = live && !e.processes.is_empty();
    let r = ui.add_enabled(can_stop, egui::Button::new("Stop process…"));
    let r = if can_stop {
        r.on_hover_text("Shows what will be stopped and asks first")
    } else if e.is_kernel_owned() {
        r.on_disabled_hover_text("TIME_WAIT belongs to the kernel: no process to stop")
    } else {
        r.on_disabled_hover_text("No visible process holds this socket")
    };
    if r.clicked() {
        out.push(Action::Sockets(SocketsMsg::AskStop(key)));
        ui.close();
    }
}

fn details(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    ui.heading("Details");
    let sockets: &SocketsState = &state.sockets;
    let Some(key) = sockets.selected else {
        ui.label(RichText::new("Select a row to see its details.").weak());
        return;
    };
    let Some((e, gone)) = sockets.find(&key) else {
        ui.label(RichText::new("The selected socket is gone.").weak());
        return;
    };
    // A lingering row counts down from the last snapshot that had it.
    let taken = gone.map_or(sockets.snapshot.taken_at_unix_ms, |g| g.last_taken_at_ms);
    if gone.is_some() {
        ui.label(RichText::new("Closed since the last refresh").color(widgets::error_color(ui)));
    }
    let clock = widgets::countdown_clock(state.now_ms);
    if let Some(left) = s::time_wait_left_ms(e, taken, clock) {
        widgets::repaint_for_countdown(ui, left, state.now_ms);
    }
    egui::Grid::new("portwise.details_grid")
        .num_columns(2)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            let mut kv = |k: &str, v: String| {
                ui.label(RichText::new(k).weak());
                ui.add(egui::Label::new(v).wrap());
                ui.end_row();
            };
            kv("Protocol", s::proto_text(e).to_string());
            kv("Local", s::socket_addr(e.local_addr, e.local_port));
            kv("State", s::state_text(e).to_string());
            let remote = s::remote_text(e);
            if !remote.is_empty() {
                kv("Remote", remote);
            }
            if let Some(left) = s::time_wait_left_ms(e, taken, clock) {
                kv("Frees in", s::countdown_text(left));
            }
            if s::owner_hidden(e) {
                kv(
                    "Process",
                    if sockets.snapshot.privileged {
                        "hidden, even from this elevated run".into()
                    } else {
                        "hidden from this user".into()
                    },
                );
                if let Some(user) = crate::sockets::hidden_owner_name(e, sockets.users()) {
                    kv(
                        "User",
                        format!("{user} (the socket's, as the kernel reports it)"),
                    );
                }
            }
            for p in &e.processes {
                kv("Process", format!("{} (pid {})", esc(&p.name), p.pid));
                kv("User", p.user.clone().unwrap_or_else(|| "unknown".into()));
                if let Some(exe) = &p.exe {
                    kv("Executable", esc(exe).into_owned());
                }
                if let Some(cmd) = p.command_line() {
                    kv("Command line", esc(&cmd).into_owned());
                }
            }
            if let Some(ns) = &e.netns {
                kv("Namespace", s::namespace_detail(ns, sockets.own_netns()));
                if let Some(c) = &ns.container {
                    kv("Container", s::container_detail(c));
                }
            }
            if let Some(p) = &e.published {
                kv("Published", format!("{} (via {})", p.describe(), p.via));
                if let Some(cmd) = p.stop_command() {
                    kv("Stop it with", cmd);
                }
            }
            if e.is_kernel_owned() {
                let was = s::last_owner_text(e);
                kv(
                    "Last known owner",
                    if was.is_empty() {
                        "not seen by portwise".into()
                    } else {
                        was
                    },
                );
            }
        });
    if e.is_kernel_owned() {
        ui.label(
            RichText::new(crate::bind::help::time_wait_note(
                crate::bind::OsKind::current(),
            ))
            .weak(),
        );
    }
    ui.separator();
    row_actions(ui, e, key, gone.is_none(), out);
}
