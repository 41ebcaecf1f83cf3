//! State of the Bind test view: the fields, the last result, and "watch
//! until free". The bind and its diagnosis are the engine's
//! (`crate::bind::probe` and `report_with_facts`, what `portwise bind-test`
//! runs). A probe takes microseconds, so it runs on the UI thread; the
//! diagnosis uses the sampler's latest snapshot, never one taken here, and
//! [`SystemFacts`] read on a worker thread (files, `systemctl`, `netsh`):
//! until they arrive the card shows the error without a diagnosis. The
//! facts are kept, so a new snapshot re-runs only the pure diagnosis.

pub mod view;

use std::net::IpAddr;

use crate::bind::{
    BindReport, BindRequest, ErrorClass, FixAction, ProbeError, ProbeFailure, SystemFacts,
    TimeWaitInfo, port_use, probe, report_with_facts, success_notes, systemd_holds, time_wait_on,
};
use crate::notify::{Note, PortWatcher, WatchedPort};
use crate::platform::{HOST, HostPorts, ProcessIdentity};
use crate::sockets::{Proto, Snapshot};
use crate::window::ctx::{Ctx, Effect, ToastKind};
use crate::window::sockets::RowKey;
use crate::window::tasks::Pending;

/// What the Bind test view can ask for, and what its tasks bring back.
#[derive(Clone, Debug)]
pub enum BindAction {
    SetPort(String),
    SetAddr(String),
    SetProto(Proto),
    SetReuseAddr(bool),
    SetReusePort(bool),
    SetV6Only(bool),
    Test,
    /// A fix's button that changes the form and tests again: tick
    /// SO_REUSEADDR or IPV6_V6ONLY, another address, or the same again.
    TestFix(FixAction),
    /// Start (true) or stop "watch until free".
    Watch(bool),
    /// The system facts for a diagnosis arrived.
    FactsRead(Box<(FactsKey, SystemFacts)>),
    /// This machine's addresses arrived (the address list).
    LocalAddrs(Vec<IpAddr>),
    /// Add the form's port and protocol to the watched ports.
    AddWatched,
    RemoveWatched(WatchedPort),
}

/// "Watch until free" re-tests this often.
pub const WATCH_INTERVAL_MS: u64 = 1_000;

/// The addresses offered before this machine's own.
pub const WELL_KNOWN_ADDRS: [&str; 4] = ["0.0.0.0", "::", "127.0.0.1", "::1"];

/// The outcome of the last Test (or watch attempt).
#[derive(Clone, Debug, PartialEq)]
pub struct BindResult {
    pub request: BindRequest,
    pub report: BindReport,
    /// The failed probe, kept to diagnose it again when the port's sockets
    /// change in a later snapshot.
    pub failure: Option<ProbeFailure>,
    /// The app clock's time of the test.
    pub tested_at_ms: u64,
    /// `taken_at_unix_ms` of the snapshot the TIME_WAIT figures come from.
    pub seen_at_ms: u64,
    /// With "watch until free": how long it took to bind.
    pub freed_after_ms: Option<u64>,
    /// The sockets on the port in the snapshot the diagnosis used.
    port_keys: Vec<RowKey>,
    /// The fields as they were when this was tested: a result whose
    /// fields changed since is for the old inputs ([`BindState::is_stale`]).
    pub inputs: Inputs,
}

/// The fields a result was tested with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    pub port_text: String,
    pub addr_text: String,
    pub proto: Proto,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub v6only: bool,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            port_text: String::new(),
            addr_text: String::new(),
            proto: Proto::Tcp,
            reuseaddr: false,
            reuseport: false,
            v6only: false,
        }
    }
}

impl BindResult {
    /// The TIME_WAIT sockets on the port, if the card has any.
    pub fn time_wait(&self) -> Option<TimeWaitInfo> {
        self.report.diagnosis.as_ref().and_then(|d| d.time_wait)
    }

    /// Time left of the longest TIME_WAIT socket at `now_ms`, where the OS
    /// reports it.
    pub fn time_wait_left_ms(&self, now_ms: u64) -> Option<u64> {
        let ms = self.time_wait()?.longest_remaining_ms?;
        Some(ms.saturating_sub(now_ms.saturating_sub(self.seen_at_ms)))
    }
}

