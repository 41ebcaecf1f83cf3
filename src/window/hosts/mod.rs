//! Other machines in the window: the host picker (the `Host` entries of the
//! ssh_config ssh reads, plus recent hosts), one tab per connected host
//! beside "This machine", each host's status, the consented copy of
//! portwise there, and the Free port, Bind test and Kernel tuning views
//! run on the selected host. No egui here.
//!
//! Every host has a worker thread and one ssh session
//! ([`crate::remote::fleet::Fleet`], in BatchMode: no prompt can appear).
//! The UI thread only copies each host's state out from under a short lock
//! ([`HostsState::poll`]); requests run on background tasks through a
//! [`HostLink`], and the Sockets view samples the selected host through a
//! [`RemoteSource`] the sampler switches to. The UI thread never waits on
//! the network.

pub mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use crate::remote::client::{Dest, Mode, Ssh};
use crate::remote::fleet::{Fleet, HostLink, HostState, HostStatus, RemoteSource};
use crate::remote::protocol::Op;
use crate::remote::{install, shown, ssh_config};
use crate::sockets::Proto;
use crate::window::ctx::{Ctx, ToastKind};
use crate::window::tasks::Pending;

/// How often every watched host refreshes its status and the Fleet view's
/// figures (the selected host's Sockets view follows the window's interval).
pub const HOST_REFRESH: Duration = Duration::from_secs(2);

/// How many recent hosts the picker remembers.
pub const RECENT_MAX: usize = 10;

/// What the hosts feature can ask for, and what its tasks bring back.
#[derive(Clone, Debug)]
pub enum HostsMsg {
    OpenPicker,
    ClosePicker,
    SetPickerText(String),
    /// The ssh_config's host names arrived.
    ConfigRead(Vec<String>),
    /// Connect to this destination (as typed or picked) and show it.
    Connect(String),
    /// Show this host (None: this machine).
    Select(Option<String>),
    /// Stop watching this host.
    Close(String),
    /// A failed host: try again now.
    Retry(String),
    /// The user agreed to copy portwise to this host.
    Install(String),
    Installed(String, Result<String, String>),
    SetFreeCount(u32),
    SetFreeProto(Proto),
    Free,
    FreeDone(String, Result<RemoteOutput, String>),
    SetBindPort(String),
    SetBindAddr(String),
    SetBindProto(Proto),
    BindTest,
    BindDone(String, Result<RemoteOutput, String>),
    /// Read (again) the selected host's kernel tuning.
    Tuning,
    TuningDone(String, Result<RemoteOutput, String>),
}

/// What a command run on a host printed.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteOutput {
    /// The same command for a terminal (`portwise … --host H`).
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    /// For `free --json`: the ports it gave.
    pub ports: Vec<u16>,
}

/// The picker dialog.
#[derive(Clone, Debug, Default)]
pub struct Picker {
    pub text: String,
    pub config_hosts: Pending<Vec<String>>,
    /// The file those came from.
    pub config_file: Option<PathBuf>,
    pub error: Option<String>,
}

/// One host's tab: its destination and the state its worker last wrote.
#[derive(Clone, Debug)]
pub struct Tab {
    pub dest: Dest,
    pub state: HostState,
}

/// The forms of the views run on a host.
#[derive(Clone, Debug)]
pub struct Forms {
    pub free_count: u32,
    pub free_proto: Proto,
    pub bind_port: String,
    pub bind_addr: String,
    pub bind_proto: Proto,
}

impl Default for Forms {
    fn default() -> Self {
        Forms {
            free_count: 1,
            free_proto: Proto::Tcp,
            bind_port: String::new(),
            bind_addr: "0.0.0.0".into(),
            bind_proto: Proto::Tcp,
        }
    }
}

/// The last results of the views run on one host.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub free: Pending<Result<RemoteOutput, String>>,
    pub bind: Pending<Result<RemoteOutput, String>>,
    pub tuning: Pending<Result<RemoteOutput, String>>,
}

/// The hosts of the window.
#[derive(Default)]
pub struct HostsState {
    ssh: Option<Result<Ssh, String>>,
    /// The portwise binary "Install" copies (None: this program).
    binary: Option<PathBuf>,
    fleet: Option<Fleet>,
    /// The host shown (None: this machine).
    pub selected: Option<Dest>,
    /// Every watched host, in order, as last polled.
    pub tabs: Vec<Tab>,
    pub picker: Option<Picker>,
    pub installing: BTreeSet<Dest>,
    pub forms: Forms,
    pub results: BTreeMap<Dest, Results>,
}

/// What changed that the shell must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Another machine is shown: the Sockets view starts afresh from it.
    Switched(Option<String>),
}

