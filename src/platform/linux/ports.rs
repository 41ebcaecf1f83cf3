//! linux: ports (see platform/mod.rs).
