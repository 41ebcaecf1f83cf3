//! What the Linux kernel accepts when a sysctl file is applied: the audit's
//! judge. `tuning audit` reports an error exactly when `sysctl -p` would
//! reject a line on the running kernel, so the value checks here follow the
//! kernel's own parsers rather than a guess at the format.
//!
//! What reaches the kernel: procps sysctl(8) (`sysctl -p`, procps-ng
//! src/sysctl.c `parse_setting_line()`) strips blanks around the value with
//! `lstrip()`/`rstrip()` (C `isspace`) and writes it followed by a newline
//! (`WriteSetting()`: `fprintf(fp, "%s\n", value)`). Nothing else is removed:
//! a `# note` after the value reaches the kernel too. systemd-sysctl does the
//! same (src/shared/sysctl-util.c `sysctl_write()` appends "\n").
//!
//! How the kernel reads it (kernel/sysctl.c):
//! - `proc_get_long()`: an optional leading `-`, then a digit, then
//!   `strtoul_lenient(p, &p, 0, ..)`, i.e. base 0: `0x..` is hexadecimal and a
//!   leading `0` octal. At most 21 characters; the character after the number
//!   must be one of the caller's allowed trailers.
//! - `__do_proc_dointvec()` (int vectors): skips blanks before each number,
//!   reads at most as many numbers as the setting has, trailers space, tab
//!   or newline; `do_proc_dointvec_conv()` rejects values outside `int`;
//!   `proc_dointvec_minmax()` adds the table's extra1/extra2 bounds. Text
//!   after the last number it wants is ignored (the kernel consumes a short
//!   count and the rest of the write lands at a non-zero offset, which
//!   `proc_first_pos_non_zero_ignore()` drops). Nothing at all is EINVAL.
//! - `do_proc_douintvec_w()` (`proc_douintvec_minmax`, `proc_dou8vec_minmax`):
//!   one number, no minus sign, at most `UINT_MAX`, then the bounds (u8:
//!   0-255 unless extra1/extra2 narrow it).
//! - `do_proc_dointvec_jiffies_conv()` (`proc_dointvec_jiffies`): rejects a
//!   magnitude above `INT_MAX / HZ`; HZ is the kernel's tick rate (100 to
//!   1000), which user space cannot read, so that one bound is uncertain.
//! - `proc_do_large_bitmap()` (ip_local_reserved_ports): newline characters
//!   are skipped; each item is a number followed by `-`, `,` or a newline, a
//!   range end followed by `,` or a newline; numbers above 65535, negative
//!   numbers and ranges that end before they start are EINVAL. No blanks are
//!   allowed anywhere, and an empty value clears the list.
//!
//! The bounds per key come from their `ctl_table` entries in
//! net/ipv4/sysctl_net_ipv4.c, net/core/sysctl_net_core.c and
//! net/ipv6/sysctl_net_ipv6.c, cited beside [`check_value`].

/// What the kernel does with a value written to one setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Written; `numbers` are the values the kernel stored, `ignored` is text
    /// after them that it skipped, `notes` say what else is odd.
    Accepted {
        numbers: Vec<i64>,
        ignored: String,
        notes: Vec<String>,
    },
    /// The write fails with EINVAL (or ERANGE); the text says why.
    Rejected(String),
    /// Depends on something user space cannot see (the kernel's HZ).
    Uncertain(String),
}

/// The bytes as the kernel receives them from `sysctl -p` for `value` as
/// written after `=`.
pub fn written(value: &str) -> Vec<u8> {
    let mut b = value
        .trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}')
        .as_bytes()
        .to_vec();
    b.push(b'\n');
    b
}

/// C `isspace` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

const TMPBUFLEN: usize = 22;
const WSPACE: &[u8] = b" \t\n";

