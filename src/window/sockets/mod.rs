//! The Sockets view: the last snapshot, what changed since the one before,
//! the filtered and sorted rows, the selection ([`SocketsState`]); its
//! messages ([`SocketsMsg`]) and their [`update`]. No egui: the drawing is
//! in `view.rs`.
//!
//! The snapshot lives here, in [`SocketsState::snapshot`], although every
//! view reads it (through [`Ctx::snapshot`]): what this view shows is the
//! difference between it and the one before (which rows are new, which
//! just closed), kept as per-index vectors beside it, so the snapshot and
//! that difference are replaced together in one place
//! ([`SocketsState::on_snapshot`]). It is held in an [`Arc`] so that this
//! view's own [`update`] can get a [`Ctx`] like every other feature's while
//! its state is borrowed mutably.
//!
//! What persists (the filter, the sort, the columns, the details panel)
//! stays in the window's `Settings`, in the flat shape existing stores
//! have; [`update`] gets it as [`Prefs`]. What this view asks of the rest
//! of the window comes back from [`update`] as a [`Request`].
//!
//! Cost model: the table draws only visible rows, so a frame never walks the
//! whole snapshot. Walking it (diff, filter, sort) happens once per new
//! snapshot or per filter/sort change, in [`SocketsState::rebuild_rows`].

mod changes;
mod columns;
pub mod export;
mod text;
pub mod view;

pub use changes::FADE_STEP_MS;
pub use columns::{Column, ProcessPick, Quick, QuickFilter, Sort, TextQuery, ViewFilter};
pub use text::*;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::sockets::{
    Family, NetnsSelection, NetnsSummary, Proto, Snapshot, SocketEntry, TcpState,
};
use crate::window::ctx::{Ctx, Effect, ToastKind};
use export::ExportJob;

/// How long a row that appeared stays highlighted.
pub const NEW_HIGHLIGHT_MS: u64 = 3_000;
/// How long a row that disappeared lingers (red) before it goes.
pub const GONE_LINGER_MS: u64 = 3_000;
/// At most this many disappeared rows linger at once (the newest are kept),
/// so a burst of closing connections cannot grow memory or the table
/// without bound.
pub const GONE_MAX: usize = 10_000;

pub use crate::window::ctx::{TIME_WAIT_FULL_MS, countdown_fraction, countdown_text};

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

/// How a row changed recently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Appeared since an earlier snapshot.
    New,
    /// Gone since the last snapshot; lingers for a moment.
    Gone,
}

/// Where a key moves the selection: up or down by rows, to the first or
/// the last row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Up(usize),
    Down(usize),
    First,
    Last,
}

/// Which part of a row to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyWhat {
    Port,
    Address,
    Row,
}

/// What the Sockets view can ask for, and what its tasks bring back.
#[derive(Clone, Debug)]
pub enum SocketsMsg {
    SetFilterText(String),
    /// Esc: empty the filter box.
    ClearFilterText,
    SetQuick(Quick, bool),
    /// Sort by this column; again on the same column flips the direction.
    SortBy(Column),
    /// The widths of the shown columns (the table reports them as the user
    /// drags); the hidden ones keep theirs.
    SetColumnWidths(Vec<(Column, f32)>),
    /// The column chooser: show or hide a column. The last shown column
    /// cannot be hidden.
    SetColumnShown(Column, bool),
    /// "Filter by this process" in a row's menu: show only the sockets of
    /// the processes holding this row's socket.
    FilterByProcess(RowKey),
    /// Drop the process filter.
    ClearProcessFilter,
    Select(Option<RowKey>),
    Copy(CopyWhat, RowKey),
    /// Ctrl+C: the selected row.
    CopySelected,
    ToggleDetails,
    /// Enter: show the details panel (of the selected row).
    OpenDetails,
    /// "why?" on the hidden-owners line: show or hide the explanation.
    ToggleHiddenWhy,
    /// "Dismiss" on the hidden-owners line: not shown again this session.
    DismissHidden,
    /// "Export…": ask for a file, then write the visible rows.
    Export,
    /// Write the visible rows to this path (chosen in a dialog).
    ExportTo(PathBuf),
    /// An export finished: the rows written, or why not.
    Exported {
        path: PathBuf,
        result: Result<usize, String>,
    },
    /// "Stop process…" on a row: plan stopping its processes.
    AskStop(RowKey),
    /// Show only the sockets on this port, in every state (and show this
    /// view).
    ShowPort(u16),
    /// Drop the port filter.
    ClearPortFilter,
    /// The "All namespaces" toggle: list the sockets of every network
    /// namespace (root), or only portwise's own.
    SetAllNamespaces(bool),
}

