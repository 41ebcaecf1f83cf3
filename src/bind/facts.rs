//! The system facts a diagnosis needs besides the snapshot, gathered in one
//! place so that [`super::diagnose()`] stays a pure function.

use std::net::IpAddr;

use super::BindRequest;
use crate::platform::{HOST as os, HostPorts, ProcessIdentity, SysctlReader};
use crate::ports::range::normalize;
use crate::ports::{PortRange, PrivilegedPorts};
use crate::sockets::Snapshot;

/// Which OS the explanations and commands are for: the crate's one OS
/// enum, [`crate::platform::Os`], under the name the bind code knows.
pub use crate::platform::Os as OsKind;

/// Facts about the system, for one bind request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemFacts {
    pub os: OsKind,
    pub privileged: Option<PrivilegedPorts>,
    /// The ephemeral range for the request's protocol.
    pub ephemeral: Vec<PortRange>,
    /// Linux `ip_local_reserved_ports`; Windows: every excluded range,
    /// administered (`*`) or not.
    pub reserved: Vec<PortRange>,
    /// Ranges where explicit binds fail: Windows' excluded ranges of Hyper-V,
    /// WinNAT, WSL2 or Docker (not the administered `*` ones).
    pub excluded: Vec<PortRange>,
    /// This machine's interface addresses, sorted.
    pub local_addrs: Vec<IpAddr>,
    /// TIME_WAIT length here, where known.
    pub time_wait_ms: Option<u64>,
    /// systemd `.socket` units listening on the port (read only when the
    /// snapshot shows systemd holding it).
    pub socket_units: Vec<String>,
    /// Whether this process runs elevated (root, Administrator): then no
    /// fix says "run it with sudo".
    pub elevated: bool,
    /// Linux `net.ipv4.tcp_fin_timeout`, seconds (orphaned FIN_WAIT_2).
    pub fin_timeout_s: Option<u64>,
    /// Login names of the uids of hidden owners on the port.
    pub user_names: Vec<(u32, String)>,
    /// For EADDRNOTAVAIL: this machine's addresses (of the request's
    /// family, plus the wildcard) where the same bind was just tried and
    /// succeeded ([`SystemFacts::check_alternatives`]); empty otherwise.
    pub alternatives: Vec<IpAddr>,
}

impl SystemFacts {
    /// Reads what the diagnosis of `req` may need. Blocks on file reads
    /// and processes (`systemctl`; `netsh` and `reg` on Windows, `sysctl`
    /// on macOS): call it off any UI thread.
    pub fn read(req: &BindRequest, snap: &Snapshot) -> SystemFacts {
        SystemFacts::read_for(req, systemd_holds(req, snap)).with_user_names(req, snap)
    }

    /// [`SystemFacts::read`] when the caller already knows whether systemd
    /// holds the port (so a worker thread needs no copy of the snapshot).
    pub fn read_for(req: &BindRequest, systemd_holds: bool) -> SystemFacts {
        SystemFacts {
            os: OsKind::current(),
            privileged: os.privileged_ports(),
            ephemeral: {
                let mut e = os.ephemeral_ranges(req.proto);
                if e.is_empty() {
                    e.push(os.default_ephemeral_range());
                }
                normalize(e)
            },
            reserved: normalize(os.reserved_ports(req.proto)),
            excluded: normalize(os.excluded_ports(req.proto)),
            local_addrs: local_addresses(),
            time_wait_ms: os.time_wait_ms(),
            socket_units: if systemd_holds && req.port != 0 {
                os.socket_units_for_port(req.port)
            } else {
                Vec::new()
            },
            elevated: os.is_elevated(),
            fin_timeout_s: os
                .read("net.ipv4.tcp_fin_timeout")
                .and_then(|v| v.trim().parse().ok()),
            user_names: Vec::new(),
            alternatives: Vec::new(),
        }
    }

