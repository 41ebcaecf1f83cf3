//! `portwise list`: the machine's sockets with their processes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, IsTerminal as _, Write};
use std::process::ExitCode;

use super::args::{parse_pid, parse_port, parse_seconds};
use super::{CliError, CliResult};
use crate::sockets::csv;
use crate::sockets::filter::{Filter, StateFilter};
use crate::sockets::json::{self, JsonHeader};
use crate::sockets::model::{Proto, Snapshot, SocketEntry, TcpState};
use crate::sockets::{
    NetnsSelection, PortScope, SocketSource, SystemSource, coverage_note, is_unattributed,
    reason_for_some,
};
use crate::util::text::escape_control;

/// List sockets with their owning processes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "By default: TCP LISTEN, bound UDP sockets and TCP TIME_WAIT, the sockets \
that decide whether a port is free. TIME_WAIT sockets show the time left where the OS \
reports it (Linux) and, when portwise saw the connection alive (--watch), who held it.

Exit status: 0 when some socket matches, 1 when none does (the table, JSON or CSV is \
printed all the same), 2 for bad usage. With --watch, it runs until Ctrl-C.

Examples:
  portwise list
  portwise list --port 8080
  portwise list --proto tcp --state established,close-wait
  portwise list --json | jq '.sockets[] | select(.state == \"TIME_WAIT\")'
  portwise list --watch 2
  sudo portwise list --netns all          # containers and `ip netns` namespaces too
  sudo portwise list --netns blue --json  # the namespace `ip netns add blue` made"
)]
pub struct ListArgs {
    /// Show every state, not only LISTEN, UDP and TIME_WAIT. TCP sockets
    /// that are only bound (not listening, not connected) are listed with
    /// --state closed: finding them costs the kernel an extra table walk.
    #[arg(long, conflicts_with = "state")]
    pub all: bool,
    /// Show only TCP sockets in these states (comma-separated or repeated):
    /// listen, syn-sent, syn-recv, established, fin-wait-1, fin-wait-2,
    /// close-wait, closing, last-ack, time-wait, closed. Case-insensitive;
    /// '-' and '_' are the same. UDP sockets have no state and are left out.
    #[arg(long, value_name = "S[,S...]", value_delimiter = ',')]
    pub state: Vec<String>,
    /// Keep sockets whose local or remote port is P.
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// Keep one protocol: tcp or udp.
    #[arg(long, value_name = "tcp|udp")]
    pub proto: Option<String>,
    /// Keep the sockets process N holds.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pid: Option<String>,
    /// Print one JSON object (taken_at_unix_ms, unattributed, sockets, ...).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header row. A field that starts with =, +, -, @,
    /// tab or CR (a process may be named "=cmd|calc!A0") gets a leading '
    /// and quotes, so a spreadsheet shows it as text instead of running it
    /// as a formula (OWASP's CSV injection advice); --json keeps exact names.
    #[arg(long)]
    pub csv: bool,
    /// Print again every SECS seconds until Ctrl-C. Owners seen earlier are
    /// remembered, so TIME_WAIT sockets name their last known owner.
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    pub watch: Option<String>,
    /// Which network namespaces to list (Linux): all, a NAME from `ip netns
    /// list`, or the one process PID runs in. Default: portwise's own, with
    /// a note when others exist. Entering another namespace needs root.
    #[arg(long, value_name = "all|NAME|PID", allow_hyphen_values = true)]
    pub netns: Option<String>,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

/// What a listing adds beside the sockets themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Show the NETNS column (when namespaces other than the own one were
    /// asked for).
    pub netns_column: bool,
    /// The own network namespace's inode, to call it "own".
    pub own_netns: Option<u64>,
    /// One line about namespaces not listed (`NetnsSummary::note`).
    pub note: Option<String>,
    /// The port the socket dump was limited to (`--port`): then the
    /// snapshot holds that port's sockets only, not the machine's.
    pub scoped_port: Option<u16>,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub fn run(args: ListArgs) -> CliResult {
    if let Some(h) = &args.remote.host {
        return super::remote::list(&args, h, args.remote.yes);
    }
    let filter = filter_from_args(&args)?;
    let watch = args
        .watch
        .as_deref()
        .map(|w| parse_seconds(w, "--watch interval", 0.1))
        .transpose()?;
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table
    };
    let selection = args
        .netns
        .as_deref()
        .map(|n| n.parse::<NetnsSelection>().map_err(CliError::Usage))
        .transpose()?;
    let mut source = SystemSource::new();
    let netns_column = selection
        .as_ref()
        .is_some_and(|s| *s != NetnsSelection::Own);
    source.set_netns(selection.unwrap_or_default());
    // TCP sockets that are only bound cost Linux a walk of its bind table
    // that grows with the TIME_WAIT pile (8 ms for 30k on the benchmark
    // machine, BENCHMARKS.md): like `ss`, which shows them only with -B,
    // list them when CLOSED is asked for by name, not with --all.
    source.set_bound_only(
        matches!(&filter.states, StateFilter::Only(set) if set.contains(&TcpState::Closed)),
    );
    // "Who holds port P?": look for the owners of those sockets alone, and
    // in one snapshot only of those the filter shows (a --watch keeps every
    // state: it remembers connections' owners for their TIME_WAIT rows).
    source.set_port_scope(filter.port.map(|port| PortScope {
        states: watch.is_none().then(|| filter.states.clone()),
        ..PortScope::port(port, filter.proto)
    }));
    let clear = format == Format::Table && std::io::stdout().is_terminal();
    let mut first = true;
    loop {
        let snapshot = source
            .snapshot()
            .map_err(|e| CliError::Failed(format!("cannot list sockets: {e}")))?;
        let summary = source.netns_summary();
        let extras = Extras {
            netns_column,
            own_netns: summary.own,
            note: summary.note(),
            scoped_port: filter.port,
        };
        let mut preface = String::new();
        if let Some(every) = watch
            && format == Format::Table
        {
            if clear {
                preface.push_str("\x1b[H\x1b[2J");
            } else if !first {
                preface.push('\n');
            }
            let _ = writeln!(
                preface,
                "portwise list, every {}s (Ctrl-C to stop)\n",
                every.as_secs_f64()
            );
        }
        let written = {
            // Every format hands over large chunks: no extra buffering.
            let mut out = io::stdout().lock();
            let mut explain =
                |rows: &[&SocketEntry]| source.explain_rows(rows, snapshot.privileged);
            out.write_all(preface.as_bytes())
                .and_then(|_| {
                    write_explained(&mut out, &snapshot, &filter, format, &mut explain, &extras)
                })
                .and_then(|_| out.flush())
        };
        match written {
            Ok(()) => {}
            // The reader went away (`portwise list --watch 1 | head`): done.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(CliError::Failed(format!("cannot write to stdout: {e}"))),
        }
        first = false;
        match watch {
            Some(every) => std::thread::sleep(every),
            // Like grep, and like every other portwise command: 1 when the
            // answer is no, here "no socket matches".
            None if !any_match(&snapshot, &filter) => return Ok(ExitCode::from(1)),
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Whether any socket of `snapshot` passes `filter` (stops at the first).
fn any_match(snapshot: &Snapshot, filter: &Filter) -> bool {
    let everything = filter.keeps_everything();
    snapshot
        .sockets
        .iter()
        .any(|s| everything || filter.matches(s))
}

/// Turn the flags into a [`Filter`], or a one-line usage error naming the
/// bad value.
pub fn filter_from_args(args: &ListArgs) -> Result<Filter, CliError> {
    let states = if args.all {
        StateFilter::All
    } else if args.state.is_empty() {
        StateFilter::PortHolders
    } else {
        let mut set = std::collections::BTreeSet::new();
        for s in &args.state {
            set.insert(s.parse::<TcpState>().map_err(CliError::Usage)?);
        }
        StateFilter::Only(set)
    };
    let port = args.port.as_deref().map(parse_port).transpose()?;
    let proto = args
        .proto
        .as_deref()
        .map(|p| p.parse::<Proto>().map_err(CliError::Usage))
        .transpose()?;
    let pid = args.pid.as_deref().map(parse_pid).transpose()?;
    Ok(Filter {
        states,
        port,
        proto,
        pid,
        text: String::new(),
    })
}

/// Counts the unattributed sockets among some rows and says why, for
/// exactly those rows (`SystemSource::explain_rows`).
pub type Explain<'a> = dyn FnMut(&[&SocketEntry]) -> (usize, Option<String>) + 'a;

/// Write the snapshot's sockets that pass `filter`, in `format`. The
/// unattributed count and its reason are for the rows shown: the
/// snapshot's own reason when they are all of its unattributed sockets,
/// otherwise a reason without user names (see [`write_explained`]).
pub fn write_to<W: Write>(
    w: &mut W,
    snapshot: &Snapshot,
    filter: &Filter,
    format: Format,
) -> io::Result<()> {
    write_explained(
        w,
        snapshot,
        filter,
        format,
        &mut |rows| unattributed(snapshot, rows),
        &Extras::default(),
    )
}

/// [`write_to`], with `explain` giving the unattributed count and reason of
/// the rows shown (one set, counted once), and the namespace column and
/// note of `extras`.
pub fn write_explained<W: Write>(
    w: &mut W,
    snapshot: &Snapshot,
    filter: &Filter,
    format: Format,
    explain: &mut Explain<'_>,
    extras: &Extras,
) -> io::Result<()> {
    match format {
        Format::Table => {
            let shown = filter.apply(snapshot);
            let lost = explain(&shown);
            w.write_all(render_table(snapshot, &shown, lost, extras).as_bytes())
        }
        Format::Json => write_json(w, snapshot, filter, explain, extras.note.as_deref()),
        Format::Csv => w.write_all(csv::to_csv(filter.apply(snapshot)).as_bytes()),
    }
}

/// [`write_to`] into a string.
pub fn render(snapshot: &Snapshot, filter: &Filter, format: Format) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and every format writes UTF-8.
    let _ = write_to(&mut out, snapshot, filter, format);
    String::from_utf8_lossy(&out).into_owned()
}

/// The unattributed count among `shown`, with a reason for that count
/// without a socket source at hand: the snapshot's own when `shown` holds
/// all of the snapshot's unattributed sockets, else a plain one that counts
/// the same sockets (the CLI itself passes the source's
/// `explain_rows`, which names the users).
fn unattributed(snapshot: &Snapshot, shown: &[&SocketEntry]) -> (usize, Option<String>) {
    let n = shown.iter().filter(|s| is_unattributed(s)).count();
    (n, reason_for_some(snapshot, n).map(|r| r.into_owned()))
}

fn endpoint(ip: &std::net::IpAddr, port: u16) -> String {
    let mut out = String::new();
    crate::sockets::write_endpoint(&mut out, ip, port);
    out
}

/// "59.3s": the TIME_WAIT countdown (or an orphaned FIN_WAIT_2's, which the
/// kernel finishes the same way), only where the OS reported one.
fn time_left(s: &SocketEntry) -> String {
    match (s.state, s.time_wait_expires_in_ms) {
        (_, Some(ms)) if s.is_kernel_owned() || s.orphan => {
            format!("{:.1}s", ms as f64 / 1000.0)
        }
        (Some(TcpState::TimeWait), None) => "not reported".to_string(),
        _ => String::new(),
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>, sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let _ = write!(out, "{item}");
    }
    out
}

/// The NETNS cell: the container, else "own", the name or the inode.
fn netns_cell(s: &SocketEntry, own: Option<u64>) -> String {
    match &s.netns {
        None => "-".into(),
        Some(ns) if ns.container.is_none() && Some(ns.inode) == own => "own".into(),
        Some(ns) => ns.describe(),
    }
}

fn render_table(
    snapshot: &Snapshot,
    shown: &[&SocketEntry],
    lost: (usize, Option<String>),
    extras: &Extras,
) -> String {
    const HEAD: [&str; 9] = [
        "PROTO",
        "LOCAL",
        "REMOTE",
        "STATE",
        "TIME LEFT",
        "NETNS",
        "PID",
        "USER",
        "PROCESS",
    ];
    let rows: Vec<[String; 9]> = shown
        .iter()
        .map(|s| {
            let (pid, user, process) = if !s.processes.is_empty() {
                let mut users: Vec<&str> = s
                    .processes
                    .iter()
                    .filter_map(|p| p.user.as_deref())
                    .collect();
                users.dedup();
                let mut names: Vec<&str> = s
                    .processes
                    .iter()
                    .map(|p| {
                        if p.name.is_empty() {
                            "?"
                        } else {
                            p.name.as_str()
                        }
                    })
                    .collect();
                names.dedup();
                let mut process = names.join(",");
                if let Some(p) = &s.published {
                    let _ = write!(process, " ({})", p.describe());
                }
                (
                    join(s.processes.iter().map(|p| p.pid), ","),
                    if users.is_empty() {
                        "?".to_string()
                    } else {
                        users.join(",")
                    },
                    process,
                )
            } else if let Some(o) = &s.last_known_owner {
                (
                    "-".into(),
                    "-".into(),
                    format!("(was {}, pid {})", o.name, o.pid),
                )
            } else if is_unattributed(s) {
                // The kernel says whose socket it is even when /proc hides
                // the process (issue 13: show the user).
                let user = snapshot.hidden_owner_user(s).unwrap_or_else(|| "?".into());
                ("?".into(), user, "(hidden, see below)".into())
            } else {
                ("-".into(), "-".into(), "-".into())
            };
            [
                s.proto.to_string(),
                endpoint(&s.local_addr, s.local_port),
                match (s.remote_addr, s.remote_port) {
                    (Some(a), Some(p)) => endpoint(&a, p),
                    _ => "-".into(),
                },
                s.state.map(|st| st.as_str()).unwrap_or("-").to_string(),
                time_left(s),
                netns_cell(s, extras.own_netns),
                pid,
                user,
                process,
            ]
            // Names and users come from the system: a process may be named
            // "\x1b]0;...\x07" to act on the terminal.
            .map(|mut cell| {
                super::escape_in_place(&mut cell);
                cell
            })
        })
        .collect();
    // The NETNS column only when other namespaces were asked for.
    let keep = |i: usize| i != 5 || extras.netns_column;
    let mut width = HEAD.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let width: Vec<usize> = width
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, w)| *w)
        .collect();
    let mut out = String::with_capacity((rows.len() + 4) * 100);
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ", w = width[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    let head: Vec<&str> = HEAD
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, h)| *h)
        .collect();
    line(&head);
    for row in &rows {
        let cells: Vec<&str> = row
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, c)| c.as_str())
            .collect();
        line(&cells);
    }
    out.push('\n');
    out.push_str(&footer(snapshot, shown, lost, extras.scoped_port));
    if let Some(note) = &extras.note {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// "12 sockets: 3 LISTEN, 8 TIME_WAIT, 1 UDP", then the unattributed count
/// and its reason, then anything this OS cannot list.
/// `scoped_port`: the port the dump was limited to, if it was.
fn footer(
    snapshot: &Snapshot,
    shown: &[&SocketEntry],
    lost: (usize, Option<String>),
    scoped_port: Option<u16>,
) -> String {
    let mut counts: BTreeMap<(u8, Option<TcpState>), usize> = BTreeMap::new();
    for s in shown {
        // TCP states in their natural order, UDP last.
        let rank = if s.state.is_some() { 0 } else { 1 };
        *counts.entry((rank, s.state)).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|((_, st), n)| format!("{n} {}", st.map(|s| s.as_str()).unwrap_or("UDP")))
        .collect();
    let noun = if shown.len() == 1 {
        "socket"
    } else {
        "sockets"
    };
    let mut out = if parts.is_empty() {
        match scoped_port {
            // Only that port's sockets were read: the machine's total is
            // not known (it used to say "of 0 on this machine").
            Some(p) => format!("0 sockets match on port {p}\n"),
            None => format!(
                "0 sockets match (of {} on this machine)\n",
                snapshot.sockets.len()
            ),
        }
    } else {
        format!("{} {noun}: {}\n", shown.len(), parts.join(", "))
    };
    let (n, reason) = lost;
    match reason {
        Some(r) if n > 0 => {
            let _ = writeln!(out, "unattributed: {n} ({})", escape_control(&r));
        }
        _ => {
            let _ = writeln!(out, "unattributed: {n}");
        }
    }
    if let Some(note) = coverage_note(snapshot.privileged) {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// Streams the matching sockets: no list of them is built first.
fn write_json<W: Write>(
    w: &mut W,
    snapshot: &Snapshot,
    filter: &Filter,
    explain: &mut Explain<'_>,
    netns_note: Option<&str>,
) -> io::Result<()> {
    let everything = filter.keeps_everything();
    let shown = || {
        snapshot
            .sockets
            .iter()
            .filter(move |s| everything || filter.matches(s))
    };
    // Counting all of them again is a whole pass over a large table.
    let (n, reason) = if everything {
        (snapshot.unattributed, snapshot.unattributed_reason.clone())
    } else {
        let lost: Vec<&SocketEntry> = shown().filter(|s| is_unattributed(s)).collect();
        explain(&lost)
    };
    let mut header = JsonHeader::for_rows(snapshot, n);
    header.unattributed_reason = reason.filter(|_| n > 0).map(std::borrow::Cow::Owned);
    header.netns_note = netns_note;
    json::write_document(w, &header, shown())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::model::{OwnerRef, ProcessInfo};

    fn snapshot() -> Snapshot {
        let listen = SocketEntry {
            processes: vec![ProcessInfo {
                pid: 4242,
                name: "web, \"dev\"".into(),
                user: Some("alice".into()),
                exe: Some("/usr/bin/python3".into()),
                cmdline: None,
            }],
            inode: 10,
            uid: Some(1000),
            ..SocketEntry::new(
                Proto::Tcp,
                "127.0.0.1:8080".parse().unwrap(),
                None,
                Some(TcpState::Listen),
            )
        };
        let tw = SocketEntry {
            remote_addr: Some("127.0.0.1".parse().unwrap()),
            remote_port: Some(40000),
            state: Some(TcpState::TimeWait),
            processes: vec![],
            time_wait_expires_in_ms: Some(59_250),
            last_known_owner: Some(OwnerRef {
                pid: 4242,
                name: "python3".into(),
            }),
            inode: 0,
            ..listen.clone()
        };
        let hidden = SocketEntry {
            local_port: 9000,
            processes: vec![],
            inode: 11,
            uid: Some(0),
            ..listen.clone()
        };
        Snapshot {
            taken_at_unix_ms: 1_700_000_000_000,
            unattributed: 1,
            unattributed_reason: Some("1 socket held by processes of root (uid 0)".into()),
            privileged: false,
            sockets: vec![listen, tw, hidden],
            owner_users: [(0, "root".to_string())].into_iter().collect(),
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let text = render(&snapshot(), &Filter::default(), Format::Json);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["taken_at_unix_ms"], 1_700_000_000_000u64);
        assert_eq!(v["unattributed"], 1);
        let s = &v["sockets"];
        assert_eq!(s.as_array().unwrap().len(), 3);
        assert_eq!(s[0]["processes"][0]["exe"], "/usr/bin/python3");
        assert_eq!(s[1]["state"], "TIME_WAIT");
        assert_eq!(s[1]["time_wait_expires_in_ms"], 59_250);
        assert_eq!(s[1]["last_known_owner"]["name"], "python3");
        let keys: Vec<&str> = s[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            "proto",
            "family",
            "local_addr",
            "local_port",
            "remote_addr",
            "remote_port",
            "state",
            "processes",
            "time_wait_expires_in_ms",
            "last_known_owner",
            "netns",
        ];
        want.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn csv_quotes_where_needed() {
        let text = render(&snapshot(), &Filter::default(), Format::Csv);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "proto,family,local_addr,local_port,remote_addr,remote_port,state,pids,process,time_wait_expires_in_ms,command"
        );
        assert_eq!(
            lines[1],
            "tcp,ipv4,127.0.0.1,8080,,,LISTEN,4242,\"web, \"\"dev\"\"\",,"
        );
        assert_eq!(
            lines[2],
            "tcp,ipv4,127.0.0.1,8080,127.0.0.1,40000,TIME_WAIT,,,59250,"
        );
    }

    #[test]
    fn table_is_aligned_with_countdown_and_footer() {
        let text = render(&snapshot(), &Filter::default(), Format::Table);
        let lines: Vec<&str> = text.lines().collect();
        let col = lines[0].find("STATE").unwrap();
        assert_eq!(lines[1].find("LISTEN"), Some(col));
        assert_eq!(lines[2].find("TIME_WAIT"), Some(col));
        assert!(lines[2].contains("59.2s"), "{}", lines[2]);
        assert!(lines[2].contains("(was python3, pid 4242)"));
        assert!(lines[3].contains("(hidden, see below)"));
        // The kernel's uid names the user even though the process is hidden.
        assert!(lines[3].contains(" root "), "{}", lines[3]);
        assert!(
            text.contains("3 sockets: 2 LISTEN, 1 TIME_WAIT\n"),
            "{text}"
        );
        assert!(text.contains("unattributed: 1 (1 socket held by processes of root (uid 0))"));
    }

    /// The window's export (state::export) writes exactly these shapes.
    #[test]
    fn window_export_matches_list_output() {
        use crate::window::sockets::export;
        let snap = snapshot();
        for f in [
            Filter::default(),
            Filter {
                port: Some(8080),
                ..Filter::default()
            },
        ] {
            let rows = f.apply(&snap);
            assert_eq!(
                export::to_json(&snap, rows.iter().copied()).unwrap(),
                render(&snap, &f, Format::Json)
            );
            assert_eq!(
                export::to_csv(rows.iter().copied()),
                render(&snap, &f, Format::Csv)
            );
        }
    }

    #[test]
    fn filtered_out_unattributed_sockets_are_not_counted() {
        let f = Filter {
            port: Some(8080),
            ..Filter::default()
        };
        let text = render(&snapshot(), &f, Format::Json);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["unattributed"], 0);
        assert_eq!(v["unattributed_reason"], serde_json::Value::Null);
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_value() {
        let parse_interval = |s| parse_seconds(s, "--watch interval", 0.1);
        let base = || ListArgs {
            all: false,
            state: vec![],
            port: None,
            proto: None,
            pid: None,
            json: false,
            csv: false,
            watch: None,
            netns: None,
            remote: Default::default(),
        };
        let cases: Vec<(ListArgs, &str)> = vec![
            (
                ListArgs {
                    state: vec!["bogus".into()],
                    ..base()
                },
                "bogus",
            ),
            (
                ListArgs {
                    port: Some("70000".into()),
                    ..base()
                },
                "70000",
            ),
            (
                ListArgs {
                    port: Some("-1".into()),
                    ..base()
                },
                "-1",
            ),
            (
                ListArgs {
                    port: Some("http".into()),
                    ..base()
                },
                "http",
            ),
            (
                ListArgs {
                    proto: Some("sctp".into()),
                    ..base()
                },
                "sctp",
            ),
            (
                ListArgs {
                    pid: Some("x1".into()),
                    ..base()
                },
                "x1",
            ),
        ];
        for (args, bad) in cases {
            match filter_from_args(&args) {
                Err(CliError::Usage(m)) => {
                    assert!(m.contains(bad) && !m.contains('\n'), "{m}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for bad in ["0", "-2", "abc", "inf", "NaN", "100000"] {
            assert!(matches!(parse_interval(bad), Err(CliError::Usage(m)) if m.contains(bad)));
        }
        assert_eq!(
            parse_interval("0.5").ok(),
            Some(std::time::Duration::from_millis(500))
        );
    }
}
