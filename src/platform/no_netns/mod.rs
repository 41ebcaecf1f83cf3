//! Network namespaces and cgroups are Linux-only: the "none" answers that
//! macOS and Windows give, one copy for both.

pub mod container;
pub mod netns;
