//! portwise: see what holds your ports, why `bind()` fails, and how to fix it.
//!
//! The engine (`sockets`, `ports`, `bind`, `stop`, `tuning`, `handoff`,
//! `platform`, `util`) never imports egui; `cli` and the window (`app`, `state`, `ui`)
//! are thin front ends over it.

pub mod bind;
pub mod handoff;
pub mod ports;
pub mod sockets;
pub mod stop;
pub mod tuning;

pub mod platform;
pub mod util;

pub mod cli;

pub mod app;
pub mod sampler;
pub mod state;
pub mod ui;
