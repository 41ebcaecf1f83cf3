//! Wall-clock helpers.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// "14:02:11": the UTC time of day of a Unix time in milliseconds.
pub fn utc_hms(unix_ms: u64) -> String {
    let s = (unix_ms / 1000) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_of_day() {
        assert_eq!(utc_hms(0), "00:00:00");
        // 2023-11-14T22:13:20Z
        assert_eq!(utc_hms(1_700_000_000_000), "22:13:20");
        assert_eq!(utc_hms(86_399_999), "23:59:59");
    }
}
