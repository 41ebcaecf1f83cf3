//! linux: read kernel tunables from /proc/sys.

use std::path::PathBuf;

/// The /proc/sys path of a sysctl key, as sysctl.d(5) (man7) maps it: "either
/// / or . may be used as separators ... If the first separator is a slash,
/// remaining slashes and dots are left intact. If the first separator is a
/// dot, dots and slashes are interchanged." So `net.ipv4.tcp_tw_reuse` ->
/// `/proc/sys/net/ipv4/tcp_tw_reuse`, and `net.ipv4.conf.eth0/100.forwarding`
/// -> `/proc/sys/net/ipv4/conf/eth0.100/forwarding`.
pub fn proc_path(key: &str) -> PathBuf {
    let first_sep = key.find(['.', '/']).map(|i| &key[i..i + 1]);
    let rel: String = if first_sep == Some("/") {
        key.to_string()
    } else {
        key.chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect()
    };
    PathBuf::from("/proc/sys").join(rel.trim_start_matches('/'))
}

/// The current value of a sysctl key as the kernel prints it, with runs of
/// whitespace (tabs, newlines) folded to one space. `None` when this kernel
/// has no such key or it cannot be read.
pub fn read(key: &str) -> Option<String> {
    if key.contains("..") {
        return None;
    }
    let raw = std::fs::read_to_string(proc_path(key)).ok()?;
    Some(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Whether this kernel (in this network namespace) has the key, readable or not.
pub fn exists(key: &str) -> bool {
    !key.is_empty() && !key.contains("..") && proc_path(key).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_sysctl_d() {
        assert_eq!(
            proc_path("net.ipv4.tcp_tw_reuse"),
            PathBuf::from("/proc/sys/net/ipv4/tcp_tw_reuse")
        );
        assert_eq!(
            proc_path("net/ipv4/conf/eth0.100/forwarding"),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0.100/forwarding")
        );
        assert_eq!(
            proc_path("net.ipv4.conf.eth0/100.forwarding"),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0.100/forwarding")
        );
    }

    #[test]
    fn reads_real_keys_and_rejects_missing_ones() {
        // Present on every Linux that has /proc mounted.
        let v = read("kernel.ostype").unwrap_or_default();
        assert_eq!(v, "Linux");
        assert!(exists("kernel.ostype"));
        assert!(!exists("net.ipv4.no_such_key_portwise"));
        assert_eq!(read("net.ipv4.no_such_key_portwise"), None);
        assert!(!exists("net"), "a directory is not a key");
        assert!(!exists("net.ipv4.....etc.passwd"));
    }
}
