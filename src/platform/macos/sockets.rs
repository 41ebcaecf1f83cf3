//! macos: enumerate sockets with netstat2, which walks every process's
//! descriptors (proc_pidinfo / proc_pidfdinfo).
//!
//! Two limits follow from that, and the engine states them rather than hide
//! them: a socket no process holds (TIME_WAIT) is not listed at all, and
//! without root the sockets of other users' processes are not listed. macOS
//! reports no time left for TIME_WAIT, so none is shown.

use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed, merge_same_socket};

/// Every TCP and UDP socket some visible process holds, IPv4 and IPv6.
///
/// `meanwhile` runs first, on this thread (the same contract as on Linux).
/// `_bound_only` is Linux's choice (bound-only TCP sockets cost it a
/// table walk); this OS lists what it lists.
pub fn dump(
    each: &mut dyn FnMut(RawSocket),
    meanwhile: &mut dyn FnMut(),
    _bound_only: bool,
) -> Result<(), String> {
    meanwhile();
    let raw = crate::platform::netstat::sockets(|_| true)
        .map_err(|e| format!("cannot read the socket list: {e}"))?;
    // One row per (process, descriptor): a socket shared after fork() shows
    // up once per holder.
    merge_same_socket(raw).into_iter().for_each(each);
    Ok(())
}

/// About how many sockets the dump will list; this OS has no cheap count.
pub fn count_hint() -> Option<usize> {
    None
}

/// macOS lists owners with each socket: there are no inodes to resolve.
pub fn scan_owners(
    _query: &crate::sockets::owners::OwnerQuery<'_>,
    _memory: &mut crate::sockets::owners::FdMemory,
) -> OwnerScan {
    OwnerScan::default()
}

/// Sockets are found through their processes here, so none is listed
/// without an owner; kept for the same API on every OS.
pub fn unattributed_reason(u: &Unattributed) -> String {
    format!("{} sockets were listed without an owning process", u.count)
}

/// What this OS's socket list leaves out: sockets are found through the
/// processes that hold them, so TIME_WAIT sockets (held by no process) are
/// never listed, and without root neither are other users' sockets.
pub fn coverage_note(privileged: bool) -> Option<String> {
    let mut note = String::from(
        "macOS: sockets are found through the processes holding them, so TIME_WAIT \
         sockets (no process holds them) are not listed",
    );
    if !privileged {
        note.push_str(
            "; without root, other users' sockets are not listed either: run with sudo to see them",
        );
    }
    Some(note)
}
