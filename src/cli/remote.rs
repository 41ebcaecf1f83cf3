//! `--host DEST` on list, free, bind-test, stop and tuning show|audit: the
//! same command on another machine, through `ssh DEST portwise agent`.
//! Output is the remote command's own output, byte for byte, plus a `host`
//! field in JSON. Exit codes are the remote command's; 1 when the host
//! cannot be reached.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use super::args::{parse_pid, parse_port};
use super::{CliError, CliResult, emit};
use crate::remote::client::{ConnectError, Dest, Mode, Session, Ssh};
use crate::remote::protocol::{Answer, Op};
use crate::remote::{install, terminal_safe};

/// The options every remote-capable command takes.
#[derive(Debug, Default, clap::Args)]
pub struct RemoteArgs {
    /// Run it on another machine through your own ssh: [user@]host, an
    /// ssh_config alias or ssh://[user@]host[:port]. ssh comes from PATH,
    /// or from PORTWISE_SSH_COMMAND (e.g. "ssh -F ~/.ssh/other_config").
    #[arg(long, value_name = "DEST")]
    pub host: Option<String>,
    /// With --host: if the remote has no portwise of this protocol version,
    /// copy this one to ~/.cache/portwise/ there (same OS and architecture
    /// only; sha256 checked).
    #[arg(long, requires = "host")]
    pub yes: bool,
}

/// Connect to `host`; with `consent`, copy portwise there first when it is
/// missing or speaks another protocol version.
pub fn connect(host: &str, consent: bool) -> Result<Session, CliError> {
    let dest = Dest::parse(host).map_err(CliError::Usage)?;
    let ssh = Ssh::from_env().map_err(CliError::Usage)?;
    match Session::connect(&ssh, &dest, Mode::Interactive, None) {
        Ok(s) => Ok(s),
        Err(e) if e.install_would_help() && consent => {
            let done = install::install(&ssh, &dest, Mode::Interactive)
                .map_err(|m| CliError::Failed(format!("{}; {m}", e.message(&dest))))?;
            eprintln!("{done}");
            Session::connect(&ssh, &dest, Mode::Interactive, None)
                .map_err(|e| CliError::Failed(e.message(&dest)))
        }
        Err(e) => Err(CliError::Failed(not_connected(&e, &dest))),
    }
}

fn not_connected(e: &ConnectError, dest: &Dest) -> String {
    let mut m = e.message(dest);
    if e.install_would_help() {
        match install::local_uname() {
            Some(u) => m.push_str(&format!(
                ". Pass --yes to copy this portwise ({u}) to ~/.cache/portwise/ there \
                 (only if it runs {u}), or install portwise {} there on PATH",
                env!("CARGO_PKG_VERSION")
            )),
            None => m.push_str(&format!(
                ". Install portwise {} there on PATH or in ~/.cache/portwise/",
                env!("CARGO_PKG_VERSION")
            )),
        }
    }
    m
}

/// Run one command-shaped request and print what it printed.
fn forward(host: &str, consent: bool, json: bool, op: Op) -> CliResult {
    let mut session = connect(host, consent)?;
    let answer = session
        .request(op)
        .map_err(|e| CliError::Failed(format!("{}: {e}", session.dest)))?;
    match answer {
        Answer::Output {
            stdout,
            stderr,
            code,
        } => {
            let stdout = terminal_safe(&stdout);
            let text = if json && stdout.trim_start().starts_with('{') {
                with_host_field(&stdout, session.dest.as_str())
            } else {
                crate::remote::commands_for_host(&stdout, session.dest.as_str())
            };
            emit(&text)?;
            eprint!("{}", terminal_safe(&stderr));
            Ok(ExitCode::from(
                u8::try_from(code.clamp(0, 255)).unwrap_or(1),
            ))
        }
        other => Err(CliError::Failed(format!(
            "{}: unexpected answer {other:?}",
            session.dest
        ))),
    }
}

/// `{...}` with `"host": DEST` as its first field, in the document's own
/// style (pretty or compact). Text that is not a JSON object is returned
/// as is.
pub fn with_host_field(doc: &str, host: &str) -> String {
    let Some(open) = doc.find('{') else {
        return doc.to_string();
    };
    if !doc[..open].trim().is_empty() {
        return doc.to_string();
    }
    let host_json = serde_json::Value::String(host.to_string()).to_string();
    let rest = &doc[open + 1..];
    let empty = rest.trim_start().starts_with('}');
    let pretty = rest.starts_with('\n');
    let field = match (pretty, empty) {
        (true, false) => format!("\n  \"host\": {host_json},"),
        (true, true) => format!("\n  \"host\": {host_json}"),
        (false, false) => format!("\"host\":{host_json},"),
        (false, true) => format!("\"host\":{host_json}"),
    };
    format!("{}{{{field}{rest}", &doc[..open])
}

pub fn list(a: &super::list::ListArgs, host: &str, consent: bool) -> CliResult {
    if a.watch.is_some() {
        return Err(CliError::Usage(
            "--watch does not combine with --host".into(),
        ));
    }
    let mut args = Vec::new();
    flag(&mut args, "--all", a.all);
    if !a.state.is_empty() {
        args.push("--state".into());
        args.push(a.state.join(","));
    }
    opt(&mut args, "--port", &a.port);
    opt(&mut args, "--proto", &a.proto);
    opt(&mut args, "--pid", &a.pid);
    opt(&mut args, "--netns", &a.netns);
    flag(&mut args, "--json", a.json);
    flag(&mut args, "--csv", a.csv);
    forward(host, consent, a.json, Op::List { args })
}

