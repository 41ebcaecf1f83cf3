//! The command-line front end: thin wrappers over the engine.
//!
//! Each subcommand lives in its own file with its own `clap::Args` and a
//! `run` function. Exit codes: 0 success, 1 a real failure (nothing bound,
//! nothing to stop, findings), 2 bad usage (clap's own errors exit 2 too).

pub mod agent;
pub mod args;
pub mod bind_test;
pub mod free;
pub mod list;
pub mod remote;
pub mod run;
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
    /// Run a program with a free port, handed over without a race.
    Run(run::RunArgs),
    /// Explain, show, export and audit the kernel tunables for ports.
    #[command(subcommand)]
    Tuning(tuning::TuningCommand),
    /// Answer another machine's portwise over stdin/stdout (newline-delimited
    /// JSON; `--host` starts it through ssh). Not for interactive use.
    Agent(agent::AgentArgs),
}

/// Parse the command line. `Err` carries the exit code after help or the
/// version was printed (0), or after a usage error (2) was printed like
/// portwise's own: `portwise: <the whole message>` on the first line, then
/// clap's tip and usage as help below it.
pub fn parse() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    // macOS's Finder may start an app bundle with a "-psn_<n>_<n>" process
    // serial number (older systems; the first launch of a quarantined app on
    // newer ones). portwise has no such option: drop it, so the window opens.
    let args: Vec<std::ffi::OsString> = std::env::args_os()
        .filter(|a| !a.to_string_lossy().starts_with("-psn_"))
        .collect();
    Cli::try_parse_from(&args).map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
        _ => {
            eprint!("{}", usage_error_text(&e, &args));
            ExitCode::from(2)
        }
    })
}

/// A clap usage error as portwise prints it: clap's message (which may span
/// lines, "the following required arguments were not provided:\n  --goal")
/// joined into the first line, then the rest of clap's text. An invalid
/// UTF-8 argument is named (clap only says "one or more arguments").
pub fn usage_error_text(e: &clap::Error, args: &[std::ffi::OsString]) -> String {
    let rendered = e.render().to_string();
    let rendered = rendered.trim_end();
    let (first, rest) = match rendered.split_once("\n\n") {
        Some((f, r)) => (f, Some(r)),
        None => (rendered, None),
    };
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let message = if e.kind() == clap::error::ErrorKind::InvalidUtf8 {
        name_non_utf8(args)
    } else {
        first
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = format!("portwise: {}\n", escape_control(&message));
    if let Some(rest) = rest {
        out.push('\n');
        out.push_str(&escape_control_keep_lines(rest));
        out.push('\n');
    }
    out
}

/// "invalid UTF-8 in the value of --port: '\xff'": which argument is not
/// UTF-8, found by walking the arguments as clap does (subcommands, options
/// that take a value, positionals).
fn name_non_utf8(args: &[std::ffi::OsString]) -> String {
    use clap::CommandFactory;
    let mut root = Cli::command();
    root.build();
    let mut cmd = &root;
    let mut value_of: Option<String> = None;
    let mut positional = 0usize;
    for a in args.iter().skip(1) {
        let Some(s) = a.to_str() else {
            let bytes = a.as_encoded_bytes();
            let what = if let Some(opt) = value_of {
                format!("the value of {opt}")
            } else if bytes.starts_with(b"-")
                && let Some(eq) = bytes.iter().position(|&b| b == b'=')
            {
                return format!(
                    "invalid UTF-8 in the value of {}: '{}' (expected text)",
                    show_bytes(&bytes[..eq]),
                    show_bytes(&bytes[eq + 1..])
                );
            } else {
                match cmd.get_positionals().nth(positional) {
                    Some(p) => p
                        .get_value_names()
                        .and_then(|v| v.first())
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| p.get_id().to_string().to_uppercase()),
                    None => "an argument".to_string(),
                }
            };
            return format!(
                "invalid UTF-8 in {what}: '{}' (expected text)",
                show_bytes(bytes)
            );
        };
        if value_of.take().is_some() {
            continue;
        }
        if let Some(sub) = cmd.find_subcommand(s) {
            cmd = sub;
            positional = 0;
            continue;
        }
        let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
        if let Some(long) = s.strip_prefix("--") {
            if !long.contains('=')
                && cmd
                    .get_arguments()
                    .any(|arg| arg.get_long() == Some(long) && takes_value(arg))
            {
                value_of = Some(s.to_string());
            }
        } else if let Some(short) = s.strip_prefix('-').and_then(|r| r.chars().next()) {
            if s.chars().count() == 2
                && cmd
                    .get_arguments()
                    .any(|arg| arg.get_short() == Some(short) && takes_value(arg))
            {
                value_of = Some(s.to_string());
            }
        } else {
            positional += 1;
        }
    }
    "invalid UTF-8 in an argument (expected text)".to_string()
}

/// Bytes as text, each byte that is not UTF-8 as `\xNN`, control
/// characters escaped.
fn show_bytes(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_control(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
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
        Command::Run(a) => run::run(a),
        Command::Tuning(c) => tuning::run(c),
        Command::Agent(a) => agent::run(a),
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
            for a in p.cmdline.iter_mut().flatten() {
                escape_in_place(a);
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
