//! linux implementation of the platform layer (see `platform/mod.rs`).

pub mod fdscan;
pub mod fs;
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;
