//! `portwise tuning` (not yet built: see its issue).

use super::{CliError, CliResult};

#[derive(Debug, clap::Subcommand)]
pub enum TuningCommand {
    /// Show current values of the tunables beside their defaults.
    Show,
}

pub fn run(_cmd: TuningCommand) -> CliResult {
    Err(CliError::Failed("'tuning' is not built yet".into()))
}
