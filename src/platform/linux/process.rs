//! linux: process (see platform/mod.rs).
