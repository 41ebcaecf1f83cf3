//! A scripted [`SocketSource`] for tests and demos.

use crate::sockets::{Snapshot, SocketSource, SourceError};

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

    /// How many snapshots were asked for.
    pub fn calls(&self) -> usize {
        self.script.lock().map_or(0, |st| st.calls)
    }
}

impl SocketSource for ScriptedSource {
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
