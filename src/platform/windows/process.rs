//! windows: privileges and process identity.

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::Security::{
    GetTokenInformation, TOKEN_ELEVATION, TOKEN_QUERY, TokenElevation,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// True when this process runs elevated (an Administrator token with UAC
/// elevation): asks the process token for `TokenElevation`
/// (learn.microsoft.com, "TOKEN_ELEVATION structure"). Any failure of the
/// query answers `false`: portwise then reports less, never more.
pub fn is_elevated() -> bool {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no
    // closing; `token` is a valid out-pointer.
    let opened = unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) };
    if opened == 0 {
        return false;
    }
    let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
    let mut returned: u32 = 0;
    let size = std::mem::size_of::<TOKEN_ELEVATION>() as u32;
    // SAFETY: `token` is an open token handle with TOKEN_QUERY access; the
    // buffer is a TOKEN_ELEVATION of exactly `size` bytes.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenElevation,
            (&mut elevation as *mut TOKEN_ELEVATION).cast(),
            size,
            &mut returned,
        )
    };
    // SAFETY: `token` was opened above and is closed exactly once.
    unsafe { CloseHandle(token) };
    ok != 0 && elevation.TokenIsElevated != 0
}

/// Windows identifies users by SID, not by a number: `None`.
pub fn current_uid() -> Option<u32> {
    None
}

use windows_sys::Win32::Foundation::{
    ERROR_INVALID_PARAMETER, FILETIME, GetLastError, STILL_ACTIVE,
};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, GetProcessTimes, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_TERMINATE, TerminateProcess,
};

use crate::platform::process_identity::{Liveness, Pins, Sent, SignalError};

/// Handles opened at plan time ([`identify`]), used by [`signal_exact`].
static PINS: Pins<Handle> = Pins::new();

/// A process handle, closed on drop. HANDLE is a pointer, but a process
/// handle may be used and closed from any thread.
// SAFETY: process handles are not tied to the thread that opened them
// (learn.microsoft.com, "Handles and Objects"; any thread may close one).
unsafe impl Send for Handle {}

/// A process handle, closed on drop. While it is open, the process object
/// (and so its pid) cannot be reused: the handle always means this process.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle from OpenProcess, closed exactly once.
        unsafe { CloseHandle(self.0) };
    }
}

/// Open `pid` with `access`; the error is the OS's (ERROR_INVALID_PARAMETER
/// for a pid that does not exist, learn.microsoft.com "OpenProcess").
fn open(pid: u32, access: u32) -> Result<Handle, std::io::Error> {
    // SAFETY: OpenProcess takes plain values and returns a handle or null.
    let h = unsafe { OpenProcess(access, 0, pid) };
    if h.is_null() {
        // SAFETY: GetLastError has no preconditions.
        let code = unsafe { GetLastError() };
        return Err(std::io::Error::from_raw_os_error(code as i32));
    }
    Ok(Handle(h))
}

/// The creation FILETIME (100 ns since 1601) of a running process, or
/// `None` when it has exited (its exit code is no longer STILL_ACTIVE).
fn running_since(h: &Handle) -> Option<u64> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: a valid process handle with query rights; four FILETIME
    // out-pointers (learn.microsoft.com "GetProcessTimes").
    let ok = unsafe { GetProcessTimes(h.0, &mut created, &mut exited, &mut kernel, &mut user) };
    let mut code: u32 = 0;
    // SAFETY: a valid process handle; `code` is a valid out-pointer.
    let alive = unsafe { GetExitCodeProcess(h.0, &mut code) } != 0 && code == STILL_ACTIVE as u32;
    (ok != 0 && alive)
        .then(|| (u64::from(created.dwHighDateTime) << 32) | u64::from(created.dwLowDateTime))
}

/// What `pid` is now: running (with its creation FILETIME) or gone. Windows
/// has no zombies (an exited process's pid is not in use by it) and no
/// kernel threads with pids of their own.
pub fn liveness(pid: u32) -> Liveness {
    match open(pid, PROCESS_QUERY_LIMITED_INFORMATION) {
        Ok(h) => match running_since(&h) {
            Some(start) => Liveness::Running { start },
            None => Liveness::Gone,
        },
        Err(_) => Liveness::Gone,
    }
}

/// [`liveness`], for a stop being planned: a running process is also kept
/// open by a handle until [`signal_exact`] uses it. While a handle is open
/// the process object lives on, so its pid cannot be given to another
/// process (learn.microsoft.com, "Process Handles and Identifiers").
pub fn identify(pid: u32) -> Liveness {
    let Ok(h) = open(pid, PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION) else {
        return liveness(pid);
    };
    match running_since(&h) {
        Some(start) => {
            PINS.pin(pid, start, h);
            Liveness::Running { start }
        }
        None => Liveness::Gone,
    }
}

/// Terminate `pid` only if it is still the process created at `start`:
/// through the handle kept since the plan ([`identify`]), or one opened
/// now; its creation time is checked and the same handle terminated, so the
/// check and the termination are about one process. Windows has no polite
/// signal for another process: always `Killed`.
pub fn signal_exact(pid: u32, start: u64, _force: bool) -> Result<Sent, SignalError> {
    let h = match PINS.take(pid, start) {
        Some(h) => h,
        None => match open(pid, PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION) {
            Ok(h) => h,
            Err(e) if e.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => {
                return Err(SignalError::Gone);
            }
            Err(e) => return Err(SignalError::Io(e)),
        },
    };
    match running_since(&h) {
        Some(now) if now == start => {}
        Some(_) => return Err(SignalError::Reused),
        None => return Err(SignalError::Gone),
    }
    // SAFETY: a valid handle with PROCESS_TERMINATE access.
    if unsafe { TerminateProcess(h.0, 1) } != 0 {
        Ok(Sent::Killed)
    } else {
        Err(SignalError::Io(std::io::Error::last_os_error()))
    }
}
