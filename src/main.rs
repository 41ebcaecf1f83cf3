use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match portwise::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli.command {
        None => portwise::window::run(),
        Some(command) => portwise::cli::run(command),
    }
}
