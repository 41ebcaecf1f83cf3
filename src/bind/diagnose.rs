//! From a failed bind to its cause, in plain words, with next steps.
//!
//! Pure: everything comes in as arguments (the request, the probe's error, a
//! snapshot, the system facts), gathered once in a [`Case`], so every branch
//! is tested with constructed snapshots. One file per error class:
//! [`addr_in_use`] (EADDRINUSE), [`access_denied`] (EACCES / WSAEACCES),
//! [`not_permitted`] (EPERM), [`addr_not_available`] (EADDRNOTAVAIL) and
//! [`other`]; this file holds what they share. Primary sources are cited
//! where each fact is used.

use std::net::{IpAddr, SocketAddr};

use super::facts::{OsKind, SystemFacts};
use super::{BindRequest, Cause, Diagnosis, ErrorClass, Fix, FixAction, HiddenOwner, ProbeFailure};
use crate::ports::range::{any_contains, normalize};
use crate::ports::{PortRange, PrivilegedPorts};
use crate::sockets::{
    Holder, Proto, Snapshot, SocketEntry, TcpState, TimeWaitInfo, holders_on, time_wait_on,
};

mod access_denied;
mod addr_in_use;
mod addr_not_available;
mod not_permitted;
mod orphan;
mod other;

/// How a socket already on the port stands to the requested address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Relation {
    /// The very same address.
    Same,
    /// It holds the wildcard of our family, which covers our address.
    Wildcard,
    /// We asked for the wildcard; it holds one specific address.
    OtherAddr,
    /// Across families through a dual-stack `[::]` socket (its or ours).
    DualStack,
}

fn relation(req_addr: IpAddr, req_v6only: bool, held: IpAddr) -> Option<Relation> {
    let (r, h) = (req_addr.to_canonical(), held.to_canonical());
    match (r, h) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            if r == h {
                Some(Relation::Same)
            } else if h.is_unspecified() {
                Some(Relation::Wildcard)
            } else if r.is_unspecified() {
                Some(Relation::OtherAddr)
            } else {
                None
            }
        }
        // Theirs: `[::]` is dual-stack unless it set IPV6_V6ONLY, which the
        // socket table does not show, so it counts.
        (IpAddr::V4(_), IpAddr::V6(_)) => h.is_unspecified().then_some(Relation::DualStack),
        // Ours: a dual-stack `[::]` also needs the IPv4 port.
        (IpAddr::V6(_), IpAddr::V4(_)) => {
            (r.is_unspecified() && !req_v6only).then_some(Relation::DualStack)
        }
    }
}

/// The sockets on the port that stand in the way, by kind.
struct Found<'a> {
    listeners: Vec<(Relation, &'a SocketEntry)>,
    connections: Vec<(Relation, &'a SocketEntry)>,
    time_waits: Vec<&'a SocketEntry>,
    /// Closing connections no process holds any more (FIN_WAIT_1,
    /// FIN_WAIT_2, CLOSING, LAST_ACK with no descriptor): the kernel's.
    orphans: Vec<&'a SocketEntry>,
}

/// True for a connection its program has closed (or exited) while the
/// kernel still finishes it: no process holds it, like TIME_WAIT.
pub(crate) fn is_orphaned_close(s: &SocketEntry) -> bool {
    s.orphan
        && matches!(
            s.state,
            Some(TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing | TcpState::LastAck)
        )
}

fn find<'a>(req: &BindRequest, v6only: bool, snap: &'a Snapshot) -> Found<'a> {
    let mut f = Found {
        listeners: Vec::new(),
        connections: Vec::new(),
        time_waits: Vec::new(),
        orphans: Vec::new(),
    };
    for s in &snap.sockets {
        if s.proto != req.proto || s.local_port != req.port {
            continue;
        }
        let Some(rel) = relation(req.addr, v6only, s.local_addr) else {
            continue;
        };
        if s.is_kernel_owned() {
            f.time_waits.push(s);
        } else if is_orphaned_close(s) {
            f.orphans.push(s);
        } else if s.is_listening() {
            f.listeners.push((rel, s));
        } else {
            f.connections.push((rel, s));
        }
    }
    // Closest first: same address, then wildcard, then other, then dual-stack.
    f.listeners.sort_by_key(|(r, s)| (*r, s.sort_key()));
    f.connections.sort_by_key(|(r, s)| (*r, s.sort_key()));
    f
}

