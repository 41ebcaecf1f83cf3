//! The window: an eframe app over the same engine as the CLI.
//!
//! - [`app`]: the `eframe::App`; drains the sampler and the background
//!   tasks, routes messages, and is the only code that opens file dialogs
//!   or touches the clipboard.
//! - [`shell`]: navigation, refresh controls, status bar, toasts, the path
//!   prompt and shortcuts, and the routing of every message to its feature.
//! - [`tasks`]: named background work whose result comes back as a message.
//! - [`ctx`] and [`widgets`]: leaves every feature may use (what a feature
//!   reads or asks for; shared drawing).
//! - One folder per view: [`sockets`], [`free_port`], [`bind_test`],
//!   [`tuning`], and the [`stop`] confirmation. Each has `mod.rs` (state,
//!   messages, update; no egui) and `view.rs` (drawing).

pub mod app;
pub mod ctx;
pub mod sampler;
pub mod services;
pub mod shell;
pub mod tasks;
pub mod widgets;

pub mod bind_test;
pub mod fleet;
pub mod free_port;
pub mod hosts;
pub mod sockets;
pub mod stop;
pub mod tuning;

pub use app::{PortwiseApp, run};
