//! From a failed bind to its cause, in plain words, with next steps.
//!
//! Pure: everything comes in as arguments (the request, the probe's error, a
//! snapshot, the system facts), so every branch is tested with constructed
//! snapshots. The facts behind the words are in
//! ../shared/knowledge/ports-and-time-wait.md ("Bind errors and what they
//! usually mean", the SO_REUSEADDR row, "What actually frees a server's port
//! faster"); anything beyond it is cited where it is used.

use std::net::{IpAddr, SocketAddr};

use super::facts::{OsKind, SystemFacts};
use super::{BindRequest, Cause, Diagnosis, ErrorClass, Fix, Holder, ProbeFailure, TimeWaitInfo};
use crate::ports::range::{any_contains, normalize};
use crate::ports::{PortRange, PrivilegedPorts};
use crate::sockets::{Proto, Snapshot, SocketEntry};
use crate::tuning::plan::{widened_linux_range, widened_start};

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

/// The sockets with local port `port` (of `proto`, or of either protocol
/// when `None`), by binary search ([`Snapshot::on_port`]: `snap` must be in
/// [`Snapshot::sort`] order, as every source and the sampler leave it).
fn on_port(snap: &Snapshot, port: u16, proto: Option<Proto>) -> impl Iterator<Item = &SocketEntry> {
    [Proto::Tcp, Proto::Udp]
        .into_iter()
        .filter(move |p| proto.is_none_or(|want| want == *p))
        .flat_map(move |p| snap.on_port(p, port))
}

