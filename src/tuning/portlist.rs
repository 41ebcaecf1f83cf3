//! A set of ports written as a comma list of ports and ranges ("8080,9000-9010"):
//! the format of `--reserve-ports`, of Linux's ip_local_reserved_ports, and of
//! Windows excluded port ranges once portwise has read them.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::ports::range::{self, PortRange};

/// Sorted, merged, non-overlapping inclusive ranges of ports in 1..=65535:
/// the set operations are `ports::range`'s; this adds the user-facing
/// parser with its error messages and the list text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortList {
    ranges: Vec<PortRange>,
}

/// JSON: `{"ranges":[[lo,hi],...]}`, as before PortList wrapped PortRange.
impl Serialize for PortList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u16, u16)> = self.ranges.iter().map(|r| (r.lo, r.hi)).collect();
        let mut st = serializer.serialize_struct("PortList", 1)?;
        st.serialize_field("ranges", &pairs)?;
        st.end()
    }
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
            let r = PortRange::new(a, b)
                .ok_or_else(|| format!("port range '{item}' starts after it ends"))?;
            ranges.push(r);
        }
        Ok(PortList::from_ranges(ranges))
    }

    /// Windows excluded ranges as the tuning guide reads them
    /// ("5357,50000-50059*"): (the ranges Windows components hold, where
    /// binds fail; the administered ranges marked `*`, which only keep ports
    /// out of automatic assignment). See `platform::parse::ExcludedBlock`.
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

    /// Build from inclusive ranges in any order (port 0 is dropped).
    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> PortList {
        let v = ranges
            .into_iter()
            .filter_map(|r| PortRange::new(r.lo.max(1), r.hi))
            .collect();
        PortList {
            ranges: range::normalize(v),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The merged inclusive ranges, lowest first.
    pub fn ranges(&self) -> &[PortRange] {
        &self.ranges
    }

    pub fn contains(&self, port: u16) -> bool {
        range::any_contains(&self.ranges, port)
    }

    /// The lowest port, if any.
    pub fn min(&self) -> Option<u16> {
        self.ranges.first().map(|r| r.lo)
    }

    /// The highest port, if any.
    pub fn max(&self) -> Option<u16> {
        self.ranges.last().map(|r| r.hi)
    }

    /// Every port of both lists.
    pub fn union(&self, other: &PortList) -> PortList {
        PortList::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    /// The ports of `self` that are not in `other`.
    pub fn minus(&self, other: &PortList) -> PortList {
        PortList {
            ranges: range::subtract(&self.ranges, &other.ranges),
        }
    }

    /// The ports in both lists.
    pub fn intersection(&self, other: &PortList) -> PortList {
        self.minus(&self.minus(other))
    }

    /// How many ports.
    pub fn count(&self) -> u32 {
        range::total(&self.ranges)
    }

    /// The list as Linux writes ip_local_reserved_ports: "8080,9000-9010".
    pub fn to_list_string(&self) -> String {
        self.ranges
            .iter()
            .map(PortRange::to_string)
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
        let zero = PortList::from_ranges([PortRange { lo: 0, hi: 0 }, PortRange { lo: 0, hi: 2 }]);
        assert_eq!(zero.to_list_string(), "1-2");
    }

    #[test]
    fn json_shape_is_pairs() {
        let p = PortList::parse("80,9000-9010").unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"ranges":[[80,80],[9000,9010]]}"#
        );
    }
}