/// What this view asks of the rest of the window, from [`update`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Switch to the Sockets view.
    Show,
    /// Plan stopping these processes, seen holding `port` (the stop
    /// confirmation's job).
    Stop { port: u16, pids: Vec<u32> },
}

/// The view's persisted preferences, borrowed from the window's settings.
pub struct Prefs<'a> {
    pub filter: &'a mut QuickFilter,
    pub sort: &'a mut Sort,
    /// Column widths in [`Column::ALL`] order; empty means the defaults.
    pub column_widths: &'a mut Vec<f32>,
    /// The columns the chooser hides.
    pub hidden_columns: &'a mut Vec<Column>,
    pub details_open: &'a mut bool,
}

/// Handle one message. The rows are rebuilt later, once, by
/// [`SocketsState::ensure_rows`].
pub fn update(
    s: &mut SocketsState,
    prefs: Prefs<'_>,
    msg: SocketsMsg,
    ctx: &mut Ctx<'_, SocketsMsg>,
) -> Option<Request> {
    match msg {
        SocketsMsg::SetFilterText(t) => {
            if t != prefs.filter.text {
                prefs.filter.text = t;
                s.rows_dirty = true;
            }
        }
        SocketsMsg::ClearFilterText => {
            if !prefs.filter.text.is_empty() {
                prefs.filter.text.clear();
                s.rows_dirty = true;
            }
        }
        SocketsMsg::SetQuick(q, on) => {
            prefs.filter.set(q, on);
            s.rows_dirty = true;
        }
        SocketsMsg::SortBy(col) => {
            let sort = prefs.sort;
            if sort.column == col {
                sort.descending = !sort.descending;
            } else {
                sort.column = col;
                sort.descending = false;
            }
            s.rows_dirty = true;
        }
        SocketsMsg::SetColumnWidths(w) => {
            let widths = prefs.column_widths;
            if widths.len() != Column::ALL.len() {
                *widths = Column::ALL.iter().map(|c| c.default_width()).collect();
            }
            for (col, width) in w {
                if width.is_finite()
                    && let Some(slot) = widths.get_mut(col.store_index())
                {
                    *slot = width;
                }
            }
        }
        SocketsMsg::SetColumnShown(col, shown) => {
            let hidden = prefs.hidden_columns;
            if shown {
                hidden.retain(|c| *c != col);
            } else if !hidden.contains(&col) && hidden.len() + 1 < Column::ALL.len() {
                hidden.push(col);
            } else {
                return None;
            }
            // The filter matches shown columns only.
            s.rows_dirty = true;
        }
        SocketsMsg::FilterByProcess(key) => match s.find(&key) {
            Some((e, _)) if !e.processes.is_empty() => {
                let mut pids: Vec<u32> = e.processes.iter().map(|p| p.pid).collect();
                pids.sort_unstable();
                pids.dedup();
                prefs.filter.process = Some(ProcessPick {
                    label: process_text(e),
                    pids,
                });
                s.rows_dirty = true;
            }
            Some(_) => ctx.toast(
                ToastKind::Error,
                "No visible process holds this socket, so there is no process to filter by",
            ),
            None => ctx.toast(ToastKind::Error, "That socket is gone"),
        },
        SocketsMsg::ClearProcessFilter => {
            prefs.filter.process = None;
            s.rows_dirty = true;
        }
        SocketsMsg::Select(k) => s.selected = k,
        SocketsMsg::Copy(what, key) => s.copy(what, &key, ctx),
        SocketsMsg::CopySelected => {
            if let Some(k) = s.selected {
                s.copy(CopyWhat::Row, &k, ctx);
            }
        }
        SocketsMsg::ToggleDetails => *prefs.details_open = !*prefs.details_open,
        SocketsMsg::OpenDetails => *prefs.details_open = true,
        SocketsMsg::ToggleHiddenWhy => s.hidden_why = !s.hidden_why,
        SocketsMsg::DismissHidden => s.hidden_dismissed = true,
        SocketsMsg::Export => ctx.effects.push(Effect::Export {
            suggested_name: "portwise-sockets.csv".into(),
        }),
        SocketsMsg::ExportTo(path) => {
            // Written on a worker (with fsync); reported in a toast.
            let job = s.export_job(&path);
            ctx.spawn(
                "portwise-export",
                move || {
                    let result = job.run();
                    (job.path, result)
                },
                |(path, result)| SocketsMsg::Exported { path, result },
            );
        }
        SocketsMsg::Exported { path, result } => exported(&path, &result, ctx),
        SocketsMsg::AskStop(key) => match s.find_live(&key) {
            Some(e) if !e.processes.is_empty() => {
                let pids = e.processes.iter().map(|p| p.pid).collect();
                return Some(Request::Stop {
                    port: e.local_port,
                    pids,
                });
            }
            Some(e) => ctx.toast(
                ToastKind::Error,
                nothing_to_stop_text(e, s.snapshot.privileged),
            ),
            None => ctx.toast(ToastKind::Error, "That socket is gone"),
        },
        SocketsMsg::ShowPort(port) => {
            prefs.filter.port = Some(port);
            prefs.filter.all_states = true;
            s.rows_dirty = true;
            return Some(Request::Show);
        }
        SocketsMsg::ClearPortFilter => {
            prefs.filter.port = None;
            s.rows_dirty = true;
        }
        SocketsMsg::SetAllNamespaces(on) => {
            if on != s.all_namespaces {
                s.all_namespaces = on;
                let selection = if on {
                    NetnsSelection::All
                } else {
                    NetnsSelection::Own
                };
                // The sampler takes a snapshot of the new selection at once.
                ctx.effects.push(Effect::SetNetns(selection));
            }
        }
    }
    None
}

