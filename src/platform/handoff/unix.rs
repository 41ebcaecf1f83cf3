//! Unix (Linux, macOS): pass a socket at a fixed descriptor across exec,
//! set `LISTEN_PID` to the child's own pid, forward signals.
//!
//! Everything that runs in the child between fork and exec (the
//! `pre_exec` closure) is async-signal-safe: `getpid`, `fcntl`, `dup2`,
//! `execve`, and writing digits into memory allocated before the fork.
//! POSIX.1-2017 XSH 2.4.3 lists the functions allowed there; `setenv` and
//! anything that allocates are not among them, because another thread of
//! the parent may have held the allocator's lock at the moment of fork().

use std::ffi::{CString, OsStr, c_char, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};

use socket2::Socket;

use super::{ChildSpec, Pass, Resolved};

/// Sockets can be handed over by descriptor number on every Unix.
pub const SOCKET_HANDOFF: Result<(), &str> = Ok(());

/// Linux: a socket bound with SO_REUSEADDR that is not listening does not
/// conflict with another SO_REUSEADDR bind (`inet_bind_conflict()` skips
/// sockets when both set `sk_reuse` and the other is not in TCP_LISTEN;
/// net/ipv4/inet_connection_sock.c), while a bind without SO_REUSEADDR
/// conflicts with it. UDP: both set SO_REUSEADDR, so they share
/// (`udp_lib_lport_inuse()`, net/ipv4/udp.c). macOS (BSD `in_pcbbind()`)
/// refuses a second bind of the very same address and port even with
/// SO_REUSEADDR, so there the reservation is the TIME_WAIT trick.
pub fn held_bind_reserves() -> bool {
    cfg!(target_os = "linux")
}

/// The socket's inode: what Linux's socket table (sock_diag) lists as
/// `idiag_inode`, so a watcher can tell this socket from the child's. 0
/// when it cannot be read.
pub fn socket_id(s: &Socket) -> u64 {
    // SAFETY: fstat on a descriptor we own, into a zeroed plain-data struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(s.as_raw_fd(), &mut st) } == 0 {
        st.st_ino
    } else {
        0
    }
}

/// The search path when PATH is unset, as execvp(3) uses it (glibc: the
/// default path from `confstr(_CS_PATH)`).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Finds `program` the way execvp(3) would: as given when it contains a
/// slash, otherwise in each directory of `path` (an empty entry is the
/// current directory).
pub fn resolve_program(program: &OsStr, path: Option<&OsStr>) -> Resolved {
    if program.as_bytes().contains(&b'/') {
        return check_executable(Path::new(program));
    }
    let path = path.unwrap_or(OsStr::new(DEFAULT_PATH));
    let mut not_executable = None;
    for dir in std::env::split_paths(path) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        match check_executable(&dir.join(program)) {
            Resolved::Found(p) => return Resolved::Found(p),
            Resolved::NotExecutable(p) => {
                not_executable.get_or_insert(p);
            }
            Resolved::NotFound => {}
        }
    }
    not_executable.map_or(Resolved::NotFound, Resolved::NotExecutable)
}

fn check_executable(p: &Path) -> Resolved {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {
            Resolved::Found(p.to_path_buf())
        }
        Ok(_) => Resolved::NotExecutable(p.to_path_buf()),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            Resolved::NotExecutable(p.to_path_buf())
        }
        Err(_) => Resolved::NotFound,
    }
}

/// A `Command` for `spec` that, when `pass` is given, finds `pass.socket`
/// at descriptor `pass.target_fd` (close-on-exec cleared) and, with
/// `listen_pid`, `LISTEN_PID=<its own pid>` in its environment.
pub fn command(spec: &ChildSpec, pass: Option<Pass<'_>>) -> io::Result<Command> {
    let mut cmd = Command::new(&spec.program);
    cmd.arg0(&spec.arg0)
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    let Some(pass) = pass else {
        return Ok(cmd);
    };
    if pass.target_fd < 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the socket's descriptor number must be 3 or more (0-2 are stdin, stdout, stderr)",
        ));
    }
    let source = occupy_target(pass.socket, pass.target_fd)?;
    let exec = if pass.listen_pid {
        Some(Exec::new(spec)?)
    } else {
        None
    };
    let mut child = InChild {
        source,
        target: pass.target_fd,
        exec,
    };
    // SAFETY: the closure only makes async-signal-safe calls (see the
    // module comment) and touches memory allocated before the fork.
    unsafe {
        cmd.pre_exec(move || child.run());
    }
    Ok(cmd)
}

