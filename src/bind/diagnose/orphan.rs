//! EADDRINUSE from orphaned connections: the program that had them closed
//! its sockets (or exited) while the peer kept its end open, and the kernel
//! finishes each connection on its own, with no process and no file
//! descriptor (FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK). They are kernel
//! leftovers like TIME_WAIT, not a hidden process.
//!
//! How long they live (linux Documentation/networking/ip-sysctl.rst):
//! - `tcp_fin_timeout` (default 60 s): "the length of time an orphaned
//!   (no longer referenced by any application) connection will remain in
//!   the FIN_WAIT_2 state before it is aborted at the local end"
//!   (net/ipv4/tcp_input.c `tcp_rcv_state_process()`, case TCP_FIN_WAIT1:
//!   an orphan that reaches FIN_WAIT_2 gets `tcp_time_wait(sk,
//!   TCP_FIN_WAIT2, tmo)` with `tmo = tcp_fin_time(sk)`, or the keepalive
//!   timer when that is longer than 60 s; net/ipv4/tcp.c `tcp_close()` does
//!   the same for a socket closed while already in FIN_WAIT_2);
//! - FIN_WAIT_1, CLOSING and LAST_ACK wait for an ACK of the FIN, retried
//!   `tcp_orphan_retries` times (net/ipv4/tcp_timer.c `tcp_orphan_retries()`,
//!   `tcp_write_timeout()`); `tcp_max_orphans` caps how many may exist.
//!
//! A bind over them follows the TIME_WAIT rule on Linux: it succeeds when
//! the old socket and the new one both set SO_REUSEADDR
//! (net/ipv4/inet_connection_sock.c `inet_bind_conflict()`: only a socket
//! in TCP_LISTEN, or one without `sk_reuse`, conflicts when both reuse).
use super::*;

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, orphans, f) = (c.req, &c.found.orphans[..], c.facts);
    let p = req.port;
    let n = orphans.len();
    let mut states: Vec<&str> = orphans
        .iter()
        .filter_map(|s| s.state.map(|st| st.as_str()))
        .collect();
    states.sort_unstable();
    states.dedup();
    let first = orphans[0];
    let peer = match (first.remote_addr, first.remote_port) {
        (Some(a), Some(rp)) if n == 1 => format!(" (connected to {})", sock(a, rp)),
        (Some(a), Some(rp)) => format!(" (the first connected to {})", sock(a, rp)),
        _ => String::new(),
    };
    let mut text = format!(
        "{n} closed TCP connection{s} on port {p} {are} still finishing in {states}{peer}, with \
         no process: the program that had {them} closed {them} or exited while the other end \
         kept its side open. {these} to the kernel, like TIME_WAIT; there is no hidden process \
         to find or stop.",
        s = if n == 1 { "" } else { "s" },
        are = if n == 1 { "is" } else { "are" },
        them = if n == 1 { "it" } else { "them" },
        these = if n == 1 {
            "This orphaned socket belongs"
        } else {
            "These orphaned sockets belong"
        },
        states = states.join(", "),
    );
    if f.os == OsKind::Linux {
        let fin = f
            .fin_timeout_s
            .map(|s| format!("{s} s here"))
            .unwrap_or_else(|| "60 s by default".into());
        text.push_str(&format!(
            " An orphan in FIN_WAIT_2 lives at most net.ipv4.tcp_fin_timeout ({fin}); FIN_WAIT_1, \
             CLOSING and LAST_ACK end when the peer acknowledges or after \
             net.ipv4.tcp_orphan_retries retries; when the peer closes its end too, an orphan in \
             FIN_WAIT_2 moves on to TIME_WAIT. A new bind() over them succeeds when both the old \
             socket and the new one set SO_REUSEADDR, as with TIME_WAIT."
        ));
        if req.reuseaddr {
            text.push_str(" You set it on the new socket, so the old one did not.");
        }
    }
    // The kernel's own timer, where it reports one for every orphan
    // (an orphaned FIN_WAIT_2 it finishes as a timewait socket).
    let timers: Option<Vec<u64>> = orphans.iter().map(|s| s.time_wait_expires_in_ms).collect();
    let frees_in_s = timers.and_then(|t| t.into_iter().max()).map(secs_ceil);
    if let Some(s) = frees_in_s {
        text.push_str(&format!(
            " The kernel's timer frees {} within {s} s.",
            if n == 1 { "it" } else { "them all" }
        ));
    }
    let tw = c.found.time_waits.len();
    if tw > 0 {
        text.push_str(&format!(
            " {tw} more connection{} on the port {} in TIME_WAIT.",
            if tw == 1 { "" } else { "s" },
            if tw == 1 { "is" } else { "are" }
        ));
    }
    let mut fixes = Vec::new();
    if f.os != OsKind::Windows {
        fixes.push(Fix::new(
            "Set SO_REUSEADDR on the server socket before bind() (most frameworks do): on Linux \
             the old socket needs it too, so it works from the next restart on",
            (!req.reuseaddr).then(|| retest(req, " --reuseaddr")),
        ));
        if !req.reuseaddr
            && let Some(f) = fixes.last_mut()
        {
            f.action = Some(FixAction::TestWithReuseAddr);
        }
    }
    let (wait_s, how_long) = match frees_in_s {
        Some(s) => (s + 1, format!("its timer says {s} s")),
        None => {
            let s = f.fin_timeout_s.unwrap_or(60).max(1) + 1;
            (s, format!("FIN_WAIT_2: up to {s} s"))
        }
    };
    fixes.push(
        Fix::new(
            format!("Wait for the kernel to finish them ({how_long}), retrying until it binds"),
            Some(retest(req, &format!(" --wait {wait_s}"))),
        )
        .acting(FixAction::WatchUntilFree)
        .in_window(format!(
            "Wait for the kernel to finish them ({how_long}), re-testing every second until it \
             binds"
        )),
    );
    fixes.push(
        Fix::new(
            format!("See every socket on port {p}, with the peers"),
            Some(format!("portwise list --all --port {p}")),
        )
        .acting(FixAction::ShowPort),
    );
    fixes.push(fix_pick_other());
    (Cause::Orphaned, text, fixes)
}