/// What the system facts of a diagnosis depend on: the protocol's port
/// ranges, the port's systemd `.socket` units when systemd holds it, the
/// hidden owners' user names, and for EADDRNOTAVAIL the addresses where
/// the same bind succeeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactsKey {
    pub request: BindRequest,
    pub systemd_holds: bool,
    /// The uids of hidden owners on the port (their names are read).
    pub hidden_uids: Vec<u32>,
    /// EADDRNOTAVAIL: try the same bind on this machine's addresses.
    pub alternatives: bool,
}

impl FactsKey {
    fn of(req: &BindRequest, f: &ProbeFailure, snap: &Snapshot) -> FactsKey {
        let mut hidden_uids: Vec<u32> = snap
            .on_port(req.proto, req.port)
            .iter()
            .filter(|s| s.processes.is_empty() && !s.orphan)
            .filter_map(|s| s.uid)
            .collect();
        hidden_uids.sort_unstable();
        hidden_uids.dedup();
        FactsKey {
            request: req.clone(),
            systemd_holds: systemd_holds(req, snap),
            hidden_uids,
            alternatives: f.error.class == ErrorClass::AddrNotAvailable,
        }
    }

    /// Whether facts read for `self` serve a diagnosis of `other`.
    fn serves(&self, other: &FactsKey) -> bool {
        let same_bind = || {
            let (a, b) = (&self.request, &other.request);
            a.addr == b.addr
                && a.port == b.port
                && a.reuseaddr == b.reuseaddr
                && a.reuseport == b.reuseport
                && a.v6only == b.v6only
        };
        self.request.proto == other.request.proto
            && self.systemd_holds == other.systemd_holds
            && (!self.systemd_holds || self.request.port == other.request.port)
            && other
                .hidden_uids
                .iter()
                .all(|u| self.hidden_uids.contains(u))
            && self.alternatives == other.alternatives
            && (!self.alternatives || same_bind())
    }

    /// Reads the facts (on a worker: files, `systemctl`, user names, and
    /// test binds for EADDRNOTAVAIL).
    pub fn read(&self) -> SystemFacts {
        let req = &self.request;
        let mut f = SystemFacts::read_for(req, self.systemd_holds);
        if !self.hidden_uids.is_empty() {
            let mut table = crate::sockets::procinfo::ProcessTable::new();
            f.user_names = self
                .hidden_uids
                .iter()
                .filter_map(|u| table.user_name(*u).map(|n| (*u, n)))
                .collect();
        }
        if self.alternatives {
            f = f.check_alternatives(req);
        }
        f
    }
}

/// A running "watch until free".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub started_ms: u64,
    pub next_ms: u64,
    pub attempts: u32,
}

/// The Bind test view's state.
#[derive(Clone, Debug)]
pub struct BindState {
    pub port_text: String,
    pub addr_text: String,
    pub proto: Proto,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub v6only: bool,
    /// This machine's interface addresses, read once on first use (on a
    /// worker: [`on_show`]).
    pub local_addrs: Pending<Vec<IpAddr>>,
    /// The system facts last read, and what they were read for.
    facts: Option<(FactsKey, SystemFacts)>,
    /// Facts to read on a worker: asked for, not yet taken by the app.
    facts_wanted: Option<FactsKey>,
    /// Facts being read (taken, not yet arrived).
    facts_reading: Option<FactsKey>,
    pub result: Option<BindResult>,
    /// With `localhost` in the address field: the result for `::1` (the
    /// first is for 127.0.0.1).
    pub also: Option<BindResult>,
    /// An option this OS cannot set (SO_REUSEPORT on Windows).
    pub unsupported: Option<String>,
    pub watch: Option<Watch>,
    /// Ports to notify about (kept in the settings by the shell).
    pub watched: Vec<WatchedPort>,
    /// Their last status, for the list and the notifications.
    pub watcher: PortWatcher,
}

