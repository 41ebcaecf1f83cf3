//! The bind tester: try a bind exactly as asked, and when it fails, explain
//! why from the error and a fresh socket snapshot.
//!
//! - [`probe`]: the bind itself (socket2, plus `listen` for TCP).
//! - [`diagnose()`]: a pure function from (request, error, snapshot, system
//!   facts) to a [`Diagnosis`]: cause, explanation, holders, TIME_WAIT,
//!   fixes. Unit tested with constructed snapshots.
//! - [`test_bind`] / [`wait_until_bound`]: probe + snapshot + diagnose, what
//!   the CLI calls; [`report_failure`] diagnoses against a snapshot the
//!   caller already holds (the window's sampler).

pub mod diagnose;
pub mod facts;
pub mod help;
pub mod probe;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::sockets::{Proto, Snapshot, SocketSource};

pub use diagnose::{bind_test_command, diagnose};
// The snapshot queries live in sockets::port_use; re-exported here for the
// callers that know them as bind's.
pub use crate::sockets::port_use::{
    Holder, PortUse, TimeWaitInfo, holders_on, port_use, time_wait_on,
};
pub use facts::{OsKind, SystemFacts, address_text, local_addresses, systemd_holds};
pub use help::{SockOption, option_help};
pub use probe::{Bound, ProbeError, ProbeFailure, Stage, probe};

/// What to bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindRequest {
    pub addr: IpAddr,
    /// 0 asks the OS to pick.
    pub port: u16,
    pub proto: Proto,
    pub reuseaddr: bool,
    /// Unix only; on Windows the probe refuses it ([`ProbeError::Unsupported`]).
    pub reuseport: bool,
    /// Set IPV6_V6ONLY; only valid with an IPv6 address.
    pub v6only: bool,
    /// The IPv6 scope id (interface index) to bind with, as in
    /// "fe80::1%eth0"; 0 for none. A link-local address needs one.
    pub scope_id: u32,
}

impl BindRequest {
    /// A plain bind of `addr:port`, no options.
    pub fn new(addr: IpAddr, port: u16, proto: Proto) -> BindRequest {
        BindRequest {
            addr,
            port,
            proto,
            reuseaddr: false,
            reuseport: false,
            v6only: false,
            scope_id: 0,
        }
    }

    /// A one-line problem with the options themselves (bad usage), if any.
    pub fn validate(&self) -> Result<(), String> {
        if self.v6only && self.addr.is_ipv4() {
            return Err(format!(
                "--v6only applies to IPv6 addresses, not {} (try --addr ::)",
                self.addr
            ));
        }
        Ok(())
    }
}

/// The class of a bind error, whatever the OS calls it (defined at the
/// bottom, in the platform layer, which maps each OS's codes to it).
pub use crate::platform::ErrorClass;

/// The OS error, as `bind-test --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BindErrorInfo {
    /// "EADDRINUSE", "WSAEACCES", ...; "UNKNOWN" for an unnamed code.
    pub code: String,
    pub errno: i32,
    pub message: String,
    #[serde(skip)]
    pub class: ErrorClass,
}

/// Why the bind failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Listener,
    InUseByConnection,
    TimeWait,
    /// Closed connections the kernel still finishes with no process
    /// (FIN_WAIT_1/2, CLOSING, LAST_ACK).
    Orphaned,
    DualStackConflict,
    PrivilegedPort,
    AddressNotLocal,
    ExcludedRange,
    PermissionPolicy,
    Exhausted,
    Unknown,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Listener => "listener",
            Cause::InUseByConnection => "in_use_by_connection",
            Cause::TimeWait => "time_wait",
            Cause::Orphaned => "orphaned",
            Cause::DualStackConflict => "dual_stack_conflict",
            Cause::PrivilegedPort => "privileged_port",
            Cause::AddressNotLocal => "address_not_local",
            Cause::ExcludedRange => "excluded_range",
            Cause::PermissionPolicy => "permission_policy",
            Cause::Exhausted => "exhausted",
            Cause::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One next step. `command`, when present, can be copied and run as is
