//! What the Sockets table shows and how: the quick toggles and the filter
//! box ([`QuickFilter`], persisted), the columns and the sort ([`Sort`],
//! persisted).

use serde::{Deserialize, Serialize};

use super::text::Users;
use crate::sockets::filter::{Filter, StateFilter};
use crate::sockets::{Proto, SocketEntry, TcpState};

/// The quick toggles and the filter box; persisted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuickFilter {
    pub text: String,
    pub listening: bool,
    pub time_wait: bool,
    /// Every state (ESTABLISHED, CLOSE_WAIT, ...); overrides the two above.
    pub all_states: bool,
    pub tcp: bool,
    pub udp: bool,
    /// Only sockets with this local or remote port (set from the Bind test
    /// view's holders).
    pub port: Option<u16>,
    /// Only the sockets of one process ("Filter by this process" in a row's
    /// menu). Not persisted: a pid means nothing after a restart.
    #[serde(skip)]
    pub process: Option<ProcessPick>,
}

/// The process "Filter by this process" picked: by pid, not by name, since
/// the name is what every python server shares ("python3"), while the pid
/// is the one server the user right-clicked. A socket held by several
/// processes (a pre-forking server's workers) picks all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessPick {
    pub pids: Vec<u32>,
    /// What the toolbar's chip says: "python3 (4242)".
    pub label: String,
}

impl ProcessPick {
    /// A socket is the process's when one of the pids holds it, or, for a
    /// TIME_WAIT remnant, when one of them was its last known owner.
    pub fn matches(&self, e: &SocketEntry) -> bool {
        e.processes.iter().any(|p| self.pids.contains(&p.pid))
            || e.last_known_owner
                .as_ref()
                .is_some_and(|o| self.pids.contains(&o.pid))
    }
}

impl Default for QuickFilter {
    /// The sockets that decide whether a port is free: listeners, bound UDP
    /// sockets and TIME_WAIT.
    fn default() -> Self {
        QuickFilter {
            text: String::new(),
            listening: true,
            time_wait: true,
            all_states: false,
            tcp: true,
            udp: true,
            port: None,
            process: None,
        }
    }
}

/// A quick toggle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quick {
    Listening,
    TimeWait,
    AllStates,
    Tcp,
    Udp,
}

impl Quick {
    pub const ALL: [Quick; 5] = [
        Quick::Listening,
        Quick::TimeWait,
        Quick::AllStates,
        Quick::Tcp,
        Quick::Udp,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Quick::Listening => "Listening",
            Quick::TimeWait => "TIME_WAIT",
            Quick::AllStates => "All states",
            Quick::Tcp => "TCP",
            Quick::Udp => "UDP",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            Quick::Listening => "TCP listeners and bound UDP sockets: what makes bind() fail",
            Quick::TimeWait => {
                "Closed TCP connections the kernel keeps for a while; on Linux and macOS they \
                 can block a server's bind() unless it sets SO_REUSEADDR"
            }
            Quick::AllStates => {
                "Every TCP state, including ESTABLISHED, CLOSE_WAIT and bound-only sockets \
                 (CLOSED: bound but neither listening nor connected; they still hold their \
                 port). `portwise list --all` leaves bound-only sockets out: add \
                 `--state closed` there"
            }
            Quick::Tcp => "Show TCP sockets",
            Quick::Udp => "Show UDP sockets",
        }
    }
}

impl QuickFilter {
    pub fn get(&self, q: Quick) -> bool {
        match q {
            Quick::Listening => self.listening,
            Quick::TimeWait => self.time_wait,
            Quick::AllStates => self.all_states,
            Quick::Tcp => self.tcp,
            Quick::Udp => self.udp,
        }
    }

    pub fn set(&mut self, q: Quick, on: bool) {
        match q {
            Quick::Listening => self.listening = on,
            Quick::TimeWait => self.time_wait = on,
            Quick::AllStates => self.all_states = on,
            Quick::Tcp => self.tcp = on,
            Quick::Udp => self.udp = on,
        }
    }

