//! The Sockets view's cell texts and sort order: pure functions shared by
//! the table, the details panel, copy, export and the tests.

use std::borrow::Cow;
use std::net::IpAddr;

use super::{Column, countdown_text};
use crate::sockets::{Family, Proto, SocketEntry};

/// The Namespace / Container cell: the container, or the namespace's name
/// or inode; for a port a proxy (docker-proxy, conmon, rootlessport)
/// publishes, the container behind it; empty for the rest of portwise's
/// own namespace.
pub fn namespace_text(e: &SocketEntry, own: Option<u64>) -> String {
    let place = crate::sockets::namespaces::place_text(e.netns.as_deref(), own);
    match (&e.published, place.is_empty()) {
        (Some(p), true) => match &p.container {
            Some(c) => format!("published for container {}", c.label()),
            None => format!("published for a container ({})", p.via),
        },
        _ => place,
    }
}

/// The Details panel's "Namespace" line: "portwise's own (net:[N])",
/// "blue (net:[N])" or "net:[N]", as `readlink /proc/PID/ns/net` shows it.
pub fn namespace_detail(ns: &crate::sockets::NetnsRef, own: Option<u64>) -> String {
    let inode = format!("net:[{}]", ns.inode);
    match (&ns.name, Some(ns.inode) == own) {
        (_, true) => format!("portwise's own ({inode})"),
        (Some(name), false) => format!("{name} ({inode})"),
        (None, false) => format!("{inode}, unnamed"),
    }
}

/// The Details panel's "Container" line: "web (podman, id 3f2a9c1b7d0e)".
pub fn container_detail(c: &crate::sockets::Container) -> String {
    match &c.name {
        Some(name) if *name != c.id => format!("{name} ({}, id {})", c.runtime, c.short_id()),
        Some(name) => format!("{name} ({})", c.runtime),
        None => format!("{} {} (name unknown)", c.runtime, c.short_id()),
    }
}

