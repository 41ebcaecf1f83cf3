//! Recommendations for a set of goals, and the per-setting rows the guide shows.
//!
//! A recommendation never narrows what the system already has (a wider port
//! range, a larger backlog, existing reserved ports are kept), so the current
//! values are an input ([`Sysctls`]).

use serde::Serialize;

use super::knowledge::{Tunable, Warning, tunables_for};
use super::{Goal, Os, PortList, Sysctls};

/// Where the outbound goal starts the ephemeral range: 1024-16383 stays free
/// for services, 16384-65535 (49152 ports) is handed out.
const WIDE_RANGE_START: u32 = 16384;
/// The floor portwise raises listen backlogs to (Linux's own default since 5.4).
const BACKLOG_FLOOR: u64 = 4096;
/// tcp_fin_timeout for the outbound goal (seconds; the default is 60).
const FIN_TIMEOUT: &str = "30";
/// TcpTimedWaitDelay for the outbound goal: the lowest value inside every
/// documented range (Windows 2000: 30-300; Server 2003: 0-300).
const WINDOWS_TIME_WAIT: &str = "30";
/// An optional, off-by-default macOS MSL (TIME_WAIT = 2 x MSL = 10 s).
const MACOS_SHORT_MSL: &str = "5000";

/// One setting to change, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub key: &'static str,
    pub value: String,
    /// The goals that asked for it.
    pub goals: Vec<Goal>,
    /// The comment that goes above it in the snippet.
    pub why: String,
    /// Optional suggestions start switched off; the user can turn them on.
    pub on_by_default: bool,
}

/// Something true and useful to say that is not a setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub goal: Goal,
    pub text: String,
    /// The note in the window's words, where `text` names a CLI command
    /// or flag (not in the JSON, which is the CLI's).
    #[serde(skip)]
    pub window_text: Option<String>,
}

impl Note {
    /// What the window says.
    pub fn window_text(&self) -> &str {
        self.window_text.as_deref().unwrap_or(&self.text)
    }
}

/// The note that Bind test finds a live holder, for the CLI and the window.
const FIND_HOLDER_CLI: &str = "If a live process still holds the port, find and stop it: `portwise bind-test PORT` names \
     the holder.";
const FIND_HOLDER_WINDOW: &str = "If a live process still holds the port, find and stop it: the \
     Bind test view names the holder, and Stop process… ends it.";

/// What to change (and say) on one OS for a set of goals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub os: Os,
    /// The goals, de-duplicated, in [`Goal::ALL`] order.
    pub goals: Vec<Goal>,
    pub reserve: PortList,
    pub recommendations: Vec<Recommendation>,
    pub notes: Vec<Note>,
}

impl Plan {
    /// The recommendation for `key`, if any.
    pub fn recommendation(&self, key: &str) -> Option<&Recommendation> {
        self.recommendations.iter().find(|r| r.key == key)
    }

    /// The notes of one goal.
    pub fn notes_for(&self, goal: Goal) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(move |n| n.goal == goal)
    }

    fn push(&mut self, goal: Goal, key: &'static str, value: String, why: String, on: bool) {
        if let Some(r) = self.recommendations.iter_mut().find(|r| r.key == key) {
            if !r.goals.contains(&goal) {
                r.goals.push(goal);
            }
            return;
        }
        self.recommendations.push(Recommendation {
            key,
            value,
            goals: vec![goal],
            why,
            on_by_default: on,
        });
    }

    fn note(&mut self, goal: Goal, text: impl Into<String>) {
        self.notes.push(Note {
            goal,
            text: text.into(),
            window_text: None,
        });
    }

    /// A note the window words differently (its controls, not flags).
    fn note_both(&mut self, goal: Goal, cli: impl Into<String>, window: impl Into<String>) {
        self.notes.push(Note {
            goal,
            text: cli.into(),
            window_text: Some(window.into()),
        });
    }
}

