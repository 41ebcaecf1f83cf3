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