impl Default for BindState {
    fn default() -> Self {
        BindState {
            port_text: String::new(),
            addr_text: "0.0.0.0".into(),
            proto: Proto::Tcp,
            reuseaddr: false,
            reuseport: false,
            v6only: false,
            local_addrs: Pending::NotAsked,
            facts: None,
            facts_wanted: None,
            facts_reading: None,
            result: None,
            also: None,
            unsupported: None,
            watch: None,
            watched: Vec::new(),
            watcher: PortWatcher::default(),
        }
    }
}

/// The port field: 0-65535 (0 lets the OS pick), or a message naming the
/// value.
pub fn parse_port(text: &str) -> Result<u16, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Enter a port from 0 to 65535".into());
    }
    crate::util::parse::port(t)
        .ok_or_else(|| format!("'{t}' is not a port: enter a number from 0 to 65535"))
}

/// The address field: `localhost` (both loopbacks, as a server binding
/// the name may get either: RFC 6761 section 6.3 resolves it to loopback,
/// 127.0.0.1 and ::1 in /etc/hosts), or one address.
pub fn parse_addrs(text: &str) -> Result<Vec<IpAddr>, String> {
    if text.trim().eq_ignore_ascii_case("localhost") {
        return Ok(vec![
            IpAddr::from(std::net::Ipv4Addr::LOCALHOST),
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ]);
    }
    parse_addr(text).map(|a| vec![a])
}

/// One address: IPv4 or IPv6 (brackets allowed).
pub fn parse_addr(text: &str) -> Result<IpAddr, String> {
    let t = text.trim();
    crate::util::parse::ip_addr(t).ok_or_else(|| {
        if t.is_empty() {
            "Enter an address, e.g. 0.0.0.0, ::, 127.0.0.1".to_string()
        } else {
            format!("'{t}' is not an IPv4 or IPv6 address")
        }
    })
}

/// The keys of the sockets with local port `port`, sorted (the snapshot's
/// order), found by binary search.
fn keys_on(snap: &Snapshot, port: u16) -> Vec<RowKey> {
    [Proto::Tcp, Proto::Udp]
        .into_iter()
        .flat_map(|p| snap.on_port(p, port))
        .map(RowKey::of)
        .collect()
}

impl BindState {
    /// The (first) request the fields describe, or what is wrong with
    /// them.
    pub fn request(&self) -> Result<BindRequest, String> {
        self.requests().map(|mut r| r.swap_remove(0))
    }

    /// The `portwise bind-test` command that tests what the fields
    /// describe: `--addr localhost` for `localhost` (the command line
    /// tests both loopbacks too), not the first of its two requests.
    pub fn command(&self) -> Result<String, String> {
        let req = self.request()?;
        let cmd = crate::bind::diagnose::bind_test_command(&req);
        Ok(if self.addr_text.trim().eq_ignore_ascii_case("localhost") {
            cmd.replacen(&format!(" --addr {}", req.addr), " --addr localhost", 1)
        } else {
            cmd
        })
    }

    /// Every request the fields describe: one, or two for `localhost`.
    pub fn requests(&self) -> Result<Vec<BindRequest>, String> {
        let port = parse_port(&self.port_text)?;
        let addrs = parse_addrs(&self.addr_text)?;
        let scope_id = crate::util::parse::scope_id(&self.addr_text);
        addrs
            .into_iter()
            .map(|addr| {
                let req = BindRequest {
                    addr,
                    port,
                    proto: self.proto,
                    reuseaddr: self.reuseaddr,
                    reuseport: self.reuseport,
                    v6only: self.v6only && addr.is_ipv6(),
                    scope_id,
                };
                req.validate()?;
                Ok(req)
            })
            .collect()
    }

    /// The fields now.
    pub fn inputs(&self) -> Inputs {
        Inputs {
            port_text: self.port_text.clone(),
            addr_text: self.addr_text.clone(),
            proto: self.proto,
            reuseaddr: self.reuseaddr,
            reuseport: self.reuseport,
            v6only: self.v6only,
        }
    }

    /// Whether the shown result was tested with other fields than the
    /// ones now in the form (then the card says it is for the old inputs).
    pub fn is_stale(&self) -> bool {
        self.result
            .as_ref()
            .is_some_and(|r| r.inputs != self.inputs())
    }