/// The processes with non-TIME_WAIT sockets on `port` (of `proto`, or of
/// either protocol when `None`), sorted by pid, without duplicates.
pub fn holders_on(snap: &Snapshot, port: u16, proto: Option<Proto>) -> Vec<Holder> {
    let mut out: Vec<Holder> = on_port(snap, port, proto)
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
    let hidden = on_port(snap, port, proto)
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

/// The sockets on the port that stand in the way, by kind.
struct Found<'a> {
    listeners: Vec<(Relation, &'a SocketEntry)>,
    connections: Vec<(Relation, &'a SocketEntry)>,
    time_waits: Vec<&'a SocketEntry>,
}

fn find<'a>(req: &BindRequest, v6only: bool, snap: &'a Snapshot) -> Found<'a> {
    let mut f = Found {
        listeners: Vec::new(),
        connections: Vec::new(),
        time_waits: Vec::new(),
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

/// "python3 (pid 4242)", several joined, or a hidden owner.
fn who(s: &SocketEntry) -> String {
    if s.processes.is_empty() {
        return "a process this user cannot see".into();
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
            _ => out.push(Fix::new(
                format!("Stop {} (pid {}) if you no longer need it", h.name, h.pid),
                Some(format!("portwise stop --pid {}", h.pid)),
            )),
        }
    }
    out
}

fn fix_hidden(req: &BindRequest, os: OsKind) -> Fix {
    let cmd = retest(req, "");
    match os {
        OsKind::Windows => Fix::new(
            "The owner is hidden from this user: run this from an Administrator terminal to see it",
            Some(cmd),
        ),
        _ => Fix::new(
            "The owner is hidden from this user: run it elevated to see it",
            Some(elevated(os, &cmd)),
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
    let found = find(req, v6only, snap);
    let holders = if req.port == 0 {
        Vec::new()
    } else {
        holders_on(snap, req.port, Some(req.proto))
    };
    let time_wait = if req.port == 0 || req.proto == Proto::Udp {
        None
    } else {
        time_wait_on(snap, req.port)
    };
    let (cause, explanation, fixes) = match failure.error.class {
        ErrorClass::AddrInUse => in_use(req, &found, &holders, time_wait, snap, facts),
        ErrorClass::AccessDenied => access_denied(req, failure, &found, &holders, facts),
        ErrorClass::NotPermitted => not_permitted(req, failure, facts),
        ErrorClass::AddrNotAvailable => address_not_local(req, facts),
        ErrorClass::Other => unknown(req, failure, facts),
    };
    Diagnosis {
        cause,
        explanation,
        holders,
        time_wait,
        fixes,
    }
}

type Parts = (Cause, String, Vec<Fix>);

fn in_use(
    req: &BindRequest,
    found: &Found<'_>,
    holders: &[Holder],
    time_wait: Option<TimeWaitInfo>,
    snap: &Snapshot,
    f: &SystemFacts,
) -> Parts {
    let p = req.port;
    if p == 0 {
        return exhausted(req, snap, f);
    }
    let direct: Vec<&(Relation, &SocketEntry)> = found
        .listeners
        .iter()
        .filter(|(r, _)| *r != Relation::DualStack)
        .collect();
    if let Some((rel, s)) = direct.first() {
        let bound = if req.proto == Proto::Udp {
            "has a UDP socket bound to"
        } else {
            "listens on"
        };
        let mut text = match rel {
            Relation::Same => format!("{} already {bound} {}.", who(s), sock(s.local_addr, p)),
            Relation::Wildcard => format!(
                "{} {bound} {}, the wildcard address, which covers every {} address including {}.",
                who(s),
                sock(s.local_addr, p),
                if s.local_addr.is_ipv4() {
                    "IPv4"
                } else {
                    "IPv6"
                },
                req.addr
            ),
            _ => format!(
                "{} {bound} {}; binding the wildcard {} needs port {p} free on every address.",
                who(s),
                sock(s.local_addr, p),
                req.addr
            ),
        };
        if direct.len() > 1 {
            text.push_str(&format!(" {} sockets in all hold the port.", direct.len()));
        }
        if f.os == OsKind::Linux && req.proto == Proto::Tcp {
            text.push_str(" SO_REUSEADDR does not help next to an active listener.");
        }
        let mut fixes = fixes_stop(holders, req, f);
        if direct.iter().any(|(_, s)| s.processes.is_empty()) {
            fixes.push(fix_hidden(req, f.os));
        }
        fixes.push(Fix::new(
            "Or wait until it lets go: this retries for up to 60 s",
            Some(retest(req, " --wait 60")),
        ));
        fixes.push(fix_pick_other());
        return (Cause::Listener, text, fixes);
    }
    if let Some((_, s)) = found.listeners.first() {
        return dual_stack(req, s, holders, f);
    }
    if let Some((_, s)) = found.connections.first() {
        return connection(req, s, holders, f);
    }
    if !found.time_waits.is_empty() {
        return time_wait_cause(req, &found.time_waits, time_wait, f);
    }
    let mut text = format!(
        "The OS says {} is in use, but the socket table shows nothing on port {p} that explains \
         it. The holder may have closed just now, or it lives in another network namespace (a \
         container) that this snapshot cannot see.",
        sock(req.addr, p)
    );
    if snap.unattributed > 0 {
        text.push_str(&format!(
            " {} sockets on this machine have owners hidden from this user.",
            snap.unattributed
        ));
    }
    let fixes = vec![
        Fix::new("Try again", Some(retest(req, ""))),
        Fix::new(
            format!("See every socket on port {p}"),
            Some(format!("portwise list --all --port {p}")),
        ),
        fix_pick_other(),
    ];
    (Cause::Unknown, text, fixes)
}

fn dual_stack(req: &BindRequest, s: &SocketEntry, holders: &[Holder], f: &SystemFacts) -> Parts {
    let p = req.port;
    let mut fixes = fixes_stop(holders, req, f);
    let text = if req.addr.is_ipv4() {
        let mut t = format!(
            "{} listens on {}. An IPv6 wildcard socket is dual-stack unless it sets IPV6_V6ONLY, \
             and then it holds IPv4 port {p} as well.",
            who(s),
            sock(s.local_addr, p)
        );
        if f.os == OsKind::Windows {
            t.push_str(" (IPv6 sockets are v6-only by default on Windows, so it turned that off.)");
        }
        fixes.push(Fix::new(
            "Or make that program's [::] socket IPv6-only (set IPV6_V6ONLY before bind), so \
             IPv4 stays free",
            None,
        ));
        t
    } else {
        fixes.insert(
            0,
            Fix::new(
                "Bind IPv6 only: set IPV6_V6ONLY on your [::] socket",
                Some(retest(req, " --v6only")),
            ),
        );
        format!(
            "Your [::] socket is dual-stack (IPV6_V6ONLY is off), so it also needs IPv4 port \
             {p}, and {} holds {}.",
            who(s),
            sock(s.local_addr, p)
        )
    };
    if s.processes.is_empty() {
        fixes.push(fix_hidden(req, f.os));
    }
    fixes.push(fix_pick_other());
    (Cause::DualStackConflict, text, fixes)
}

fn connection(req: &BindRequest, s: &SocketEntry, holders: &[Holder], f: &SystemFacts) -> Parts {
    let p = req.port;
    let peer = match (s.remote_addr, s.remote_port) {
        (Some(a), Some(rp)) => format!(" -> {}", sock(a, rp)),
        _ => String::new(),
    };
    let state = s.state.map(|st| format!(", {st}")).unwrap_or_default();
    let mut text = format!(
        "{} has a connection using local port {p} ({}{peer}{state}). A socket that uses a port \
         as its local port keeps it busy until it closes.",
        who(s),
        sock(s.local_addr, p)
    );
    let mut fixes = fixes_stop(holders, req, f);
    if s.processes.is_empty() {
        fixes.push(fix_hidden(req, f.os));
    }
    if any_contains(&f.ephemeral, p) {
        text.push_str(&format!(
            " Port {p} lies inside the ephemeral range ({}), from which the OS picks local ports \
             for outgoing connections, so a server on it can collide with them at any time.",
            ranges_text(&f.ephemeral)
        ));
        if let Some(fix) = fix_reserve(p, f) {
            fixes.push(fix);
        }
    }
    fixes.push(fix_pick_other());
    (Cause::InUseByConnection, text, fixes)
}

/// Keep the OS from handing `port` out automatically.
fn fix_reserve(port: u16, f: &SystemFacts) -> Option<Fix> {
    match f.os {
        OsKind::Linux => {
            // Writing the sysctl replaces the whole list: keep what is there.
            let mut list = f.reserved.clone();
            list.push(PortRange::single(port));
            let value = normalize(list)
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(",");
            Some(Fix::new(
                format!(
                    "Keep Linux from giving port {port} to outgoing connections (this sets the \
                     whole list and keeps the ports already reserved; persist it in \
                     /etc/sysctl.d/)"
                ),
                Some(format!(
                    "sudo sysctl -w net.ipv4.ip_local_reserved_ports={value}"
                )),
            ))
        }
        // netsh refuses to exclude a port that is in use ("The process cannot
        // access the file because it is being used by another process"):
        // learn.microsoft.com, azure-sql/virtual-machines/windows/
        // hadr-cluster-best-practices ("configure the port exclusion when the
        // port is not in use").
        OsKind::Windows => Some(Fix::new(
            format!(
                "Reserve port {port} so Windows does not hand it out (Administrator terminal). \
                 Run it while nothing uses port {port} (before the service starts); netsh \
                 refuses a port in use"
            ),
            Some(format!(
                "netsh int ipv4 add excludedportrange protocol=tcp startport={port} numberofports=1"
            )),
        )),
        OsKind::Macos => None,
    }
}

fn time_wait_cause(
    req: &BindRequest,
    tws: &[&SocketEntry],
    info: Option<TimeWaitInfo>,
    f: &SystemFacts,
) -> Parts {
    let p = req.port;
    let n = tws.len();
    let longest = info.and_then(|i| i.longest_remaining_ms);
    let mut text = format!(
        "{n} TCP connection{} on port {p} {} in TIME_WAIT",
        if n == 1 { "" } else { "s" },
        if n == 1 { "is" } else { "are" }
    );
    match longest {
        Some(ms) => text.push_str(&format!(" (the longest has {} s left).", secs_ceil(ms))),
        None => text.push('.'),
    }
    match f.os {
        OsKind::Linux => {
            text.push_str(
                " Linux refuses a new bind() on a port with TIME_WAIT remnants unless both the old \
                 sockets and the new one set SO_REUSEADDR.",
            );
            if req.reuseaddr {
                text.push_str(" You set it on the new socket, so the old ones did not.");
            }
        }
        OsKind::Macos => text.push_str(
            " macOS refuses a new bind() on a port with TIME_WAIT remnants unless the new socket \
             sets SO_REUSEADDR.",
        ),
        // learn.microsoft.com "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE":
        // a port held with SO_EXCLUSIVEADDRUSE cannot be bound again until
        // the connections its listener accepted are gone. That other
        // TIME_WAIT remnants never block is not stated there: "usually".
        OsKind::Windows => text.push_str(
            " On Windows, TIME_WAIT remnants usually do not block a new bind; they may when the \
             old listening socket set SO_EXCLUSIVEADDRUSE, until the connections it accepted are \
             gone.",
        ),
    }
    let mut owners: Vec<String> = tws
        .iter()
        .filter_map(|s| s.last_known_owner.as_ref())
        .map(|o| format!("{} (pid {})", o.name, o.pid))
        .collect();
    owners.sort();
    owners.dedup();
    if !owners.is_empty() {
        text.push_str(&format!(
            " Before closing, they were held by {} (remembered by portwise).",
            owners.join(", ")
        ));
    }
    if f.os == OsKind::Linux {
        text.push_str(
            " (net.ipv4.tcp_tw_reuse does not help here: it only affects outgoing connect().)",
        );
    }
    let mut fixes = Vec::new();
    let check = (!req.reuseaddr).then(|| retest(req, " --reuseaddr"));
    match f.os {
        OsKind::Linux => fixes.push(Fix::new(
            "Set SO_REUSEADDR on the server socket before bind() (most frameworks do): on Linux \
             the old sockets need it too, so it works from the next restart on",
            check,
        )),
        OsKind::Macos => fixes.push(Fix::new(
            "Set SO_REUSEADDR on the server socket before bind() (most frameworks do)",
            check,
        )),
        // On Windows a restart needs no SO_REUSEADDR, and setting it makes
        // the port sharable with a first socket that also set it (same
        // Microsoft page, Enhanced Socket Security): never the advice there.
        OsKind::Windows => {}
    }
    let wait_s = match (longest, f.time_wait_ms) {
        (Some(ms), _) => secs_ceil(ms) + 1,
        (None, Some(tw)) => secs_ceil(tw),
        (None, None) => 60,
    };
    fixes.push(Fix::new(
        format!("Wait for TIME_WAIT to expire (up to {wait_s} s), retrying until it binds"),
        Some(retest(req, &format!(" --wait {wait_s}"))),
    ));
    fixes.push(fix_pick_other());
    (Cause::TimeWait, text, fixes)
}

fn exhausted(req: &BindRequest, snap: &Snapshot, f: &SystemFacts) -> Parts {
    let range = ranges_text(&f.ephemeral);
    let tw = snap.time_wait_count();
    let mut text = format!(
        "Port 0 asks the OS for a free port from its ephemeral range ({range}), and none is left: \
         every port there is taken."
    );
    if tw > 0 {
        text.push_str(&format!(" {tw} sockets on this machine are in TIME_WAIT."));
    }
    let mut fixes = vec![Fix::new(
        "See which processes hold many ports",
        Some("portwise list --all".into()),
    )];
    // The widened range comes from the tuning guide, from the current one:
    // never narrower, never below ip_unprivileged_port_start, start and end
    // of different parity (knowledge file, tunables table).
    let lo = f
        .ephemeral
        .iter()
        .map(|r| u32::from(r.lo))
        .min()
        .unwrap_or(32768);
    let hi = f
        .ephemeral
        .iter()
        .map(|r| u32::from(r.hi))
        .max()
        .unwrap_or(60999);
    let widen = |start: u32| start < lo || hi < 65535;
    let before = fixes.len();
    match f.os {
        OsKind::Linux => {
            let unpriv = f
                .privileged
                .as_ref()
                .map_or(1024, |p| u32::from(p.first_unprivileged));
            let (a, b) = widened_linux_range((lo, hi), unpriv);
            if widen(a) {
                fixes.push(Fix::new(
                    format!(
                        "Widen the ephemeral range from {lo}-{hi} to {a}-{b} (persist it in \
                         /etc/sysctl.d/)"
                    ),
                    Some(format!(
                        "sudo sysctl -w net.ipv4.ip_local_port_range=\"{a} {b}\""
                    )),
                ));
            }
        }
        OsKind::Windows => {
            // KB 929851: the dynamic range is set per IP version; an IPv6
            // bind draws from the IPv6 one.
            let start = widened_start(lo);
            if widen(start) {
                let num = 65536 - start;
                let versions: &[&str] = if req.addr.is_ipv6() {
                    &["ipv6", "ipv4"]
                } else {
                    &["ipv4"]
                };
                for v in versions {
                    fixes.push(Fix::new(
                        format!(
                            "Widen the {} dynamic port range to {start}-65535 (Administrator \
                             terminal)",
                            if *v == "ipv6" { "IPv6" } else { "IPv4" }
                        ),
                        Some(format!(
                            "netsh int {v} set dynamicport {} start={start} num={num}",
                            req.proto
                        )),
                    ));
                }
            }
        }
        OsKind::Macos => {
            let first = widened_start(lo);
            if widen(first) {
                fixes.push(Fix::new(
                    format!("Widen the ephemeral range to {first}-{hi}"),
                    Some(format!(
                        "sudo sysctl -w net.inet.ip.portrange.first={first}"
                    )),
                ));
            }
        }
    }
    if fixes.len() == before {
        text.push_str(" The range is already as wide as portwise would make it.");
    }
    fixes.push(Fix::new(
        "Or bind a fixed port outside the ephemeral range",
        Some("portwise free".into()),
    ));
    (Cause::Exhausted, text, fixes)
}

fn access_denied(
    req: &BindRequest,
    failure: &ProbeFailure,
    found: &Found<'_>,
    holders: &[Holder],
    f: &SystemFacts,
) -> Parts {
    let p = req.port;
    if let Some(pp) = &f.privileged
        && pp.applies(p, req.addr.is_unspecified())
    {
        return privileged(req, pp, f);
    }
    if let Some(r) = f.excluded.iter().find(|r| r.contains(p)) {
        return system_excluded(req, *r);
    }
    // An administered block (`*`) only keeps the port out of automatic
    // assignment; an explicit bind to it works (Microsoft KB 812873), so it
    // is not the cause: say so, then look for the real one.
    let (cause, mut text, fixes) = access_denied_other(req, failure, found, holders, f);
    if f.os == OsKind::Windows
        && let Some(r) = f.reserved.iter().find(|r| r.contains(p))
    {
        text.push_str(&format!(
            " Port {p} lies in an administered excluded range ({r}, marked * by netsh): that \
             only keeps Windows from handing the port out automatically; an explicit bind to it \
             still works, so that range is not what refused this bind."
        ));
    }
    (cause, text, fixes)
}

/// Port `p` lies in an excluded range held by a Windows component (no `*`).
fn system_excluded(req: &BindRequest, r: PortRange) -> Parts {
    let p = req.port;
    let text = format!(
        "Port {p} lies in an excluded port range ({r}) that Windows holds for a component such \
         as Hyper-V, WinNAT, WSL2 or Docker (netsh lists it without the * mark). Binds inside \
         such a range fail with WSAEACCES even though nothing listens: no program can use port \
         {p} while the range exists."
    );
    let add = format!(
        "netsh int ipv4 add excludedportrange protocol={} startport={p} numberofports=1",
        req.proto
    );
    let fixes = vec![
        Fix::new(
            "See the excluded ranges",
            Some(format!(
                "netsh int ipv4 show excludedportrange protocol={}",
                req.proto
            )),
        ),
        fix_pick_other(),
        // Restarting WinNAT releasing its blocks is widely reported, not
        // documented by Microsoft: worded as "may".
        Fix::new(
            "Or free the range: stopping WinNAT may release the ranges it holds (Administrator \
             terminal; Docker, WSL2 and Hyper-V networking pause until it starts again)",
            Some("net stop winnat".into()),
        ),
        Fix::new(
            format!(
                "Then reserve port {p} for yourself while nothing uses it (netsh refuses a port \
                 in use); an explicit bind to a port you reserved still works"
            ),
            Some(add),
        ),
        Fix::new(
            "Then start WinNAT again (Docker, WSL2 and Hyper-V networking need it)",
            Some("net start winnat".into()),
        ),
    ];
    (Cause::ExcludedRange, text, fixes)
}

/// EACCES that no excluded range explains.
fn access_denied_other(
    req: &BindRequest,
    failure: &ProbeFailure,
    found: &Found<'_>,
    holders: &[Holder],
    f: &SystemFacts,
) -> Parts {
    let p = req.port;
    if f.os == OsKind::Windows
        && let Some((_, s)) = found.listeners.first()
    {
        // learn.microsoft.com "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE",
        // Enhanced Socket Security (Server 2003 / XP SP2 and later): a bind
        // on a port in use fails with WSAEACCES when the new socket set
        // SO_REUSEADDR but the first one did not, when the first one set
        // SO_EXCLUSIVEADDRUSE, or when the first socket belongs to another
        // user account (even with no options). Elsewhere a listener does not
        // cause EACCES: fall through.
        let mut text = format!(
            "{} holds {}. On Windows a bind on a port in use fails with WSAEACCES (10013) when \
             the new socket set SO_REUSEADDR but the first one did not (sharing needs both), when \
             the first socket set SO_EXCLUSIVEADDRUSE, or when it belongs to another user \
             account, even with no options.",
            who(s),
            sock(s.local_addr, p)
        );
        if req.reuseaddr {
            text.push_str(
                " This bind set SO_REUSEADDR, so the first of these fits unless both sockets run \
                 as different users. Without SO_REUSEADDR the bind would get WSAEADDRINUSE \
                 instead: the port is simply in use.",
            );
        }
        let mut fixes = fixes_stop(holders, req, f);
        fixes.push(fix_pick_other());
        return (Cause::Listener, text, fixes);
    }
    match f.os {
        // selinux_socket_bind() checks name_bind on the port's type and
        // fails with EACCES (linux security/selinux/hooks.c); AppArmor's
        // network rules likewise. Where auditd runs (RHEL, Fedora) AVC
        // denials go to /var/log/audit/audit.log, read with ausearch(8)
        // (`-m avc -ts recent`), not to the kernel log; without auditd they
        // reach the kernel log (Red Hat SELinux guide, "Troubleshooting
        // problems related to SELinux"; audit daemon: auditd(8)).
        OsKind::Linux => {
            let text = format!(
                "The OS refused port {p} with EACCES although it is not a privileged port here: a \
                 security module such as SELinux or AppArmor may deny this program that port. \
                 With auditd running (RHEL, Fedora) SELinux denials are logged in \
                 /var/log/audit/audit.log, not in the kernel log."
            );
            let fixes = vec![
                Fix::new(
                    "SELinux with auditd: list recent denials",
                    Some("sudo ausearch -m avc -ts recent".into()),
                ),
                Fix::new(
                    "Without auditd (and for AppArmor): look in the kernel log",
                    Some("sudo dmesg | grep -i -e avc -e apparmor | tail".into()),
                ),
                fix_pick_other(),
            ];
            (Cause::PermissionPolicy, text, fixes)
        }
        _ => unknown(req, failure, f),
    }
}

fn privileged(req: &BindRequest, pp: &PrivilegedPorts, f: &SystemFacts) -> Parts {
    let p = req.port;
    let n = pp.first_unprivileged;
    match f.os {
        OsKind::Macos => {
            let wildcard = if req.addr.is_ipv4() { "0.0.0.0" } else { "::" };
            let text = format!(
                "On macOS, ports below {n} need root when binding a specific address such as {}; \
                 the wildcard {wildcard} is open to every user (since macOS Mojave).",
                req.addr
            );
            let wild_req = BindRequest {
                addr: wildcard.parse().unwrap_or(req.addr),
                ..req.clone()
            };
            let fixes = vec![
                Fix::new(
                    format!("Bind the wildcard {wildcard} instead"),
                    Some(retest(&wild_req, "")),
                ),
                fix_pick_other(),
                Fix::new("Or run it as root", Some(elevated(f.os, &retest(req, "")))),
            ];
            (Cause::PrivilegedPort, text, fixes)
        }
        _ => {
            let mut text = format!(
                "Ports below {n} are privileged: binding one needs CAP_NET_BIND_SERVICE (root has \
                 it), and this process lacks it."
            );
            match (pp.setting, pp.read_from_system) {
                (Some(key), true) => text.push_str(&format!(" The limit {n} is {key}.")),
                (Some(key), false) => {
                    text.push_str(&format!(" ({n} is the default; {key} could not be read.)"))
                }
                (None, _) => {}
            }
            let mut fixes = vec![
                fix_pick_other(),
                Fix::new(
                    "Give your server binary the capability (replace BINARY with its path)",
                    Some("sudo setcap cap_net_bind_service=+ep BINARY".into()),
                ),
            ];
            if let Some(key) = pp.setting {
                fixes.push(Fix::new(
                    format!(
                        "Or lower the limit to {p} for this network namespace (persist it in \
                         /etc/sysctl.d/)"
                    ),
                    Some(format!("sudo sysctl -w {key}={p}")),
                ));
            }
            (Cause::PrivilegedPort, text, fixes)
        }
    }
}

fn not_permitted(req: &BindRequest, failure: &ProbeFailure, f: &SystemFacts) -> Parts {
    if f.os != OsKind::Linux {
        return unknown(req, failure, f);
    }
    // A cgroup BPF bind program that rejects a bind makes it fail with EPERM
    // (linux kernel/bpf/cgroup.c __cgroup_bpf_run_filter_sock_addr(), tested
    // in tools/testing/selftests/bpf/prog_tests/bind_perm.c). systemd's
    // SocketBindAllow=/SocketBindDeny= are such programs
    // (systemd.resource-control(5)); IPAddressDeny= is a packet filter on
    // ingress/egress traffic, not a bind hook. A seccomp filter can also
    // return EPERM for bind() (seccomp(2), SECCOMP_RET_ERRNO; e.g. systemd's
    // SystemCallFilter=, container runtimes' seccomp profiles).
    let text = format!(
        "The OS refused the bind of port {} with EPERM. On Linux that comes from a policy: a \
         cgroup BPF bind hook (systemd's SocketBindAllow=/SocketBindDeny=, container runtimes) \
         or a seccomp filter that forbids bind() (systemd's SystemCallFilter=, a container's \
         seccomp profile). systemd's IPAddressDeny= filters packets, not binds.",
        req.port
    );
    let fixes = vec![
        Fix::new(
            "See which cgroup (service or container) this runs in",
            Some("cat /proc/self/cgroup".into()),
        ),
        Fix::new(
            "Check the service's bind rules (replace UNIT with its name)",
            Some("systemctl show -p SocketBindAllow -p SocketBindDeny UNIT".into()),
        ),
        Fix::new(
            "See whether a seccomp filter applies to this process (Seccomp: 2 means filtered)",
            Some("grep Seccomp /proc/self/status".into()),
        ),
        fix_pick_other(),
    ];
    (Cause::PermissionPolicy, text, fixes)
}

fn address_not_local(req: &BindRequest, f: &SystemFacts) -> Parts {
    let mut text = format!(
        "{} is not an address of this machine: no interface has it (a stale IP, an interface \
         that is down, or a typo).",
        req.addr
    );
    let same_family: Vec<String> = f
        .local_addrs
        .iter()
        .filter(|a| a.is_ipv4() == req.addr.is_ipv4())
        .take(10)
        .map(|a| a.to_string())
        .collect();
    if !same_family.is_empty() {
        text.push_str(&format!(" This machine has: {}.", same_family.join(", ")));
    }
    let wildcard = if req.addr.is_ipv4() { "0.0.0.0" } else { "::" };
    let wild_req = BindRequest {
        addr: wildcard.parse().unwrap_or(req.addr),
        ..req.clone()
    };
    let fixes = vec![
        Fix::new(
            format!("Bind the wildcard {wildcard} to accept on every address"),
            Some(retest(&wild_req, "")),
        ),
        Fix::new(
            "List this machine's addresses",
            Some(f.os.list_addresses_command().into()),
        ),
    ];
    (Cause::AddressNotLocal, text, fixes)
}

fn unknown(req: &BindRequest, failure: &ProbeFailure, f: &SystemFacts) -> Parts {
    let e = &failure.error;
    let mut text = format!(
        "{} for {}: portwise has no explanation for this error here.",
        e.message,
        sock(req.addr, req.port)
    );
    if f.os == OsKind::Windows && e.class == ErrorClass::AccessDenied {
        text.push_str(
            " On Windows, WSAEACCES usually means the port lies in an excluded range that Windows \
             holds (for Hyper-V, WinNAT, WSL2, Docker or another service; none was seen covering \
             it: the list may have changed, or could not be read), or a socket portwise could \
             not see holds the port: one that did not set SO_REUSEADDR while this bind did, one \
             that set SO_EXCLUSIVEADDRUSE, or one of another user account.",
        );
    }
    let mut fixes = vec![Fix::new("Try again", Some(retest(req, "")))];
    if f.os == OsKind::Windows {
        fixes.push(Fix::new(
            "See the excluded port ranges",
            Some(format!(
                "netsh int ipv4 show excludedportrange protocol={}",
                req.proto
            )),
        ));
    }
    fixes.push(fix_pick_other());
    (Cause::Unknown, text, fixes)
}

#[cfg(test)]
mod tests;
