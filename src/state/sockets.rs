//! State of the Sockets view: the last snapshot, what changed since the one
//! before, the filtered and sorted rows, the selection. No egui.
//!
//! Cost model: the table draws only visible rows, so a frame never walks the
//! whole snapshot. Walking it (diff, filter, sort) happens once per new
//! snapshot or per filter/sort change, in [`SocketsState::rebuild_rows`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::sockets::{Family, Proto, Snapshot, SocketEntry, TcpState};

use super::filter_shim::Filter;

/// How long a row that appeared stays highlighted.
pub const NEW_HIGHLIGHT_MS: u64 = 3_000;
/// How long a row that disappeared lingers (red) before it goes.
pub const GONE_LINGER_MS: u64 = 3_000;
/// At most this many disappeared rows linger at once (the newest are kept),
/// so a burst of closing connections cannot grow memory without bound.
pub const GONE_MAX: usize = 20_000;

/// Full TIME_WAIT length used to scale the countdown bar. Only Linux reports
/// the time left (sock_diag `idiag_expires`), and there TIME_WAIT lasts
/// `TCP_TIMEWAIT_LEN = 60*HZ`, hard-coded (include/net/tcp.h). A longer
/// reported time simply fills the bar.
pub const TIME_WAIT_FULL_MS: u64 = 60_000;

/// A socket's identity across snapshots: the fields of
/// [`SocketEntry::sort_key`], in its order, so keys sort as snapshots do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RowKey {
    pub proto: Proto,
    pub local_port: u16,
    pub family: Family,
    pub local_addr: IpAddr,
    pub state: Option<TcpState>,
    pub remote_addr: Option<IpAddr>,
    pub remote_port: Option<u16>,
    pub inode: u64,
}

impl RowKey {
    pub fn of(e: &SocketEntry) -> RowKey {
        RowKey {
            proto: e.proto,
            local_port: e.local_port,
            family: e.family,
            local_addr: e.local_addr,
            state: e.state,
            remote_addr: e.remote_addr,
            remote_port: e.remote_port,
            inode: e.inode,
        }
    }
}

/// One row of the table: a socket of the current snapshot (by index) or one
/// that just disappeared (by its id in the lingering list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowRef {
    Live(u32),
    Gone(u64),
}

