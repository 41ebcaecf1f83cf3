//! The agent protocol: newline-delimited JSON, one object a line, over the
//! stdin/stdout of `ssh DEST portwise agent`.
//!
//! The agent speaks first with a [`Hello`]. The client then sends
//! [`Request`]s, each with an `id`; the agent answers each with one
//! [`Response`] carrying the same `id`, in order. Requests never reach a
//! shell: the remote command line is fixed (see `client::REMOTE_COMMAND`)
//! and everything the user typed travels as JSON on stdin.

use serde::{Deserialize, Serialize};

use crate::sockets::model::Snapshot;

/// Bumped whenever a request or answer changes shape. The client refuses an
/// agent that speaks another version, with a message saying how to update.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line the agent reads (1 MiB). A longer line is
/// answered with an error and skipped, never buffered whole.
pub const MAX_LINE: usize = 1 << 20;

/// The longest answer line the client reads (256 MiB): a snapshot of every
/// socket of a busy server runs to tens of MiB (about 400 bytes a socket),
/// far past what a request may be.
pub const MAX_ANSWER: usize = 256 << 20;

/// The agent's first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    /// The agent's portwise version (Cargo package version).
    pub portwise: String,
    /// `std::env::consts::OS` on the remote: linux, macos, windows.
    pub os: String,
    /// `std::env::consts::ARCH` on the remote: x86_64, aarch64.
    pub arch: String,
}

impl Hello {
    pub fn this_machine() -> Hello {
        Hello {
            protocol: PROTOCOL_VERSION,
            portwise: env!("CARGO_PKG_VERSION").to_string(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
        }
    }
}

/// The line the agent sends first: `{"hello": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloLine {
    pub hello: Hello,
}

/// A request line: `{"id": 7, "op": "snapshot", ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    #[serde(flatten)]
    pub op: Op,
}

/// What the engine can do for a remote caller.
///
/// The command-shaped requests (`list`, `free`, `bind_test`, `tuning_show`,
/// `tuning_audit`) carry the arguments of the matching `portwise`
/// subcommand; the agent runs its own binary with exactly that subcommand
/// and those arguments (no shell) and returns what it printed, so the output
/// is the local output, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// The socket table, structured (for the window and the fleet view).
    Snapshot {
        #[serde(default)]
        port: Option<u16>,
        /// "tcp" or "udp".
        #[serde(default)]
        proto: Option<String>,
        #[serde(default)]
        pid: Option<u32>,
        /// Every state instead of LISTEN, bound UDP and TIME_WAIT.
        #[serde(default)]
        all: bool,
    },
    /// `portwise list ARGS`.
    List { args: Vec<String> },
    /// `portwise free ARGS`.
    Free { args: Vec<String> },
    /// `portwise bind-test ARGS`.
    BindTest { args: Vec<String> },
    /// `portwise tuning show ARGS`.
    TuningShow { args: Vec<String> },
    /// `portwise tuning audit ARGS` (the file is on the remote machine).
    TuningAudit { args: Vec<String> },
    /// What `stop` would do: the rendered plan and the targets it may stop.
    StopPlan {
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        pid: Option<u32>,
        #[serde(default)]
        force: bool,
    },
    /// Stop the targets of a fresh plan that the user confirmed: only those
    /// whose (pid, start time) are in `confirmed` are touched, so a process
    /// that replaced a confirmed one under the same pid is left alone.
    Stop {
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        pid: Option<u32>,
        #[serde(default)]
        force: bool,
        confirmed: Vec<Confirmed>,
    },
}

/// One process the user agreed to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    pub pid: u32,
    pub start_time: u64,
}

/// An answer line: `{"id": 7, "ok": {...}}` or `{"id": 7, "error": "..."}`.
/// `id` is null when the request could not be read far enough to find one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: Option<u64>,
    #[serde(flatten)]
    pub result: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok(Answer),
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Snapshot(Snapshot),
    /// What a subcommand printed and its exit code.
    Output {
        stdout: String,
        stderr: String,
        code: i32,
    },
    StopPlan {
        text: String,
        stoppable: Vec<Confirmed>,
    },
    Stopped {
        text: String,
        all_stopped: bool,
    },
}

