//! The types every OS's `process` module uses to identify a process exactly
//! and to signal only that process (see `stop`). No OS code here.

/// What a pid is right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// A running process, with its exact start stamp: Linux clock ticks
    /// since boot (/proc/PID/stat field 22), macOS microseconds since the
    /// epoch (proc_bsdinfo), Windows the creation FILETIME (100 ns units).
    /// A pid with a different stamp is another process.
    Running { start: u64 },
    /// It has exited; only its parent's wait() is missing. It holds no
    /// open files, so no port.
    Zombie { parent: u32 },
    /// A kernel thread (Linux): no program, no sockets of its own, and it
    /// ignores signals.
    KernelThread,
    /// No such process (or this OS would not say).
    Gone,
}

/// Which signal went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The polite one (SIGTERM).
    Polite,
    /// Killed at once (SIGKILL; TerminateProcess on Windows, which has no
    /// polite signal for another process).
    Killed,
}

/// Why no signal was sent.
#[derive(Debug)]
pub enum SignalError {
    /// The process had exited (or is a zombie).
    Gone,
    /// The pid belongs to another process now (a different start stamp).
    Reused,
    /// The OS refused or failed (permission denied, ...).
    Io(std::io::Error),
}

/// Handles (a Linux pidfd, a Windows process handle) opened when a stop is
/// planned and kept until it is carried out, keyed by pid and start stamp:
/// a handle means one process for its whole life, so a signal sent through
/// it can never reach a later process that got the same pid, even one that
/// started within the same clock tick.
///
/// At most [`Pins::CAP`] are kept (the oldest plans lose theirs and fall
/// back to the start-stamp check). An existing entry is never replaced: if
/// two processes ever shared a pid and a stamp, the older plan's handle
/// stays, and the signal through it fails safely ("already exited").
pub struct Pins<T> {
    entries: std::sync::Mutex<std::collections::VecDeque<(u32, u64, T)>>,
}

impl<T> Pins<T> {
    pub const CAP: usize = 64;

    pub const fn new() -> Pins<T> {
        Pins {
            entries: std::sync::Mutex::new(std::collections::VecDeque::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(u32, u64, T)>> {
        // A panic elsewhere while holding the lock leaves a usable list.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep `handle` for the process `pid` that started at `start`.
    pub fn pin(&self, pid: u32, start: u64, handle: T) {
        let mut e = self.lock();
        if e.iter().any(|(p, s, _)| *p == pid && *s == start) {
            return;
        }
        if e.len() >= Self::CAP {
            e.pop_front();
        }
        e.push_back((pid, start, handle));
    }

    /// Take the handle kept for `pid` / `start`, if any.
    pub fn take(&self, pid: u32, start: u64) -> Option<T> {
        let mut e = self.lock();
        let i = e.iter().position(|(p, s, _)| *p == pid && *s == start)?;
        e.remove(i).map(|(_, _, h)| h)
    }
}

impl<T> Default for Pins<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_keep_the_first_handle_and_stay_bounded() {
        let pins = Pins::new();
        pins.pin(7, 100, "first");
        pins.pin(7, 100, "second");
        assert_eq!(pins.take(7, 100), Some("first"));
        assert_eq!(pins.take(7, 100), None);
        for i in 0..(Pins::<u32>::CAP as u32 + 5) {
            pins.pin(i, 1, "x");
        }
        assert_eq!(pins.take(0, 1), None, "the oldest was dropped");
        assert_eq!(pins.take(Pins::<u32>::CAP as u32 + 4, 1), Some("x"));
    }
}
