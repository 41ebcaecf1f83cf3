//! What changed between two snapshots: the rows that appeared (highlighted
//! "new") and the ones that went (lingering, red), and how their highlight
//! fades. Part of [`SocketsState`]; the merge runs once per snapshot.

use std::collections::HashSet;
use std::sync::Arc;

use super::{
    Change, GONE_LINGER_MS, GONE_MAX, GoneRow, NEW_HIGHLIGHT_MS, RowKey, RowRef, SocketsState,
};
use crate::sockets::Snapshot;
use crate::window::widgets::countdown_clock;

impl SocketsState {
    /// Take in a new snapshot (sockets sorted by `sort_key`, which the
    /// sampler guarantees) and work out what appeared and disappeared.
    /// Returns the snapshot it replaces, so the caller can drop it off the
    /// UI thread (freeing 100k sockets takes a millisecond or two).
    pub fn on_snapshot(&mut self, snap: Snapshot, took_ms: u64, now_ms: u64) -> Snapshot {
        let first = self.received_at_ms.is_none();
        self.coverage_note = crate::sockets::coverage_note(snap.privileged);
        self.rows_dirty = true;
        for (uid, name) in &snap.owner_users {
            if self.users.get(uid) != Some(name) {
                self.users.insert(*uid, name.clone());
            }
        }
        let old = std::mem::replace(&mut self.snapshot, Arc::new(snap));
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
        // Nothing else holds the old one (messages borrow it only while
        // they are handled); if something did, it frees it.
        Arc::try_unwrap(old).unwrap_or_default()
    }

    /// Forget highlights and lingering rows older than their time. Returns
    /// true if rows were removed (the table changed).
    pub fn prune(&mut self, now_ms: u64) -> bool {
        let mut removed = false;
        while let Some(g) = self.gone.front() {
            if clock_age(g.gone_at_ms, now_ms) >= GONE_LINGER_MS {
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

    /// Whether a row is highlighted, and how strongly: 1.0 just after it
    /// appeared (or went), fading to 0.0 over [`NEW_HIGHLIGHT_MS`] (or
    /// [`GONE_LINGER_MS`]).
    pub fn highlight(&self, r: RowRef, now_ms: u64) -> Option<(Change, f32)> {
        match r {
            RowRef::Live(i) => {
                let t = *self.appeared_at.get(i as usize)?;
                let h = fade(clock_age(t, now_ms), NEW_HIGHLIGHT_MS);
                (t != 0 && h > 0.0).then_some((Change::New, h))
            }
            RowRef::Gone(id) => {
                let g = self.gone_row(id)?;
                Some((
                    Change::Gone,
                    fade(clock_age(g.gone_at_ms, now_ms), GONE_LINGER_MS),
                ))
            }
        }
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
        // New while its clock age is under NEW_HIGHLIGHT_MS: appeared in
        // one of the last (NEW_HIGHLIGHT_MS / 1 s) clock seconds.
        let cutoff = (countdown_clock(now_ms) + FADE_STEP_MS).saturating_sub(NEW_HIGHLIGHT_MS);
        let t = &self.new_shown_times;
        t.len() - t.partition_point(|x| *x < cutoff)
    }

    /// Shown rows lingering after they closed.
    pub fn gone_count(&self) -> usize {
        self.gone_shown
    }
}

/// How long one step of a highlight's fade lasts. The fade moves in whole
/// steps, not a smooth animation, so a highlighted row costs the window one
/// repaint a second instead of one every frame.
pub const FADE_STEP_MS: u64 = 1_000;

/// How old something that happened at `start_ms` is, on the clock the
/// countdowns are drawn at ([`countdown_clock`]): whole seconds between
/// their clock seconds. Highlights step, and lingering rows leave, on the
/// clock's whole second too, the frame the countdowns need anyway; counted
/// from each snapshot's own time they asked for a second frame a second.
/// A highlight so lasts between its time less one second and its time.
fn clock_age(start_ms: u64, now_ms: u64) -> u64 {
    countdown_clock(now_ms).saturating_sub(countdown_clock(start_ms))
}

fn fade(age_ms: u64, over_ms: u64) -> f32 {
    if age_ms >= over_ms || over_ms == 0 {
        0.0
    } else {
        let stepped = age_ms - age_ms % FADE_STEP_MS;
        1.0 - stepped as f32 / over_ms as f32
    }
}

/// Milliseconds from `now_ms` until a highlight that started at `start_ms`
/// and lasts `over_ms` next changes (a fade step, or its end: both on the
/// clock's next whole second); `None` once it is over.
fn next_step_in(start_ms: u64, now_ms: u64, over_ms: u64) -> Option<u64> {
    (clock_age(start_ms, now_ms) < over_ms).then(|| FADE_STEP_MS - now_ms % FADE_STEP_MS)
}
