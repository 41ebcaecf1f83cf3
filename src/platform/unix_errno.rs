//! errno names and bind-failure classes shared by Linux and macOS. Only the
//! mapping is shared: the numbers differ per OS (EADDRINUSE is 98 on Linux,
//! 48 on macOS), so every arm uses the `libc` constant of the target being
//! built (man7 errno(3); macOS intro(2)). Windows uses WSA codes instead
//! (platform/windows/ports.rs).

use super::types::ErrorClass;

/// The symbolic name of an errno value.
pub fn errno_name(code: i32) -> Option<&'static str> {
    Some(match code {
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENODEV => "ENODEV",
        _ => return None,
    })
}

/// Which bind failure an errno value is.
pub fn error_class(code: i32) -> ErrorClass {
    match code {
        libc::EADDRINUSE => ErrorClass::AddrInUse,
        libc::EACCES => ErrorClass::AccessDenied,
        libc::EADDRNOTAVAIL => ErrorClass::AddrNotAvailable,
        libc::EPERM => ErrorClass::NotPermitted,
        _ => ErrorClass::Other,
    }
}
