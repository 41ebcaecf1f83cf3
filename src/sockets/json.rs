//! The documented JSON form of a list of sockets, written fast.
//!
//! Byte for byte what `serde_json` makes of the model (a test checks it),
//! but without serde's per-field machinery: a table of 30 000 TIME_WAIT
//! sockets is mostly fixed keys, numbers and IPv4 addresses, and writing
//! those directly is several times faster. Strings that may need escaping
//! (process names, users, paths, the reason) still go through serde_json.

use std::io::{self, Write};
use std::net::IpAddr;

use super::model::{Container, Snapshot, SocketEntry};

/// The header fields of the top-level object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonHeader<'a> {
    pub taken_at_unix_ms: u64,
    pub unattributed: usize,
    pub unattributed_reason: Option<std::borrow::Cow<'a, str>>,
    pub privileged: bool,
    /// Other network namespaces exist and are not listed (see
    /// `NetnsSummary::note`); written only when set.
    pub netns_note: Option<&'a str>,
}

impl<'a> JsonHeader<'a> {
    /// The header for some of `snapshot`'s sockets, `unattributed` of which
    /// have no known owner: the reason is given only when that is not zero.
    ///
    /// The snapshot's reason explains all of its unattributed sockets; it is
    /// used only when these rows hold that many. For fewer, the caller sets
    /// a reason for exactly those ([`super::reason_for_some`] or
    /// `SystemSource::explain_rows`), so the count and the reason always
    /// count the same sockets.
    pub fn for_rows(snapshot: &'a Snapshot, unattributed: usize) -> JsonHeader<'a> {
        JsonHeader {
            taken_at_unix_ms: snapshot.taken_at_unix_ms,
            unattributed,
            unattributed_reason: super::reason_for_some(snapshot, unattributed),
            privileged: snapshot.privileged,
            netns_note: None,
        }
    }
}

/// Write `{"taken_at_unix_ms":…,"unattributed":…,"unattributed_reason":…,
/// "privileged":…,"sockets":[…]}` followed by a newline, one socket per
/// line.
pub fn write_document<'s, W: Write>(
    w: &mut W,
    header: &JsonHeader<'_>,
    sockets: impl IntoIterator<Item = &'s SocketEntry>,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    buf.extend_from_slice(b"{\"taken_at_unix_ms\":");
    push_u64(&mut buf, header.taken_at_unix_ms);
    buf.extend_from_slice(b",\"unattributed\":");
    push_u64(&mut buf, header.unattributed as u64);
    buf.extend_from_slice(b",\"unattributed_reason\":");
    match header.unattributed_reason.as_deref() {
        Some(r) => push_str(&mut buf, r),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"privileged\":");
    buf.extend_from_slice(if header.privileged { b"true" } else { b"false" });
    if let Some(note) = header.netns_note {
        buf.extend_from_slice(b",\"netns_note\":");
        push_str(&mut buf, note);
    }
    buf.extend_from_slice(b",\"sockets\":[");
    for (i, s) in sockets.into_iter().enumerate() {
        buf.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        push_entry(&mut buf, s);
        if buf.len() >= 60 * 1024 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n]}\n");
    w.write_all(&buf)
}

