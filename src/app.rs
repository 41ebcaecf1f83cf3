//! The eframe application (placeholder until the window issue).

use std::process::ExitCode;

pub fn run() -> ExitCode {
    let options = eframe::NativeOptions::default();
    let result = eframe::run_ui_native("portwise", options, |ui, _frame| {
        ui.heading("portwise");
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portwise: cannot open the window: {e}");
            ExitCode::from(1)
        }
    }
}
