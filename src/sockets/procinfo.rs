//! Process name, user, executable and command line, from one long-lived
//! `sysinfo::System` that refreshes only the pids a snapshot needs.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind, Users};

use super::model::ProcessInfo;
use crate::platform::ProcessIdentity;

/// Looks processes up by pid.
pub struct ProcessTable {
    /// `None` where sysinfo cannot run on this system: then only pids are
    /// known.
    system: Option<System>,
    users: Option<Users>,
    users_loaded_at: Option<Instant>,
}

impl std::fmt::Debug for ProcessTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessTable").finish_non_exhaustive()
    }
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessTable {
    /// The user list is reloaded when an unknown uid shows up, at most this
    /// often.
    const USERS_RELOAD: Duration = Duration::from_secs(10);

    pub fn new() -> Self {
        ProcessTable {
            system: System::new().ok(),
            users: None,
            users_loaded_at: None,
        }
    }

    /// Name, user, exe and command line of each pid in `pids`, refreshing
    /// those processes only (each process's exe and command line are read
    /// once, when it is first seen: `UpdateKind::OnlyIfNotSet`). A pid missing from the result has exited (or cannot be seen).
    pub fn lookup(&mut self, pids: &[u32]) -> BTreeMap<u32, ProcessInfo> {
        let mut out = BTreeMap::new();
        let Some(system) = self.system.as_mut() else {
            for &pid in pids {
                out.insert(pid, bare(pid));
            }
            return out;
        };
        if pids.is_empty() {
            return out;
        }
        refresh_pids(system, pids, Also::Exe);
        let mut uids: HashMap<u32, Option<sysinfo::Uid>> = HashMap::new();
        for &pid in pids {
            if let Some(p) = system.process(Pid::from_u32(pid)) {
                uids.insert(pid, p.user_id().cloned());
            }
        }
        self.ensure_users(uids.values().flatten());
        let Some(system) = self.system.as_ref() else {
            return out;
        };
        for &pid in pids {
            let Some(p) = system.process(Pid::from_u32(pid)) else {
                continue;
            };
            let user = p
                .user_id()
                .and_then(|uid| self.users.as_ref()?.get_user_by_id(uid))
                .map(|u| u.name().to_string());
            out.insert(
                pid,
                ProcessInfo {
                    pid,
                    name: p.name().to_string_lossy().into_owned(),
                    user,
                    exe: p.exe().map(|e| e.to_string_lossy().into_owned()),
                    cmdline: cmdline_of(p),
                },
            );
        }
        out
    }

    /// The login name of a uid, if the user list knows it.
    pub fn user_name(&mut self, uid: u32) -> Option<String> {
        let key = uid_key(uid)?;
        self.ensure_users(std::iter::once(&key));
        self.users
            .as_ref()?
            .get_user_by_id(&key)
            .map(|u| u.name().to_string())
    }

    /// Load the user list, or reload it when a uid is unknown and the list
    /// is old enough.
    fn ensure_users<'a>(&mut self, uids: impl Iterator<Item = &'a sysinfo::Uid>) {
        let mut uids = uids.peekable();
        if uids.peek().is_none() {
            return;
        }
        let missing = match &self.users {
            None => true,
            Some(users) => uids.any(|uid| users.get_user_by_id(uid).is_none()),
        };
        let may_reload = self
            .users_loaded_at
            .is_none_or(|t| t.elapsed() > Self::USERS_RELOAD);
        if missing && may_reload && crate::platform::HOST.can_list_users() {
            self.users = Users::new_with_refreshed_list().ok();
            self.users_loaded_at = Some(Instant::now());
        }
    }
}

/// What [`refresh_pids`] reads besides the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Also {
    /// The executable path and the command line (socket owners: only the
    /// pids that hold a socket, so a snapshot reads `/proc/PID/cmdline` once
    /// per new owner, never per descriptor or per other process).
    Exe,
    /// The command line (stop's identity check).
    Cmd,
}

/// Refresh only `pids` in `system` (their user, and the exe or command
/// line, each read once per process), dropping processes that exited.
pub fn refresh_pids(system: &mut System, pids: &[u32], also: Also) {
    let wanted: Vec<Pid> = pids.iter().map(|&p| Pid::from_u32(p)).collect();
    let kind = ProcessRefreshKind::nothing()
        .without_tasks()
        .with_user(UpdateKind::OnlyIfNotSet);
    let kind = match also {
        Also::Exe => kind
            .with_exe(UpdateKind::OnlyIfNotSet)
            .with_cmd(UpdateKind::OnlyIfNotSet),
        Also::Cmd => kind.with_cmd(UpdateKind::OnlyIfNotSet),
    };
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&wanted), true, kind);
}

/// A process's arguments, `None` when the OS gives none (kernel threads,
/// zombies, a process whose command line cannot be read).
fn cmdline_of(p: &sysinfo::Process) -> Option<Vec<String>> {
    let cmd = p.cmd();
    if cmd.is_empty() {
        return None;
    }
    Some(
        cmd.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    )
}

fn bare(pid: u32) -> ProcessInfo {
    ProcessInfo {
        pid,
        name: String::new(),
        user: None,
        exe: None,
        cmdline: None,
    }
}

/// A numeric uid as sysinfo's `Uid`; `None` where uids are not numbers
/// (Windows SIDs).
fn uid_key(uid: u32) -> Option<sysinfo::Uid> {
    uid.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_and_not_a_missing_one() {
        let mut table = ProcessTable::new();
        let me = std::process::id();
        let found = table.lookup(&[me, u32::MAX - 1]);
        let info = found.get(&me).expect("this process is visible");
        assert!(!info.name.is_empty());
        assert!(!found.contains_key(&(u32::MAX - 1)));
    }

    /// The child of [`reads_a_child_s_arguments`]: waits while it is looked
    /// at (killed by its parent; 7 s at most).
    #[test]
    #[ignore = "run by reads_a_child_s_arguments as its child"]
    fn sleeper_child() {
        if std::env::var_os("PORTWISE_SLEEPER").is_some() {
            std::thread::sleep(std::time::Duration::from_secs(7));
        }
    }

    #[test]
    fn reads_a_child_s_arguments() {
        // This test binary itself, running only `sleeper_child` (which
        // waits while the variable is set); "7.25" is a second name filter
        // that matches no test, there to be found at the end of its command
        // line. `sleep` would not exist on Windows.
        let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "sockets::procinfo::tests::sleeper_child",
                "7.25",
            ])
            .env("PORTWISE_SLEEPER", "1")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the test binary runs");
        // Right after spawn the child may not have exec'd yet (its command
        // line is then the parent's, or empty): look again, for up to 5 s.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let info = loop {
            let mut table = ProcessTable::new();
            let found = table.lookup(&[child.id()]);
            let info = found.get(&child.id()).cloned();
            let done = info
                .as_ref()
                .and_then(|i| i.cmdline.as_ref())
                .is_some_and(|a| a.last().map(String::as_str) == Some("7.25"));
            if done || std::time::Instant::now() > deadline {
                break info;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let _ = child.kill();
        let _ = child.wait();
        let info = info.expect("the child is visible");
        let args = info.cmdline.as_ref().expect("its command line is read");
        assert_eq!(args.last().map(String::as_str), Some("7.25"));
        assert_eq!(
            info.command_line().as_deref(),
            Some(args.join(" ").as_str())
        );
    }
}