/// How two rows compare on `col` (`ta`, `tb`: their snapshots' times;
/// `users`: see [`user_text`]).
pub(super) fn compare(
    col: Column,
    a: &SocketEntry,
    b: &SocketEntry,
    (ta, tb): (u64, u64),
    users: &Users,
) -> std::cmp::Ordering {
    match col {
        Column::Proto => (a.proto, a.family).cmp(&(b.proto, b.family)),
        Column::Local => a.local_addr.cmp(&b.local_addr),
        Column::Port => a.local_port.cmp(&b.local_port),
        Column::State => state_text(a).cmp(state_text(b)),
        Column::Process => {
            let ka = a.processes.first().map(|p| (p.name.as_str(), p.pid));
            let kb = b.processes.first().map(|p| (p.name.as_str(), p.pid));
            // Owned sockets first, then unowned ones.
            match (ka, kb) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
        Column::Command => {
            // Known command lines first, then by text.
            let key = |e: &SocketEntry| e.processes.first().and_then(|p| p.command_line());
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
        Column::User => user_text(a, users).cmp(&user_text(b, users)),
        Column::Namespace => {
            // Rows of other namespaces (and containers) together, by name.
            let key = |e: &SocketEntry| e.netns.as_ref().map(|n| n.describe());
            key(a).cmp(&key(b))
        }
        Column::TimeWait => {
            // Rows with a countdown first, soonest free first.
            let ra = time_wait_left_ms(a, ta, 0);
            let rb = time_wait_left_ms(b, tb, 0);
            match (ra, rb) {
                (Some(x), Some(y)) => {
                    // Compare absolute expiry so rows from different snapshots
                    // order correctly.
                    (ta + x).cmp(&(tb + y))
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
        Column::Remote => (a.remote_addr, a.remote_port).cmp(&(b.remote_addr, b.remote_port)),
        Column::LastOwner => {
            let ka = a
                .last_known_owner
                .as_ref()
                .map(|o| (o.name.as_str(), o.pid));
            let kb = b
                .last_known_owner
                .as_ref()
                .map(|o| (o.name.as_str(), o.pid));
            match (ka, kb) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Cell texts: pure functions, shared by the table, the details panel, copy
// and the tests.

/// "127.0.0.1:8080" or "[::1]:8080".
pub fn socket_addr(addr: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(addr, port).to_string()
}

pub fn proto_text(e: &SocketEntry) -> &'static str {
    match (e.proto, e.family) {
        (Proto::Tcp, Family::Ipv4) => "TCP",
        (Proto::Tcp, Family::Ipv6) => "TCP6",
        (Proto::Udp, Family::Ipv4) => "UDP",
        (Proto::Udp, Family::Ipv6) => "UDP6",
    }
}

/// The TCP state, or for UDP (which has none) whether the socket is bound
/// only or connected to a peer.
pub fn state_text(e: &SocketEntry) -> &'static str {
    match e.state {
        Some(s) => s.as_str(),
        None if e.remote_addr.is_some() => "connected",
        None => "bound",
    }
}

/// "python3 (4242)", "nginx (10) +3" for several holders, "" for none.
/// Names are escaped (`\x1b`): a process names itself.
pub fn process_text(e: &SocketEntry) -> String {
    let esc = crate::util::text::escape_control;
    match e.processes.as_slice() {
        [] => String::new(),
        [p] => format!("{} ({})", esc(&p.name), p.pid),
        [p, rest @ ..] => format!("{} ({}) +{}", esc(&p.name), p.pid, rest.len()),
    }
}

/// How many characters of a command line the table's cell shows; the
/// rest is elided with "…" and the whole line is on hover
/// ([`command_full_text`]).
pub const COMMAND_CELL_CHARS: usize = 120;

/// The Command line cell: the first holder's arguments
/// ([`crate::sockets::ProcessInfo::command_line`]), the program by its
/// file name only (`/root/.pyenv/versions/3.11.7/bin/python3 -m
/// http.server 8000` reads `python3 -m http.server 8000`: the arguments
/// are what tells two servers apart; the path is on hover and in Details),
/// with control characters escaped (`\x1b`: a process's arguments are
/// anyone's text), cut to [`COMMAND_CELL_CHARS`] with "…"; "+N" when more
/// processes hold the socket. Empty when no holder's command line is
/// known, and for hidden owners: never a guess.
pub fn command_text(e: &SocketEntry) -> String {
    let Some(p) = e.processes.first() else {
        return String::new();
    };
    let Some(first) = p.cmdline.as_ref().and_then(|args| {
        let program = args.first()?;
        let short = program
            .rsplit(['/', '\\'])
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(program);
        let mut shortened = args.clone();
        shortened[0] = short.to_string();
        crate::sockets::ProcessInfo {
            cmdline: Some(shortened),
            ..p.clone()
        }
        .command_line()
    }) else {
        return String::new();
    };
    let line = crate::util::text::escape_control(&first);
    let mut out: String = line.chars().take(COMMAND_CELL_CHARS).collect();
    if line.chars().nth(COMMAND_CELL_CHARS).is_some() {
        out.push('…');
    }
    if e.processes.len() > 1 {
        out.push_str(&format!(" +{}", e.processes.len() - 1));
    }
    out
}

/// Every holder's full command line, escaped, one per line with its pid
/// ("4242: python3 -m http.server 8000"): the cell's hover text and the
/// Details panel's. `None` when none is known.
pub fn command_full_text(e: &SocketEntry) -> Option<String> {
    let lines: Vec<String> = e
        .processes
        .iter()
        .filter_map(|p| {
            let c = p.command_line()?;
            Some(format!(
                "{}: {}",
                p.pid,
                crate::util::text::escape_control(&c)
            ))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// True for a socket whose owner exists but cannot be seen by this user
/// (what the engine counts as unattributed).
pub fn owner_hidden(e: &SocketEntry) -> bool {
    crate::sockets::is_unattributed(e)
}

/// Login names by uid, of the users whose sockets' owners are hidden
/// ([`crate::sockets::Snapshot::owner_users`], kept across snapshots).
pub type Users = std::collections::BTreeMap<u32, String>;

/// The User cell: the first holder's user; for a hidden owner, the user
/// the kernel says the socket belongs to (its uid, named from `users`);
/// empty for kernel-owned sockets.
pub fn user_text<'a>(e: &'a SocketEntry, users: &'a Users) -> Cow<'a, str> {
    match e.processes.iter().find_map(|p| p.user.as_deref()) {
        Some(u) => Cow::Borrowed(u),
        None => crate::sockets::hidden_owner_name(e, users).unwrap_or(Cow::Borrowed("")),
    }
}

pub fn remote_text(e: &SocketEntry) -> String {
    match (e.remote_addr, e.remote_port) {
        (Some(a), Some(p)) => socket_addr(a, p),
        (Some(a), None) => a.to_string(),
        _ => String::new(),
    }
}

/// "was: python3 (4242)" for a TIME_WAIT socket whose owner the engine saw.
pub fn last_owner_text(e: &SocketEntry) -> String {
    match &e.last_known_owner {
        Some(o) => format!(
            "was: {} ({})",
            crate::util::text::escape_control(&o.name),
            o.pid
        ),
        None => String::new(),
    }
}

/// Time left before the kernel frees a TIME_WAIT socket (or an orphaned
/// FIN_WAIT_2 it finishes the same way), counted down from the snapshot it
/// came in: `None` for other sockets or when the OS does not report it.
pub fn time_wait_left_ms(e: &SocketEntry, taken_at_ms: u64, now_ms: u64) -> Option<u64> {
    if !e.is_kernel_owned() && !e.orphan {
        return None;
    }
    let at_snapshot = e.time_wait_expires_in_ms?;
    Some(at_snapshot.saturating_sub(now_ms.saturating_sub(taken_at_ms)))
}

/// One line describing the whole row, tab-separated like a spreadsheet
/// paste: proto, local, state, process, user, TIME_WAIT left, remote, last
/// owner (empty fields kept).
pub fn row_line(e: &SocketEntry, taken_at_ms: u64, now_ms: u64, users: &Users) -> String {
    let tw = time_wait_left_ms(e, taken_at_ms, now_ms)
        .map(countdown_text)
        .unwrap_or_default();
    [
        proto_text(e).to_string(),
        socket_addr(e.local_addr, e.local_port),
        state_text(e).to_string(),
        process_text(e),
        user_text(e, users).into_owned(),
        tw,
        remote_text(e),
        last_owner_text(e),
    ]
    .join("\t")
}
