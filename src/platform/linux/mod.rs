//! linux implementation of the platform layer (see `platform/mod.rs`).

pub mod container;
pub mod fs;
pub mod netns;
pub mod ports;
pub mod process;
pub mod sockets;
pub mod sysctl;
