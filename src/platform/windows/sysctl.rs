//! windows: there is no sysctl; tunables live in the registry and `netsh`.

/// Windows has no sysctl keys: always `None`. The tuning engine reads the
/// Windows counterparts (registry, netsh) through their own functions here.
pub fn read(_key: &str) -> Option<String> {
    None
}
