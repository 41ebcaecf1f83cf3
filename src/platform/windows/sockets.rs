//! windows: enumerate sockets with GetExtendedTcpTable /
//! GetExtendedUdpTable (through netstat2), which report each socket's
//! owning pid; TIME_WAIT rows carry pid 0 (System Idle). Windows reports no
//! time left for TIME_WAIT sockets, so none is shown.

use crate::platform::rows::table_row;
use crate::sockets::raw::{RawSocket, Unattributed};

/// Every TCP and UDP socket, IPv4 and IPv6, in every state. `meanwhile`
/// runs first (there is nothing to overlap with here).
pub fn dump(each: &mut dyn FnMut(RawSocket), meanwhile: &mut dyn FnMut()) -> Result<(), String> {
    meanwhile();
    super::netstat::rows()
        .map_err(|e| format!("cannot read the socket tables: {e}"))?
        .into_iter()
        .map(table_row)
        .for_each(each);
    Ok(())
}

/// Why sockets were listed with pid 0 outside TIME_WAIT.
pub fn unattributed_reason(u: &Unattributed) -> String {
    let mut why = format!(
        "{} {} listed by Windows with no owning process (pid 0)",
        u.count,
        if u.count == 1 {
            "socket was"
        } else {
            "sockets were"
        }
    );
    if !u.privileged {
        why.push_str(
            ": Windows names the owners of other users' and services' sockets only to an \
             elevated portwise (Run as administrator)",
        );
    } else {
        why.push_str(
            ": the socket table gave no pid for them (Wine, for one, never reports owners)",
        );
    }
    why
}
