//! Turn a [`Plan`] into something the user can apply: a sysctl.d file on
//! Linux, a shell script with `sysctl -w` lines and a LaunchDaemon on macOS, a
//! PowerShell script with `netsh` and registry lines on Windows.
//!
//! A snippet is a list of lines. Every line that sets something carries the
//! key it sets, so a front end can switch settings on and off one by one
//! ([`ExportRequest::toggles`]); a switched-off setting stays visible as a
//! comment.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::{Plan, PlanError, Recommendation, plan};
use super::{Goal, Os, PortList, Sysctls, knowledge};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Files in the sysctl.d directories load in lexical order of their names
/// and a later file wins (sysctl.d(5)); at boot systemd-sysctl reads only
/// those directories. Many distributions ship /etc/sysctl.d/99-sysctl.conf,
/// a link to /etc/sysctl.conf: "99-portwise.conf" would sort before it
/// ('p' < 's') and old /etc/sysctl.conf lines for the same keys would
/// override it at boot. "99-zz-" sorts after it. (procps `sysctl --system`,
/// src/sysctl.c PreloadSystem(), sorts the same way but then reads
/// /etc/sysctl.conf once more, last; the file's header says so.)
const LINUX_FILE: &str = "99-zz-portwise.conf";
const LINUX_DIR: &str = "/etc/sysctl.d/";
const MACOS_FILE: &str = "portwise-tuning.sh";
const MACOS_LABEL: &str = "com.portwise.sysctl";
const MACOS_PLIST: &str = "/Library/LaunchDaemons/com.portwise.sysctl.plist";
const WINDOWS_FILE: &str = "portwise-tuning.ps1";
const WINDOWS_PARAMS: &str = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters";
const WIDTH: usize = 78;

/// What to export.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportRequest {
    pub os: Option<Os>,
    pub goals: Vec<Goal>,
    pub reserve: PortList,
    /// Per key: `true` switches a setting on, `false` off, overriding the
    /// recommendation's own default ([`Recommendation::on_by_default`]).
    pub toggles: BTreeMap<String, bool>,
}

/// What a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    Blank,
    Comment,
    /// A `key = value` line (Linux).
    Setting,
    /// A command that changes something (macOS, Windows) or a line of the
    /// LaunchDaemon that does.
    Command,
}

/// One line of a snippet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnippetLine {
    pub text: String,
    pub kind: LineKind,
    /// The setting this line applies (toggle it with this key).
    pub key: Option<&'static str>,
    /// `false` for a setting that is switched off (its text is then a comment).
    pub enabled: bool,
}

/// The exported text, line by line, with how to apply it.
#[derive(Clone, Debug, Serialize)]
pub struct Snippet {
    pub os: Os,
    /// The suggested file name (`99-zz-portwise.conf` on Linux).
    pub file_name: &'static str,
    pub lines: Vec<SnippetLine>,
    /// The command that applies the file once saved as `file_name` in the
    /// current directory (see [`apply_command`] for another path).
    pub apply_command: String,
    pub plan: Plan,
}

impl Snippet {
    /// The whole text, one line per [`SnippetLine`], ending with a newline.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.text);
            s.push('\n');
        }
        s
    }

    /// The settings that are switched on, as (key, value).
    pub fn enabled_settings(&self) -> Vec<(&'static str, &str)> {
        let on: Vec<&str> = self
            .lines
            .iter()
            .filter(|l| l.enabled)
            .filter_map(|l| l.key)
            .collect();
        self.plan
            .recommendations
            .iter()
            .filter(|r| on.contains(&r.key))
            .map(|r| (r.key, r.value.as_str()))
            .collect()
    }
}

/// [`build`], with the error as text (what the window's preview shows).
pub fn export(req: &ExportRequest, sys: &dyn Sysctls) -> Result<Snippet, String> {
    build(req, sys).map_err(|e| e.to_string())
}