/// (what the CLI shows). Where the window can do the same with one of its
/// own controls, `action` says which, and `window_text` words the step
/// for the window when `text` describes the command (neither is in the
/// JSON: `fixes[].command` is the CLI's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub text: String,
    pub command: Option<String>,
    #[serde(skip)]
    pub action: Option<FixAction>,
    #[serde(skip)]
    pub window_text: Option<String>,
}

/// A fix the window does with a button instead of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixAction {
    /// Test the same bind again.
    TestAgain,
    /// The same bind with SO_REUSEADDR set.
    TestWithReuseAddr,
    /// The same bind with IPV6_V6ONLY set.
    TestWithV6Only,
    /// The same port and options on another address.
    TestAddress(IpAddr),
    /// Re-test until it binds.
    WatchUntilFree,
    /// Stop this process (with its confirmation).
    StopProcess { pid: u32 },
    /// Every socket on the port.
    ShowPort,
    /// Every socket, in all states.
    ShowAllSockets,
    /// Pick a free port instead.
    GrabFreePort,
}

impl Fix {
    pub fn new(text: impl Into<String>, command: Option<String>) -> Fix {
        Fix {
            text: text.into(),
            command,
            action: None,
            window_text: None,
        }
    }

    /// The window does this with a control of its own.
    pub fn acting(mut self, action: FixAction) -> Fix {
        self.action = Some(action);
        self
    }

    /// The step in the window's words.
    pub fn in_window(mut self, text: impl Into<String>) -> Fix {
        self.window_text = Some(text.into());
        self
    }

    /// What the window says for this step.
    pub fn window_text(&self) -> &str {
        self.window_text.as_deref().unwrap_or(&self.text)
    }
}

/// The explanation of a failed bind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub cause: Cause,
    pub explanation: String,
    /// Processes with sockets on the port, sorted by pid.
    pub holders: Vec<Holder>,
    /// Sockets in the way whose process this user cannot see, by the uid
    /// the OS reports for them (sorted by uid). Left out of JSON when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden_owners: Vec<HiddenOwner>,
    pub time_wait: Option<TimeWaitInfo>,
    pub fixes: Vec<Fix>,
}

/// The owner of sockets whose process is hidden: the uid sock_diag (or the
/// OS's table) reports, and its login name where known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HiddenOwner {
    pub uid: u32,
    pub user: Option<String>,
    pub sockets: usize,
}

/// The whole answer, as `bind-test --json` prints it: `ok`, `addr`, `port`,
/// `proto`, and on failure `error` plus the diagnosis fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BindReport {
    pub ok: bool,
    /// The address actually bound on success; the requested one on failure.
    pub addr: IpAddr,
    /// The port actually bound on success (the OS's pick for port 0).
    pub port: u16,
    pub proto: Proto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BindErrorInfo>,
    #[serde(flatten)]
    pub diagnosis: Option<Diagnosis>,
    /// With `--wait`: how long it waited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waited_ms: Option<u64>,
    /// What else a successful bind should know ([`success_notes`]): that a
    /// normal user would be refused this port, other sockets on it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl BindReport {
    /// The success report for a probe that bound `at`.
    pub fn bound(req: &BindRequest, at: SocketAddr) -> BindReport {
        BindReport {
            ok: true,
            addr: at.ip(),
            port: at.port(),
            proto: req.proto,
            error: None,
            diagnosis: None,
            waited_ms: None,
            notes: Vec::new(),
        }
    }

    /// The one-line verdict of the plain output.
    pub fn verdict(&self) -> String {
        let at = SocketAddr::new(self.addr, self.port);
        match (&self.error, &self.diagnosis) {
            (None, _) => format!("ok: {} {at} binds", self.proto),
            (Some(e), Some(d)) => format!(
                "fails: {} {at}: {} ({}), cause: {}",
                self.proto, e.code, e.message, d.cause
            ),
            (Some(e), None) => format!("fails: {} {at}: {} ({})", self.proto, e.code, e.message),
        }
    }
}

