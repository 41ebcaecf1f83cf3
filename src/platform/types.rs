//! Plain types the platform layer reports in, shared with the engine above
//! it. They live here, at the bottom, so that `platform/` imports nothing
//! from the engine (bind, ports, tuning, stop, the window, the CLI); the
//! engine re-exports them where its callers know them (`bind::ErrorClass`,
//! `bind::OsKind`, `tuning::Os`, `ports::PrivilegedPorts`).

use serde::Serialize;

/// An operating system portwise knows: the one it runs on, or the one a
/// tuning snippet or an explanation is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

impl Os {
    pub const ALL: [Os; 3] = [Os::Linux, Os::Macos, Os::Windows];

    /// The running OS.
    pub fn current() -> Os {
        match std::env::consts::OS {
            "macos" => Os::Macos,
            "windows" => Os::Windows,
            _ => Os::Linux,
        }
    }

    /// The name used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Macos => "macos",
            Os::Windows => "windows",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Os::Linux => "Linux",
            Os::Macos => "macOS",
            Os::Windows => "Windows",
        }
    }

    /// Parse `linux`, `macos` or `windows` (case-insensitive).
    pub fn parse(s: &str) -> Result<Os, String> {
        let t = s.trim().to_ascii_lowercase();
        Os::ALL
            .into_iter()
            .find(|o| o.id() == t)
            .ok_or_else(|| format!("unknown OS '{s}' (expected linux, macos or windows)"))
    }

    /// How to run a command with privileges here.
    pub fn elevate_prefix(self) -> Option<&'static str> {
        match self {
            Os::Linux | Os::Macos => Some("sudo "),
            Os::Windows => None,
        }
    }

    /// The command that lists this machine's addresses.
    pub fn list_addresses_command(self) -> &'static str {
        match self {
            Os::Linux => "ip -brief address",
            Os::Macos => "ifconfig",
            Os::Windows => "ipconfig",
        }
    }
}

/// The class of a bind error, whatever the OS calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// EADDRINUSE / WSAEADDRINUSE.
    AddrInUse,
    /// EACCES / WSAEACCES.
    AccessDenied,
    /// EADDRNOTAVAIL / WSAEADDRNOTAVAIL.
    AddrNotAvailable,
    /// EPERM.
    NotPermitted,
    Other,
}

/// Which ports need privileges to bind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrivilegedPorts {
    /// Ports below this need privileges (0: none do).
    pub first_unprivileged: u16,
    /// True where binding the wildcard address (0.0.0.0, ::) is exempt, as
    /// on macOS since Mojave: only specific addresses need root there.
    pub wildcard_exempt: bool,
    /// The setting that moves the limit, where one exists
    /// (`net.ipv4.ip_unprivileged_port_start` on Linux).
    pub setting: Option<&'static str>,
    /// False when the value could not be read and the OS default is shown.
    pub read_from_system: bool,
}

impl PrivilegedPorts {
    /// True when binding `port` on an address that is (or is not) the
    /// wildcard needs privileges.
    pub fn applies(&self, port: u16, wildcard: bool) -> bool {
        port != 0 && port < self.first_unprivileged && !(wildcard && self.wildcard_exempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_names_round_trip() {
        for o in Os::ALL {
            assert_eq!(Os::parse(o.id()), Ok(o));
        }
        assert_eq!(Os::parse(" MacOS "), Ok(Os::Macos));
        assert!(Os::parse("bsd").unwrap_err().contains("bsd"));
        assert_eq!(Os::current().id(), std::env::consts::OS);
        assert_eq!(Os::Windows.elevate_prefix(), None);
        assert_eq!(serde_json::to_string(&Os::Macos).unwrap(), "\"macos\"");
    }

    #[test]
    fn privileged_rule_respects_wildcard_exemption() {
        let linux = PrivilegedPorts {
            first_unprivileged: 1024,
            wildcard_exempt: false,
            setting: Some("net.ipv4.ip_unprivileged_port_start"),
            read_from_system: true,
        };
        assert!(linux.applies(80, true) && linux.applies(80, false));
        assert!(!linux.applies(1024, false) && !linux.applies(0, false));
        let mac = PrivilegedPorts {
            wildcard_exempt: true,
            setting: None,
            ..linux
        };
        assert!(!mac.applies(80, true) && mac.applies(80, false));
    }
}
