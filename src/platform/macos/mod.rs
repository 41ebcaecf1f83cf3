//! macos implementation of the platform layer (see `platform/mod.rs`).

// Same Unix file-mode rules as Linux; one copy of the code.
#[path = "../linux/fs.rs"]
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
