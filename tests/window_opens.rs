//! The real window opens: `portwise` with no command starts eframe and
//! keeps running. On Windows (run under Wine in CI, on the Xvfb display
//! .ci/run gives it) the test also finds the top-level window titled
//! "portwise" with FindWindowW. Where there is no display to open a window
//! on, it says SKIPPED.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Kid;

/// Whether a window can be opened here at all.
fn display_missing() -> Option<&'static str> {
    let x11_or_wayland =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if cfg!(windows) {
        // Wine draws through X11: it needs a display; real Windows has a
        // desktop.
        (under_wine() && !x11_or_wayland).then_some("Wine without a DISPLAY (run it under Xvfb)")
    } else if cfg!(target_os = "macos") {
        None
    } else {
        (!x11_or_wayland).then_some("no DISPLAY or WAYLAND_DISPLAY (run it under Xvfb)")
    }
}

#[cfg(windows)]
fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    // Wine's ntdll exports wine_get_version; Windows' does not.
    // SAFETY: both strings are NUL-terminated; ntdll is always loaded.
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

#[cfg(not(windows))]
fn under_wine() -> bool {
    false
}

/// A top-level window titled "portwise" exists (Windows only; elsewhere
/// the process staying up is what is checked).
#[cfg(windows)]
fn window_found() -> bool {
    use windows_sys::Win32::UI::WindowsAndMessaging::FindWindowW;
    let title: Vec<u16> = "portwise".encode_utf16().chain([0]).collect();
    // SAFETY: `title` is a NUL-terminated UTF-16 string; a null class name
    // matches any class.
    !unsafe { FindWindowW(std::ptr::null(), title.as_ptr()) }.is_null()
}

#[cfg(not(windows))]
fn window_found() -> bool {
    true
}

#[test]
fn the_window_opens_and_keeps_running() {
    if let Some(why) = display_missing() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let mut kid = Kid(Command::new(env!("CARGO_BIN_EXE_portwise"))
        // Settings go to a throwaway place (XDG on Linux).
        .env("XDG_DATA_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap());
    let start = Instant::now();
    let deadline = Duration::from_secs(40);
    let mut seen_at = None;
    while start.elapsed() < deadline {
        if let Some(status) = kid.0.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = kid.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("the window exited with {status}: {err}");
        }
        if seen_at.is_none() && window_found() {
            seen_at = Some(Instant::now());
        }
        // Up and drawing for 3 s after the window appeared.
        if seen_at.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no window titled portwise within {deadline:?}");
}