/// Why a request cannot be planned: both are mistakes in the request (the
/// CLI's usage errors), so front ends can word their own hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// No goal was chosen.
    NoGoal,
    /// The `reserve` goal was chosen without ports to reserve.
    ReserveNeedsPorts,
    /// The reservation would leave too little of the ephemeral range for
    /// automatic assignment (every outgoing connect() needs a port from it).
    ReservationTooLarge {
        /// Ports of the range that would be kept out of automatic assignment.
        reserved: u32,
        /// The ephemeral range in force once the plan is applied.
        start: u32,
        end: u32,
        /// Ports that would remain for automatic assignment.
        left: u32,
    },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::NoGoal => f.write_str("choose at least one goal"),
            PlanError::ReserveNeedsPorts => {
                f.write_str("the 'reserve' goal needs the ports to reserve (e.g. 8080,9090)")
            }
            PlanError::ReservationTooLarge {
                reserved,
                start,
                end,
                left,
            } => write!(
                f,
                "reserving these ports would keep {reserved} of the {} ports of the ephemeral \
                 range {start}-{end} out of automatic assignment, leaving only {left}; once \
                 none are left every outgoing connect() fails (EADDRNOTAVAIL) and bind() to \
                 port 0 fails, so portwise refuses to leave less than {}% of the range free. \
                 Reserve fewer ports (only those your services bind)",
                end - start + 1,
                super::audit::MIN_FREE_SHARE_PERCENT
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// What to change on `os` for `goals`. Ports in `reserve` are kept out of
/// automatic assignment (giving them implies the `reserve` goal); the
/// `reserve` goal without ports is an error.
pub fn plan(
    os: Os,
    goals: &[Goal],
    reserve: &PortList,
    sys: &dyn Sysctls,
) -> Result<Plan, PlanError> {
    let mut wanted: Vec<Goal> = Goal::ALL
        .into_iter()
        .filter(|g| goals.contains(g))
        .collect();
    if !reserve.is_empty() && !wanted.contains(&Goal::Reserve) {
        wanted.push(Goal::Reserve);
        wanted.sort();
    }
    if wanted.is_empty() {
        return Err(PlanError::NoGoal);
    }
    if wanted.contains(&Goal::Reserve) && reserve.is_empty() {
        return Err(PlanError::ReserveNeedsPorts);
    }
    let mut p = Plan {
        os,
        goals: wanted.clone(),
        reserve: reserve.clone(),
        recommendations: Vec::new(),
        notes: Vec::new(),
    };
    for g in wanted {
        match os {
            Os::Linux => linux(&mut p, g, sys),
            Os::Macos => macos(&mut p, g, sys),
            Os::Windows => windows(&mut p, g, sys),
        }
    }
    refuse_lockout(&p, sys)?;
    Ok(p)
}

/// A reservation that leaves less than the safe share of the ephemeral
/// range in force (after the plan) is refused: Linux skips reserved ports
/// when it picks a local port (net/ipv4/inet_hashtables.c
/// __inet_hash_connect(), inet_is_local_reserved_port()), so reserving the
/// whole range makes connect() fail with EADDRNOTAVAIL; Windows leaves
/// excluded ranges out of the dynamic range the same way.
fn refuse_lockout(p: &Plan, sys: &dyn Sysctls) -> Result<(), PlanError> {
    let (key, range_key, default) = match p.os {
        Os::Linux => (
            "net.ipv4.ip_local_reserved_ports",
            "net.ipv4.ip_local_port_range",
            (32768, 60999),
        ),
        Os::Windows => ("excludedportrange tcp", "dynamicport tcp", (49152, 65535)),
        // macOS keeps reserved ports out by moving the range (see macos()),
        // which keeps its size.
        Os::Macos => return Ok(()),
    };
    let Some(rec) = p.recommendation(key) else {
        return Ok(());
    };
    let reserved = PortList::parse(&rec.value).unwrap_or_default();
    let range_text = p
        .recommendation(range_key)
        .map(|r| r.value.clone())
        .or_else(|| sys.read(range_key));
    let range = range_text
        .and_then(|v| match p.os {
            Os::Windows => start_num(&v).map(|(s, n)| (s, (s + n).saturating_sub(1))),
            _ => two_numbers(&v),
        })
        .unwrap_or(default);
    let (inside, left) = super::audit::ephemeral_left(&reserved, range);
    let total = range.1.saturating_sub(range.0) + 1;
    if inside > 0 && super::audit::too_few_left(left, total) {
        return Err(PlanError::ReservationTooLarge {
            reserved: inside,
            start: range.0,
            end: range.1,
            left,
        });
    }
    Ok(())
}

const REUSEADDR: &str = "No kernel setting changes what bind() does. The fix is in the server: \
    set SO_REUSEADDR on the listening socket before bind() (most frameworks already do). Then a \
    restarted server binds while old connections on its port sit in TIME_WAIT.";

const WINDOWS_RESTART: &str = "On Windows a restarted server usually binds its port even while \
    its old connections sit in TIME_WAIT, with no socket option. The exception: if the old \
    listening socket set SO_EXCLUSIVEADDRUSE, the port may stay unbindable until the connections \
    it accepted are gone.";

fn linux(p: &mut Plan, goal: Goal, sys: &dyn Sysctls) {
    match goal {
        Goal::Restart => {
            p.note(goal, REUSEADDR);
            p.note(
                goal,
                "TIME_WAIT lasts 60 s on Linux and no sysctl changes it. tcp_tw_reuse only \
                 affects outgoing connect(); tcp_fin_timeout only affects orphaned FIN_WAIT_2 \
                 sockets; tcp_tw_recycle no longer exists (removed in Linux 4.12).",
            );
            p.note_both(goal, FIND_HOLDER_CLI, FIND_HOLDER_WINDOW);
            if p.reserve.is_empty() {
                p.note_both(
                    goal,
                    "What a kernel setting can do: keep your service's port out of the ephemeral \
                     range, so an outgoing connection never takes it first (--reserve-ports PORT).",
                    "What a kernel setting can do: keep your service's port out of the ephemeral \
                     range, so an outgoing connection never takes it first (tick \"Keep my \
                     service ports free\" and type the port).",
                );
            } else {
                p.note(
                    goal,
                    format!(
                        "What a kernel setting can do: ports {} are kept out of automatic \
                         assignment below, so outgoing connections never take them first.",
                        p.reserve.to_list_string()
                    ),
                );
            }
        }
        Goal::Outbound => {
            p.push(
                goal,
                "net.ipv4.tcp_tw_reuse",
                "1".into(),
                "Let outgoing connect() reuse a local port whose earlier connection to the same \
                 peer is in TIME_WAIT, when TCP timestamps prove it safe (1 = all traffic; the \
                 default 2 covers loopback only). It needs tcp_timestamps on both ends. It does \
                 not affect a server's bind()."
                    .into(),
                true,
            );
            p.push(
                goal,
                "net.ipv4.tcp_timestamps",
                "1".into(),
                "TCP timestamps: tcp_tw_reuse depends on them. 1 is the default; set here so \
                 the pair stays consistent."
                    .into(),
                true,
            );
            let (cur_a, cur_b) = sys
                .read("net.ipv4.ip_local_port_range")
                .and_then(|v| two_numbers(&v))
                .unwrap_or((32768, 60999));
            let unpriv = effective_unprivileged_start(p, sys);
            let (start, end) = widened_linux_range((cur_a, cur_b), unpriv);
            p.push(
                goal,
                "net.ipv4.ip_local_port_range",
                format!("{start} {end}"),
                format!(
                    "Widen the ephemeral range from {cur_a}-{cur_b} ({} ports) to {start}-{end} \
                     ({} ports). Start and end differ in parity, as the kernel documentation \
                     asks. Ports below {start} stay free for services; a fixed service port \
                     inside the range belongs in ip_local_reserved_ports.",
                    cur_b.saturating_sub(cur_a) + 1,
                    end - start + 1
                ),
                true,
            );
            p.push(
                goal,
                "net.ipv4.tcp_fin_timeout",
                FIN_TIMEOUT.into(),
                format!(
                    "Orphaned FIN_WAIT_2 sockets (closed by the application, waiting for the \
                     peer's FIN) are dropped after {FIN_TIMEOUT} s instead of 60 s, freeing \
                     their ports sooner. This is FIN_WAIT_2, not TIME_WAIT: TIME_WAIT stays 60 s."
                ),
                true,
            );
            p.note(
                goal,
                "Leave tcp_max_tw_buckets alone: lowering it to get rid of TIME_WAIT is wrong \
                 advice (the kernel documentation says never to lower it artificially).",
            );
            p.note(
                goal,
                "Often the better fix is in the client: reuse connections (HTTP keep-alive, \
                 connection pools) instead of opening one per request.",
            );
        }
        Goal::Reserve => {
            let current = sys
                .read("net.ipv4.ip_local_reserved_ports")
                .and_then(|v| PortList::parse(&v).ok())
                .unwrap_or_default();
            let all = current.union(&p.reserve);
            let kept = if current.is_empty() {
                String::new()
            } else {
                format!(
                    " The ports already reserved here ({}) are kept: writing this key replaces \
                     the whole list.",
                    current.to_list_string()
                )
            };
            p.push(
                goal,
                "net.ipv4.ip_local_reserved_ports",
                all.to_list_string(),
                format!(
                    "Keep {} out of automatic port assignment (connect() on an unbound socket, \
                     bind() to port 0), so outgoing connections never take them. Your service's \
                     own explicit bind() to them still works.{kept}",
                    p.reserve.to_list_string()
                ),
                true,
            );
        }
        Goal::Backlog => {
            let v = at_least(sys.read("net.core.somaxconn"), BACKLOG_FLOOR);
            p.push(
                goal,
                "net.core.somaxconn",
                v.to_string(),
                format!(
                    "Raise the cap on the listen() backlog (the accept queue; it also bounds \
                     each listener's queue of half-open connections) to at least \
                     {BACKLOG_FLOOR} (never lowered)."
                ),
                true,
            );
            // net/ipv4/tcp_input.c tcp_conn_request(): tcp_max_syn_backlog
            // is read only when tcp_syncookies = 0 (see knowledge.rs).
            let syncookies_off = sys
                .read("net.ipv4.tcp_syncookies")
                .is_some_and(|v| v.trim() == "0");
            if syncookies_off {
                let v = at_least(sys.read("net.ipv4.tcp_max_syn_backlog"), BACKLOG_FLOOR);
                p.push(
                    goal,
                    "net.ipv4.tcp_max_syn_backlog",
                    v.to_string(),
                    format!(
                        "tcp_syncookies is 0 here, so this threshold matters: once a listener's \
                         half-open queue is within a quarter of it, SYNs from peers not seen \
                         before are dropped. Raise it to at least {BACKLOG_FLOOR} (never \
                         lowered)."
                    ),
                    true,
                );
            } else {
                p.note(
                    goal,
                    "tcp_max_syn_backlog is left alone: it is not a per-listener queue size, and \
                     with tcp_syncookies on (the default) the kernel does not read it; each \
                     listener's half-open queue is bounded by its listen() backlog, capped by \
                     somaxconn.",
                );
            }
            p.note(
                goal,
                "somaxconn only caps what the server asks for: the server must also pass a large \
                 backlog to listen() (e.g. nginx `listen 80 backlog=4096`). `ss -ltn` shows each \
                 listener's backlog in Send-Q; `nstat -az TcpExtListenOverflows` counts overflows.",
            );
        }
        Goal::LowPorts => {
            let start = low_port_start(p);
            p.push(
                goal,
                "net.ipv4.ip_unprivileged_port_start",
                start.to_string(),
                format!(
                    "Let unprivileged programs bind ports from {start} up (the default is 1024). \
                     Trade-off: every local user and program may then bind them, e.g. answer on \
                     a port your real server normally holds while it is down."
                ),
                true,
            );
            p.note(
                goal,
                "Narrower alternative: give just one binary the right, \
                 `sudo setcap cap_net_bind_service=+ep /path/to/server` (redo it after each \
                 rebuild of that binary).",
            );
        }
    }
}

fn macos(p: &mut Plan, goal: Goal, sys: &dyn Sysctls) {
    let read = |key: &str, default: u32| {
        sys.read(key)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(default)
    };
    let now = (
        read("net.inet.ip.portrange.first", 49152),
        read("net.inet.ip.portrange.last", 65535),
    );
    let size = |r: (u32, u32)| r.1.saturating_sub(r.0) + 1;
    match goal {
        Goal::Restart => {
            p.note(goal, REUSEADDR);
            p.note(
                goal,
                "TIME_WAIT lasts 30 s on macOS (twice net.inet.tcp.msl). Lowering the MSL would \
                 shorten it for every connection on the machine; SO_REUSEADDR in the server is \
                 the right fix.",
            );
            p.note_both(goal, FIND_HOLDER_CLI, FIND_HOLDER_WINDOW);
        }
        Goal::Outbound => {
            let new = macos_range(p, now);
            if new.0 != now.0 || new.1 != now.1 {
                push_macos_range(
                    p,
                    goal,
                    now,
                    new,
                    format!(
                        "Widen the ephemeral range from {}-{} ({} ports) to {}-{} ({} ports) for \
                         outgoing connections.",
                        now.0,
                        now.1,
                        size(now),
                        new.0,
                        new.1,
                        size(new)
                    ),
                );
            }
            p.push(
                goal,
                "net.inet.tcp.msl",
                MACOS_SHORT_MSL.into(),
                "Optional, off by default: TIME_WAIT becomes 10 s instead of 30 s for every \
                 connection on this Mac. Risk: old duplicate segments may reach a new connection \
                 that reuses the same ports. Fine for a test machine hammering localhost; think \
                 twice elsewhere."
                    .into(),
                false,
            );
        }
        Goal::Reserve => {
            let new = macos_range(p, now);
            // xnu bsd/netinet/in_pcb.c in_pcbbind() (BSD lineage): a socket
            // that asked for IP_PORTRANGE_HIGH draws its port from
            // ipport_hifirstauto..ipport_hilastauto (net.inet.ip.portrange.
            // hifirst/hilast), every other one from first..last.
            p.note(
                goal,
                format!(
                    "macOS has no reserved-ports list. portwise keeps {} out of the ephemeral \
                     range net.inet.ip.portrange.first-last by moving the range off them while \
                     keeping its size where it can ({}-{} now, {}-{} after). Sockets that ask \
                     for the high range (IP_PORTRANGE_HIGH) draw from \
                     net.inet.ip.portrange.hifirst-hilast instead, which may still cover them: \
                     this keeps ordinary automatic assignments off those ports, not every one.",
                    p.reserve.to_list_string(),
                    now.0,
                    now.1,
                    new.0,
                    new.1
                ),
            );
            if !p.goals.contains(&Goal::Outbound) && (new.0 != now.0 || new.1 != now.1) {
                push_macos_range(
                    p,
                    goal,
                    now,
                    new,
                    format!(
                        "Move the ephemeral range from {}-{} to {}-{} ({} ports instead of {}), \
                         so ordinary outgoing connections do not take {}.",
                        now.0,
                        now.1,
                        new.0,
                        new.1,
                        size(new),
                        size(now),
                        p.reserve.to_list_string()
                    ),
                );
            }
        }
        Goal::Backlog => {
            let v = at_least(sys.read("kern.ipc.somaxconn"), BACKLOG_FLOOR);
            p.push(
                goal,
                "kern.ipc.somaxconn",
                v.to_string(),
                format!(
                    "Raise the cap on the listen() backlog to at least {BACKLOG_FLOOR} (the \
                     default is 128). The server must also ask listen() for a large backlog."
                ),
                true,
            );
        }
        Goal::LowPorts => {
            p.note(
                goal,
                "Nothing to set: since macOS 10.14 (Mojave), any user may bind ports below 1024 \
                 on the wildcard address (0.0.0.0 or ::). Binding a specific address such as \
                 127.0.0.1:80 still needs root, so bind the wildcard address.",
            );
        }
    }
}

/// The recommendations that move the macOS range from `now` to `new`.
fn push_macos_range(p: &mut Plan, goal: Goal, now: (u32, u32), new: (u32, u32), why: String) {
    // The kernel keeps first <= last only by convention; write them in an
    // order that never makes an inverted range in between.
    let first = ("net.inet.ip.portrange.first", new.0, new.0 != now.0);
    let last = ("net.inet.ip.portrange.last", new.1, new.1 != now.1);
    let order = if new.0 > now.1 {
        [last, first]
    } else {
        [first, last]
    };
    let mut why = Some(why);
    for (key, v, changed) in order {
        if changed {
            p.push(
                goal,
                key,
                v.to_string(),
                why.take()
                    .unwrap_or_else(|| format!("The other end of the range {}-{}.", new.0, new.1)),
                true,
            );
        }
    }
}

/// The macOS ephemeral range for the plan: widened for the outbound goal
/// (never narrowed), then moved off the reserved ports. macOS has no
/// reserved-ports list, so the range must avoid them: of the stretches
/// between reserved ports, the one that keeps the wanted size (or comes
/// closest), as high as possible. Never below the widened start (outbound)
/// or 1024.
fn macos_range(p: &mut Plan, now: (u32, u32)) -> (u32, u32) {
    let want = if p.goals.contains(&Goal::Outbound) {
        (widened_start(now.0), now.1.max(65535))
    } else {
        now
    };
    let size = want.1.saturating_sub(want.0) + 1;
    let inside = p
        .reserve
        .ranges()
        .iter()
        .any(|r| u32::from(r.hi) >= want.0 && u32::from(r.lo) <= want.1);
    if !inside {
        return want;
    }
    let floor = if p.goals.contains(&Goal::Outbound) {
        want.0
    } else {
        1024
    };
    let Some(all) = crate::ports::range::PortRange::new(floor.min(65535) as u16, 65535) else {
        return want;
    };
    let free = PortList::from_ranges([all]).minus(&p.reserve);
    let best = free
        .ranges()
        .iter()
        .map(|g| {
            let (lo, hi) = (u32::from(g.lo), u32::from(g.hi));
            if hi - lo + 1 >= size {
                (hi + 1 - size, hi)
            } else {
                (lo, hi)
            }
        })
        .max_by_key(|&(lo, hi)| (hi - lo + 1, hi));
    match best {
        Some(r) => {
            if r.1 - r.0 + 1 < size {
                p.note(
                    Goal::Reserve,
                    format!(
                        "The reserved ports leave no stretch of {size} free ports: the range \
                         shrinks to {}-{} ({} ports).",
                        r.0,
                        r.1,
                        r.1 - r.0 + 1
                    ),
                );
            }
            r
        }
        None => {
            p.note(
                Goal::Reserve,
                "The reserved ports cover every port the range could use: macOS cannot keep \
                 them out of the ephemeral range. Pick fewer ports for the services.",
            );
            want
        }
    }
}

fn windows(p: &mut Plan, goal: Goal, sys: &dyn Sysctls) {
    match goal {
        Goal::Restart => {
            p.note(
                goal,
                "No registry or netsh setting changes what bind() does. A bind that fails with \
                 WSAEACCES (10013) while nothing listens usually means the port lies in an \
                 excluded port range that Windows holds (for Hyper-V, WinNAT, WSL2, Docker or \
                 another service; one listed without *): `netsh int ipv4 show excludedportrange protocol=tcp`.",
            );
            // learn.microsoft.com/windows/win32/winsock/
            // using-so-reuseaddr-and-so-exclusiveaddruse, "Enhanced Socket
            // Security" (Server 2003 / XP SP2 and later): a second socket
            // shares a port in use only if the first set SO_REUSEADDR too,
            // otherwise WSAEACCES; another user account gets WSAEACCES even
            // with no options; a port held with SO_EXCLUSIVEADDRUSE cannot be
            // bound again "until the accepted connection is no longer
            // active". That TIME_WAIT remnants of a socket without it never
            // block a new bind is not stated there: worded "usually" / "may".
            p.note(goal, WINDOWS_RESTART);
            p.note(
                goal,
                "Do not set SO_REUSEADDR on Windows to get past this: it does not help a restart, \
                 and it makes the port sharable. Since Server 2003 / XP SP2 a second socket may \
                 bind a port in use only if the first socket set SO_REUSEADDR too (which socket \
                 then gets the traffic is undefined); otherwise, and for a bind from another \
                 user account, the bind fails with WSAEACCES (10013). SO_EXCLUSIVEADDRUSE forbids \
                 any sharing, but may delay a server's own restart as described above.",
            );
            p.note_both(goal, FIND_HOLDER_CLI, FIND_HOLDER_WINDOW);
        }
        Goal::Outbound => {
            let (start_now, num_now) = sys
                .read("dynamicport tcp")
                .and_then(|v| start_num(&v))
                .unwrap_or((49152, 16384));
            let start = widened_start(start_now);
            let num = 65536 - start;
            p.push(
                goal,
                "dynamicport tcp",
                format!("start={start} num={num}"),
                format!(
                    "Widen the dynamic port range from {start_now}-{} to {start}-65535 ({num} \
                     ports), for IPv4 and IPv6. Risk: Hyper-V, WinNAT, WSL2 and Docker may \
                     reserve blocks inside this range, so ports your services need may become \
                     excluded; reserve those first (the goal \"keep my service ports free\").",
                    (start_now + num_now).saturating_sub(1)
                ),
                true,
            );
            p.push(
                goal,
                "TcpTimedWaitDelay",
                WINDOWS_TIME_WAIT.into(),
                format!(
                    "Keep closed connections in TIME_WAIT for {WINDOWS_TIME_WAIT} s instead of \
                     120 s. Risk: less protection against old duplicate segments. May need a \
                     reboot to take effect."
                ),
                true,
            );
        }
        Goal::Reserve => {
            // Ranges without `*` belong to Windows components and refuse
            // binds; `*` ranges were added by an administrator and only keep
            // ports out of dynamic assignment (Microsoft KB 812873: "only a
            // program or process that specifically requests a port that is
            // in the reserved range can use the port").
            let (system, administered) = sys
                .read("excludedportrange tcp")
                .and_then(|v| PortList::parse_excluded(&v).ok())
                .unwrap_or_default();
            let blocked = p.reserve.intersection(&system);
            let done = p.reserve.intersection(&administered).minus(&blocked);
            let add = p.reserve.minus(&system).minus(&administered);
            // netsh refuses to exclude a port in use (learn.microsoft.com,
            // azure-sql/virtual-machines/windows/hadr-cluster-best-practices:
            // "configure the port exclusion when the port is not in use").
            if !blocked.is_empty() {
                p.note(
                    goal,
                    format!(
                        "{} lie in excluded ranges that Windows holds (for Hyper-V, WinNAT, WSL2, \
                         Docker or another service; listed without * by `netsh int ipv4 show excludedportrange \
                         protocol=tcp`): your service cannot bind them (WSAEACCES, 10013) while \
                         those ranges exist, and netsh cannot add an exclusion over them. Pick \
                         another port, or free the range: stopping WinNAT may release it \
                         (`net stop winnat`, elevated; widely reported, not documented), then add \
                         the exclusion while nothing uses the port, then `net start winnat`; a \
                         reboot may also move the ranges.",
                        blocked.to_list_string()
                    ),
                );
            }
            if !done.is_empty() {
                p.note(
                    goal,
                    format!(
                        "{} already lie in administered excluded ranges (marked *): Windows does \
                         not hand them out automatically, and your service can still bind them. \
                         Nothing to add for them.",
                        done.to_list_string()
                    ),
                );
            }
            if !add.is_empty() {
                p.push(
                    goal,
                    "excludedportrange tcp",
                    add.to_list_string(),
                    format!(
                        "Exclude {} from the dynamic range (an administered exclusion, marked * \
                         by netsh), so neither outgoing connections nor Hyper-V/WinNAT ranges \
                         take those ports. Your service's own explicit bind to them still works. \
                         Run it while nothing uses those ports (before the service starts); \
                         netsh refuses a port in use.",
                        add.to_list_string()
                    ),
                    true,
                );
                p.note(
                    goal,
                    "If netsh refuses because a Windows range already covers the port, stopping \
                     WinNAT first (`net stop winnat`, add the exclusion, `net start winnat`) is a \
                     widely reported workaround.",
                );
            }
        }
        Goal::Backlog => {
            p.note(
                goal,
                "portwise knows no Windows-wide setting for this: the backlog the server passes \
                 to listen() is what counts (SOMAXCONN asks for the provider's maximum).",
            );
        }
        Goal::LowPorts => {
            p.note(
                goal,
                "Nothing to set: Windows has no privileged-port rule like Unix's. A low port that \
                 fails with WSAEACCES (10013) usually lies in an excluded port range that Windows \
                 holds (for Hyper-V, WinNAT, WSL2, Docker or another service; one listed \
                 without *).",
            );
        }
    }
}

/// Where a widened ephemeral range starts: [`WIDE_RANGE_START`], or the
/// current start when that is lower already (never narrows).
pub fn widened_start(current_start: u32) -> u32 {
    current_start.min(WIDE_RANGE_START)
}

/// The Linux ephemeral range the outbound goal (and the bind diagnosis of
/// an exhausted range) sets, from the current `(start, end)`: it ends at
/// 65535 (nothing above it exists to keep free), starts at
/// [`widened_start`] but never below `unprivileged_start` (the kernel
/// rejects that), and start and end differ in parity as ip-sysctl.rst asks.
/// To fix the parity it moves the start down when it may, else up.
pub fn widened_linux_range(current: (u32, u32), unprivileged_start: u32) -> (u32, u32) {
    let end = 65535;
    let mut start = widened_start(current.0).max(unprivileged_start).min(end);
    if start % 2 == end % 2 && start < end {
        if start > unprivileged_start.max(1) {
            start -= 1;
        } else {
            start += 1;
        }
    }
    (start, end)
}

/// ip_unprivileged_port_start as it will be: the low-ports value when that
/// goal is chosen, else the current value, else the default.
fn effective_unprivileged_start(p: &Plan, sys: &dyn Sysctls) -> u32 {
    if p.goals.contains(&Goal::LowPorts) {
        return low_port_start(p);
    }
    sys.read("net.ipv4.ip_unprivileged_port_start")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1024)
}

