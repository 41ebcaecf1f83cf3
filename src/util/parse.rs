//! Parsing of the values both front ends read from text: a port and an
//! address. Each front end words its own message around a `None` (the CLI
//! as a usage error, the window as a field hint), so these only decide
//! what is valid.

use std::net::IpAddr;

/// A port from 0 to 65535; surrounding whitespace is ignored.
pub fn port(text: &str) -> Option<u16> {
    text.trim().parse::<u16>().ok()
}

/// An address with its IPv6 scope id (0 for none): what "fe80::1%eth0"
/// or "[fe80::1%2]" means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopedAddr {
    pub ip: IpAddr,
    pub scope_id: u32,
}

/// An IPv4 or IPv6 address, an IPv6 one optionally with a scope id after
/// '%': an interface index ("fe80::1%2") or, on Linux and macOS, an
/// interface name ("fe80::1%lo", RFC 4007 section 11). Surrounding
/// whitespace and brackets around an IPv6 address ("[fe80::1%lo]") are
/// ignored. `None` for anything else, an unknown interface included.
pub fn scoped_ip_addr(text: &str) -> Option<ScopedAddr> {
    let t = text.trim();
    let inner = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    let (addr, scope) = match inner.split_once('%') {
        Some((a, s)) => (a, Some(s)),
        None => (inner, None),
    };
    let ip = addr.parse::<IpAddr>().ok()?;
    let scope_id = match scope {
        None => 0,
        Some(_) if ip.is_ipv4() => return None,
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok()?,
        Some(name) => crate::platform::os::ports::interface_index(name)?,
    };
    Some(ScopedAddr { ip, scope_id })
}

/// [`scoped_ip_addr`] without the scope id.
pub fn ip_addr(text: &str) -> Option<IpAddr> {
    scoped_ip_addr(text).map(|s| s.ip)
}

/// The scope id in `text` ([`scoped_ip_addr`]); 0 for none or bad text.
pub fn scope_id(text: &str) -> u32 {
    scoped_ip_addr(text).map_or(0, |s| s.scope_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(port(" 8080 "), Some(8080));
        assert_eq!(port("0"), Some(0));
        assert_eq!(port("65535"), Some(65535));
        assert_eq!(port("65536"), None);
        assert_eq!(port("-1"), None);
        assert_eq!(port(""), None);
        assert_eq!(port("http"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(ip_addr(" 127.0.0.1 "), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(ip_addr("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(ip_addr("::"), Some("::".parse().unwrap()));
        assert_eq!(ip_addr("[127.0.0.1"), None);
        assert_eq!(ip_addr("localhost"), None);
        assert_eq!(ip_addr(""), None);
    }

    #[test]
    fn scoped_addresses() {
        let fe80: IpAddr = "fe80::1".parse().unwrap();
        let s = |ip, scope_id| Some(ScopedAddr { ip, scope_id });
        assert_eq!(scoped_ip_addr("fe80::1%2"), s(fe80, 2));
        assert_eq!(scoped_ip_addr(" [fe80::1%2] "), s(fe80, 2));
        assert_eq!(scoped_ip_addr("::1"), s("::1".parse().unwrap(), 0));
        assert_eq!(ip_addr("[fe80::1%7]"), Some(fe80));
        assert_eq!(scope_id("fe80::1%7"), 7);
        // A scope on IPv4, an empty or unknown one: invalid.
        assert_eq!(scoped_ip_addr("127.0.0.1%1"), None);
        assert_eq!(scoped_ip_addr("fe80::1%"), None);
        assert_eq!(scoped_ip_addr("fe80::1%no-such-if0"), None);
        assert_eq!(scoped_ip_addr("fe80::1%99999999999"), None);
        // Interface names where the OS looks them up (Linux, macOS).
        if let Some(lo) = ["lo", "lo0"]
            .into_iter()
            .find_map(crate::platform::os::ports::interface_index)
        {
            let name = if scoped_ip_addr("fe80::1%lo").is_some() {
                "lo"
            } else {
                "lo0"
            };
            assert_eq!(scoped_ip_addr(&format!("fe80::1%{name}")), s(fe80, lo));
        }
    }
}