    /// Adds the login names of the uids whose processes `snap` hides on
    /// the request's port.
    pub fn with_user_names(mut self, req: &BindRequest, snap: &Snapshot) -> SystemFacts {
        let mut uids: Vec<u32> = snap
            .on_port(req.proto, req.port)
            .iter()
            .filter(|s| s.processes.is_empty() && !s.orphan)
            .filter_map(|s| s.uid)
            .collect();
        uids.sort_unstable();
        uids.dedup();
        if !uids.is_empty() {
            let mut table = crate::sockets::procinfo::ProcessTable::new();
            self.user_names = uids
                .into_iter()
                .filter_map(|u| table.user_name(u).map(|n| (u, n)))
                .collect();
        }
        self
    }

    /// For an address that is not on this machine: try the same bind on
    /// the loopback and the wildcard of its family and on up to six of
    /// this machine's addresses, and keep those where it succeeds (each
    /// socket is closed at once; nothing is sent). Addresses on the same
    /// network as the one asked for (same /24, or /64 for IPv6) come first,
    /// most bits in common first: 192.0.2.2 for a mistyped 192.0.2.1,
    /// before the loopback or an unrelated bridge's 10.88.0.1.
    pub fn check_alternatives(mut self, req: &BindRequest) -> SystemFacts {
        let candidates = alternative_candidates(&self.local_addrs, req.addr);
        self.alternatives = candidates
            .into_iter()
            .filter(|a| *a != req.addr)
            .filter(|a| {
                let r = BindRequest {
                    addr: *a,
                    scope_id: 0,
                    ..req.clone()
                };
                super::probe(&r).is_ok()
            })
            .collect();
        self
    }

    /// The login name of `uid`, where known.
    pub fn user_name(&self, uid: u32) -> Option<&str> {
        self.user_names
            .iter()
            .find(|(u, _)| *u == uid)
            .map(|(_, n)| n.as_str())
    }

    /// "user alice (uid 1000)", or "uid 1000" when the name is unknown.
    pub fn user_text(&self, uid: u32) -> String {
        match self.user_name(uid) {
            Some(n) => format!("user {n} (uid {uid})"),
            None => format!("uid {uid}"),
        }
    }
}

/// Whether `snap` shows systemd holding `req`'s port (socket activation):
/// then the facts include its `.socket` units.
pub fn systemd_holds(req: &BindRequest, snap: &Snapshot) -> bool {
    snap.sockets
        .iter()
        .any(|s| s.local_port == req.port && s.processes.iter().any(|p| p.name == "systemd"))
}

/// The interface of each IPv6 link-local address seen by the last
/// [`local_addresses`], for [`address_text`].
static LINK_LOCAL_SCOPES: std::sync::Mutex<Vec<(std::net::Ipv6Addr, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The addresses [`SystemFacts::check_alternatives`] tries for `asked`,
/// in the order it offers them: the loopback and the wildcard of its
/// family, then up to six of `local` (not loopback, not link-local), with
/// those on the same network as `asked` (same /24, or /64 for IPv6) moved
/// to the front, most bits in common first.
pub fn alternative_candidates(local: &[IpAddr], asked: IpAddr) -> Vec<IpAddr> {
    let v4 = asked.is_ipv4();
    let mut candidates: Vec<IpAddr> = if v4 {
        vec![
            IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
            IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED),
        ]
    } else {
        vec![
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED),
        ]
    };
    let mut mine: Vec<IpAddr> = local
        .iter()
        .filter(|a| a.is_ipv4() == v4 && !a.is_loopback())
        // A link-local address needs its scope; the address list offers
        // those with it.
        .filter(|a| !matches!(a, IpAddr::V6(v6) if v6.is_unicast_link_local()))
        .copied()
        .collect();
    let same_net = if v4 { 24 } else { 64 };
    let closeness = |a: &IpAddr| {
        let bits = common_prefix_bits(a, &asked);
        std::cmp::Reverse(if bits >= same_net { bits } else { 0 })
    };
    mine.sort_by_key(closeness);
    candidates.extend(mine.into_iter().take(6));
    candidates.sort_by_key(closeness);
    candidates
}

/// How many leading bits two addresses share (0 across families).
pub fn common_prefix_bits(a: &IpAddr, b: &IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (u32::from(*x) ^ u32::from(*y)).leading_zeros(),
        (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(*x) ^ u128::from(*y)).leading_zeros(),
        _ => 0,
    }
}