/// A copy of the socket at the lowest free descriptor >= `target`
/// (close-on-exec). When that is `target` itself, the parent now holds
/// `target` until the child has started, so std's own fork-error pipe
/// cannot be given that number and then be overwritten in the child by
/// `dup2`. When it is higher, `target` is already some other open
/// descriptor of this process, which the pipe cannot get either.
fn occupy_target(socket: &Socket, target: i32) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own returns a new one we
    // then own.
    let fd = unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_DUPFD_CLOEXEC, target) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by fcntl and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// What the `pre_exec` closure owns.
struct InChild {
    source: OwnedFd,
    target: c_int,
    exec: Option<Exec>,
}

impl InChild {
    /// Runs in the child, after fork, before exec.
    fn run(&mut self) -> io::Result<()> {
        let src = self.source.as_raw_fd();
        // SAFETY: fcntl/dup2 on descriptors of this (child) process.
        unsafe {
            if src == self.target {
                let flags = libc::fcntl(src, libc::F_GETFD);
                if flags < 0 || libc::fcntl(src, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(src, self.target) < 0 {
                // dup2 clears close-on-exec on the new descriptor.
                return Err(io::Error::last_os_error());
            }
        }
        match &mut self.exec {
            // Only returns when execve failed.
            Some(exec) => Err(exec.exec()),
            None => Ok(()),
        }
    }
}

const LISTEN_PID: &[u8] = b"LISTEN_PID=";
/// "LISTEN_PID=" + up to 20 digits + NUL.
const PID_ENTRY_LEN: usize = 11 + 21;

/// An execve prepared in the parent: the child only writes its pid's digits
/// into the reserved `LISTEN_PID=` entry and calls execve. (std's
/// `Command::env` cannot do this: the value must be the child's pid, known
/// only after fork, and setenv in the child is not async-signal-safe.)
struct Exec {
    path: CString,
    _strings: Vec<CString>,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    /// The `LISTEN_PID=` entry; freed in `Drop`.
    pid_entry: *mut [u8; PID_ENTRY_LEN],
}

// SAFETY: the raw pointers point into memory this struct owns (`_strings`,
// `pid_entry`); it is only written in the forked child, where there is one
// thread.
unsafe impl Send for Exec {}
// SAFETY: as above; nothing mutates it through a shared reference.
unsafe impl Sync for Exec {}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "'{}' contains a NUL byte",
                s.to_string_lossy().escape_debug()
            ),
        )
    })
}

impl Exec {
    fn new(spec: &ChildSpec) -> io::Result<Exec> {
        let path = c_string(spec.program.as_os_str())?;
        let mut strings = Vec::with_capacity(1 + spec.args.len() + spec.env.len());
        strings.push(c_string(&spec.arg0)?);
        for a in &spec.args {
            strings.push(c_string(a)?);
        }
        let argc = strings.len();
        for (k, v) in &spec.env {
            if k.as_bytes() == b"LISTEN_PID" {
                continue;
            }
            let mut entry = k.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            strings.push(c_string(OsStr::from_bytes(&entry))?);
        }
        let mut argv: Vec<*const c_char> = strings[..argc].iter().map(|s| s.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const c_char> = strings[argc..].iter().map(|s| s.as_ptr()).collect();
        let mut entry = [0u8; PID_ENTRY_LEN];
        entry[..LISTEN_PID.len()].copy_from_slice(LISTEN_PID);
        let pid_entry = Box::into_raw(Box::new(entry));
        envp.push(pid_entry.cast::<c_char>().cast_const());
        envp.push(std::ptr::null());
        Ok(Exec {
            path,
            _strings: strings,
            argv,
            envp,
            pid_entry,
        })
    }

    /// In the child: fill in the pid, execve. Returns the error when
    /// execve returns.
    fn exec(&mut self) -> io::Error {
        // SAFETY: getpid cannot fail; `pid_entry` is valid until Drop and
        // only this (single-threaded, forked) process writes it.
        let pid = unsafe { libc::getpid() };
        let entry = unsafe { &mut *self.pid_entry };
        write_decimal(
            &mut entry[LISTEN_PID.len()..],
            u64::from(pid.unsigned_abs()),
        );
        // SAFETY: NUL-terminated strings and NULL-terminated arrays, all
        // alive in `self`.
        unsafe { libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr()) };
        io::Error::last_os_error()
    }
}

impl Drop for Exec {
    fn drop(&mut self) {
        // SAFETY: from Box::into_raw in `new`, freed once.
        drop(unsafe { Box::from_raw(self.pid_entry) });
    }
}

/// Writes `n` in decimal followed by NUL into `out` (21 bytes hold any
/// u64), without allocating.
fn write_decimal(out: &mut [u8], mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = len.min(out.len().saturating_sub(1));
    for i in 0..len {
        out[i] = digits[len - 1 - i];
    }
    if let Some(end) = out.get_mut(len) {
        *end = 0;
    }
}