/// A socket that was in the previous snapshot and is not in the current one.
#[derive(Clone, Debug)]
pub struct GoneRow {
    pub id: u64,
    pub entry: SocketEntry,
    /// When it was last seen: the clock time of the snapshot that dropped it.
    pub gone_at_ms: u64,
    /// `taken_at_unix_ms` of the last snapshot that had it (for its countdown).
    pub last_taken_at_ms: u64,
}

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
                "Closed TCP connections the kernel keeps for a while; they can block a \
                 server's bind() unless it sets SO_REUSEADDR"
            }
            Quick::AllStates => "Every TCP state, including ESTABLISHED and CLOSE_WAIT",
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

    /// The engine filter these settings stand for.
    pub fn to_filter(&self) -> Filter {
        Filter::from_quick(self)
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
    User,
    TimeWait,
    Remote,
    LastOwner,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Proto,
        Column::Local,
        Column::Port,
        Column::State,
        Column::Process,
        Column::User,
        Column::TimeWait,
        Column::Remote,
        Column::LastOwner,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Proto => "Proto",
            Column::Local => "Local address",
            Column::Port => "Port",
            Column::State => "State",
            Column::Process => "Process",
            Column::User => "User",
            Column::TimeWait => "TIME_WAIT left",
            Column::Remote => "Remote address",
            Column::LastOwner => "Last known owner",
        }
    }

    /// Default width in points.
    pub fn default_width(self) -> f32 {
        match self {
            Column::Proto => 46.0,
            Column::Local => 150.0,
            Column::Port => 56.0,
            Column::State => 96.0,
            Column::Process => 160.0,
            Column::User => 80.0,
            Column::TimeWait => 120.0,
            Column::Remote => 170.0,
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

/// Which part of a row to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyWhat {
    Port,
    Address,
    Row,
}

/// Everything the Sockets view shows.
#[derive(Default)]
pub struct SocketsState {
    /// The last good snapshot (sorted by `sort_key`).
    pub snapshot: Snapshot,
    /// Clock time at which it arrived; `None` before the first one.
    pub received_at_ms: Option<u64>,
    /// How long the sampler took for it.
    pub took_ms: u64,
    /// The last sampling error, with its clock time; cleared by the next good
    /// snapshot.
    pub error: Option<(String, u64)>,
    /// Rows that appeared since an earlier snapshot, with the time they did.
    new_since: HashMap<RowKey, u64>,
    /// Rows that disappeared recently, oldest first (ids ascend).
    gone: VecDeque<GoneRow>,
    next_gone_id: u64,
    /// Filtered, sorted rows.
    rows: Vec<RowRef>,
    /// How many live sockets pass the filter (lingering rows not counted).
    live_shown: usize,
    pub selected: Option<RowKey>,
}

impl SocketsState {
    /// Take in a new snapshot (sockets sorted by `sort_key`, which the
    /// sampler guarantees) and work out what appeared and disappeared.
    pub fn on_snapshot(&mut self, snap: Snapshot, took_ms: u64, now_ms: u64) {
        let first = self.received_at_ms.is_none();
        let old = std::mem::replace(&mut self.snapshot, snap);
        let old_taken = old.taken_at_unix_ms;
        self.received_at_ms = Some(now_ms);
        self.took_ms = took_ms;
        self.error = None;

        // Merge the two sorted lists (both in key order).
        let new = &self.snapshot.sockets;
        let mut appeared: Vec<RowKey> = Vec::new();
        let mut vanished: Vec<SocketEntry> = Vec::new();
        let mut old_iter = old.sockets.into_iter().peekable();
        let mut j = 0;
        loop {
            let ok = old_iter.peek().map(RowKey::of);
            let nk = new.get(j).map(RowKey::of);
            match (ok, nk) {
                (Some(o), Some(n)) => match o.cmp(&n) {
                    std::cmp::Ordering::Less => vanished.extend(old_iter.next()),
                    std::cmp::Ordering::Greater => {
                        appeared.push(n);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        old_iter.next();
                        j += 1;
                    }
                },
                (Some(_), None) => {
                    vanished.extend(old_iter);
                    break;
                }
                (None, Some(_)) => {
                    appeared.extend(new[j..].iter().map(RowKey::of));
                    break;
                }
                (None, None) => break,
            }
        }

        if !first {
            for k in &appeared {
                self.new_since.insert(*k, now_ms);
            }
            for entry in vanished {
                let id = self.next_gone_id;
                self.next_gone_id += 1;
                self.gone.push_back(GoneRow {
                    id,
                    entry,
                    gone_at_ms: now_ms,
                    last_taken_at_ms: old_taken,
                });
            }
            while self.gone.len() > GONE_MAX {
                self.gone.pop_front();
            }
            // A socket that came back is live again, not gone.
            if !self.gone.is_empty() && !appeared.is_empty() {
                let back: HashSet<&RowKey> = appeared.iter().collect();
                self.gone.retain(|g| !back.contains(&RowKey::of(&g.entry)));
            }
        }
        self.prune(now_ms);
    }

    /// Keep the last good snapshot and remember the error.
    pub fn on_error(&mut self, message: String, now_ms: u64) {
        self.error = Some((message, now_ms));
    }

    /// Forget highlights and lingering rows older than their time. Returns
    /// true if rows were removed (the table changed).
    pub fn prune(&mut self, now_ms: u64) -> bool {
        self.new_since
            .retain(|_, t| now_ms.saturating_sub(*t) < NEW_HIGHLIGHT_MS);
        let mut removed = false;
        while let Some(g) = self.gone.front() {
            if now_ms.saturating_sub(g.gone_at_ms) >= GONE_LINGER_MS {
                self.gone.pop_front();
                removed = true;
            } else {
                break;
            }
        }
        if removed {
            let first_kept = self.gone.front().map_or(u64::MAX, |g| g.id);
            self.rows
                .retain(|r| !matches!(r, RowRef::Gone(id) if *id < first_kept));
        }
        removed
    }

    /// Filter and sort all rows (live and lingering) into the table's order.
    pub fn rebuild_rows(&mut self, filter: &QuickFilter, sort: Sort) {
        let f = filter.to_filter();
        let mut rows = std::mem::take(&mut self.rows);
        rows.clear();
        rows.extend(
            self.snapshot
                .sockets
                .iter()
                .enumerate()
                .filter(|(_, e)| f.matches(e))
                .map(|(i, _)| RowRef::Live(i as u32)),
        );
        self.live_shown = rows.len();
        rows.extend(
            self.gone
                .iter()
                .filter(|g| f.matches(&g.entry))
                .map(|g| RowRef::Gone(g.id)),
        );
        // Live rows come in sort_key order already; a stable sort finds
        // those runs, so the default order costs little.
        let taken = self.snapshot.taken_at_unix_ms;
        rows.sort_by(|a, b| {
            let (ea, eb) = (self.entry(*a), self.entry(*b));
            let ord = match (ea, eb) {
                (Some(x), Some(y)) => compare(
                    sort.column,
                    x,
                    y,
                    self.taken_of(*a, taken),
                    self.taken_of(*b, taken),
                )
                .then_with(|| RowKey::of(x).cmp(&RowKey::of(y))),
                _ => std::cmp::Ordering::Equal,
            };
            if sort.descending { ord.reverse() } else { ord }
        });
        self.rows = rows;
    }

    fn taken_of(&self, r: RowRef, live_taken: u64) -> u64 {
        match r {
            RowRef::Live(_) => live_taken,
            RowRef::Gone(id) => self.gone_row(id).map_or(live_taken, |g| g.last_taken_at_ms),
        }
    }

    /// The table's rows, filtered and sorted.
    pub fn rows(&self) -> &[RowRef] {
        &self.rows
    }

    /// Live sockets that pass the filter, and all live sockets.
    pub fn shown_counts(&self) -> (usize, usize) {
        (self.live_shown, self.snapshot.sockets.len())
    }

    pub fn gone_row(&self, id: u64) -> Option<&GoneRow> {
        // Ids ascend through the deque.
        let idx = self.gone.binary_search_by_key(&id, |g| g.id).ok()?;
        self.gone.get(idx)
    }

    pub fn entry(&self, r: RowRef) -> Option<&SocketEntry> {
        match r {
            RowRef::Live(i) => self.snapshot.sockets.get(i as usize),
            RowRef::Gone(id) => self.gone_row(id).map(|g| &g.entry),
        }
    }

    /// The `taken_at_unix_ms` a row's countdown counts from.
    pub fn taken_at(&self, r: RowRef) -> u64 {
        self.taken_of(r, self.snapshot.taken_at_unix_ms)
    }

    /// A live socket by key (binary search: the snapshot is sorted by key).
    pub fn find_live(&self, key: &RowKey) -> Option<&SocketEntry> {
        let s = &self.snapshot.sockets;
        let idx = s.binary_search_by(|e| RowKey::of(e).cmp(key)).ok()?;
        s.get(idx)
    }

    /// A socket by key: live first, else lingering.
    pub fn find(&self, key: &RowKey) -> Option<(&SocketEntry, bool)> {
        if let Some(e) = self.find_live(key) {
            return Some((e, true));
        }
        self.gone
            .iter()
            .rev()
            .find(|g| RowKey::of(&g.entry) == *key)
            .map(|g| (&g.entry, false))
    }

    /// How strongly a row is highlighted as new, 1.0 just after it appeared
    /// down to 0.0 after [`NEW_HIGHLIGHT_MS`].
    pub fn new_highlight(&self, key: &RowKey, now_ms: u64) -> f32 {
        match self.new_since.get(key) {
            Some(t) => fade(now_ms.saturating_sub(*t), NEW_HIGHLIGHT_MS),
            None => 0.0,
        }
    }

    /// Same for a lingering row: 1.0 when it just went.
    pub fn gone_highlight(&self, id: u64, now_ms: u64) -> f32 {
        match self.gone_row(id) {
            Some(g) => fade(now_ms.saturating_sub(g.gone_at_ms), GONE_LINGER_MS),
            None => 0.0,
        }
    }

    /// True while something fades (the window keeps repainting until then).
    pub fn animating(&self) -> bool {
        !self.new_since.is_empty() || !self.gone.is_empty()
    }

    /// Number of rows highlighted as new right now.
    pub fn new_count(&self) -> usize {
        self.new_since.len()
    }

    pub fn gone_count(&self) -> usize {
        self.gone.len()
    }

    /// The text one of [`CopyWhat`] puts on the clipboard for a socket.
    pub fn copy_text(what: CopyWhat, e: &SocketEntry, taken_at: u64, now_ms: u64) -> String {
        match what {
            CopyWhat::Port => e.local_port.to_string(),
            CopyWhat::Address => socket_addr(e.local_addr, e.local_port),
            CopyWhat::Row => row_line(e, taken_at, now_ms),
        }
    }
}

fn fade(age_ms: u64, over_ms: u64) -> f32 {
    if age_ms >= over_ms {
        0.0
    } else {
        1.0 - age_ms as f32 / over_ms as f32
    }
}

fn compare(col: Column, a: &SocketEntry, b: &SocketEntry, ta: u64, tb: u64) -> std::cmp::Ordering {
    match col {
        Column::Proto => (a.proto, a.family).cmp(&(b.proto, b.family)),
        Column::Local => a.local_addr.cmp(&b.local_addr),
        Column::Port => a.local_port.cmp(&b.local_port),
        Column::State => state_text(a).cmp(state_text(b)),
        Column::Process => {
            let ka = a.processes.first().map(|p| (p.name.as_str(), p.pid));
            let kb = b.processes.first().map(|p| (p.name.as_str(), p.pid));
            // Owned sockets first, then unowned ones.
            match (ka, kb) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
        Column::User => user_text(a).cmp(user_text(b)),
        Column::TimeWait => {
            // Rows with a countdown first, soonest free first.
            let ra = time_wait_left_ms(a, ta, 0);
            let rb = time_wait_left_ms(b, tb, 0);
            match (ra, rb) {
                (Some(x), Some(y)) => {
                    // Compare absolute expiry so rows from different snapshots
                    // order correctly.
                    (ta + x).cmp(&(tb + y))
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
        Column::Remote => (a.remote_addr, a.remote_port).cmp(&(b.remote_addr, b.remote_port)),
        Column::LastOwner => {
            let ka = a
                .last_known_owner
                .as_ref()
                .map(|o| (o.name.as_str(), o.pid));
            let kb = b
                .last_known_owner
                .as_ref()
                .map(|o| (o.name.as_str(), o.pid));
            match (ka, kb) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Cell texts: pure functions, shared by the table, the details panel, copy
// and the tests.

/// "127.0.0.1:8080" or "[::1]:8080".
pub fn socket_addr(addr: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(addr, port).to_string()
}

pub fn proto_text(e: &SocketEntry) -> &'static str {
    match (e.proto, e.family) {
        (Proto::Tcp, Family::Ipv4) => "TCP",
        (Proto::Tcp, Family::Ipv6) => "TCP6",
        (Proto::Udp, Family::Ipv4) => "UDP",
        (Proto::Udp, Family::Ipv6) => "UDP6",
    }
}

/// The TCP state, or for UDP (which has none) whether the socket is bound
/// only or connected to a peer.
pub fn state_text(e: &SocketEntry) -> &'static str {
    match e.state {
        Some(s) => s.as_str(),
        None if e.remote_addr.is_some() => "connected",
        None => "bound",
    }
}

/// "python3 (4242)", "nginx (10) +3" for several holders, "" for none.
pub fn process_text(e: &SocketEntry) -> String {
    match e.processes.as_slice() {
        [] => String::new(),
        [p] => format!("{} ({})", p.name, p.pid),
        [p, rest @ ..] => format!("{} ({}) +{}", p.name, p.pid, rest.len()),
    }
}

/// True for a socket whose owner exists but cannot be seen by this user.
pub fn owner_hidden(e: &SocketEntry) -> bool {
    e.processes.is_empty() && !e.is_kernel_owned()
}

pub fn user_text(e: &SocketEntry) -> &str {
    e.processes
        .iter()
        .find_map(|p| p.user.as_deref())
        .unwrap_or("")
}

pub fn remote_text(e: &SocketEntry) -> String {
    match (e.remote_addr, e.remote_port) {
        (Some(a), Some(p)) => socket_addr(a, p),
        (Some(a), None) => a.to_string(),
        _ => String::new(),
    }
}

/// "was: python3 (4242)" for a TIME_WAIT socket whose owner the engine saw.
pub fn last_owner_text(e: &SocketEntry) -> String {
    match &e.last_known_owner {
        Some(o) => format!("was: {} ({})", o.name, o.pid),
        None => String::new(),
    }
}

/// Time left before the kernel frees a TIME_WAIT socket, counted down from
/// the snapshot it came in: `None` when not TIME_WAIT or when the OS does
/// not report it.
pub fn time_wait_left_ms(e: &SocketEntry, taken_at_ms: u64, now_ms: u64) -> Option<u64> {
    if !e.is_kernel_owned() {
        return None;
    }
    let at_snapshot = e.time_wait_expires_in_ms?;
    Some(at_snapshot.saturating_sub(now_ms.saturating_sub(taken_at_ms)))
}

/// The countdown as text: "42 s", rounded up so "0 s" means free.
pub fn countdown_text(left_ms: u64) -> String {
    format!("{} s", left_ms.div_ceil(1000))
}

/// How full the countdown bar is: 1.0 at the full TIME_WAIT length, 0.0 when
/// the port frees.
pub fn countdown_fraction(left_ms: u64) -> f32 {
    (left_ms as f32 / TIME_WAIT_FULL_MS as f32).clamp(0.0, 1.0)
}

/// One line describing the whole row, tab-separated like a spreadsheet
/// paste: proto, local, state, process, user, TIME_WAIT left, remote, last
/// owner (empty fields kept).
pub fn row_line(e: &SocketEntry, taken_at_ms: u64, now_ms: u64) -> String {
    let tw = time_wait_left_ms(e, taken_at_ms, now_ms)
        .map(countdown_text)
        .unwrap_or_default();
    [
        proto_text(e).to_string(),
        socket_addr(e.local_addr, e.local_port),
        state_text(e).to_string(),
        process_text(e),
        user_text(e).to_string(),
        tw,
        remote_text(e),
        last_owner_text(e),
    ]
    .join("\t")
}
