//! Port ranges and their set operations. The type lives at the bottom of
//! the crate, in `platform::range` (the platform layer reports ranges and
//! must not import the engine); it is re-exported here so the engine keeps
//! calling it `ports::range`.

pub use crate::platform::range::*;