/// Probe once; on failure take a snapshot and diagnose. `Err` only for
/// options this OS cannot set (bad usage).
pub fn test_bind(req: &BindRequest, source: &mut dyn SocketSource) -> Result<BindReport, String> {
    match probe(req) {
        Ok(b) => Ok(BindReport::bound(req, b.addr)),
        Err(ProbeError::Unsupported(m)) => Err(m),
        Err(ProbeError::Failed(f)) => Ok(explain_failure(req, f, source)),
    }
}

/// Builds the failure report from a fresh snapshot. A snapshot that cannot
/// be taken still yields a report: the explanation then says so.
pub fn explain_failure(
    req: &BindRequest,
    failure: ProbeFailure,
    source: &mut dyn SocketSource,
) -> BindReport {
    match source.snapshot() {
        Ok(snap) => report_failure(req, failure, &snap),
        Err(e) => {
            let mut r = report_failure(req, failure, &Snapshot::default());
            if let Some(d) = r.diagnosis.as_mut() {
                d.explanation
                    .push_str(&format!(" (The socket table could not be read: {e}.)"));
            }
            r
        }
    }
}

/// The failure report from a snapshot the caller already has. Reads the
/// [`SystemFacts`] (files, `systemctl`, `netsh` on Windows): for the CLI;
/// the window reads them on a worker and calls [`report_with_facts`].
pub fn report_failure(req: &BindRequest, failure: ProbeFailure, snap: &Snapshot) -> BindReport {
    let mut facts = SystemFacts::read(req, snap);
    if failure.error.class == ErrorClass::AddrNotAvailable {
        facts = facts.check_alternatives(req);
    }
    report_with_facts(req, failure, snap, &facts)
}

/// The failure report from a snapshot and facts the caller already has:
/// pure, no I/O (the window's UI thread calls it on every snapshot where
/// the port's sockets changed).
pub fn report_with_facts(
    req: &BindRequest,
    failure: ProbeFailure,
    snap: &Snapshot,
    facts: &SystemFacts,
) -> BindReport {
    let d = diagnose(req, &failure, snap, facts);
    BindReport {
        ok: false,
        addr: req.addr,
        port: req.port,
        proto: req.proto,
        error: Some(failure.error),
        diagnosis: Some(d),
        waited_ms: None,
        notes: Vec::new(),
    }
}