/// Decode one request line. Every failure is a message for the caller,
/// never a panic: the agent answers it and reads the next line.
pub fn decode_request(line: &[u8]) -> Result<Request, (Option<u64>, String)> {
    let text = std::str::from_utf8(line).map_err(|_| (None, "request is not UTF-8".to_string()))?;
    match serde_json::from_str::<Request>(text) {
        Ok(r) => Ok(r),
        Err(e) => {
            // Find the id if the line is at least an object with one, so
            // the client can match the error to its request.
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("id").and_then(|i| i.as_u64()));
            let what = match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => match v.get("op").and_then(|o| o.as_str()) {
                    Some(op) if !KNOWN_OPS.contains(&op) => {
                        format!("unknown request '{}'", super::shown(op, 40))
                    }
                    _ => format!("bad request: {e}"),
                },
                Err(e) => format!("malformed JSON: {e}"),
            };
            Err((id, what))
        }
    }
}

const KNOWN_OPS: &[&str] = &[
    "snapshot",
    "list",
    "free",
    "bind_test",
    "tuning_show",
    "tuning_audit",
    "stop_plan",
    "stop",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let r = Request {
            id: 3,
            op: Op::BindTest {
                args: vec!["8080".into(), "--json".into()],
            },
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"id":3,"op":"bind_test","args":["8080","--json"]}"#
        );
        assert_eq!(decode_request(line.as_bytes()).unwrap(), r);
        let s = decode_request(br#"{"id":1,"op":"snapshot","port":80}"#).unwrap();
        assert_eq!(
            s.op,
            Op::Snapshot {
                port: Some(80),
                proto: None,
                pid: None,
                all: false
            }
        );
    }

    #[test]
    fn bad_requests_are_errors_with_their_id() {
        let (id, m) = decode_request(br#"{"id":9,"op":"format_disk"}"#).unwrap_err();
        assert_eq!(id, Some(9));
        assert_eq!(m, "unknown request 'format_disk'");
        let (id, m) = decode_request(b"{\"id\":").unwrap_err();
        assert_eq!(id, None);
        assert!(m.starts_with("malformed JSON"), "{m}");
        let (id, m) = decode_request(br#"{"id":2,"op":"list"}"#).unwrap_err();
        assert_eq!(id, Some(2));
        assert!(m.starts_with("bad request"), "{m}");
        assert!(decode_request(&[0xff, 0xfe]).is_err());
        assert!(decode_request(br#"{"id":-1,"op":"list","args":[]}"#).is_err());
        assert!(decode_request(br#"[1,2,3]"#).is_err());
        assert!(decode_request(br#"{"id":1,"op":"list","args":[],"extra":1}"#).is_err());
    }

    #[test]
    fn decoder_survives_arbitrary_bytes() {
        // A small deterministic fuzz: xorshift bytes, then mutations of a
        // valid line (truncations, byte flips, nesting).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let valid = br#"{"id":1,"op":"stop","port":80,"confirmed":[{"pid":1,"start_time":2}]}"#;
        for round in 0..20_000 {
            let mut line: Vec<u8> = if round % 2 == 0 {
                let n = (next() % 200) as usize;
                (0..n).map(|_| next() as u8).collect()
            } else {
                let mut v = valid.to_vec();
                let cut = (next() as usize) % (v.len() + 1);
                v.truncate(cut);
                for _ in 0..(next() % 4) {
                    if !v.is_empty() {
                        let i = (next() as usize) % v.len();
                        v[i] = next() as u8;
                    }
                }
                v
            };
            if round % 1000 == 0 {
                line = "[".repeat(10_000).into_bytes();
            }
            let _ = decode_request(&line);
        }
    }
}
