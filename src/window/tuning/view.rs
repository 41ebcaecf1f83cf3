//! The Kernel tuning view, a guide in four steps: what hurts (goal cards),
//! the settings that matter (now / default / recommended / why, with the
//! common wrong advice), the snippet preview with per-line switches and an
//! OS selector, and how to take it away (copy, save, apply). Plus "Audit a
//! file…".

use egui::{RichText, Sense};

use crate::tuning::{Goal, LineKind, Os, Severity, Snippet};
use crate::window::shell::{Action, AppState, TuningAction};
use crate::window::tasks::Pending;
use crate::window::tuning::{AuditState, TuningState, recommended_text};
use crate::window::widgets;

pub fn show(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let t = &state.tuning;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Kernel tuning");
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .button("Audit a file…")
                        .on_hover_text(
                            "Check an existing sysctl.conf or sysctl.d file for wrong, obsolete \
                             or misunderstood lines",
                        )
                        .clicked()
                    {
                        out.push(Action::Tuning(TuningAction::Audit));
                    }
                });
            });
            ui.label(
                RichText::new(
                    "Which kernel settings matter for what hurts, what they are now, and a file \
                     that sets them. Many port problems are not kernel problems: the notes say \
                     so where that is the case.",
                )
                .weak(),
            );
            audit(ui, t, out);
            ui.add_space(8.0);
            step(ui, "1", "What hurts?");
            goals(ui, t, out);
            notes(ui, t);
            ui.add_space(10.0);
            step(
                ui,
                "2",
                &format!("The settings that matter ({})", t.os.label()),
            );
            settings(ui, t, out);
            ui.add_space(10.0);
            step(ui, "3", "Preview");
            preview(ui, t, out);
            ui.add_space(10.0);
            step(ui, "4", "Take it away");
            take_away(ui, t, out);
            ui.add_space(10.0);
        });
}

fn step(ui: &mut egui::Ui, n: &str, title: &str) {
    ui.label(RichText::new(format!("{n}. {title}")).size(17.0).strong());
}

fn goals(ui: &mut egui::Ui, t: &TuningState, out: &mut Vec<Action>) {
    // As many cards to a row as fit (five where the window is wide
    // enough), in rows laid out here: egui cannot wrap a frame it has not
    // measured yet, so a wrapped row would run off the right edge.
    let gap = ui.spacing().item_spacing.x;
    let frame_extra = 20.0; // the frame's margins and stroke
    let avail = ui.available_width();
    let per_row = (((avail + gap) / (180.0 + frame_extra + gap)).floor() as usize).clamp(1, 5);
    let card =
        ((avail - (per_row - 1) as f32 * gap) / per_row as f32 - frame_extra).clamp(120.0, 320.0);
    for row in Goal::ALL.chunks(per_row) {
        ui.horizontal(|ui| {
            for g in row {
                goal_card(ui, t, *g, card, out);
            }
        });
    }
    if t.goals.contains(&Goal::Reserve) {
        ui.horizontal(|ui| {
            let label = ui.label("Ports to keep free");
            let mut text = t.reserve_text.clone();
            if ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .hint_text("e.g. 8080,9000-9010")
                        .desired_width(200.0),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "Your services' fixed ports: the OS will not hand them out to outgoing \
                     connections or port-0 binds; your servers can still bind them",
                )
                .changed()
            {
                out.push(Action::Tuning(TuningAction::SetReservePorts(text)));
            }
        });
    }
}

fn goal_card(ui: &mut egui::Ui, t: &TuningState, g: Goal, card: f32, out: &mut Vec<Action>) {
    let on = t.goals.contains(&g);
    let stroke = if on {
        ui.visuals().selection.stroke
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    };
    egui::Frame::group(ui.style())
        .stroke(stroke)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(card);
            ui.set_min_height(86.0);
            ui.vertical(|ui| {
                let mut v = on;
                if ui
                    .checkbox(&mut v, RichText::new(g.title()).strong())
                    .changed()
                {
                    out.push(Action::Tuning(TuningAction::SetGoal(g, v)));
                }
                ui.add(egui::Label::new(RichText::new(g.summary()).weak()).wrap());
            });
        });
}

fn notes(ui: &mut egui::Ui, t: &TuningState) {
    let Ok(s) = &t.preview else {
        if let Err(e) = &t.preview {
            let msg = if e.contains("at least one goal") {
                "Choose at least one goal above.".to_string()
            } else {
                e.clone()
            };
            ui.label(RichText::new(msg).color(widgets::warn_color(ui)));
        }
        return;
    };
    if s.plan.notes.is_empty() {
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        for g in &s.plan.goals {
            let mut notes = s.plan.notes_for(*g).peekable();
            if notes.peek().is_none() {
                continue;
            }
            ui.label(RichText::new(g.title()).strong());
            for n in notes {
                ui.horizontal_top(|ui| {
                    ui.label("•");
                    ui.add(egui::Label::new(n.window_text()).wrap());
                });
            }
        }
    });
}

