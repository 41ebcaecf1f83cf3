//! Reserve a picked TCP port for a while by leaving it in TIME_WAIT on
//! loopback (the "ephemeral-port-reserve" trick).
//!
//! Linux: the bind of port 0 skips a port whose bind bucket has a
//! conflicting socket, and a TIME_WAIT socket conflicts with it; an explicit
//! bind with SO_REUSEADDR does not conflict with a TIME_WAIT socket that also
//! had SO_REUSEADDR (it inherits it from the listener here). Linux
//! net/ipv4/inet_connection_sock.c `inet_csk_find_open_port()` and
//! `inet_bind_conflict()`; TIME_WAIT lasts 60 s (include/net/tcp.h
//! `TCP_TIMEWAIT_LEN`). See ../shared/knowledge/ports-and-time-wait.md,
//! "The race in grab a free port".

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::sockets::Proto;

use super::probe::new_socket;

/// The outcome of one reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub port: u16,
    /// When the TIME_WAIT socket is expected to expire, where the OS's
    /// TIME_WAIT length is known and the reservation was seen to take.
    pub until_unix_ms: Option<u64>,
    /// True when a plain bind of 127.0.0.1:port failed right after, which
    /// shows the TIME_WAIT socket is in place.
    pub verified: bool,
}

/// Claim `port` and park it in TIME_WAIT: bind 0.0.0.0:port WITHOUT
/// SO_REUSEADDR, listen, connect from 127.0.0.1, accept, and close the
/// accepted side first (the side that closes first holds TIME_WAIT, and its
/// local port is `port`).
///
/// The bind is the claim. Made without SO_REUSEADDR, it fails
/// (`AddrInUse`) next to any socket on the port, including another
/// caller's listener mid-reservation or its TIME_WAIT remnant (Linux
/// `inet_bind_conflict()` lets two sockets share a port only when both set
/// SO_REUSEADDR; BSD `in_pcbbind` likewise for TIME_WAIT), so two callers
/// can never both reserve one port: the check that the port is free and
/// the reservation are one atomic step. From the bind on, the port stays
/// occupied (listener, then the accepted socket, which the kernel turns
/// into the TIME_WAIT socket in place).
///
/// SO_REUSEADDR is set only after the bind, where the platform says it is
/// safe (not on Windows, where it would let this socket share a port in use
/// whose first socket also set SO_REUSEADDR; learn.microsoft.com "Using
/// SO_REUSEADDR and SO_EXCLUSIVEADDRUSE", Enhanced Socket Security): the
/// accepted socket inherits it, and so does its TIME_WAIT remnant, which
/// then lets a server that sets SO_REUSEADDR bind the port at once.
pub fn reserve(port: u16, time_wait_ms: Option<u64>) -> io::Result<Reservation> {
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let claim = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    let sock = new_socket(false, Proto::Tcp)?;
    sock.bind(&claim.into())?;
    if crate::platform::HostPorts::reservation_sets_reuseaddr(&crate::platform::HOST) {
        sock.set_reuse_address(true)?;
    }
    sock.listen(1)?;
    let listener: TcpListener = sock.into();
    let client = TcpStream::connect_timeout(&loopback, Duration::from_secs(2))?;
    let (accepted, _) = listener.accept()?;
    drop(accepted); // FIN from the port's side first: it will hold TIME_WAIT
    drop(client); // the peer's FIN completes the close
    drop(listener);
    let started = crate::util::time::now_unix_ms();
    let verified = wait_for_time_wait(loopback);
    Ok(Reservation {
        port,
        until_unix_ms: if verified {
            time_wait_ms.map(|ms| started + ms)
        } else {
            None
        },
        verified,
    })
}

/// Loopback close handshakes finish within microseconds, but not always
/// before `close()` returns: look for the TIME_WAIT socket for up to ~100 ms.
fn wait_for_time_wait(addr: SocketAddr) -> bool {
    for _ in 0..50 {
        let held = match new_socket(false, Proto::Tcp) {
            Ok(s) => s.bind(&addr.into()).is_err(),
            Err(_) => return false,
        };
        if held {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reservation must never bind over a port another socket holds (on
    /// Windows SO_REUSEADDR would let it share one whose first socket set
    /// SO_REUSEADDR too).
    #[test]
    fn reserve_refuses_a_port_another_socket_holds() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(reserve(port, Some(60_000)).is_err());
        // The holder still owns it: a client reaches it.
        let _c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(held.accept().is_ok());
    }

    /// A reserved port cannot be reserved again (the second claim fails
    /// with AddrInUse), while a server that sets SO_REUSEADDR binds it.
    #[test]
    fn a_reservation_is_an_exclusive_claim() {
        if !crate::platform::os::ports::reservation_sets_reuseaddr() {
            // Windows: a TIME_WAIT socket does not block a new bind there
            // (learn.microsoft.com "Using SO_REUSEADDR and
            // SO_EXCLUSIVEADDRUSE"), so the parked port is not verified and
            // not exclusive once the call returns.
            eprintln!("SKIPPED: a TIME_WAIT reservation is not an exclusive claim on Windows");
            return;
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let r = reserve(port, Some(60_000)).unwrap();
        assert!(r.verified);
        let again = reserve(port, Some(60_000)).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AddrInUse);
        if crate::platform::os::ports::reservation_sets_reuseaddr() {
            let s = new_socket(false, Proto::Tcp).unwrap();
            s.set_reuse_address(true).unwrap();
            s.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())
                .unwrap();
        }
    }
}
