//! Free-port picking: outside the ephemeral range (default), OS-assigned,
//! or within a range; `count` distinct ports; optional reservation through
//! a loopback TIME_WAIT socket.
//!
//! The CLI (`portwise free`) and the window's Free port view both call
//! [`free_ports`] (or keep a [`Picker`] to pick many times with one read of
//! the OS facts).

pub mod facts;
pub mod pick;
pub mod probe;
pub mod range;
pub mod reserve;
mod rng;

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::sockets::Proto;

pub use facts::{PortFacts, PrivilegedPorts, reservation_note, time_wait_ms};
pub use pick::Picker;
pub use probe::is_free;
pub use range::{PortRange, PortSet};
pub use reserve::{Reservation, reserve};

/// Why the default strategy avoids the ephemeral range, in one line.
pub const OUTSIDE_EPHEMERAL_WHY: &str = "A port that goes into a config file outlives this \
    moment; inside the OS's ephemeral range, any outgoing connection may take it later.";

/// The race between picking a port and using it, and how reserving narrows
/// it, in plain words (for the window and `--help`). The default strategy
/// already picks outside the ephemeral range, where port-0 binds and
/// connect() never go, so the reservation's use there is against explicit
/// binds: on Linux a TIME_WAIT socket conflicts with a new bind unless both
/// set SO_REUSEADDR (net/ipv4/inet_connection_sock.c `inet_bind_conflict()`;
/// man7 socket(7)); on macOS unless the new one sets it (knowledge file,
/// SO_REUSEADDR row). A port-0 bind skips a port with a TIME_WAIT socket on
/// Linux (`inet_csk_find_open_port()` checks conflicts with relax = false).
/// Windows: unverified, said so.
pub const RACE_EXPLANATION: &str = "A free port is only free at the moment it is checked: \
    between picking it and your program binding it, another process can take it. Picking \
    outside the ephemeral range keeps outgoing connections and port-0 binds (which use that \
    range) away from it. Reserving (--reserve) goes one step further: it leaves the port in \
    TIME_WAIT on 127.0.0.1. For about 60 s on Linux (30 s on macOS), a bind without \
    SO_REUSEADDR (e.g. another tool probing for a free port) fails on it, while your server that \
    sets SO_REUSEADDR can bind it. With --os (a port inside the ephemeral range) it also keeps \
    Linux's port-0 binds from handing it out. On Windows its effect is not verified. Only \
    handing over an already-bound socket closes the race completely.\n\n\
    Plain `portwise free` cannot promise that two callers running at the same time get \
    different ports: nothing holds a port once it is printed. With --reserve, checking and \
    claiming are one step: the port is bound without SO_REUSEADDR, which fails if any other \
    socket (such as another caller's reservation) is on it, and that same socket makes the \
    reservation. Concurrent `portwise free --reserve` calls never print the same port.";

/// [`RACE_EXPLANATION`] in the window's words: its controls ("Reserve for
/// about a minute", "Assigned by the OS") instead of the CLI's flags.
pub const RACE_EXPLANATION_WINDOW: &str = "A free port is only free at the moment it is \
    checked: between picking it and your program binding it, another process can take it. \
    Picking outside the ephemeral range keeps outgoing connections and port-0 binds (which use \
    that range) away from it. \"Reserve for about a minute\" goes one step further: it leaves the \
    port in TIME_WAIT on 127.0.0.1. For about 60 s on Linux (30 s on macOS), a bind without \
    SO_REUSEADDR (e.g. another tool probing for a free port) fails on it, while your server that \
    sets SO_REUSEADDR can bind it. With \"Assigned by the OS\" (a port inside the ephemeral \
    range) it also keeps Linux's port-0 binds from handing it out. On Windows its effect is not \
    verified. Only handing over an already-bound socket closes the race completely.\n\n\
    Without the reservation, two grabs at the same time (two windows, or this window and a \
    script) may get the same port: nothing holds a port once it is shown. With it, checking and \
    claiming are one step: the port is bound without SO_REUSEADDR, which fails if any other \
    socket (such as another grab's reservation) is on it, and that same socket makes the \
    reservation. Reserved grabs never get the same port.";

/// TCP, UDP, or a port free for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtoChoice {
    Tcp,
    Udp,
    Both,
}

impl ProtoChoice {
    pub fn protos(self) -> &'static [Proto] {
        match self {
            ProtoChoice::Tcp => &[Proto::Tcp],
            ProtoChoice::Udp => &[Proto::Udp],
            ProtoChoice::Both => &[Proto::Tcp, Proto::Udp],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProtoChoice::Tcp => "tcp",
            ProtoChoice::Udp => "udp",
            ProtoChoice::Both => "both",
        }
    }
}

