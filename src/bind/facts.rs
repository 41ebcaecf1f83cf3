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

/// Every address of this machine's interfaces, sorted, without duplicates
/// (for the Bind test view's address list and for `address_not_local`).
pub fn local_addresses() -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = match sysinfo::Networks::new_with_refreshed_list() {
        Ok(nets) => nets
            .values()
            .flat_map(|data| data.ip_networks().iter().map(|n| n.addr))
            .collect(),
        Err(_) => Vec::new(),
    };
    // Loopback is local on every OS, listed among the interfaces or not
    // (Wine's adapter list leaves it out).
    out.extend([
        IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
    ]);
    out.sort();
    out.dedup();
    out
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
}
