//! Taking the port: a picked port is only ours once a socket of ours holds
//! it. A pick that another program binds first is skipped and the next one
//! tried, so concurrent `portwise run`s never end up with the same port.

use std::io;

use socket2::Socket;

use super::{FdMode, Plan, RunError};
use crate::platform::handoff as os;
use crate::ports::probe::{bind_wildcard, ipv6_available, new_socket};
use crate::ports::{Picker, PortFacts, PortSet, ProtoChoice, Reservation, reserve, time_wait_ms};
use crate::sockets::Proto;

/// How many picks to try when others keep binding them first.
const CLAIM_TRIES: usize = 64;

/// The listen backlog of a handed-over socket (Linux caps it at
/// net.core.somaxconn).
const BACKLOG: i32 = 1024;

/// What holds the port.
#[derive(Debug)]
pub enum Hold {
    /// `systemd` / `fd` mode: the socket the program inherits (listening,
    /// for TCP).
    Socket(Socket),
    /// `none` mode where the OS allows it (Linux): sockets bound to the
    /// wildcard addresses without listening, claimed with a plain bind and
    /// then marked SO_REUSEADDR. A plain bind by anyone else fails on
    /// them; the program's own bind with SO_REUSEADDR (what servers set)
    /// succeeds.
    Held(Vec<Socket>),
    /// `none` mode elsewhere (TCP): a TIME_WAIT socket on 127.0.0.1
    /// (`ports::reserve`), which blocks plain binds for the OS's TIME_WAIT
    /// length.
    TimeWait(Reservation),
    /// Nothing can hold it (UDP where no held bind is possible): the port
    /// was free a moment ago, that is all.
    Nothing,
}

/// A port taken for the program.
#[derive(Debug)]
pub struct Claim {
    pub port: u16,
    pub hold: Hold,
    /// The socket-table ids of our own sockets (Linux inodes), so a
    /// watcher can tell them from the program's.
    pub own_ids: Vec<u64>,
    /// What the reservation does not cover, for people.
    pub notes: Vec<String>,
}

impl Claim {
    /// The socket to hand over, in `systemd` / `fd` mode.
    pub fn socket(&self) -> Option<&Socket> {
        match &self.hold {
            Hold::Socket(s) => Some(s),
            _ => None,
        }
    }

    /// Lets the port go: closes whatever portwise holds (a TIME_WAIT
    /// reservation simply runs out).
    pub fn release(&mut self) {
        self.hold = Hold::Nothing;
    }
}

fn in_use(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::AddrInUse
}

impl Plan {
    /// Picks and takes a port for this plan's mode.
    pub fn claim(&self) -> Result<Claim, RunError> {
        let req = &self.request;
        if let Some(port) = req.port {
            let attempt = match req.mode {
                FdMode::Systemd | FdMode::Fd => self.claim_socket(port, true),
                FdMode::None => claim_none(req.proto, port, ipv6_available(), true),
            };
            return attempt.map_err(|e| {
                RunError::Failed(format!(
                    "cannot take {} port {port}: {e}{}",
                    req.proto.as_str(),
                    if in_use(&e) {
                        format!(
                            " (another program holds it: `portwise list --port {port}` shows who)"
                        )
                    } else {
                        String::new()
                    }
                ))
            });
        }
        let facts = PortFacts::read(ProtoChoice::from(req.proto));
        let ipv6 = facts.ipv6;
        let mut picker = Picker::new(facts);
        let candidates = picker.candidates(&req.strategy);
        let mut taken = PortSet::new();
        let protos = [req.proto];
        for _ in 0..CLAIM_TRIES {
            let port = match &candidates {
                Some(c) => picker.pick_from(c, &protos, &taken).ok_or_else(|| {
                    RunError::Failed(format!(
                        "no free {} port in {}",
                        req.proto.as_str(),
                        describe(&req.strategy)
                    ))
                })?,
                None => 0, // the OS assigns one at the bind
            };
            let attempt = match req.mode {
                FdMode::Systemd | FdMode::Fd => self.claim_socket(port, false),
                FdMode::None => claim_none(req.proto, port, ipv6, false),
            };
            match attempt {
                Ok(claim) => return Ok(claim),
                Err(e) if in_use(&e) => {
                    taken.insert(port);
                }
                Err(e) => {
                    let mut at = String::new();
                    crate::sockets::write_endpoint(&mut at, &req.addr, port);
                    return Err(RunError::Failed(format!(
                        "cannot take {} {at}: {e}",
                        req.proto.as_str()
                    )));
                }
            }
        }
        Err(RunError::Failed(format!(
            "{CLAIM_TRIES} ports in a row were taken by other programs between the check and \
             the bind; try again or use --range"
        )))
    }

