//! linux: read kernel tunables from /proc/sys.

use std::path::PathBuf;

/// The /proc/sys path of a dotted sysctl key (`net.ipv4.tcp_tw_reuse` ->
/// `/proc/sys/net/ipv4/tcp_tw_reuse`).
pub fn proc_path(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

/// The current value of a sysctl key as the kernel prints it, with runs of
/// whitespace (tabs, newlines) folded to one space. `None` when this kernel
/// has no such key or it cannot be read.
pub fn read(key: &str) -> Option<String> {
    let raw = std::fs::read_to_string(proc_path(key)).ok()?;
    Some(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}
