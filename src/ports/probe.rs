//! Cheap bind probes: is a port free right now on the wildcard addresses?

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use crate::sockets::Proto;

/// A new socket of the given family and protocol (close-on-exec, blocking).
pub(crate) fn new_socket(v6: bool, proto: Proto) -> io::Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    match proto {
        Proto::Tcp => Socket::new(domain, Type::STREAM, Some(Protocol::TCP)),
        Proto::Udp => Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)),
    }
}

pub(crate) fn wildcard(v6: bool, port: u16) -> SocketAddr {
    if v6 {
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))
    } else {
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))
    }
}

/// Binds `port` on the wildcard of one family without SO_REUSEADDR and
/// returns the bound socket. The IPv6 socket is made v6-only, so it tests
/// only the IPv6 side (the IPv4 side has its own probe).
pub(crate) fn bind_wildcard(v6: bool, proto: Proto, port: u16) -> io::Result<Socket> {
    let s = new_socket(v6, proto)?;
    if v6 {
        s.set_only_v6(true)?;
    }
    s.bind(&wildcard(v6, port).into())?;
    Ok(s)
}

/// True when `port` can be bound right now, without SO_REUSEADDR, on
/// 0.0.0.0 and (when `ipv6`) on `::`, for every protocol in `protos`.
/// A plain bind fails next to any listener, connection or (on Linux/BSD)
/// TIME_WAIT remnant on the port, so a port that passes is free for a
/// server that does not set SO_REUSEADDR either. The sockets are closed at
/// once.
pub fn is_free(port: u16, protos: &[Proto], ipv6: bool) -> bool {
    protos.iter().all(|&p| {
        bind_wildcard(false, p, port).is_ok() && (!ipv6 || bind_wildcard(true, p, port).is_ok())
    })
}

/// Whether this machine can bind an IPv6 socket to `::` at all (IPv6 may
/// be disabled in the kernel or a container).
pub fn ipv6_available() -> bool {
    bind_wildcard(true, Proto::Tcp, 0).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_port_is_not_free_and_becomes_free_when_closed() {
        let held = bind_wildcard(false, Proto::Tcp, 0).unwrap();
        let port = held.local_addr().unwrap().as_socket().unwrap().port();
        let v6 = ipv6_available();
        assert!(!is_free(port, &[Proto::Tcp], v6));
        drop(held);
        assert!(is_free(port, &[Proto::Tcp], v6));
    }
}
