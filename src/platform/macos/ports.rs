//! macos: ports (see platform/mod.rs).
