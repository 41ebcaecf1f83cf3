//! The command-line front end: thin wrappers over the engine.
//!
//! Each subcommand lives in its own file with its own `clap::Args` and a
//! `run` function. Exit codes: 0 success, 1 a real failure (nothing bound,
//! nothing to stop, findings), 2 bad usage (clap's own errors exit 2 too).

pub mod args;
pub mod bind_test;
pub mod free;
pub mod list;
pub mod stop;
pub mod tuning;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::sockets::{Snapshot, SocketSource, SourceError};
use crate::util::text::{escape_control, escape_control_keep_lines};

/// See what holds your ports, why bind() fails, and how to fix it.
///
/// With no command, opens the portwise window.
#[derive(Debug, Parser)]
#[command(name = "portwise", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List listening, bound and TIME_WAIT sockets with their processes.
    List(list::ListArgs),
    /// Print free port(s), outside the OS's ephemeral range by default.
    Free(free::FreeArgs),
    /// Try to bind a port and explain why it fails.
    BindTest(bind_test::BindTestArgs),
    /// Stop the process(es) holding a port, safely.
    Stop(stop::StopArgs),
    /// Explain, show, export and audit the kernel tunables for ports.
    #[command(subcommand)]
    Tuning(tuning::TuningCommand),
}

/// Why a command did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// Bad usage: exit 2.
    Usage(String),
    /// The command ran but failed: exit 1.
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

/// Result of a subcommand: the exit code to return on success paths (0, or 1
/// for "ran fine, but the answer is no"), or an error to print.
pub type CliResult = Result<ExitCode, CliError>;

/// Run one subcommand and turn its result into an exit code.
pub fn run(command: Command) -> ExitCode {
    let result = match command {
        Command::List(a) => list::run(a),
        Command::Free(a) => free::run(a),
        Command::BindTest(a) => bind_test::run(a),
        Command::Stop(a) => stop::run(a),
        Command::Tuning(c) => tuning::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let msg = match &e {
                CliError::Usage(m) | CliError::Failed(m) => m,
            };
            // Values inside the message are escaped where they are quoted;
            // this catches any the message quotes raw.
            eprintln!("portwise: {}", escape_control_keep_lines(msg));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Write text to stdout. A closed pipe (`portwise list | head`) is not an
/// error worth a panic: the reader has what it wanted.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Failed(format!("cannot write to stdout: {e}"))),
    }
}

/// A socket source whose snapshots are ready for a terminal: every text
/// field from the system (process names, users, executables, last known
/// owners, the unattributed reason) has its control characters escaped
/// ([`escape_control`]). Texts built from them (a bind-test explanation,
/// a stop plan) are then safe to print as a whole. JSON output uses the
/// plain source: it keeps the exact strings.
pub struct EscapedSource<S>(pub S);

impl<S: SocketSource> SocketSource for EscapedSource<S> {
    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let mut snap = self.0.snapshot()?;
        escape_snapshot(&mut snap);
        Ok(snap)
    }
}

/// Escape every text field of `snap` for a terminal (see [`EscapedSource`]).
pub fn escape_snapshot(snap: &mut Snapshot) {
    for s in &mut snap.sockets {
        for p in &mut s.processes {
            escape_in_place(&mut p.name);
            if let Some(u) = &mut p.user {
                escape_in_place(u);
            }
            if let Some(e) = &mut p.exe {
                escape_in_place(e);
            }
        }
        if let Some(o) = &mut s.last_known_owner {
            escape_in_place(&mut o.name);
        }
    }
    if let Some(r) = &mut snap.unattributed_reason {
        escape_in_place(r);
    }
}

/// Replace `s` by its escaped form when it has anything to escape.
pub fn escape_in_place(s: &mut String) {
    if let std::borrow::Cow::Owned(e) = escape_control(s) {
        *s = e;
    }
}
