//! macos: sockets (see platform/mod.rs).
