//! linux: network namespaces. Find every one on the machine, enter one on a
//! thread of its own, and list its addresses.
//!
//! - Discovery: each process's `/proc/PID/ns/net` is a link to its network
//!   namespace, whose inode identifies it machine-wide (man7
//!   network_namespaces(7), namespaces(7) "The /proc/[pid]/ns/ directory").
//!   Named namespaces are nsfs files bind-mounted under /run/netns by
//!   `ip netns add` (iproute2 ip/ipnetns.c, `netns_add()`); they may hold no
//!   process at all.
//! - Entering: `setns(fd, CLONE_NEWNET)` moves only the calling thread
//!   (man7 setns(2)), so it runs on a dedicated named thread that ends when
//!   the work is done; sockets opened there (sock_diag, rtnetlink) belong to
//!   that namespace for their whole life (net/socket.c `__sock_create()`
//!   takes `current->nsproxy->net_ns`).
//! - Addresses: an RTM_GETADDR dump on a NETLINK_ROUTE socket (man7
//!   rtnetlink(7)), as `ip -j addr` does.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::MetadataExt as _;

use netlink_sys::{Socket, SocketAddr as NetlinkAddr, protocols::NETLINK_ROUTE};

use crate::sockets::raw::{NetnsDiscovery, NetnsInfo};

/// Where `ip netns add` mounts named namespaces (iproute2 `NETNS_RUN_DIR`).
pub const NAMED_DIR: &str = "/run/netns";

/// The network namespace this process runs in.
pub fn own_inode() -> Option<u64> {
    std::fs::metadata("/proc/self/ns/net").ok().map(|m| m.ino())
}

/// The network namespace process `pid` runs in.
pub fn of_pid(pid: u32) -> Result<u64, String> {
    std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .map(|m| m.ino())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("no process with pid {pid}"),
            std::io::ErrorKind::PermissionDenied => format!(
                "cannot read the network namespace of pid {pid}: permission denied (it belongs \
                 to another user; run portwise as root)"
            ),
            _ => format!("cannot read the network namespace of pid {pid}: {e}"),
        })
}

/// Whether `name` can be a file name under /run/netns: what `ip netns add`
/// accepts (iproute2 ip/ipnetns.c `is_netns_name_valid()`... and no path
/// tricks).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// Every network namespace: one per distinct `/proc/*/ns/net` inode, plus
/// the named ones in /run/netns. Without privileges only this user's
/// processes can be read; the others are counted.
pub fn discover() -> NetnsDiscovery {
    discover_in(
        std::path::Path::new("/proc"),
        std::path::Path::new(NAMED_DIR),
    )
}

fn discover_in(proc_dir: &std::path::Path, named_dir: &std::path::Path) -> NetnsDiscovery {
    let own = std::fs::metadata(proc_dir.join("self/ns/net")).ok();
    let mut found: BTreeMap<u64, NetnsInfo> = BTreeMap::new();
    let mut unreadable_processes = 0;
    if let Ok(entries) = std::fs::read_dir(proc_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            match std::fs::metadata(entry.path().join("ns/net")) {
                Ok(m) => found
                    .entry(m.ino())
                    .or_insert_with(|| NetnsInfo {
                        inode: m.ino(),
                        ..NetnsInfo::default()
                    })
                    .pids
                    .push(pid),
                // Reading another user's ns links needs ptrace read access
                // (man7 namespaces(7)); kernel threads' links are readable.
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    unreadable_processes += 1;
                }
                // The process exited meanwhile.
                Err(_) => {}
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(named_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(m) = std::fs::metadata(entry.path()) else {
                continue;
            };
            // A file left behind without its mount is a plain empty file on
            // the tmpfs, not a namespace: nsfs files share one device.
            if own.as_ref().is_some_and(|o| o.dev() != m.dev()) {
                continue;
            }
            found
                .entry(m.ino())
                .or_insert_with(|| NetnsInfo {
                    inode: m.ino(),
                    ..NetnsInfo::default()
                })
                .names
                .push(name);
        }
    }
    let mut namespaces: Vec<NetnsInfo> = found.into_values().collect();
    for ns in &mut namespaces {
        ns.pids.sort_unstable();
        ns.names.sort();
    }
    NetnsDiscovery {
        own: own.map(|m| m.ino()),
        namespaces,
        unreadable_processes,
    }
}

