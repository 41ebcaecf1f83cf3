//! The bind itself: socket2, exactly the options asked for, then `listen`
//! for TCP; the socket is released at once.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use super::{BindErrorInfo, BindRequest};
use crate::platform::{HOST as os, HostPorts};
use crate::sockets::Proto;

/// Which call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Socket,
    SetOption,
    Bind,
    Listen,
}

impl Stage {
    pub fn call(self) -> &'static str {
        match self {
            Stage::Socket => "socket()",
            Stage::SetOption => "setsockopt()",
            Stage::Bind => "bind()",
            Stage::Listen => "listen()",
        }
    }
}

/// A successful probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The address and port actually bound (the OS's pick for port 0).
    pub addr: SocketAddr,
}

/// A failed probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeFailure {
    pub stage: Stage,
    pub error: BindErrorInfo,
    /// IPV6_V6ONLY as the socket had it (IPv6 only; the OS default applies
    /// when the request did not set it): decides dual-stack conflicts.
    pub v6only: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// An option this OS does not have (SO_REUSEPORT on Windows): usage.
    Unsupported(String),
    Failed(ProbeFailure),
}

/// Turns an OS error into the JSON error: name, number, message.
pub fn error_info(stage: Stage, e: &io::Error) -> BindErrorInfo {
    let errno = e.raw_os_error().unwrap_or(0);
    let code = os.errno_name(errno).unwrap_or("UNKNOWN").to_string();
    let text = match os.error_text(errno) {
        Some(words) => words.to_string(),
        None => {
            // io::Error's Display ends in " (os error N)": the number is in
            // `errno`.
            let text = e.to_string();
            match text.rfind(" (os error ") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    };
    BindErrorInfo {
        code,
        errno,
        message: format!("{} failed: {text}", stage.call()),
        class: os.error_class(errno),
    }
}

/// Tries the bind as asked. On success the socket is closed before this
/// returns.
pub fn probe(req: &BindRequest) -> Result<Bound, ProbeError> {
    let addr = match req.addr {
        // With the scope: a link-local address binds only with its interface.
        IpAddr::V6(ip) => {
            SocketAddr::V6(std::net::SocketAddrV6::new(ip, req.port, 0, req.scope_id))
        }
        IpAddr::V4(_) => SocketAddr::new(req.addr, req.port),
    };
    let fail = |stage: Stage, e: io::Error, v6only: Option<bool>| {
        ProbeError::Failed(ProbeFailure {
            stage,
            error: error_info(stage, &e),
            v6only,
        })
    };
    let (ty, proto) = match req.proto {
        Proto::Tcp => (Type::STREAM, Protocol::TCP),
        Proto::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let sock = Socket::new(Domain::for_address(addr), ty, Some(proto))
        .map_err(|e| fail(Stage::Socket, e, None))?;
    if req.reuseaddr {
        sock.set_reuse_address(true)
            .map_err(|e| fail(Stage::SetOption, e, None))?;
    }
    if req.reuseport {
        os.set_reuse_port(&sock, true).map_err(|e| {
            if e.kind() == io::ErrorKind::Unsupported {
                ProbeError::Unsupported(format!("--reuseport: {e}"))
            } else {
                fail(Stage::SetOption, e, None)
            }
        })?;
    }
    if req.v6only {
        if req.addr.is_ipv4() {
            return Err(ProbeError::Unsupported(format!(
                "--v6only applies to IPv6 addresses, not {}",
                req.addr
            )));
        }
        sock.set_only_v6(true)
            .map_err(|e| fail(Stage::SetOption, e, None))?;
    }
    let v6only = if req.addr.is_ipv6() {
        sock.only_v6().ok()
    } else {
        None
    };
    sock.bind(&addr.into())
        .map_err(|e| fail(Stage::Bind, e, v6only))?;
    if req.proto == Proto::Tcp {
        sock.listen(128)
            .map_err(|e| fail(Stage::Listen, e, v6only))?;
    }
    let bound = sock
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .unwrap_or(addr);
    drop(sock);
    Ok(Bound { addr: bound })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bind::ErrorClass;
    use std::net::TcpListener;

    #[test]
    fn port_zero_reports_the_assigned_port() {
        let req = BindRequest::new("127.0.0.1".parse().unwrap(), 0, Proto::Tcp);
        let b = probe(&req).unwrap();
        assert_ne!(b.addr.port(), 0);
        assert_eq!(b.addr.ip(), req.addr);
    }

    #[test]
    fn a_taken_port_fails_with_addrinuse() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let req = BindRequest::new("127.0.0.1".parse().unwrap(), port, Proto::Tcp);
        match probe(&req) {
            Err(ProbeError::Failed(f)) => {
                assert_eq!(f.stage, Stage::Bind);
                assert_eq!(f.error.class, ErrorClass::AddrInUse);
                // EADDRINUSE on Unix, WSAEADDRINUSE on Windows.
                assert!(f.error.code.ends_with("EADDRINUSE"), "{}", f.error.code);
                assert!(
                    f.error.message.contains("Address already in use"),
                    "{}",
                    f.error.message
                );
                assert!(!f.error.message.contains("FormatMessage"));
                assert!(
                    f.error.message.starts_with("bind() failed: "),
                    "{}",
                    f.error.message
                );
                assert!(!f.error.message.contains("os error"));
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn v6only_on_ipv4_is_refused_as_usage() {
        let mut req = BindRequest::new("127.0.0.1".parse().unwrap(), 0, Proto::Udp);
        req.v6only = true;
        assert!(matches!(probe(&req), Err(ProbeError::Unsupported(_))));
    }
}
