//! Parsing of the values both front ends read from text: a port and an
//! address. Each front end words its own message around a `None` (the CLI
//! as a usage error, the window as a field hint), so these only decide
//! what is valid.

use std::net::IpAddr;

/// A port from 0 to 65535; surrounding whitespace is ignored.
pub fn port(text: &str) -> Option<u16> {
    text.trim().parse::<u16>().ok()
}

/// An IPv4 or IPv6 address; surrounding whitespace and brackets around an
/// IPv6 address ("[::1]") are ignored.
pub fn ip_addr(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let inner = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    inner.parse::<IpAddr>().ok()
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
}