    /// The watched port the form describes, if its port is valid and not
    /// 0.
    pub fn watchable(&self) -> Option<WatchedPort> {
        let port = parse_port(&self.port_text).ok().filter(|p| *p != 0)?;
        Some(WatchedPort {
            port,
            proto: self.proto,
        })
    }

    /// A new snapshot: the status of every watched port (a test bind of
    /// the wildcard where nothing live holds it), and a note for each one
    /// that became bindable or was taken.
    pub fn observe_watched(&mut self, snap: &Snapshot) -> Vec<Note> {
        if self.watched.is_empty() {
            self.watcher = PortWatcher::default();
            return Vec::new();
        }
        let mut bind = |w: &WatchedPort| {
            let req = BindRequest::new(IpAddr::from([0, 0, 0, 0]), w.port, w.proto);
            match probe(&req) {
                Ok(_) => Ok(()),
                Err(ProbeError::Failed(f)) => Err(f.error.code),
                Err(ProbeError::Unsupported(m)) => Err(m),
            }
        };
        self.watcher.observe(&self.watched, snap, &mut bind)
    }

    /// Both results, the first one first.
    pub fn results(&self) -> impl Iterator<Item = &BindResult> {
        self.result.iter().chain(self.also.iter())
    }

    /// The addresses the address list offers: the well-known ones, then
    /// this machine's, without repeats.
    pub fn offered_addrs(&self) -> Vec<String> {
        let mut out: Vec<String> = WELL_KNOWN_ADDRS.iter().map(|s| s.to_string()).collect();
        for a in self.local_addrs.done().into_iter().flatten() {
            let s = crate::bind::address_text(a);
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// A field changed: the card no longer describes the fields, and a
    /// watch of the old request stops.
    pub fn edited(&mut self) {
        self.watch = None;
        self.unsupported = None;
    }

    /// Run one probe of the fields' request. Returns true when it failed
    /// (the caller then asks the sampler for a fresh snapshot, so the
    /// holders shown are current).
    pub fn test(&mut self, snap: &Snapshot, now_ms: u64) -> bool {
        let Ok(reqs) = self.requests() else {
            return false;
        };
        self.unsupported = None;
        let inputs = self.inputs();
        let mut out = Vec::new();
        let mut any_failed = false;
        for req in reqs {
            match probe(&req) {
                Ok(b) => out.push(bound(req, b.addr, snap, now_ms, None)),
                Err(ProbeError::Unsupported(m)) => {
                    self.unsupported = Some(m);
                    self.watch = None;
                    return false;
                }
                Err(ProbeError::Failed(f)) => {
                    any_failed = true;
                    out.push(self.failed(req, f, snap, now_ms));
                }
            }
        }
        let mut out = out.into_iter().map(|mut r| {
            r.inputs = inputs.clone();
            r
        });
        self.result = out.next();
        self.also = out.next();
        any_failed
    }

    pub fn start_watch(&mut self, snap: &Snapshot, now_ms: u64) -> bool {
        if self.request().is_err() {
            return false;
        }
        self.watch = Some(Watch {
            started_ms: now_ms,
            next_ms: now_ms + WATCH_INTERVAL_MS,
            attempts: 1,
        });
        let failed = self.test(snap, now_ms);
        if !failed {
            // Bound at once (or could not test): nothing to watch.
            self.watch = None;
        }
        failed
    }

    pub fn stop_watch(&mut self) {
        self.watch = None;
    }

    /// Advance "watch until free". Returns `Some(ms)` when the port just
    /// bound, after `ms` of watching.
    pub fn tick(&mut self, snap: &Snapshot, now_ms: u64) -> Option<u64> {
        let w = self.watch?;
        if now_ms < w.next_ms {
            return None;
        }
        let Ok(req) = self.request() else {
            self.watch = None;
            return None;
        };
        if self.also.is_some() || self.requests().is_ok_and(|r| r.len() > 1) {
            // localhost: every address must bind.
            let failed = self.test(snap, now_ms);
            self.watch?;
            if !failed {
                let after = now_ms.saturating_sub(w.started_ms);
                self.watch = None;
                for r in self.result.iter_mut().chain(self.also.iter_mut()) {
                    r.freed_after_ms = Some(after);
                }
                return Some(after);
            }
            self.watch = Some(Watch {
                next_ms: now_ms + WATCH_INTERVAL_MS,
                attempts: w.attempts + 1,
                ..w
            });
            return None;
        }
        let inputs = self.inputs();
        match probe(&req) {
            Ok(b) => {
                let after = now_ms.saturating_sub(w.started_ms);
                self.watch = None;
                let mut r = bound(req, b.addr, snap, now_ms, Some(after));
                r.inputs = inputs;
                self.result = Some(r);
                Some(after)
            }
            Err(ProbeError::Unsupported(m)) => {
                self.unsupported = Some(m);
                self.watch = None;
                None
            }
            Err(ProbeError::Failed(f)) => {
                // Diagnose again only when the error itself changed; the
                // holders and TIME_WAIT follow the snapshots.
                let same = self.result.as_ref().is_some_and(|r| {
                    r.request == req && r.failure.as_ref().is_some_and(|old| old.error == f.error)
                });
                if !same {
                    let mut r = self.failed(req, f, snap, now_ms);
                    r.inputs = inputs;
                    self.result = Some(r);
                }
                self.watch = Some(Watch {
                    next_ms: now_ms + WATCH_INTERVAL_MS,
                    attempts: w.attempts + 1,
                    ..w
                });
                None
            }
        }
    }

    /// A new snapshot: when the sockets on a failed port changed, diagnose
    /// the failure again with it; always take its TIME_WAIT figures, so the
    /// countdown and the holders stay live.
    pub fn on_snapshot(&mut self, snap: &Snapshot) {
        let mut again = false;
        for r in self.result.iter_mut().chain(self.also.iter_mut()) {
            let port = r.request.port;
            if r.failure.is_none() || port == 0 {
                continue;
            }
            if keys_on(snap, port) != r.port_keys {
                again = true;
            } else if let Some(d) = r.report.diagnosis.as_mut() {
                if r.request.proto == Proto::Tcp && d.cause != crate::bind::Cause::AddressNotLocal {
                    d.time_wait = time_wait_on(snap, port);
                }
                r.seen_at_ms = snap.taken_at_unix_ms;
            }
        }
        if again {
            self.rediagnose(snap);
        }
    }

    /// The failure card for `f`: diagnosed at once when facts read for the
    /// same protocol (and systemd situation) are at hand, else without a
    /// diagnosis until [`BindState::facts_read`] brings them.
    fn failed(
        &mut self,
        req: BindRequest,
        f: ProbeFailure,
        snap: &Snapshot,
        now_ms: u64,
    ) -> BindResult {
        let key = FactsKey::of(&req, &f, snap);
        let report = match &self.facts {
            Some((k, facts)) if k.serves(&key) => report_with_facts(&req, f.clone(), snap, facts),
            _ => {
                let reading = self.facts_reading.as_ref().is_some_and(|k| k.serves(&key));
                if !reading {
                    self.facts_wanted = Some(key);
                }
                BindReport {
                    ok: false,
                    addr: req.addr,
                    port: req.port,
                    proto: req.proto,
                    error: Some(f.error.clone()),
                    diagnosis: None,
                    waited_ms: None,
                    notes: Vec::new(),
                }
            }
        };
        BindResult {
            port_keys: if req.port == 0 {
                Vec::new()
            } else {
                keys_on(snap, req.port)
            },
            request: req,
            report,
            failure: Some(f),
            tested_at_ms: now_ms,
            seen_at_ms: snap.taken_at_unix_ms,
            freed_after_ms: None,
            inputs: Inputs::default(),
        }
    }

    /// Start reading the system facts a failure waits for, once per need
    /// ([`SystemFacts::read_for`] on a worker: files, `systemctl`, `netsh`).
    pub fn read_wanted_facts(&mut self, ctx: &mut Ctx<'_, BindAction>) {
        let Some(key) = self.facts_wanted.take() else {
            return;
        };
        self.facts_reading = Some(key.clone());
        ctx.spawn(
            "portwise-bindfacts",
            move || {
                let facts = key.read();
                (key, facts)
            },
            |read| BindAction::FactsRead(Box::new(read)),
        );
    }

    /// Facts read for `key` arrived: keep them, and diagnose a failure that
    /// waits for them with `snap`.
    pub fn facts_read(&mut self, key: FactsKey, facts: SystemFacts, snap: &Snapshot) {
        if self.facts_reading.as_ref() == Some(&key) {
            self.facts_reading = None;
        }
        self.facts = Some((key, facts));
        let waiting = self
            .results()
            .any(|r| r.failure.is_some() && r.report.diagnosis.is_none());
        if waiting {
            // Re-diagnoses with the kept facts (or asks again when the
            // snapshot now needs others, e.g. systemd took the port).
            self.rediagnose(snap);
        }
    }

    fn rediagnose(&mut self, snap: &Snapshot) {
        for second in [false, true] {
            let slot = if second { &self.also } else { &self.result };
            let Some(r) = slot.as_ref() else {
                continue;
            };
            let Some(f) = r.failure.clone() else {
                continue;
            };
            // Nothing on the port any more: the card keeps what held it
            // (and says the port looks free now: test again). Diagnosed
            // again, it would say that nothing explains the failure.
            if Self::looks_free_now(r, snap) && r.report.diagnosis.is_some() {
                continue;
            }
            let (req, tested_at_ms, freed_after_ms, inputs) = (
                r.request.clone(),
                r.tested_at_ms,
                r.freed_after_ms,
                r.inputs.clone(),
            );
            let mut again = self.failed(req, f, snap, tested_at_ms);
            again.freed_after_ms = freed_after_ms;
            again.inputs = inputs;
            if second {
                self.also = Some(again);
            } else {
                self.result = Some(again);
            }
        }
    }

    /// Whether `r` is a failure because of what was on its port (EADDRINUSE)
    /// and the port now shows free in `snap` (a hint to test again). Never
    /// for EACCES, EADDRNOTAVAIL or EPERM: nothing on the port explains
    /// those, so its being free says nothing.
    pub fn looks_free_now(r: &BindResult, snap: &Snapshot) -> bool {
        r.failure
            .as_ref()
            .is_some_and(|f| f.error.class == ErrorClass::AddrInUse)
            && r.request.port != 0
            && port_use(snap, r.request.port, Some(r.request.proto)).is_free()
    }
}

fn bound(
    req: BindRequest,
    at: std::net::SocketAddr,
    snap: &Snapshot,
    now_ms: u64,
    freed_after_ms: Option<u64>,
) -> BindResult {
    let mut report = BindReport::bound(&req, at);
    // One small file read (ip_unprivileged_port_start), like the probe
    // itself cheap enough for the UI thread.
    let privileged = HOST.privileged_ports();
    report.notes = success_notes(&report, snap, privileged.as_ref(), HOST.is_elevated());
    BindResult {
        report,
        request: req,
        failure: None,
        tested_at_ms: now_ms,
        seen_at_ms: snap.taken_at_unix_ms,
        freed_after_ms,
        port_keys: Vec::new(),
        inputs: Inputs::default(),
    }
}

/// "Test bind on this port" from a Sockets row: the row's address, port
/// and protocol in the fields (the options cleared), tested at once.
/// Returns true when the bind failed (the caller asks for a snapshot).
pub fn test_from_row(
    b: &mut BindState,
    addr: IpAddr,
    port: u16,
    proto: Proto,
    ctx: &mut Ctx<'_, BindAction>,
) {
    b.port_text = port.to_string();
    b.addr_text = crate::bind::address_text(&addr);
    b.proto = proto;
    b.reuseaddr = false;
    b.reuseport = false;
    b.v6only = false;
    b.edited();
    b.stop_watch();
    if b.test(ctx.snapshot, ctx.now_ms) {
        ctx.effects.push(Effect::RefreshNow);
    }
    b.read_wanted_facts(ctx);
}

/// Handle one message of the view.
pub fn update(b: &mut BindState, a: BindAction, ctx: &mut Ctx<'_, BindAction>) {
    match a {
        BindAction::SetPort(t) => {
            b.port_text = t;
            b.edited();
        }
        BindAction::SetAddr(t) => {
            b.addr_text = t;
            b.edited();
        }
        BindAction::SetProto(p) => {
            b.proto = p;
            b.edited();
        }
        BindAction::SetReuseAddr(on) => {
            b.reuseaddr = on;
            b.edited();
        }
        BindAction::SetReusePort(on) => {
            b.reuseport = on;
            b.edited();
        }
        BindAction::SetV6Only(on) => {
            b.v6only = on;
            b.edited();
        }
        BindAction::Test => {
            b.stop_watch();
            if b.test(ctx.snapshot, ctx.now_ms) {
                ctx.effects.push(Effect::RefreshNow);
            }
        }
        BindAction::TestFix(fix) => {
            match fix {
                FixAction::TestWithReuseAddr => b.reuseaddr = true,
                FixAction::TestWithV6Only => b.v6only = true,
                FixAction::TestAddress(addr) => {
                    b.addr_text = crate::bind::address_text(&addr);
                }
                FixAction::TestAgain => {}
                // Not a change of the form: the view routes these.
                _ => return,
            }
            b.edited();
            b.stop_watch();
            if b.test(ctx.snapshot, ctx.now_ms) {
                ctx.effects.push(Effect::RefreshNow);
            }
        }
        BindAction::Watch(true) => {
            if b.start_watch(ctx.snapshot, ctx.now_ms) {
                ctx.effects.push(Effect::RefreshNow);
            }
        }
        BindAction::Watch(false) => b.stop_watch(),
        BindAction::FactsRead(read) => {
            let (key, facts) = *read;
            b.facts_read(key, facts, ctx.snapshot)
        }
        BindAction::LocalAddrs(addrs) => b.local_addrs = Pending::Done(addrs),
        BindAction::AddWatched => {
            if let Some(w) = b.watchable()
                && !b.watched.contains(&w)
                && b.watched.len() < crate::notify::MAX_WATCHED
            {
                b.watched.push(w);
                // Its status now, without a note (the first look).
                b.observe_watched(ctx.snapshot);
                ctx.toast(
                    ToastKind::Success,
                    format!(
                        "Watching {}: a desktop notification when it becomes bindable or is taken",
                        w.label()
                    ),
                );
            }
        }
        BindAction::RemoveWatched(w) => {
            b.watched.retain(|x| *x != w);
        }
    }
    // A failed test may need system facts read.
    b.read_wanted_facts(ctx);
}

/// Every frame: advance "watch until free", say when the port binds.
pub fn tick(b: &mut BindState, ctx: &mut Ctx<'_, BindAction>) {
    if let Some(after) = b.tick(ctx.snapshot, ctx.now_ms) {
        let port = b.result.as_ref().map_or(0, |r| r.report.port);
        let what = b
            .results()
            .map(|r| verdict_addr(&r.report))
            .collect::<Vec<_>>()
            .join(" and ");
        ctx.toast(
            ToastKind::Success,
            format!("Port {port} binds now (after {} s)", after.div_ceil(1000)),
        );
        // The user may have left the window: tell the desktop too.
        ctx.effects.push(Effect::Notify(Note {
            summary: format!("Port {port} is free"),
            body: format!(
                "{what} binds now, after {} s of watching.",
                after.div_ceil(1000)
            ),
        }));
    }
    b.read_wanted_facts(ctx);
}

/// "TCP 127.0.0.1:8080".
fn verdict_addr(r: &BindReport) -> String {
    format!(
        "{} {}",
        r.proto.as_str().to_uppercase(),
        std::net::SocketAddr::new(r.addr, r.port)
    )
}

/// The view is on screen: read this machine's addresses the first time.
pub fn on_show(b: &mut BindState, ctx: &mut Ctx<'_, BindAction>) {
    if b.local_addrs.ask() {
        ctx.spawn(
            "portwise-addrs",
            crate::bind::local_addresses,
            BindAction::LocalAddrs,
        );
    }
}

#[cfg(test)]
mod tests;