/// Open a file that refers to `ns`: its name under /run/netns first (it
/// stays while no process runs in it), else one of its processes' links.
/// Each candidate is checked to still be that namespace: a pid may have
/// exited and been reused meanwhile.
fn open(ns: &NetnsInfo) -> Result<File, String> {
    let named = ns
        .names
        .iter()
        .filter(|n| valid_name(n))
        .map(|n| format!("{NAMED_DIR}/{n}"));
    let by_pid = ns.pids.iter().map(|p| format!("/proc/{p}/ns/net"));
    for path in named.chain(by_pid) {
        if let Ok(file) = File::open(&path)
            && file.metadata().is_ok_and(|m| m.ino() == ns.inode)
        {
            return Ok(file);
        }
    }
    Err(format!(
        "network namespace {} is gone (its processes exited)",
        ns.inode
    ))
}

/// Run `work` inside network namespace `ns`, on a thread of its own named
/// "portwise-netns" (setns moves only the calling thread; the thread ends
/// with `work`). Needs CAP_SYS_ADMIN (root).
pub fn run_in<R: Send>(ns: &NetnsInfo, work: impl FnOnce() -> R + Send) -> Result<R, String> {
    let file = open(ns)?;
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("portwise-netns".into())
            .spawn_scoped(scope, move || {
                // SAFETY: `file` is an open descriptor of an nsfs file for
                // the whole call; setns(2) only reads it.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    let e = std::io::Error::last_os_error();
                    return Err(if e.raw_os_error() == Some(libc::EPERM) {
                        format!(
                            "cannot enter network namespace {}: entering needs root \
                             (CAP_SYS_ADMIN)",
                            ns.inode
                        )
                    } else {
                        format!("cannot enter network namespace {}: {e}", ns.inode)
                    });
                }
                Ok(work())
            })
            .map_err(|e| format!("cannot start the namespace thread: {e}"))?;
        handle
            .join()
            .map_err(|_| "the namespace thread failed".to_string())?
    })
}

