//! macos: process (see platform/mod.rs).
