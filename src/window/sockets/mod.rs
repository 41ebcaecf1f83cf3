//! State of the Sockets view: the last snapshot, what changed since the one
//! before, the filtered and sorted rows, the selection. No egui.
//!
//! Cost model: the table draws only visible rows, so a frame never walks the
//! whole snapshot. Walking it (diff, filter, sort) happens once per new
//! snapshot or per filter/sort change, in [`SocketsState::rebuild_rows`].

mod columns;
pub mod export;
mod text;
pub mod view;

pub use columns::{Column, Quick, QuickFilter, Sort, ViewFilter};
pub use text::*;

use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::sockets::{Family, Proto, Snapshot, SocketEntry, TcpState};

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
}

impl SocketsState {
    /// Take in a new snapshot (sockets sorted by `sort_key`, which the
    /// sampler guarantees) and work out what appeared and disappeared.
    /// Returns the snapshot it replaces, so the caller can drop it off the
    /// UI thread (freeing 100k sockets takes a millisecond or two).
    pub fn on_snapshot(&mut self, snap: Snapshot, took_ms: u64, now_ms: u64) -> Snapshot {
        let first = self.received_at_ms.is_none();
        self.coverage_note = crate::sockets::coverage_note(snap.privileged);
        let old = std::mem::replace(&mut self.snapshot, snap);
        let old_taken = old.taken_at_unix_ms;
        self.received_at_ms = Some(now_ms);
        self.took_ms = took_ms;
        self.error = None;

        // Merge the two sorted lists (both in key order): carry the
        // "appeared at" times over, collect what vanished and what is new.
        let old_appeared = std::mem::take(&mut self.appeared_at);
        let new = &self.snapshot.sockets;
        let mut appeared_at = vec![0u64; new.len()];
        let mut appeared: Vec<usize> = Vec::new();
        let mut vanished: Vec<usize> = Vec::new();
        let (mut i, mut j) = (0, 0);
        loop {
            let ok = old.sockets.get(i).map(RowKey::of);
            let nk = new.get(j).map(RowKey::of);
            match (ok, nk) {
                (Some(o), Some(n)) => match o.cmp(&n) {
                    std::cmp::Ordering::Less => {
                        vanished.push(i);
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        appeared.push(j);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        appeared_at[j] = old_appeared.get(i).copied().unwrap_or(0);
                        i += 1;
                        j += 1;
                    }
                },
                (Some(_), None) => {
                    vanished.extend(i..old.sockets.len());
                    break;
                }
                (None, Some(_)) => {
                    appeared.extend(j..new.len());
                    break;
                }
                (None, None) => break,
            }
        }

        if !first {
            // 0 means "not new", so a clock at 0 (tests) still counts.
            for &j in &appeared {
                appeared_at[j] = now_ms.max(1);
            }
            // A socket that came back is live again, not gone. Only rows
            // that went in an earlier round can have come back.
            if !self.gone.is_empty() && !appeared.is_empty() {
                let back: HashSet<RowKey> =
                    self.gone.iter().map(|g| RowKey::of(&g.entry)).collect();
                let returned: HashSet<RowKey> = appeared
                    .iter()
                    .map(|&j| RowKey::of(&new[j]))
                    .filter(|k| back.contains(k))
                    .collect();
                if !returned.is_empty() {
                    self.gone
                        .retain(|g| !returned.contains(&RowKey::of(&g.entry)));
                }
            }
            // Keep the newest GONE_MAX: drop the oldest lingering rows first,
            // then the surplus of this batch.
            let skip = vanished.len().saturating_sub(GONE_MAX);
            for &i in vanished.iter().skip(skip) {
                let id = self.next_gone_id;
                self.next_gone_id += 1;
                self.gone.push_back(GoneRow {
                    id,
                    entry: old.sockets[i].clone(),
                    gone_at_ms: now_ms,
                    last_taken_at_ms: old_taken,
                });
            }
            while self.gone.len() > GONE_MAX {
                self.gone.pop_front();
            }
        }
        self.appeared_at = appeared_at;
        self.prune(now_ms);
        old
    }

    /// Keep the last good snapshot and remember the error.
    pub fn on_error(&mut self, message: String, now_ms: u64) {
        self.error = Some((message, now_ms));
    }

