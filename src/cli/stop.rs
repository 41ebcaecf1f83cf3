//! `portwise stop (--port P | --pid N) [--force] [--yes]`: show what will
//! be stopped, confirm on a terminal, stop politely (or at once with
//! `--force`), report. Exit 0 when stopped; 1 when nothing holds the port or
//! a process could not be stopped; 2 for bad usage.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use super::args::{parse_nonzero_port, parse_pid};
use super::{CliError, CliResult, EscapedSource, emit, escape_in_place};
use crate::sockets::namespaces::published_on;
use crate::sockets::{Proto, SocketSource, SystemSource};
use crate::stop::{StopTarget, Stopper, SystemStopper, plan_pid, plan_port};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["port", "pid"])))]
pub struct StopArgs {
    /// Stop the processes that hold port P (as listener or bound socket).
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub port: Option<String>,
    /// Stop process N.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pid: Option<String>,
    /// Kill at once instead of asking politely (SIGTERM, up to 5 s) first.
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Stop it on another machine through your own ssh (see `list --help`);
    /// --yes there also consents to copying portwise to it when missing.
    #[arg(long, value_name = "DEST")]
    pub host: Option<String>,
}

pub fn run(args: StopArgs) -> CliResult {
    if let Some(h) = &args.host {
        return super::remote::stop(&args, h);
    }
    let mut source = EscapedSource(SystemSource::new());
    // The container behind a docker-proxy / conmon holder, by name.
    let mut published = String::new();
    let plan = match (&args.port, &args.pid) {
        (Some(p), _) => {
            let port = parse_nonzero_port(p)?;
            let snap = source
                .snapshot()
                .map_err(|e| CliError::Failed(format!("cannot list sockets: {e}")))?;
            let own = source.0.netns_summary().own;
            for proto in [Proto::Tcp, Proto::Udp] {
                for (text, command) in published_on(&snap, own, proto, port) {
                    let _ = writeln!(published, "  {text}");
                    if let Some(c) = command {
                        let _ = writeln!(published, "    stop the container instead: {c}");
                    }
                }
            }
            plan_port(port, &snap)
        }
        (None, Some(pid)) => plan_pid(parse_pid(pid)?),
        (None, None) => return Err(CliError::Usage("give --port P or --pid N".into())),
    }
    .map_err(|e| CliError::Failed(e.to_string()))?;
    // Names, users and command lines come from the system: escaped for the
    // terminal here, so the plan and every report built from them are safe.
    let plan: Vec<StopTarget> = plan.into_iter().map(escaped).collect();

    emit(&render_plan(&plan, args.force))?;
    if !published.is_empty() {
        // Container names come from the runtime: escaped like the rest.
        let text = format!("published port:\n{published}");
        emit(&crate::util::text::escape_control_keep_lines(&text))?;
    }
    let stoppable: Vec<&StopTarget> = plan.iter().filter(|t| t.refusal.is_none()).collect();
    if stoppable.is_empty() {
        return Err(CliError::Failed(
            "nothing portwise may stop holds it".into(),
        ));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(
                "not asking on a non-terminal: pass --yes to stop without a question".into(),
            ));
        }
        if !confirm(stoppable.len(), args.force)? {
            return Err(CliError::Failed("nothing stopped".into()));
        }
    }
    let mut stopper = SystemStopper::new(Box::new(source));
    let mut all_stopped = true;
    let mut text = String::new();
    for t in stoppable {
        let r = stopper.stop(t, args.force);
        all_stopped &= r.outcome.stopped();
        let _ = writeln!(text, "{}", r.message);
    }
    emit(&text)?;
    Ok(if all_stopped {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `t` with its text fields escaped for a terminal.
pub fn escaped(mut t: StopTarget) -> StopTarget {
    escape_in_place(&mut t.name);
    escape_in_place(&mut t.cmdline);
    if let Some(u) = &mut t.user {
        escape_in_place(u);
    }
    if let Some(r) = &mut t.refusal {
        escape_in_place(r);
    }
    for c in &mut t.caveats {
        escape_in_place(c);
    }
    t
}

/// The plan as people read it: pid, name, user, command line, caveats.
pub fn render_plan(plan: &[StopTarget], force: bool) -> String {
    let mut out = String::new();
    let how = if force {
        "kill at once"
    } else {
        "ask to stop (SIGTERM where the OS has it, then wait up to 5 s)"
    };
    let _ = writeln!(out, "portwise will {how}:");
    for t in plan {
        let _ = write!(out, "  pid {}  {}", t.pid, t.name);
        if let Some(u) = &t.user {
            let _ = write!(out, "  user {u}");
        }
        out.push('\n');
        let _ = writeln!(out, "    command: {}", t.cmdline);
        if let Some(r) = &t.refusal {
            let _ = writeln!(out, "    refused: {r}");
        }
        for c in &t.caveats {
            let _ = writeln!(out, "    note: {c}");
        }
    }
    out
}

pub(super) fn confirm(n: usize, force: bool) -> Result<bool, CliError> {
    eprint!(
        "{} {n} process{}? [y/N] ",
        if force { "Kill" } else { "Stop" },
        if n == 1 { "" } else { "es" }
    );
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_shows_pid_name_user_command_and_caveats() {
        let t = StopTarget {
            pid: 42,
            name: "docker-proxy".into(),
            user: Some("root".into()),
            cmdline: "/usr/bin/docker-proxy -host-port 5432".into(),
            start_time: 1,
            caveats: vec!["stop the container".into()],
            port: Some(5432),
            refusal: None,
        };
        let r = StopTarget {
            pid: 1,
            name: "systemd".into(),
            refusal: Some("init".into()),
            caveats: vec![],
            ..t.clone()
        };
        let text = render_plan(&[r, t], false);
        assert!(text.contains("pid 42  docker-proxy  user root"), "{text}");
        assert!(text.contains("command: /usr/bin/docker-proxy -host-port 5432"));
        assert!(text.contains("note: stop the container"));
        assert!(text.contains("refused: init"));
        assert!(render_plan(&[], true).contains("kill at once"));
    }

    #[test]
    fn bad_pid_is_usage() {
        assert!(matches!(parse_pid("abc"), Err(CliError::Usage(m)) if m.contains("'abc'")));
        assert!(matches!(parse_pid("-5"), Err(CliError::Usage(_))));
    }
}
