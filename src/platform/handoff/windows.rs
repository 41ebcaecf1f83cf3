//! Windows: no socket handoff; the child binds the port itself (`none`).
//!
//! A Winsock socket cannot be inherited at a descriptor number: a child
//! gets one only through WSADuplicateSocketW, whose WSAPROTOCOL_INFOW
//! blob the child must pass to WSASocketW itself (Microsoft docs,
//! "WSADuplicateSocketW function"). No common server reads such a blob,
//! so `systemd` and `fd` modes are refused with that reason.

use std::ffi::OsStr;
use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};

use socket2::Socket;

use super::{ChildSpec, Pass, Resolved};

pub const SOCKET_HANDOFF: Result<(), &str> = Err(
    "on Windows a listening socket cannot be passed to a program at a descriptor number \
     (only through WSADuplicateSocket, which servers do not accept), so only --fd-mode none \
     is available: the program binds the port itself",
);

/// Windows lets an SO_REUSEADDR bind take over a port in use, so a held
/// socket would not keep anyone out; the reservation is the TIME_WAIT
/// trick, whose effect on Windows is not verified.
pub fn held_bind_reserves() -> bool {
    false
}

/// The socket table lists no ids here.
pub fn socket_id(_s: &Socket) -> u64 {
    0
}

/// Windows searches PATH and PATHEXT itself when the child starts; a
/// program it cannot find is reported then.
pub fn resolve_program(program: &OsStr, _path: Option<&OsStr>) -> Resolved {
    Resolved::Found(PathBuf::from(program))
}

pub fn command(spec: &ChildSpec, pass: Option<Pass<'_>>) -> io::Result<Command> {
    if let (Some(_), Err(why)) = (pass, SOCKET_HANDOFF) {
        return Err(io::Error::new(io::ErrorKind::Unsupported, why));
    }
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    Ok(cmd)
}

/// Ctrl-C and Ctrl-Break reach every process attached to the console, the
/// child included, so there is nothing to forward: portwise only keeps
/// itself alive through them, to wait for the child and return its exit
/// code. (Microsoft docs, "SetConsoleCtrlHandler function" and "CTRL+C and
/// CTRL+BREAK Signals".) A handler routine, not `SetConsoleCtrlHandler(NULL,
/// TRUE)`: that one would be inherited by the child and make it ignore
/// Ctrl-C too.
pub fn install_signal_forwarding() -> io::Result<()> {
    unsafe extern "system" fn on_ctrl(kind: u32) -> windows_sys::core::BOOL {
        use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT};
        // TRUE: handled (portwise stays); FALSE: the default (exit) for
        // closing the console, logoff and shutdown.
        i32::from(kind == CTRL_C_EVENT || kind == CTRL_BREAK_EVENT)
    }
    // SAFETY: registers a handler with the documented signature.
    let ok =
        unsafe { windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(on_ctrl), 1) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn forward_signals_to(_pid: Option<u32>) {}

/// Windows has no SIGTERM: both ways end the process (TerminateProcess).
pub fn stop_child(child: &mut Child, _force: bool) -> io::Result<()> {
    child.kill()
}

/// The child's exit code, cut to the 8 bits an exit code carries
/// elsewhere; never 0 for a non-zero code.
pub fn exit_code(status: ExitStatus) -> u8 {
    match status.code() {
        Some(0) => 0,
        Some(c) => match (c & 0xff) as u8 {
            0 => 1,
            b => b,
        },
        None => 1,
    }
}

pub fn status_text(status: ExitStatus) -> String {
    match status.code() {
        Some(c) => format!("exited with code {c}"),
        None => "ended".to_string(),
    }
}
