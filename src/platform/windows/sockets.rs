//! windows: sockets (see platform/mod.rs).
