//! bind engine (see its issue).