/// The lowest reserved port below 1024, else 80.
fn low_port_start(p: &Plan) -> u32 {
    p.reserve.min().filter(|&m| m < 1024).map_or(80, u32::from)
}

fn at_least(current: Option<String>, floor: u64) -> u64 {
    current
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(floor, |c| c.max(floor))
}

/// "32768 60999" -> (32768, 60999).
pub(crate) fn two_numbers(v: &str) -> Option<(u32, u32)> {
    let mut it = v.split_whitespace().map(|s| s.parse::<u32>());
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b)), None) => Some((a, b)),
        _ => None,
    }
}

/// "start=49152 num=16384" -> (49152, 16384).
fn start_num(v: &str) -> Option<(u32, u32)> {
    let mut start = None;
    let mut num = None;
    for part in v.split_whitespace() {
        match part.split_once('=') {
            Some(("start", n)) => start = n.parse().ok(),
            Some(("num", n)) => num = n.parse().ok(),
            _ => {}
        }
    }
    Some((start?, num?))
}

/// One row of the settings table: the knowledge-base entry (flattened in
/// JSON: key, title, default, per_namespace, explanation, ...), the value now,
/// and what the plan sets.
#[derive(Clone, Debug, Serialize)]
pub struct SettingRow {
    #[serde(flatten)]
    pub tunable: &'static Tunable,
    /// As the system prints it now; `None`: absent (see `tunable.absent_means`).
    pub current: Option<String>,
    /// What the plan sets, if it changes this setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended: Option<Recommendation>,
}

