//! Find the processes holding a port (or one pid), show what would be
//! stopped, and stop them safely.
//!
//! - [`plan_port`] / [`plan_pid`]: the [`StopTarget`]s, with pid, name,
//!   user, command line, start time, caveats (docker-proxy, systemd socket
//!   activation) and refusals (pid 1, portwise itself, the kernel).
//! - [`Stopper`]: stops one target. [`SystemStopper`] is the real one: it
//!   re-checks the target right before signalling (same start time, still
//!   holds the port), sends SIGTERM where the OS has it, waits up to 5 s,
//!   and reports; `force` kills at once. The window uses a fake in tests.

mod service;
mod system;

use std::fmt;

use serde::Serialize;
use sysinfo::{Pid, System, Users};

use crate::bind::holders_on;
use crate::platform::os;
use crate::platform::process_identity::Liveness;
use crate::sockets::Snapshot;

pub use service::{EngineStop, StopService, plan_row};
pub use system::SystemStopper;

/// One process portwise may stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StopTarget {
    pub pid: u32,
    pub name: String,
    pub user: Option<String>,
    /// The command line, arguments joined by spaces; `[name]` when the OS
    /// does not show it.
    pub cmdline: String,
    /// The OS's exact start stamp (Linux: clock ticks since boot, macOS:
    /// microseconds since the epoch, Windows: creation FILETIME; see
    /// `platform::process_identity::Liveness`): with the pid, the process's
    /// identity. A pid reused even within the same second has another one.
    pub start_time: u64,
    /// Why stopping may not do what the user wants (docker-proxy, systemd).
    pub caveats: Vec<String>,
    /// The port it was found holding ([`plan_port`]); re-checked right
    /// before signalling.
    pub port: Option<u16>,
    /// Why portwise will not stop it; `None` when it may.
    pub refusal: Option<String>,
}

/// Why there is nothing to stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopError {
    NoSuchProcess(u32),
    /// The process has exited; its parent has not collected it yet.
    Zombie {
        pid: u32,
        name: String,
        parent: u32,
        parent_name: Option<String>,
    },
    /// pid 1, portwise itself, the kernel.
    Refused {
        pid: u32,
        reason: String,
    },
    NothingHolds(u16),
    /// Only TIME_WAIT sockets: the kernel holds them, no process to stop.
    OnlyTimeWait {
        port: u16,
        count: usize,
        longest_ms: Option<u64>,
    },
    /// Sockets on the port whose owners this user cannot see.
    Hidden {
        port: u16,
        sockets: usize,
    },
    /// The process list could not be read.
    System(String),
}

impl fmt::Display for StopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopError::NoSuchProcess(pid) => write!(f, "no process with pid {pid}"),
            StopError::Zombie {
                pid,
                name,
                parent,
                parent_name,
            } => {
                let who = if name.is_empty() {
                    format!("pid {pid}")
                } else {
                    format!("{name} (pid {pid})")
                };
                let by = match parent_name {
                    Some(n) => format!("{n} (pid {parent})"),
                    None => format!("pid {parent}"),
                };
                write!(
                    f,
                    "{who} has already exited: it is a zombie, which holds no port and no \
                     other open file; it stays listed until its parent, {by}, collects its \
                     exit status (stopping the parent clears it too)"
                )
            }
            StopError::Refused { pid, reason } => write!(f, "will not stop pid {pid}: {reason}"),
            StopError::NothingHolds(port) => write!(f, "nothing holds port {port}"),
            StopError::OnlyTimeWait {
                port,
                count,
                longest_ms,
            } => {
                write!(
                    f,
                    "no process holds port {port}: only {count} TIME_WAIT socket(s), which the \
                     kernel owns and frees by itself"
                )?;
                if let Some(ms) = longest_ms {
                    write!(f, " (within {} s)", ms.div_ceil(1000))?;
                }
                Ok(())
            }
            StopError::Hidden { port, sockets } => write!(
                f,
                "{sockets} socket(s) hold port {port}, but their owner is hidden from this user; \
                 run elevated to see and stop it ({})",
                elevated_hint(&format!("portwise stop --port {port}"))
            ),
            StopError::System(m) => write!(f, "cannot read the process list: {m}"),
        }
    }
}

impl std::error::Error for StopError {}

/// How a stop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopOutcome {
    /// Exited after the polite signal.
    Terminated,
    /// Killed at once (`force`, or no polite signal on this OS).
    Killed,
    /// It had already exited before the signal.
    AlreadyGone,
    /// Still running after the grace period.
    StillRunning,
    Refused,
    /// The pid now belongs to another process (different start time).
    PidReused,
    /// It no longer holds the port: not signalled.
    NoLongerHoldsPort,
    PermissionDenied,
    Failed,
}

impl StopOutcome {
    /// True when the process is gone.
    pub fn stopped(self) -> bool {
        matches!(
            self,
            StopOutcome::Terminated | StopOutcome::Killed | StopOutcome::AlreadyGone
        )
    }
}

