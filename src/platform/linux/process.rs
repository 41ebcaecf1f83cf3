//! linux: privileges and process identity.

/// True when running as root (effective uid 0): then every process's
/// /proc/<pid>/fd can be read, so every socket can be attributed.
pub fn is_elevated() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail (man7 getuid(2)).
    unsafe { libc::geteuid() == 0 }
}

/// The effective uid of this process.
pub fn current_uid() -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    Some(unsafe { libc::geteuid() })
}

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::platform::process_identity::{Liveness, Pins, Sent, SignalError};

/// pidfds opened at plan time ([`identify`]), used by [`signal_exact`].
static PINS: Pins<OwnedFd> = Pins::new();

/// pidfd_open(2) (Linux >= 5.3): a descriptor that means this one process
/// for as long as it is open. `Err` with the OS error otherwise.
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: pidfd_open takes a pid and flags (0) and returns a new file
    // descriptor or -1 with errno set; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; we own it and it is
    // closed once, when the OwnedFd drops.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// [`liveness`], for a stop being planned: a running process is also
/// pinned by a pidfd, kept until [`signal_exact`] uses it. The pidfd is
/// opened first and the start read after, so the stamp belongs to the
/// pidfd's process (the pid could not change hands while it lived).
pub fn identify(pid: u32) -> Liveness {
    let fd = pidfd_open(pid).ok();
    let now = liveness(pid);
    if let (Some(fd), Liveness::Running { start }) = (fd, now) {
        PINS.pin(pid, start, fd);
    }
    now
}

/// PF_KTHREAD in /proc/PID/stat's flags (field 9): "I am a kernel thread"
/// (include/linux/sched.h).
const PF_KTHREAD: u64 = 0x0020_0000;

/// The fields of /proc/PID/stat that identify a process (proc_pid_stat(5)).
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    state: u8,
    ppid: u32,
    flags: u64,
    /// Field 22, starttime: clock ticks after boot.
    start_ticks: u64,
}

/// Parse /proc/PID/stat. The name (field 2) is in parentheses and may hold
/// spaces and ')' itself: the fields start after the last ')'.
fn parse_stat(text: &str) -> Option<Stat> {
    let after = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_ascii_whitespace().collect();
    // f[0] is field 3 (state), so field N is f[N - 3].
    Some(Stat {
        state: *f.first()?.as_bytes().first()?,
        ppid: f.get(1)?.parse().ok()?,
        flags: f.get(6)?.parse().ok()?,
        start_ticks: f.get(19)?.parse().ok()?,
    })
}

/// What `pid` is now: running (with its start in clock ticks since boot),
/// a zombie (with its parent), a kernel thread, or gone.
pub fn liveness(pid: u32) -> Liveness {
    let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| parse_stat(&t))
    else {
        return Liveness::Gone;
    };
    if stat.flags & PF_KTHREAD != 0 {
        Liveness::KernelThread
    } else if matches!(stat.state, b'Z' | b'X' | b'x') {
        Liveness::Zombie { parent: stat.ppid }
    } else {
        Liveness::Running {
            start: stat.start_ticks,
        }
    }
}

/// Send SIGTERM (or SIGKILL with `force`) to `pid` only if it is still the
/// process that started at `start` ([`liveness`]). On Linux >= 5.3 the
/// signal goes through a pidfd (pidfd_send_signal(2)), which always means
/// the process it was opened for, never a later one with the same pid: the
/// one pinned by [`identify`] when the stop was planned (exact even for a
/// pid reused within the same clock tick, which the start time in ticks
/// cannot tell apart), else one opened now and checked against `start`.
/// Older kernels (ENOSYS) fall back to check-then-kill(2).
pub fn signal_exact(pid: u32, start: u64, force: bool) -> Result<Sent, SignalError> {
    let sig = if force { libc::SIGKILL } else { libc::SIGTERM };
    let sent = if force { Sent::Killed } else { Sent::Polite };
    let check = || match liveness(pid) {
        Liveness::Running { start: now } if now == start => Ok(()),
        Liveness::Running { .. } | Liveness::KernelThread => Err(SignalError::Reused),
        Liveness::Zombie { .. } | Liveness::Gone => Err(SignalError::Gone),
    };
    let pid_t = libc::pid_t::try_from(pid).map_err(|_| SignalError::Gone)?;
    // The pidfd pinned when the stop was planned, or one opened now.
    let pidfd = match PINS.take(pid, start) {
        Some(fd) => Ok(fd),
        None => pidfd_open(pid),
    };
    match pidfd {
        Ok(pidfd) => {
            check()?;
            use std::os::fd::AsRawFd;
            // SAFETY: a valid pidfd, a signal number, no siginfo (null),
            // flags 0.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    sig,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            };
            match signal_result(r, sent) {
                // The pidfd's process has exited; if the pid runs again, it
                // is another process (one that started within the same
                // clock tick, or the check above would have said so).
                Err(SignalError::Gone) if matches!(liveness(pid), Liveness::Running { .. }) => {
                    Err(SignalError::Reused)
                }
                other => other,
            }
        }
        Err(err) => {
            match err.raw_os_error() {
                Some(libc::ESRCH) => return Err(SignalError::Gone),
                // No pidfd_open (Linux < 5.3, or a seccomp filter hides it).
                Some(libc::ENOSYS) | Some(libc::EPERM) | Some(libc::EINVAL) => {}
                _ => return Err(SignalError::Io(err)),
            }
            check()?;
            // SAFETY: kill(2) with a pid and a signal number.
            let r = unsafe { libc::kill(pid_t, sig) };
            signal_result(r as libc::c_long, sent)
        }
    }
}

fn signal_result(r: libc::c_long, sent: Sent) -> Result<Sent, SignalError> {
    if r == 0 {
        return Ok(sent);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ESRCH) => Err(SignalError::Gone),
        _ => Err(SignalError::Io(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parses_names_with_spaces_and_parens() {
        let text = "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    123456789 1000 100 18446744073709551615";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                state: b'S',
                ppid: 1,
                flags: 4194560,
                start_ticks: 123456789,
            })
        );
        assert_eq!(parse_stat("1 (x"), None);
    }

    #[test]
    fn live_processes_kernel_threads_and_gone_pids() {
        match liveness(std::process::id()) {
            Liveness::Running { start } => assert!(start > 0),
            other => panic!("{other:?}"),
        }
        // kthreadd is pid 2 in the initial pid namespace only.
        let comm = std::fs::read_to_string("/proc/2/comm").unwrap_or_default();
        if comm.trim() == "kthreadd" {
            assert_eq!(liveness(2), Liveness::KernelThread);
        } else {
            eprintln!("SKIPPED: kernel-thread case (pid 2 is not kthreadd here)");
        }
        assert_eq!(liveness(u32::MAX), Liveness::Gone);
    }
}
