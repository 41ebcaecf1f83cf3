//! Audit an existing sysctl.conf / sysctl.d file: flag what is wrong,
//! obsolete or misunderstood, with line numbers.
//!
//! File syntax follows sysctl.d(5) (man7): blank lines and lines whose first
//! non-blank character is `#` or `;` are ignored; other lines are
//! `key = value`; "either / or . may be used as separators ... If the first
//! separator is a slash, remaining slashes and dots are left intact. If the
//! first separator is a dot, dots and slashes are interchanged"; a leading `-`
//! makes a failure to set the key non-fatal, and `-pattern` alone (no `=`)
//! excludes keys from a glob; keys may be glob patterns.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::kernel::{Current, Verdict};
use super::plan::two_numbers;
use super::portlist::PortList;
use super::{Os, Sysctls};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `sysctl -p` rejects the line on this kernel.
    Error,
    /// The line applies, but is wrong advice, has no effect, or is risky.
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What kind of problem a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Not a `key = value` line.
    Syntax,
    /// A setting that no longer exists (tcp_tw_recycle).
    Obsolete,
    /// Set as if it did something it does not (tcp_fin_timeout and TIME_WAIT).
    Misunderstood,
    /// Has no effect because of another setting.
    Ineffective,
    /// A value the kernel rejects or that breaks a documented rule.
    InvalidValue,
    /// A key this system does not have.
    Unknown,
    /// The same key set again later in the file.
    Duplicate,
    /// Applies, but can cut the machine off (e.g. reserving most of the
    /// ephemeral range).
    Risky,
}

/// One problem, on one line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub line: usize,
    pub severity: Severity,
    pub kind: FindingKind,
    /// The key as written on the line, if the line has one.
    pub key: Option<String>,
    pub message: String,
}

struct Entry {
    line: usize,
    raw_key: String,
    key: String,
    value: String,
    /// The value as written after `=` (what sysctl sends the kernel, once
    /// trimmed).
    written: String,
    ignore_failure: bool,
    comment_above: String,
}

/// "3 findings (2 errors, 1 warning)".
pub fn summary(findings: &[Finding]) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    format!(
        "{} finding{} ({errors} error{}, {warnings} warning{})",
        findings.len(),
        plural(findings.len()),
        plural(errors),
        plural(warnings)
    )
}

/// The largest file [`audit_file`] reads: a sysctl file is a few lines, and
/// a cap keeps `/dev/zero` or a huge log from filling memory.
pub const AUDIT_MAX_BYTES: u64 = 1 << 20;

