//! The Free port view: one big "Grab a free port" button, its options, the
//! ports grabbed in this session with their live status, and why a free
//! port may not stay free.

use egui::{RichText, Sense};

use crate::handoff::session::{Status, Stream};
use crate::ports::{OUTSIDE_EPHEMERAL_WHY, ProtoChoice, RACE_EXPLANATION_WINDOW, reservation_note};
use crate::window::free_port::{self, COUNT_MAX, FreePortState, StrategyKind, run};
use crate::window::shell::{Action, AppState, FreeAction, utc_clock_text};
use crate::window::widgets;

/// Below this width the two columns are stacked.
const TWO_COLUMNS_FROM: f32 = 960.0;

pub fn show(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let f = &state.free;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.heading("Free port");
            ui.label(
                RichText::new(
                    "A port no socket uses right now, for a server or a test to bind. It is \
                     copied to the clipboard.",
                )
                .weak(),
            );
            ui.add_space(8.0);
            let left = |ui: &mut egui::Ui, out: &mut Vec<Action>| {
                grab(ui, f, out);
                ui.add_space(12.0);
                run_command(ui, f, out);
                ui.add_space(12.0);
                options(ui, f, out);
            };
            let right = |ui: &mut egui::Ui, out: &mut Vec<Action>| {
                history(ui, state, out);
                ui.add_space(12.0);
                race(ui);
            };
            // Two columns where each gets room for its rows; one below the
            // other in a narrower window (issue 13: layouts that fit).
            if ui.available_width() >= TWO_COLUMNS_FROM {
                ui.columns(2, |cols| {
                    left(&mut cols[0], out);
                    right(&mut cols[1], out);
                });
            } else {
                left(ui, out);
                ui.add_space(12.0);
                right(ui, out);
            }
        });
}

fn grab(ui: &mut egui::Ui, f: &FreePortState, out: &mut Vec<Action>) {
    let valid = f.request();
    let label = match f.count() {
        Ok(1) | Err(_) => "Grab a free port".to_string(),
        Ok(n) => format!("Grab {n} free ports"),
    };
    ui.horizontal(|ui| {
        let button = egui::Button::new(RichText::new(label).size(20.0).strong())
            .min_size(egui::vec2(240.0, 48.0));
        let r = ui.add_enabled(valid.is_ok() && !f.busy(), button);
        let r = match &valid {
            Ok(_) => r.on_hover_text("Pick now, copy to the clipboard, add to the history"),
            Err(e) => r.on_disabled_hover_text(e),
        };
        if r.clicked() {
            out.push(Action::Free(FreeAction::Grab));
        }
        if f.busy() {
            ui.spinner();
            ui.label("Picking…");
        }
    });
    // Always this row, so the layout does not jump while a field is typed
    // in; an invalid option says why beside its field.
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Command line:").weak());
        let Ok(req) = &valid else {
            ui.label(RichText::new("(fix the options below)").weak());
            return;
        };
        let cmd = free_port::cli_equivalent(req);
        // Wraps within the column: a long command (a range, a count, UDP)
        // must not run into the history beside it.
        ui.add(egui::Label::new(RichText::new(&cmd).monospace()).wrap());
        if ui
            .small_button("Copy command")
            .on_hover_text("The same pick from a script: portwise prints the port")
            .clicked()
        {
            out.push(Action::CopyText {
                text: cmd,
                notice: "Copied the command".into(),
            });
        }
    });
    ui.add_space(6.0);
    // The same height with or without a port, so the options stay put.
    ui.allocate_ui(egui::vec2(ui.available_width(), 56.0), |ui| {
        ui.set_min_height(56.0);
        ui.horizontal_wrapped(|ui| {
            if let Some(e) = &f.error {
                ui.label(
                    RichText::new(format!("No port: {e}"))
                        .size(16.0)
                        .color(widgets::error_color(ui)),
                );
                return;
            }
            if f.last.is_empty() {
                ui.label(RichText::new("No port grabbed yet").size(20.0).weak());
                return;
            }
            let text = free_port::ports_text(&f.last);
            ui.label(RichText::new(&text).size(40.0).monospace().strong());
            if ui
                .button("Copy")
                .on_hover_text("Copy these ports again")
                .clicked()
            {
                out.push(Action::CopyText {
                    notice: format!("Copied {}", free_port::ports_notice(&f.last)),
                    text,
                });
            }
            if let Some(p) = f.run_port() {
                let tip = if f.last.len() > 1 {
                    format!(
                        "Copy {} (the first port), for a shell or a .env file",
                        run::port_env_text(p)
                    )
                } else {
                    format!("Copy {}, for a shell or a .env file", run::port_env_text(p))
                };
                if ui.button("Copy as PORT=…").on_hover_text(tip).clicked() {
                    out.push(Action::Free(FreeAction::CopyPortEnv(p)));
                }
            }
        });
    });
    for n in &f.notes {
        ui.label(RichText::new(format!("Note: {n}")).color(widgets::warn_color(ui)));
    }
}

