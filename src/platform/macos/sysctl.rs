//! macos: read kernel tunables with `sysctl -n`.

/// The current value of a sysctl key, whitespace folded; `None` when the key
/// does not exist or `sysctl` cannot run.
pub fn read(key: &str) -> Option<String> {
    let out = std::process::Command::new("/usr/sbin/sysctl")
        .arg("-n")
        .arg(key)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Whether this kernel has the key (`sysctl -n` succeeds for it).
pub fn exists(key: &str) -> bool {
    read(key).is_some()
}