impl From<Proto> for ProtoChoice {
    fn from(p: Proto) -> Self {
        match p {
            Proto::Tcp => ProtoChoice::Tcp,
            Proto::Udp => ProtoChoice::Udp,
        }
    }
}

impl fmt::Display for ProtoChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtoChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(ProtoChoice::Tcp),
            "udp" => Ok(ProtoChoice::Udp),
            "both" => Ok(ProtoChoice::Both),
            _ => Err(format!(
                "unknown protocol '{}' (expected tcp, udp or both)",
                s.trim()
            )),
        }
    }
}

/// How to pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Random in 1024-65535 outside the ephemeral range and reserved ports.
    OutsideEphemeral,
    /// Let the OS assign it: bind port 0, read the port back.
    Os,
    /// Random within this range.
    Range(PortRange),
}

impl Strategy {
    /// The name in JSON output: "outside-ephemeral", "os" or "range".
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::OutsideEphemeral => "outside-ephemeral",
            Strategy::Os => "os",
            Strategy::Range(_) => "range",
        }
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// What to pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeRequest {
    pub strategy: Strategy,
    /// How many distinct ports (at least 1).
    pub count: usize,
    pub proto: ProtoChoice,
    /// Leave each port in TIME_WAIT on 127.0.0.1 (TCP only).
    pub reserve: bool,
}

impl Default for FreeRequest {
    fn default() -> Self {
        FreeRequest {
            strategy: Strategy::OutsideEphemeral,
            count: 1,
            proto: ProtoChoice::Tcp,
            reserve: false,
        }
    }
}

/// One picked port, as `portwise free --json` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FreePort {
    pub port: u16,
    pub proto: ProtoChoice,
    /// Until when the TIME_WAIT reservation lasts; `None` when not reserved
    /// (or when the OS's TIME_WAIT length is unknown).
    pub reserved_until_unix_ms: Option<u64>,
}

/// The answer: `{"strategy": ..., "ports": [...]}` in JSON. `notes` (what
/// could not be read, what the reservation did not cover) is for people
/// and is not part of the JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FreeResult {
    pub strategy: Strategy,
    pub ports: Vec<FreePort>,
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// Why no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// The request cannot be met by construction (bad usage: exit 2).
    Usage(String),
    /// Not enough free ports right now (exit 1).
    NoneFree(String),
    /// The OS refused something unexpected (exit 1).
    Io(String),
}

impl fmt::Display for FreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FreeError::Usage(m) | FreeError::NoneFree(m) | FreeError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FreeError {}

/// Reads the OS facts and runs one request.
pub fn free_ports(req: &FreeRequest) -> Result<FreeResult, FreeError> {
    Picker::new(PortFacts::read(req.proto)).run(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_the_documented_one() {
        let r = FreeResult {
            strategy: Strategy::Range(PortRange::new(1, 2).unwrap()),
            ports: vec![FreePort {
                port: 41234,
                proto: ProtoChoice::Tcp,
                reserved_until_unix_ms: None,
            }],
            notes: vec!["not in json".into()],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"strategy": "range", "ports": [
                {"port": 41234, "proto": "tcp", "reserved_until_unix_ms": null}
            ]})
        );
        assert_eq!(Strategy::OutsideEphemeral.name(), "outside-ephemeral");
        assert_eq!(Strategy::Os.name(), "os");
    }

    #[test]
    fn race_text_says_what_the_reservation_really_blocks() {
        // Outside the ephemeral range port-0 binds never go: the reservation
        // matters against binds without SO_REUSEADDR there.
        assert!(!RACE_EXPLANATION.contains("another port-0 bind"));
        assert!(RACE_EXPLANATION.contains("a bind without SO_REUSEADDR"));
        assert!(RACE_EXPLANATION.contains("With --os"));
        assert!(RACE_EXPLANATION.contains("30 s on macOS"));
    }

    #[test]
    fn proto_choice_parses() {
        assert_eq!("TCP".parse::<ProtoChoice>(), Ok(ProtoChoice::Tcp));
        assert_eq!("both".parse::<ProtoChoice>(), Ok(ProtoChoice::Both));
        assert!(
            "sctp"
                .parse::<ProtoChoice>()
                .unwrap_err()
                .contains("'sctp'")
        );
    }
}