/// `RTM_NEWADDR` / `RTM_GETADDR` (include/uapi/linux/rtnetlink.h).
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
/// `IFA_ADDRESS`, `IFA_LOCAL` (include/uapi/linux/if_addr.h).
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
/// `NLM_F_REQUEST | NLM_F_DUMP`, `NLMSG_ERROR`, `NLMSG_DONE`
/// (include/uapi/linux/netlink.h).
const DUMP_FLAGS: u16 = 0x1 | 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// The IPv4 and IPv6 addresses of the calling thread's network namespace
/// (every interface), from an RTM_GETADDR dump.
pub fn addresses() -> Result<Vec<IpAddr>, String> {
    let mut socket =
        Socket::new(NETLINK_ROUTE).map_err(|e| format!("cannot open an rtnetlink socket: {e}"))?;
    socket
        .bind_auto()
        .map_err(|e| format!("cannot bind the rtnetlink socket: {e}"))?;
    socket
        .connect(&NetlinkAddr::new(0, 0))
        .map_err(|e| format!("cannot connect the rtnetlink socket: {e}"))?;
    // struct nlmsghdr (16 bytes) + struct ifaddrmsg (8 bytes), family
    // AF_UNSPEC: every family.
    let mut request = [0u8; 24];
    request[0..4].copy_from_slice(&24u32.to_ne_bytes());
    request[4..6].copy_from_slice(&RTM_GETADDR.to_ne_bytes());
    request[6..8].copy_from_slice(&DUMP_FLAGS.to_ne_bytes());
    request[8..12].copy_from_slice(&1u32.to_ne_bytes());
    socket
        .send(&request, 0)
        .map_err(|e| format!("cannot send the rtnetlink request: {e}"))?;
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(32 * 1024);
    loop {
        buf.clear();
        let n = socket
            .recv(&mut buf, 0)
            .map_err(|e| format!("cannot read the rtnetlink dump: {e}"))?;
        if n == 0 {
            return Ok(out);
        }
        match parse_addr_messages(&buf, &mut out) {
            Ok(true) => return Ok(out),
            Ok(false) => {}
            Err(e) => return Err(e),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)?.try_into().ok().map(u16::from_ne_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.try_into().ok().map(u32::from_ne_bytes)
}

/// Collect the addresses of the RTM_NEWADDR messages in one datagram.
/// `Ok(true)` when the dump has ended.
fn parse_addr_messages(bytes: &[u8], out: &mut Vec<IpAddr>) -> Result<bool, String> {
    let mut offset = 0;
    while offset + 16 <= bytes.len() {
        let len = u32_at(bytes, offset).unwrap_or(0) as usize;
        let ty = u16_at(bytes, offset + 4).unwrap_or(0);
        if len < 16 || offset + len > bytes.len() {
            return Err("malformed rtnetlink message".into());
        }
        let msg = &bytes[offset..offset + len];
        match ty {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let code = u32_at(msg, 16).map(|c| c as i32).unwrap_or(0);
                if code == 0 {
                    return Ok(true);
                }
                return Err(format!(
                    "the kernel refused the address dump: {}",
                    std::io::Error::from_raw_os_error(-code)
                ));
            }
            RTM_NEWADDR => {
                if let Some(ip) = parse_ifaddr(&msg[16..]) {
                    out.push(ip);
                }
            }
            _ => {}
        }
        offset += (len + 3) & !3;
    }
    Ok(false)
}

/// One `struct ifaddrmsg` and its attributes: IFA_LOCAL where present (on
/// point-to-point links IFA_ADDRESS is the peer), else IFA_ADDRESS.
fn parse_ifaddr(body: &[u8]) -> Option<IpAddr> {
    let family = *body.first()?;
    let mut local = None;
    let mut address = None;
    let mut at = 8;
    while at + 4 <= body.len() {
        let len = usize::from(u16_at(body, at)?);
        let ty = u16_at(body, at + 2)?;
        if len < 4 || at + len > body.len() {
            break;
        }
        let value = &body[at + 4..at + len];
        let ip = match (family as i32, value.len()) {
            (libc::AF_INET, 4) => <[u8; 4]>::try_from(value)
                .ok()
                .map(|o| IpAddr::V4(Ipv4Addr::from(o))),
            (libc::AF_INET6, 16) => <[u8; 16]>::try_from(value)
                .ok()
                .map(|o| IpAddr::V6(Ipv6Addr::from(o))),
            _ => None,
        };
        match ty {
            IFA_LOCAL => local = local.or(ip),
            IFA_ADDRESS => address = address.or(ip),
            _ => {}
        }
        at += (len + 3) & !3;
    }
    local.or(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_directory_are_refused() {
        assert!(valid_name("blue"));
        assert!(valid_name("cni-1234-abcd"));
        for bad in ["", ".", "..", "a/b", "../etc", "x\0y"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn discovery_finds_this_process_in_its_own_namespace() {
        let d = discover();
        let own = d.own.expect("/proc/self/ns/net is readable");
        assert_eq!(Some(own), own_inode());
        assert_eq!(of_pid(std::process::id()), Ok(own));
        let mine = d
            .namespaces
            .iter()
            .find(|n| n.inode == own)
            .expect("own namespace listed");
        assert!(mine.pids.contains(&std::process::id()));
        assert!(d.others().all(|n| n.inode != own));
        assert!(of_pid(u32::MAX).unwrap_err().contains("no process"));
    }

    #[test]
    fn own_addresses_include_loopback() {
        let addrs = addresses().unwrap();
        assert!(
            addrs.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "{addrs:?}"
        );
    }

    #[test]
    fn address_messages_parse() {
        // One RTM_NEWADDR for 172.17.0.2 (IFA_ADDRESS and IFA_LOCAL), then
        // NLMSG_DONE, as the kernel lays them out.
        let mut msg = Vec::new();
        let attrs: Vec<(u16, Vec<u8>)> = vec![
            (IFA_ADDRESS, vec![172, 17, 0, 99]),
            (IFA_LOCAL, vec![172, 17, 0, 2]),
        ];
        let mut body = vec![libc::AF_INET as u8, 16, 0, 0, 5, 0, 0, 0];
        for (ty, v) in attrs {
            body.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
            body.extend_from_slice(&ty.to_ne_bytes());
            body.extend_from_slice(&v);
        }
        msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&RTM_NEWADDR.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 10]);
        msg.extend_from_slice(&body);
        msg.extend_from_slice(&20u32.to_ne_bytes());
        msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 14]);
        let mut out = Vec::new();
        assert_eq!(parse_addr_messages(&msg, &mut out), Ok(true));
        assert_eq!(out, vec!["172.17.0.2".parse::<IpAddr>().unwrap()]);
        assert!(parse_addr_messages(&msg[..10], &mut Vec::new()).is_ok());
        let mut short = msg.clone();
        short[0] = 200;
        assert!(parse_addr_messages(&short, &mut Vec::new()).is_err());
    }
}
