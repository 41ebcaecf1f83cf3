//! windows implementation of the platform layer (see `platform/mod.rs`).

pub mod fs;
// Network namespaces and cgroups are Linux-only: one shared "none" copy.
#[path = "../no_netns/container.rs"]
pub mod container;
#[path = "../no_netns/netns.rs"]
pub mod netns;
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;

use std::os::windows::process::CommandExt;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// CREATE_NO_WINDOW: no console flashes up when the window app runs netsh.
const CREATE_NO_WINDOW: u32 = 0x0800_0000;

/// How long a command's output is reused: `bind-test --wait` and the
/// window's "Watch until free" re-test every second, and each netsh run
/// costs tens of milliseconds.
const CACHE_FOR: Duration = Duration::from_secs(10);

type Cached = (String, Instant, Option<String>);

/// Runs `program args` (no console window), reusing an output younger than
/// [`CACHE_FOR`]. `None` when it cannot run or fails.
pub(crate) fn run(program: &str, args: &[&str]) -> Option<String> {
    static CACHE: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
    let key = format!("{program} {}", args.join(" "));
    if let Ok(cache) = CACHE.lock()
        && let Some((_, _, out)) = cache
            .iter()
            .find(|(k, at, _)| *k == key && at.elapsed() < CACHE_FOR)
    {
        return out.clone();
    }
    let out = Command::new(program)
        .args(args)
        .creation_flags(CREATE_NO_WINDOW)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if let Ok(mut cache) = CACHE.lock() {
        cache.retain(|(k, at, _)| *k != key && at.elapsed() < CACHE_FOR);
        cache.push((key, Instant::now(), out.clone()));
    }
    out
}
