//! Which sockets to show: one filter for the CLI and the window alike.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::model::{Proto, Snapshot, SocketEntry, TcpState};

/// Which states to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StateFilter {
    /// TCP LISTEN, TCP TIME_WAIT and every (bound) UDP socket: the sockets
    /// that decide whether a port is free for a new server.
    #[default]
    PortHolders,
    /// Every socket in every state.
    All,
    /// TCP sockets in these states. UDP sockets have no state and are left
    /// out.
    Only(BTreeSet<TcpState>),
}

impl StateFilter {
    /// Whether this filter can keep a TCP socket in `state`.
    pub fn allows(&self, state: TcpState) -> bool {
        match self {
            StateFilter::PortHolders => state == TcpState::Listen || state == TcpState::TimeWait,
            StateFilter::All => true,
            StateFilter::Only(set) => set.contains(&state),
        }
    }

    pub fn matches(&self, s: &SocketEntry) -> bool {
        match self {
            StateFilter::PortHolders => match s.state {
                None => true,
                Some(st) => st == TcpState::Listen || st == TcpState::TimeWait,
            },
            StateFilter::All => true,
            StateFilter::Only(set) => s.state.is_some_and(|st| set.contains(&st)),
        }
    }
}

/// A socket filter. Every set field must match; `Default` is the default
/// view (LISTEN, UDP, TIME_WAIT; no other condition).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub states: StateFilter,
    /// Matches the local or the remote port.
    pub port: Option<u16>,
    pub proto: Option<Proto>,
    /// Keeps the sockets this process holds.
    pub pid: Option<u32>,
    /// Free text, case-insensitive, matched as a substring of the ports,
    /// addresses (`127.0.0.1`, `127.0.0.1:8080`, `[::1]:8080`), process
    /// names and pids, the last known owner's name and pid, and (Linux) the
    /// network namespace's name and its container's name or short id.
    /// Empty matches everything.
    pub text: String,
}

impl Filter {
    /// Every state, no other condition.
    pub fn all() -> Self {
        Filter {
            states: StateFilter::All,
            ..Filter::default()
        }
    }

    /// True when every socket matches (all states, no other condition).
    pub fn keeps_everything(&self) -> bool {
        self.states == StateFilter::All
            && self.port.is_none()
            && self.proto.is_none()
            && self.pid.is_none()
            && self.text.trim().is_empty()
    }

    pub fn matches(&self, s: &SocketEntry) -> bool {
        self.states.matches(s)
            && self.proto.is_none_or(|p| p == s.proto)
            && self
                .port
                .is_none_or(|p| s.local_port == p || s.remote_port == Some(p))
            && self
                .pid
                .is_none_or(|pid| s.processes.iter().any(|p| p.pid == pid))
            && self.text_matches(s)
    }

    /// The sockets of `snapshot` this filter keeps, in snapshot order.
    pub fn apply<'s>(&self, snapshot: &'s Snapshot) -> Vec<&'s SocketEntry> {
        snapshot
            .sockets
            .iter()
            .filter(|s| self.matches(s))
            .collect()
    }

    fn text_matches(&self, s: &SocketEntry) -> bool {
        let needle = self.text.trim();
        if needle.is_empty() {
            return true;
        }
        let mut buf = String::with_capacity(64);
        let hit = |buf: &mut String, f: &dyn Fn(&mut String)| {
            buf.clear();
            f(buf);
            contains_ignore_case(buf, needle)
        };
        let endpoint = super::write_endpoint;
        if hit(&mut buf, &|b| endpoint(b, &s.local_addr, s.local_port)) {
            return true;
        }
        if let (Some(ip), Some(port)) = (s.remote_addr, s.remote_port)
            && hit(&mut buf, &|b| endpoint(b, &ip, port))
        {
            return true;
        }
        for p in &s.processes {
            if contains_ignore_case(&p.name, needle)
                || hit(&mut buf, &|b| {
                    let _ = write!(b, "{}", p.pid);
                })
            {
                return true;
            }
        }
        if let Some(ns) = &s.netns
            && (ns
                .name
                .as_deref()
                .is_some_and(|n| contains_ignore_case(n, needle))
                || ns.container.as_ref().is_some_and(|c| {
                    c.name
                        .as_deref()
                        .is_some_and(|n| contains_ignore_case(n, needle))
                        || contains_ignore_case(c.short_id(), needle)
                }))
        {
            return true;
        }
        if let Some(p) = &s.published
            && p.container.as_ref().is_some_and(|c| {
                c.name
                    .as_deref()
                    .is_some_and(|n| contains_ignore_case(n, needle))
                    || contains_ignore_case(c.short_id(), needle)
            })
        {
            return true;
        }
        if let Some(o) = &s.last_known_owner
            && (contains_ignore_case(&o.name, needle)
                || hit(&mut buf, &|b| {
                    let _ = write!(b, "{}", o.pid);
                }))
        {
            return true;
        }
        false
    }
}

