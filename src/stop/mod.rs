//! stop engine (see its issue).
