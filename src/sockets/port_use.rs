//! How a port is used in one snapshot: who holds it, how many of its
//! sockets hide their owner, and its TIME_WAIT sockets. The queries the bind
//! diagnosis, `stop` and the window share, next to [`Snapshot::on_port`].

use serde::Serialize;

use super::{Proto, Snapshot, SocketEntry};

/// A process with a socket on the port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Holder {
    pub pid: u32,
    pub name: String,
    pub user: Option<String>,
}

/// The TIME_WAIT sockets on the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimeWaitInfo {
    pub count: usize,
    /// Where the OS reports it (Linux); `None` elsewhere, never invented.
    pub longest_remaining_ms: Option<u64>,
}

/// The sockets with local port `port` (of `proto`, or of either protocol
/// when `None`), by binary search ([`Snapshot::on_port`]: `snap` must be in
/// [`Snapshot::sort`] order, as every source and the sampler leave it).
pub fn on_port_any(
    snap: &Snapshot,
    port: u16,
    proto: Option<Proto>,
) -> impl Iterator<Item = &SocketEntry> {
    [Proto::Tcp, Proto::Udp]
        .into_iter()
        .filter(move |p| proto.is_none_or(|want| want == *p))
        .flat_map(move |p| snap.on_port(p, port))
}

/// The processes with non-TIME_WAIT sockets on `port` (of `proto`, or of
/// either protocol when `None`), sorted by pid, without duplicates.
pub fn holders_on(snap: &Snapshot, port: u16, proto: Option<Proto>) -> Vec<Holder> {
    let mut out: Vec<Holder> = on_port_any(snap, port, proto)
        .filter(|s| !s.is_kernel_owned())
        .flat_map(|s| s.processes.iter())
        .map(|p| Holder {
            pid: p.pid,
            name: p.name.clone(),
            user: p.user.clone(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The TCP TIME_WAIT sockets with local port `port`; `None` when there are
/// none.
pub fn time_wait_on(snap: &Snapshot, port: u16) -> Option<TimeWaitInfo> {
    let tw: Vec<&SocketEntry> = snap
        .on_port(Proto::Tcp, port)
        .iter()
        .filter(|s| s.is_kernel_owned())
        .collect();
    (!tw.is_empty()).then(|| TimeWaitInfo {
        count: tw.len(),
        longest_remaining_ms: tw.iter().filter_map(|s| s.time_wait_expires_in_ms).max(),
    })
}

/// How a port is used in one snapshot: what the window shows beside a port
/// it picked or tested ("still free", "now held by NAME (pid)").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortUse {
    /// Processes with non-TIME_WAIT sockets on the port ([`holders_on`]).
    pub holders: Vec<Holder>,
    /// Non-TIME_WAIT sockets on the port whose owner this user cannot see.
    pub hidden: usize,
    /// Its TCP TIME_WAIT sockets ([`time_wait_on`]).
    pub time_wait: Option<TimeWaitInfo>,
}

impl PortUse {
    /// True when the snapshot shows no socket at all on the port.
    pub fn is_free(&self) -> bool {
        self.holders.is_empty() && self.hidden == 0 && self.time_wait.is_none()
    }
}

/// How `port` (of `proto`, or of either protocol when `None`) is used in
/// `snap`.
pub fn port_use(snap: &Snapshot, port: u16, proto: Option<Proto>) -> PortUse {
    let hidden = on_port_any(snap, port, proto)
        .filter(|s| !s.is_kernel_owned() && s.processes.is_empty())
        .count();
    let time_wait = if proto.is_none_or(|p| p == Proto::Tcp) {
        time_wait_on(snap, port)
    } else {
        None
    };
    PortUse {
        holders: holders_on(snap, port, proto),
        hidden,
        time_wait,
    }
}