fn settings(ui: &mut egui::Ui, t: &TuningState, out: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let now = match (&t.live, t.os == Os::current()) {
            (_, false) => format!(
                "Current values are read from this machine only; the preview is for {}.",
                t.os.label()
            ),
            (Pending::Done(_), true) => "Current values as this machine reports them.".into(),
            _ => "Reading the current values…".into(),
        };
        ui.label(RichText::new(now).weak());
        if t.os == Os::current()
            && ui
                .small_button("Read again")
                .on_hover_text("Read the current values from the system again")
                .clicked()
        {
            out.push(Action::Tuning(TuningAction::Reread));
        }
    });
    if t.rows.is_empty() {
        return;
    }
    // Five columns need about 1000 points: in a narrower window the table
    // scrolls sideways on its own, and the text around it still wraps to
    // the window (issue 13: nothing cut off on the right).
    let explain_width = (ui.available_width() - 700.0).max(260.0);
    egui::ScrollArea::horizontal()
        .id_salt("tuning.settings.scroll")
        .auto_shrink([false, true])
        // As tall as the table: the view's own scroll area scrolls it up
        // and down (by default this one would stop at the window's bottom
        // edge and cut the last rows off).
        .max_height(f32::INFINITY)
        .show(ui, |ui| settings_grid(ui, t, explain_width));
}

fn settings_grid(ui: &mut egui::Ui, t: &TuningState, explain_width: f32) {
    egui::Grid::new("tuning.settings")
        .num_columns(5)
        .striped(true)
        .spacing([14.0, 6.0])
        .show(ui, |ui| {
            for h in ["Setting", "Now", "Default", "Recommended", "What it does"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for row in &t.rows {
                let tun = row.tunable;
                ui.vertical(|ui| {
                    ui.set_max_width(240.0);
                    ui.add(egui::Label::new(RichText::new(tun.key).monospace()).wrap());
                    ui.add(egui::Label::new(RichText::new(tun.title).weak().small()).wrap());
                });
                cell(ui, &t.current_text(row), 150.0);
                cell(ui, &tun.default_text(), 150.0);
                let rec = recommended_text(row, &t.toggles);
                let rec = if row.recommended.is_some() {
                    RichText::new(rec).strong()
                } else {
                    RichText::new(rec).weak()
                };
                ui.vertical(|ui| {
                    ui.set_max_width(150.0);
                    ui.add(egui::Label::new(rec).wrap());
                });
                ui.vertical(|ui| {
                    ui.set_max_width(explain_width);
                    ui.add(egui::Label::new(tun.explanation).wrap());
                    if let Some(r) = &row.recommended {
                        ui.add(egui::Label::new(RichText::new(&r.why).italics()).wrap());
                    }
                    for w in row.warnings() {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!(
                                    "Wrong advice: {}. In fact: {}",
                                    w.advice, w.truth
                                ))
                                .color(widgets::warn_color(ui)),
                            )
                            .wrap(),
                        );
                    }
                });
                ui.end_row();
            }
        });
}

fn cell(ui: &mut egui::Ui, text: &str, width: f32) {
    ui.vertical(|ui| {
        ui.set_max_width(width);
        ui.add(egui::Label::new(text).wrap());
    });
}

fn preview(ui: &mut egui::Ui, t: &TuningState, out: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.label("For");
        for os in Os::ALL {
            let name = if os == Os::current() {
                format!("{} (this machine)", os.label())
            } else {
                os.label().to_string()
            };
            if ui.radio(t.os == os, name).clicked() && t.os != os {
                out.push(Action::Tuning(TuningAction::SetOs(os)));
            }
        }
    });
    let Ok(s) = &t.preview else {
        ui.label(RichText::new("Nothing to preview yet.").weak());
        return;
    };
    ui.label(
        RichText::new(format!(
            "{} · untick a line to leave that setting out (it stays as a comment)",
            s.file_name
        ))
        .weak(),
    );
    egui::Frame::group(ui.style())
        .fill(ui.visuals().extreme_bg_color)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            egui::ScrollArea::both()
                .id_salt("tuning.preview")
                .min_scrolled_height(320.0)
                .max_height(420.0)
                .auto_shrink([false, true])
                .show(ui, |ui| snippet_lines(ui, s, out));
        });
}

