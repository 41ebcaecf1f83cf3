//! Builders of sockets, snapshots and port facts for tests: the unit
//! tests, the integration tests (tests/) and the benchmarks build their
//! fixtures here, in one place, instead of repeating struct literals.
//! Nothing here touches the system.

use std::net::{IpAddr, SocketAddr};

use crate::ports::{PortFacts, PortRange};
use crate::sockets::{OwnerRef, ProcessInfo, Proto, Snapshot, SocketEntry, TcpState};
use crate::stop::{StopOutcome, StopReport, StopTarget};

/// An address literal; panics on a typo (fixtures are written by hand).
pub fn ip(s: &str) -> IpAddr {
    match s.parse() {
        Ok(a) => a,
        Err(e) => panic!("fixture address {s:?}: {e}"),
    }
}

/// A socket with no owner.
pub fn entry(proto: Proto, addr: &str, port: u16, state: Option<TcpState>) -> SocketEntry {
    SocketEntry::new(proto, SocketAddr::new(ip(addr), port), None, state)
}

/// A process run by "alice" from /usr/bin/`name`.
pub fn process(pid: u32, name: &str) -> ProcessInfo {
    ProcessInfo {
        pid,
        name: name.into(),
        user: Some("alice".into()),
        exe: Some(format!("/usr/bin/{name}")),
        cmdline: None,
    }
}

/// A socket on 127.0.0.1:`port` (inode `port`), its owner (if any) seen
/// without user or path, as an OS that hides them reports it.
pub fn bare(
    proto: Proto,
    port: u16,
    state: Option<TcpState>,
    owner: Option<(u32, &str)>,
) -> SocketEntry {
    let mut e = entry(proto, "127.0.0.1", port, state);
    if let Some((pid, name)) = owner {
        e.processes = vec![ProcessInfo {
            pid,
            name: name.into(),
            user: None,
            exe: None,
            cmdline: None,
        }];
    }
    e.inode = u64::from(port);
    e
}

/// A TCP listener held by `name` (`pid`).
pub fn listener(addr: &str, port: u16, pid: u32, name: &str) -> SocketEntry {
    let mut e = entry(Proto::Tcp, addr, port, Some(TcpState::Listen));
    e.processes = vec![process(pid, name)];
    e.inode = 10_000 + u64::from(port);
    e
}

/// A UDP socket held by `name` (`pid`).
pub fn udp(addr: &str, port: u16, pid: u32, name: &str) -> SocketEntry {
    let mut e = entry(Proto::Udp, addr, port, None);
    e.processes = vec![process(pid, name)];
    e.inode = 20_000 + u64::from(port);
    e
}

/// A TIME_WAIT socket on 127.0.0.1:`port` from 127.0.0.1:`remote_port`,
/// `left_ms` from freeing, last owned by `was` when the engine saw it.
pub fn time_wait(
    port: u16,
    remote_port: u16,
    left_ms: u64,
    was: Option<(u32, &str)>,
) -> SocketEntry {
    let mut e = entry(Proto::Tcp, "127.0.0.1", port, Some(TcpState::TimeWait));
    e.remote_addr = Some(ip("127.0.0.1"));
    e.remote_port = Some(remote_port);
    e.time_wait_expires_in_ms = Some(left_ms);
    e.last_known_owner = was.map(|(pid, name)| OwnerRef {
        pid,
        name: name.into(),
    });
    e
}

/// A snapshot taken at `taken` (Unix ms) of `sockets`, in
/// [`Snapshot::sort`] order as the sampler delivers it.
pub fn snapshot(taken: u64, sockets: Vec<SocketEntry>) -> Snapshot {
    let mut s = Snapshot {
        taken_at_unix_ms: taken,
        sockets,
        ..Snapshot::default()
    };
    s.sort();
    s
}

/// Port facts with Linux's default ephemeral range (32768-60999), read,
/// nothing reserved or excluded.
pub fn port_facts() -> PortFacts {
    PortFacts {
        ephemeral: PortRange::new(32768, 60999).into_iter().collect(),
        ephemeral_read: true,
        reserved: vec![],
        excluded: vec![],
        privileged: None,
        ipv6: false,
    }
}

/// A process the stop engine would stop: `name` (`pid`), run by "alice"
/// as `name` with no arguments, found holding `port`; no caveat, no
/// refusal. Set the other fields with struct update syntax.
pub fn stop_target(pid: u32, name: &str, port: u16) -> StopTarget {
    StopTarget {
        pid,
        name: name.into(),
        user: Some("alice".into()),
        cmdline: name.into(),
        start_time: 1,
        caveats: vec![],
        port: Some(port),
        refusal: None,
    }
}

/// The report of stopping `t`: `outcome`, said in `message`.
pub fn stop_report(t: &StopTarget, outcome: StopOutcome, message: &str) -> StopReport {
    StopReport {
        pid: t.pid,
        name: t.name.clone(),
        outcome,
        message: message.into(),
        elapsed_ms: 0,
        port_freed: None,
    }
}