    /// Bind (and for TCP, listen) on the requested address.
    /// `exact`: a port the user chose; SO_REUSEADDR lets the bind pass a
    /// TIME_WAIT reservation of it (never a listener). A picked port is
    /// bound without it, so that two runs never share one.
    fn claim_socket(&self, port: u16, exact: bool) -> io::Result<Claim> {
        let req = &self.request;
        let sock = new_socket(req.addr.is_ipv6(), req.proto)?;
        if exact {
            sock.set_reuse_address(true)?;
        }
        sock.bind(&req.socket_addr(port).into())?;
        if req.proto == Proto::Tcp {
            sock.listen(BACKLOG)?;
        }
        let port = bound_port(&sock)?;
        Ok(Claim {
            port,
            own_ids: vec![os::socket_id(&sock)],
            hold: Hold::Socket(sock),
            notes: Vec::new(),
        })
    }
}

fn bound_port(s: &Socket) -> io::Result<u16> {
    s.local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("cannot read the bound port back"))
}

/// `none` mode: hold the port where the OS allows, else leave it in
/// TIME_WAIT (TCP), else nothing.
fn claim_none(proto: Proto, port: u16, ipv6: bool, exact: bool) -> io::Result<Claim> {
    if os::held_bind_reserves() {
        // A plain bind first: it fails if anyone holds the port, even
        // another portwise's held (SO_REUSEADDR) socket, so two runs never
        // share a port. SO_REUSEADDR is set afterwards; the kernel reads
        // it at every later bind's conflict check. A port the user chose
        // is bound with SO_REUSEADDR at once, to pass a TIME_WAIT
        // reservation of it.
        let bind = |v6: bool, port: u16| {
            if exact {
                bind_wildcard_reusing(v6, proto, port)
            } else {
                bind_wildcard(v6, proto, port)
            }
        };
        let v4 = bind(false, port)?;
        let port = bound_port(&v4)?;
        let mut held = vec![v4];
        if ipv6 {
            held.push(bind(true, port)?);
        }
        for s in &held {
            s.set_reuse_address(true)?;
        }
        return Ok(Claim {
            port,
            own_ids: held.iter().map(os::socket_id).collect(),
            hold: Hold::Held(held),
            notes: Vec::new(),
        });
    }
    let port = if port == 0 {
        bound_port(&bind_wildcard(false, proto, 0)?)?
    } else {
        port
    };
    match proto {
        Proto::Tcp if exact => Ok(Claim {
            port,
            hold: Hold::Nothing,
            own_ids: Vec::new(),
            notes: vec![format!(
                "on this OS portwise does not reserve a port you chose (port {port}) while the \
                 program starts"
            )],
        }),
        Proto::Tcp => {
            let r = reserve(port, time_wait_ms())?;
            let mut notes = Vec::new();
            if !r.verified {
                notes.push(format!(
                    "no TIME_WAIT socket was seen on port {port} after reserving it: it is free, \
                     but not reserved"
                ));
            }
            Ok(Claim {
                port,
                hold: Hold::TimeWait(r),
                own_ids: Vec::new(),
                notes,
            })
        }
        Proto::Udp => Ok(Claim {
            port,
            hold: Hold::Nothing,
            own_ids: Vec::new(),
            notes: vec![format!(
                "on this OS nothing can hold UDP port {port} for the program: it was free a \
                 moment ago, but not reserved"
            )],
        }),
    }
}

/// Like `bind_wildcard`, with SO_REUSEADDR set before the bind.
fn bind_wildcard_reusing(v6: bool, proto: Proto, port: u16) -> io::Result<Socket> {
    let s = new_socket(v6, proto)?;
    if v6 {
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    s.bind(&crate::ports::probe::wildcard(v6, port).into())?;
    Ok(s)
}

fn describe(strategy: &crate::ports::Strategy) -> String {
    match strategy {
        crate::ports::Strategy::OutsideEphemeral => "the space outside the ephemeral range".into(),
        crate::ports::Strategy::Range(r) => format!("range {r}"),
        crate::ports::Strategy::Os => "the OS-assigned range".into(),
    }
}