/// One number as `proc_get_long()` reads it at `pos`: (magnitude, negative,
/// the character after it), or `None` for EINVAL. `pos` moves past it. The
/// radix is noted in `radix` (8, 10 or 16).
fn get_long(buf: &[u8], pos: &mut usize, trailers: &[u8]) -> Option<(u64, bool, Option<u8>, u32)> {
    let size = buf.len() - *pos;
    if size == 0 {
        return None;
    }
    let tmp = &buf[*pos..*pos + size.min(TMPBUFLEN - 1)];
    let mut i = 0;
    let neg = tmp[0] == b'-' && size > 1;
    if neg {
        i = 1;
    }
    if !tmp.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    // lib/kstrtox.c _parse_integer_fixup_radix(): base 0 means 16 after
    // "0x" followed by a hex digit, 8 after a leading 0, else 10.
    let radix = if tmp[i] == b'0' {
        if tmp.get(i + 1).map(u8::to_ascii_lowercase) == Some(b'x')
            && tmp.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            i += 2;
            16
        } else {
            8
        }
    } else {
        10
    };
    let mut val: u64 = 0;
    while let Some(d) = tmp.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        // _parse_integer() flags overflow; strtoul_lenient() then fails.
        val = val
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(d))?;
        i += 1;
    }
    if i == TMPBUFLEN - 1 {
        return None;
    }
    let trailer = buf.get(*pos + i).copied();
    if i < size && !trailer.is_some_and(|t| trailers.contains(&t)) {
        return None;
    }
    *pos += i;
    Some((val, neg, trailer.filter(|_| i < size), radix))
}

fn skip_spaces(buf: &[u8], pos: &mut usize) {
    while *pos < buf.len() && is_space(buf[*pos]) {
        *pos += 1;
    }
}

fn radix_note(radix: u32, text: &str, value: i64, out: &mut Vec<String>) {
    let what = match radix {
        8 if text.trim_start_matches('-').len() > 1 => "octal",
        16 => "hexadecimal",
        _ => return,
    };
    out.push(format!(
        "the kernel reads {text} as {what}, i.e. {value} (a leading 0 means octal, 0x \
         hexadecimal)"
    ));
}

/// The rest of `buf` from `pos` as text, trimmed.
fn rest(buf: &[u8], pos: usize) -> String {
    String::from_utf8_lossy(&buf[pos.min(buf.len())..])
        .trim()
        .to_string()
}

/// `__do_proc_dointvec()` with `conv`, for a setting of `count` ints starting
/// from `current` (an int vector keeps the values it is not given).
fn int_vector(
    buf: &[u8],
    count: usize,
    current: &[i64],
    conv: &dyn Fn(bool, u64) -> Result<i64, String>,
) -> Verdict {
    let mut pos = 0;
    let mut numbers: Vec<i64> = current.to_vec();
    numbers.resize(count, 0);
    let mut notes = Vec::new();
    let mut read = 0;
    while pos < buf.len() && read < count {
        skip_spaces(buf, &mut pos);
        if pos == buf.len() {
            break;
        }
        let start = pos;
        let Some((mag, neg, _, radix)) = get_long(buf, &mut pos, WSPACE) else {
            return Verdict::Rejected(format!(
                "'{}' is not a number the kernel reads (digits, optionally with a leading -, \
                 then a blank)",
                rest(buf, start).split_whitespace().next().unwrap_or("")
            ));
        };
        let v = match conv(neg, mag) {
            Ok(v) => v,
            Err(e) => return Verdict::Rejected(e),
        };
        radix_note(
            radix,
            &String::from_utf8_lossy(&buf[start..pos]),
            v,
            &mut notes,
        );
        numbers[read] = v;
        read += 1;
    }
    if read == 0 {
        return Verdict::Rejected("no value: the kernel needs a number".into());
    }
    let ignored = rest(buf, pos);
    Verdict::Accepted {
        numbers,
        ignored,
        notes,
    }
}

/// `do_proc_dointvec_conv()` then the minmax bounds.
fn int_conv(min: i64, max: i64) -> impl Fn(bool, u64) -> Result<i64, String> {
    move |neg, mag| {
        let v = if neg {
            if mag > i32::MAX as u64 + 1 {
                return Err(format!("-{mag} is below the smallest int, {}", i32::MIN));
            }
            -(mag as i64)
        } else {
            if mag > i32::MAX as u64 {
                return Err(format!("{mag} is above the largest int, {}", i32::MAX));
            }
            mag as i64
        };
        if v < min || v > max {
            return Err(format!("{v} is outside {min}-{max}"));
        }
        Ok(v)
    }
}

/// `do_proc_douintvec_w()` with bounds (also `proc_dou8vec_minmax`).
fn uint_value(buf: &[u8], min: u64, max: u64) -> Verdict {
    let mut pos = 0;
    skip_spaces(buf, &mut pos);
    if pos == buf.len() {
        return Verdict::Rejected("no value: the kernel needs a number".into());
    }
    let start = pos;
    let Some((mag, neg, _, radix)) = get_long(buf, &mut pos, WSPACE) else {
        return Verdict::Rejected(format!(
            "'{}' is not a number the kernel reads (digits, then a blank)",
            rest(buf, start).split_whitespace().next().unwrap_or("")
        ));
    };
    if neg {
        return Verdict::Rejected(format!(
            "-{mag}: this setting takes no negative numbers ({min}-{max})"
        ));
    }
    if mag > u64::from(u32::MAX) || mag < min || mag > max {
        return Verdict::Rejected(format!("{mag} is outside {min}-{max}"));
    }
    let mut notes = Vec::new();
    radix_note(
        radix,
        &String::from_utf8_lossy(&buf[start..pos]),
        mag as i64,
        &mut notes,
    );
    Verdict::Accepted {
        numbers: vec![mag as i64],
        ignored: rest(buf, pos),
        notes,
    }
}

