//! One desktop notification, the way each OS shows them. Blocking (a
//! D-Bus round trip, a WinRT call, a child process): call it off the UI
//! thread (`crate::notify::Desktop` does).
//!
//! - Linux and the BSDs: the freedesktop.org Desktop Notifications
//!   Specification (`org.freedesktop.Notifications.Notify` on the session
//!   bus), through notify-rust (zbus). The app name is `portwise`, the
//!   icon the `portwise` icon theme name the packages install, so the
//!   notification server matches them to the window (app id `portwise`).
//! - Windows: notify-rust's WinRT toast.
//! - macOS: `osascript` and AppleScript's `display notification`
//!   (StandardAdditions), which posts to Notification Center. notify-rust's
//!   macOS backend is not used: its build script compiles Objective-C
//!   against the macOS SDK, which the Linux cross type-check does not have.

/// The application name notifications carry.
pub const APP_NAME: &str = "portwise";

/// Shows one notification; `Err` says why it could not (no session bus,
/// no notification server, ...).
pub fn show(summary: &str, body: &str) -> Result<(), String> {
    #[cfg(not(target_os = "macos"))]
    {
        let mut n = notify_rust::Notification::new();
        n.appname(APP_NAME).summary(summary).body(body);
        #[cfg(not(target_os = "windows"))]
        n.icon(APP_NAME);
        n.show().map(|_| ()).map_err(|e| e.to_string())
    }
    #[cfg(target_os = "macos")]
    {
        // The texts go in as arguments, never into the script's source.
        let out = std::process::Command::new("osascript")
            .args([
                "-e",
                "on run argv",
                "-e",
                "display notification (item 2 of argv) with title \"portwise\" subtitle (item 1 of argv)",
                "-e",
                "end run",
                summary,
                body,
            ])
            .output()
            .map_err(|e| format!("cannot run osascript: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}
