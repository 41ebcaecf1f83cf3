//! A set of ports written as a comma list of ports and ranges ("8080,9000-9010"):
//! the format of `--reserve-ports`, of Linux's ip_local_reserved_ports, and of
//! Windows excluded port ranges once portwise has read them.

use serde::Serialize;

/// Sorted, merged, non-overlapping inclusive ranges of ports in 1..=65535.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PortList {
    ranges: Vec<(u16, u16)>,
}

impl PortList {
    /// Parse "8080,9090,9000-9010" (spaces allowed around items). Port 0 and
    /// numbers above 65535 are errors naming the bad value. A trailing `*`
    /// on an item (Windows' mark for administered exclusions) is ignored;
    /// [`PortList::parse_excluded`] keeps it.
    pub fn parse(text: &str) -> Result<PortList, String> {
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let item = item.trim().trim_end_matches('*').trim();
            if item.is_empty() {
                continue;
            }
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (parse_port(a)?, parse_port(b)?),
                None => {
                    let p = parse_port(item)?;
                    (p, p)
                }
            };
            if a > b {
                return Err(format!("port range '{item}' starts after it ends"));
            }
            ranges.push((a, b));
        }
        Ok(PortList::from_ranges(ranges))
    }

    /// Windows excluded ranges as the tuning guide reads them
    /// ("5357,50000-50059*"): (the ranges Windows components hold, where
    /// binds fail; the administered ranges marked `*`, which only keep ports
    /// out of automatic assignment). See `ports::parse::ExcludedBlock`.
    pub fn parse_excluded(text: &str) -> Result<(PortList, PortList), String> {
        let (marked, plain): (Vec<&str>, Vec<&str>) = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .partition(|s| s.ends_with('*'));
        Ok((
            PortList::parse(&plain.join(","))?,
            PortList::parse(&marked.join(","))?,
        ))
    }

    /// Build from inclusive ranges in any order (0 is dropped).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u16, u16)>) -> PortList {
        let mut v: Vec<(u16, u16)> = ranges
            .into_iter()
            .map(|(a, b)| (a.max(1), b))
            .filter(|(a, b)| a <= b)
            .collect();
        v.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match merged.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        PortList { ranges: merged }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The merged inclusive ranges, lowest first.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= port && port <= b)
    }

    /// The lowest port, if any.
    pub fn min(&self) -> Option<u16> {
        self.ranges.first().map(|r| r.0)
    }

    /// The highest port, if any.
    pub fn max(&self) -> Option<u16> {
        self.ranges.last().map(|r| r.1)
    }

    /// Every port of both lists.
    pub fn union(&self, other: &PortList) -> PortList {
        PortList::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    /// The ports of `self` that are not in `other`.
    pub fn minus(&self, other: &PortList) -> PortList {
        let mut out = Vec::new();
        for &(a, b) in &self.ranges {
            let mut start = u32::from(a);
            let end = u32::from(b);
            for &(oa, ob) in &other.ranges {
                let (oa, ob) = (u32::from(oa), u32::from(ob));
                if ob < start || oa > end {
                    continue;
                }
                if oa > start {
                    out.push((start, oa - 1));
                }
                start = start.max(ob + 1);
            }
            if start <= end {
                out.push((start, end));
            }
        }
        PortList::from_ranges(
            out.into_iter()
                .filter_map(|(a, b)| Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?))),
        )
    }

    /// The ports in both lists.
    pub fn intersection(&self, other: &PortList) -> PortList {
        self.minus(&self.minus(other))
    }

    /// How many ports.
    pub fn count(&self) -> u32 {
        self.ranges
            .iter()
            .map(|&(a, b)| u32::from(b) - u32::from(a) + 1)
            .sum()
    }

    /// The list as Linux writes ip_local_reserved_ports: "8080,9000-9010".
    pub fn to_list_string(&self) -> String {
        self.ranges
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    let s = s.trim();
    let n: u64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a port number (expected 1-65535)"))?;
    if n == 0 || n > 65535 {
        return Err(format!("port '{s}' is outside 1-65535"));
    }
    Ok(n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_merges_and_prints() {
        let p = PortList::parse(" 9090, 8080,9000-9010 ,9005,9011").unwrap();
        assert_eq!(p.to_list_string(), "8080,9000-9011,9090");
        assert_eq!(p.count(), 1 + 12 + 1);
        assert!(p.contains(9011) && !p.contains(9012));
        assert_eq!((p.min(), p.max()), (Some(8080), Some(9090)));
        assert_eq!(PortList::parse("").unwrap(), PortList::default());
        assert_eq!(
            PortList::parse("50000-50059 *,5357")
                .unwrap()
                .to_list_string(),
            "5357,50000-50059"
        );
        assert_eq!(
            PortList::parse("1,2-4,10-10").unwrap().to_list_string(),
            "1-4,10"
        );
    }

    #[test]
    fn excluded_lists_keep_the_administered_mark_apart() {
        let (system, admin) = PortList::parse_excluded("5357, 50000-50059 *,8000-8099").unwrap();
        assert_eq!(system.to_list_string(), "5357,8000-8099");
        assert_eq!(admin.to_list_string(), "50000-50059");
        assert!(PortList::parse_excluded("x*").is_err());
    }

    #[test]
    fn bad_values_are_named() {
        for (bad, needle) in [
            ("0", "'0'"),
            ("70000", "'70000'"),
            ("80,http", "'http'"),
            ("9010-9000", "'9010-9000'"),
            ("-5", "''"),
        ] {
            let e = PortList::parse(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn union_and_minus() {
        let a = PortList::parse("8000-8010,9000").unwrap();
        let b = PortList::parse("8005,8010-8020,1").unwrap();
        assert_eq!(a.union(&b).to_list_string(), "1,8000-8020,9000");
        assert_eq!(a.minus(&b).to_list_string(), "8000-8004,8006-8009,9000");
        assert_eq!(b.minus(&a).to_list_string(), "1,8011-8020");
        assert_eq!(a.intersection(&b).to_list_string(), "8005,8010");
        let top = PortList::parse("65535").unwrap();
        assert_eq!(top.minus(&top), PortList::default());
    }
}
