//! linux: sockets (see platform/mod.rs).