/// ASCII-case-insensitive substring test, without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return false;
    }
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::model::{OwnerRef, ProcessInfo};

    fn entry(
        proto: Proto,
        state: Option<TcpState>,
        local: u16,
        remote: Option<u16>,
    ) -> SocketEntry {
        SocketEntry {
            processes: vec![ProcessInfo {
                pid: 4242,
                name: "Python3".into(),
                user: Some("alice".into()),
                exe: None,
                cmdline: None,
            }],
            inode: 1,
            ..SocketEntry::new(
                proto,
                ([127, 0, 0, 1], local).into(),
                remote.map(|p| ([10, 1, 2, 3], p).into()),
                state,
            )
        }
    }

    #[test]
    fn default_view_keeps_port_holders_only() {
        let f = Filter::default();
        assert!(f.matches(&entry(Proto::Tcp, Some(TcpState::Listen), 80, None)));
        assert!(f.matches(&entry(Proto::Tcp, Some(TcpState::TimeWait), 80, Some(5000))));
        assert!(f.matches(&entry(Proto::Udp, None, 53, None)));
        assert!(!f.matches(&entry(
            Proto::Tcp,
            Some(TcpState::Established),
            80,
            Some(5000)
        )));
        assert!(Filter::all().matches(&entry(
            Proto::Tcp,
            Some(TcpState::Established),
            80,
            Some(1)
        )));
    }

    #[test]
    fn explicit_states_keep_only_tcp_in_those_states() {
        let f = Filter {
            states: StateFilter::Only([TcpState::Established].into_iter().collect()),
            ..Filter::default()
        };
        assert!(f.matches(&entry(Proto::Tcp, Some(TcpState::Established), 80, Some(1))));
        assert!(!f.matches(&entry(Proto::Tcp, Some(TcpState::Listen), 80, None)));
        assert!(!f.matches(&entry(Proto::Udp, None, 53, None)));
        assert!(f.states.allows(TcpState::Established) && !f.states.allows(TcpState::Closed));
        assert!(StateFilter::All.allows(TcpState::Closed));
        assert!(!StateFilter::PortHolders.allows(TcpState::Closed));
    }

    #[test]
    fn port_matches_either_end_and_proto_and_pid_narrow() {
        let f = Filter {
            port: Some(5000),
            ..Filter::all()
        };
        assert!(f.matches(&entry(
            Proto::Tcp,
            Some(TcpState::Established),
            80,
            Some(5000)
        )));
        assert!(f.matches(&entry(Proto::Tcp, Some(TcpState::Listen), 5000, None)));
        assert!(!f.matches(&entry(Proto::Tcp, Some(TcpState::Listen), 5001, None)));
        let udp = Filter {
            proto: Some(Proto::Udp),
            ..Filter::all()
        };
        assert!(udp.matches(&entry(Proto::Udp, None, 53, None)));
        assert!(!udp.matches(&entry(Proto::Tcp, Some(TcpState::Listen), 53, None)));
        let pid = Filter {
            pid: Some(4242),
            ..Filter::all()
        };
        assert!(pid.matches(&entry(Proto::Udp, None, 53, None)));
        let other = Filter {
            pid: Some(1),
            ..Filter::all()
        };
        assert!(!other.matches(&entry(Proto::Udp, None, 53, None)));
    }

    #[test]
    fn text_matches_ports_addresses_names_and_pids() {
        let e = entry(Proto::Tcp, Some(TcpState::Established), 8080, Some(5000));
        let with = |t: &str| Filter {
            text: t.into(),
            ..Filter::all()
        };
        for t in [
            "808",
            "127.0.0.1:8080",
            "10.1.2",
            ":5000",
            "python",
            "PYTH",
            "4242",
            "  ",
        ] {
            assert!(with(t).matches(&e), "{t:?} should match");
        }
        for t in ["9090", "nginx", "10.9", "alice"] {
            assert!(!with(t).matches(&e), "{t:?} should not match");
        }
        let mut tw = entry(Proto::Tcp, Some(TcpState::TimeWait), 8080, Some(5000));
        tw.processes.clear();
        tw.last_known_owner = Some(OwnerRef {
            pid: 77,
            name: "node".into(),
        });
        assert!(with("node").matches(&tw));
        assert!(with("77").matches(&tw));
        let mut v6 = entry(Proto::Tcp, Some(TcpState::Listen), 443, None);
        v6.local_addr = "::1".parse().unwrap();
        assert!(with("[::1]:443").matches(&v6));
    }

    #[test]
    fn text_matches_the_container_and_namespace_names() {
        use crate::sockets::model::{Container, NetnsRef};
        let with = |t: &str| Filter {
            text: t.into(),
            ..Filter::all()
        };
        let mut e = entry(Proto::Tcp, Some(TcpState::Listen), 8080, None);
        assert!(!with("web").matches(&e));
        e.netns = Some(std::sync::Arc::new(NetnsRef {
            inode: 4026532239,
            name: Some("blue".into()),
            container: Some(Container {
                runtime: "docker".into(),
                id: "3f2a9c1b7d0e4f5a8b6c".into(),
                name: Some("web-frontend".into()),
            }),
        }));
        for t in ["web", "FRONTEND", "blue", "3f2a9c1b7d0e"] {
            assert!(with(t).matches(&e), "{t:?} should match");
        }
        // Past the short id, and the runtime alone, do not.
        for t in ["4f5a8b6c", "docker", "red"] {
            assert!(!with(t).matches(&e), "{t:?} should not match");
        }
    }
}