impl HostsState {
    /// Use this ssh command instead of `$PORTWISE_SSH_COMMAND` / `ssh`
    /// (tests). Hosts already watched keep theirs.
    pub fn set_ssh(&mut self, ssh: Ssh) {
        self.ssh = Some(Ok(ssh));
    }

    /// Copy this portwise binary when asked to install (tests, whose own
    /// program is the test binary).
    pub fn set_binary(&mut self, exe: PathBuf) {
        self.binary = Some(exe);
    }

    fn ssh(&mut self) -> Result<Ssh, String> {
        self.ssh.get_or_insert_with(Ssh::from_env).clone()
    }

    /// Copy every host's state from its worker (a short lock each; never
    /// the network). Call once per frame.
    pub fn poll(&mut self) {
        if let Some(f) = &self.fleet {
            self.tabs = f
                .states()
                .into_iter()
                .map(|(dest, state)| Tab { dest, state })
                .collect();
        }
    }

    pub fn tab(&self, dest: &Dest) -> Option<&Tab> {
        self.tabs.iter().find(|t| &t.dest == dest)
    }

    /// The selected host's tab, if a host (not this machine) is shown.
    pub fn selected_tab(&self) -> Option<&Tab> {
        self.selected.as_ref().and_then(|d| self.tab(d))
    }

    /// A handle for requests to `dest`.
    pub fn link(&self, dest: &Dest) -> Option<HostLink> {
        self.fleet.as_ref()?.link(dest)
    }

    /// The socket source for the Sockets view of `host`.
    pub fn source(&self, host: &str) -> Option<RemoteSource> {
        let dest = Dest::parse(host).ok()?;
        self.link(&dest).map(RemoteSource::new)
    }

    /// The results of the views run on the selected host.
    pub fn selected_results(&self) -> Option<&Results> {
        self.selected.as_ref().and_then(|d| self.results.get(d))
    }
}

/// Status in words, for a tab's tooltip and the status line.
pub fn status_text(s: &HostStatus) -> String {
    match s {
        HostStatus::Connecting => "connecting…".into(),
        HostStatus::Connected { hello, latency } => format!(
            "connected, {} ms (portwise {} on {} {})",
            latency.as_millis(),
            shown(&hello.portwise, 20),
            shown(&hello.os, 20),
            shown(&hello.arch, 20)
        ),
        HostStatus::Failed { reason, retry_in } => format!(
            "not connected: {}; retrying in {} s",
            shown(reason, 600),
            retry_in.as_secs()
        ),
    }
}

/// A host's status in words, with the last failure while it reconnects.
pub fn host_status_text(s: &HostState) -> String {
    match (&s.status, &s.last_error) {
        (HostStatus::Connecting, Some(e)) => {
            format!("connecting again… (last attempt: {})", shown(e, 600))
        }
        (status, _) => status_text(status),
    }
}

/// The same command for a terminal.
fn cli(args: &[&str], host: &Dest) -> String {
    let mut c = String::from("portwise");
    for a in args {
        c.push(' ');
        c.push_str(a);
    }
    c.push_str(" --host ");
    c.push_str(host.as_str());
    c
}

