//! The Fleet view: a port box, then one line per host: its status, who
//! listens on the port there, its TIME_WAIT pile and unattributed count.

use egui::RichText;

use crate::window::fleet::{FleetMsg, port, rows};
use crate::window::shell::{Action, AppState};
use crate::window::widgets;

pub fn show(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let f = &state.fleet;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.heading("Fleet");
            ui.label(
                RichText::new(
                    "Every connected host side by side, refreshed every 2 s through its ssh \
                     session: who listens on a port, and each host's TIME_WAIT pile.",
                )
                .weak(),
            );
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if let Some(t) = crate::window::widgets::labelled_text(
                    ui,
                    "Who listens on port",
                    &f.port_text,
                    "e.g. 8080",
                    90.0,
                ) {
                    out.push(Action::Fleet(FleetMsg::SetPort(t)));
                }
            });
            let asked = port(f);
            if let Err(e) = &asked {
                ui.label(RichText::new(e).color(widgets::error_color(ui)));
            }
            let asked = asked.ok().flatten();
            ui.add_space(8.0);
            if state.hosts.tabs.is_empty() {
                ui.label("No hosts yet: use \"Add host…\" above to connect to one.");
                return;
            }
            let listen_head = match asked {
                Some(p) => format!("Listening on {p}"),
                None => "Listening sockets".to_string(),
            };
            let rows = rows(&state.hosts.tabs, asked);
            egui::Grid::new("fleet.table")
                .num_columns(5)
                .striped(true)
                .min_col_width(90.0)
                .spacing([16.0, 6.0])
                .show(ui, |ui| {
                    for h in [
                        "Host",
                        "Status",
                        listen_head.as_str(),
                        "TIME_WAIT",
                        "Unattributed",
                    ] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for r in &rows {
                        ui.label(RichText::new(&r.host).strong());
                        // The short status here; the reason below the table.
                        let short = if r.connected {
                            RichText::new(r.status.split(" (").next().unwrap_or_default())
                        } else if r.status.starts_with("connecting") {
                            RichText::new("connecting…")
                        } else {
                            RichText::new("not connected").color(widgets::error_color(ui))
                        };
                        ui.label(short).on_hover_text(&r.status);
                        ui.vertical(|ui| match (asked, r.listening) {
                            (_, None) => {
                                ui.label("unknown");
                            }
                            (Some(_), Some(_)) if r.holders.is_empty() => {
                                ui.label(RichText::new("nobody").weak());
                            }
                            (Some(_), Some(_)) => {
                                for h in &r.holders {
                                    // One line each: an address split over
                                    // lines reads as two.
                                    ui.add(egui::Label::new(RichText::new(h).monospace()).extend());
                                }
                            }
                            (None, Some(n)) => {
                                ui.label(n.to_string());
                            }
                        });
                        let num = |n: Option<usize>| n.map_or("–".to_string(), |n| n.to_string());
                        let stale = if r.stale { " (last known)" } else { "" };
                        ui.label(format!("{}{stale}", num(r.time_wait)));
                        ui.label(num(r.unattributed));
                        ui.end_row();
                    }
                });
            let failed: Vec<_> = rows.iter().filter(|r| !r.connected).collect();
            if !failed.is_empty() {
                ui.add_space(8.0);
                for r in failed {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("{}: {}", r.host, r.status))
                                .color(widgets::error_color(ui)),
                        )
                        .wrap(),
                    );
                }
            }
        });
}