/// Read and audit the sysctl file at `path`, as `portwise tuning audit` and
/// the window do. Only regular files up to [`AUDIT_MAX_BYTES`] are read
/// (a FIFO would block, a device may never end); the error is one line that
/// names the path. Keys are checked against `sys` on Linux and macOS;
/// Windows has no sysctls, so there nothing is checked against the system.
pub fn audit_file(path: &Path, sys: &dyn Sysctls) -> Result<Vec<Finding>, String> {
    let name = path.display();
    // metadata() follows symlinks and does not open the file: opening a FIFO
    // for reading would block until a writer appears.
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{name} is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(format!(
            "{name} is not a regular file (a device, FIFO or socket); audit a sysctl file"
        ));
    }
    if meta.len() > AUDIT_MAX_BYTES {
        return Err(format!(
            "{name} is {} bytes long; a sysctl file is a few lines (limit {AUDIT_MAX_BYTES})",
            meta.len()
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    // The cap holds even if the file grows between the check and the read.
    let mut bytes = Vec::new();
    file.take(AUDIT_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if bytes.len() as u64 > AUDIT_MAX_BYTES {
        return Err(format!(
            "{name} is over {AUDIT_MAX_BYTES} bytes long; a sysctl file is a few lines"
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    let live = match Os::current() {
        Os::Windows => None,
        Os::Linux | Os::Macos => Some(sys),
    };
    Ok(audit(&text, live))
}

/// Audit `text`. With `sys`, keys are checked against that system and
/// settings the file does not make are taken from it (e.g. tcp_timestamps);
/// without it (another OS), only the file itself is judged.
///
/// The contract: an [`Severity::Error`] exactly when `sysctl -p` (procps)
/// would reject the line on this kernel; anything else worth attention is a
/// [`Severity::Warning`]. Values are judged by [`super::kernel`], which
/// follows the kernel's own parsers.
pub fn audit(text: &str, sys: Option<&dyn Sysctls>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut comments = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() {
            comments.clear();
            continue;
        }
        if t.starts_with('#') || t.starts_with(';') {
            comments.push_str(t);
            comments.push('\n');
            continue;
        }
        let (ignore_failure, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, t),
        };
        let Some((k, v)) = body.split_once('=') else {
            // procps src/sysctl.c parse_setting_line(): "invalid syntax,
            // continuing..." and the exit status stays 0; systemd-sysctl
            // logs "Line is not an assignment, ignoring". A `-pattern` line
            // without `=` excludes keys from a glob.
            if !ignore_failure {
                findings.push(finding(
                    line,
                    Severity::Warning,
                    FindingKind::Syntax,
                    None,
                    format!(
                        "`{t}` is not `key = value`; sysctl skips it (\"invalid syntax, \
                         continuing...\")"
                    ),
                ));
            }
            comments.clear();
            continue;
        };
        let k = k.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            // An empty key names /proc/sys itself, a key with a blank names
            // no file: `sysctl -p` fails on both.
            findings.push(finding(
                line,
                Severity::Error,
                FindingKind::Syntax,
                None,
                format!("`{t}` has no valid key before '=' (keys contain no spaces)"),
            ));
            comments.clear();
            continue;
        }
        entries.push(Entry {
            line,
            raw_key: k.to_string(),
            key: canonical_key(k),
            value: v.split_whitespace().collect::<Vec<_>>().join(" "),
            written: v.to_string(),
            ignore_failure,
            comment_above: std::mem::take(&mut comments),
        });
    }

    // Keys that leave /proc/sys or are malformed are judged here; a key that
    // leaves /proc/sys is never looked up on the system.
    let mut valid = Vec::new();
    for e in entries {
        match key_problem(&e.key) {
            KeyCheck::Escapes => findings.push(finding(
                e.line,
                Severity::Error,
                FindingKind::Syntax,
                Some(&e.raw_key),
                format!(
                    "{}: this key names /proc/sys itself or a path outside it (its `..` \
                     segments climb out); sysctl refuses it",
                    e.raw_key
                ),
            )),
            KeyCheck::Odd { resolved, why } => {
                findings.push(finding(
                    e.line,
                    Severity::Warning,
                    FindingKind::Syntax,
                    Some(&e.raw_key),
                    format!("{}: {why}", e.raw_key),
                ));
                valid.push(Entry { key: resolved, ..e });
            }
            KeyCheck::Fine => valid.push(e),
        }
    }
    let entries = valid;

    // The last line for each key wins, as when the file is applied.
    let mut last: BTreeMap<&str, &Entry> = BTreeMap::new();
    for e in &entries {
        if let Some(prev) = last.insert(e.key.as_str(), e) {
            findings.push(finding(
                e.line,
                Severity::Warning,
                FindingKind::Duplicate,
                Some(&e.raw_key),
                format!(
                    "{} is already set on line {}; this later line wins",
                    e.raw_key, prev.line
                ),
            ));
        }
    }
    // A setting's value once the whole file is applied: from this file, else
    // from the system (for rules about the end state, e.g. tcp_tw_reuse
    // needing timestamps).
    let effective = |key: &str| -> Option<(String, String)> {
        match last.get(key) {
            Some(e) => Some((e.value.clone(), format!("line {}", e.line))),
            None => sys?.read(key).map(|v| (v, "on this system".to_string())),
        }
    };

    // `sysctl -p` and systemd-sysctl write the lines in order, and the
    // kernel checks each write against the values current at that moment
    // (net/ipv4/sysctl_net_ipv4.c: ipv4_local_port_range() rejects a start
    // below ip_unprivileged_port_start, ipv4_privileged_ports() a value above
    // the range's start, both with EINVAL). So the cross-key rules use the
    // values in force at each line: set by an earlier line that applied,
    // else the system's, else the kernel's defaults. A rejected line never
    // takes effect.
    let mut state = InForce::new(sys);
    for e in &entries {
        check_entry(e, sys, &effective, &mut state, &mut findings);
    }
    findings.sort_by_key(|f| (f.line, f.severity, f.kind));
    findings
}

/// The values of the two cross-checked settings as the file is applied, and
/// where each comes from ("line 3", "on this system", "the default").
struct InForce {
    now: Current,
    range_from: String,
    unprivileged_from: String,
}

impl InForce {
    fn new(sys: Option<&dyn Sysctls>) -> InForce {
        let mut s = InForce {
            now: Current::default(),
            range_from: "the default".into(),
            unprivileged_from: "the default".into(),
        };
        if let Some((a, b)) = sys
            .and_then(|s| s.read("net.ipv4.ip_local_port_range"))
            .and_then(|v| two_numbers(&v))
        {
            s.now.range = (i64::from(a), i64::from(b));
            s.range_from = "on this system".into();
        }
        if let Some(u) = sys
            .and_then(|s| s.read("net.ipv4.ip_unprivileged_port_start"))
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            s.now.unprivileged = u;
            s.unprivileged_from = "on this system".into();
        }
        s
    }
}

/// What is wrong with a (dotted) key's path under /proc/sys, if anything.
///
/// Both tools turn the key into a path under /proc/sys and open it.
/// procps (src/sysctl.c) warns "separators should not be repeated" for empty
/// segments and refuses a path that resolves outside /proc/sys
/// (is_proc_path(): realpath() must start with "/proc/sys/"); a `..` that
/// stays inside is followed. systemd-sysctl (src/shared/sysctl-util.c
/// sysctl_write(): `path_simplify(p); if (!path_is_normalized(p)) return
/// -EINVAL;`) drops empty segments but refuses `.` and `..`.
/// So: a key that climbs out of /proc/sys is an error (and is never looked
/// up, so the audit reveals nothing about files elsewhere); `.`, `..` and
/// empty segments inside it are warnings, and the key is then judged as the
/// path it resolves to.
fn key_problem(key: &str) -> KeyCheck {
    let path = dotted_to_path(key);
    let mut stack: Vec<&str> = Vec::new();
    let mut odd = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" => odd.push("an empty segment (a repeated, leading or trailing separator)"),
            "." => odd.push("a `.` segment"),
            ".." => {
                odd.push("a `..` segment");
                if stack.pop().is_none() {
                    return KeyCheck::Escapes;
                }
            }
            s => stack.push(s),
        }
    }
    if stack.is_empty() {
        return KeyCheck::Escapes;
    }
    if odd.is_empty() {
        return KeyCheck::Fine;
    }
    odd.sort_unstable();
    odd.dedup();
    let resolved = canonical_key(&stack.join("/"));
    KeyCheck::Odd {
        why: format!(
            "the key has {}; sysctl -p warns and writes {resolved}, systemd-sysctl at boot \
             refuses `.` and `..` segments. Write the key plainly",
            odd.join(" and "),
        ),
        resolved,
    }
}

