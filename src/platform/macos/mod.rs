//! macos implementation of the platform layer (see `platform/mod.rs`).

// Same Unix file-mode rules as Linux; one copy of the code.
#[path = "../linux/fs.rs"]
pub mod fs;
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;