/// What a bind that succeeded should still say (pure; the caller brings
/// the snapshot and facts):
/// - running elevated, a port below the privileged limit binds only
///   because of that: a normal user gets EACCES there;
/// - other sockets on the same port and protocol at other addresses (a
///   `[::1]` listener beside a `0.0.0.0` bind): clients of that address
///   reach them, not the new server.
pub fn success_notes(
    report: &BindReport,
    snap: &Snapshot,
    privileged: Option<&crate::ports::PrivilegedPorts>,
    elevated: bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    if !report.ok || report.port == 0 {
        return notes;
    }
    let p = report.port;
    if elevated
        && let Some(pp) = privileged
        && pp.applies(p, report.addr.is_unspecified())
    {
        let limit = match pp.setting {
            Some(key) => format!("{key} = {}", pp.first_unprivileged),
            None => format!("ports below {}", pp.first_unprivileged),
        };
        notes.push(format!(
            "It binds because this runs with privileges: port {p} is below the unprivileged \
             limit ({limit}), so a normal user (without CAP_NET_BIND_SERVICE) would get EACCES \
             here."
        ));
    }
    for s in snap.on_port(report.proto, p) {
        if s.is_kernel_owned() || diagnose::is_orphaned_close(s) {
            continue;
        }
        if s.local_addr == report.addr {
            continue;
        }
        let at = SocketAddr::new(s.local_addr, p);
        let who = if s.processes.is_empty() {
            "a process this user cannot see".to_string()
        } else {
            s.processes
                .iter()
                .map(|p| format!("{} (pid {})", p.name, p.pid))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let verb = match (report.proto, s.is_listening()) {
            (Proto::Tcp, true) => "listens on",
            (Proto::Udp, _) => "has a UDP socket on",
            (Proto::Tcp, false) => "has a connection from",
        };
        notes.push(format!(
            "{who} {verb} {at} too: clients that connect to {} reach it, not this bind.",
            s.local_addr
        ));
        if notes.len() >= 6 {
            break;
        }
    }
    notes
}

/// Retries until the bind succeeds or `timeout` passes, probing every
/// `interval`. `observe` sees every failed attempt's report (to show what
/// still holds the port). Returns the last report, with `waited_ms` set.
pub fn wait_until_bound(
    req: &BindRequest,
    source: &mut dyn SocketSource,
    timeout: Duration,
    interval: Duration,
    mut observe: impl FnMut(&BindReport, Duration),
) -> Result<BindReport, String> {
    let start = Instant::now();
    loop {
        let mut report = test_bind(req, source)?;
        let elapsed = start.elapsed();
        report.waited_ms = Some(elapsed.as_millis() as u64);
        if report.ok || elapsed >= timeout {
            return Ok(report);
        }
        observe(&report, timeout - elapsed);
        std::thread::sleep(interval.min(timeout - elapsed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v6only_needs_an_ipv6_address() {
        let mut r = BindRequest::new("0.0.0.0".parse().unwrap(), 80, Proto::Tcp);
        assert!(r.validate().is_ok());
        r.v6only = true;
        assert!(r.validate().unwrap_err().contains("0.0.0.0"));
        r.addr = "::".parse().unwrap();
        assert!(r.validate().is_ok());
    }

    #[test]
    fn report_json_shapes() {
        let req = BindRequest::new("0.0.0.0".parse().unwrap(), 0, Proto::Tcp);
        let ok = BindReport::bound(&req, "0.0.0.0:41234".parse().unwrap());
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            serde_json::json!({"ok": true, "addr": "0.0.0.0", "port": 41234, "proto": "tcp"})
        );
        let fail = BindReport {
            ok: false,
            addr: req.addr,
            port: 8080,
            proto: Proto::Tcp,
            error: Some(BindErrorInfo {
                code: "EADDRINUSE".into(),
                errno: 98,
                message: "Address already in use".into(),
                class: ErrorClass::AddrInUse,
            }),
            diagnosis: Some(Diagnosis {
                cause: Cause::TimeWait,
                explanation: "x".into(),
                holders: vec![],
                hidden_owners: vec![],
                time_wait: Some(TimeWaitInfo {
                    count: 2,
                    longest_remaining_ms: Some(1500),
                }),
                fixes: vec![Fix::new(
                    "wait",
                    Some("portwise bind-test 8080 --wait 2".into()),
                )],
            }),
            waited_ms: None,
            notes: vec![],
        };
        let v = serde_json::to_value(&fail).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["port"], 8080);
        assert_eq!(
            v["error"],
            serde_json::json!({"code": "EADDRINUSE", "errno": 98, "message": "Address already in use"})
        );
        assert_eq!(v["cause"], "time_wait");
        assert_eq!(v["explanation"], "x");
        assert_eq!(v["holders"], serde_json::json!([]));
        assert_eq!(
            v["time_wait"],
            serde_json::json!({"count": 2, "longest_remaining_ms": 1500})
        );
        assert_eq!(v["fixes"][0]["command"], "portwise bind-test 8080 --wait 2");
        assert!(v.get("waited_ms").is_none());
    }
}