/// Build the snippet for `req` (the OS defaults to the running one). Current
/// values come from `sys`; pass [`super::NoSystem`] for another OS. The
/// error says which mistake the request has.
pub fn build(req: &ExportRequest, sys: &dyn Sysctls) -> Result<Snippet, PlanError> {
    let os = req.os.unwrap_or_else(Os::current);
    let plan = plan(os, &req.goals, &req.reserve, sys)?;
    let on = |r: &Recommendation| req.toggles.get(r.key).copied().unwrap_or(r.on_by_default);
    let mut w = Writer::default();
    let file_name = match os {
        Os::Linux => {
            linux(&mut w, &plan, &on, sys);
            LINUX_FILE
        }
        Os::Macos => {
            macos(&mut w, &plan, &on, sys);
            MACOS_FILE
        }
        Os::Windows => {
            windows(&mut w, &plan, &on, sys);
            WINDOWS_FILE
        }
    };
    Ok(Snippet {
        os,
        file_name,
        lines: w.lines,
        apply_command: apply_command(os, file_name),
        plan,
    })
}

/// The command that applies a snippet saved at `path`.
pub fn apply_command(os: Os, path: &str) -> String {
    match os {
        Os::Linux => {
            if path.starts_with(LINUX_DIR) {
                format!("sudo sysctl -p {}", sh_quote(path))
            } else {
                let name = std::path::Path::new(path)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .filter(|n| n.ends_with(".conf"))
                    .unwrap_or(LINUX_FILE);
                let dest = format!("{LINUX_DIR}{name}");
                format!(
                    "sudo install -m 644 {} {} && sudo sysctl -p {}",
                    sh_quote(path),
                    sh_quote(&dest),
                    sh_quote(&dest)
                )
            }
        }
        Os::Macos => format!("sh {}", sh_quote(path)),
        Os::Windows => {
            format!("powershell -ExecutionPolicy Bypass -File \"{path}\"   (in an elevated prompt)")
        }
    }
}

/// Collects lines.
#[derive(Default)]
struct Writer {
    lines: Vec<SnippetLine>,
}

impl Writer {
    fn blank(&mut self) {
        self.push(String::new(), LineKind::Blank, None, true);
    }

    /// `text` as comment lines starting with `prefix`, wrapped.
    fn comment(&mut self, prefix: &str, text: &str) {
        for l in wrap(text, WIDTH.saturating_sub(prefix.len())) {
            self.push(
                format!("{prefix}{l}").trim_end().to_string(),
                LineKind::Comment,
                None,
                true,
            );
        }
    }

    /// One comment line, not wrapped (commands, paths).
    fn raw_comment(&mut self, text: String) {
        self.push(text, LineKind::Comment, None, true);
    }

    fn push(&mut self, text: String, kind: LineKind, key: Option<&'static str>, enabled: bool) {
        self.lines.push(SnippetLine {
            text,
            kind,
            key,
            enabled,
        });
    }

    /// A line that applies `key`; when off it is written as a comment.
    fn apply(&mut self, kind: LineKind, key: &'static str, text: String, on: bool, off: &str) {
        let text = if on { text } else { format!("{off}{text}") };
        self.push(text, kind, Some(key), on);
    }
}

/// The first comment lines of every snippet: what it is, the goals, and how
/// to run it.
fn header(w: &mut Writer, plan: &Plan, file: &str, what: &str, how: Option<&str>) {
    let c = "# ";
    w.comment(
        c,
        &format!("{file}: {what} for ports and TIME_WAIT, written by portwise {VERSION}."),
    );
    let g: Vec<String> = plan
        .goals
        .iter()
        .map(|g| format!("{} ({})", g.id(), g.title()))
        .collect();
    w.comment(c, &format!("Goals: {}.", g.join(", ")));
    if let Some(how) = how {
        w.comment(c, how);
    }
}

/// The recommendations first asked for by `goal` (each appears once, under
/// the first goal that wants it).
fn recs_of(plan: &Plan, goal: Goal) -> impl Iterator<Item = &Recommendation> {
    plan.recommendations
        .iter()
        .filter(move |r| r.goals.first() == Some(&goal))
}

