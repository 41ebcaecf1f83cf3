//! `portwise agent`: the remote end. Reads requests from stdin, one JSON
//! object a line, and answers each on stdout. A bad line (malformed JSON,
//! not UTF-8, unknown request, longer than [`MAX_LINE`]) is answered with an
//! error; the agent goes on reading. It ends when stdin closes.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use super::protocol::{
    Answer, Confirmed, Hello, HelloLine, MAX_LINE, Op, Outcome, Request, Response, decode_request,
};
use crate::sockets::filter::{Filter, StateFilter};
use crate::sockets::model::{Proto, Snapshot};
use crate::sockets::{SocketSource, SystemSource};
use crate::stop::{StopTarget, Stopper, SystemStopper, plan_pid, plan_port};

/// Serve requests from `input` to `output` until `input` ends.
/// `exe` is the portwise binary the command-shaped requests run.
pub fn serve<R: BufRead, W: Write>(
    input: R,
    mut output: W,
    exe: &std::path::Path,
) -> std::io::Result<()> {
    write_line(
        &mut output,
        &HelloLine {
            hello: Hello::this_machine(),
        },
    )?;
    let mut lines = BoundedLines::new(input, MAX_LINE);
    let mut agent = Agent {
        source: SystemSource::new(),
        exe: exe.to_path_buf(),
    };
    while let Some(line) = lines.next_line()? {
        let response = match line {
            Line::TooLong => Response {
                id: None,
                result: Outcome::Error(format!(
                    "request line longer than {MAX_LINE} bytes: skipped"
                )),
            },
            Line::Text(bytes) => {
                if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                match decode_request(&bytes) {
                    Ok(Request { id, op }) => Response {
                        id: Some(id),
                        result: match agent.handle(op) {
                            Ok(a) => Outcome::Ok(a),
                            Err(e) => Outcome::Error(e),
                        },
                    },
                    Err((id, msg)) => Response {
                        id,
                        result: Outcome::Error(msg),
                    },
                }
            }
        };
        write_line(&mut output, &response)?;
    }
    Ok(())
}

fn write_line<W: Write, T: serde::Serialize>(out: &mut W, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    out.flush()
}

/// One line read, or the news that it was too long (and was skipped).
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Text(Vec<u8>),
    TooLong,
}

/// Reads '\n'-terminated lines holding at most `max` bytes of any one.
pub struct BoundedLines<R> {
    input: R,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(input: R, max: usize) -> Self {
        BoundedLines { input, max }
    }

    /// The next line without its '\n'; None at the end of the input.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        let mut line = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if !too_long {
                if line.len() + chunk.len() > self.max {
                    too_long = true;
                    line = Vec::new();
                } else {
                    line.extend_from_slice(chunk);
                }
            }
            let used = done.unwrap_or(buf.len());
            self.input.consume(used);
            if done.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        Ok(Some(if too_long {
            Line::TooLong
        } else {
            Line::Text(line)
        }))
    }
}

struct Agent {
    source: SystemSource,
    exe: std::path::PathBuf,
}

impl Agent {
    fn handle(&mut self, op: Op) -> Result<Answer, String> {
        match op {
            Op::Snapshot {
                port,
                proto,
                pid,
                all,
            } => {
                let proto = match proto.as_deref() {
                    None => None,
                    Some("tcp") => Some(Proto::Tcp),
                    Some("udp") => Some(Proto::Udp),
                    Some(other) => {
                        return Err(format!(
                            "invalid proto '{}' (expected tcp or udp)",
                            super::shown(other, 20)
                        ));
                    }
                };
                let snap = self
                    .source
                    .snapshot()
                    .map_err(|e| format!("cannot list sockets: {e}"))?;
                let filter = Filter {
                    states: if all {
                        StateFilter::All
                    } else {
                        StateFilter::default()
                    },
                    port,
                    proto,
                    pid,
                    ..Filter::default()
                };
                let sockets = filter.apply(&snap).into_iter().cloned().collect();
                Ok(Answer::Snapshot(Snapshot { sockets, ..snap }))
            }
            Op::List { args } => self.run_cli(&["list"], &args),
            Op::Free { args } => self.run_cli(&["free"], &args),
            Op::BindTest { args } => self.run_cli(&["bind-test"], &args),
            Op::TuningShow { args } => self.run_cli(&["tuning", "show"], &args),
            Op::TuningAudit { args } => self.run_cli(&["tuning", "audit"], &args),
            Op::StopPlan { port, pid, force } => {
                // Names and command lines come from the system: escaped as
                // the local `stop` escapes them.
                let plan: Vec<StopTarget> = self
                    .plan(port, pid)?
                    .into_iter()
                    .map(crate::cli::stop::escaped)
                    .collect();
                Ok(Answer::StopPlan {
                    text: crate::cli::stop::render_plan(&plan, force),
                    stoppable: plan
                        .iter()
                        .filter(|t| t.refusal.is_none())
                        .map(|t| Confirmed {
                            pid: t.pid,
                            start_time: t.start_time,
                        })
                        .collect(),
                })
            }
            Op::Stop {
                port,
                pid,
                force,
                confirmed,
            } => {
                // Escaped like the local `stop` (its stopper sees the same
                // escaped names through EscapedSource).
                let plan: Vec<StopTarget> = self
                    .plan(port, pid)?
                    .into_iter()
                    .map(crate::cli::stop::escaped)
                    .collect();
                let mut stopper =
                    SystemStopper::new(Box::new(crate::cli::EscapedSource(SystemSource::new())));
                let mut text = String::new();
                let mut all_stopped = true;
                let mut any = false;
                for t in plan.iter().filter(|t| t.refusal.is_none()) {
                    let wanted = Confirmed {
                        pid: t.pid,
                        start_time: t.start_time,
                    };
                    if !confirmed.contains(&wanted) {
                        continue;
                    }
                    any = true;
                    let r = stopper.stop(t, force);
                    all_stopped &= r.outcome.stopped();
                    text.push_str(&r.message);
                    text.push('\n');
                }
                if !any {
                    return Err(
                        "none of the confirmed processes holds it any more: nothing stopped"
                            .to_string(),
                    );
                }
                Ok(Answer::Stopped { text, all_stopped })
            }
        }
    }

