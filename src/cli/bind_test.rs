//! `portwise bind-test`: try a bind exactly as asked and explain a failure.
//! Exit 0 when it binds, 1 when it does not, 2 for bad usage.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use super::args::{parse_addr, parse_port, parse_seconds};
use super::{CliError, CliResult, EscapedSource, emit};
use crate::bind::{BindReport, BindRequest, success_notes, test_bind, wait_until_bound};
use crate::platform::{HOST, HostPorts, ProcessIdentity};
use crate::sockets::namespaces::{ListenerElsewhere, listeners_elsewhere, published_on};
use crate::sockets::{NetnsSelection, PortScope, Proto, SocketSource, SystemSource};
use crate::util::text::escape_control;

/// How often `--wait` retries.
const WAIT_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug, clap::Args)]
pub struct BindTestArgs {
    /// The port to bind (0-65535; 0 asks the OS to pick one).
    #[arg(value_name = "PORT", allow_hyphen_values = true)]
    pub port: String,
    /// The address to bind (default 0.0.0.0); an IPv6 link-local one with
    /// its scope, e.g. fe80::1%eth0 or fe80::1%2; `localhost` tests
    /// 127.0.0.1 and ::1 and reports both (JSON: one object with
    /// `results`).
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<String>,
    /// tcp (default; binds and listens) or udp.
    #[arg(long, value_name = "tcp|udp")]
    pub proto: Option<String>,
    /// Set SO_REUSEADDR before bind.
    #[arg(long)]
    pub reuseaddr: bool,
    /// Set SO_REUSEPORT before bind (Unix).
    #[arg(long)]
    pub reuseport: bool,
    /// Set IPV6_V6ONLY before bind (IPv6 addresses only).
    #[arg(long)]
    pub v6only: bool,
    /// Retry until the bind succeeds or SECS pass, showing what still holds
    /// the port.
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    pub wait: Option<String>,
    /// Print one JSON object: ok, addr, port, proto, and on failure error,
    /// cause, explanation, holders, time_wait, fixes.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

/// True when the address flag is the name `localhost`.
fn is_localhost(args: &BindTestArgs) -> bool {
    args.addr
        .as_deref()
        .is_some_and(|a| a.trim().eq_ignore_ascii_case("localhost"))
}

/// The requests the flags describe: one, or for `--addr localhost` one
/// for 127.0.0.1 and one for ::1 (a server that binds the name may get
/// either: RFC 6761 section 6.3; /etc/hosts lists both).
pub fn requests_from_args(args: &BindTestArgs) -> Result<Vec<BindRequest>, CliError> {
    if !is_localhost(args) {
        return Ok(vec![request_from_args(args)?]);
    }
    ["127.0.0.1", "::1"]
        .into_iter()
        .map(|a| {
            let mut one = request_from_args(&BindTestArgs {
                addr: Some(a.into()),
                port: args.port.clone(),
                proto: args.proto.clone(),
                reuseaddr: args.reuseaddr,
                reuseport: args.reuseport,
                v6only: false,
                wait: None,
                json: args.json,
                remote: Default::default(),
            })?;
            // IPV6_V6ONLY applies to the ::1 bind only.
            one.v6only = args.v6only && one.addr.is_ipv6();
            Ok(one)
        })
        .collect()
}

/// The request the flags describe, or a usage error.
pub fn request_from_args(args: &BindTestArgs) -> Result<BindRequest, CliError> {
    let port = parse_port(&args.port)?;
    let (addr, scope_id) = match args.addr.as_deref() {
        Some(a) => {
            let s = parse_addr(a)?;
            (s.ip, s.scope_id)
        }
        None => (IpAddr::from([0, 0, 0, 0]), 0),
    };
    let proto = match args.proto.as_deref() {
        Some(p) => p.parse::<Proto>().map_err(CliError::Usage)?,
        None => Proto::Tcp,
    };
    let req = BindRequest {
        addr,
        port,
        proto,
        reuseaddr: args.reuseaddr,
        reuseport: args.reuseport,
        v6only: args.v6only,
        scope_id,
    };
    req.validate().map_err(CliError::Usage)?;
    Ok(req)
}

pub fn run(args: BindTestArgs) -> CliResult {
    if let Some(h) = &args.remote.host {
        return super::remote::bind_test(&args, h, args.remote.yes);
    }
    let reqs = requests_from_args(&args)?;
    let wait = args
        .wait
        .as_deref()
        .map(|w| parse_seconds(w, "--wait", 0.0))
        .transpose()?;
    let mut outcomes = Vec::new();
    for req in &reqs {
        outcomes.push(test_one(req, wait, args.json)?);
    }
    let ok = outcomes.iter().all(|(r, _)| r.ok);
    let encode = |e: serde_json::Error| CliError::Failed(format!("cannot encode JSON: {e}"));
    let text = if outcomes.len() == 1 {
        let (report, around) = &outcomes[0];
        render_one(report, around, args.json).map_err(encode)?
    } else if args.json {
        let mut results = Vec::new();
        for (report, around) in &outcomes {
            let mut v = serde_json::to_value(report).map_err(encode)?;
            around.add_to_json(&mut v);
            results.push(v);
        }
        let v = serde_json::json!({
            "addr": "localhost",
            "ok": ok,
            "results": results,
        });
        let mut s = serde_json::to_string_pretty(&v).map_err(encode)?;
        s.push('\n');
        s
    } else {
        let mut s = String::from(
            "localhost is 127.0.0.1 and ::1 (a server that binds the name may get either): \
             testing both.\n",
        );
        for (report, around) in &outcomes {
            s.push('\n');
            s.push_str(&render_one(report, around, false).map_err(encode)?);
        }
        s
    };
    emit(&text)?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The report of one bind (JSON or plain), with what other namespaces add.
fn render_one(
    report: &BindReport,
    around: &Around,
    json: bool,
) -> Result<String, serde_json::Error> {
    Ok(if json {
        // Through a Value (keys then sorted) only when there is more to add:
        // the plain report keeps its field order.
        let mut s = if around.is_empty() {
            serde_json::to_string_pretty(report)?
        } else {
            let mut v = serde_json::to_value(report)?;
            around.add_to_json(&mut v);
            serde_json::to_string_pretty(&v)?
        };
        s.push('\n');
        s
    } else {
        let mut s = render_plain(report);
        s.push_str(&around.render_plain());
        s
    })
}

/// Tests one request (retrying with `--wait`), and on success adds the
/// notes a bind that worked still needs ([`success_notes`]).
fn test_one(
    req: &BindRequest,
    wait: Option<Duration>,
    json: bool,
) -> Result<(BindReport, Around), CliError> {
    let req = req.clone();
    let mut system = SystemSource::new();
    // The diagnosis looks at the sockets whose local port is the tested
    // one only (port 0, the ephemeral range, needs them all).
    if req.port != 0 {
        system.set_port_scope(Some(PortScope {
            local_only: true,
            ..PortScope::port(req.port, None)
        }));
    }
    // For people, every name from the system arrives escaped, and so does
    // every text built from it; JSON keeps the exact strings.
    let mut source: Box<dyn SocketSource> = if json {
        Box::new(system)
    } else {
        Box::new(EscapedSource(system))
    };
    let report = match wait {
        None => test_bind(&req, source.as_mut()),
        Some(limit) => {
            let mut last_status = String::new();
            wait_until_bound(&req, source.as_mut(), limit, WAIT_INTERVAL, |r, left| {
                let status = wait_status(r);
                if status != last_status {
                    eprintln!(
                        "waiting ({:.0} s left): {}",
                        left.as_secs_f64().ceil(),
                        escape_control(&status)
                    );
                    last_status = status;
                }
            })
        }
    }
    .map_err(CliError::Usage)?;
    let mut report = report;
    if report.ok
        && report.port != 0
        && let Ok(snap) = source.snapshot()
    {
        report.notes = success_notes(
            &report,
            &snap,
            HOST.privileged_ports().as_ref(),
            HOST.is_elevated(),
        );
    }
    let around = if report.port == 0 {
        Around::default()
    } else {
        Around::look(report.proto, report.port)
    };
    Ok((report, around))
}

/// What other network namespaces and port proxies have to do with the
/// port: servers in containers or `ip netns` namespaces that use it (they
/// never conflict with a bind here), and the container behind a
/// `docker-proxy` / `conmon` that holds it.
#[derive(Debug, Default)]
pub struct Around {
    pub elsewhere: Vec<ListenerElsewhere>,
    /// (what holds it, the command that stops the container).
    pub published: Vec<(String, Option<String>)>,
    /// Why other namespaces could not be looked at, when they exist.
    pub note: Option<String>,
}

impl Around {
    /// One snapshot of every namespace this process may enter.
    pub fn look(proto: Proto, port: u16) -> Around {
        let mut source = SystemSource::new();
        source.set_netns(NetnsSelection::All);
        source.set_bound_only(false);
        // Only the sockets on this local port and protocol are looked at
        // (`on_port`): the owner scan then stops once it has found theirs
        // instead of reading every process's descriptors.
        source.set_port_scope(Some(PortScope {
            local_only: true,
            ..PortScope::port(port, Some(proto))
        }));
        let Ok(snap) = source.snapshot() else {
            return Around::default();
        };
        let summary = source.netns_summary();
        let note = (!summary.privileged && summary.others > 0).then(|| {
            format!(
                "{} other network namespace(s) exist (containers, `ip netns`); looking inside \
                 them needs root: `sudo portwise bind-test {port}` says whether a server there \
                 uses this port (it would not conflict with a bind here)",
                summary.others
            )
        });
        Around {
            elsewhere: listeners_elsewhere(&snap, summary.own, proto, port),
            published: published_on(&snap, summary.own, proto, port),
            note,
        }
    }

    /// Nothing to add.
    pub fn is_empty(&self) -> bool {
        self.elsewhere.is_empty() && self.published.is_empty() && self.note.is_none()
    }

    /// `other_namespaces` (and `published`, `netns_note`) beside the
    /// report's own fields, each only when there is something to say.
    pub fn add_to_json(&self, v: &mut serde_json::Value) {
        let Some(obj) = v.as_object_mut() else {
            return;
        };
        if !self.elsewhere.is_empty()
            && let Ok(list) = serde_json::to_value(&self.elsewhere)
        {
            obj.insert("other_namespaces".into(), list);
        }
        if !self.published.is_empty() {
            let list = self
                .published
                .iter()
                .map(|(text, command)| serde_json::json!({"text": text, "command": command}))
                .collect();
            obj.insert("published".into(), serde_json::Value::Array(list));
        }
        if let Some(n) = &self.note {
            obj.insert("netns_note".into(), serde_json::Value::String(n.clone()));
        }
    }

    pub fn render_plain(&self) -> String {
        let mut out = String::new();
        if !self.published.is_empty() {
            out.push_str("\npublished port:\n");
            for (text, command) in &self.published {
                let _ = writeln!(out, "  - {}", escape_control(text));
                if let Some(c) = command {
                    let compose = if c.starts_with("docker ") {
                        " (or `docker compose down` in its project)"
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        out,
                        "      stop the container, not its proxy: {}{compose}",
                        escape_control(c)
                    );
                }
            }
        }
        if !self.elsewhere.is_empty() {
            out.push_str("\nother network namespaces:\n");
            for e in &self.elsewhere {
                // Process and namespace names come from the system.
                let _ = writeln!(out, "  - {}", escape_control(&e.note));
            }
        }
        if let Some(n) = &self.note {
            let _ = writeln!(out, "\nnote: {n}");
        }
        out
    }
}

/// What still stands in the way, in one line, for `--wait`.
fn wait_status(r: &BindReport) -> String {
    let Some(d) = &r.diagnosis else {
        return "binds".into();
    };
    let mut s = d.cause.to_string();
    if !d.holders.is_empty() {
        let hs: Vec<String> = d
            .holders
            .iter()
            .map(|h| format!("{} (pid {})", h.name, h.pid))
            .collect();
        let _ = write!(s, ", held by {}", hs.join(", "));
    }
    if let Some(tw) = d.time_wait {
        let _ = write!(s, ", {} in TIME_WAIT", tw.count);
    }
    s
}

/// The verdict line, then the explanation, holders and fixes.
pub fn render_plain(r: &BindReport) -> String {
    let mut out = r.verdict();
    if let Some(ms) = r.waited_ms
        && r.ok
        && ms > 0
    {
        let _ = write!(out, " (after {:.1} s)", ms as f64 / 1000.0);
    }
    out.push('\n');
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let Some(d) = &r.diagnosis else {
        return out;
    };
    let _ = writeln!(out, "\n{}", d.explanation);
    if !d.holders.is_empty() {
        out.push_str("\nholders:\n");
        for h in &d.holders {
            let _ = write!(out, "  pid {}  {}", h.pid, h.name);
            if let Some(u) = &h.user {
                let _ = write!(out, "  ({u})");
            }
            out.push('\n');
        }
    }
    if !d.hidden_owners.is_empty() {
        out.push_str("\nhidden owners (the process cannot be seen; the OS reports the uid):\n");
        for h in &d.hidden_owners {
            let _ = write!(out, "  uid {}", h.uid);
            if let Some(u) = &h.user {
                let _ = write!(out, "  ({u})");
            }
            let _ = writeln!(out, "  {} socket(s)", h.sockets);
        }
    }
    if let Some(tw) = d.time_wait {
        let _ = write!(out, "\nTIME_WAIT: {} socket(s)", tw.count);
        if let Some(ms) = tw.longest_remaining_ms {
            let _ = write!(out, ", the longest has {} s left", ms.div_ceil(1000));
        }
        out.push('\n');
    }
    if !d.fixes.is_empty() {
        out.push_str("\nfixes:\n");
        for f in &d.fixes {
            let _ = writeln!(out, "  - {}", f.text);
            if let Some(c) = &f.command {
                let _ = writeln!(out, "      {c}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(port: &str) -> BindTestArgs {
        BindTestArgs {
            port: port.into(),
            addr: None,
            proto: None,
            reuseaddr: false,
            reuseport: false,
            v6only: false,
            wait: None,
            json: false,
            remote: Default::default(),
        }
    }

    fn usage(a: BindTestArgs) -> String {
        match request_from_args(&a) {
            Err(CliError::Usage(m)) => m,
            other => panic!("expected usage error, got {other:?}"),
        }
    }

    #[test]
    fn parses_and_rejects() {
        let r = request_from_args(&args("8080")).unwrap();
        assert_eq!(
            r,
            BindRequest::new("0.0.0.0".parse().unwrap(), 8080, Proto::Tcp)
        );
        let r = request_from_args(&BindTestArgs {
            addr: Some("[::1]".into()),
            proto: Some("udp".into()),
            v6only: true,
            ..args("0")
        })
        .unwrap();
        assert_eq!(
            (r.addr.to_string().as_str(), r.proto, r.port),
            ("::1", Proto::Udp, 0)
        );
        assert!(usage(args("65536")).contains("'65536'"));
        assert!(usage(args("-1")).contains("'-1'"));
        assert!(usage(args("http")).contains("'http'"));
        assert!(
            usage(BindTestArgs {
                addr: Some("300.1.1.1".into()),
                ..args("80")
            })
            .contains("'300.1.1.1'")
        );
        assert!(
            usage(BindTestArgs {
                v6only: true,
                ..args("80")
            })
            .contains("--v6only")
        );
        let parse_wait = |w| parse_seconds(w, "--wait", 0.0);
        assert!(parse_wait("-3").is_err() && parse_wait("abc").is_err());
        assert_eq!(parse_wait("1.5").unwrap(), Duration::from_millis(1500));
    }
}