impl SettingRow {
    /// The value now as people read it: the value, "(empty)", or what its
    /// absence means.
    pub fn current_text(&self) -> String {
        match &self.current {
            Some(v) if v.is_empty() => "(empty)".to_string(),
            Some(v) => v.clone(),
            None => format!("absent: {}", self.tunable.absent_means),
        }
    }

    /// The wrong advice to show beside this row. A warning about the very
    /// value the plan recommends is left out: the window would otherwise
    /// show "Recommended: 30" next to "Wrong advice: ... to 30"; the
    /// recommendation's own reason already says what the value does and does
    /// not do (e.g. "This is FIN_WAIT_2, not TIME_WAIT").
    pub fn warnings(&self) -> Vec<&'static Warning> {
        self.tunable
            .warnings
            .iter()
            .filter(|w| match (&self.recommended, w.value) {
                (Some(r), Some(v)) => r.value != v,
                _ => true,
            })
            .collect()
    }

    fn new(t: &'static Tunable, sys: &dyn Sysctls, rec: Option<Recommendation>) -> SettingRow {
        SettingRow {
            tunable: t,
            current: sys.read(t.key),
            recommended: rec,
        }
    }
}

/// The settings that matter for the plan's goals, with current values from
/// `sys` and what the plan recommends, in guide order.
pub fn rows(plan: &Plan, sys: &dyn Sysctls) -> Vec<SettingRow> {
    tunables_for(plan.os)
        .filter(|t| {
            t.goals.iter().any(|g| plan.goals.contains(g)) || plan.recommendation(t.key).is_some()
        })
        .map(|t| SettingRow::new(t, sys, plan.recommendation(t.key).cloned()))
        .collect()
}