/// Every address of this machine's interfaces, sorted, without duplicates
/// (for the Bind test view's address list and for `address_not_local`).
/// Remembers the interface of each IPv6 link-local one ([`address_text`]).
pub fn local_addresses() -> Vec<IpAddr> {
    let mut scopes = Vec::new();
    let mut out: Vec<IpAddr> = Vec::new();
    if let Ok(nets) = sysinfo::Networks::new_with_refreshed_list() {
        for (name, data) in nets.iter() {
            for a in data.ip_networks().iter().map(|n| n.addr) {
                if let IpAddr::V6(v6) = a
                    && v6.is_unicast_link_local()
                {
                    scopes.push((v6, name.to_string_lossy().into_owned()));
                }
                out.push(a);
            }
        }
    }
    // Loopback is local on every OS, listed among the interfaces or not
    // (Wine's adapter list leaves it out).
    out.extend([
        IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
    ]);
    out.sort();
    out.dedup();
    *LINK_LOCAL_SCOPES.lock().unwrap_or_else(|e| e.into_inner()) = scopes;
    out
}

/// `addr` as the address field takes it: an IPv6 link-local address with
/// its interface ("fe80::1%eth0"; the first one, if several interfaces
/// have it), which binding it needs; any other address as it prints.
pub fn address_text(addr: &IpAddr) -> String {
    if let IpAddr::V6(v6) = addr
        && v6.is_unicast_link_local()
        && let Some((_, name)) = LINK_LOCAL_SCOPES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(a, _)| a == v6)
    {
        return format!("{v6}%{name}");
    }
    addr.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_among_the_local_addresses() {
        let addrs = local_addresses();
        assert!(addrs.contains(&"127.0.0.1".parse().unwrap()), "{addrs:?}");
        assert!(!addrs.contains(&"192.0.2.1".parse().unwrap()));
    }

    /// The address list offers link-local addresses with their interface,
    /// in a form the address field parses back with its scope.
    #[test]
    fn link_local_addresses_are_offered_with_their_scope() {
        let addrs = local_addresses();
        let mut seen = 0;
        for a in &addrs {
            let text = address_text(a);
            let parsed = crate::util::parse::scoped_ip_addr(&text);
            assert_eq!(parsed.map(|p| p.ip), Some(*a), "{text}");
            if matches!(a, IpAddr::V6(v6) if v6.is_unicast_link_local()) {
                assert!(text.contains('%'), "{text}");
                assert_ne!(parsed.map(|p| p.scope_id), Some(0), "{text}");
                seen += 1;
            } else {
                assert_eq!(text, a.to_string());
            }
        }
        if seen == 0 {
            eprintln!("SKIPPED: no link-local address on this machine ({addrs:?})");
        }
    }

    /// For a mistyped address, this machine's address on the same network
    /// is offered first; unrelated ones keep their order after the
    /// loopback and the wildcard; link-local and other families are left
    /// out.
    #[test]
    fn alternatives_on_the_asked_network_come_first() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let local = [
            ip("10.88.0.1"),
            ip("172.17.0.1"),
            ip("192.0.2.2"),
            ip("192.0.2.200"),
            ip("192.0.3.2"),
            ip("fe80::1"),
            ip("2001:db8::5"),
            ip("127.0.0.1"),
        ];
        assert_eq!(
            alternative_candidates(&local, ip("192.0.2.1")),
            [
                "192.0.2.2",
                "192.0.2.200",
                "127.0.0.1",
                "0.0.0.0",
                "10.88.0.1",
                "172.17.0.1",
                "192.0.3.2",
            ]
            .map(ip)
        );
        assert_eq!(
            alternative_candidates(&local, ip("2001:db8::1")),
            ["2001:db8::5", "::1", "::"].map(ip)
        );
        assert_eq!(
            alternative_candidates(&local, ip("198.51.100.7"))[..3],
            ["127.0.0.1", "0.0.0.0", "10.88.0.1"].map(ip)
        );
    }
}
