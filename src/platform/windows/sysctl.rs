//! windows: there is no sysctl. The tunables portwise reads live in the
//! registry (`reg query`) and in `netsh`; `read` takes the same keys as the
//! tuning knowledge base uses for Windows.
//!
//! The tools run through the platform's cached runner (`super::run`) and
//! their text is parsed by `crate::platform::parse`, where the parsers are
//! tested on every host.
//!
//! Sources for the output formats: `reg query KEY /v NAME` prints
//! `    NAME    REG_DWORD    0x1e`; KB 929851 (Microsoft Learn) for
//! `netsh int ipv4 show dynamicport tcp` ("Start Port : 49152",
//! "Number of Ports : 16384"); `netsh int ipv4 show excludedportrange
//! protocol=tcp` prints a "Start Port / End Port" table, administered
//! exclusions marked with `*`. Labels are translated on non-English Windows,
//! so the parsers look at numbers, not words.

use crate::platform::parse;

use super::run;

/// The registry key holding TcpTimedWaitDelay.
pub const TCPIP_PARAMETERS: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters";

/// The keys `read` understands (the tuning guide's test checks its
/// Windows keys against this list on every OS).
pub const KEYS: [&str; 3] = crate::platform::WINDOWS_TUNABLE_KEYS;

/// The current value of a Windows tunable, in the form the tuning guide
/// prints: `TcpTimedWaitDelay` -> seconds ("30"); `dynamicport tcp` ->
/// "start=49152 num=16384" (IPv4); `excludedportrange tcp` -> "5357,50000-50059*"
/// (IPv4, `*` = administered). `None` when the value is not set (the built-in
/// default applies), the tool fails, or the key is unknown.
pub fn read(key: &str) -> Option<String> {
    match key {
        "TcpTimedWaitDelay" => {
            let out = run(
                "reg",
                &["query", TCPIP_PARAMETERS, "/v", "TcpTimedWaitDelay"],
            )?;
            parse::reg_query_dword(&out, "TcpTimedWaitDelay").map(|v| v.to_string())
        }
        "dynamicport tcp" => {
            let out = run("netsh", &["int", "ipv4", "show", "dynamicport", "tcp"])?;
            parse::netsh_dynamic_port(&out).map(|r| format!("start={} num={}", r.lo, r.len()))
        }
        "excludedportrange tcp" => {
            let out = run(
                "netsh",
                &["int", "ipv4", "show", "excludedportrange", "protocol=tcp"],
            )?;
            Some(parse::excluded_list_text(&parse::netsh_excluded_ranges(
                &out,
            )))
        }
        _ => None,
    }
}

/// Whether `read` knows the key and the system answers for it.
pub fn exists(key: &str) -> bool {
    match key {
        // Absent from the registry is normal: the default applies.
        "TcpTimedWaitDelay" => true,
        _ => read(key).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs on Windows builds (under Wine in CI): every key reads without
    /// panicking, and keys of other OSes are unknown.
    #[test]
    fn reads_windows_keys_only() {
        for key in KEYS {
            let _ = read(key);
        }
        assert!(exists("TcpTimedWaitDelay"));
        assert_eq!(read("net.ipv4.tcp_tw_reuse"), None);
    }
}
