//! What each socket option really does on each OS (for tooltips and
//! `--help`). Sources: man7 socket(7) (SO_REUSEADDR, SO_REUSEPORT);
//! learn.microsoft.com "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE";
//! ip-sysctl.rst (net.ipv6.bindv6only); learn.microsoft.com "IPV6_V6ONLY"
//! socket option (on by default on Windows); BSD SO_REUSEPORT: FreeBSD setsockopt(2) ("allows
//! completely duplicate bindings by multiple processes if they all set
//! SO_REUSEPORT before binding the port").

use super::OsKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SockOption {
    ReuseAddr,
    ReusePort,
    V6Only,
}

/// One or two sentences on what `opt` does on `os`.
pub fn option_help(os: OsKind, opt: SockOption) -> &'static str {
    match (opt, os) {
        (SockOption::ReuseAddr, OsKind::Linux) => {
            "SO_REUSEADDR: bind() succeeds while old connections on this port sit in TIME_WAIT, \
             but only if those old sockets had set it too. It never lets you bind next to an \
             active listener."
        }
        (SockOption::ReuseAddr, OsKind::Macos) => {
            "SO_REUSEADDR: bind() succeeds while old connections on this port sit in TIME_WAIT \
             (only the new socket needs it), and a specific address may bind beside a wildcard \
             one. It does not let two sockets share the same address and port."
        }
        // learn.microsoft.com/windows/win32/winsock/
        // using-so-reuseaddr-and-so-exclusiveaddruse, "Enhanced Socket
        // Security" (Windows Server 2003 and Windows XP SP2 onward): sockets
        // are not sharable by default; a second socket that sets
        // SO_REUSEADDR binds a port in use only if the first one set it too
        // (delivery between them is then undefined), otherwise its bind
        // fails with WSAEACCES; a bind from another user account fails with
        // WSAEACCES even with no options. "Lets any socket take a port in
        // use" is that page's section on Windows XP and earlier.
        (SockOption::ReuseAddr, OsKind::Windows) => {
            "SO_REUSEADDR on Windows (Server 2003 / XP SP2 and later): a second socket may bind \
             a port in use only if the first socket set SO_REUSEADDR too, and then which one \
             gets the traffic is undefined; otherwise the bind fails with WSAEACCES (10013). A \
             bind from another user account fails with WSAEACCES even with no options. A \
             restart does not need it. SO_EXCLUSIVEADDRUSE forbids any sharing, but may delay \
             a server's restart until the connections it accepted are gone."
        }
        (SockOption::ReusePort, OsKind::Linux) => {
            "SO_REUSEPORT: several sockets share one address and port when every one of them \
             sets it and they run as the same user; the kernel load-balances connections \
             between them (Linux 3.9 and later)."
        }
        (SockOption::ReusePort, OsKind::Macos) => {
            "SO_REUSEPORT: several sockets may bind the same address and port when all of them \
             set it before binding (BSD semantics)."
        }
        (SockOption::ReusePort, OsKind::Windows) => "SO_REUSEPORT does not exist on Windows.",
        (SockOption::V6Only, OsKind::Linux) => {
            "IPV6_V6ONLY: on, a [::] socket takes IPv6 only; off, it also takes IPv4 on the same \
             port (dual stack). Off by default (net.ipv6.bindv6only = 0)."
        }
        (SockOption::V6Only, OsKind::Macos) => {
            "IPV6_V6ONLY: on, a [::] socket takes IPv6 only; off, it also takes IPv4 on the same \
             port (dual stack). The default comes from net.inet6.ip6.v6only."
        }
        (SockOption::V6Only, OsKind::Windows) => {
            "IPV6_V6ONLY: IPv6 sockets are v6-only by default on Windows; turning it off makes a \
             [::] socket take IPv4 on the same port too."
        }
    }
}

/// What a TIME_WAIT row means for a server that wants its port, on `os`
/// (the Sockets view's note under a TIME_WAIT socket).
///
/// Linux: net/ipv4/inet_connection_sock.c inet_bind_conflict() lets a bind
/// pass a TIME_WAIT socket only when both set SO_REUSEADDR (socket(7)).
/// macOS (BSD): only the new socket needs SO_REUSEADDR (xnu
/// bsd/netinet/in_pcb.c in_pcbbind()). Windows: a TIME_WAIT remnant does not
/// block a new bind unless the old listening socket used SO_EXCLUSIVEADDRUSE
/// (learn.microsoft.com "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE"), and
/// portwise's Windows advice is not to set SO_REUSEADDR there.
pub fn time_wait_note(os: OsKind) -> &'static str {
    match os {
        OsKind::Linux => {
            "TIME_WAIT belongs to the kernel, not to a process. A new server can bind this port \
             meanwhile only with SO_REUSEADDR set before bind(), and only if the socket that \
             left it had set it too (most servers do)."
        }
        OsKind::Macos => {
            "TIME_WAIT belongs to the kernel, not to a process. A new server can bind this port \
             meanwhile if it sets SO_REUSEADDR before bind() (only the new socket needs it)."
        }
        OsKind::Windows => {
            "TIME_WAIT belongs to the system, not to a process. A new server usually binds this \
             port meanwhile with no socket option (do not set SO_REUSEADDR for it); only if the \
             old listening socket used SO_EXCLUSIVEADDRUSE may the port stay blocked until its \
             connections are gone."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_wait_note_is_per_os() {
        assert!(time_wait_note(OsKind::Linux).contains("had set it too"));
        assert!(time_wait_note(OsKind::Macos).contains("only the new socket"));
        let w = time_wait_note(OsKind::Windows);
        assert!(
            w.contains("no socket option") && w.contains("do not set SO_REUSEADDR"),
            "{w}"
        );
        assert!(!w.contains("only with SO_REUSEADDR"), "{w}");
    }

    #[test]
    fn every_option_has_text_on_every_os() {
        for os in [OsKind::Linux, OsKind::Macos, OsKind::Windows] {
            for opt in [
                SockOption::ReuseAddr,
                SockOption::ReusePort,
                SockOption::V6Only,
            ] {
                assert!(option_help(os, opt).len() > 20);
            }
        }
        // The Linux text must carry the both-sockets rule, never "share a port".
        let t = option_help(OsKind::Linux, SockOption::ReuseAddr);
        assert!(t.contains("old sockets had set it too") && t.contains("never"));
        // Windows: SO_EXCLUSIVEADDRUSE is no restart fix (it may delay one).
        let t = option_help(OsKind::Windows, SockOption::ReuseAddr);
        assert!(t.contains("may delay"), "{t}");
        // Windows: sharing needs the first socket's consent (no theft since
        // Server 2003 / XP SP2), and another account gets WSAEACCES.
        assert!(
            t.contains("only if the first socket set SO_REUSEADDR"),
            "{t}"
        );
        assert!(t.contains("another user account"), "{t}");
        assert!(!t.contains("take a port another socket is using"), "{t}");
    }
}
