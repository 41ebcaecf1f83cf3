//! windows: there is no sysctl. The tunables portwise reads live in the
//! registry (`reg query`) and in `netsh`; `read` takes the same keys as the
//! tuning knowledge base uses for Windows.
//!
//! The parsers are pure functions over the tools' text output so they can be
//! tested on any host (src/tuning/cross_os.rs compiles this file on Linux).
//!
//! Sources for the output formats: `reg query KEY /v NAME` prints
//! `    NAME    REG_DWORD    0x1e`; KB 929851 (Microsoft Learn) for
//! `netsh int ipv4 show dynamicport tcp` ("Start Port : 49152",
//! "Number of Ports : 16384"); `netsh int ipv4 show excludedportrange
//! protocol=tcp` prints a "Start Port / End Port" table, administered
//! exclusions marked with `*`. Labels are translated on non-English Windows,
//! so the parsers look at numbers, not words.

use std::process::Command;

/// The registry key holding TcpTimedWaitDelay.
pub const TCPIP_PARAMETERS: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters";

/// The keys `read` understands.
pub const KEYS: [&str; 3] = [
    "TcpTimedWaitDelay",
    "dynamicport tcp",
    "excludedportrange tcp",
];

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
            parse_reg_dword(&out, "TcpTimedWaitDelay").map(|v| v.to_string())
        }
        "dynamicport tcp" => {
            let out = run("netsh", &["int", "ipv4", "show", "dynamicport", "tcp"])?;
            parse_dynamic_port(&out).map(|(start, num)| format!("start={start} num={num}"))
        }
        "excludedportrange tcp" => {
            let out = run(
                "netsh",
                &["int", "ipv4", "show", "excludedportrange", "protocol=tcp"],
            )?;
            Some(format_excluded(&parse_excluded_ranges(&out)))
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

/// Run a console tool without flashing a window; its stdout when it succeeds.
fn run(program: &str, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    #[cfg(target_os = "windows")]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        cmd.creation_flags(CREATE_NO_WINDOW);
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The value of `name` in `reg query` output (`REG_DWORD`, hex or decimal).
pub fn parse_reg_dword(text: &str, name: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        if !parts.next()?.eq_ignore_ascii_case(name) {
            return None;
        }
        if !parts.next()?.eq_ignore_ascii_case("REG_DWORD") {
            return None;
        }
        let v = parts.next()?;
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    })
}

/// (start port, number of ports) from `netsh int ipv4 show dynamicport tcp`:
/// the first two numbers that follow a ':' on their lines.
pub fn parse_dynamic_port(text: &str) -> Option<(u16, u32)> {
    let mut nums = text.lines().filter_map(|line| {
        let (_, after) = line.split_once(':')?;
        after.trim().parse::<u32>().ok()
    });
    let start = u16::try_from(nums.next()?).ok()?;
    let num = nums.next()?;
    Some((start, num))
}

/// One excluded block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExcludedRange {
    pub start: u16,
    pub end: u16,
    /// Added by an administrator (`netsh ... add excludedportrange`).
    pub administered: bool,
}

/// The table of `netsh int ipv4 show excludedportrange protocol=tcp`: every
/// line made of two port numbers and maybe a `*`.
pub fn parse_excluded_ranges(text: &str) -> Vec<ExcludedRange> {
    let mut out: Vec<ExcludedRange> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let start: u16 = parts.next()?.parse().ok()?;
            let end: u16 = parts.next()?.parse().ok()?;
            let administered = match parts.next() {
                None => false,
                Some("*") => true,
                Some(_) => return None,
            };
            if parts.next().is_some() || start > end {
                return None;
            }
            Some(ExcludedRange {
                start,
                end,
                administered,
            })
        })
        .collect();
    out.sort_by_key(|r| (r.start, r.end));
    out
}

/// "5357,50000-50059*": the list form the tuning guide shows.
pub fn format_excluded(ranges: &[ExcludedRange]) -> String {
    ranges
        .iter()
        .map(|r| {
            let mut s = if r.start == r.end {
                r.start.to_string()
            } else {
                format!("{}-{}", r.start, r.end)
            };
            if r.administered {
                s.push('*');
            }
            s
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_query_output() {
        let text = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\r\n    \
                    TcpTimedWaitDelay    REG_DWORD    0x1e\r\n\r\n";
        assert_eq!(parse_reg_dword(text, "TcpTimedWaitDelay"), Some(30));
        assert_eq!(
            parse_reg_dword(
                "    tcptimedwaitdelay    REG_DWORD    0x78\n",
                "TcpTimedWaitDelay"
            ),
            Some(120)
        );
        assert_eq!(
            parse_reg_dword(
                "    TcpTimedWaitDelay    REG_SZ    30\n",
                "TcpTimedWaitDelay"
            ),
            None
        );
        assert_eq!(
            parse_reg_dword(
                "ERROR: The system was unable to find the specified registry key or value.\n",
                "TcpTimedWaitDelay"
            ),
            None
        );
    }

    #[test]
    fn dynamic_port_output_with_any_labels() {
        let en = "\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\n\
                  Start Port      : 49152\r\nNumber of Ports : 16384\r\n\r\n";
        assert_eq!(parse_dynamic_port(en), Some((49152, 16384)));
        // Labels are translated on other Windows languages (illustrative text).
        let de = "\nProtokoll tcp Dynamischer Portbereich\n-----------------\n\
                  Startport       : 1025\nAnzahl der Ports: 64511\n";
        assert_eq!(parse_dynamic_port(de), Some((1025, 64511)));
        assert_eq!(
            parse_dynamic_port("The requested operation requires elevation."),
            None
        );
    }

    #[test]
    fn excluded_ranges_output() {
        let text = "\r\nProtocol tcp Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n\
                    ----------    --------\r\n      5357        5357\r\n     50000       50059     *\r\n\
                    1031        1130\r\n\r\n* - Administered port exclusions.\r\n";
        let r = parse_excluded_ranges(text);
        assert_eq!(
            r,
            vec![
                ExcludedRange {
                    start: 1031,
                    end: 1130,
                    administered: false
                },
                ExcludedRange {
                    start: 5357,
                    end: 5357,
                    administered: false
                },
                ExcludedRange {
                    start: 50000,
                    end: 50059,
                    administered: true
                },
            ]
        );
        assert_eq!(format_excluded(&r), "1031-1130,5357,50000-50059*");
        assert_eq!(
            format_excluded(&parse_excluded_ranges("no table here\n")),
            ""
        );
    }
}
