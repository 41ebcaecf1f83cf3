//! Compile the macOS and Windows sysctl readers on this host too, so their
//! parsers' tests run here and their code is at least type-checked on Linux
//! (macOS cannot be cross-compiled on this machine). Only in test builds;
//! the real modules are `crate::platform::os::sysctl` on each OS. On macOS
//! or Windows the same file is then loaded twice, which is harmless here.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../platform/macos/sysctl.rs"]
mod macos_sysctl;

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../platform/windows/sysctl.rs"]
mod windows_sysctl;

use super::{Os, knowledge};

#[test]
fn windows_reader_knows_every_windows_key() {
    let mut kb: Vec<&str> = knowledge::tunables_for(Os::Windows)
        .map(|t| t.key)
        .collect();
    let mut reader = windows_sysctl::KEYS.to_vec();
    kb.sort_unstable();
    reader.sort_unstable();
    assert_eq!(kb, reader);
    assert_eq!(windows_sysctl::read("net.ipv4.tcp_tw_reuse"), None);
}

#[test]
fn windows_excluded_list_parses_as_a_port_list() {
    let r = windows_sysctl::parse_excluded_ranges("  5357 5357\n 50000 50059 *\n");
    let text = windows_sysctl::format_excluded(&r);
    let list = super::PortList::parse(&text).unwrap_or_default();
    assert_eq!(list.to_list_string(), "5357,50000-50059");
}