fn snippet_lines(ui: &mut egui::Ui, s: &Snippet, out: &mut Vec<Action>) {
    ui.spacing_mut().item_spacing.y = 1.0;
    for (i, l) in s.lines.iter().enumerate() {
        ui.push_id(i, |ui| {
            ui.horizontal(|ui| match l.key {
                Some(key) if l.kind != LineKind::Blank => {
                    let mut on = l.enabled;
                    let text = RichText::new(&l.text).monospace();
                    let text = if on { text.strong() } else { text.weak() };
                    if ui
                        .checkbox(&mut on, text)
                        .on_hover_text(format!("Include {key}"))
                        .changed()
                    {
                        out.push(Action::Tuning(TuningAction::SetLine(key.to_string(), on)));
                    }
                }
                _ => {
                    ui.add_space(ui.spacing().icon_width + ui.spacing().icon_spacing);
                    let text =
                        RichText::new(if l.text.is_empty() { " " } else { &l.text }).monospace();
                    let text = if l.kind == LineKind::Comment {
                        text.weak()
                    } else {
                        text
                    };
                    ui.add(egui::Label::new(text).extend().sense(Sense::hover()));
                }
            });
        });
    }
}

fn take_away(ui: &mut egui::Ui, t: &TuningState, out: &mut Vec<Action>) {
    let Ok(s) = &t.preview else {
        ui.label(RichText::new("Choose a goal first.").weak());
        return;
    };
    let n = s.enabled_settings().len();
    if n == 0 {
        ui.label(format!(
            "No setting is switched on: for these goals the {} file holds only the \
             explanations. The notes under step 1 say what helps instead.",
            s.os.label()
        ));
    } else {
        ui.label(format!(
            "{n} setting{} switched on, for {}.",
            if n == 1 { "" } else { "s" },
            s.os.label()
        ));
    }
    ui.horizontal(|ui| {
        if ui
            .button("Copy")
            .on_hover_text("Copy the whole snippet")
            .clicked()
        {
            out.push(Action::Tuning(TuningAction::Copy));
        }
        if ui
            .button("Save…")
            .on_hover_text(format!(
                "Choose where to save it (suggested name {})",
                s.file_name
            ))
            .clicked()
        {
            out.push(Action::Tuning(TuningAction::Save));
        }
    });
    match &t.saved {
        Some((os, path)) if *os == t.os => {
            ui.label(format!("Saved to {}", path.display()));
        }
        _ => {}
    }
    if let Some(e) = &t.save_error {
        ui.label(RichText::new(e).color(widgets::error_color(ui)));
    }
    if let Some(cmd) = t.apply_command() {
        ui.add_space(8.0);
        let saved = matches!(&t.saved, Some((os, _)) if *os == t.os);
        ui.strong(if saved {
            "Apply it".to_string()
        } else {
            format!(
                "Apply it, once saved as {} in the current directory",
                s.file_name
            )
        });
        ui.horizontal_wrapped(|ui| {
            ui.add(egui::Label::new(RichText::new(&cmd).monospace()).wrap());
            if ui
                .small_button("Copy command")
                .on_hover_text("Copy the apply command")
                .clicked()
            {
                out.push(Action::CopyText {
                    text: cmd.clone(),
                    notice: "Copied the apply command".into(),
                });
            }
        });
    }
}

fn audit(ui: &mut egui::Ui, t: &TuningState, out: &mut Vec<Action>) {
    let Some(a) = &t.audit else {
        return;
    };
    ui.add_space(6.0);
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.0, widgets::warn_color(ui)))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let path = match a {
                    AuditState::Running { path }
                    | AuditState::Done { path, .. }
                    | AuditState::Failed { path, .. } => path,
                };
                ui.strong(format!("Audit of {}", path.display()));
                if ui
                    .small_button("Close")
                    .on_hover_text("Hide the audit")
                    .clicked()
                {
                    out.push(Action::Tuning(TuningAction::CloseAudit));
                }
            });
            match a {
                AuditState::Running { .. } => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Checking…");
                    });
                }
                AuditState::Failed { error, .. } => {
                    ui.label(
                        RichText::new(format!("Cannot audit it: {error}"))
                            .color(widgets::error_color(ui)),
                    );
                }
                AuditState::Done { findings, .. } if findings.is_empty() => {
                    ui.label("No problems found.");
                }
                AuditState::Done { findings, .. } => {
                    ui.label(crate::tuning::audit::summary(findings));
                    egui::Grid::new("tuning.audit")
                        .num_columns(3)
                        .striped(true)
                        .spacing([12.0, 4.0])
                        .show(ui, |ui| {
                            for f in findings {
                                ui.monospace(format!("line {}", f.line));
                                let color = match f.severity {
                                    Severity::Error => widgets::error_color(ui),
                                    Severity::Warning => widgets::warn_color(ui),
                                };
                                ui.label(RichText::new(f.severity.label()).color(color).strong());
                                ui.add(egui::Label::new(&f.message).wrap());
                                ui.end_row();
                            }
                        });
                }
            }
        });
}