/// The value to put back on revert: the one read now, else the default.
fn earlier(os: Os, key: &str, sys: &dyn Sysctls) -> Option<String> {
    sys.read(key)
        .or_else(|| knowledge::tunable(os, key).and_then(|t| t.default.map(String::from)))
}

/// Each goal's section: a heading and the goal's notes, then each of its
/// settings with its reason above the `lines` that apply it (commented out
/// when switched off); `after` runs after each setting with its on/off state.
/// `first`: (a, b) means setting `a` must be written before `b` (it moves up
/// to just before `b` when its own section comes later).
fn sections(
    w: &mut Writer,
    plan: &Plan,
    on: &dyn Fn(&Recommendation) -> bool,
    kind: LineKind,
    lines: &dyn Fn(&Recommendation) -> Vec<String>,
    after: &mut dyn FnMut(&mut Writer, &Recommendation, bool),
    first: Option<(&str, &str)>,
) {
    let c = "# ";
    let mut written: Vec<&str> = Vec::new();
    let mut emit = |w: &mut Writer, r: &Recommendation| {
        w.blank();
        w.comment(c, &r.why);
        let enabled = on(r);
        for line in lines(r) {
            w.apply(kind, r.key, line, enabled, "# (off) ");
        }
        after(w, r, enabled);
    };
    for &goal in &plan.goals {
        w.blank();
        w.raw_comment(format!("{c}== {}: {} ==", goal.id(), goal.title()));
        for n in plan.notes_for(goal) {
            w.comment(c, &n.text);
        }
        for r in recs_of(plan, goal) {
            if written.contains(&r.key) {
                continue;
            }
            if let Some((a, b)) = first
                && r.key == b
                && !written.contains(&a)
                && let Some(ra) = plan.recommendation(a)
            {
                emit(w, ra);
                w.comment(
                    c,
                    &format!(
                        "({a} is written before {b}: the kernel checks each write against the \
                         values in force at that moment.)"
                    ),
                );
                written.push(ra.key);
            }
            emit(w, r);
            written.push(r.key);
        }
    }
}

/// Which of ip_unprivileged_port_start and ip_local_port_range a Linux file
/// must write first so that every write is valid against the values in
/// force at that moment. net/ipv4/sysctl_net_ipv4.c: ipv4_local_port_range()
/// rejects a range starting below the current ip_unprivileged_port_start,
/// ipv4_privileged_ports() a value above the current range start (both
/// EINVAL). The plan keeps the new values U <= S. Writing U first works
/// when U <= the current range start; otherwise S >= U > current start >=
/// current unprivileged start, so writing the range first works. One of
/// the two orders is always valid. An unknown current range is taken as the
/// kernel default (32768).
fn linux_first(plan: &Plan, sys: &dyn Sysctls) -> Option<(&'static str, &'static str)> {
    const UNPRIV: &str = "net.ipv4.ip_unprivileged_port_start";
    const RANGE: &str = "net.ipv4.ip_local_port_range";
    let u_new: u32 = plan.recommendation(UNPRIV)?.value.trim().parse().ok()?;
    plan.recommendation(RANGE)?;
    let s_cur = sys
        .read(RANGE)
        .and_then(|v| super::plan::two_numbers(&v))
        .map_or(32768, |(a, _)| a);
    Some(if u_new <= s_cur {
        (UNPRIV, RANGE)
    } else {
        (RANGE, UNPRIV)
    })
}

// ------------------------------------------------------------------ Linux

