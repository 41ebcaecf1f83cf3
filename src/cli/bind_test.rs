//! `portwise bind-test` (not yet built: see its issue).

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct BindTestArgs {}

pub fn run(_args: BindTestArgs) -> CliResult {
    Err(CliError::Failed("'bind-test' is not built yet".into()))
}
