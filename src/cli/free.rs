//! `portwise free` (not yet built: see its issue).

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct FreeArgs {}

pub fn run(_args: FreeArgs) -> CliResult {
    Err(CliError::Failed("'free' is not built yet".into()))
}
