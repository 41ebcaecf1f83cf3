//! windows: process (see platform/mod.rs).