/// The pid signals are forwarded to (0: no child yet).
static TARGET: AtomicI32 = AtomicI32::new(0);
/// A signal that arrived before there was a child to forward it to.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// The signals forwarded to the child.
const FORWARDED: [c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Whether the kernel sent the signal because of a terminal key (Ctrl-C,
/// Ctrl-\\): it then went to the whole foreground process group, the child
/// included, and forwarding it would deliver it twice (a second Ctrl-C
/// means "force quit" to uvicorn and others). Linux marks such signals
/// SI_KERNEL (drivers/tty/n_tty.c `isig()` -> `kill_pgrp()` with
/// SEND_SIG_PRIV). xnu marks signals from kill(2) SI_USER (0x10001,
/// bsd/sys/signal.h) and leaves si_code 0 for the terminal's
/// (bsd/kern/tty.c `ttyinput()` -> `pgsignal()`); not verified on a Mac.
fn sent_by_terminal(code: c_int) -> bool {
    if cfg!(target_os = "linux") {
        code == 0x80 // SI_KERNEL
    } else {
        code == 0
    }
}

extern "C" fn on_signal(sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
    let code = if info.is_null() {
        0
    } else {
        unsafe { (*info).si_code }
    };
    let pid = TARGET.load(Ordering::SeqCst);
    if pid > 0 {
        if !sent_by_terminal(code) {
            // SAFETY: kill is async-signal-safe.
            unsafe { libc::kill(pid, sig) };
        }
    } else {
        PENDING.store(sig, Ordering::SeqCst);
    }
}

/// Catch SIGINT, SIGTERM, SIGHUP and SIGQUIT from now on: they no longer
/// end portwise, and once [`forward_signals_to`] names a child they are
/// passed on to it (except those a terminal already sent to the child).
/// exec(2) resets caught signals to their defaults in the child.
pub fn install_signal_forwarding() -> io::Result<()> {
    for sig in FORWARDED {
        // SAFETY: a zeroed sigaction with our handler and SA_SIGINFO.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_signal as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            if libc::sigaction(sig, &act, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// Forward the caught signals to `pid` from now on (`None`: stop
/// forwarding). A signal that came before is sent at once.
pub fn forward_signals_to(pid: Option<u32>) {
    let pid = pid.and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    TARGET.store(pid, Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    if pid > 0 && pending != 0 {
        // SAFETY: plain kill(2) to our own child.
        unsafe { libc::kill(pid, pending) };
    }
}

/// Ask the child to stop (SIGTERM), or make it (SIGKILL).
pub fn stop_child(child: &mut Child, force: bool) -> io::Result<()> {
    if force {
        return child.kill();
    }
    let pid = i32::try_from(child.id())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: plain kill(2) to our own child, not yet reaped.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The shell's convention: the child's exit code, or 128 + the signal that
/// killed it.
pub fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return (code & 0xff) as u8;
    }
    match status.signal() {
        Some(sig) => 128u8.saturating_add((sig & 0x7f) as u8),
        None => 1,
    }
}

/// "exited with code 3", "was killed by signal 15 (SIGTERM)".
pub fn status_text(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(sig) => {
            let name = signal_name(sig)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            format!("was killed by signal {sig}{name}{core}")
        }
        None => "ended".to_string(),
    }
}

fn signal_name(sig: c_int) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits_without_allocating() {
        let mut out = [0xffu8; 21];
        write_decimal(&mut out, 0);
        assert_eq!(&out[..2], b"0\0");
        write_decimal(&mut out, 4_294_967_295);
        assert_eq!(&out[..11], b"4294967295\0");
        write_decimal(&mut out, u64::MAX);
        assert_eq!(&out[..21], b"18446744073709551615\0");
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        // wait(2) status words: code << 8, or the signal number.
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGINT)), 130);
        assert_eq!(
            status_text(ExitStatus::from_raw(libc::SIGKILL)),
            "was killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            status_text(ExitStatus::from_raw(7 << 8)),
            "exited with code 7"
        );
    }

    #[test]
    fn programs_are_found_like_execvp() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let plain = dir.path().join("data");
        std::fs::write(&plain, "x").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = std::env::join_paths([Path::new("/nonexistent-dir"), dir.path()]).unwrap();
        assert_eq!(
            resolve_program(OsStr::new("tool"), Some(&path)),
            Resolved::Found(exe.clone())
        );
        assert_eq!(
            resolve_program(OsStr::new("data"), Some(&path)),
            Resolved::NotExecutable(plain.clone())
        );
        assert_eq!(
            resolve_program(OsStr::new("no-such-tool"), Some(&path)),
            Resolved::NotFound
        );
        assert_eq!(resolve_program(exe.as_os_str(), None), Resolved::Found(exe));
        assert_eq!(
            resolve_program(dir.path().as_os_str(), None),
            Resolved::NotExecutable(dir.path().to_path_buf())
        );
    }
}