/// "Run a command with this port": the field, Run and Stop, the state
/// and the program's output.
fn run_command(ui: &mut egui::Ui, f: &FreePortState, out: &mut Vec<Action>) {
    let port = f.run_port();
    let title = match port {
        Some(p) => format!("Run a command with port {p}"),
        None => "Run a command with this port".to_string(),
    };
    ui.strong(title);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(
            RichText::new(
                "The port is in $PORT, and {port} in the command is replaced with it. portwise \
                 holds the port until the program binds it.",
            )
            .weak(),
        );
        let running = f.running();
        let mut submit = false;
        ui.horizontal(|ui| {
            let label = ui.label("Command");
            let mut text = f.run_command.clone();
            let r = ui
                .add_enabled(
                    !running,
                    egui::TextEdit::singleline(&mut text)
                        .font(egui::TextStyle::Monospace)
                        .hint_text("python3 -m http.server {port}")
                        .desired_width((ui.available_width() - 110.0).max(120.0)),
                )
                .labelled_by(label.id)
                .on_hover_text("Run a command with this port: words as a shell splits them, no pipes or variables");
            if r.changed() {
                out.push(Action::Free(FreeAction::SetRunCommand(text)));
            }
            if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                submit = true;
            }
            let why_not = if port.is_none() {
                Some("Grab a port first")
            } else if f.run_command.trim().is_empty() {
                Some("Type a command first")
            } else {
                None
            };
            if running {
                if ui
                    .button("Stop")
                    .on_hover_text("Stop the program (SIGTERM, then SIGKILL after 5 s)")
                    .clicked()
                {
                    out.push(Action::Free(FreeAction::StopRun));
                }
            } else {
                let r = ui.add_enabled(why_not.is_none(), egui::Button::new("Run"));
                let r = match why_not {
                    Some(w) => r.on_disabled_hover_text(w),
                    None => r.on_hover_text("Run the command with this port"),
                };
                if r.clicked() {
                    submit = true;
                }
            }
            if submit && !running && why_not.is_none() {
                out.push(Action::Free(FreeAction::Run));
            }
        });
        if let Some(e) = &f.run_error {
            ui.label(RichText::new(e).color(widgets::error_color(ui)));
        }
        let Some(r) = &f.run else { return };
        let color = match &r.state.status {
            Status::Failed { .. } => widgets::error_color(ui),
            Status::Exited { code, .. } if *code != 0 => widgets::warn_color(ui),
            _ => ui.visuals().text_color(),
        };
        // No spinner: it would repaint every frame, and this view repaints
        // only when the program's output or state changes.
        ui.add(egui::Label::new(RichText::new(run::status_text(r)).color(color)).wrap());
        ui.add(egui::Label::new(RichText::new(format!("$ {}", r.command)).monospace().weak()).wrap());
        let lines = &r.state.lines;
        if r.state.dropped > 0 {
            ui.label(
                RichText::new(format!("({} earlier lines not kept)", r.state.dropped)).weak(),
            );
        }
        if lines.is_empty() {
            ui.label(RichText::new("No output yet.").weak());
            return;
        }
        let row_h = ui.text_style_height(&egui::TextStyle::Monospace);
        // Long lines scroll sideways inside the frame (they ran over the
        // column beside it).
        egui::ScrollArea::both()
            .id_salt("free.run.output")
            .max_height(220.0)
            .auto_shrink([false, true])
            .stick_to_bottom(true)
            .show_rows(ui, row_h, lines.len(), |ui, range| {
                for line in lines.range(range) {
                    let text = RichText::new(&line.text).monospace();
                    let text = match line.stream {
                        Stream::Stdout => text,
                        Stream::Stderr => text.color(widgets::warn_color(ui)),
                        Stream::Portwise => text.weak().italics(),
                    };
                    ui.add(egui::Label::new(text).extend());
                }
            });
    });
}