/// `proc_do_large_bitmap()` over ports 0-65535: the set ports as ranges.
pub fn port_bitmap(buf: &[u8]) -> Result<Vec<(u16, u16)>, String> {
    const LEN: u64 = 65536;
    let mut pos = 0;
    let skip_newlines = |pos: &mut usize| {
        while *pos < buf.len() && buf[*pos] == b'\n' {
            *pos += 1;
        }
    };
    skip_newlines(&mut pos);
    let mut out = Vec::new();
    let mut c = 0u8;
    while pos < buf.len() {
        let at = pos;
        let bad_item = |at: usize| {
            let item: String = String::from_utf8_lossy(&buf[at..])
                .chars()
                .take_while(|&ch| ch != ',' && ch != '\n')
                .collect();
            format!(
                "'{item}' is not a port or a range: the kernel takes ports and ranges separated \
                 by commas, with no blanks (e.g. 8080,9000-9010)"
            )
        };
        let (a, neg, tr, _) = get_long(buf, &mut pos, b"-,\n").ok_or_else(|| bad_item(at))?;
        if let Some(t) = tr {
            c = t;
        }
        if a >= LEN || neg {
            return Err(format!(
                "{}{a} is not a port (0-65535)",
                if neg { "-" } else { "" }
            ));
        }
        let mut b = a;
        if pos < buf.len() {
            pos += 1;
        }
        if c == b'-' {
            let (v, neg, tr, _) = get_long(buf, &mut pos, b",\n\0").ok_or_else(|| bad_item(at))?;
            if let Some(t) = tr {
                c = t;
            }
            if v >= LEN || neg || a > v {
                return Err(format!(
                    "{a}-{}{v} is not a range of ports (start <= end <= 65535)",
                    if neg { "-" } else { "" }
                ));
            }
            b = v;
            if pos < buf.len() {
                pos += 1;
            }
        }
        out.push((a as u16, b as u16));
        skip_newlines(&mut pos);
    }
    Ok(out)
}

/// The values in force when a line is written, for the two settings the
/// kernel checks against each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    /// net.ipv4.ip_local_port_range.
    pub range: (i64, i64),
    /// net.ipv4.ip_unprivileged_port_start.
    pub unprivileged: i64,
}

impl Default for Current {
    /// The kernel's defaults.
    fn default() -> Self {
        Current {
            range: (32768, 60999),
            unprivileged: 1024,
        }
    }
}

/// Whether portwise knows how the kernel parses `key`.
pub fn knows(key: &str) -> bool {
    check_value(key, "0", Current::default()).is_some()
}

