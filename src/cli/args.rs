//! Parsers for the values subcommands take (ports, addresses, pids, counts,
//! seconds): one copy each, every bad value a one-line usage error naming it.
//! (The window's bind form has its own String-error copies in
//! state/bind.rs; they could call these once the error types meet.)

use std::time::Duration;

use super::CliError;
use crate::util::text::escape_control as esc;

/// A port 0-65535.
pub fn parse_port(p: &str) -> Result<u16, CliError> {
    crate::util::parse::port(p).ok_or_else(|| {
        CliError::Usage(format!(
            "invalid port '{}' (expected a number from 0 to 65535)",
            esc(p)
        ))
    })
}

/// A port 1-65535: one to stop, where port 0 means nothing. Every bad value
/// (0, -1, 70000, "http") gets the same message with the same range.
pub fn parse_nonzero_port(p: &str) -> Result<u16, CliError> {
    match crate::util::parse::port(p) {
        Some(port) if port != 0 => Ok(port),
        _ => Err(CliError::Usage(format!(
            "invalid port '{}' (expected a number from 1 to 65535)",
            esc(p)
        ))),
    }
}

/// An IPv4 or IPv6 address (brackets around IPv6 allowed), an IPv6 one
/// optionally with a scope id: "fe80::1%eth0", "[fe80::1%2]".
pub fn parse_addr(a: &str) -> Result<crate::util::parse::ScopedAddr, CliError> {
    crate::util::parse::scoped_ip_addr(a).ok_or_else(|| {
        CliError::Usage(format!(
            "invalid address '{}' (expected an IPv4 or IPv6 address, e.g. 0.0.0.0, ::, \
             127.0.0.1, fe80::1%eth0 with a scope: an interface name or index)",
            esc(a)
        ))
    })
}

/// A process id.
pub fn parse_pid(p: &str) -> Result<u32, CliError> {
    p.trim().parse::<u32>().map_err(|_| {
        CliError::Usage(format!(
            "invalid pid '{}' (expected a process id, a whole number)",
            esc(p)
        ))
    })
}

/// A whole number from 1 to 65535 (how many ports).
pub fn parse_count(s: &str) -> Result<usize, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "invalid count '{}' (expected a whole number from 1 to 65535)",
            esc(s)
        ))
    };
    let n: u64 = s.trim().parse().map_err(|_| bad())?;
    if !(1..=65535).contains(&n) {
        return Err(bad());
    }
    Ok(n as usize)
}

/// Seconds, fractions allowed, from `min` to one day; `what` names the
/// option in the message ("--wait").
pub fn parse_seconds(s: &str, what: &str, min: f64) -> Result<Duration, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "invalid {what} '{}' (expected seconds, from {min} to 86400)",
            esc(s)
        ))
    };
    let secs: f64 = s.trim().parse().map_err(|_| bad())?;
    if !secs.is_finite() || !(min..=86_400.0).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(r: Result<impl std::fmt::Debug, CliError>) -> String {
        match r {
            Err(CliError::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn good_values_parse() {
        assert_eq!(parse_port(" 8080 ").ok(), Some(8080));
        assert_eq!(
            parse_addr("[::1]").ok().map(|s| s.ip),
            Some("::1".parse().unwrap())
        );
        assert_eq!(parse_addr("fe80::1%3").ok().map(|s| s.scope_id), Some(3));
        assert_eq!(parse_pid("42").ok(), Some(42));
        assert_eq!(parse_count("3").ok(), Some(3));
        assert_eq!(parse_seconds("0", "--wait", 0.0).ok(), Some(Duration::ZERO));
    }

    #[test]
    fn bad_values_name_themselves() {
        assert!(usage(parse_port("70000")).contains("'70000'"));
        assert!(usage(parse_addr("nope")).contains("'nope'"));
        assert!(usage(parse_pid("x")).contains("'x'"));
        assert!(usage(parse_count("0")).contains("'0'"));
        let m = usage(parse_seconds("0.05", "--watch interval", 0.1));
        assert_eq!(
            m,
            "invalid --watch interval '0.05' (expected seconds, from 0.1 to 86400)"
        );
        let m = usage(parse_seconds("nan", "--wait", 0.0));
        assert_eq!(
            m,
            "invalid --wait 'nan' (expected seconds, from 0 to 86400)"
        );
    }
}