/// Say in a toast how an export went.
pub fn exported<M: 'static>(path: &Path, result: &Result<usize, String>, ctx: &mut Ctx<'_, M>) {
    match result {
        Ok(n) => ctx.toast(
            ToastKind::Success,
            format!("Exported {n} rows to {}", path.display()),
        ),
        Err(e) => ctx.toast(ToastKind::Error, format!("Export failed: {e}")),
    }
}

/// Why a row without a visible process cannot be stopped, and what would
/// help: the kernel frees its own sockets; elevation is suggested only
/// where it would show the owner.
fn nothing_to_stop_text(e: &SocketEntry, privileged: bool) -> &'static str {
    if e.is_kernel_owned() || e.orphan {
        "The kernel holds this socket, not a process, so there is nothing to stop: it frees \
         it by itself"
    } else if privileged {
        "No visible process holds this socket (it may have just exited), so there is nothing \
         to stop"
    } else {
        "This socket's owner is hidden from this user, so there is nothing to stop here: \
         start portwise elevated (root, or as Administrator) to see and stop it"
    }
}

/// Everything the Sockets view shows.
#[derive(Default)]
pub struct SocketsState {
    /// The last good snapshot (sorted by `sort_key`).
    pub snapshot: Arc<Snapshot>,
    /// Clock time at which it arrived; `None` before the first one.
    pub received_at_ms: Option<u64>,
    /// How long the sampler took for it.
    pub took_ms: u64,
    /// The last sampling error, with its clock time; cleared by the next good
    /// snapshot.
    pub error: Option<(String, u64)>,
    /// What this OS's socket list cannot show at all (the engine's note).
    pub coverage_note: Option<String>,
    /// For each socket of `snapshot` (same index): the clock time it
    /// appeared, or 0 if it is not new. Carried over from snapshot to
    /// snapshot by the merge, so a lookup is an index, not a hash.
    appeared_at: Vec<u64>,
    /// Rows that disappeared recently, oldest first (ids ascend).
    gone: VecDeque<GoneRow>,
    next_gone_id: u64,
    /// Filtered, sorted rows.
    rows: Vec<RowRef>,
    /// How many live sockets pass the filter (lingering rows not counted).
    live_shown: usize,
    /// When the shown new rows appeared, ascending.
    new_shown_times: Vec<u64>,
    /// How many lingering rows are shown.
    gone_shown: usize,
    pub selected: Option<RowKey>,
    /// How many shown live rows have an owner this user cannot see.
    hidden_shown: usize,
    /// Login names of the uids whose sockets' owners were hidden, from
    /// every snapshot so far: a lingering row is still named.
    users: Users,
    /// The hidden-owners line shows its explanation.
    pub hidden_why: bool,
    /// The hidden-owners line was dismissed (for this session).
    pub hidden_dismissed: bool,
    /// The rows must be filtered and sorted again (a snapshot came, or the
    /// filter or the sort changed).
    rows_dirty: bool,
    /// Whether the sockets of every network namespace are asked for (the
    /// "All namespaces" toggle; not persisted: listing them all costs a
    /// dump per namespace every refresh).
    pub all_namespaces: bool,
    /// What the source said about network namespaces with the last
    /// snapshot; `None` where the OS has none (or before the first).
    pub netns: Option<NetnsSummary>,
    /// The sockets of portwise's own network namespace: `snapshot` itself,
    /// or, with "All namespaces", a copy without the other namespaces'
    /// sockets. What the other views (bind test, free port, stop) judge a
    /// port by: a server in a container does not hold a port here.
    pub host: Arc<Snapshot>,
}