fn sock(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// "python3 (pid 4242)", several joined, or a hidden owner with its uid
/// (sock_diag reports `idiag_uid` for every socket, hidden owner or not).
fn who(s: &SocketEntry, f: &SystemFacts) -> String {
    if s.processes.is_empty() {
        if s.orphan {
            return "no process (the kernel finishes this closed connection)".into();
        }
        // Elevated, "this user cannot see" would read as a permission
        // problem that elevation solves: it is not one.
        let unseen = if f.elevated {
            "even this elevated run cannot see"
        } else {
            "this user cannot see"
        };
        return match s.uid {
            Some(uid) => format!("a process of {} that {unseen}", f.user_text(uid)),
            None => format!("a process {unseen}"),
        };
    }
    s.processes
        .iter()
        .map(|p| format!("{} (pid {})", p.name, p.pid))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `portwise bind-test` command that makes the same request.
pub fn bind_test_command(req: &BindRequest) -> String {
    retest(req, "")
}

/// `portwise bind-test` with the same request, plus `extra` flags.
fn retest(req: &BindRequest, extra: &str) -> String {
    let mut c = format!("portwise bind-test {}", req.port);
    if req.addr != IpAddr::from([0, 0, 0, 0]) {
        c.push_str(&format!(" --addr {}", req.addr));
    }
    if req.proto == Proto::Udp {
        c.push_str(" --proto udp");
    }
    for (on, flag) in [
        (req.reuseaddr, " --reuseaddr"),
        (req.reuseport, " --reuseport"),
        (req.v6only, " --v6only"),
    ] {
        if on && !extra.contains(flag.trim()) {
            c.push_str(flag);
        }
    }
    c.push_str(extra);
    c
}

fn elevated(os: OsKind, cmd: &str) -> String {
    format!("{}{cmd}", os.elevate_prefix().unwrap_or(""))
}

fn fix_pick_other() -> Fix {
    Fix::new(
        "Use another port: this prints one that is free now, outside the ephemeral range",
        Some("portwise free".into()),
    )
    .acting(FixAction::GrabFreePort)
    .in_window(
        "Use another port: Free port grabs one that is free now, outside the ephemeral range",
    )
}

/// How to stop each holder, with the cases where stopping the process does
/// not free the port.
fn fixes_stop(holders: &[Holder], req: &BindRequest, f: &SystemFacts) -> Vec<Fix> {
    let mut out = Vec::new();
    for h in holders {
        match h.name.as_str() {
            // Docker's userland proxy publishes a container's port
            // (docs.docker.com "Packet filtering and firewalls", docker-proxy
            // for published ports); the container still publishes it, and
            // `docker stop` / `docker compose down` is the clean way to free
            // it. `docker ps --filter publish=`: docs.docker.com/reference/
            // cli/docker/container/ls/#publish-and-expose
            "docker-proxy" => out.push(Fix::new(
                format!(
                    "{} (pid {}) publishes port {} for a Docker container, which still \
                     publishes it: stop the container (`docker stop`, or `docker compose down` \
                     for a Compose project) rather than the proxy",
                    h.name, h.pid, req.port
                ),
                Some(format!(
                    "docker stop $(docker ps -q --filter publish={})",
                    req.port
                )),
            )),
            "systemd" => {
                let text = format!(
                    "systemd (pid {}) holds port {} for a socket-activated service: stopping the \
                     service does not free it; stop the .socket unit",
                    h.pid, req.port
                );
                let cmd = match f.socket_units.as_slice() {
                    [] => format!(
                        "systemctl list-sockets --all --no-legend | grep ':{} '",
                        req.port
                    ),
                    units => elevated(f.os, &format!("systemctl stop {}", units.join(" "))),
                };
                out.push(Fix::new(text, Some(cmd)));
            }
            _ => out.push(
                Fix::new(
                    format!("Stop {} (pid {}) if you no longer need it", h.name, h.pid),
                    Some(format!("portwise stop --pid {}", h.pid)),
                )
                .acting(FixAction::StopProcess { pid: h.pid }),
            ),
        }
    }
    out
}

/// How to see a hidden owner: run elevated; or, when this already runs
/// elevated, why even that does not show it (never "use sudo" to root).
fn fix_hidden(req: &BindRequest, f: &SystemFacts) -> Fix {
    let os = f.os;
    let cmd = retest(req, "");
    if f.elevated {
        return Fix::new(
            "The owner is hidden even from this elevated run: it may live in another PID \
             namespace (a container) or have exited just now. See every socket on the port",
            Some(format!("portwise list --all --port {}", req.port)),
        )
        .acting(FixAction::ShowPort);
    }
    match os {
        OsKind::Windows => Fix::new(
            "The owner is hidden from this user: run this from an Administrator terminal to see it",
            Some(cmd),
        )
        .in_window(
            "The owner is hidden from this user: start portwise as Administrator to see it, or \
             run this in an Administrator terminal",
        ),
        _ => Fix::new(
            "The owner is hidden from this user: run it elevated to see it",
            Some(elevated(os, &cmd)),
        )
        .in_window(
            "The owner is hidden from this user: start portwise elevated to see it, or run \
             this in a terminal",
        ),
    }
}

fn secs_ceil(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

fn ranges_text(rs: &[PortRange]) -> String {
    rs.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Explains a failed bind.
pub fn diagnose(
    req: &BindRequest,
    failure: &ProbeFailure,
    snap: &Snapshot,
    facts: &SystemFacts,
) -> Diagnosis {
    let v6only = req.v6only || failure.v6only == Some(true);
    let not_local = failure.error.class == ErrorClass::AddrNotAvailable;
    let case = Case {
        req,
        failure,
        snap,
        facts,
        found: find(req, v6only, snap),
        // EADDRNOTAVAIL is about the address alone: what holds the port on
        // other addresses has nothing to do with it.
        holders: if req.port == 0 || not_local {
            Vec::new()
        } else {
            holders_on(snap, req.port, Some(req.proto))
        },
        time_wait: if req.port == 0 || req.proto == Proto::Udp || not_local {
            None
        } else {
            time_wait_on(snap, req.port)
        },
    };
    let (cause, explanation, fixes) = match failure.error.class {
        ErrorClass::AddrInUse => addr_in_use::diagnose(&case),
        ErrorClass::AccessDenied => access_denied::diagnose(&case),
        ErrorClass::NotPermitted => not_permitted::diagnose(&case),
        ErrorClass::AddrNotAvailable => addr_not_available::diagnose(&case),
        ErrorClass::Other => other::diagnose(&case),
    };
    let hidden_owners = if not_local {
        Vec::new()
    } else {
        hidden_owners(&case)
    };
    Diagnosis {
        cause,
        explanation,
        holders: case.holders,
        hidden_owners,
        time_wait: case.time_wait,
        fixes,
    }
}

/// The users of the sockets on the port whose owning process this user
/// cannot see (orphans and TIME_WAIT excluded: no process owns those).
fn hidden_owners(c: &Case<'_>) -> Vec<HiddenOwner> {
    let mut out: Vec<HiddenOwner> = Vec::new();
    let mut seen = |s: &SocketEntry| {
        if !s.processes.is_empty() || s.orphan {
            return;
        }
        let Some(uid) = s.uid else { return };
        match out.iter_mut().find(|h| h.uid == uid) {
            Some(h) => h.sockets += 1,
            None => out.push(HiddenOwner {
                uid,
                user: c.facts.user_name(uid).map(str::to_string),
                sockets: 1,
            }),
        }
    };
    for (_, s) in c.found.listeners.iter().chain(&c.found.connections) {
        seen(s);
    }
    out.sort_by_key(|h| h.uid);
    out
}

/// Everything one diagnosis looks at, gathered once: what was asked, how it
/// failed, the snapshot and system facts, and what stands on the port. Every
/// cause function takes this one value.
struct Case<'a> {
    req: &'a BindRequest,
    failure: &'a ProbeFailure,
    snap: &'a Snapshot,
    facts: &'a SystemFacts,
    found: Found<'a>,
    /// Processes with non-TIME_WAIT sockets on the port (none for port 0).
    holders: Vec<Holder>,
    /// The port's TCP TIME_WAIT sockets (none for port 0 or UDP).
    time_wait: Option<TimeWaitInfo>,
}

type Parts = (Cause, String, Vec<Fix>);

#[cfg(test)]
mod tests;
