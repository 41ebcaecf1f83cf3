//! EADDRINUSE (WSAEADDRINUSE 10048): a listener on the address or the
//! wildcard, a dual-stack `[::]` socket, a connection using the port as its
//! local port, TIME_WAIT remnants, or (port 0) an exhausted ephemeral range.
use super::*;
use crate::tuning::plan::{widened_linux_range, widened_start};

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, found, holders, f) = (c.req, &c.found, &c.holders[..], c.facts);
    let p = req.port;
    if p == 0 {
        return exhausted(c);
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
            Relation::Same => format!("{} already {bound} {}.", who(s, f), sock(s.local_addr, p)),
            Relation::Wildcard => format!(
                "{} {bound} {}, the wildcard address, which covers every {} address including {}.",
                who(s, f),
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
                who(s, f),
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
            fixes.push(fix_hidden(req, f));
        }
        fixes.push(
            Fix::new(
                "Or wait until it lets go: this retries for up to 60 s",
                Some(retest(req, " --wait 60")),
            )
            .acting(FixAction::WatchUntilFree)
            .in_window("Or wait until it lets go: re-test every second until it binds"),
        );
        fixes.push(fix_pick_other());
        return (Cause::Listener, text, fixes);
    }
    if let Some((_, s)) = found.listeners.first() {
        return dual_stack(c, s);
    }
    if let Some((_, s)) = found.connections.first() {
        return connection(c, s);
    }
    if !found.orphans.is_empty() {
        return super::orphan::diagnose(c);
    }
    if !found.time_waits.is_empty() {
        return time_wait_cause(c);
    }
    let text = format!(
        "The OS says {} is in use, but the socket table shows nothing on port {p} that explains \
         it. The holder may have closed just now, or it lives in another network namespace (a \
         container) that this snapshot cannot see.",
        sock(req.addr, p)
    );
    let fixes = vec![
        Fix::new("Try again", Some(retest(req, ""))).acting(FixAction::TestAgain),
        Fix::new(
            format!("See every socket on port {p}"),
            Some(format!("portwise list --all --port {p}")),
        )
        .acting(FixAction::ShowPort),
        fix_pick_other(),
    ];
    (Cause::Unknown, text, fixes)
}

fn dual_stack(c: &Case<'_>, s: &SocketEntry) -> Parts {
    let (req, holders, f) = (c.req, &c.holders[..], c.facts);
    let p = req.port;
    let mut fixes = fixes_stop(holders, req, f);
    let text = if req.addr.is_ipv4() {
        let mut t = format!(
            "{} listens on {}. An IPv6 wildcard socket is dual-stack unless it sets IPV6_V6ONLY, \
             and then it holds IPv4 port {p} as well.",
            who(s, f),
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
            )
            .acting(FixAction::TestWithV6Only),
        );
        format!(
            "Your [::] socket is dual-stack (IPV6_V6ONLY is off), so it also needs IPv4 port \
             {p}, and {} holds {}.",
            who(s, f),
            sock(s.local_addr, p)
        )
    };
    if s.processes.is_empty() {
        fixes.push(fix_hidden(req, f));
    }
    fixes.push(fix_pick_other());
    (Cause::DualStackConflict, text, fixes)
}

fn connection(c: &Case<'_>, s: &SocketEntry) -> Parts {
    let (req, holders, f) = (c.req, &c.holders[..], c.facts);
    let p = req.port;
    let peer = match (s.remote_addr, s.remote_port) {
        (Some(a), Some(rp)) => format!(" -> {}", sock(a, rp)),
        _ => String::new(),
    };
    let state = s.state.map(|st| format!(", {st}")).unwrap_or_default();
    let mut text = format!(
        "{} has a connection using local port {p} ({}{peer}{state}). A socket that uses a port \
         as its local port keeps it busy until it closes.",
        who(s, f),
        sock(s.local_addr, p)
    );
    let mut fixes = fixes_stop(holders, req, f);
    if s.processes.is_empty() {
        fixes.push(fix_hidden(req, f));
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

pub(super) fn time_wait_cause(c: &Case<'_>) -> Parts {
    let (req, tws, info, f) = (c.req, &c.found.time_waits[..], c.time_wait, c.facts);
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
    // In the window: tick SO_REUSEADDR and test again.
    if !req.reuseaddr
        && let Some(fix) = fixes.last_mut()
    {
        fix.action = Some(FixAction::TestWithReuseAddr);
    }
    let wait_s = match (longest, f.time_wait_ms) {
        (Some(ms), _) => secs_ceil(ms) + 1,
        (None, Some(tw)) => secs_ceil(tw),
        (None, None) => 60,
    };
    fixes.push(Fix::new(
        format!("Wait for TIME_WAIT to expire (up to {wait_s} s), retrying until it binds"),
        Some(retest(req, &format!(" --wait {wait_s}"))),
    )
    .acting(FixAction::WatchUntilFree)
    .in_window(format!(
        "Wait for TIME_WAIT to expire (up to {wait_s} s), re-testing every second until it binds"
    )));
    fixes.push(fix_pick_other());
    (Cause::TimeWait, text, fixes)
}

fn exhausted(c: &Case<'_>) -> Parts {
    let (req, snap, f) = (c.req, c.snap, c.facts);
    let range = ranges_text(&f.ephemeral);
    let tw = snap.time_wait_count();
    let mut text = format!(
        "Port 0 asks the OS for a free port from its ephemeral range ({range}), and none is left: \
         every port there is taken."
    );
    if tw > 0 {
        text.push_str(&format!(" {tw} sockets on this machine are in TIME_WAIT."));
    }
    let mut fixes = vec![
        Fix::new(
            "See which processes hold many ports",
            Some("portwise list --all".into()),
        )
        .acting(FixAction::ShowAllSockets),
    ];
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
    fixes.push(
        Fix::new(
            "Or bind a fixed port outside the ephemeral range",
            Some("portwise free".into()),
        )
        .acting(FixAction::GrabFreePort),
    );
    (Cause::Exhausted, text, fixes)
}
