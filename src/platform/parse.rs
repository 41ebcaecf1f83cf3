//! Pure parsers for the text the OSes print about their port ranges.
//!
//! Pure functions, compiled on every OS (they are not behind a
//! `#[cfg(target_os)]`), so that every parser, the Windows ones too, is
//! tested on every host; each OS's code only fetches the text and calls them.

use super::range::{PortRange, normalize};

/// Linux `net.ipv4.ip_local_port_range`: two numbers, e.g. `"32768\t60999"`
/// (ip-sysctl.rst: "two integers ... the first number is the first, the
/// second the last local port number").
pub fn sysctl_port_pair(text: &str) -> Option<PortRange> {
    let mut it = text.split_whitespace().map(str::parse::<u16>);
    let lo = it.next()?.ok()?;
    let hi = it.next()?.ok()?;
    if it.next().is_some() {
        return None;
    }
    PortRange::new(lo, hi)
}

/// Linux `net.ipv4.ip_local_reserved_ports`: a comma-separated list of
/// ports and ranges, e.g. `"8080,9000-9010"`; empty when nothing is
/// reserved (ip-sysctl.rst `ip_local_reserved_ports`). Malformed items are
/// skipped, never guessed.
pub fn port_list(text: &str) -> Vec<PortRange> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = match item.split_once('-') {
            Some((a, b)) => match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                (Ok(lo), Ok(hi)) => PortRange::new(lo, hi),
                _ => None,
            },
            None => item.parse::<u16>().ok().map(PortRange::single),
        };
        out.extend(parsed);
    }
    normalize(out)
}

/// Every run of ASCII digits in `line`, as numbers (too-large runs skipped).
fn numbers(line: &str) -> Vec<u32> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<u32>().ok())
        .collect()
}

/// Windows `netsh int ipv4 show dynamicport tcp` (or udp, ipv6):
///
/// ```text
/// Protocol tcp Dynamic Port Range
/// ---------------------------------
/// Start Port      : 49152
/// Number of Ports : 16384
/// ```
///
/// The labels are translated on localized Windows, so this reads the first
/// two `label : number` lines in order: start port, then number of ports.
pub fn netsh_dynamic_port(text: &str) -> Option<PortRange> {
    let mut values = text.lines().filter_map(|line| {
        let (_, value) = line.split_once(':')?;
        value.trim().parse::<u32>().ok()
    });
    let start = values.next()?;
    let count = values.next()?;
    if start == 0 || count == 0 || start > 65535 {
        return None;
    }
    let end = start + count - 1;
    if end > 65535 {
        return None;
    }
    PortRange::new(start as u16, end as u16)
}

/// One row of Windows' excluded port ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExcludedBlock {
    pub range: PortRange,
    /// Marked `*`: added by an administrator (`netsh ... add
    /// excludedportrange`). Such a block only keeps the ports out of dynamic
    /// (automatic) assignment; a program that asks for one of them explicitly
    /// can still bind it (Microsoft KB 812873: "only a program or process that
    /// specifically requests a port that is in the reserved range can use the
    /// port"; KB 3039044 shows such binds succeeding). Blocks without the mark
    /// are taken by Windows components (Hyper-V, WinNAT, WSL2, Docker), and
    /// binds inside them fail with WSAEACCES (10013).
    pub administered: bool,
}

/// The ranges of `blocks` where an explicit bind fails: those without the
/// administered mark.
pub fn binds_refused(blocks: &[ExcludedBlock]) -> Vec<PortRange> {
    normalize(
        blocks
            .iter()
            .filter(|b| !b.administered)
            .map(|b| b.range)
            .collect(),
    )
}

/// Every range of `blocks`: all are kept out of dynamic assignment.
pub fn all_excluded(blocks: &[ExcludedBlock]) -> Vec<PortRange> {
    normalize(blocks.iter().map(|b| b.range).collect())
}

