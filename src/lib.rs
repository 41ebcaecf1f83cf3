//! portwise: see what holds your ports, why `bind()` fails, and how to fix it.
//!
//! The engine (`sockets`, `ports`, `bind`, `stop`, `tuning`, `handoff`,
//! `platform`, `util`) never imports egui; `cli` and the `window`
//! are thin front ends over it.

pub mod bind;
pub mod handoff;
pub mod ports;
pub mod sockets;
pub mod stop;
pub mod tuning;

pub mod notify;
pub mod platform;
pub mod remote;
pub mod util;

pub mod cli;

pub mod fixtures;

pub mod window;