fn linux(w: &mut Writer, plan: &Plan, on: &dyn Fn(&Recommendation) -> bool, sys: &dyn Sysctls) {
    let c = "# ";
    header(w, plan, LINUX_FILE, "kernel settings", None);
    w.raw_comment("#".into());
    w.raw_comment("# Install and apply now (needs root):".into());
    w.raw_comment(format!(
        "#   sudo install -m 644 {LINUX_FILE} {LINUX_DIR}{LINUX_FILE}"
    ));
    w.raw_comment(format!("#   sudo sysctl -p {LINUX_DIR}{LINUX_FILE}"));
    w.comment(
        c,
        "or load every sysctl.d file, as at boot: sudo sysctl --system. (`sysctl -p` without \
         a file name reads only /etc/sysctl.conf.)",
    );
    w.comment(
        c,
        "The name sorts after 99-sysctl.conf (the link to /etc/sysctl.conf many distributions \
         ship), so at boot (systemd-sysctl) these values win over old /etc/sysctl.conf lines \
         for the same keys. `sysctl --system` reads /etc/sysctl.conf once more at the very end, \
         so remove such old lines from it.",
    );
    let enabled: Vec<&Recommendation> = plan.recommendations.iter().filter(|r| on(r)).collect();
    if !enabled.is_empty() {
        w.raw_comment("#".into());
        w.comment(
            c,
            "Revert: delete the file, then set the values this system had when the file was \
             written (or reboot):",
        );
        w.raw_comment(format!("#   sudo rm {LINUX_DIR}{LINUX_FILE}"));
        for r in &enabled {
            match earlier(Os::Linux, r.key, sys) {
                Some(v) if v.is_empty() => w.raw_comment(format!(
                    "#   echo | sudo tee /proc/sys/{} >/dev/null",
                    r.key.replace('.', "/")
                )),
                Some(v) => w.raw_comment(format!(
                    "#   sudo sysctl -w {}",
                    sh_quote(&format!("{}={v}", r.key))
                )),
                None => w.raw_comment(format!(
                    "#   ({}: its boot-time value comes back after a reboot)",
                    r.key
                )),
            }
        }
        w.raw_comment("#".into());
        let (k, v) = (enabled[0].key, &enabled[0].value);
        // docs.docker.com "Host network driver": a container run with
        // --network host shares the host's network namespace.
        w.comment(
            c,
            "Containers: each network namespace starts from the kernel defaults, not from the \
             host's values, so this file does not tune a container with its own network \
             namespace (Docker's default, every Kubernetes pod). A container run with \
             `--network host` (a pod with hostNetwork: true) shares the host's namespace, so \
             this file does apply to it. Set the values per container instead, e.g.",
        );
        w.raw_comment(format!(
            "#   docker run --sysctl {} ...",
            sh_quote(&format!("{k}={v}"))
        ));
        w.comment(c, &kubernetes_note(&enabled));
    }
    w.raw_comment("#".into());
    w.comment(
        c,
        "net.ipv4.tcp_tw_recycle is deliberately absent: it was removed in Linux 4.12 and broke \
         clients behind NAT.",
    );
    sections(
        w,
        plan,
        on,
        LineKind::Setting,
        &|r| vec![format!("{} = {}", r.key, r.value)],
        &mut |_, _, _| {},
        linux_first(plan, sys),
    );
}

/// What a Kubernetes pod may set of `enabled` (knowledge::K8S_SAFE_SYSCTLS).
fn kubernetes_note(enabled: &[&Recommendation]) -> String {
    let safe = |key: &str| {
        knowledge::K8S_SAFE_SYSCTLS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, since)| *since)
    };
    let mut ok = Vec::new();
    let mut unsafe_keys = Vec::new();
    for r in enabled {
        match safe(r.key) {
            Some(None) => ok.push(r.key.to_string()),
            Some(Some(v)) => ok.push(format!("{} (Kubernetes {v} and later)", r.key)),
            None => unsafe_keys.push(r.key),
        }
    }
    let mut t = "Or securityContext.sysctls in a Kubernetes pod spec; the kubelet accepts there \
                 only its \"safe\" sysctls without node changes."
        .to_string();
    if !ok.is_empty() {
        t.push_str(&format!(" Safe here: {}.", ok.join(", ")));
    }
    if !unsafe_keys.is_empty() {
        t.push_str(&format!(
            " Not safe: {}; the node must allow them (kubelet --allowed-unsafe-sysctls), or \
             the pod fails to start there (kubernetes.io, \"Using sysctls in a Kubernetes \
             Cluster\").",
            unsafe_keys.join(", ")
        ));
    }
    t
}