/// What the kernel does with `value` (as written after `=`) for `key`, given
/// the values in force; `None` for a key whose parser portwise does not model.
///
/// Sources, net/ipv4/sysctl_net_ipv4.c `ipv4_net_table[]` unless noted:
/// - tcp_tw_reuse: `proc_dou8vec_minmax`, SYSCTL_ZERO..SYSCTL_TWO.
/// - tcp_tw_reuse_delay: `proc_douintvec_minmax`, SYSCTL_ONE..
///   `tcp_tw_reuse_delay_max` (TCP_PAWS_MSL * MSEC_PER_SEC = 60000).
/// - tcp_timestamps: `proc_dou8vec_minmax`, no bounds (0-255).
/// - tcp_fin_timeout: `proc_dointvec_jiffies`.
/// - tcp_max_tw_buckets, tcp_max_syn_backlog: `proc_dointvec`.
/// - ip_local_port_range: `ipv4_local_port_range()`: two ints within
///   `ip_local_port_range_min/max` (1..65535), then EINVAL if the end is below
///   the start or the start below ip_unprivileged_port_start.
/// - ip_unprivileged_port_start: `ipv4_privileged_ports()`: an int within
///   0..65535 (`ip_privileged_port_max`), then EINVAL if above the start of
///   ip_local_port_range.
/// - ip_local_reserved_ports: `proc_do_large_bitmap`, 65536 bits.
/// - net.core.somaxconn: net/core/sysctl_net_core.c `netns_core_table[]`,
///   `proc_dointvec_minmax`, extra1 = SYSCTL_ZERO.
/// - net.ipv6.bindv6only: net/ipv6/sysctl_net_ipv6.c `ipv6_table_template[]`,
///   `proc_dou8vec_minmax` (0-255).
pub fn check_value(key: &str, value: &str, now: Current) -> Option<Verdict> {
    let buf = written(value);
    let int = |min, max| int_vector(&buf, 1, &[0], &int_conv(min, max));
    let imin = i64::from(i32::MIN);
    let imax = i64::from(i32::MAX);
    Some(match key {
        "net.ipv4.tcp_tw_reuse" => uint_value(&buf, 0, 2),
        "net.ipv4.tcp_tw_reuse_delay" => uint_value(&buf, 1, 60000),
        "net.ipv4.tcp_timestamps" | "net.ipv6.bindv6only" => uint_value(&buf, 0, 255),
        "net.ipv4.tcp_max_tw_buckets" | "net.ipv4.tcp_max_syn_backlog" => int(imin, imax),
        "net.core.somaxconn" => int(0, imax),
        "net.ipv4.tcp_fin_timeout" => {
            // do_proc_dointvec_jiffies_conv(): `if (*lvalp > INT_MAX / HZ)
            // return 1;` HZ is 100 to 1000: below INT_MAX / 1000 every kernel
            // accepts, above INT_MAX / 100 none does.
            let lo = imax / 1000;
            let hi = imax / 100;
            match int_vector(&buf, 1, &[0], &|neg, mag| {
                if mag > hi as u64 {
                    return Err(format!(
                        "{}{mag} seconds is beyond what the kernel stores (at most {hi} even at \
                         the slowest tick rate)",
                        if neg { "-" } else { "" }
                    ));
                }
                Ok(if neg { -(mag as i64) } else { mag as i64 })
            }) {
                Verdict::Accepted { numbers, .. } if numbers[0].abs() > lo => {
                    Verdict::Uncertain(format!(
                        "{} seconds: the kernel rejects values above 2147483647 / HZ, and HZ \
                         (its tick rate, 100 to 1000) cannot be read from user space; any value \
                         up to {lo} is safe",
                        numbers[0]
                    ))
                }
                v => v,
            }
        }
        "net.ipv4.ip_unprivileged_port_start" => match int(0, 65535) {
            Verdict::Accepted {
                numbers,
                ignored,
                notes,
            } => {
                let v = numbers[0];
                if now.range.0 < v {
                    Verdict::Rejected(format!(
                        "{v} is above the start of net.ipv4.ip_local_port_range ({}) in force \
                         when this line is applied",
                        now.range.0
                    ))
                } else {
                    Verdict::Accepted {
                        numbers,
                        ignored,
                        notes,
                    }
                }
            }
            v => v,
        },
        "net.ipv4.ip_local_port_range" => {
            match int_vector(&buf, 2, &[now.range.0, now.range.1], &int_conv(1, 65535)) {
                Verdict::Accepted {
                    numbers,
                    ignored,
                    notes,
                } => {
                    let (a, b) = (numbers[0], numbers[1]);
                    if b < a {
                        Verdict::Rejected(format!("the range {a}-{b} ends before it starts"))
                    } else if a < now.unprivileged {
                        Verdict::Rejected(format!(
                            "the range starts at {a}, below net.ipv4.ip_unprivileged_port_start \
                             ({}) in force when this line is applied",
                            now.unprivileged
                        ))
                    } else {
                        Verdict::Accepted {
                            numbers,
                            ignored,
                            notes,
                        }
                    }
                }
                v => v,
            }
        }
        "net.ipv4.ip_local_reserved_ports" => match port_bitmap(&buf) {
            Ok(ranges) => Verdict::Accepted {
                numbers: ranges
                    .iter()
                    .flat_map(|&(a, b)| [i64::from(a), i64::from(b)])
                    .collect(),
                ignored: String::new(),
                notes: Vec::new(),
            },
            Err(e) => Verdict::Rejected(e),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(key: &str, value: &str) -> Vec<i64> {
        match check_value(key, value, Current::default()) {
            Some(Verdict::Accepted { numbers, .. }) => numbers,
            other => panic!("{key} = {value}: {other:?}"),
        }
    }

    fn rejected(key: &str, value: &str) -> String {
        match check_value(key, value, Current::default()) {
            Some(Verdict::Rejected(why)) => why,
            other => panic!("{key} = {value}: {other:?}"),
        }
    }

    #[test]
    fn ints_follow_proc_get_long() {
        let k = "net.ipv4.tcp_fin_timeout";
        assert_eq!(accepted(k, "30"), vec![30]);
        assert_eq!(accepted(k, "-5"), vec![-5]);
        assert_eq!(accepted(k, "  7"), vec![7]);
        assert_eq!(accepted(k, "0x10"), vec![16]);
        assert_eq!(accepted(k, "010"), vec![8]);
        assert_eq!(accepted(k, "00030"), vec![24]);
        match check_value(k, "30 # note", Current::default()) {
            Some(Verdict::Accepted { ignored, .. }) => assert_eq!(ignored, "# note"),
            other => panic!("{other:?}"),
        }
        for bad in [
            "30x",
            "+30",
            "\"30\"",
            "08",
            "0x",
            "1e3",
            "",
            "123456789012345678901",
        ] {
            rejected(k, bad);
        }
        assert!(matches!(
            check_value(k, "8589934", Current::default()),
            Some(Verdict::Uncertain(_))
        ));
        let k = "net.core.somaxconn";
        rejected(k, "-1");
        rejected(k, "2147483648");
        assert_eq!(accepted(k, "2147483647"), vec![2147483647]);
        assert_eq!(
            accepted("net.ipv4.tcp_max_syn_backlog", "-2147483648"),
            vec![-2147483648]
        );
        rejected("net.ipv4.tcp_max_syn_backlog", "-2147483649");
    }

    #[test]
    fn unsigned_settings_refuse_signs_and_bounds() {
        let k = "net.ipv4.tcp_tw_reuse";
        assert_eq!(accepted(k, "2"), vec![2]);
        rejected(k, "3");
        rejected(k, "-1");
        let k = "net.ipv4.tcp_tw_reuse_delay";
        rejected(k, "0");
        rejected(k, "60001");
        assert_eq!(accepted(k, "60000"), vec![60000]);
        rejected(k, "4294967296");
        assert_eq!(accepted("net.ipv4.tcp_timestamps", "255"), vec![255]);
        rejected("net.ipv4.tcp_timestamps", "256");
    }

    #[test]
    fn reserved_ports_follow_the_bitmap_parser() {
        let k = "net.ipv4.ip_local_reserved_ports";
        assert_eq!(accepted(k, "0,8080"), vec![0, 0, 8080, 8080]);
        assert_eq!(accepted(k, "8080,"), vec![8080, 8080]);
        assert_eq!(accepted(k, "1-3,5"), vec![1, 3, 5, 5]);
        assert_eq!(accepted(k, "0x50"), vec![80, 80]);
        assert_eq!(accepted(k, ""), Vec::<i64>::new());
        assert_eq!(accepted(k, " 8080 "), vec![8080, 8080]);
        for bad in [
            "8080, 9000-9010",
            ",8080",
            "65536",
            "9010-9000",
            "8080 9000",
            "8080;9000",
            "8080,,9000",
            "08080",
            "8080-",
            "-5",
            "1 -3",
            "1- 3",
            "8080,9000 # c",
        ] {
            rejected(k, bad);
        }
    }

    #[test]
    fn range_and_unprivileged_start_check_each_other() {
        let now = Current::default();
        let r = "net.ipv4.ip_local_port_range";
        assert_eq!(accepted(r, "1025"), vec![1025, 60999]);
        assert_eq!(accepted(r, "40000 50000 60000"), vec![40000, 50000]);
        assert_eq!(accepted(r, "1024 1024"), vec![1024, 1024]);
        rejected(r, "1025,2000");
        rejected(r, "2000 1999");
        rejected(r, "0 100");
        let why = rejected(r, "1000 2000");
        assert!(why.contains("below net.ipv4.ip_unprivileged_port_start (1024)"));
        let u = "net.ipv4.ip_unprivileged_port_start";
        assert_eq!(accepted(u, "32768"), vec![32768]);
        let why = rejected(u, "32769");
        assert!(why.contains("(32768)"), "{why}");
        rejected(u, "-1");
        let high = Current {
            range: (40000, 60999),
            unprivileged: 20000,
        };
        assert!(matches!(
            check_value(r, "16384 65535", high),
            Some(Verdict::Rejected(_))
        ));
        assert!(matches!(
            check_value(u, "30000", now),
            Some(Verdict::Accepted { .. })
        ));
    }
}
