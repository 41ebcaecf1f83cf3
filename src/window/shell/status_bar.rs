//! The status bar: last refresh, counts, interval, privileges.

use crate::window::shell::{AppState, interval_text, utc_clock_text};

/// The status bar's text pieces, in order (also what tests read).
pub fn parts(state: &AppState) -> Vec<String> {
    let s = &state.sockets;
    let mut out = Vec::new();
    // No "N s ago": text that changes every second would repaint the
    // window every second for nothing (issue 13, quiet CPU).
    match s.received_at_ms {
        Some(_) => {
            out.push(format!(
                "Updated {} (took {} ms)",
                utc_clock_text(s.snapshot.taken_at_unix_ms),
                s.took_ms
            ));
        }
        None => out.push("No snapshot yet".to_string()),
    }
    let (listening, tw, unattributed) = state.counts();
    out.push(format!("{listening} listening"));
    out.push(format!("{tw} TIME_WAIT"));
    out.push(format!("{unattributed} unattributed"));
    if state.paused {
        out.push("Paused".to_string());
    } else {
        out.push(format!(
            "Every {}",
            interval_text(state.settings.interval_ms)
        ));
    }
    if s.received_at_ms.is_some() {
        out.push(if s.snapshot.privileged {
            "Elevated (root / Administrator)".to_string()
        } else {
            "Not elevated".to_string()
        });
    }
    out
}

const UPDATED_HELP: &str = "When the table last took in a snapshot. Looks at the sockets \
     that find nothing new (at the interval on the right) change nothing, so the \
     window is not redrawn for them.";

pub fn show(ui: &mut egui::Ui, state: &AppState) {
    // Wraps onto a second line in a narrow window instead of running off
    // its right edge.
    ui.horizontal_wrapped(|ui| {
        let parts = parts(state);
        let n = parts.len();
        for (i, p) in parts.into_iter().enumerate() {
            let r = ui.label(p);
            if i == 0 && state.sockets.received_at_ms.is_some() {
                r.on_hover_text(UPDATED_HELP);
            } else if i + 1 == n && state.sockets.received_at_ms.is_some() {
                r.on_hover_text(
                    "Without privileges, sockets of other users' processes show no \
                     owner; running portwise as root (or as Administrator on Windows) \
                     reveals them",
                );
            }
            if i + 1 < n {
                ui.separator();
            }
        }
    });
}