fn options(ui: &mut egui::Ui, f: &FreePortState, out: &mut Vec<Action>) {
    ui.strong("Options");
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.label("Protocol");
            for (p, name, tip) in [
                (ProtoChoice::Tcp, "TCP", "Free for TCP"),
                (ProtoChoice::Udp, "UDP", "Free for UDP"),
                (
                    ProtoChoice::Both,
                    "TCP and UDP",
                    "Free for both (e.g. DNS, QUIC with a TCP fallback)",
                ),
            ] {
                if ui.radio(f.proto == p, name).on_hover_text(tip).clicked() && f.proto != p {
                    out.push(Action::Free(FreeAction::SetProto(p)));
                }
            }
        });
        ui.add_space(4.0);
        ui.label("Where to pick");
        ui.indent("free.strategy", |ui| strategy(ui, f, out));
        ui.add_space(4.0);
        let mut reserve = f.reserve && f.reserve_applies();
        let tip = format!(
            "{} Loopback only (127.0.0.1), TCP only: UDP has no TIME_WAIT.",
            reservation_note()
        );
        let r = ui
            .add_enabled(
                f.reserve_applies(),
                egui::Checkbox::new(&mut reserve, "Reserve for about a minute"),
            )
            .on_hover_text(tip)
            .on_disabled_hover_text("TIME_WAIT is a TCP state: there is no reservation for UDP");
        if r.changed() {
            out.push(Action::Free(FreeAction::SetReserve(reserve)));
        }
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("How many");
            let mut t = f.count_text.clone();
            let r = ui
                .add(egui::TextEdit::singleline(&mut t).desired_width(50.0))
                .labelled_by(label.id)
                .on_hover_text(format!("1 to {COUNT_MAX} distinct ports"));
            if r.changed() {
                out.push(Action::Free(FreeAction::SetCount(t)));
            }
            // Said beside the field; the grab button is off until it is
            // fixed (never a silent 0 -> 1 or 5000 -> 100).
            if let Err(e) = f.count() {
                ui.label(RichText::new(e).color(widgets::error_color(ui)));
            }
        });
    });
}