/// Handle one message. `recent` is the persisted list of recent hosts.
pub fn update(
    h: &mut HostsState,
    msg: HostsMsg,
    recent: &mut Vec<String>,
    ctx: &mut Ctx<'_, HostsMsg>,
) -> Option<Change> {
    match msg {
        HostsMsg::OpenPicker => {
            let config_file = h
                .ssh()
                .ok()
                .and_then(|s| ssh_config::config_file(&s.args, std::env::home_dir().as_deref()));
            let mut picker = Picker {
                config_file: config_file.clone(),
                ..Picker::default()
            };
            if let Some(file) = config_file {
                picker.config_hosts = Pending::Running;
                ctx.spawn(
                    "portwise-sshconfig",
                    move || ssh_config::host_names(&file, std::env::home_dir().as_deref()),
                    HostsMsg::ConfigRead,
                );
            } else {
                picker.config_hosts = Pending::Done(Vec::new());
            }
            h.picker = Some(picker);
        }
        HostsMsg::ClosePicker => h.picker = None,
        HostsMsg::SetPickerText(t) => {
            if let Some(p) = h.picker.as_mut() {
                p.text = t;
                p.error = None;
            }
        }
        HostsMsg::ConfigRead(names) => {
            if let Some(p) = h.picker.as_mut() {
                p.config_hosts = Pending::Done(names);
            }
        }
        HostsMsg::Connect(text) => {
            let dest = match Dest::parse(&text) {
                Ok(d) => d,
                Err(e) => {
                    match h.picker.as_mut() {
                        Some(p) => p.error = Some(e),
                        None => ctx.toast(ToastKind::Error, e),
                    }
                    return None;
                }
            };
            let ssh = match h.ssh() {
                Ok(s) => s,
                Err(e) => {
                    ctx.toast(ToastKind::Error, e);
                    return None;
                }
            };
            let wake = ctx.workers.wake.clone();
            let fleet = h
                .fleet
                .get_or_insert_with(|| Fleet::with_wake(ssh, HOST_REFRESH, wake));
            if let Err(e) = fleet.add(dest.clone()) {
                ctx.toast(ToastKind::Error, format!("Cannot start a thread: {e}"));
                return None;
            }
            recent.retain(|r| r != dest.as_str());
            recent.insert(0, dest.as_str().to_string());
            recent.truncate(RECENT_MAX);
            h.picker = None;
            h.poll();
            return select(h, Some(dest));
        }
        HostsMsg::Select(None) => return select(h, None),
        HostsMsg::Select(Some(host)) => {
            let dest = Dest::parse(&host).ok()?;
            if h.tab(&dest).is_some() || h.link(&dest).is_some() {
                return select(h, Some(dest));
            }
        }
        HostsMsg::Close(host) => {
            let dest = Dest::parse(&host).ok()?;
            if let Some(f) = h.fleet.as_mut() {
                f.remove(&dest);
            }
            h.results.remove(&dest);
            h.poll();
            if h.selected.as_ref() == Some(&dest) {
                return select(h, None);
            }
        }
        HostsMsg::Retry(host) => {
            if let (Some(f), Ok(d)) = (&h.fleet, Dest::parse(&host)) {
                f.retry_now(&d);
            }
        }
        HostsMsg::Install(host) => {
            let (Ok(dest), Ok(ssh)) = (Dest::parse(&host), h.ssh()) else {
                return None;
            };
            if !h.installing.insert(dest.clone()) {
                return None;
            }
            let d = dest.clone();
            let binary = h.binary.clone();
            let started = ctx.spawn(
                "portwise-install",
                move || match binary {
                    Some(exe) => install::install_file(&ssh, &d, Mode::Batch, &exe),
                    None => install::install(&ssh, &d, Mode::Batch),
                },
                move |r| HostsMsg::Installed(host, r),
            );
            if started {
                ctx.toast(
                    ToastKind::Info,
                    format!("Copying portwise to {dest} (sha256 checked)…"),
                );
            } else {
                h.installing.remove(&dest);
            }
        }
        HostsMsg::Installed(host, r) => {
            let Ok(dest) = Dest::parse(&host) else {
                return None;
            };
            h.installing.remove(&dest);
            match r {
                Ok(m) => {
                    ctx.toast(ToastKind::Success, m);
                    if let Some(f) = &h.fleet {
                        f.retry_now(&dest);
                    }
                }
                Err(e) => ctx.toast(ToastKind::Error, e),
            }
        }
        HostsMsg::SetFreeCount(n) => h.forms.free_count = n.clamp(1, 100),
        HostsMsg::SetFreeProto(p) => h.forms.free_proto = p,
        HostsMsg::Free => {
            let (dest, link) = selected_link(h)?;
            let (count, proto) = (
                h.forms.free_count.to_string(),
                proto_word(h.forms.free_proto),
            );
            let mut shown_args = vec!["free"];
            if count != "1" {
                shown_args.extend(["--count", &count]);
            }
            if proto != "tcp" {
                shown_args.extend(["--proto", proto]);
            }
            let command = cli(&shown_args, &dest);
            let args = vec![
                "--json".into(),
                format!("--count={count}"),
                format!("--proto={proto}"),
            ];
            let results = h.results.entry(dest.clone()).or_default();
            results.free = Pending::Running;
            let host = dest.as_str().to_string();
            ctx.spawn(
                "portwise-remote-free",
                move || run(&link, Op::Free { args }, command),
                move |r| HostsMsg::FreeDone(host, r),
            );
        }
        HostsMsg::FreeDone(host, mut r) => {
            if let Ok(out) = r.as_mut() {
                out.ports = free_ports(&out.stdout);
                if !out.ports.is_empty() {
                    let text = crate::window::free_port::ports_text(&out.ports);
                    let notice = format!("Copied {text} (free on {host})");
                    ctx.copy(text, notice);
                }
            }
            if let Ok(dest) = Dest::parse(&host) {
                h.results.entry(dest).or_default().free = Pending::Done(r);
            }
        }
        HostsMsg::SetBindPort(t) => h.forms.bind_port = t,
        HostsMsg::SetBindAddr(t) => h.forms.bind_addr = t,
        HostsMsg::SetBindProto(p) => h.forms.bind_proto = p,
        HostsMsg::BindTest => {
            let (dest, link) = selected_link(h)?;
            let port = h.forms.bind_port.trim().to_string();
            let results = h.results.entry(dest.clone()).or_default();
            if !matches!(port.parse::<u16>(), Ok(p) if p > 0) {
                results.bind = Pending::Done(Err(format!(
                    "invalid port '{}' (expected a number from 1 to 65535)",
                    shown(&port, 20)
                )));
                return None;
            }
            let addr = h.forms.bind_addr.trim().to_string();
            let proto = proto_word(h.forms.bind_proto);
            let mut shown_args = vec!["bind-test", &port];
            if !addr.is_empty() && addr != "0.0.0.0" {
                shown_args.extend(["--addr", &addr]);
            }
            if proto != "tcp" {
                shown_args.extend(["--proto", proto]);
            }
            let command = cli(&shown_args, &dest);
            let mut args = Vec::new();
            if !addr.is_empty() {
                args.push(format!("--addr={addr}"));
            }
            args.push(format!("--proto={proto}"));
            args.push("--".into());
            args.push(port);
            results.bind = Pending::Running;
            let host = dest.as_str().to_string();
            ctx.spawn(
                "portwise-remote-bind",
                move || run(&link, Op::BindTest { args }, command),
                move |r| HostsMsg::BindDone(host, r),
            );
        }
        HostsMsg::BindDone(host, r) => {
            if let Ok(dest) = Dest::parse(&host) {
                // Its fixes act on that machine when copied.
                let r = r.map(|mut o| {
                    o.stdout = crate::remote::commands_for_host(&o.stdout, dest.as_str());
                    o
                });
                h.results.entry(dest).or_default().bind = Pending::Done(r);
            }
        }
        HostsMsg::Tuning => {
            let (dest, link) = selected_link(h)?;
            let command = cli(&["tuning", "show"], &dest);
            h.results.entry(dest.clone()).or_default().tuning = Pending::Running;
            let host = dest.as_str().to_string();
            ctx.spawn(
                "portwise-remote-tuning",
                move || run(&link, Op::TuningShow { args: Vec::new() }, command),
                move |r| HostsMsg::TuningDone(host, r),
            );
        }
        HostsMsg::TuningDone(host, r) => {
            if let Ok(dest) = Dest::parse(&host) {
                h.results.entry(dest).or_default().tuning = Pending::Done(r);
            }
        }
    }
    None
}