pub fn free(a: &super::free::FreeArgs, host: &str, consent: bool) -> CliResult {
    let mut args = Vec::new();
    opt(&mut args, "--count", &a.count);
    opt(&mut args, "--proto", &a.proto);
    opt(&mut args, "--range", &a.range);
    flag(&mut args, "--os", a.os);
    flag(&mut args, "--reserve", a.reserve);
    flag(&mut args, "--json", a.json);
    forward(host, consent, a.json, Op::Free { args })
}

pub fn bind_test(a: &super::bind_test::BindTestArgs, host: &str, consent: bool) -> CliResult {
    let mut args = Vec::new();
    opt(&mut args, "--addr", &a.addr);
    opt(&mut args, "--proto", &a.proto);
    flag(&mut args, "--reuseaddr", a.reuseaddr);
    flag(&mut args, "--reuseport", a.reuseport);
    flag(&mut args, "--v6only", a.v6only);
    opt(&mut args, "--wait", &a.wait);
    flag(&mut args, "--json", a.json);
    // The port last, after "--", so "-1" stays a value.
    args.push("--".into());
    args.push(a.port.clone());
    forward(host, consent, a.json, Op::BindTest { args })
}

pub fn tuning_show(json: bool, host: &str, consent: bool) -> CliResult {
    let mut args = Vec::new();
    flag(&mut args, "--json", json);
    forward(host, consent, json, Op::TuningShow { args })
}

pub fn tuning_audit(file: &std::path::Path, host: &str, consent: bool) -> CliResult {
    let file = file.to_str().ok_or_else(|| {
        CliError::Usage(format!(
            "the remote file name {} is not UTF-8",
            file.display()
        ))
    })?;
    let args = vec!["--".into(), file.to_string()];
    forward(host, consent, false, Op::TuningAudit { args })
}

/// `stop --host`: the plan from there, the question here, then the stop
/// there of exactly the processes you agreed to. `--yes` answers the
/// question and consents to the copy.
pub fn stop(a: &super::stop::StopArgs, host: &str) -> CliResult {
    let (port, pid) = match (&a.port, &a.pid) {
        (Some(p), _) => (Some(parse_port(p)?), None),
        (None, Some(p)) => (None, Some(parse_pid(p)?)),
        (None, None) => return Err(CliError::Usage("give --port P or --pid N".into())),
    };
    if port == Some(0) {
        return Err(CliError::Usage(
            "invalid port '0' (expected a number from 1 to 65535)".into(),
        ));
    }
    if !a.yes && !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "not asking on a non-terminal: pass --yes to stop without a question".into(),
        ));
    }
    let mut session = connect(host, a.yes)?;
    let dest = session.dest.clone();
    let failed = |e| CliError::Failed(format!("{dest}: {e}"));
    let (text, stoppable) = match session.request(Op::StopPlan {
        port,
        pid,
        force: a.force,
    }) {
        Ok(Answer::StopPlan { text, stoppable }) => (text, stoppable),
        Ok(other) => {
            return Err(CliError::Failed(format!(
                "{dest}: unexpected answer {other:?}"
            )));
        }
        Err(e) => return Err(failed(e)),
    };
    emit(&terminal_safe(&text))?;
    if stoppable.is_empty() {
        return Err(CliError::Failed(
            "nothing portwise may stop holds it".into(),
        ));
    }
    if !a.yes && !super::stop::confirm(stoppable.len(), a.force)? {
        return Err(CliError::Failed("nothing stopped".into()));
    }
    match session.request(Op::Stop {
        port,
        pid,
        force: a.force,
        confirmed: stoppable,
    }) {
        Ok(Answer::Stopped { text, all_stopped }) => {
            emit(&terminal_safe(&text))?;
            Ok(if all_stopped {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Ok(other) => Err(CliError::Failed(format!(
            "{dest}: unexpected answer {other:?}"
        ))),
        Err(e) => Err(failed(e)),
    }
}

fn flag(args: &mut Vec<String>, name: &str, on: bool) {
    if on {
        args.push(name.into());
    }
}

fn opt(args: &mut Vec<String>, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        // "--port=-1" keeps a value that starts with '-' attached.
        args.push(format!("{name}={v}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_field_goes_first_in_either_style() {
        assert_eq!(
            with_host_field("{\n  \"ok\": true\n}\n", "box"),
            "{\n  \"host\": \"box\",\n  \"ok\": true\n}\n"
        );
        assert_eq!(
            with_host_field("{\"a\":1}\n", "me@b\"x"),
            "{\"host\":\"me@b\\\"x\",\"a\":1}\n"
        );
        assert_eq!(with_host_field("{}", "h"), "{\"host\":\"h\"}");
        assert_eq!(with_host_field("8080\n", "h"), "8080\n");
        for doc in ["{\n  \"ok\": true\n}\n", "{\"a\":[1,{\"b\":2}]}", "{ }"] {
            let v: serde_json::Value = serde_json::from_str(&with_host_field(doc, "h")).unwrap();
            assert_eq!(v["host"], "h");
        }
    }
}
