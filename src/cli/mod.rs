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
            eprintln!("portwise: {msg}");
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
