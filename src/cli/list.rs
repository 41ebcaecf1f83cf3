//! `portwise list` (not yet built: see its issue).

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct ListArgs {}

pub fn run(_args: ListArgs) -> CliResult {
    Err(CliError::Failed("'list' is not built yet".into()))
}
