//! ports engine (see its issue).
