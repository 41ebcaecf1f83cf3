//! What the window remembers across runs (eframe storage): the view, the
//! Sockets view's filter, sort and columns, the refresh interval.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::window::sockets::{Column, QuickFilter, Sort};

/// The views of the window, in navigation order. Only views that exist are
/// listed: a view is added here when it is built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    #[default]
    Sockets,
    FreePort,
    BindTest,
    Tuning,
    Fleet,
}

impl View {
    pub const ALL: &'static [View] = &[
        View::Sockets,
        View::FreePort,
        View::BindTest,
        View::Tuning,
        View::Fleet,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Sockets => "Sockets",
            View::FreePort => "Free port",
            View::BindTest => "Bind test",
            View::Tuning => "Kernel tuning",
            View::Fleet => "Fleet",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            View::Sockets => "Live table of the sockets that decide whether a port is free",
            View::FreePort => "Grab a port that is free now, outside the ephemeral range",
            View::BindTest => "Try a bind exactly as your server would, and see why it fails",
            View::Tuning => {
                "Which kernel settings matter for your problem, and a file to apply them"
            }
            View::Fleet => {
                "Every connected host side by side: who listens on a port, TIME_WAIT piles"
            }
        }
    }
}

/// Refresh intervals offered, in milliseconds.
pub const INTERVALS_MS: &[u64] = &[500, 1_000, 2_000, 5_000, 10_000];
pub const DEFAULT_INTERVAL_MS: u64 = 1_000;

/// How many column widths a store held before the Command line column.
const WIDTHS_BEFORE_COMMAND: usize = 10;

/// What persists across runs (eframe storage).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub view: View,
    pub filter: QuickFilter,
    pub sort: Sort,
    /// Column widths in [`Column::ALL`] order; empty means the defaults.
    pub column_widths: Vec<f32>,
    /// The Sockets table's columns the column chooser hides (at least one
    /// stays shown). A store written before this field loads with every
    /// column shown.
    pub hidden_columns: Vec<Column>,
    pub interval_ms: u64,
    /// Whether the details side panel is open.
    pub details_open: bool,
    /// The Bind test view's watched ports: a desktop notification when
    /// one becomes bindable or gets taken.
    pub watched_ports: Vec<crate::notify::WatchedPort>,
    /// Hosts connected to lately, newest first (the host picker offers them).
    pub recent_hosts: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            view: View::Sockets,
            filter: QuickFilter::default(),
            sort: Sort::default(),
            column_widths: Vec::new(),
            hidden_columns: Vec::new(),
            interval_ms: DEFAULT_INTERVAL_MS,
            details_open: true,
            watched_ports: Vec::new(),
            recent_hosts: Vec::new(),
        }
    }
}

impl Settings {
    /// Repair values a stale or hand-edited store may hold.
    pub fn sanitised(mut self) -> Settings {
        if !INTERVALS_MS.contains(&self.interval_ms) {
            self.interval_ms = DEFAULT_INTERVAL_MS;
        }
        // A store from before the Command line column has one width
        // fewer: the new column (last in `Column::ALL`) gets its default.
        if self.column_widths.len() == WIDTHS_BEFORE_COMMAND {
            self.column_widths.extend(
                Column::ALL[WIDTHS_BEFORE_COMMAND..]
                    .iter()
                    .map(|c| c.default_width()),
            );
        }
        let widths_ok = self.column_widths.len() == Column::ALL.len()
            && self
                .column_widths
                .iter()
                .all(|w| w.is_finite() && *w >= 10.0 && *w <= 4000.0);
        if !widths_ok {
            self.column_widths.clear();
        }
        let mut seen_cols = std::collections::HashSet::new();
        self.hidden_columns.retain(|c| seen_cols.insert(*c));
        if self.hidden_columns.len() >= Column::ALL.len() {
            // At least one column stays shown.
            self.hidden_columns.clear();
        }
        // No port 0, no repeats, at most notify::MAX_WATCHED.
        let mut seen = std::collections::HashSet::new();
        self.watched_ports
            .retain(|w| w.port != 0 && seen.insert((w.port, w.proto)));
        self.watched_ports.truncate(crate::notify::MAX_WATCHED);
        self.recent_hosts
            .retain(|h| crate::remote::client::Dest::parse(h).is_ok());
        self.recent_hosts.truncate(crate::window::hosts::RECENT_MAX);
        self
    }

    /// The width of a column: saved, else its default.
    pub fn column_width(&self, col: Column) -> f32 {
        self.column_widths
            .get(col.store_index())
            .copied()
            .unwrap_or_else(|| col.default_width())
    }

    /// The Sockets table's shown columns, left to right.
    pub fn shown_columns(&self) -> Vec<Column> {
        Column::ORDER
            .into_iter()
            .filter(|c| !self.hidden_columns.contains(c))
            .collect()
    }

    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }
}
