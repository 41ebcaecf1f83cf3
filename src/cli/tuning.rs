//! `portwise tuning show | export | audit`: the kernel tuning guide on the
//! command line. All knowledge and logic is in `crate::tuning`; this file
//! parses arguments, prints, and writes files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::{CliError, CliResult, emit};
use crate::tuning::{
    self, ExportRequest, Finding, Goal, LiveSystem, Os, PlanError, PortList, SettingRow,
    snippet::wrap,
};
use crate::util::fs::{Overwrite, write_atomic};
use crate::util::text::escape_control;

#[derive(Debug, clap::Subcommand)]
pub enum TuningCommand {
    /// Show the current values of the port and TIME_WAIT tunables beside
    /// their defaults, with what each one does.
    Show(ShowArgs),
    /// Write the settings for your goals: a sysctl.d file on Linux, a shell
    /// script with a LaunchDaemon on macOS, a PowerShell script on Windows.
    Export(ExportArgs),
    /// Check an existing sysctl.conf or sysctl.d file for wrong, obsolete or
    /// misunderstood lines. Exit 0: nothing found; 1: findings; 2: unreadable.
    Audit(AuditArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Print JSON: {"os": ..., "settings": [{"key", "current", "default", ...}]}
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The OS to write for: linux, macos or windows [default: this one]
    #[arg(long, value_parser = Os::parse)]
    pub os: Option<Os>,
    /// What hurts, comma-separated: restart, outbound, reserve, backlog, low-ports
    #[arg(
        long,
        required = true,
        value_name = "G[,G...]",
        value_delimiter = ',',
        value_parser = Goal::parse
    )]
    pub goal: Vec<Goal>,
    /// Ports to keep out of automatic assignment, e.g. 8080,9090 or 9000-9010
    /// (implies the reserve goal)
    #[arg(long, value_name = "LIST", value_parser = PortList::parse)]
    pub reserve_ports: Option<PortList>,
    /// Write to FILE (atomically), or to stdout with - [default: stdout].
    /// Only a regular file is ever replaced: a device, FIFO, socket or
    /// directory is refused, even with --force. A symbolic link is followed
    /// and the file it points to is replaced (as `sed -i --follow-symlinks`
    /// and `cp` do); a link to nothing is refused.
    #[arg(long, value_name = "FILE|-")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it already exists (and is a regular file)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The sysctl file to check, e.g. /etc/sysctl.conf or /etc/sysctl.d/99-x.conf
    pub file: PathBuf,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

pub fn run(cmd: TuningCommand) -> CliResult {
    match cmd {
        TuningCommand::Show(a) => show(a),
        TuningCommand::Export(a) => export(a),
        TuningCommand::Audit(a) => audit(a),
    }
}

#[derive(Serialize)]
struct ShowJson<'a> {
    os: &'static str,
    settings: &'a [SettingRow],
}

fn show(args: ShowArgs) -> CliResult {
    if let Some(h) = &args.remote.host {
        return super::remote::tuning_show(args.json, h, args.remote.yes);
    }
    let os = Os::current();
    let rows = tuning::show_rows(os, &LiveSystem);
    if args.json {
        let json = serde_json::to_string_pretty(&ShowJson {
            os: os.id(),
            settings: &rows,
        })
        .map_err(|e| CliError::Failed(format!("cannot encode JSON: {e}")))?;
        emit(&format!("{json}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = format!(
        "Tunables for ports and TIME_WAIT on {} (as the system prints them now):\n",
        os.label()
    );
    for r in &rows {
        let t = r.tunable;
        out.push_str(&format!("\n{}: {}\n", t.key, t.title));
        out.push_str(&format!(
            "  now:     {}\n  default: {}\n",
            escape_control(&r.current_text()),
            t.default_text()
        ));
        if t.per_namespace {
            out.push_str("  scope:   per network namespace (each container has its own)\n");
        }
        paragraph(&mut out, "  ", t.explanation);
        for w in t.warnings {
            paragraph(
                &mut out,
                "  ",
                &format!("Wrong advice: {}. In fact: {}", w.advice, w.truth),
            );
        }
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn paragraph(out: &mut String, indent: &str, text: &str) {
    for l in wrap(text, 78usize.saturating_sub(indent.len())) {
        out.push_str(indent);
        out.push_str(&l);
        out.push('\n');
    }
}

fn export(args: ExportArgs) -> CliResult {
    let os = args.os.unwrap_or_else(Os::current);
    let sys = tuning::system_for(os);
    let req = ExportRequest {
        os: Some(os),
        goals: args.goal,
        reserve: args.reserve_ports.unwrap_or_default(),
        toggles: Default::default(),
    };
    let snippet = tuning::build(&req, sys.as_ref()).map_err(|e| match e {
        PlanError::ReserveNeedsPorts => CliError::Usage(format!("{e}: pass --reserve-ports LIST")),
        PlanError::NoGoal | PlanError::ReservationTooLarge { .. } => CliError::Usage(e.to_string()),
    })?;
    let text = snippet.text();
    let path = match args.out {
        Some(p) if p.as_os_str() != "-" => p,
        _ => {
            emit(&text)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    let mode = if args.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    write_atomic(&path, text.as_bytes(), mode).map_err(|e| write_error(&path, &e))?;
    let n = snippet.enabled_settings().len();
    // The path is the user's, but may hold anything: escaped for the terminal.
    emit(&crate::util::text::escape_control_keep_lines(&format!(
        "Wrote {} ({n} setting{} for {}). Apply it with:\n  {}\n",
        path.display(),
        if n == 1 { "" } else { "s" },
        os.label(),
        tuning::snippet::apply_command(os, &path.to_string_lossy())
    )))?;
    Ok(ExitCode::SUCCESS)
}

fn write_error(path: &Path, e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        CliError::Failed(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        ))
    } else {
        CliError::Failed(format!("cannot write {}: {e}", path.display()))
    }
}

fn audit(args: AuditArgs) -> CliResult {
    if let Some(h) = &args.remote.host {
        return super::remote::tuning_audit(&args.file, h, args.remote.yes);
    }
    let findings = tuning::audit_file(&args.file, &LiveSystem).map_err(CliError::Usage)?;
    emit(&audit_report(&args.file.display().to_string(), &findings))?;
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn audit_report(name: &str, findings: &[Finding]) -> String {
    if findings.is_empty() {
        return format!("{name}: no problems found\n");
    }
    let mut out = String::new();
    // The file's name and its lines (quoted in the messages) are the
    // file's author's text: escaped for the terminal.
    let name = escape_control(name);
    for f in findings {
        out.push_str(&format!(
            "{name}:{}: {}: {}\n",
            f.line,
            f.severity.label(),
            escape_control(&f.message)
        ));
    }
    out.push_str(&tuning::audit::summary(findings));
    out.push('\n');
    out
}