    fn plan(&mut self, port: Option<u16>, pid: Option<u32>) -> Result<Vec<StopTarget>, String> {
        match (port, pid) {
            (Some(0), _) => Err("invalid port '0' (expected a number from 1 to 65535)".into()),
            (Some(port), None) => {
                let snap = self
                    .source
                    .snapshot()
                    .map_err(|e| format!("cannot list sockets: {e}"))?;
                plan_port(port, &snap).map_err(|e| e.to_string())
            }
            (None, Some(pid)) => plan_pid(pid).map_err(|e| e.to_string()),
            _ => Err("give a port or a pid, not both or neither".into()),
        }
    }

    /// Run this binary with `sub` and `args` (no shell, stdin closed) and
    /// return what it printed.
    fn run_cli(&self, sub: &[&str], args: &[String]) -> Result<Answer, String> {
        if args
            .iter()
            .any(|a| a == "--watch" || a.starts_with("--watch="))
        {
            return Err("--watch is not available through the agent".into());
        }
        if args
            .iter()
            .any(|a| a == "--host" || a.starts_with("--host="))
        {
            return Err("--host is not available through the agent".into());
        }
        let out = Command::new(&self.exe)
            .args(sub)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        Ok(Answer::Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_text(input: &[u8]) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let exe = std::path::Path::new("/nonexistent/portwise");
        serve(std::io::Cursor::new(input.to_vec()), &mut out, exe).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn hello_first_then_one_answer_per_line() {
        let v = serve_text(
            b"{\"id\":1,\"op\":\"nope\"}\nnot json\n\n{\"id\":2,\"op\":\"stop_plan\"}\n",
        );
        assert_eq!(v[0]["hello"]["protocol"], 1);
        assert_eq!(v[0]["hello"]["os"], std::env::consts::OS);
        assert_eq!(v[1]["id"], 1);
        assert_eq!(v[1]["error"], "unknown request 'nope'");
        assert!(v[2]["id"].is_null());
        assert!(
            v[2]["error"]
                .as_str()
                .unwrap()
                .starts_with("malformed JSON")
        );
        assert_eq!(v[3]["id"], 2);
        assert!(v[3]["error"].as_str().unwrap().contains("port or a pid"));
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn huge_lines_are_skipped_not_buffered() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.push(b'\n');
        input.extend_from_slice(b"{\"id\":5,\"op\":\"snapshot\",\"port\":1,\"proto\":\"sctp\"}\n");
        // A last line without '\n' is still a line.
        input.extend_from_slice(&vec![b'{'; MAX_LINE * 2]);
        let v = serve_text(&input);
        assert!(v[1]["error"].as_str().unwrap().contains("longer than"));
        assert_eq!(v[2]["id"], 5);
        assert_eq!(v[2]["error"], "invalid proto 'sctp' (expected tcp or udp)");
        assert!(v[3]["error"].as_str().unwrap().contains("longer than"));
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn bounded_lines_split_across_reads() {
        let data = b"ab\ncd\n\nef".to_vec();
        let mut r = BoundedLines::new(std::io::BufReader::with_capacity(1, &data[..]), 2);
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"ab".to_vec())));
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"cd".to_vec())));
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(vec![])));
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"ef".to_vec())));
        assert_eq!(r.next_line().unwrap(), None);
        let data = b"abc\nd\n".to_vec();
        let mut r = BoundedLines::new(std::io::BufReader::with_capacity(1, &data[..]), 2);
        assert_eq!(r.next_line().unwrap(), Some(Line::TooLong));
        assert_eq!(r.next_line().unwrap(), Some(Line::Text(b"d".to_vec())));
    }

    #[test]
    fn watch_is_refused_before_running_anything() {
        let v = serve_text(b"{\"id\":1,\"op\":\"list\",\"args\":[\"--watch\",\"1\"]}\n");
        assert_eq!(v[1]["error"], "--watch is not available through the agent");
    }
}