impl SocketsState {
    /// Take in what the source said about network namespaces.
    pub fn set_netns_summary(&mut self, summary: Option<NetnsSummary>) {
        if self.netns != summary {
            // The Namespace column names every namespace but portwise's own.
            if self.netns.as_ref().map(|n| n.own) != summary.as_ref().map(|n| n.own) {
                self.rows_dirty = true;
            }
            self.netns = summary;
        }
    }

    /// Bring [`SocketsState::host`] up to date with the snapshot.
    pub fn refresh_host(&mut self) {
        let own = self.own_netns();
        let foreign = |e: &SocketEntry| {
            e.netns
                .as_ref()
                .is_some_and(|n| own.is_some_and(|o| o != n.inode))
        };
        self.host = if own.is_some() && self.snapshot.sockets.iter().any(foreign) {
            let kept = self
                .snapshot
                .sockets
                .iter()
                .filter(|e| !foreign(e))
                .cloned()
                .collect();
            Arc::new(with_sockets(&self.snapshot, kept))
        } else {
            Arc::clone(&self.snapshot)
        };
    }

    /// portwise's own network namespace, where the OS has them.
    pub fn own_netns(&self) -> Option<u64> {
        self.netns.as_ref().and_then(|n| n.own)
    }

    /// The line above the table about network namespaces (how many others
    /// exist and how to see them), if any.
    pub fn netns_banner(&self) -> Option<String> {
        self.netns.as_ref()?.banner(self.all_namespaces)
    }

    /// Keep the last good snapshot and remember the error.
    pub fn on_error(&mut self, message: String, now_ms: u64) {
        self.error = Some((message, now_ms));
    }

    /// Rebuild the rows if a snapshot, the filter, the sort or the shown
    /// columns changed (the filter box matches the shown ones).
    pub fn ensure_rows(&mut self, filter: &QuickFilter, sort: Sort, hidden: &[Column]) {
        if self.rows_dirty {
            self.rebuild_rows(filter, sort, hidden);
            self.rows_dirty = false;
        }
    }

    /// The rows need rebuilding ([`SocketsState::ensure_rows`]).
    pub fn mark_dirty(&mut self) {
        self.rows_dirty = true;
    }