/// The Kernel tuning view is shown for the selected host: read its values
/// the first time.
pub fn on_show_tuning(h: &mut HostsState, ctx: &mut Ctx<'_, HostsMsg>) {
    let Some(dest) = h.selected.clone() else {
        return;
    };
    let connected = matches!(
        h.tab(&dest).map(|t| &t.state.status),
        Some(HostStatus::Connected { .. })
    );
    if connected
        && matches!(
            h.results.get(&dest).map(|r| &r.tuning),
            None | Some(Pending::NotAsked)
        )
    {
        update(h, HostsMsg::Tuning, &mut Vec::new(), ctx);
    }
}

fn select(h: &mut HostsState, dest: Option<Dest>) -> Option<Change> {
    if h.selected == dest {
        return None;
    }
    h.selected = dest;
    Some(Change::Switched(
        h.selected.as_ref().map(|d| d.as_str().to_string()),
    ))
}

fn selected_link(h: &HostsState) -> Option<(Dest, HostLink)> {
    let dest = h.selected.clone()?;
    let link = h.link(&dest)?;
    Some((dest, link))
}

fn proto_word(p: Proto) -> &'static str {
    match p {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

/// Run a command-shaped request (on a background task).
fn run(link: &HostLink, op: Op, command: String) -> Result<RemoteOutput, String> {
    let (stdout, stderr, code) = link.run(op)?;
    Ok(RemoteOutput {
        command,
        stdout,
        stderr,
        code,
        ports: Vec::new(),
    })
}

/// The ports of `portwise free --json` output.
pub fn free_ports(json: &str) -> Vec<u16> {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| {
            v.get("ports")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|p| p.get("port")?.as_u64())
                    .filter_map(|p| u16::try_from(p).ok())
                    .collect()
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_of_free_json() {
        assert_eq!(
            free_ports(r#"{"ports":[{"port":41234,"proto":"tcp"},{"port":41235}]}"#),
            [41234, 41235]
        );
        assert!(free_ports("no").is_empty());
        assert!(free_ports(r#"{"ports":[{"port":70000}]}"#).is_empty());
    }

    #[test]
    fn statuses_in_words() {
        let failed = HostStatus::Failed {
            reason: "cannot reach h: Connection refused\u{1b}[2J".into(),
            retry_in: Duration::from_secs(4),
        };
        assert_eq!(
            status_text(&failed),
            "not connected: cannot reach h: Connection refused\\u{1b}[2J; retrying in 4 s"
        );
        assert_eq!(status_text(&HostStatus::Connecting), "connecting…");
    }
}