// ------------------------------------------------------------------ macOS

fn macos(w: &mut Writer, plan: &Plan, on: &dyn Fn(&Recommendation) -> bool, sys: &dyn Sysctls) {
    let c = "# ";
    w.raw_comment("#!/bin/sh".into());
    header(
        w,
        plan,
        MACOS_FILE,
        "macOS kernel settings",
        Some(&format!(
            "Run it with: sh {MACOS_FILE} (each command asks sudo for your password). \
             `sudo sysctl -w` applies a value now; the LaunchDaemon at the end sets it again at \
             every boot, because /etc/sysctl.conf may be ignored on recent macOS."
        )),
    );
    w.push("set -e".into(), LineKind::Command, None, true);
    sections(
        w,
        plan,
        on,
        LineKind::Command,
        &|r| vec![format!("sudo sysctl -w {}={}", r.key, r.value)],
        &mut |_, _, _| {},
        None,
    );
    let enabled: Vec<&Recommendation> = plan.recommendations.iter().filter(|r| on(r)).collect();
    w.blank();
    if enabled.is_empty() {
        w.comment(
            c,
            "Nothing to set on macOS for these goals, so no LaunchDaemon either.",
        );
        return;
    }
    w.comment(
        c,
        &format!("Persistence: a LaunchDaemon ({MACOS_PLIST}) that runs sysctl -w at boot."),
    );
    let cmd = |w: &mut Writer, t: &str| w.push(t.to_string(), LineKind::Command, None, true);
    cmd(
        w,
        &format!("sudo tee {MACOS_PLIST} >/dev/null <<'PORTWISE_PLIST'"),
    );
    for t in [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">",
        "<plist version=\"1.0\">",
        "<dict>",
        "  <key>Label</key>",
    ] {
        cmd(w, t);
    }
    cmd(w, &format!("  <string>{MACOS_LABEL}</string>"));
    for t in [
        "  <key>ProgramArguments</key>",
        "  <array>",
        "    <string>/usr/sbin/sysctl</string>",
        "    <string>-w</string>",
    ] {
        cmd(w, t);
    }
    for r in &enabled {
        w.push(
            format!("    <string>{}={}</string>", r.key, r.value),
            LineKind::Command,
            Some(r.key),
            true,
        );
    }
    for t in [
        "  </array>",
        "  <key>RunAtLoad</key>",
        "  <true/>",
        "</dict>",
        "</plist>",
        "PORTWISE_PLIST",
    ] {
        cmd(w, t);
    }
    cmd(w, &format!("sudo chown root:wheel {MACOS_PLIST}"));
    cmd(w, &format!("sudo chmod 644 {MACOS_PLIST}"));
    w.blank();
    w.comment(
        c,
        "Revert: remove the LaunchDaemon and set the earlier values back:",
    );
    w.raw_comment(format!("#   sudo rm {MACOS_PLIST}"));
    for r in &enabled {
        match earlier(Os::Macos, r.key, sys) {
            Some(v) => w.raw_comment(format!("#   sudo sysctl -w {}={v}", r.key)),
            None => w.raw_comment(format!("#   ({}: reboot restores it)", r.key)),
        }
    }
}

// ---------------------------------------------------------------- Windows