    /// Filter and sort all rows (live and lingering) into the table's order.
    pub fn rebuild_rows(&mut self, filter: &QuickFilter, sort: Sort, hidden: &[Column]) {
        let f = filter.to_filter(hidden);
        let taken = self.snapshot.taken_at_unix_ms;
        // (row, socket, the time its countdown counts from)
        let mut keyed: Vec<(RowRef, &SocketEntry, u64)> = Vec::new();
        let mut new_times = Vec::new();
        let mut buf = String::new();
        for (i, e) in self.snapshot.sockets.iter().enumerate() {
            if f.matches(e, &self.users, &mut buf) {
                keyed.push((RowRef::Live(i as u32), e, taken));
                if let Some(&t) = self.appeared_at.get(i).filter(|t| **t != 0) {
                    new_times.push(t);
                }
            }
        }
        let live_shown = keyed.len();
        self.hidden_shown = keyed.iter().filter(|(_, e, _)| owner_hidden(e)).count();
        keyed.extend(
            self.gone
                .iter()
                .filter(|g| f.matches(&g.entry, &self.users, &mut buf))
                .map(|g| (RowRef::Gone(g.id), &g.entry, g.last_taken_at_ms)),
        );
        // Live rows come in sort_key order already; a stable sort finds
        // those runs, so the default order costs little.
        keyed.sort_by(|(_, x, tx), (_, y, ty)| {
            let ord = compare(sort.column, x, y, (*tx, *ty), &self.users)
                .then_with(|| RowKey::of(x).cmp(&RowKey::of(y)));
            if sort.descending { ord.reverse() } else { ord }
        });
        // A selection the filter hides is dropped: Details, Delete and
        // Ctrl+C must not act on a row that is not on screen.
        let selection_shown = self
            .selected
            .is_none_or(|k| keyed.iter().any(|(_, e, _)| RowKey::of(e) == k));
        let mut rows = std::mem::take(&mut self.rows);
        rows.clear();
        rows.extend(keyed.iter().map(|(r, _, _)| *r));
        self.gone_shown = rows.len() - live_shown;
        self.live_shown = live_shown;
        self.rows = rows;
        if !selection_shown {
            self.selected = None;
        }
        new_times.sort_unstable();
        self.new_shown_times = new_times;
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

    /// Shown live rows whose owner this user cannot see.
    pub fn hidden_shown(&self) -> usize {
        self.hidden_shown
    }

    /// Whose sockets the hidden owners' are, by uid ([`text::user_text`]).
    pub fn users(&self) -> &Users {
        &self.users
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
        let i = self.live_index(key)?;
        self.snapshot.sockets.get(i as usize)
    }

    /// A socket by key: live first, else lingering (then with its
    /// [`GoneRow`], which knows the snapshot that last had it).
    pub fn find(&self, key: &RowKey) -> Option<(&SocketEntry, Option<&GoneRow>)> {
        if let Some(e) = self.find_live(key) {
            return Some((e, None));
        }
        self.gone
            .iter()
            .rev()
            .find(|g| RowKey::of(&g.entry) == *key)
            .map(|g| (&g.entry, Some(g)))
    }

    /// The index of a live socket in the snapshot.
    pub fn live_index(&self, key: &RowKey) -> Option<u32> {
        let s = &self.snapshot.sockets;
        s.binary_search_by(|e| RowKey::of(e).cmp(key))
            .ok()
            .map(|i| i as u32)
    }

    /// Where `step` moves the selection: the row's index in [`rows`] and
    /// its key. With no row selected (or the selected one filtered out),
    /// a step down starts at the first row and a step up at the last.
    ///
    /// [`rows`]: SocketsState::rows
    pub fn step_selection(&self, step: Step) -> Option<(usize, RowKey)> {
        let last = self.rows.len().checked_sub(1)?;
        let at = self.selected.and_then(|k| {
            self.rows
                .iter()
                .position(|r| self.entry(*r).is_some_and(|e| RowKey::of(e) == k))
        });
        let to = match (step, at) {
            (Step::First, _) | (Step::Down(_), None) => 0,
            (Step::Last, _) | (Step::Up(_), None) => last,
            (Step::Down(n), Some(i)) => i.saturating_add(n).min(last),
            (Step::Up(n), Some(i)) => i.saturating_sub(n),
        };
        let e = self.entry(self.rows[to])?;
        Some((to, RowKey::of(e)))
    }

    /// The live rows the table shows, in its order (what Export writes).
    pub fn visible_live_rows(&self) -> Vec<&SocketEntry> {
        self.rows
            .iter()
            .filter(|r| matches!(r, RowRef::Live(_)))
            .filter_map(|r| self.entry(*r))
            .collect()
    }

    /// What writing the visible rows to `path` needs, copied so that a
    /// worker thread can write the file ([`ExportJob::run`]).
    pub fn export_job(&self, path: &Path) -> ExportJob {
        ExportJob::new(
            path,
            &self.snapshot,
            self.visible_live_rows().into_iter().cloned().collect(),
        )
    }

    /// Put a part of the row `key` on the clipboard, with a toast.
    fn copy(&self, what: CopyWhat, key: &RowKey, ctx: &mut Ctx<'_, SocketsMsg>) {
        let Some((e, gone)) = self.find(key) else {
            ctx.toast(ToastKind::Error, "That socket is gone");
            return;
        };
        let taken = gone.map_or(self.snapshot.taken_at_unix_ms, |g| g.last_taken_at_ms);
        let text = self.copy_text(what, e, taken, ctx.now_ms);
        let notice = match what {
            CopyWhat::Port | CopyWhat::Address => format!("Copied {text}"),
            CopyWhat::Row => "Copied the row".to_string(),
        };
        ctx.copy(text, notice);
    }

    /// The text one of [`CopyWhat`] puts on the clipboard for a socket.
    pub fn copy_text(&self, what: CopyWhat, e: &SocketEntry, taken_at: u64, now_ms: u64) -> String {
        match what {
            CopyWhat::Port => e.local_port.to_string(),
            CopyWhat::Address => socket_addr(e.local_addr, e.local_port),
            CopyWhat::Row => row_line(e, taken_at, now_ms, &self.users),
        }
    }
}

/// `s`'s header fields (time, unattributed, privileged) with `sockets`:
/// the part of a snapshot a worker thread needs, without copying it all.
pub fn with_sockets(s: &Snapshot, sockets: Vec<crate::sockets::SocketEntry>) -> Snapshot {
    Snapshot {
        taken_at_unix_ms: s.taken_at_unix_ms,
        unattributed: s.unattributed,
        unattributed_reason: s.unattributed_reason.clone(),
        privileged: s.privileged,
        sockets,
        owner_users: s.owner_users.clone(),
    }
}

#[cfg(test)]
mod tests;
