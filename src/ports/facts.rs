//! What the OS says about its ports: read once, then used by every pick.

use serde::Serialize;

use super::range::{PortRange, normalize, subtract};
use super::{ProtoChoice, probe};
use crate::platform::{HOST as os, HostPorts};

/// Which ports need privileges to bind (reported by the platform layer).
pub use crate::platform::PrivilegedPorts;

/// The OS's port facts for one protocol choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortFacts {
    /// Where the OS takes ports for port-0 binds and outgoing connections,
    /// normalized (TCP and UDP merged for `both`).
    pub ephemeral: Vec<PortRange>,
    /// False when the range could not be read and the OS's documented
    /// default is assumed instead.
    pub ephemeral_read: bool,
    /// Ports the OS keeps out of automatic assignment: Linux
    /// `ip_local_reserved_ports`; on Windows every excluded port range,
    /// administered (`*`) or not.
    pub reserved: Vec<PortRange>,
    /// Ports where even an explicit bind fails: Windows' excluded ranges
    /// held by Hyper-V, WinNAT, WSL2 or Docker (no `*`). Administered ranges
    /// (`*`) are not here: an explicit bind to them works; they are in
    /// `reserved`, so picking avoids them too.
    pub excluded: Vec<PortRange>,
    pub privileged: Option<PrivilegedPorts>,
    /// Whether an IPv6 socket can be bound to `::` here.
    pub ipv6: bool,
}

impl PortFacts {
    /// Reads the facts from the running system. On Windows this runs
    /// `netsh` (tens of milliseconds): read once, reuse for many picks.
    pub fn read(proto: ProtoChoice) -> PortFacts {
        let mut ephemeral = Vec::new();
        let mut reserved = Vec::new();
        let mut excluded = Vec::new();
        for &p in proto.protos() {
            ephemeral.extend(os.ephemeral_ranges(p));
            reserved.extend(os.reserved_ports(p));
            excluded.extend(os.excluded_ports(p));
        }
        let ephemeral_read = !ephemeral.is_empty();
        if !ephemeral_read {
            ephemeral.push(os.default_ephemeral_range());
        }
        reserved.extend(excluded.iter().copied());
        PortFacts {
            ephemeral: normalize(ephemeral),
            ephemeral_read,
            reserved: normalize(reserved),
            excluded: normalize(excluded),
            privileged: os.privileged_ports(),
            ipv6: probe::ipv6_available(),
        }
    }

    /// The candidates of the default strategy: 1024-65535, minus the
    /// ephemeral range, the reserved ports, and any port below the
    /// privileged limit (a port picked as root must also work unprivileged).
    pub fn outside_ephemeral(&self) -> Vec<PortRange> {
        let first = self
            .privileged
            .as_ref()
            .map_or(1024, |p| p.first_unprivileged.max(1024));
        let base = [PortRange {
            lo: first,
            hi: 65535,
        }];
        let mut minus = self.ephemeral.clone();
        minus.extend(self.reserved.iter().copied());
        subtract(&base, &minus)
    }

    /// True when `port` lies in the ephemeral range.
    pub fn is_ephemeral(&self, port: u16) -> bool {
        super::range::any_contains(&self.ephemeral, port)
    }
}

/// How long a TIME_WAIT socket lives on this OS, in milliseconds, where
/// it is known (Linux: 60 s; macOS: 2 x `net.inet.tcp.msl`; Windows:
/// `TcpTimedWaitDelay`, 120 s by default).
pub fn time_wait_ms() -> Option<u64> {
    os.time_wait_ms()
}

/// One line on what `--reserve` does on this OS, and its limits.
pub fn reservation_note() -> &'static str {
    os.reservation_note()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(eph: PortRange, reserved: Vec<PortRange>, first: u16) -> PortFacts {
        PortFacts {
            ephemeral: vec![eph],
            ephemeral_read: true,
            reserved,
            excluded: vec![],
            privileged: Some(PrivilegedPorts {
                first_unprivileged: first,
                wildcard_exempt: false,
                setting: None,
                read_from_system: true,
            }),
            ipv6: true,
        }
    }

    #[test]
    fn outside_ephemeral_excludes_range_reserved_and_privileged() {
        let f = facts(
            PortRange::new(32768, 60999).unwrap(),
            vec![PortRange::single(8080)],
            1024,
        );
        let c = f.outside_ephemeral();
        assert_eq!(
            c,
            vec![
                PortRange::new(1024, 8079).unwrap(),
                PortRange::new(8081, 32767).unwrap(),
                PortRange::new(61000, 65535).unwrap()
            ]
        );
        // A raised unprivileged start cuts the bottom.
        let f = facts(PortRange::new(32768, 60999).unwrap(), vec![], 2000);
        assert_eq!(f.outside_ephemeral()[0].lo, 2000);
        assert!(f.is_ephemeral(40000) && !f.is_ephemeral(20000));
    }
}
