//! `portwise agent`: answer requests from another machine's portwise,
//! newline-delimited JSON on stdin/stdout (ssh starts it; see
//! crate::remote::protocol). It ends when stdin closes.

use std::process::ExitCode;

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct AgentArgs {}

pub fn run(_: AgentArgs) -> CliResult {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Failed(format!("cannot find this program: {e}")))?;
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    crate::remote::agent::serve(stdin, stdout, &exe)
        .map_err(|e| CliError::Failed(format!("agent: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