fn windows(w: &mut Writer, plan: &Plan, on: &dyn Fn(&Recommendation) -> bool, sys: &dyn Sysctls) {
    let c = "# ";
    header(
        w,
        plan,
        WINDOWS_FILE,
        "Windows TCP settings",
        Some(&format!(
            "Run it in an elevated PowerShell (\"Run as administrator\"): netsh changes and \
             HKLM need it. powershell -ExecutionPolicy Bypass -File {WINDOWS_FILE}"
        )),
    );
    let mut revert: Vec<String> = Vec::new();
    sections(
        w,
        plan,
        on,
        LineKind::Command,
        &windows_lines,
        &mut |w, r, enabled| {
            if r.key == "TcpTimedWaitDelay" {
                w.comment(
                    c,
                    &format!(
                        "The same as a .reg file line, under \
                         [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\\
                         Parameters]: \"TcpTimedWaitDelay\"=dword:{:08x}",
                        r.value.parse::<u32>().unwrap_or(30)
                    ),
                );
            }
            if enabled {
                revert.extend(windows_revert(r, sys));
            }
        },
        None,
    );
    if !revert.is_empty() {
        w.blank();
        w.comment(c, "Revert (elevated prompt):");
        for l in revert {
            w.raw_comment(format!("#   {l}"));
        }
    }
}