/// Windows `netsh int ipv4 show excludedportrange protocol=tcp`:
///
/// ```text
/// Protocol tcp Port Exclusion Ranges
///
/// Start Port    End Port
/// ----------    --------
///       5357        5357
///      50000       50059     *
///
/// * - Administered port exclusions.
/// ```
///
/// Rows are the lines made of exactly two numbers (and an optional `*`,
/// kept as [`ExcludedBlock::administered`]); headers in any language have
/// no digits, so they are skipped. Sorted; blocks are not merged, so that
/// the mark stays with its own ports.
pub fn netsh_excluded_ranges(text: &str) -> Vec<ExcludedBlock> {
    let mut out = Vec::new();
    for line in text.lines() {
        let rest: String = line
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*')
            .filter(|c| !c.is_ascii_digit())
            .collect();
        if !rest.is_empty() {
            continue;
        }
        if let [lo, hi] = numbers(line)[..]
            && lo <= 65535
            && hi <= 65535
            && let Some(range) = PortRange::new(lo as u16, hi as u16)
        {
            out.push(ExcludedBlock {
                range,
                administered: line.contains('*'),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// "5357,50000-50059*": blocks as the tuning guide lists them, `*` after
/// an administered one.
pub fn excluded_list_text(blocks: &[ExcludedBlock]) -> String {
    blocks
        .iter()
        .map(|b| {
            let mark = if b.administered { "*" } else { "" };
            format!("{}{mark}", b.range)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Windows `reg query HKLM\...\Tcpip\Parameters /v TcpTimedWaitDelay`:
///
/// ```text
/// HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters
///     TcpTimedWaitDelay    REG_DWORD    0x1e
/// ```
///
/// Returns the DWORD value of the named entry.
pub fn reg_query_dword(text: &str, name: &str) -> Option<u32> {
    for line in text.lines() {
        let mut cols = line.split_whitespace();
        if cols.next().is_some_and(|c| c.eq_ignore_ascii_case(name))
            && cols.next() == Some("REG_DWORD")
        {
            let v = cols.next()?;
            let hex = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"))?;
            return u32::from_str_radix(hex, 16).ok();
        }
    }
    None
}

/// `systemctl list-sockets --no-legend --no-pager --full` lines look like
/// `[::]:22    sshd.socket   sshd.service` (LISTEN, UNIT, ACTIVATES).
/// Returns the `.socket` units listening on `port`, sorted.
pub fn systemd_socket_units(text: &str, port: u16) -> Vec<String> {
    let suffix = format!(":{port}");
    let mut units: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            let listen = cols.next()?;
            let unit = cols.next()?;
            (listen.ends_with(&suffix) && unit.ends_with(".socket")).then(|| unit.to_string())
        })
        .collect();
    units.sort();
    units.dedup();
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lo: u16, hi: u16) -> PortRange {
        PortRange::new(lo, hi).unwrap()
    }

    #[test]
    fn linux_port_range() {
        assert_eq!(sysctl_port_pair("32768\t60999\n"), Some(r(32768, 60999)));
        assert_eq!(sysctl_port_pair("32768 60999"), Some(r(32768, 60999)));
        assert_eq!(sysctl_port_pair("60999 32768"), None);
        assert_eq!(sysctl_port_pair("32768"), None);
        assert_eq!(sysctl_port_pair("1 2 3"), None);
        assert_eq!(sysctl_port_pair(""), None);
    }

    #[test]
    fn linux_reserved_ports() {
        assert_eq!(port_list(""), vec![]);
        assert_eq!(port_list("\n"), vec![]);
        assert_eq!(
            port_list("8080,9000-9010,8081"),
            vec![r(8080, 8081), r(9000, 9010)]
        );
        assert_eq!(port_list("1,2-4,10-10"), vec![r(1, 4), r(10, 10)]);
        assert_eq!(port_list("x,70000,5-3,7"), vec![r(7, 7)]);
    }

    #[test]
    fn windows_dynamic_port_english_and_localized() {
        let en = "\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\nStart Port      : 49152\r\nNumber of Ports : 16384\r\n\r\n";
        assert_eq!(netsh_dynamic_port(en), Some(r(49152, 65535)));
        let de = "\nProtokoll tcp Dynamischer Portbereich\n---------------------------------\nStartport       : 10000\nAnzahl der Ports: 1000\n";
        assert_eq!(netsh_dynamic_port(de), Some(r(10000, 10999)));
        assert_eq!(
            netsh_dynamic_port("Start Port : 65000\nNumber of Ports : 1000\n"),
            None
        );
        assert_eq!(netsh_dynamic_port("nothing here"), None);
    }

    #[test]
    fn windows_excluded_ranges_keep_the_administered_mark() {
        let text = "\r\nProtocol tcp Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n      5357        5357\r\n     50000       50059     *\r\n     49709       49808\r\n\r\n* - Administered port exclusions.\r\n\r\n";
        let block = |lo, hi, administered| ExcludedBlock {
            range: r(lo, hi),
            administered,
        };
        assert_eq!(
            netsh_excluded_ranges(text),
            vec![
                block(5357, 5357, false),
                block(49709, 49808, false),
                block(50000, 50059, true)
            ]
        );
        assert_eq!(
            netsh_excluded_ranges("Protocol tcp Port Exclusion Ranges\n"),
            vec![]
        );
        // The administered block is kept out of dynamic assignment, but an
        // explicit bind to it works: it is not among the refused ranges.
        let blocks = netsh_excluded_ranges(text);
        assert_eq!(
            all_excluded(&blocks),
            vec![r(5357, 5357), r(49709, 49808), r(50000, 50059)]
        );
        assert_eq!(binds_refused(&blocks), vec![r(5357, 5357), r(49709, 49808)]);
        assert_eq!(excluded_list_text(&blocks), "5357,49709-49808,50000-50059*");
        assert_eq!(excluded_list_text(&[]), "");
        // The guide's list form reads back as a port list (the mark dropped).
        let text = excluded_list_text(&blocks).replace('*', "");
        assert_eq!(port_list(&text), all_excluded(&blocks));
    }

    #[test]
    fn windows_reg_dword() {
        let text = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\r\n    TcpTimedWaitDelay    REG_DWORD    0x1e\r\n\r\n";
        assert_eq!(reg_query_dword(text, "TcpTimedWaitDelay"), Some(30));
        assert_eq!(reg_query_dword(text, "Other"), None);
        assert_eq!(
            reg_query_dword("ERROR: not found", "TcpTimedWaitDelay"),
            None
        );
    }

    #[test]
    fn systemd_units() {
        let text = "[::]:22               sshd.socket          sshd.service\n\
                    /run/dbus/system_bus_socket dbus.socket dbus.service\n\
                    0.0.0.0:8080          web.socket           web.service\n\
                    [::]:8080             web.socket           web.service\n\
                    127.0.0.1:18080       other.socket         other.service\n";
        assert_eq!(
            systemd_socket_units(text, 8080),
            vec!["web.socket".to_string()]
        );
        assert_eq!(
            systemd_socket_units(text, 22),
            vec!["sshd.socket".to_string()]
        );
        assert!(systemd_socket_units(text, 80).is_empty());
    }
}
