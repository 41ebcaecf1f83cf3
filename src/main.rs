use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = portwise::cli::Cli::parse();
    match cli.command {
        None => portwise::window::run(),
        Some(command) => portwise::cli::run(command),
    }
}