    /// The filters these settings stand for: a socket is shown when any of
    /// the engine's filters matches (one, except for "Listening" without
    /// "TIME_WAIT", which means TCP LISTEN plus bound UDP: two), the picked
    /// process holds it, and the filter box's words match its shown
    /// columns ([`TextQuery`]; `hidden` columns are not matched: a row
    /// kept for a text nobody can see would look like a wrong match).
    pub fn to_filter(&self, hidden: &[Column]) -> ViewFilter {
        let text = TextQuery::new(&self.text, hidden);
        let process = self.process.clone();
        let f = |states: StateFilter, proto: Option<Proto>| Filter {
            states,
            proto,
            port: self.port,
            ..Filter::default()
        };
        let proto = match (self.tcp, self.udp) {
            (true, true) => None,
            (true, false) => Some(Proto::Tcp),
            (false, true) => Some(Proto::Udp),
            (false, false) => {
                return ViewFilter {
                    any_of: Vec::new(),
                    process,
                    text,
                };
            }
        };
        let only = |s: TcpState| StateFilter::Only([s].into_iter().collect());
        let any_of = if self.all_states {
            vec![f(StateFilter::All, proto)]
        } else {
            match (self.listening, self.time_wait) {
                (true, true) => vec![f(StateFilter::PortHolders, proto)],
                (false, true) => vec![f(only(TcpState::TimeWait), proto)],
                (true, false) => {
                    let mut v = Vec::new();
                    if self.tcp {
                        v.push(f(only(TcpState::Listen), Some(Proto::Tcp)));
                    }
                    if self.udp {
                        v.push(f(StateFilter::All, Some(Proto::Udp)));
                    }
                    v
                }
                (false, false) => Vec::new(),
            }
        };
        ViewFilter {
            any_of,
            process,
            text,
        }
    }
}

/// What the table shows: sockets that match any of the engine's filters
/// and every word of the filter box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewFilter {
    pub any_of: Vec<Filter>,
    pub process: Option<ProcessPick>,
    pub text: TextQuery,
}

impl ViewFilter {
    /// `buf` is scratch space, reused from row to row; `users`: see
    /// [`super::text::user_text`].
    pub fn matches(&self, e: &SocketEntry, users: &Users, buf: &mut String) -> bool {
        self.any_of.iter().any(|f| f.matches(e))
            && self.process.as_ref().is_none_or(|p| p.matches(e))
            && self.text.matches(e, users, buf)
    }
}

/// The filter box: its words, lower-cased. A row matches when every word
/// is found (case-insensitive, as a substring) in one of its shown
/// columns' texts ([`Column::search_text`]): "python3 8080" keeps
/// python3's sockets on port 8080.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextQuery {
    words: Vec<String>,
    /// The columns matched: the shown ones.
    columns: Vec<Column>,
}

impl TextQuery {
    pub fn new(text: &str, hidden: &[Column]) -> TextQuery {
        TextQuery {
            words: text.split_whitespace().map(str::to_lowercase).collect(),
            columns: Column::ORDER
                .into_iter()
                .filter(|c| !hidden.contains(c))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether every word is in one of `e`'s columns. `buf` is scratch.
    pub fn matches(&self, e: &SocketEntry, users: &Users, buf: &mut String) -> bool {
        if self.words.is_empty() {
            return true;
        }
        buf.clear();
        for col in &self.columns {
            col.search_text(e, users, buf);
            // Words never hold a newline: no match spans two columns.
            buf.push('\n');
        }
        if buf.is_ascii() {
            buf.make_ascii_lowercase();
        } else {
            *buf = buf.to_lowercase();
        }
        self.words.iter().all(|w| buf.contains(w.as_str()))
    }
}

/// A table column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Column {
    Proto,
    Local,
    Port,
    State,
    Process,
    /// The owners' command lines (arguments): which python3 server.
    Command,
    User,
    /// The network namespace or container (Linux); empty for portwise's
    /// own namespace.
    Namespace,
    TimeWait,
    Remote,
    LastOwner,
}

impl Column {
    /// Every column, in the order their widths are stored in the settings
    /// (`Settings::column_widths`): new columns are added at the end, so a
    /// store written before them keeps its widths.
    pub const ALL: [Column; 11] = [
        Column::Proto,
        Column::Local,
        Column::Port,
        Column::State,
        Column::Process,
        Column::User,
        Column::Namespace,
        Column::TimeWait,
        Column::Remote,
        Column::LastOwner,
        Column::Command,
    ];

