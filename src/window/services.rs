//! What the window talks to outside itself, each behind a small trait so
//! tests can supply their own: file dialogs, the clipboard, the socket
//! source, stopping processes, the sysctls, the clock.

use std::path::PathBuf;
use std::sync::Arc;

use crate::sockets::SocketSource;
use crate::stop::{EngineStop, StopService};
use crate::tuning::LiveSystem;
use crate::window::tasks::Runner;

pub use crate::window::ctx::SharedSysctls;

/// One entry of a file dialog's type list: a name and its extensions
/// (without dots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFilter {
    pub name: String,
    pub extensions: Vec<String>,
}

impl FileFilter {
    pub fn new(name: &str, extensions: &[&str]) -> FileFilter {
        FileFilter {
            name: name.into(),
            extensions: extensions.iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// What a save dialog should offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveRequest {
    pub title: String,
    pub file_name: String,
    pub filters: Vec<FileFilter>,
}

/// What an open dialog should offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequest {
    pub title: String,
    pub filters: Vec<FileFilter>,
}

/// File dialogs. `None` means the user cancelled.
pub trait FileDialogs {
    fn save_file(&mut self, req: &SaveRequest) -> Option<PathBuf>;
    fn open_file(&mut self, req: &OpenRequest) -> Option<PathBuf>;
}

/// The native dialogs (rfd).
pub struct RfdDialogs;

impl FileDialogs for RfdDialogs {
    fn save_file(&mut self, req: &SaveRequest) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new()
            .set_title(&req.title)
            .set_file_name(&req.file_name);
        for f in &req.filters {
            d = d.add_filter(&f.name, &f.extensions);
        }
        d.save_file()
    }

    fn open_file(&mut self, req: &OpenRequest) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new().set_title(&req.title);
        for f in &req.filters {
            d = d.add_filter(&f.name, &f.extensions);
        }
        d.pick_file()
    }
}

/// The clipboard.
pub trait Clipboard {
    fn copy(&mut self, ctx: &egui::Context, text: String);
}

/// The system clipboard, through egui (`ctx.copy_text`).
pub struct EguiClipboard;

impl Clipboard for EguiClipboard {
    fn copy(&mut self, ctx: &egui::Context, text: String) {
        ctx.copy_text(text);
    }
}

/// Milliseconds since the Unix epoch.
pub type Clock = Box<dyn Fn() -> u64>;

/// Everything the app talks to.
pub struct Services {
    pub source: Box<dyn SocketSource>,
    pub dialogs: Box<dyn FileDialogs>,
    pub clipboard: Box<dyn Clipboard>,
    pub stop: Box<dyn StopService>,
    pub clock: Clock,
    pub sysctls: SharedSysctls,
    /// Start with sampling paused (tests drive refreshes by hand).
    pub start_paused: bool,
    /// How background work and the sampler run: `Threads` in the window;
    /// `Inline` in UI tests (a refresh or a task finishes before the
    /// call returns, so tests never wait).
    pub runner: Runner,
}

impl Services {
    /// The real machine.
    pub fn system() -> Services {
        Services {
            source: Box::new(crate::sockets::SystemSource::new()),
            dialogs: Box::new(RfdDialogs),
            clipboard: Box::new(EguiClipboard),
            stop: Box::new(EngineStop::system()),
            clock: Box::new(crate::util::time::now_unix_ms),
            sysctls: Arc::new(LiveSystem),
            start_paused: false,
            runner: Runner::Threads,
        }
    }
}