/// [`key_problem`]'s answer.
enum KeyCheck {
    Fine,
    /// Resolves to another key inside /proc/sys.
    Odd {
        resolved: String,
        why: String,
    },
    /// Names /proc/sys itself or a path outside it.
    Escapes,
}

/// The /proc/sys path (without the prefix) of a dotted key.
fn dotted_to_path(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            c => c,
        })
        .collect()
}

/// The safe share of the ephemeral range: a reservation that leaves fewer
/// free ports than this fraction of the range is refused by the export and
/// flagged by the audit (issue: an export must never cut a machine off).
pub const MIN_FREE_SHARE_PERCENT: u32 = 50;

/// Ports of `reserved` inside `range` and how many of the range stay free.
pub fn ephemeral_left(reserved: &PortList, range: (u32, u32)) -> (u32, u32) {
    let total = range.1.saturating_sub(range.0) + 1;
    let inside = match crate::ports::range::PortRange::new(
        range.0.clamp(1, 65535) as u16,
        range.1.clamp(1, 65535) as u16,
    ) {
        Some(r) => reserved.intersection(&PortList::from_ranges([r])).count(),
        None => 0,
    };
    (inside, total.saturating_sub(inside))
}

/// Whether `left` free ports out of `total` is below the safe share.
pub fn too_few_left(left: u32, total: u32) -> bool {
    u64::from(left) * 100 < u64::from(total) * u64::from(MIN_FREE_SHARE_PERCENT)
}

