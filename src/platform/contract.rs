//! The per-OS contract: what each OS module (`linux`, `macos`, `windows`)
//! provides to the engine, as traits. Each OS implements them on one unit
//! struct (`linux::Linux`, ...), re-exported as [`super::Current`] and
//! reachable as [`super::HOST`]. A method with a default is one where most
//! OSes have nothing to say (no reserved ports, no inode owner scan, ...):
//! an OS overrides it only when it knows better.
//!
//! Tests drive the engine through the same traits with fakes shaped like
//! each OS (`platform::fake`).

use std::io;

use socket2::Socket;

use super::range::PortRange;
use super::types::{ErrorClass, PrivilegedPorts};
use crate::sockets::model::Proto;
use crate::sockets::owners::{FdMemory, OwnerQuery};
use crate::sockets::raw::{OwnerScan, RawSocket, Unattributed};

/// Which sockets a port query needs from [`SocketTable::dump_scoped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpScope {
    pub port: u16,
    /// Only sockets whose local port is `port`; else also those whose
    /// remote port is.
    pub local_only: bool,
    /// Only this protocol's sockets.
    pub proto: Option<Proto>,
}

/// The OS's socket table, and how to find the processes behind it.
pub trait SocketTable {
    /// Every TCP and UDP socket, IPv4 and IPv6, handed to `each` as the OS
    /// lists them. `meanwhile` runs once, on this thread, while the OS works
    /// where it can (the first owner scan on Linux). `bound_only` asks for
    /// TCP sockets that are bound but neither listening nor connected, where
    /// listing them costs extra (Linux); other OSes list what they list.
    /// The error is a sentence for the user.
    fn dump(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        bound_only: bool,
    ) -> Result<(), String>;

    /// [`SocketTable::dump`] for one port's sockets: an OS that can ask its
    /// kernel for them alone (Linux: a sock_diag filter) lists fewer; the
    /// others list everything. Either way the caller filters each socket
    /// itself: `scope` only lets the OS send less.
    fn dump_scoped(
        &self,
        each: &mut dyn FnMut(RawSocket),
        meanwhile: &mut dyn FnMut(),
        bound_only: bool,
        _scope: Option<DumpScope>,
    ) -> Result<(), String> {
        self.dump(each, meanwhile, bound_only)
    }

    /// About how many sockets the dump will list, when that is cheap to know.
    fn count_hint(&self) -> Option<usize> {
        None
    }

    /// The processes holding the socket inodes `query` asks for (Linux: a
    /// scan of /proc/<pid>/fd, every socket when `query.wanted` is `None`,
    /// stopping early when `query.stop_early` allows). `memory` keeps what
    /// one scan learned for the next. OSes that list the owners with each
    /// socket have no inodes to resolve.
    fn scan_owners(&self, _query: &OwnerQuery<'_>, _memory: &mut FdMemory) -> OwnerScan {
        OwnerScan::default()
    }

    /// Why `u.count` sockets have no owner, in words for the user.
    fn unattributed_reason(&self, u: &Unattributed) -> String {
        let mut why = format!("{} sockets were listed without an owning process", u.count);
        if !u.privileged {
            why.push_str(
                "; this OS shows the owners of other users' sockets only to an elevated \
                 (administrator or root) portwise",
            );
        }
        why
    }

    /// What this OS's socket list cannot show at all, if anything.
    fn coverage_note(&self, _privileged: bool) -> Option<String> {
        None
    }
}

/// Who this process is, and what it may see.
pub trait ProcessIdentity {
    /// True when running elevated (root; an elevated Administrator token):
    /// then every process's sockets can be attributed.
    fn is_elevated(&self) -> bool;

    /// The effective uid of this process, where the OS has uids.
    fn current_uid(&self) -> Option<u32> {
        None
    }

    /// Whether the OS's user list may be read (sysinfo's `Users`) to name
    /// the owners of processes. False under Wine: its
    /// LsaEnumerateLogonSessions answers with a null list, which sysinfo
    /// 0.40 turns into a slice (src/windows/users.rs), undefined behaviour
    /// that aborts debug builds.
    fn can_list_users(&self) -> bool {
        true
    }
}

/// What the host says about its ports, and its bind errors.
pub trait HostPorts {
    /// The ephemeral range(s) for port-0 binds and outgoing connections;
    /// empty when they cannot be read.
    fn ephemeral_ranges(&self, proto: Proto) -> Vec<PortRange>;

    /// The OS's documented default ephemeral range.
    fn default_ephemeral_range(&self) -> PortRange {
        // IANA's dynamic range, the default of macOS and Windows (RFC 6335).
        PortRange {
            lo: 49152,
            hi: 65535,
        }
    }

    /// Ports kept out of automatic assignment (explicit binds still work).
    fn reserved_ports(&self, _proto: Proto) -> Vec<PortRange> {
        Vec::new()
    }

    /// Ports where even an explicit bind fails.
    fn excluded_ports(&self, _proto: Proto) -> Vec<PortRange> {
        Vec::new()
    }

    /// Which ports need privileges; `None` where none do.
    fn privileged_ports(&self) -> Option<PrivilegedPorts> {
        None
    }

    /// The OS's symbolic name of an error code (`EADDRINUSE`, `WSAEACCES`).
    fn errno_name(&self, code: i32) -> Option<&'static str>;

    /// Which bind failure an error code is.
    fn error_class(&self, code: i32) -> ErrorClass;

    /// What the error code means, in portwise's words, where the system's
    /// own text is not to be relied on (Windows). `None`: use the system's
    /// (strerror on Unix).
    fn error_text(&self, _code: i32) -> Option<&'static str> {
        None
    }

    /// How long TIME_WAIT lasts here, where known.
    fn time_wait_ms(&self) -> Option<u64>;

    /// Set SO_REUSEPORT, where it exists.
    fn set_reuse_port(&self, _sock: &Socket, on: bool) -> io::Result<()> {
        if on {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "SO_REUSEPORT does not exist on this OS",
            ))
        } else {
            Ok(())
        }
    }

    /// True when one `[::]` bind without IPV6_V6ONLY also checks every IPv4
    /// socket on the port. The free-port probe binds 0.0.0.0 and `::` apart
    /// where this is not known to hold.
    fn dual_stack_bind_covers_ipv4(&self) -> bool {
        false
    }

    /// What `free --reserve` does on this OS, in words.
    fn reservation_note(&self) -> &'static str;

    /// Whether the `--reserve` listener sets SO_REUSEADDR.
    fn reservation_sets_reuseaddr(&self) -> bool;

    /// Service-manager units listening on `port` (systemd `.socket` units).
    fn socket_units_for_port(&self, _port: u16) -> Vec<String> {
        Vec::new()
    }
}

/// The current values of kernel tunables, by the keys the tuning guide uses.
pub trait SysctlReader {
    /// The value with runs of whitespace folded to one space; `None` when
    /// the key does not exist or cannot be read.
    fn read(&self, key: &str) -> Option<String>;

    /// Whether this system has the key.
    fn exists(&self, key: &str) -> bool {
        self.read(key).is_some()
    }
}
