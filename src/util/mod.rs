//! Small helpers shared by the engine and the front ends.

pub mod fs;
pub mod parse;
pub mod text;
pub mod time;