fn windows_lines(r: &Recommendation) -> Vec<String> {
    match r.key {
        "dynamicport tcp" => ["ipv4", "ipv6"]
            .iter()
            .map(|v| format!("netsh int {v} set dynamicport tcp {}", r.value))
            .collect(),
        "TcpTimedWaitDelay" => vec![format!(
            "New-ItemProperty -Path '{WINDOWS_PARAMS}' -Name 'TcpTimedWaitDelay' \
             -PropertyType DWord -Value {} -Force | Out-Null",
            r.value
        )],
        "excludedportrange tcp" => PortList::parse(&r.value)
            .unwrap_or_default()
            .ranges()
            .iter()
            .map(|r| {
                format!(
                    "netsh int ipv4 add excludedportrange protocol=tcp startport={} \
                     numberofports={}",
                    r.lo,
                    r.len()
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn windows_revert(r: &Recommendation, sys: &dyn Sysctls) -> Vec<String> {
    match r.key {
        "dynamicport tcp" => {
            let was = earlier(Os::Windows, r.key, sys).unwrap_or_default();
            ["ipv4", "ipv6"]
                .iter()
                .map(|v| format!("netsh int {v} set dynamicport tcp {was}"))
                .collect()
        }
        "TcpTimedWaitDelay" => match sys.read(r.key) {
            Some(v) => vec![format!(
                "New-ItemProperty -Path '{WINDOWS_PARAMS}' -Name 'TcpTimedWaitDelay' \
                 -PropertyType DWord -Value {v} -Force"
            )],
            None => vec![format!(
                "Remove-ItemProperty -Path '{WINDOWS_PARAMS}' -Name 'TcpTimedWaitDelay'"
            )],
        },
        "excludedportrange tcp" => windows_lines(r)
            .into_iter()
            .map(|l| l.replacen(" add ", " delete ", 1))
            .collect(),
        _ => Vec::new(),
    }
}

/// Wrap `text` into lines of at most `width` characters. Longer words, and
/// `commands in backticks`, stay whole so they can be copied from one line.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut in_code = false;
    for word in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if in_code => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            in_code = !in_code;
        }
    }
    let mut out = Vec::new();
    let mut line = String::new();
    for word in &words {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Quote for a POSIX shell when needed.
fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuning::{FixedValues, NoSystem};

    fn req(os: Os, goals: &[Goal], reserve: &str) -> ExportRequest {
        ExportRequest {
            os: Some(os),
            goals: goals.to_vec(),
            reserve: PortList::parse(reserve).unwrap(),
            toggles: BTreeMap::new(),
        }
    }

    #[test]
    fn linux_file_has_only_comments_and_key_value_lines() {
        let s = export(&req(Os::Linux, &Goal::ALL, "80,8080,9090"), &NoSystem).unwrap();
        let text = s.text();
        let mut settings = 0;
        let mut prev_comment = false;
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                prev_comment = t.starts_with('#');
                continue;
            }
            let (k, v) = t
                .split_once(" = ")
                .unwrap_or_else(|| panic!("bad line {line:?}"));
            assert!(k.starts_with("net."), "{k}");
            assert!(!v.is_empty() || k.ends_with("reserved_ports"));
            assert!(prev_comment, "no comment above {line:?}");
            settings += 1;
        }
        assert_eq!(settings, s.plan.recommendations.len());
        assert!(!text.contains("tcp_tw_recycle ="));
        for needle in [
            "sudo sysctl -p /etc/sysctl.d/99-zz-portwise.conf",
            "sudo sysctl --system",
            "Revert",
            "docker run --sysctl",
            "securityContext.sysctls",
            "SO_REUSEADDR",
            "setcap cap_net_bind_service=+ep",
            "FIN_WAIT_2, not TIME_WAIT",
            "tcp_timestamps",
        ] {
            assert!(text.contains(needle), "missing {needle:?}");
        }
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    }

    #[test]
    fn container_note_knows_host_network_and_kubernetes_safe_sysctls() {
        let s = export(&req(Os::Linux, &[Goal::Outbound], ""), &NoSystem).unwrap();
        // Unwrap the comment lines to read the sentences whole.
        let text = s
            .text()
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains("`--network host`"), "{text}");
        assert!(text.contains("does apply to it"), "{text}");
        let safe = text.split("Safe here:").nth(1).unwrap();
        let (safe, not_safe) = safe.split_once("Not safe:").unwrap();
        assert!(safe.contains("net.ipv4.ip_local_port_range"), "{safe}");
        assert!(
            safe.contains("net.ipv4.tcp_fin_timeout (Kubernetes 1.29"),
            "{safe}"
        );
        assert!(!safe.contains("tcp_tw_reuse"), "{safe}");
        assert!(not_safe.contains("net.ipv4.tcp_tw_reuse"), "{not_safe}");
        assert!(not_safe.contains("net.ipv4.tcp_timestamps"), "{not_safe}");
        assert!(not_safe.contains("--allowed-unsafe-sysctls"), "{not_safe}");
        // somaxconn (backlog goal) is not safe either.
        let s = export(&req(Os::Linux, &[Goal::Backlog], ""), &NoSystem).unwrap();
        let text = s.text().replace("\n# ", " ");
        assert!(!text.contains("Safe here:"), "{text}");
        assert!(text.contains("Not safe: net.core.somaxconn;"), "{text}");
    }

    #[test]
    fn toggles_switch_single_settings() {
        let mut r = req(Os::Linux, &[Goal::Outbound], "");
        let on = export(&r, &NoSystem).unwrap();
        assert!(on.text().contains("\nnet.ipv4.tcp_fin_timeout = 30\n"));
        r.toggles.insert("net.ipv4.tcp_fin_timeout".into(), false);
        let off = export(&r, &NoSystem).unwrap();
        assert!(
            off.text()
                .contains("\n# (off) net.ipv4.tcp_fin_timeout = 30\n")
        );
        // One revert line fewer. (Whole line counts also change with the
        // container note, which names the enabled keys.)
        let reverts = |s: &Snippet| {
            s.lines
                .iter()
                .filter(|l| {
                    l.text.starts_with("#   sudo sysctl -w")
                        || l.text.starts_with("#   echo |")
                        || l.text.starts_with("#   (net.")
                })
                .count()
        };
        assert_eq!(reverts(&on), reverts(&off) + 1, "one revert line fewer");
        assert!(reverts(&off) > 0);
        let keys: Vec<_> = off.enabled_settings().iter().map(|s| s.0).collect();
        assert!(!keys.contains(&"net.ipv4.tcp_fin_timeout"));
        assert!(keys.contains(&"net.ipv4.tcp_tw_reuse"));
        let line = off
            .lines
            .iter()
            .find(|l| l.key == Some("net.ipv4.tcp_fin_timeout"))
            .unwrap();
        assert!(!line.enabled);
    }

    #[test]
    fn revert_uses_the_values_read_now() {
        let sys = FixedValues::new([
            ("net.ipv4.ip_local_port_range", "40000 60999"),
            ("net.ipv4.tcp_tw_reuse", "0"),
        ]);
        let s = export(&req(Os::Linux, &[Goal::Outbound], "8080"), &sys).unwrap();
        let t = s.text();
        assert!(t.contains("sudo sysctl -w 'net.ipv4.ip_local_port_range=40000 60999'"));
        assert!(t.contains("sudo sysctl -w net.ipv4.tcp_tw_reuse=0"));
        assert!(t.contains("echo | sudo tee /proc/sys/net/ipv4/ip_local_reserved_ports"));
    }

    #[test]
    fn macos_script_has_sysctl_lines_and_a_launchdaemon() {
        let s = export(&req(Os::Macos, &Goal::ALL, "20000"), &NoSystem).unwrap();
        let t = s.text();
        assert!(t.starts_with("#!/bin/sh\n"));
        assert!(t.contains("\nsudo sysctl -w net.inet.ip.portrange.first=20001\n"));
        assert!(t.contains("<string>net.inet.ip.portrange.first=20001</string>"));
        assert!(t.contains("<string>kern.ipc.somaxconn=4096</string>"));
        // The optional MSL line is off: a comment, and not in the plist.
        assert!(t.contains("# (off) sudo sysctl -w net.inet.tcp.msl=5000"));
        assert!(!t.contains("<string>net.inet.tcp.msl"));
        assert!(t.contains("Mojave"));
        // Heredoc is closed.
        assert_eq!(t.matches("PORTWISE_PLIST").count(), 2);
        // Nothing to persist: no plist.
        let s = export(&req(Os::Macos, &[Goal::LowPorts], ""), &NoSystem).unwrap();
        assert!(!s.text().contains("<plist"));
    }

    #[test]
    fn windows_script_has_netsh_and_registry_lines() {
        let s = export(&req(Os::Windows, &Goal::ALL, "8080,9000-9002"), &NoSystem).unwrap();
        let t = s.text();
        for needle in [
            "\nnetsh int ipv4 set dynamicport tcp start=16384 num=49152\n",
            "\nnetsh int ipv6 set dynamicport tcp start=16384 num=49152\n",
            "-Name 'TcpTimedWaitDelay' -PropertyType DWord -Value 30 -Force",
            "\"TcpTimedWaitDelay\"=dword:0000001e",
            "\nnetsh int ipv4 add excludedportrange protocol=tcp startport=8080 numberofports=1\n",
            "\nnetsh int ipv4 add excludedportrange protocol=tcp startport=9000 numberofports=3\n",
            "netsh int ipv4 delete excludedportrange protocol=tcp startport=8080 numberofports=1",
            "netsh int ipv4 set dynamicport tcp start=49152 num=16384",
            "Remove-ItemProperty",
            "elevated",
            "SO_EXCLUSIVEADDRUSE",
        ] {
            assert!(t.contains(needle), "missing {needle:?} in\n{t}");
        }
        // Every non-comment line is a command portwise means to run.
        for l in &s.lines {
            if l.kind == LineKind::Command {
                assert!(l.text.starts_with("netsh ") || l.text.starts_with("New-ItemProperty"));
            }
        }
    }

    #[test]
    fn apply_commands() {
        assert_eq!(
            apply_command(Os::Linux, "/etc/sysctl.d/60-x.conf"),
            "sudo sysctl -p /etc/sysctl.d/60-x.conf"
        );
        assert_eq!(
            apply_command(Os::Linux, "/tmp/my dir/x.conf"),
            "sudo install -m 644 '/tmp/my dir/x.conf' /etc/sysctl.d/x.conf && sudo sysctl -p \
             /etc/sysctl.d/x.conf"
        );
        assert!(apply_command(Os::Linux, "out.txt").ends_with("/etc/sysctl.d/99-zz-portwise.conf"));
        assert_eq!(apply_command(Os::Macos, "a.sh"), "sh a.sh");
    }

    #[test]
    fn wrap_keeps_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("toolongword x", 4), vec!["toolongword", "x"]);
        assert_eq!(
            wrap("run `sudo sysctl --system` now", 10),
            vec!["run", "`sudo sysctl --system`", "now"]
        );
    }
}
