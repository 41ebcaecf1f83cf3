//! windows: ports (see platform/mod.rs).
