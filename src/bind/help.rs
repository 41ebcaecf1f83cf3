//! What each socket option really does on each OS (for tooltips and
//! `--help`). Facts: ../shared/knowledge/ports-and-time-wait.md (SO_REUSEADDR
//! row: man7 socket(7), learn.microsoft.com "Using SO_REUSEADDR and
//! SO_EXCLUSIVEADDRUSE"; net.ipv6.bindv6only; "IPv6 sockets are v6-only by
//! default on Windows"); BSD SO_REUSEPORT: FreeBSD setsockopt(2) ("allows
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(t.contains("only if the first socket set SO_REUSEADDR"), "{t}");
        assert!(t.contains("another user account"), "{t}");
        assert!(!t.contains("take a port another socket is using"), "{t}");
    }
}