fn strategy(ui: &mut egui::Ui, f: &FreePortState, out: &mut Vec<Action>) {
    let choose = |ui: &mut egui::Ui, out: &mut Vec<Action>, k: StrategyKind, name: &str| {
        if ui.radio(f.strategy == k, name).clicked() && f.strategy != k {
            out.push(Action::Free(FreeAction::SetStrategy(k)));
        }
    };
    choose(
        ui,
        out,
        StrategyKind::OutsideEphemeral,
        "Outside the ephemeral range (recommended)",
    );
    ui.indent("free.why", |ui| {
        ui.label(RichText::new(OUTSIDE_EPHEMERAL_WHY).weak());
        if let Some(facts) = f.facts.done() {
            let ranges: Vec<String> = facts.ephemeral.iter().map(|r| r.to_string()).collect();
            let how = if facts.ephemeral_read {
                "as the system reports it"
            } else {
                "the OS default: it could not be read"
            };
            ui.label(
                RichText::new(format!(
                    "The ephemeral range here: {} ({how}).",
                    ranges.join(", ")
                ))
                .weak(),
            );
        }
    });
    choose(ui, out, StrategyKind::Os, "Assigned by the OS (port 0)");
    ui.indent("free.os", |ui| {
        ui.label(
            RichText::new(
                "The OS picks from its ephemeral range, where outgoing connections take their \
                 ports too.",
            )
            .weak(),
        );
    });
    let mut range_err = None;
    ui.horizontal(|ui| {
        choose(ui, out, StrategyKind::Range, "Within a range:");
        let on = f.strategy == StrategyKind::Range;
        ui.add_enabled_ui(on, |ui| {
            let from = ui.label("From");
            let mut lo = f.range_from.clone();
            if ui
                .add(egui::TextEdit::singleline(&mut lo).desired_width(60.0))
                .labelled_by(from.id)
                .changed()
            {
                out.push(Action::Free(FreeAction::SetRangeFrom(lo)));
            }
            let to = ui.label("To");
            let mut hi = f.range_to.clone();
            if ui
                .add(egui::TextEdit::singleline(&mut hi).desired_width(60.0))
                .labelled_by(to.id)
                .changed()
            {
                out.push(Action::Free(FreeAction::SetRangeTo(hi)));
            }
        });
        if on {
            range_err = f.range().err();
        }
    });
    if let Some(e) = range_err {
        ui.label(RichText::new(e).color(widgets::error_color(ui)));
    }
}

fn history(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let f = &state.free;
    ui.horizontal(|ui| {
        ui.strong("Grabbed in this session");
        if !f.history.is_empty()
            && ui
                .small_button("Clear")
                .on_hover_text("Forget these ports")
                .clicked()
        {
            out.push(Action::Free(FreeAction::ClearHistory));
        }
    });
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        if f.history.is_empty() {
            ui.label(RichText::new("Nothing grabbed yet.").weak());
            return;
        }
        ui.label(
            RichText::new("Status from the latest socket snapshot; it follows every refresh.")
                .weak(),
        );
        egui::Grid::new("free.history")
            .num_columns(5)
            .striped(true)
            .spacing([14.0, 4.0])
            .show(ui, |ui| {
                for h in ["Port", "Protocol", "Grabbed", "Status", ""] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (i, g) in f.history.iter().enumerate() {
                    ui.label(RichText::new(g.port.to_string()).monospace().strong());
                    ui.label(proto_name(g.proto));
                    ui.label(utc_clock_text(g.grabbed_at_ms));
                    let clock = widgets::countdown_clock(state.now_ms);
                    let status = free_port::status_text(g, clock);
                    if let Some(left) = free_port::time_wait_left_ms(g, clock) {
                        widgets::repaint_for_countdown(ui, left, state.now_ms);
                    }
                    let color = if status.starts_with("now ") {
                        widgets::warn_color(ui)
                    } else {
                        ui.visuals().text_color()
                    };
                    ui.label(RichText::new(status).color(color));
                    let r = ui
                        .push_id(i, |ui| ui.small_button(format!("Copy {}", g.port)))
                        .inner;
                    if r.clicked() {
                        out.push(Action::Free(FreeAction::Copy(g.port)));
                    }
                    ui.end_row();
                }
            });
    });
}

fn proto_name(p: ProtoChoice) -> &'static str {
    match p {
        ProtoChoice::Tcp => "TCP",
        ProtoChoice::Udp => "UDP",
        ProtoChoice::Both => "TCP+UDP",
    }
}

fn race(ui: &mut egui::Ui) {
    ui.strong("Why a free port may not stay free");
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.add(
            egui::Label::new(RACE_EXPLANATION_WINDOW)
                .wrap()
                .sense(Sense::hover()),
        );
    });
}
