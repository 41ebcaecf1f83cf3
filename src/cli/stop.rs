//! `portwise stop` (not yet built: see its issue).

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct StopArgs {}

pub fn run(_args: StopArgs) -> CliResult {
    Err(CliError::Failed("'stop' is not built yet".into()))
}