/// The result of one stop, for the CLI's report and the window's toast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StopReport {
    pub pid: u32,
    pub name: String,
    pub outcome: StopOutcome,
    /// One line for people: what happened, and what to do next.
    pub message: String,
    pub elapsed_ms: u64,
    /// Whether the target's port is free of other holders afterwards, when
    /// it was stopped by port and a snapshot could be taken.
    pub port_freed: Option<bool>,
}

/// Stops one target. `Send` so the window can run it off the UI thread.
pub trait Stopper: Send {
    fn stop(&mut self, t: &StopTarget, force: bool) -> StopReport;
}

/// The command, prefixed the way this OS runs things elevated.
pub fn elevated_hint(cmd: &str) -> String {
    match crate::bind::OsKind::current().elevate_prefix() {
        Some(prefix) => format!("{prefix}{cmd}"),
        None => format!("{cmd} from an Administrator terminal"),
    }
}

/// Why portwise refuses to stop `pid`, if it does.
pub fn refusal(pid: u32, name: &str) -> Option<String> {
    if pid == 0 {
        return Some("pid 0 is the kernel's, not a process".into());
    }
    if pid == 1 {
        return Some(
            "pid 1 is the init process: stopping it would bring the whole system (or container) \
             down"
                .into(),
        );
    }
    if pid == std::process::id() {
        return Some("that is portwise itself".into());
    }
    if name == "systemd" {
        return Some(
            "systemd is a service manager: stop the .socket or .service unit instead".into(),
        );
    }
    // The System process listens for HTTP.sys on behalf of the programs that
    // reserved URLs with it; `netsh http show urlacl` lists them
    // (devblogs.microsoft.com/oldnewthing/20180703-00/?p=99145).
    if pid == 4 && name == "System" {
        return Some(
            "the Windows kernel (System) holds this: a program that reserved URLs with HTTP.sys \
             may own the port (see `netsh http show urlacl`)"
                .into(),
        );
    }
    None
}

/// Caveats for a process found on `port` next to the other holders.
pub fn caveats(
    name: &str,
    port: Option<u16>,
    port_holders: &[String],
    units: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    if name == "docker-proxy" {
        let cmd = match port {
            Some(p) => format!("docker stop $(docker ps -q --filter publish={p})"),
            None => "docker ps, then docker stop CONTAINER".into(),
        };
        // The container still publishes the port after its proxy is gone;
        // `docker stop` / `docker compose down` is the clean way to free it
        // (docs.docker.com reference: docker container stop, docker compose
        // down). No stronger claim is sourced.
        out.push(format!(
            "docker-proxy publishes a port for a Docker container, which still publishes it: \
             stop the container (or `docker compose down` for a Compose project) rather than \
             the proxy: {cmd}"
        ));
    }
    if port_holders.iter().any(|n| n == "systemd")
        && let Some(p) = port
    {
        let how = if units.is_empty() {
            format!("find it with: systemctl list-sockets --all | grep ':{p} '")
        } else {
            elevated_hint(&format!("systemctl stop {}", units.join(" ")))
        };
        out.push(format!(
            "systemd holds port {p} for a socket-activated service: stopping the service's \
             process does not free the port (systemd starts it again on the next connection); \
             stop the .socket unit: {how}"
        ));
    }
    out
}

/// Process details from sysinfo.
struct ProcessFacts {
    name: String,
    user: Option<String>,
    cmdline: String,
    start_time: u64,
}

fn new_system() -> Result<System, StopError> {
    System::new().map_err(|e| StopError::System(e.to_string()))
}

fn refresh(sys: &mut System, pids: &[u32]) {
    crate::sockets::procinfo::refresh_pids(sys, pids, crate::sockets::procinfo::Also::Cmd);
}

fn facts_of(sys: &System, users: Option<&Users>, pid: u32) -> Option<ProcessFacts> {
    let p = sys.process(Pid::from_u32(pid))?;
    if p.status() == sysinfo::ProcessStatus::Zombie {
        return None;
    }
    // The exact identity, not sysinfo's whole seconds; where the OS has
    // process handles, one is kept from now until the signal.
    let Liveness::Running { start } = os::process::identify(pid) else {
        return None;
    };
    let name = p.name().to_string_lossy().into_owned();
    let cmd: Vec<String> = p
        .cmd()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Shown as the Sockets view's Command line shows it: quoted like a
    // shell, control characters escaped (`\x1b`).
    let cmdline = if cmd.is_empty() {
        format!("[{name}]")
    } else {
        crate::sockets::quote_args(&cmd)
    };
    let cmdline = crate::util::text::escape_control(&cmdline).into_owned();
    let user = p
        .user_id()
        .and_then(|uid| users?.get_user_by_id(uid))
        .map(|u| u.name().to_string());
    Some(ProcessFacts {
        name,
        user,
        cmdline,
        start_time: start,
    })
}

/// Why a kernel thread is not stopped.
fn kernel_thread_reason(name: &str) -> String {
    let what = if name.is_empty() {
        String::new()
    } else {
        format!(" ({name})")
    };
    format!(
        "it is a kernel thread{what}: it runs inside the kernel, not a program; it holds no \
         socket of its own and signals do not stop it"
    )
}