    /// Every column, in the table's order (left to right). The TIME_WAIT
    /// countdown comes right after the state, so it is on screen at the
    /// window's default size with the Details panel open (after the
    /// command line it was scrolled off to the right).
    pub const ORDER: [Column; 11] = [
        Column::Proto,
        Column::Local,
        Column::Port,
        Column::State,
        Column::TimeWait,
        Column::Process,
        Column::Command,
        Column::User,
        Column::Namespace,
        Column::Remote,
        Column::LastOwner,
    ];

    /// Where this column's width is stored ([`Column::ALL`]'s order).
    pub fn store_index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::Proto => "Proto",
            Column::Local => "Local address",
            Column::Port => "Port",
            Column::State => "State",
            Column::Process => "Process",
            Column::Command => "Command line",
            Column::User => "User",
            Column::Namespace => "Namespace / container",
            Column::TimeWait => "TIME_WAIT left",
            Column::Remote => "Remote address",
            Column::LastOwner => "Last known owner",
        }
    }

    /// Append what the filter box matches in this column for `e`: the
    /// cell's text, with every holder where the cell shows the first, and
    /// the full address where the cell shows a part. The TIME_WAIT
    /// countdown changes every second and is not matched.
    pub fn search_text(self, e: &SocketEntry, users: &Users, out: &mut String) {
        use super::text as t;
        use std::fmt::Write as _;
        match self {
            Column::Proto => out.push_str(t::proto_text(e)),
            Column::Local => out.push_str(&t::socket_addr(e.local_addr, e.local_port)),
            Column::Port => {
                let _ = write!(out, "{}", e.local_port);
            }
            Column::State => out.push_str(t::state_text(e)),
            Column::Process => {
                if t::owner_hidden(e) {
                    out.push_str("hidden");
                }
                for p in &e.processes {
                    let _ = write!(out, "{} ({}) ", p.name, p.pid);
                }
            }
            Column::Command => {
                for c in e.processes.iter().filter_map(|p| p.command_line()) {
                    out.push_str(&c);
                    out.push(' ');
                }
            }
            Column::User => {
                for u in e.processes.iter().filter_map(|p| p.user.as_deref()) {
                    out.push_str(u);
                    out.push(' ');
                }
                if let Some(u) = crate::sockets::hidden_owner_name(e, users) {
                    out.push_str(&u);
                }
            }
            Column::Namespace => {
                // The cell's text, plus what it abbreviates: the namespace's
                // name and the container's name and short id, also for a
                // port a proxy publishes for a container.
                out.push_str(&t::namespace_text(e, None));
                if let Some(ns) = &e.netns {
                    if let Some(n) = &ns.name {
                        let _ = write!(out, " {n}");
                    }
                    if let Some(c) = &ns.container {
                        if let Some(n) = &c.name {
                            let _ = write!(out, " {n}");
                        }
                        let _ = write!(out, " {}", c.short_id());
                    }
                }
                if let Some(c) = e.published.as_ref().and_then(|p| p.container.as_ref()) {
                    if let Some(n) = &c.name {
                        let _ = write!(out, " {n}");
                    }
                    let _ = write!(out, " {}", c.short_id());
                }
            }
            Column::TimeWait => {}
            Column::Remote => out.push_str(&t::remote_text(e)),
            Column::LastOwner => out.push_str(&t::last_owner_text(e)),
        }
    }

    /// Default width in points.
    pub fn default_width(self) -> f32 {
        match self {
            Column::Proto => 44.0,
            Column::Local => 120.0,
            Column::Port => 50.0,
            Column::State => 90.0,
            Column::Process => 160.0,
            Column::Command => 180.0,
            Column::User => 70.0,
            Column::Namespace => 110.0,
            Column::TimeWait => 110.0,
            Column::Remote => 150.0,
            Column::LastOwner => 160.0,
        }
    }
}

/// Sort order; persisted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            column: Column::Port,
            descending: false,
        }
    }
}