/// `effective`: a key's value once the file is applied; `state`: the values
/// in force when this line is written (updated when the line applies).
fn check_entry(
    e: &Entry,
    sys: Option<&dyn Sysctls>,
    effective: &dyn Fn(&str) -> Option<(String, String)>,
    state: &mut InForce,
    out: &mut Vec<Finding>,
) {
    let key = e.key.as_str();
    let mut push =
        |sev, kind, msg: String| out.push(finding(e.line, sev, kind, Some(&e.raw_key), msg));
    let exists = sys.map(|s| s.exists(key));
    if key.ends_with("tcp_tw_recycle") {
        if exists == Some(true) {
            push(
                Severity::Warning,
                FindingKind::Obsolete,
                format!(
                    "{}: this old kernel still has it, but it breaks clients behind NAT (it \
                     drops SYNs with older timestamps from the same IP) and Linux 4.12 removed \
                     it; delete the line",
                    e.raw_key
                ),
            );
        } else {
            push(
                Severity::Error,
                FindingKind::Obsolete,
                format!(
                    "{}: removed in Linux 4.12 (it broke clients behind NAT), so applying this \
                     line fails; delete it",
                    e.raw_key
                ),
            );
        }
        return;
    }
    let glob = key.contains(['*', '?', '[']);
    if exists == Some(false) && !glob {
        // procps src/sysctl.c WriteSetting(): stat() fails -> "cannot stat",
        // exit status 1, with or without the leading '-' (which it honours
        // only for failed writes); systemd-sysctl skips '-' lines quietly.
        push(
            Severity::Error,
            FindingKind::Unknown,
            format!(
                "{}: this kernel has no such key (a typo, an old name, or a module that is not \
                 loaded); `sysctl -p` fails on it (\"cannot stat\"){}",
                e.raw_key,
                if e.ignore_failure {
                    ", even with the leading '-' (systemd-sysctl at boot does skip it)"
                } else {
                    ""
                }
            ),
        );
        return;
    }
    let Some(verdict) = super::kernel::check_value(key, &e.written, state.now) else {
        return;
    };
    let numbers = match verdict {
        Verdict::Rejected(why) => {
            let why = why
                .replace(
                    "in force when this line is applied",
                    &format!(
                        "in force when this line is applied: {}",
                        if key == "net.ipv4.ip_unprivileged_port_start" {
                            &state.range_from
                        } else {
                            &state.unprivileged_from
                        }
                    ),
                )
                .replace("applied: on this", "applied, on this");
            push(
                Severity::Error,
                FindingKind::InvalidValue,
                format!(
                    "{} = {}: {why}; the kernel rejects it (EINVAL)",
                    e.raw_key, e.value
                ),
            );
            return;
        }
        Verdict::Uncertain(why) => {
            push(
                Severity::Warning,
                FindingKind::InvalidValue,
                format!("{} = {}: {why}", e.raw_key, e.value),
            );
            return;
        }
        Verdict::Accepted {
            numbers,
            ignored,
            notes,
        } => {
            for n in notes {
                push(
                    Severity::Warning,
                    FindingKind::InvalidValue,
                    format!("{} = {}: {n}", e.raw_key, e.value),
                );
            }
            if !ignored.is_empty() {
                push(
                    Severity::Warning,
                    FindingKind::Syntax,
                    format!(
                        "{} = {}: the kernel ignores `{ignored}` after the value. Comments \
                         belong on their own line (sysctl.d(5)); extra values do nothing",
                        e.raw_key, e.value
                    ),
                );
            }
            numbers
        }
    };
    match key {
        "net.ipv4.ip_local_port_range" => {
            state.now.range = (numbers[0], numbers[1]);
            state.range_from = format!("line {}", e.line);
        }
        "net.ipv4.ip_unprivileged_port_start" => {
            state.now.unprivileged = numbers[0];
            state.unprivileged_from = format!("line {}", e.line);
        }
        _ => {}
    }
    match key {
        "net.ipv4.tcp_fin_timeout" => {
            let v = numbers[0];
            if v < 0 {
                push(
                    Severity::Warning,
                    FindingKind::InvalidValue,
                    format!(
                        "{} = {v}: the kernel accepts a negative number here, but it is not a \
                         time; write the seconds an orphaned FIN_WAIT_2 socket may wait (the \
                         default is 60)",
                        e.raw_key
                    ),
                );
            } else if v < 60 && !mentions_fin_wait_2(&e.comment_above) {
                push(
                    Severity::Warning,
                    FindingKind::Misunderstood,
                    format!(
                        "{} = {v} does not shorten TIME_WAIT (60 s on Linux, fixed); it only \
                         limits how long orphaned sockets wait in FIN_WAIT_2. Keep it only if \
                         that is what you want, and say so in a comment above it that mentions \
                         FIN_WAIT_2",
                        e.raw_key
                    ),
                );
            }
        }
        "net.ipv4.tcp_tw_reuse" if numbers[0] != 0 => {
            let ts = effective("net.ipv4.tcp_timestamps").and_then(|(v, at)| {
                match super::kernel::check_value("net.ipv4.tcp_timestamps", &v, state.now) {
                    Some(Verdict::Accepted { numbers, .. }) => Some((numbers[0], at)),
                    _ => None,
                }
            });
            if let Some((0, at)) = ts {
                push(
                    Severity::Warning,
                    FindingKind::Ineffective,
                    format!(
                        "{} = {} does nothing while net.ipv4.tcp_timestamps = 0 ({at}): reuse \
                         needs TCP timestamps on both ends",
                        e.raw_key, numbers[0]
                    ),
                );
            }
        }
        "net.ipv4.tcp_timestamps" if numbers[0] > 2 => push(
            Severity::Warning,
            FindingKind::InvalidValue,
            format!(
                "{} = {}: the kernel stores it, but only 0, 1 and 2 are documented values \
                 (ip-sysctl.rst)",
                e.raw_key, numbers[0]
            ),
        ),
        "net.ipv4.tcp_max_tw_buckets" => check_max_tw_buckets(e, numbers[0], sys, &mut push),
        "net.ipv4.ip_local_port_range" => {
            let (a, b) = (numbers[0], numbers[1]);
            if a % 2 == b % 2 {
                push(
                    Severity::Warning,
                    FindingKind::InvalidValue,
                    format!(
                        "{} = {}: start and end have the same parity; the kernel documentation \
                         asks for one even and one odd (e.g. {} {})",
                        e.raw_key,
                        e.value,
                        a,
                        if b < 65535 { b + 1 } else { b - 1 }
                    ),
                );
            }
        }
        "net.ipv4.ip_local_reserved_ports" => {
            let list = PortList::from_ranges(
                numbers
                    .chunks(2)
                    .filter_map(|c| crate::ports::range::PortRange::new(c[0] as u16, c[1] as u16)),
            );
            let (a, b) = state.now.range;
            let range = (a.max(1) as u32, b.max(1) as u32);
            let (inside, left) = ephemeral_left(&list, range);
            let total = range.1.saturating_sub(range.0) + 1;
            if inside > 0 && too_few_left(left, total) {
                push(
                    Severity::Warning,
                    FindingKind::Risky,
                    format!(
                        "{} reserves {inside} of the {total} ports of the ephemeral range \
                         {}-{} ({}), leaving {left} for automatic assignment; with none left \
                         every outgoing connect() fails (EADDRNOTAVAIL) and bind() to port 0 \
                         fails. Keep at least {MIN_FREE_SHARE_PERCENT}% of the range free: \
                         reserve fewer ports",
                        e.raw_key, range.0, range.1, state.range_from
                    ),
                );
            }
        }
        _ => {}
    }
}

