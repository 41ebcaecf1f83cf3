//! A scripted [`SocketSource`] for tests and demos.

use crate::sockets::{NetnsSelection, NetnsSummary, Snapshot, SocketSource, SourceError};

/// A source that replays scripted results, for tests and demos: each
/// snapshot call takes the next one; when the script runs out it repeats
/// the last snapshot. The script can be extended while the sampler runs.
#[derive(Clone, Default)]
pub struct ScriptedSource {
    script: std::sync::Arc<std::sync::Mutex<ScriptState>>,
}

#[derive(Default)]
struct ScriptState {
    queue: std::collections::VecDeque<Result<Snapshot, SourceError>>,
    last: Option<Snapshot>,
    calls: usize,
    /// The namespaces asked for last ([`SocketSource::set_netns`]).
    netns: NetnsSelection,
    /// What [`SocketSource::netns_summary`] answers.
    summary: Option<NetnsSummary>,
}

impl ScriptedSource {
    pub fn new(script: impl IntoIterator<Item = Result<Snapshot, SourceError>>) -> ScriptedSource {
        let s = ScriptedSource::default();
        for r in script {
            s.push(r);
        }
        s
    }

    /// Queue one more result.
    pub fn push(&self, r: Result<Snapshot, SourceError>) {
        if let Ok(mut st) = self.script.lock() {
            st.queue.push_back(r);
        }
    }

    /// Answer `summary` when asked about network namespaces.
    pub fn set_netns_summary(&self, summary: Option<NetnsSummary>) {
        if let Ok(mut st) = self.script.lock() {
            st.summary = summary;
        }
    }

    /// The network namespaces the source was last asked to list.
    pub fn netns_selection(&self) -> NetnsSelection {
        self.script
            .lock()
            .map(|st| st.netns.clone())
            .unwrap_or_default()
    }

    /// How many snapshots were asked for.
    pub fn calls(&self) -> usize {
        self.script.lock().map_or(0, |st| st.calls)
    }
}

impl SocketSource for ScriptedSource {
    fn set_netns(&mut self, selection: NetnsSelection) {
        if let Ok(mut st) = self.script.lock() {
            st.netns = selection;
        }
    }

    fn netns_summary(&self) -> Option<NetnsSummary> {
        self.script.lock().ok().and_then(|st| st.summary.clone())
    }

    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let mut st = self
            .script
            .lock()
            .map_err(|_| SourceError("the script's lock is poisoned".into()))?;
        st.calls += 1;
        match st.queue.pop_front() {
            Some(Ok(snap)) => {
                st.last = Some(snap.clone());
                Ok(snap)
            }
            Some(Err(e)) => Err(e),
            None => st
                .last
                .clone()
                .ok_or_else(|| SourceError("the script is empty".into())),
        }
    }
}
