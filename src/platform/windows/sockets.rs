//! windows: enumerate sockets with netstat2 (GetExtendedTcpTable /
//! GetExtendedUdpTable), which reports each socket's owning pid.
//!
//! Windows reports no time left for TIME_WAIT sockets, so none is shown.

use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed};

/// Every TCP and UDP socket, IPv4 and IPv6, in every state.
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
    // PID 0 is "System Idle": the kernel, not a process (TIME_WAIT).
    crate::platform::netstat::sockets(|pid| pid != 0)
        .map_err(|e| format!("cannot read the socket tables: {e}"))?
        .into_iter()
        .for_each(each);
    Ok(())
}

/// About how many sockets the dump will list; this OS has no cheap count.
pub fn count_hint() -> Option<usize> {
    None
}

/// Windows lists owners with each socket: there are no inodes to resolve.
pub fn scan_owners(
    _query: &crate::sockets::owners::OwnerQuery<'_>,
    _memory: &mut crate::sockets::owners::FdMemory,
) -> OwnerScan {
    OwnerScan::default()
}

/// Windows lists an owning pid for every socket but TIME_WAIT, so there are
/// no unattributed sockets to explain; kept for the same API on every OS.
pub fn unattributed_reason(u: &Unattributed) -> String {
    format!(
        "{} sockets were listed without an owning process by Windows",
        u.count
    )
}

/// What this OS's socket list leaves out, if anything. Windows lists every
/// socket with its owning pid; TIME_WAIT sockets come without a time left.
pub fn coverage_note(_privileged: bool) -> Option<String> {
    None
}