/// Every setting portwise knows on `os`, with current values from `sys`.
pub fn show_rows(os: Os, sys: &dyn Sysctls) -> Vec<SettingRow> {
    tunables_for(os)
        .map(|t| SettingRow::new(t, sys, None))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuning::{FixedValues, NoSystem, knowledge::tunable};

    fn ports(s: &str) -> PortList {
        PortList::parse(s).unwrap()
    }

    /// The value `plan` recommends for `key` (panics if none).
    fn value(os: Os, goals: &[Goal], reserve: &str, sys: &dyn Sysctls, key: &str) -> String {
        let p = plan(os, goals, &ports(reserve), sys).unwrap();
        p.recommendation(key)
            .unwrap_or_else(|| panic!("no {key}"))
            .value
            .clone()
    }

    /// Every non-empty combination of goals.
    fn goal_sets() -> Vec<Vec<Goal>> {
        (1u32..32)
            .map(|m| {
                Goal::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| m & (1 << i) != 0)
                    .map(|(_, g)| g)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn no_row_recommends_a_value_its_own_warning_calls_wrong() {
        let mut checked = 0;
        for os in Os::ALL {
            for goals in goal_sets() {
                let reserve = if goals.contains(&Goal::Reserve) {
                    ports("80,8080")
                } else {
                    PortList::default()
                };
                let p = plan(os, &goals, &reserve, &NoSystem).unwrap();
                for row in rows(&p, &NoSystem) {
                    let Some(rec) = &row.recommended else {
                        continue;
                    };
                    for w in row.warnings() {
                        assert_ne!(
                            w.value,
                            Some(rec.value.as_str()),
                            "{os:?} {goals:?}: {} recommends {} beside \"{}\"",
                            rec.key,
                            rec.value,
                            w.advice
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
        // The two cases the window used to show: tcp_fin_timeout 30 and
        // tcp_tw_reuse 1 with the restart goal.
        let p = plan(
            Os::Linux,
            &[Goal::Restart, Goal::Outbound],
            &PortList::default(),
            &NoSystem,
        )
        .unwrap();
        let shown = rows(&p, &NoSystem);
        for key in ["net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_tw_reuse"] {
            let row = shown.iter().find(|r| r.tunable.key == key).unwrap();
            assert!(row.recommended.is_some());
            assert!(row.warnings().iter().all(|w| w.value.is_none()), "{key}");
            assert!(!row.tunable.warnings.is_empty());
        }
        // Without the recommendation the warning is shown.
        let p = plan(Os::Linux, &[Goal::Restart], &PortList::default(), &NoSystem).unwrap();
        let row = rows(&p, &NoSystem)
            .into_iter()
            .find(|r| r.tunable.key == "net.ipv4.tcp_tw_reuse")
            .unwrap();
        assert!(row.warnings().iter().any(|w| w.value == Some("1")));
    }

    #[test]
    fn every_recommended_key_is_in_the_knowledge_base() {
        for os in Os::ALL {
            let p = plan(os, &Goal::ALL, &ports("80,8080,50000"), &NoSystem).unwrap();
            assert!(!p.recommendations.is_empty() || os != Os::Linux);
            for r in &p.recommendations {
                let t = tunable(os, r.key).unwrap_or_else(|| panic!("{os:?} {}", r.key));
                if os == Os::Linux {
                    // An export must apply inside a container's namespace too.
                    assert!(t.per_namespace, "{} is not per namespace", r.key);
                }
                assert!(!r.why.is_empty());
            }
        }
    }

    #[test]
    fn reserve_needs_ports_and_ports_imply_reserve() {
        let err = plan(Os::Linux, &[Goal::Reserve], &PortList::default(), &NoSystem).unwrap_err();
        assert_eq!(err, PlanError::ReserveNeedsPorts);
        let e = err.to_string();
        assert!(e.contains("reserve"), "{e}");
        assert!(plan(Os::Linux, &[], &PortList::default(), &NoSystem).is_err());
        assert_eq!(
            plan(Os::Linux, &[], &PortList::default(), &NoSystem).unwrap_err(),
            PlanError::NoGoal
        );
        let p = plan(Os::Linux, &[Goal::Outbound], &ports("8080"), &NoSystem).unwrap();
        assert_eq!(p.goals, vec![Goal::Outbound, Goal::Reserve]);
        assert_eq!(
            p.recommendation("net.ipv4.ip_local_reserved_ports")
                .map(|r| r.value.as_str()),
            Some("8080")
        );
    }

    #[test]
    fn restart_on_linux_changes_nothing_but_says_why() {
        let p = plan(Os::Linux, &[Goal::Restart], &PortList::default(), &NoSystem).unwrap();
        assert!(p.recommendations.is_empty());
        let text: String = p.notes.iter().map(|n| n.text.as_str()).collect();
        assert!(text.contains("SO_REUSEADDR"));
        assert!(text.contains("tcp_tw_reuse only"));
    }

    #[test]
    fn restart_on_windows_never_recommends_so_reuseaddr() {
        let p = plan(
            Os::Windows,
            &[Goal::Restart],
            &PortList::default(),
            &NoSystem,
        )
        .unwrap();
        assert!(p.recommendations.is_empty());
        let text: String = p.notes.iter().map(|n| n.text.as_str()).collect();
        assert!(
            text.contains("Do not set SO_REUSEADDR on Windows"),
            "{text}"
        );
        assert!(!text.contains("should set SO_EXCLUSIVEADDRUSE"), "{text}");
        assert!(text.contains("old connections sit in TIME_WAIT"), "{text}");
        assert!(text.contains("may delay a server's own restart"), "{text}");
        assert!(
            text.contains("only if the first socket set SO_REUSEADDR"),
            "{text}"
        );
        assert!(text.contains("another user account"), "{text}");
        // The goal's summary holds on every OS.
        assert!(!Goal::Restart.summary().contains("SO_REUSEADDR"));
        assert!(Goal::Restart.summary().contains("socket options"));
    }

    #[test]
    fn outbound_widens_with_different_parity_and_never_narrows() {
        let p = plan(
            Os::Linux,
            &[Goal::Outbound],
            &PortList::default(),
            &NoSystem,
        )
        .unwrap();
        let r = p.recommendation("net.ipv4.ip_local_port_range").unwrap();
        assert_eq!(r.value, "16384 65535");
        let range = "net.ipv4.ip_local_port_range";
        // A system already wider than that keeps its start.
        let sys = FixedValues::new([(range, "2000 65535")]);
        assert_eq!(
            value(Os::Linux, &[Goal::Outbound], "", &sys, range),
            "2000 65535"
        );
        // Never below ip_unprivileged_port_start, and still of different parity.
        let sys = FixedValues::new([
            (range, "1024 65534"),
            ("net.ipv4.ip_unprivileged_port_start", "2047"),
        ]);
        assert_eq!(
            value(Os::Linux, &[Goal::Outbound], "", &sys, range),
            "2048 65535"
        );
        for r in &p.recommendations {
            assert_ne!(r.key, "net.ipv4.tcp_tw_recycle");
        }
        // An odd start is moved down, not up, so the range never narrows.
        assert_eq!(widened_linux_range((1025, 65535), 1024), (1024, 65535));
        assert_eq!(widened_linux_range((1024, 65535), 1024), (1024, 65535));
        assert_eq!(widened_linux_range((32768, 60999), 20001), (20002, 65535));
        // macOS and Windows keep a start that is already lower.
        let first = "net.inet.ip.portrange.first";
        let sys = FixedValues::new([(first, "10000")]);
        let p = plan(Os::Macos, &[Goal::Outbound], &PortList::default(), &sys).unwrap();
        assert!(p.recommendation(first).is_none(), "{p:?}");
        let sys = FixedValues::new([("dynamicport tcp", "start=10000 num=55536")]);
        assert_eq!(
            value(Os::Windows, &[Goal::Outbound], "", &sys, "dynamicport tcp"),
            "start=10000 num=55536"
        );
    }

    #[test]
    fn reserve_keeps_existing_reservations_and_backlog_never_lowers() {
        let sys = FixedValues::new([
            ("net.ipv4.ip_local_reserved_ports", "3000-3005"),
            ("net.core.somaxconn", "65535"),
            ("net.ipv4.tcp_max_syn_backlog", "512"),
        ]);
        let p = plan(
            Os::Linux,
            &[Goal::Reserve, Goal::Backlog],
            &ports("9090,8080"),
            &sys,
        )
        .unwrap();
        let v = |k| p.recommendation(k).unwrap().value.clone();
        assert_eq!(v("net.ipv4.ip_local_reserved_ports"), "3000-3005,8080,9090");
        assert_eq!(v("net.core.somaxconn"), "65535");
        // tcp_max_syn_backlog is read only with tcp_syncookies = 0.
        assert!(p.recommendation("net.ipv4.tcp_max_syn_backlog").is_none());
        let notes: String = p.notes.iter().map(|n| n.text.as_str()).collect();
        assert!(notes.contains("not a per-listener queue size"), "{notes}");
        let mut sys = sys;
        sys.0.insert("net.ipv4.tcp_syncookies".into(), "0".into());
        let p = plan(Os::Linux, &[Goal::Backlog], &PortList::default(), &sys).unwrap();
        let r = p.recommendation("net.ipv4.tcp_max_syn_backlog").unwrap();
        assert_eq!(r.value, "4096");
        assert!(r.why.contains("tcp_syncookies is 0"), "{}", r.why);
    }

    #[test]
    fn single_recommended_values() {
        let unpriv = "net.ipv4.ip_unprivileged_port_start";
        let first = "net.inet.ip.portrange.first";
        #[rustfmt::skip]
        let cases: &[(Os, &[Goal], &str, &str, &str)] = &[
            // low-ports: the lowest reserved low port, else 80.
            (Os::Linux, &[Goal::LowPorts], "443,8443", unpriv, "443"),
            (Os::Linux, &[Goal::LowPorts], "", unpriv, "80"),
            // macOS: the range moves off reserved ports it would cover,
            // keeping its size where a stretch is long enough.
            (Os::Macos, &[Goal::Outbound], "20000", first, "20001"),
            (Os::Macos, &[Goal::Reserve], "50000", first, "33616"),
            (Os::Macos, &[Goal::Reserve], "50000", "net.inet.ip.portrange.last", "49999"),
            (Os::Windows, &[Goal::Outbound], "", "dynamicport tcp", "start=16384 num=49152"),
        ];
        for &(os, goals, reserve, key, want) in cases {
            assert_eq!(
                value(os, goals, reserve, &NoSystem, key),
                want,
                "{os:?} {goals:?}"
            );
        }
    }

    #[test]
    fn macos_reserve_keeps_the_pool_size_and_says_hifirst_still_covers() {
        // The case: 50000 in 49152-65535 used to give first=50001
        // (15535 ports); the range now moves below it with 16384 ports.
        let p = plan(Os::Macos, &[Goal::Outbound], &ports("50000"), &NoSystem).unwrap();
        let f: u32 = p
            .recommendation("net.inet.ip.portrange.first")
            .unwrap()
            .value
            .parse()
            .unwrap();
        let l: u32 = p
            .recommendation("net.inet.ip.portrange.last")
            .map_or(65535, |r| r.value.parse().unwrap());
        assert!(!(f..=l).contains(&50000), "{f}-{l}");
        assert!(l - f + 1 >= 16384, "{f}-{l}");
        let p = plan(Os::Macos, &[Goal::Reserve], &ports("50000"), &NoSystem).unwrap();
        let notes: String = p.notes.iter().map(|n| n.text.as_str()).collect();
        assert!(notes.contains("hifirst-hilast"), "{notes}");
        assert!(!notes.contains("never"), "{notes}");
        for r in &p.recommendations {
            assert!(!r.why.contains("never take"), "{}", r.why);
        }
    }

    #[test]
    fn macos_optional_msl_and_a_port_below_the_range() {
        let p = plan(Os::Macos, &[Goal::Outbound], &ports("20000"), &NoSystem).unwrap();
        assert!(!p.recommendation("net.inet.tcp.msl").unwrap().on_by_default);
        // A port below the range needs nothing.
        let p = plan(Os::Macos, &[Goal::Reserve], &ports("8080"), &NoSystem).unwrap();
        assert!(p.recommendations.is_empty());
    }

    #[test]
    fn windows_tells_system_ranges_from_administered_ones() {
        // 8000-8099: a Windows component's range (binds fail there);
        // 50000-50059*: an administrator's range (binds still work).
        let sys = FixedValues::new([("excludedportrange tcp", "8000-8099,50000-50059*")]);
        let excl = "excludedportrange tcp";
        assert_eq!(
            value(Os::Windows, &[Goal::Reserve], "8080,9090,50010", &sys, excl),
            "9090"
        );
        let text = |reserve: &str| -> String {
            let p = plan(Os::Windows, &[Goal::Reserve], &ports(reserve), &sys).unwrap();
            assert!(p.recommendations.is_empty(), "{reserve}");
            p.notes.iter().map(|n| n.text.as_str()).collect()
        };
        // A port in a system range cannot be bound: never "nothing to add".
        let t = text("8080");
        assert!(t.contains("cannot bind them"), "{t}");
        assert!(t.contains("net stop winnat"), "{t}");
        assert!(!t.contains("Nothing to add"), "{t}");
        // A port in an administered range is already done, and bindable.
        let t = text("50010");
        assert!(t.contains("Nothing to add"), "{t}");
        assert!(t.contains("can still bind them"), "{t}");
        assert!(!t.contains("cannot bind"), "{t}");
        // The exclusion to add says when netsh accepts it.
        let p = plan(Os::Windows, &[Goal::Reserve], &ports("9090"), &sys).unwrap();
        let why = &p.recommendation(excl).unwrap().why;
        assert!(why.contains("while nothing uses those ports"), "{why}");
        assert!(why.contains("netsh refuses a port in use"), "{why}");
    }

    #[test]
    fn rows_cover_goal_settings_with_current_values() {
        let sys = FixedValues::new([("net.ipv4.tcp_tw_reuse", "2")]);
        let p = plan(Os::Linux, &[Goal::Restart], &PortList::default(), &sys).unwrap();
        let rows = rows(&p, &sys);
        let reuse = rows
            .iter()
            .find(|r| r.tunable.key == "net.ipv4.tcp_tw_reuse")
            .unwrap();
        assert_eq!(reuse.current.as_deref(), Some("2"));
        assert!(reuse.recommended.is_none());
        let warnings = reuse.tunable.warnings;
        assert!(warnings.iter().any(|w| w.truth.contains("bind()")));
        assert!(rows.iter().all(|r| r.tunable.key != "net.core.somaxconn"));
        let all = show_rows(Os::Linux, &NoSystem);
        assert_eq!(all.len(), tunables_for(Os::Linux).count());
        assert!(all.iter().all(|r| r.current.is_none()));
        // JSON keeps the flat shape of `portwise tuning show --json`.
        let json = serde_json::to_value(&all[0]).unwrap();
        for field in ["key", "current", "default", "per_namespace", "explanation"] {
            assert!(json.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn current_text_says_empty_and_absent() {
        let t = tunable(Os::Linux, "net.ipv4.tcp_tw_reuse_delay").unwrap();
        let row = |current: Option<&str>| SettingRow {
            tunable: t,
            current: current.map(str::to_string),
            recommended: None,
        };
        assert_eq!(row(Some("1000")).current_text(), "1000");
        assert_eq!(row(Some("")).current_text(), "(empty)");
        assert_eq!(
            row(None).current_text(),
            format!("absent: {}", t.absent_means)
        );
    }
}
