//! Network namespaces are a Linux feature: on this OS there is one network
//! stack, so there is nothing to find or enter (same API as
//! `linux/netns.rs`).

use std::net::IpAddr;

use crate::sockets::raw::{NetnsDiscovery, NetnsInfo};

pub const NAMED_DIR: &str = "/run/netns";

const LINUX_ONLY: &str = "network namespaces exist only on Linux";

pub fn own_inode() -> Option<u64> {
    None
}

pub fn of_pid(_pid: u32) -> Result<u64, String> {
    Err(LINUX_ONLY.into())
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/')
}

pub fn discover() -> NetnsDiscovery {
    NetnsDiscovery::default()
}

pub fn run_in<R: Send>(_ns: &NetnsInfo, _work: impl FnOnce() -> R + Send) -> Result<R, String> {
    Err(LINUX_ONLY.into())
}

pub fn addresses() -> Result<Vec<IpAddr>, String> {
    Err(LINUX_ONLY.into())
}