    /// Forget highlights and lingering rows older than their time. Returns
    /// true if rows were removed (the table changed).
    pub fn prune(&mut self, now_ms: u64) -> bool {
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
            let len = self.rows.len();
            self.rows
                .retain(|r| !matches!(r, RowRef::Gone(id) if *id < first_kept));
            self.gone_shown -= (len - self.rows.len()).min(self.gone_shown);
        }
        removed
    }

    /// Filter and sort all rows (live and lingering) into the table's order.
    pub fn rebuild_rows(&mut self, filter: &QuickFilter, sort: Sort) {
        let f = filter.to_filter();
        let taken = self.snapshot.taken_at_unix_ms;
        // (row, socket, the time its countdown counts from)
        let mut keyed: Vec<(RowRef, &SocketEntry, u64)> = Vec::new();
        let mut new_times = Vec::new();
        for (i, e) in self.snapshot.sockets.iter().enumerate() {
            if f.matches(e) {
                keyed.push((RowRef::Live(i as u32), e, taken));
                if let Some(&t) = self.appeared_at.get(i).filter(|t| **t != 0) {
                    new_times.push(t);
                }
            }
        }
        let live_shown = keyed.len();
        keyed.extend(
            self.gone
                .iter()
                .filter(|g| f.matches(&g.entry))
                .map(|g| (RowRef::Gone(g.id), &g.entry, g.last_taken_at_ms)),
        );
        // Live rows come in sort_key order already; a stable sort finds
        // those runs, so the default order costs little.
        keyed.sort_by(|(_, x, tx), (_, y, ty)| {
            let ord = compare(sort.column, x, y, *tx, *ty)
                .then_with(|| RowKey::of(x).cmp(&RowKey::of(y)));
            if sort.descending { ord.reverse() } else { ord }
        });
        let mut rows = std::mem::take(&mut self.rows);
        rows.clear();
        rows.extend(keyed.iter().map(|(r, _, _)| *r));
        self.gone_shown = rows.len() - live_shown;
        self.live_shown = live_shown;
        self.rows = rows;
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

    /// Whether a row is highlighted, and how strongly: 1.0 just after it
    /// appeared (or went), fading to 0.0 over [`NEW_HIGHLIGHT_MS`] (or
    /// [`GONE_LINGER_MS`]).
    pub fn highlight(&self, r: RowRef, now_ms: u64) -> Option<(Change, f32)> {
        match r {
            RowRef::Live(i) => {
                let t = *self.appeared_at.get(i as usize)?;
                let h = fade(now_ms.saturating_sub(t), NEW_HIGHLIGHT_MS);
                (t != 0 && h > 0.0).then_some((Change::New, h))
            }
            RowRef::Gone(id) => {
                let g = self.gone_row(id)?;
                Some((
                    Change::Gone,
                    fade(now_ms.saturating_sub(g.gone_at_ms), GONE_LINGER_MS),
                ))
            }
        }
    }

    /// The index of a live socket in the snapshot.
    pub fn live_index(&self, key: &RowKey) -> Option<u32> {
        let s = &self.snapshot.sockets;
        s.binary_search_by(|e| RowKey::of(e).cmp(key))
            .ok()
            .map(|i| i as u32)
    }

    /// True while a shown row fades (the window keeps repainting until
    /// then).
    pub fn animating(&self, now_ms: u64) -> bool {
        self.new_count(now_ms) > 0 || self.gone_shown > 0
    }

    /// Milliseconds until a shown row's highlight next changes (fades a
    /// step, ends, or a lingering row leaves), or `None` if none will.
    pub fn next_highlight_change_ms(&self, now_ms: u64) -> Option<u64> {
        let new = self
            .new_shown_times
            .iter()
            .filter_map(|t| next_step_in(*t, now_ms, NEW_HIGHLIGHT_MS));
        let gone = self
            .gone
            .iter()
            .filter_map(|g| next_step_in(g.gone_at_ms, now_ms, GONE_LINGER_MS));
        let gone = if self.gone_shown > 0 {
            gone.min()
        } else {
            None
        };
        new.min().into_iter().chain(gone).min()
    }

    /// Shown rows highlighted as new at `now_ms`.
    pub fn new_count(&self, now_ms: u64) -> usize {
        let cutoff = now_ms.saturating_sub(NEW_HIGHLIGHT_MS);
        let t = &self.new_shown_times;
        t.len() - t.partition_point(|x| *x <= cutoff)
    }

    /// Shown rows lingering after they closed.
    pub fn gone_count(&self) -> usize {
        self.gone_shown
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

/// How long one step of a highlight's fade lasts. The fade moves in whole
/// steps, not a smooth animation, so a highlighted row costs the window one
/// repaint a second instead of one every frame.
pub const FADE_STEP_MS: u64 = 1_000;

fn fade(age_ms: u64, over_ms: u64) -> f32 {
    if age_ms >= over_ms || over_ms == 0 {
        0.0
    } else {
        let stepped = age_ms - age_ms % FADE_STEP_MS;
        1.0 - stepped as f32 / over_ms as f32
    }
}

/// Milliseconds from `now_ms` until a highlight that started at `start_ms`
/// and lasts `over_ms` next changes (a fade step, or its end); `None` once
/// it is over.
fn next_step_in(start_ms: u64, now_ms: u64, over_ms: u64) -> Option<u64> {
    let age = now_ms.saturating_sub(start_ms);
    (age < over_ms).then(|| (FADE_STEP_MS - age % FADE_STEP_MS).min(over_ms - age))
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
    }
}

#[cfg(test)]
mod tests;