/// What stopping process `pid` would do.
pub fn plan_pid(pid: u32) -> Result<Vec<StopTarget>, StopError> {
    // Refused by pid alone: no need to look the process up.
    if pid <= 1 || pid == std::process::id() {
        let reason = refusal(pid, "").unwrap_or_default();
        return Err(StopError::Refused { pid, reason });
    }
    let mut sys = new_system()?;
    refresh(&mut sys, &[pid]);
    let name_of = |sys: &System, pid: u32| {
        sys.process(Pid::from_u32(pid))
            .map(|p| p.name().to_string_lossy().into_owned())
    };
    match os::process::liveness(pid) {
        Liveness::KernelThread => {
            let name = name_of(&sys, pid).unwrap_or_default();
            return Err(StopError::Refused {
                pid,
                reason: kernel_thread_reason(&name),
            });
        }
        Liveness::Zombie { parent } => {
            refresh(&mut sys, &[parent]);
            return Err(StopError::Zombie {
                pid,
                name: name_of(&sys, pid).unwrap_or_default(),
                parent,
                parent_name: name_of(&sys, parent),
            });
        }
        Liveness::Gone => return Err(StopError::NoSuchProcess(pid)),
        Liveness::Running { .. } => {}
    }
    let users = user_list();
    let f = facts_of(&sys, users.as_ref(), pid).ok_or(StopError::NoSuchProcess(pid))?;
    if let Some(reason) = refusal(pid, &f.name) {
        return Err(StopError::Refused { pid, reason });
    }
    Ok(vec![StopTarget {
        pid,
        caveats: caveats(&f.name, None, &[], &[]),
        name: f.name,
        user: f.user,
        cmdline: f.cmdline,
        start_time: f.start_time,
        port: None,
        refusal: None,
    }])
}

/// What stopping the holders of `port` (TCP or UDP, any state but
/// TIME_WAIT) would do. Refused holders (pid 1, systemd, ...) are included
/// with their [`StopTarget::refusal`] so that a front end can show them.
pub fn plan_port(port: u16, snap: &Snapshot) -> Result<Vec<StopTarget>, StopError> {
    let holders = holders_on(snap, port, None);
    if holders.is_empty() {
        let on_port: Vec<_> = snap
            .sockets
            .iter()
            .filter(|s| s.local_port == port)
            .collect();
        let hidden = on_port
            .iter()
            .filter(|s| !s.is_kernel_owned() && s.processes.is_empty())
            .count();
        if hidden > 0 {
            return Err(StopError::Hidden {
                port,
                sockets: hidden,
            });
        }
        if let Some(tw) = crate::bind::time_wait_on(snap, port) {
            return Err(StopError::OnlyTimeWait {
                port,
                count: tw.count,
                longest_ms: tw.longest_remaining_ms,
            });
        }
        return Err(StopError::NothingHolds(port));
    }
    let names: Vec<String> = holders.iter().map(|h| h.name.clone()).collect();
    let units = if names.iter().any(|n| n == "systemd") {
        crate::platform::HostPorts::socket_units_for_port(&crate::platform::HOST, port)
    } else {
        Vec::new()
    };
    let mut sys = new_system()?;
    let pids: Vec<u32> = holders.iter().map(|h| h.pid).collect();
    refresh(&mut sys, &pids);
    let users = user_list();
    let mut out = Vec::new();
    for h in &holders {
        // A holder that exited since the snapshot is skipped.
        let Some(f) = facts_of(&sys, users.as_ref(), h.pid) else {
            continue;
        };
        let mut notes = caveats(&f.name, Some(port), &names, &units);
        // A proxy that publishes the port for a known container (docker-proxy,
        // conmon, rootlessport): name the container and the command that
        // stops it, since killing the proxy leaves the container publishing.
        if let Some((p, cmd)) =
            published_by(snap, port, h.pid).and_then(|p| Some((p, p.stop_command()?)))
        {
            notes.push(format!(
                "{} publishes port {port} for container {}: stop the container \
                 instead of its proxy: {cmd}",
                p.via,
                p.container.as_ref().map(|c| c.label()).unwrap_or_default()
            ));
        }
        out.push(StopTarget {
            pid: h.pid,
            caveats: notes,
            refusal: refusal(h.pid, &f.name),
            name: f.name,
            user: h.user.clone().or(f.user),
            cmdline: f.cmdline,
            start_time: f.start_time,
            port: Some(port),
        });
    }
    if out.is_empty() {
        return Err(StopError::NothingHolds(port));
    }
    Ok(out)
}

/// What `pid` publishes on `port` for a container, where the snapshot knows.
fn published_by(snap: &Snapshot, port: u16, pid: u32) -> Option<&crate::sockets::Published> {
    snap.sockets
        .iter()
        .filter(|s| s.local_port == port && s.processes.iter().any(|p| p.pid == pid))
        .find_map(|s| s.published.as_deref())
}

/// The OS's user list, where it may be read (not under Wine: see
/// `platform::ProcessIdentity::can_list_users`).
fn user_list() -> Option<Users> {
    use crate::platform::ProcessIdentity;
    if crate::platform::HOST.can_list_users() {
        Users::new_with_refreshed_list().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