/// ip-sysctl.rst (tcp_max_tw_buckets): "This limit exists only to prevent
/// simple DoS attacks, you _must_ not lower the limit artificially, but
/// rather increase it". Its default is half the established-connection hash
/// size, sized from memory at boot (net/ipv4/tcp_ipv4.c tcp_set_hashinfo():
/// `sysctl_max_tw_buckets = ehash_entries / 2`), so it cannot be read back
/// once a file has changed it: a value not above the live one may be this
/// very file, already applied. Only a known raise, or a comment that names
/// the overflow it answers, passes. Past the limit the kernel logs nothing:
/// net/ipv4/tcp_minisocks.c tcp_time_wait() counts
/// LINUX_MIB_TCPTIMEWAITOVERFLOW (TcpExt TCPTimeWaitOverflow).
fn check_max_tw_buckets(
    e: &Entry,
    v: i64,
    sys: Option<&dyn Sysctls>,
    push: &mut dyn FnMut(Severity, FindingKind, String),
) {
    let live = sys
        .and_then(|s| s.read(&e.key))
        .and_then(|l| l.trim().parse::<i64>().ok());
    const WHY: &str = "lowering it to get rid of TIME_WAIT is wrong advice: the kernel \
        documentation says the limit must not be lowered artificially, and past it new TIME_WAIT \
        sockets are destroyed at once (counted in TcpExt TCPTimeWaitOverflow, not logged), \
        losing the protection TIME_WAIT gives new connections";
    match live {
        Some(l) if v < l => push(
            Severity::Warning,
            FindingKind::Misunderstood,
            format!(
                "{} = {v} lowers the limit from {l} (on this system); {WHY}. Delete the line",
                e.raw_key
            ),
        ),
        Some(l) if v > l => {}
        _ if e.comment_above.to_ascii_lowercase().contains("overflow") => {}
        _ => push(
            Severity::Warning,
            FindingKind::Misunderstood,
            format!(
                "{} = {v} may lower the limit (its default, half the established-connection \
                 hash size, is set from memory at boot and cannot be read back once changed); \
                 {WHY}. If the line raises it because `nstat -az TcpExtTCPTimeWaitOverflow` \
                 counts overflows, say so in a comment above it that mentions the overflow",
                e.raw_key
            ),
        ),
    }
}

