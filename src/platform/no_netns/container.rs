//! Container attribution reads Linux cgroups; on this OS no process is
//! attributed to a container (same API as `linux/container.rs`).

use std::collections::HashMap;

use crate::sockets::model::Container;

pub fn of_pid(_pid: u32) -> Option<Container> {
    None
}

pub fn names(_runtime: &str, _ids: &[String]) -> (HashMap<String, String>, Option<String>) {
    (HashMap::new(), None)
}

pub fn cmdline(_pid: u32) -> Option<Vec<String>> {
    None
}

pub fn pipe_inodes(_pid: u32) -> Vec<u64> {
    Vec::new()
}

pub fn pipe_peers(_pipes: &[u64], _comm: &str, _except: u32) -> Vec<u32> {
    Vec::new()
}

pub fn fd_pipe(_pid: u32, _fd: u32) -> Option<u64> {
    None
}