/// One socket as a JSON object, appended to `out`.
pub fn push_entry(out: &mut Vec<u8>, s: &SocketEntry) {
    out.extend_from_slice(b"{\"proto\":\"");
    out.extend_from_slice(s.proto.as_str().as_bytes());
    out.extend_from_slice(b"\",\"family\":\"");
    out.extend_from_slice(s.family.as_str().as_bytes());
    out.extend_from_slice(b"\",\"local_addr\":\"");
    push_ip(out, &s.local_addr);
    out.extend_from_slice(b"\",\"local_port\":");
    push_u64(out, u64::from(s.local_port));
    out.extend_from_slice(b",\"remote_addr\":");
    match &s.remote_addr {
        Some(ip) => {
            out.push(b'"');
            push_ip(out, ip);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"remote_port\":");
    push_opt_u64(out, s.remote_port.map(u64::from));
    out.extend_from_slice(b",\"state\":");
    match s.state {
        Some(st) => {
            out.push(b'"');
            out.extend_from_slice(st.as_str().as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"processes\":[");
    for (i, p) in s.processes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"pid\":");
        push_u64(out, u64::from(p.pid));
        out.extend_from_slice(b",\"name\":");
        push_str(out, &p.name);
        out.extend_from_slice(b",\"user\":");
        push_opt_str(out, p.user.as_deref());
        out.extend_from_slice(b",\"exe\":");
        push_opt_str(out, p.exe.as_deref());
        // As serde writes it: left out when unknown.
        if let Some(args) = &p.cmdline {
            out.extend_from_slice(b",\"cmdline\":[");
            for (j, a) in args.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                push_str(out, a);
            }
            out.push(b']');
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"time_wait_expires_in_ms\":");
    push_opt_u64(out, s.time_wait_expires_in_ms);
    out.extend_from_slice(b",\"last_known_owner\":");
    match &s.last_known_owner {
        Some(o) => {
            out.extend_from_slice(b"{\"pid\":");
            push_u64(out, u64::from(o.pid));
            out.extend_from_slice(b",\"name\":");
            push_str(out, &o.name);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"netns\":");
    match &s.netns {
        Some(ns) => {
            out.extend_from_slice(b"{\"inode\":");
            push_u64(out, ns.inode);
            out.extend_from_slice(b",\"name\":");
            push_opt_str(out, ns.name.as_deref());
            out.extend_from_slice(b",\"container\":");
            push_container(out, ns.container.as_ref());
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    if let Some(p) = &s.published {
        out.extend_from_slice(b",\"published\":{\"via\":");
        push_str(out, &p.via);
        out.extend_from_slice(b",\"container\":");
        push_container(out, p.container.as_ref());
        out.extend_from_slice(b",\"target\":");
        match &p.target {
            Some(t) => push_str(out, &t.to_string()),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.push(b'}');
}

fn push_container(out: &mut Vec<u8>, c: Option<&Container>) {
    match c {
        Some(c) => {
            out.extend_from_slice(b"{\"runtime\":");
            push_str(out, &c.runtime);
            out.extend_from_slice(b",\"id\":");
            push_str(out, &c.id);
            out.extend_from_slice(b",\"name\":");
            push_opt_str(out, c.name.as_deref());
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_opt_u64(out: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => push_u64(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_ip(out: &mut Vec<u8>, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            for (i, octet) in a.octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, u64::from(*octet));
            }
        }
        // IPv6 text form has rules (zero compression, embedded IPv4): the
        // standard library's Display follows RFC 5952, as serde does.
        IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// A JSON string with serde_json's escaping.
fn push_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, s).is_err() {
        // Writing a &str into a Vec cannot fail; keep the document valid
        // even so.
        out.extend_from_slice(b"null");
    }
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::model::{
        Family, NetnsRef, OwnerRef, ProcessInfo, Proto, Published, TcpState,
    };

    fn entries() -> Vec<SocketEntry> {
        let base = SocketEntry {
            inode: 5,
            uid: Some(0),
            ..SocketEntry::new(
                Proto::Tcp,
                "127.0.0.1:0".parse().unwrap(),
                None,
                Some(TcpState::Listen),
            )
        };
        vec![
            base.clone(),
            SocketEntry {
                proto: Proto::Udp,
                family: Family::Ipv6,
                local_addr: "::ffff:10.0.0.1".parse().unwrap(),
                local_port: 65535,
                state: None,
                processes: vec![
                    ProcessInfo {
                        pid: 1,
                        name: "quote\" back\\ tab\t é 日本".into(),
                        user: None,
                        exe: Some("/opt/x\u{7f}/\u{1}bin".into()),
                        cmdline: Some(vec![
                            "/opt/x".into(),
                            "-c".into(),
                            "a \"b\"\n\u{1b}[31m".into(),
                        ]),
                    },
                    ProcessInfo {
                        pid: u32::MAX,
                        name: String::new(),
                        user: Some("alice".into()),
                        exe: None,
                        cmdline: None,
                    },
                ],
                ..base.clone()
            },
            SocketEntry {
                local_addr: "0.0.0.0".parse().unwrap(),
                remote_addr: Some("fe80::1:2:0:0".parse().unwrap()),
                remote_port: Some(1),
                state: Some(TcpState::TimeWait),
                time_wait_expires_in_ms: Some(u64::from(u32::MAX)),
                last_known_owner: Some(OwnerRef {
                    pid: 42,
                    name: "node".into(),
                }),
                ..base.clone()
            },
            SocketEntry {
                netns: Some(std::sync::Arc::new(NetnsRef {
                    inode: 4026532239,
                    name: Some("blue \"net\"".into()),
                    container: Some(Container {
                        runtime: "docker".into(),
                        id: "3f2a".into(),
                        name: None,
                    }),
                })),
                published: Some(Box::new(Published {
                    via: "docker-proxy".into(),
                    container: Some(Container {
                        runtime: "docker".into(),
                        id: "3f2a".into(),
                        name: Some("web".into()),
                    }),
                    target: Some("[fd00::2]:80".parse().unwrap()),
                })),
                ..base.clone()
            },
            SocketEntry {
                netns: Some(std::sync::Arc::new(NetnsRef {
                    inode: 1,
                    name: None,
                    container: None,
                })),
                published: Some(Box::new(Published {
                    via: "conmon".into(),
                    container: None,
                    target: None,
                })),
                ..base.clone()
            },
            SocketEntry {
                local_addr: "255.255.255.255".parse().unwrap(),
                remote_addr: Some("10.20.30.40".parse().unwrap()),
                remote_port: Some(0),
                state: Some(TcpState::FinWait1),
                ..base
            },
        ]
    }

    #[test]
    fn entries_match_serde_byte_for_byte() {
        for e in entries() {
            let mut fast = Vec::new();
            push_entry(&mut fast, &e);
            let serde = serde_json::to_string(&e).unwrap();
            assert_eq!(String::from_utf8(fast).unwrap(), serde);
        }
    }

    #[test]
    fn document_parses_with_the_header_fields() {
        let list = entries();
        let refs: Vec<&SocketEntry> = list.iter().collect();
        let mut out = Vec::new();
        let header = JsonHeader {
            taken_at_unix_ms: 1_700_000_000_000,
            unattributed: 2,
            unattributed_reason: Some("why \"so\"".into()),
            privileged: false,
            netns_note: Some("2 other network namespaces exist"),
        };
        write_document(&mut out, &header, refs.iter().copied()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["taken_at_unix_ms"], 1_700_000_000_000u64);
        assert_eq!(v["unattributed"], 2);
        assert_eq!(v["unattributed_reason"], "why \"so\"");
        assert_eq!(v["privileged"], false);
        assert_eq!(v["netns_note"], "2 other network namespaces exist");
        assert_eq!(v["sockets"].as_array().unwrap().len(), 6);
        assert_eq!(v["sockets"][1], serde_json::to_value(&list[1]).unwrap());
        let mut empty = Vec::new();
        write_document(&mut empty, &header, []).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["sockets"], serde_json::json!([]));
    }
}