/// Whether a comment block shows the author meant FIN_WAIT_2, not TIME_WAIT.
fn mentions_fin_wait_2(comment: &str) -> bool {
    let c = comment.to_ascii_uppercase().replace('-', "_");
    c.contains("FIN_WAIT_2") || c.contains("FIN_WAIT2")
}

/// The dotted form of a key written either way (sysctl.d(5)).
pub fn canonical_key(key: &str) -> String {
    let first_sep = key.find(['.', '/']).map(|i| &key[i..i + 1]);
    if first_sep == Some("/") {
        key.chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect()
    } else {
        key.to_string()
    }
}

fn finding(
    line: usize,
    severity: Severity,
    kind: FindingKind,
    key: Option<&str>,
    message: String,
) -> Finding {
    Finding {
        line,
        severity,
        kind,
        key: key.map(String::from),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuning::{
        ExportRequest, FixedValues, Goal, NoSystem, Os, PortList, export, knowledge,
    };

    fn system() -> FixedValues {
        // Every Linux key portwise knows, at its default, plus the file's own.
        let mut pairs: Vec<(String, String)> = knowledge::tunables_for(Os::Linux)
            .map(|t| (t.key.to_string(), t.default.unwrap_or("1000").to_string()))
            .collect();
        pairs.push(("net.ipv4.conf.eth0/100.forwarding".into(), "0".into()));
        FixedValues::new(pairs)
    }

    #[test]
    fn audit_file_reads_small_regular_files_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.conf");
        std::fs::write(&ok, "net.ipv4.tcp_tw_recycle = 1\n").unwrap();
        let findings = audit_file(&ok, &NoSystem).unwrap();
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].line, 1);

        let e = audit_file(dir.path(), &NoSystem).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");

        let big = dir.path().join("big.conf");
        std::fs::write(&big, vec![b'#'; AUDIT_MAX_BYTES as usize + 1]).unwrap();
        let e = audit_file(&big, &NoSystem).unwrap_err();
        assert!(e.contains("big.conf") && e.contains("bytes long"), "{e}");

        let missing = dir.path().join("missing.conf");
        let e = audit_file(&missing, &NoSystem).unwrap_err();
        assert!(
            e.starts_with("cannot read") && e.contains("missing.conf"),
            "{e}"
        );
    }

    fn kinds(f: &[Finding]) -> Vec<(usize, FindingKind)> {
        f.iter().map(|f| (f.line, f.kind)).collect()
    }

    #[test]
    fn flags_the_classic_bad_file_with_line_numbers() {
        let text = "\
# tuning from a blog
net.ipv4.tcp_tw_recycle = 1
net.ipv4.tcp_fin_timeout = 30
net.ipv4.tcp_timestamps = 0
net.ipv4.tcp_tw_reuse = 1
net.ipv4.ip_local_port_range = 1024 65534
net.ipv4.ip_local_port_range = 900 65535
net.ipv4.no_such_key = 3
this line is wrong
; a comment
net/ipv4/tcp_tw_reuse = 7
";
        let sys = system();
        let f = audit(text, Some(&sys));
        assert_eq!(
            kinds(&f),
            vec![
                (2, FindingKind::Obsolete),
                (3, FindingKind::Misunderstood),
                (5, FindingKind::Ineffective),
                (6, FindingKind::InvalidValue),
                (7, FindingKind::InvalidValue),
                (7, FindingKind::Duplicate),
                (8, FindingKind::Unknown),
                (9, FindingKind::Syntax),
                (11, FindingKind::InvalidValue),
                (11, FindingKind::Duplicate),
            ],
            "{f:#?}"
        );
        assert!(f[0].message.contains("4.12") && f[0].message.contains("NAT"));
        assert!(f[1].message.contains("TIME_WAIT") && f[1].message.contains("FIN_WAIT_2"));
        assert!(f[2].message.contains("line 4"));
        assert!(f[3].message.contains("parity"));
        assert!(f[4].message.contains("ip_unprivileged_port_start (1024)"));
        assert!(f.iter().all(|f| f.line == 9 || f.key.is_some()));
    }

    #[test]
    fn takes_missing_values_from_the_system() {
        let mut sys = system();
        sys.0.insert("net.ipv4.tcp_timestamps".into(), "0".into());
        sys.0
            .insert("net.ipv4.ip_unprivileged_port_start".into(), "20000".into());
        let f = audit(
            "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.ip_local_port_range = 16384 65535\n",
            Some(&sys),
        );
        assert_eq!(
            kinds(&f),
            vec![
                (1, FindingKind::Ineffective),
                (2, FindingKind::InvalidValue)
            ]
        );
        assert!(f[0].message.contains("on this system"));
        // Without a system, only the file is judged.
        assert!(audit("net.ipv4.tcp_tw_reuse = 1\n", None).is_empty());
    }

    #[test]
    fn cross_key_rules_follow_the_order_lines_are_applied() {
        // The system: unprivileged start 1024, range 32768-60999.
        let sys = system();
        let range = "net.ipv4.ip_local_port_range";
        // A range below the unprivileged start is rejected when written, even
        // if a later line lowers the start.
        let f = audit(
            &format!("{range} = 900 65535\nnet.ipv4.ip_unprivileged_port_start = 800\n"),
            Some(&sys),
        );
        assert_eq!(kinds(&f), vec![(1, FindingKind::InvalidValue)], "{f:#?}");
        assert!(
            f[0].message
                .contains("(1024) in force when this line is applied, on this system"),
            "{f:#?}"
        );
        // Lowering first, then widening, applies.
        let f = audit(
            &format!("net.ipv4.ip_unprivileged_port_start = 800\n{range} = 900 65535\n"),
            Some(&sys),
        );
        assert_eq!(f, vec![]);
        // An unprivileged start above the range's start is rejected too.
        let f = audit("net.ipv4.ip_unprivileged_port_start = 40000\n", Some(&sys));
        assert_eq!(kinds(&f), vec![(1, FindingKind::InvalidValue)], "{f:#?}");
        assert!(
            f[0].message
                .contains("(32768) in force when this line is applied, on this system"),
            "{f:#?}"
        );
        let f = audit(
            &format!("{range} = 50000 60999\nnet.ipv4.ip_unprivileged_port_start = 40000\n"),
            Some(&sys),
        );
        assert_eq!(f, vec![]);
        // An invalid value never takes effect, so it is not compared against.
        let f = audit(
            &format!("net.ipv4.ip_unprivileged_port_start = 70000\n{range} = 1024 65535\n"),
            Some(&sys),
        );
        assert_eq!(kinds(&f), vec![(1, FindingKind::InvalidValue)], "{f:#?}");
        assert!(f.iter().all(|f| !f.message.contains("(70000)")));
    }

    #[test]
    fn lowering_tcp_max_tw_buckets_is_flagged() {
        let key = "net.ipv4.tcp_max_tw_buckets";
        let mut sys = system();
        sys.0.insert(key.into(), "262144".into());
        // Below the live value: a lowering.
        let f = audit(&format!("{key} = 5000\n"), Some(&sys));
        assert_eq!(kinds(&f), vec![(1, FindingKind::Misunderstood)], "{f:#?}");
        assert!(
            f[0].message.contains("lowers the limit from 262144"),
            "{f:#?}"
        );
        // A raise passes.
        assert_eq!(audit(&format!("{key} = 500000\n"), Some(&sys)), vec![]);
        // The file already applied (live == file) or no system: cannot tell,
        // so it is flagged unless a comment names the overflow it answers.
        sys.0.insert(key.into(), "5000".into());
        let f = audit(&format!("{key} = 5000\n"), Some(&sys));
        assert_eq!(kinds(&f), vec![(1, FindingKind::Misunderstood)], "{f:#?}");
        assert!(f[0].message.contains("may lower the limit"), "{f:#?}");
        assert_eq!(kinds(&audit(&format!("{key} = 5000\n"), None)).len(), 1);
        let ok = format!("# raised: nstat counts TcpExtTCPTimeWaitOverflow\n{key} = 5000\n");
        assert_eq!(audit(&ok, Some(&sys)), vec![]);
        let f = audit(&format!("{key} = lots\n"), Some(&sys));
        assert_eq!(kinds(&f), vec![(1, FindingKind::InvalidValue)]);
    }

    #[test]
    fn sound_files_pass() {
        let sys = system();
        let text = "\
# Orphaned sockets: FIN-WAIT-2 only, not TIME_WAIT.
net.ipv4.tcp_fin_timeout = 20

net.ipv4.tcp_tw_reuse=1
net/ipv4/conf/eth0.100/forwarding = 1
-net.ipv4.conf.*.rp_filter = 2
-net.ipv4.conf.lo.rp_filter
net.ipv4.ip_local_reserved_ports =
";
        assert_eq!(audit(text, Some(&sys)), vec![]);
        // portwise's own exports pass with no finding at all, on every
        // combination of goals.
        let sets: Vec<Vec<Goal>> = (1u32..32)
            .map(|m| {
                Goal::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| m & (1 << i) != 0)
                    .map(|(_, g)| g)
                    .collect()
            })
            .collect();
        for goals in &sets {
            let s = export(
                &ExportRequest {
                    os: Some(Os::Linux),
                    goals: goals.to_vec(),
                    reserve: PortList::parse("80,8080").unwrap(),
                    toggles: Default::default(),
                },
                &NoSystem,
            )
            .unwrap();
            assert_eq!(audit(&s.text(), Some(&sys)), vec![], "{}", s.text());
        }
    }

    #[test]
    fn a_lone_fin_timeout_comment_must_mention_fin_wait_2() {
        let sys = system();
        let f = audit(
            "# shorten TIME_WAIT\nnet.ipv4.tcp_fin_timeout = 15\n",
            Some(&sys),
        );
        assert_eq!(kinds(&f), vec![(2, FindingKind::Misunderstood)]);
        // A blank line breaks the comment block.
        let f = audit(
            "# FIN_WAIT_2 timeout\n\nnet.ipv4.tcp_fin_timeout = 15\n",
            Some(&sys),
        );
        assert_eq!(kinds(&f), vec![(3, FindingKind::Misunderstood)]);
    }

    /// Issue 11, item 9: a key that climbs out of /proc/sys is an error and
    /// is never looked up; `.`/`..`/empty segments inside it are warnings
    /// and the key is judged as the path it names.
    #[test]
    fn keys_never_reach_outside_proc_sys() {
        struct Recorder(std::cell::RefCell<Vec<String>>, FixedValues);
        impl Sysctls for Recorder {
            fn read(&self, key: &str) -> Option<String> {
                self.0.borrow_mut().push(key.to_string());
                self.1.read(key)
            }
            fn exists(&self, key: &str) -> bool {
                self.0.borrow_mut().push(key.to_string());
                self.1.exists(key)
            }
        }
        let sys = Recorder(Default::default(), system());
        let text = "\
net.//.//.//.root./bashrc = 1
net/ipv4/../../../etc/passwd = 1
net/ipv4/../ipv4/tcp_fin_timeout = 30
net.ipv4..tcp_tw_reuse = 1
 = 1
";
        let f = audit(text, Some(&sys));
        let at = |line: usize| -> Vec<(Severity, FindingKind)> {
            f.iter()
                .filter(|x| x.line == line)
                .map(|x| (x.severity, x.kind))
                .collect()
        };
        assert_eq!(
            at(1),
            vec![(Severity::Error, FindingKind::Syntax)],
            "{f:#?}"
        );
        assert_eq!(
            at(2),
            vec![(Severity::Error, FindingKind::Syntax)],
            "{f:#?}"
        );
        assert!(
            at(3).contains(&(Severity::Warning, FindingKind::Syntax)),
            "{f:#?}"
        );
        assert!(at(3).iter().all(|(s, _)| *s == Severity::Warning), "{f:#?}");
        assert_eq!(
            at(4),
            vec![(Severity::Warning, FindingKind::Syntax)],
            "{f:#?}"
        );
        assert_eq!(
            at(5),
            vec![(Severity::Error, FindingKind::Syntax)],
            "{f:#?}"
        );
        let asked = sys.0.borrow();
        assert!(
            asked
                .iter()
                .all(|k| !k.contains("..") && !k.contains("root") && !k.contains("etc")),
            "looked up {asked:?}"
        );
        assert!(
            asked.iter().any(|k| k == "net.ipv4.tcp_fin_timeout"),
            "{asked:?}"
        );
    }

    #[test]
    fn canonical_keys_follow_sysctl_d() {
        assert_eq!(
            canonical_key("net.ipv4.tcp_tw_reuse"),
            "net.ipv4.tcp_tw_reuse"
        );
        assert_eq!(
            canonical_key("net/ipv4/tcp_tw_reuse"),
            "net.ipv4.tcp_tw_reuse"
        );
        assert_eq!(
            canonical_key("net/ipv4/conf/enp3s0.200/forwarding"),
            "net.ipv4.conf.enp3s0/200.forwarding"
        );
    }
}
