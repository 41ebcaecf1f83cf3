//! macos: privileges and process identity.

/// True when running as root (effective uid 0): then the descriptors of
/// every user's processes can be inspected.
pub fn is_elevated() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The effective uid of this process.
pub fn current_uid() -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    Some(unsafe { libc::geteuid() })
}

use crate::platform::process_identity::{Liveness, Sent, SignalError};

/// The kernel's BSD facts about `pid` (proc_pidinfo PROC_PIDTBSDINFO, from
/// xnu bsd/kern/proc_info.c proc_pidbsdinfo), or `None` when it is gone.
fn bsdinfo(pid: u32) -> Option<libc::proc_bsdinfo> {
    let pid = libc::c_int::try_from(pid).ok()?;
    // SAFETY: proc_bsdinfo is plain old data; all-zero is a valid value.
    let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
    // SAFETY: `info` is a writable buffer of exactly `size` bytes.
    let n = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            (&mut info as *mut libc::proc_bsdinfo).cast(),
            size,
        )
    };
    (n == size).then_some(info)
}

/// What `pid` is now: running (start in microseconds since the epoch,
/// pbi_start_tvsec/tvusec), a zombie (SZOMB, with its parent), or gone.
/// macOS has no kernel threads with pids of their own (kernel_task is pid
/// 0, which portwise refuses by number).
pub fn liveness(pid: u32) -> Liveness {
    let Some(info) = bsdinfo(pid) else {
        return Liveness::Gone;
    };
    if info.pbi_status == libc::SZOMB {
        return Liveness::Zombie {
            parent: info.pbi_ppid,
        };
    }
    Liveness::Running {
        start: info
            .pbi_start_tvsec
            .saturating_mul(1_000_000)
            .saturating_add(info.pbi_start_tvusec),
    }
}

/// [`liveness`], for a stop being planned. macOS has no process handle to
/// keep: the start in microseconds is the identity.
pub fn identify(pid: u32) -> Liveness {
    liveness(pid)
}

/// Send SIGTERM (or SIGKILL with `force`) to `pid` only if it still started
/// at `start`. macOS has no pidfd: the check comes right before kill(2),
/// leaving only the microseconds between them.
pub fn signal_exact(pid: u32, start: u64, force: bool) -> Result<Sent, SignalError> {
    match liveness(pid) {
        Liveness::Running { start: now } if now == start => {}
        Liveness::Running { .. } | Liveness::KernelThread => return Err(SignalError::Reused),
        Liveness::Zombie { .. } | Liveness::Gone => return Err(SignalError::Gone),
    }
    let pid = libc::pid_t::try_from(pid).map_err(|_| SignalError::Gone)?;
    let (sig, sent) = if force {
        (libc::SIGKILL, Sent::Killed)
    } else {
        (libc::SIGTERM, Sent::Polite)
    };
    // SAFETY: kill(2) with a pid and a signal number.
    if unsafe { libc::kill(pid, sig) } == 0 {
        return Ok(sent);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ESRCH) => Err(SignalError::Gone),
        _ => Err(SignalError::Io(err)),
    }
}
