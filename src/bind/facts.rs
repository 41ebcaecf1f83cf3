//! The system facts a diagnosis needs besides the snapshot, gathered in one
//! place so that [`super::diagnose()`] stays a pure function.

use std::net::IpAddr;

use super::BindRequest;
use crate::platform::{HOST as os, HostPorts};
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
}

impl SystemFacts {
    /// Reads what the diagnosis of `req` may need. Blocks on file reads
    /// and processes (`systemctl`; `netsh` and `reg` on Windows, `sysctl`
    /// on macOS): call it off any UI thread.
    pub fn read(req: &BindRequest, snap: &Snapshot) -> SystemFacts {
        SystemFacts::read_for(req, systemd_holds(req, snap))
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
}
