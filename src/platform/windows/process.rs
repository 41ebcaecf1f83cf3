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
