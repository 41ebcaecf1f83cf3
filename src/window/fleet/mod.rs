//! The Fleet view: "who listens on port P on any of my hosts", and each
//! host's TIME_WAIT pile and unattributed count side by side. It reads the
//! snapshots the hosts' workers keep (LISTEN, bound UDP and TIME_WAIT,
//! refreshed every [`crate::window::hosts::HOST_REFRESH`]); it asks nothing
//! of the network itself. No egui here.

pub mod view;

use crate::remote::fleet::HostStatus;
use crate::remote::shown;
use crate::sockets::{Snapshot, SocketEntry};
use crate::window::hosts::{Tab, host_status_text, status_text};

/// What the Fleet view can ask for.
#[derive(Clone, Debug)]
pub enum FleetMsg {
    SetPort(String),
}

#[derive(Clone, Debug, Default)]
pub struct FleetState {
    pub port_text: String,
}

/// The port asked about: None when the box is empty; Err for bad input.
pub fn port(state: &FleetState) -> Result<Option<u16>, String> {
    let t = state.port_text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u16>() {
        Ok(p) if p > 0 => Ok(Some(p)),
        _ => Err(format!("'{}' is not a port (1 to 65535)", shown(t, 20))),
    }
}

pub fn update(f: &mut FleetState, msg: FleetMsg) {
    match msg {
        FleetMsg::SetPort(t) => f.port_text = t,
    }
}

/// One host's line of the Fleet view.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetRow {
    pub host: String,
    /// "connected, 23 ms", "connecting…" or the failure.
    pub status: String,
    pub connected: bool,
    /// Listeners on the asked port ("tcp 0.0.0.0:8080 python3 (4242)"), or
    /// with no port every listener's count in `listening`.
    pub holders: Vec<String>,
    pub listening: Option<usize>,
    pub time_wait: Option<usize>,
    pub unattributed: Option<usize>,
    /// How old the figures are, in seconds, when the host is not
    /// connected now but was before.
    pub stale: bool,
}

/// A listener as the Fleet view names it.
fn holder_text(e: &SocketEntry) -> String {
    let mut s = format!("{} ", e.proto);
    crate::sockets::write_endpoint(&mut s, &e.local_addr, e.local_port);
    if e.processes.is_empty() {
        s.push_str(if e.orphan {
            " (no process)"
        } else {
            " (owner not visible)"
        });
    }
    for p in &e.processes {
        s.push_str(&format!(" {} ({})", shown(&p.name, 40), p.pid));
    }
    s
}

/// The row of one host with `snapshot`.
pub fn row(
    host: &str,
    status: &HostStatus,
    snapshot: Option<&Snapshot>,
    port: Option<u16>,
) -> FleetRow {
    let connected = matches!(status, HostStatus::Connected { .. });
    let mut r = FleetRow {
        host: shown(host, 80),
        status: status_text(status),
        connected,
        holders: Vec::new(),
        listening: None,
        time_wait: None,
        unattributed: None,
        stale: !connected && snapshot.is_some(),
    };
    if let Some(s) = snapshot {
        let (mut listening, mut tw) = (0, 0);
        for e in &s.sockets {
            if e.is_listening() {
                listening += 1;
                if port == Some(e.local_port) {
                    r.holders.push(holder_text(e));
                }
            } else if e.is_kernel_owned() {
                tw += 1;
            }
        }
        r.listening = Some(listening);
        r.time_wait = Some(tw);
        r.unattributed = Some(s.unattributed);
    }
    r
}

/// Every watched host's row, in host order.
pub fn rows(tabs: &[Tab], port: Option<u16>) -> Vec<FleetRow> {
    tabs.iter()
        .map(|t| {
            let mut r = row(
                t.dest.as_str(),
                &t.state.status,
                t.state.snapshot.as_deref(),
                port,
            );
            r.status = host_status_text(&t.state);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{listener, snapshot, time_wait};
    use std::time::Duration;

    #[test]
    fn who_listens_and_the_piles() {
        let mut s = snapshot(
            1,
            vec![
                listener("0.0.0.0", 8080, 42, "python3"),
                listener("127.0.0.1", 5432, 7, "postgres"),
                time_wait(8080, 40_000, 1_000, None),
                time_wait(8080, 40_001, 1_000, None),
            ],
        );
        s.unattributed = 3;
        let up = HostStatus::Connected {
            hello: crate::remote::protocol::Hello::this_machine(),
            latency: Duration::from_millis(23),
        };
        let r = row("web", &up, Some(&s), Some(8080));
        assert_eq!(r.holders, ["tcp 0.0.0.0:8080 python3 (42)"]);
        assert_eq!(
            (r.listening, r.time_wait, r.unattributed),
            (Some(2), Some(2), Some(3))
        );
        assert!(r.status.starts_with("connected, 23 ms"));
        assert!(row("web", &up, Some(&s), Some(9)).holders.is_empty());
        let down = HostStatus::Failed {
            reason: "cannot reach db: Connection refused".into(),
            retry_in: Duration::from_secs(2),
        };
        let r = row("db", &down, None, Some(8080));
        assert_eq!((r.time_wait, r.stale, r.connected), (None, false, false));
        assert!(r.status.contains("Connection refused"));
        assert!(row("db", &down, Some(&s), None).stale);
    }

    #[test]
    fn port_box() {
        let f = |t: &str| {
            port(&FleetState {
                port_text: t.into(),
            })
        };
        assert_eq!(f(""), Ok(None));
        assert_eq!(f(" 80 "), Ok(Some(80)));
        assert!(f("0").is_err() && f("70000").is_err() && f("x").is_err());
    }
}
