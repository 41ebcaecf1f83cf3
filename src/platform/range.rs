//! Port ranges and small set operations over them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An inclusive range of ports, `lo <= hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    /// `None` when `lo > hi`.
    pub fn new(lo: u16, hi: u16) -> Option<PortRange> {
        (lo <= hi).then_some(PortRange { lo, hi })
    }

    pub fn single(port: u16) -> PortRange {
        PortRange { lo: port, hi: port }
    }

    pub fn contains(self, port: u16) -> bool {
        self.lo <= port && port <= self.hi
    }

    /// Number of ports in the range (at least 1).
    pub fn len(self) -> u32 {
        u32::from(self.hi) - u32::from(self.lo) + 1
    }

    /// Never true: a range holds at least one port. (For clippy's
    /// `len_without_is_empty`.)
    pub fn is_empty(self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;

    /// Parses a user-given `LO-HI` (or a single port) within 1-65535.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let (lo_s, hi_s) = match text.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (text, text),
        };
        let parse = |part: &str| -> Result<u16, String> {
            let n: u64 = part.parse().map_err(|_| {
                format!("'{text}' is not a port range (expected LO-HI, e.g. 20000-20100)")
            })?;
            if !(1..=65535).contains(&n) {
                return Err(format!("port {n} in range '{text}' is outside 1-65535"));
            }
            Ok(n as u16)
        };
        let lo = parse(lo_s)?;
        let hi = parse(hi_s)?;
        PortRange::new(lo, hi).ok_or_else(|| {
            format!("range '{text}' is reversed: LO ({lo}) is greater than HI ({hi})")
        })
    }
}

/// Sorts and merges overlapping or adjacent ranges.
pub fn normalize(mut ranges: Vec<PortRange>) -> Vec<PortRange> {
    ranges.sort();
    let mut out: Vec<PortRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if u32::from(r.lo) <= u32::from(last.hi) + 1 => {
                last.hi = last.hi.max(r.hi);
            }
            _ => out.push(r),
        }
    }
    out
}

/// `from` minus every port in `minus`, normalized.
pub fn subtract(from: &[PortRange], minus: &[PortRange]) -> Vec<PortRange> {
    let minus = normalize(minus.to_vec());
    let mut out = Vec::new();
    for r in normalize(from.to_vec()) {
        let mut lo = u32::from(r.lo);
        let hi = u32::from(r.hi);
        for m in &minus {
            let (mlo, mhi) = (u32::from(m.lo), u32::from(m.hi));
            if mhi < lo || mlo > hi {
                continue;
            }
            if mlo > lo {
                out.push(PortRange {
                    lo: lo as u16,
                    hi: (mlo - 1) as u16,
                });
            }
            lo = mhi + 1;
            if lo > hi {
                break;
            }
        }
        if lo <= hi {
            out.push(PortRange {
                lo: lo as u16,
                hi: hi as u16,
            });
        }
    }
    out
}

/// Total number of ports in `ranges` (assumed disjoint).
pub fn total(ranges: &[PortRange]) -> u32 {
    ranges.iter().map(|r| r.len()).sum()
}

/// The `index`-th port across `ranges` in order (assumed disjoint);
/// `None` when `index >= total(ranges)`.
pub fn nth(ranges: &[PortRange], mut index: u32) -> Option<u16> {
    for r in ranges {
        if index < r.len() {
            return Some((u32::from(r.lo) + index) as u16);
        }
        index -= r.len();
    }
    None
}

/// True when `port` lies in any of `ranges`.
pub fn any_contains(ranges: &[PortRange], port: u16) -> bool {
    ranges.iter().any(|r| r.contains(port))
}

/// A set of ports as a 65536-bit map: constant-time membership, so picking
/// many distinct ports stays linear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSet(Box<[u64; 1024]>);

impl Default for PortSet {
    fn default() -> Self {
        PortSet(Box::new([0; 1024]))
    }
}

impl PortSet {
    pub fn new() -> PortSet {
        PortSet::default()
    }

    /// Adds `port`; false when it was already there.
    pub fn insert(&mut self, port: u16) -> bool {
        let (word, bit) = (usize::from(port / 64), port % 64);
        let had = self.0[word] & (1 << bit) != 0;
        self.0[word] |= 1 << bit;
        !had
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lo: u16, hi: u16) -> PortRange {
        PortRange::new(lo, hi).unwrap()
    }

    #[test]
    fn parses_ranges_and_names_bad_values() {
        assert_eq!("20000-20100".parse::<PortRange>(), Ok(r(20000, 20100)));
        assert_eq!(" 8080 ".parse::<PortRange>(), Ok(r(8080, 8080)));
        assert_eq!("1-65535".parse::<PortRange>(), Ok(r(1, 65535)));
        let e = "9000-8000".parse::<PortRange>().unwrap_err();
        assert!(e.contains("reversed") && e.contains("9000-8000"), "{e}");
        let e = "0-100".parse::<PortRange>().unwrap_err();
        assert!(e.contains("outside 1-65535") && e.contains("0-100"), "{e}");
        let e = "10-70000".parse::<PortRange>().unwrap_err();
        assert!(e.contains("70000"), "{e}");
        let e = "abc".parse::<PortRange>().unwrap_err();
        assert!(e.contains("'abc'"), "{e}");
        assert!("10-".parse::<PortRange>().is_err());
        assert!("-5".parse::<PortRange>().is_err());
    }

    #[test]
    fn normalize_merges_overlaps_and_neighbours() {
        let n = normalize(vec![r(10, 20), r(5, 9), r(30, 40), r(15, 25), r(41, 41)]);
        assert_eq!(n, vec![r(5, 25), r(30, 41)]);
        assert_eq!(
            normalize(vec![r(65535, 65535), r(1, 65534)]),
            vec![r(1, 65535)]
        );
    }

    #[test]
    fn subtract_cuts_holes() {
        let base = [r(1024, 65535)];
        let eph = [r(32768, 60999)];
        assert_eq!(subtract(&base, &eph), vec![r(1024, 32767), r(61000, 65535)]);
        let out = subtract(&base, &[r(32768, 60999), r(8080, 8080), r(65535, 65535)]);
        assert_eq!(out, vec![r(1024, 8079), r(8081, 32767), r(61000, 65534)]);
        assert_eq!(subtract(&[r(10, 20)], &[r(1, 100)]), vec![]);
        assert_eq!(subtract(&[r(10, 20)], &[]), vec![r(10, 20)]);
        assert_eq!(
            total(&out),
            (8079 - 1024 + 1) + (32767 - 8081 + 1) + (65534 - 61000 + 1)
        );
    }

    #[test]
    fn port_set() {
        let mut s = PortSet::new();
        assert!(!s.contains(0) && !s.contains(65535));
        assert!(s.insert(65535) && s.insert(0) && s.insert(64));
        assert!(!s.insert(64));
        assert!(s.contains(65535) && s.contains(0) && s.contains(64) && !s.contains(63));
    }

    #[test]
    fn nth_walks_across_ranges() {
        let rs = [r(10, 12), r(20, 21)];
        let all: Vec<u16> = (0..total(&rs)).filter_map(|i| nth(&rs, i)).collect();
        assert_eq!(all, vec![10, 11, 12, 20, 21]);
        assert_eq!(nth(&rs, 5), None);
        assert!(any_contains(&rs, 21) && !any_contains(&rs, 13));
    }
}
