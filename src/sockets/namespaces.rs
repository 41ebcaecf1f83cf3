//! Network namespaces and containers: which namespaces a snapshot covers,
//! the `netns` every socket carries, the container its owner runs in, and
//! the container behind a published port (`docker-proxy`, Podman's
//! `conmon` and `rootlessport`).
//!
//! Linux only in effect: elsewhere the platform finds no namespace and no
//! container, and every socket's `netns` stays `None`.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::model::{Container, NetnsRef, OwnerRef, Proto, Published, Snapshot, SocketEntry};
use super::raw::{NetnsDiscovery, NetnsInfo};
use crate::platform::os;

/// Which network namespaces a snapshot lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetnsSelection {
    /// This process's own namespace (the default).
    #[default]
    Own,
    /// Every namespace on the machine (root; else the own one, with a note).
    All,
    /// The namespace named NAME under /run/netns.
    Named(String),
    /// The namespace process PID runs in.
    Pid(u32),
}

impl FromStr for NetnsSelection {
    type Err = String;
    /// "all", "own", a pid (digits), or a name under /run/netns.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("all") {
            return Ok(NetnsSelection::All);
        }
        if s.eq_ignore_ascii_case("own") {
            return Ok(NetnsSelection::Own);
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse::<u32>()
                .map(NetnsSelection::Pid)
                .map_err(|_| format!("invalid --netns '{s}' (pid out of range)"));
        }
        if os::netns::valid_name(s) {
            return Ok(NetnsSelection::Named(s.to_string()));
        }
        Err(format!(
            "invalid --netns '{s}' (expected all, own, a pid, or a name from `ip netns list`)"
        ))
    }
}

/// What a snapshot learnt about the machine's network namespaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetnsSummary {
    /// This process's namespace (`None` off Linux).
    pub own: Option<u64>,
    /// Other namespaces found (with or without processes).
    pub others: usize,
    /// Of those, how many hold a process of a known container runtime.
    pub other_containers: usize,
    /// The namespaces whose sockets the snapshot holds.
    pub listed: Vec<u64>,
    /// Namespaces that could not be listed, with the reason.
    pub skipped: Vec<String>,
    /// Processes whose namespace could not be read (no privileges).
    pub unreadable_processes: usize,
    /// Whether other namespaces can be entered (root).
    pub privileged: bool,
    /// Whether every namespace was asked for.
    pub asked_all: bool,
}

impl NetnsSummary {
    /// One line for the end of a listing when sockets of other namespaces
    /// exist but are not shown; `None` when there is nothing to say.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        // Only the own namespace listed, where others exist.
        let unlisted = self.others;
        if unlisted > 0 && self.listed.iter().all(|i| Some(*i) == self.own) {
            let at_least = if !self.privileged && self.unreadable_processes > 0 {
                "at least "
            } else {
                ""
            };
            let noun = if unlisted == 1 {
                "namespace exists"
            } else {
                "namespaces exist"
            };
            let containers = match self.other_containers {
                0 => String::new(),
                n => format!(", {n} with containers"),
            };
            let how = if self.privileged {
                "`portwise list --netns all` shows their sockets".to_string()
            } else {
                "entering them needs root: `sudo portwise list --netns all` shows their sockets"
                    .to_string()
            };
            parts.push(format!(
                "{at_least}{unlisted} other network {noun}{containers}; this list shows only \
                 portwise's own; {how}"
            ));
        }
        if self.asked_all && !self.privileged && self.unreadable_processes > 0 && unlisted == 0 {
            parts.push(format!(
                "the network namespaces of {} processes of other users cannot be read without \
                 root: `sudo portwise list --netns all` shows every namespace",
                self.unreadable_processes
            ));
        }
        for s in &self.skipped {
            parts.push(s.clone());
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

impl NetnsSummary {
    /// The window's line about namespaces, for a table with an "All
    /// namespaces" toggle (`all_on`): how many others exist and how to see
    /// them, or which are listed. `None` when there is nothing to say (no
    /// other namespace, or an OS without them).
    pub fn banner(&self, all_on: bool) -> Option<String> {
        self.own?;
        let n = self.others;
        let containers = match self.other_containers {
            0 => String::new(),
            c => format!(" ({c} with containers)"),
        };
        let noun = |n: usize| {
            if n == 1 {
                "1 other network namespace".to_string()
            } else {
                format!("{n} other network namespaces")
            }
        };
        let mut parts = Vec::new();
        let listed_others = self.listed.iter().filter(|i| Some(**i) != self.own).count();
        if !self.privileged {
            let at_least = if self.unreadable_processes > 0 {
                "at least "
            } else {
                ""
            };
            if n > 0 {
                parts.push(format!(
                    "{at_least}{} {} on this machine{containers}; the table shows only \
                     portwise's own. Listing their sockets means entering them, which needs \
                     root: start the window as root (sudo -E portwise)",
                    noun(n),
                    if n == 1 { "exists" } else { "exist" }
                ));
            } else if all_on && self.unreadable_processes > 0 {
                parts.push(format!(
                    "The network namespaces of {} processes of other users cannot be read \
                     without root: start the window as root (sudo -E portwise) to see every \
                     namespace",
                    self.unreadable_processes
                ));
            }
        } else if all_on {
            if listed_others > 0 {
                parts.push(format!(
                    "Showing the sockets of every network namespace: portwise's own and \
                     {}{containers}",
                    noun(listed_others)
                ));
            }
        } else if n > 0 {
            parts.push(format!(
                "{} {} on this machine{containers}; the table shows only portwise's own. \
                 Turn on \"All namespaces\" to list their sockets too",
                noun(n),
                if n == 1 { "exists" } else { "exist" }
            ));
        }
        parts.extend(self.skipped.iter().cloned());
        (!parts.is_empty()).then(|| parts.join(". ") + ".")
    }
}

/// What the Namespace / Container column shows for a socket: the
/// container, the namespace's name or inode, or nothing for portwise's own
/// namespace (most rows: the column stays quiet).
pub fn place_text(netns: Option<&NetnsRef>, own: Option<u64>) -> String {
    match netns {
        None => String::new(),
        Some(ns) if ns.container.is_none() && Some(ns.inode) == own => String::new(),
        Some(ns) => ns.describe(),
    }
}

/// Where one part of a snapshot is dumped.
#[derive(Clone, Debug)]
pub enum Target {
    Own,
    Other(NetnsInfo),
}

/// The namespaces to dump, each with the reference its sockets carry (none
/// where the OS has no namespaces), the summary so far, and what discovery
/// found.
pub struct Plan {
    pub targets: Vec<(Target, Option<Arc<NetnsRef>>)>,
    pub summary: NetnsSummary,
    pub discovery: NetnsDiscovery,
}

/// The namespaces to dump for `selection`, with their [`NetnsRef`] (no
/// container yet), and the summary so far. `Err` for a selection that
/// names no namespace or needs privileges this process lacks.
pub fn plan(
    selection: &NetnsSelection,
    privileged: bool,
    discovery: NetnsDiscovery,
    other_containers: usize,
) -> Result<Plan, String> {
    let own = discovery.own;
    let summary = NetnsSummary {
        own,
        others: discovery.others().count(),
        other_containers,
        listed: Vec::new(),
        skipped: Vec::new(),
        unreadable_processes: discovery.unreadable_processes,
        privileged,
        asked_all: *selection == NetnsSelection::All,
    };
    let reference = |inode: u64| {
        let name = discovery
            .namespaces
            .iter()
            .find(|n| n.inode == inode)
            .and_then(|n| n.names.first().cloned());
        Arc::new(NetnsRef {
            inode,
            name,
            container: None,
        })
    };
    let own_target = || Some((Target::Own, own.map(reference)));
    let needs_root = |what: &str| {
        format!(
            "listing the sockets of {what} means entering its network namespace, which needs \
             root: run sudo portwise list --netns ..."
        )
    };
    let mut targets: Vec<(Target, Option<Arc<NetnsRef>>)> = Vec::new();
    match selection {
        NetnsSelection::Own => targets.extend(own_target()),
        NetnsSelection::All => {
            targets.extend(own_target());
            if privileged {
                for ns in discovery.others() {
                    targets.push((Target::Other(ns.clone()), Some(reference(ns.inode))));
                }
            }
        }
        NetnsSelection::Named(name) => {
            let ns = discovery
                .namespaces
                .iter()
                .find(|n| n.names.iter().any(|x| x == name))
                .ok_or_else(|| {
                    format!(
                        "no network namespace named '{name}' in {} (`ip netns list` shows them)",
                        os::netns::NAMED_DIR
                    )
                })?;
            if Some(ns.inode) == own {
                targets.extend(own_target());
            } else if !privileged {
                return Err(needs_root(&format!("namespace '{name}'")));
            } else {
                targets.push((Target::Other(ns.clone()), Some(reference(ns.inode))));
            }
        }
        NetnsSelection::Pid(pid) => {
            let inode = os::netns::of_pid(*pid)?;
            if Some(inode) == own {
                targets.extend(own_target());
            } else if !privileged {
                return Err(needs_root(&format!("pid {pid}")));
            } else {
                let ns = discovery
                    .namespaces
                    .iter()
                    .find(|n| n.inode == inode)
                    .cloned()
                    .unwrap_or(NetnsInfo {
                        inode,
                        names: Vec::new(),
                        pids: vec![*pid],
                    });
                targets.push((Target::Other(ns), Some(reference(inode))));
            }
        }
    }
    Ok(Plan {
        targets,
        summary,
        discovery,
    })
}

/// How many namespaces other than the own one hold a container.
pub fn count_containers(discovery: &NetnsDiscovery) -> usize {
    discovery
        .others()
        .filter(|ns| namespace_container(ns).is_some())
        .count()
}

/// The container a namespace belongs to, from the first few of its
/// processes that run in one.
pub fn namespace_container(ns: &NetnsInfo) -> Option<Container> {
    ns.pids
        .iter()
        .take(16)
        .find_map(|&p| os::container::of_pid(p))
}

/// How long portwise leaves a runtime CLI alone after it failed or timed
/// out (a `docker` client without a daemon): snapshots come every second.
const CLI_BACKOFF: Duration = Duration::from_secs(30);

/// Container names by runtime and id, kept between snapshots.
#[derive(Debug, Default)]
pub struct ContainerNames {
    known: HashMap<(String, String), Option<String>>,
    failed: HashMap<String, Instant>,
}

impl ContainerNames {
    /// Fill in the names of `containers` that are not known yet.
    pub fn fill(&mut self, containers: &mut [&mut Container]) {
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in containers.iter() {
            if c.name.is_none() && !self.known.contains_key(&(c.runtime.clone(), c.id.clone())) {
                wanted
                    .entry(c.runtime.clone())
                    .or_default()
                    .push(c.id.clone());
            }
        }
        for (runtime, mut ids) in wanted {
            ids.sort();
            ids.dedup();
            let backing_off = self
                .failed
                .get(&runtime)
                .is_some_and(|at| at.elapsed() < CLI_BACKOFF);
            if backing_off {
                continue;
            }
            let (found, failure) = os::container::names(&runtime, &ids);
            if failure.is_some() {
                self.failed.insert(runtime.clone(), Instant::now());
            }
            for id in ids {
                let name = found.get(&id).cloned();
                // A failed CLI may answer next time: remember only successes
                // and definite absences.
                if name.is_some() || failure.is_none() {
                    self.known.insert((runtime.clone(), id), name);
                }
            }
        }
        for c in containers.iter_mut() {
            if c.name.is_none()
                && let Some(Some(name)) = self.known.get(&(c.runtime.clone(), c.id.clone()))
            {
                c.name = Some(name.clone());
            }
        }
    }
}

/// A socket in another network namespace on the port a bind test asked
/// about: it cannot conflict with a bind here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListenerElsewhere {
    pub netns: NetnsRef,
    pub proto: Proto,
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub processes: Vec<OwnerRef>,
    /// "a server in container web (python3, pid 4242) listens on
    /// 0.0.0.0:8080 in its own network namespace; ..."
    pub note: String,
}

/// The listeners (TCP LISTEN, bound UDP) on `proto`/`port` in namespaces
/// other than `own`, from a snapshot that lists them
/// ([`NetnsSelection::All`]).
pub fn listeners_elsewhere(
    snap: &Snapshot,
    own: Option<u64>,
    proto: Proto,
    port: u16,
) -> Vec<ListenerElsewhere> {
    snap.on_port(proto, port)
        .iter()
        .filter(|s| s.is_listening())
        .filter_map(|s| {
            let ns = s.netns.as_ref()?;
            if Some(ns.inode) == own || own.is_none() {
                return None;
            }
            let processes: Vec<OwnerRef> = s
                .processes
                .iter()
                .map(|p| OwnerRef {
                    pid: p.pid,
                    name: p.name.clone(),
                })
                .collect();
            let mut at = String::new();
            super::write_endpoint(&mut at, &s.local_addr, s.local_port);
            let place = match (&ns.container, &ns.name) {
                (Some(c), _) => format!("container {}", c.label()),
                (None, Some(n)) => format!("network namespace {n}"),
                (None, None) => format!("network namespace {}", ns.inode),
            };
            let who = match processes.first() {
                Some(p) => format!(" ({}, pid {})", p.name, p.pid),
                None => String::new(),
            };
            let verb = if s.proto == Proto::Tcp {
                "listens on"
            } else {
                "is bound to"
            };
            let note = format!(
                "a server in {place}{who} {verb} {} {at} in its own network namespace; it does \
                 not conflict with a bind here",
                s.proto
            );
            Some(ListenerElsewhere {
                netns: (**ns).clone(),
                proto: s.proto,
                local_addr: s.local_addr,
                local_port: s.local_port,
                processes,
                note,
            })
        })
        .collect()
}

/// The published-port proxies holding `proto`/`port` in the own namespace:
/// "docker-proxy (pid 77) holds it: published by container web →
/// 172.17.0.2:80", with the command that stops the container.
pub fn published_on(
    snap: &Snapshot,
    own: Option<u64>,
    proto: Proto,
    port: u16,
) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = snap
        .on_port(proto, port)
        .iter()
        .filter(|s| own.is_none() || s.netns.as_ref().is_none_or(|n| Some(n.inode) == own))
        .filter_map(|s| {
            let p = s.published.as_ref()?;
            let holder = s
                .processes
                .iter()
                .find(|h| h.name == p.via)
                .map(|h| format!("{} (pid {})", h.name, h.pid))
                .unwrap_or_else(|| p.via.clone());
            Some((
                format!("{holder} holds it: {}", p.describe()),
                p.stop_command(),
            ))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What docker-proxy's arguments say (moby cmd/docker-proxy flags, parsed
/// with Go's flag package: `-x v`, `--x v`, `-x=v`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyArgs {
    pub proto: Option<Proto>,
    pub host_port: Option<u16>,
    pub container_ip: Option<IpAddr>,
    pub container_port: Option<u16>,
}

/// Parse a docker-proxy command line.
pub fn parse_docker_proxy(args: &[String]) -> ProxyArgs {
    let mut out = ProxyArgs::default();
    for (key, value) in go_flags(args) {
        match key.as_str() {
            "proto" => out.proto = value.parse().ok(),
            "host-port" => out.host_port = value.parse().ok(),
            "container-ip" => out.container_ip = value.parse().ok(),
            "container-port" => out.container_port = value.parse().ok(),
            _ => {}
        }
    }
    out
}

/// Podman's conmon names its container: `-c/--cid ID`, `-n/--name NAME`
/// (containers/conmon src/cli.c).
pub fn parse_conmon(args: &[String]) -> Option<Container> {
    let mut id = None;
    let mut name = None;
    for (key, value) in go_flags(args) {
        match key.as_str() {
            "c" | "cid" => id = Some(value),
            "n" | "name" => name = Some(value),
            _ => {}
        }
    }
    Some(Container {
        runtime: "podman".into(),
        id: id?,
        name: name.filter(|n| !n.is_empty()),
    })
}

/// The container a Podman `rootlessport` (pid `pid`) publishes ports for.
///
/// Rootless Podman forwards a published port through `rootlessport`: it
/// listens on the host port and hands each connection to its re-executed
/// self, `rootlessport-child`, inside the container's network namespace.
/// Its command line is the bare name: podman starts it with
/// `cmd.Args = []string{rootlessport.BinaryName}` and writes the mappings,
/// the namespace path and the container id to its stdin as JSON
/// (containers/podman libpod/networking_slirp4netns.go
/// `setupRootlessPortMappingViaRLK()`, pkg/rootlessport `Config`;
/// cmd/rootlessport/main.go: "rootlessport expects a json config via
/// STDIN"), which is read once and gone. What stays visible is the exit
/// pipe: podman leaks its read end into rootlessport (fd 3, `ExitFD`) and
/// its write end into the container's conmon ("Leak one end in conmon, the
/// other one will be leaked into rootlessport", libpod/oci_conmon_linux.go),
/// and rootlessport exits when conmon closes it. So the conmon holding the
/// other end of rootlessport's fd 3 names the container (`-c ID`,
/// `-n NAME`). The container-side address and port appear nowhere else:
/// left unknown.
pub fn rootlessport_container(pid: u32) -> Option<Container> {
    /// `ExitFD: 3` in the Config libpod writes.
    const EXIT_FD: u32 = 3;
    let pipe = os::container::fd_pipe(pid, EXIT_FD)?;
    os::container::pipe_peers(&[pipe], "conmon", pid)
        .into_iter()
        .find_map(|c| parse_conmon(&os::container::cmdline(c)?))
}

/// (flag, value) pairs of `-flag value`, `--flag value`, `-flag=value`.
fn go_flags(args: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let Some(flag) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
            i += 1;
            continue;
        };
        if let Some((k, v)) = flag.split_once('=') {
            out.push((k.to_string(), v.to_string()));
            i += 1;
        } else if let Some(v) = args.get(i + 1).filter(|v| !v.starts_with('-')) {
            out.push((flag.to_string(), v.clone()));
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

/// Give each socket its final `netns`: the container of its owner (a
/// container may share the host's namespace), else, for another
/// namespace, the container of that namespace's processes. Containers get
/// their names from `names`; equal references are shared.
pub fn attribute(
    sockets: &mut [SocketEntry],
    others: &HashMap<u64, Option<Container>>,
    names: &mut ContainerNames,
) {
    let mut by_pid: HashMap<u32, Option<Container>> = HashMap::new();
    let mut per_socket: Vec<(usize, Container)> = Vec::new();
    for (i, s) in sockets.iter().enumerate() {
        let Some(ns) = &s.netns else {
            continue;
        };
        let from_owner = s.processes.iter().find_map(|p| {
            by_pid
                .entry(p.pid)
                .or_insert_with(|| os::container::of_pid(p.pid))
                .clone()
        });
        let found = from_owner.or_else(|| others.get(&ns.inode).cloned().flatten());
        if let Some(c) = found {
            per_socket.push((i, c));
        }
    }
    if per_socket.is_empty() {
        return;
    }
    {
        let mut refs: Vec<&mut Container> = per_socket.iter_mut().map(|(_, c)| c).collect();
        names.fill(&mut refs);
    }
    let mut interned: HashMap<(u64, Container), Arc<NetnsRef>> = HashMap::new();
    for (i, c) in per_socket {
        let Some(base) = sockets[i].netns.clone() else {
            continue;
        };
        let r = interned
            .entry((base.inode, c.clone()))
            .or_insert_with(|| {
                Arc::new(NetnsRef {
                    inode: base.inode,
                    name: base.name.clone(),
                    container: Some(c),
                })
            })
            .clone();
        sockets[i].netns = Some(r);
    }
}

/// Name the container behind each socket a `docker-proxy`, `conmon` or
/// `rootlessport` holds. `addresses` maps container IPs to their namespace's container
/// (read on demand: only when a docker-proxy is seen).
pub fn map_published(
    sockets: &mut [SocketEntry],
    addresses: &mut dyn FnMut() -> HashMap<IpAddr, Option<Container>>,
    names: &mut ContainerNames,
) {
    let mut ip_map: Option<HashMap<IpAddr, Option<Container>>> = None;
    let mut args_by_pid: HashMap<u32, Option<Vec<String>>> = HashMap::new();
    let mut rootless: HashMap<u32, Option<Container>> = HashMap::new();
    for s in sockets.iter_mut() {
        let Some(p) = s
            .processes
            .iter()
            .find(|p| matches!(p.name.as_str(), "docker-proxy" | "conmon" | "rootlessport"))
        else {
            continue;
        };
        let Some(args) = args_by_pid
            .entry(p.pid)
            .or_insert_with(|| os::container::cmdline(p.pid))
            .clone()
        else {
            continue;
        };
        let published = if p.name == "docker-proxy" {
            let a = parse_docker_proxy(&args);
            if a.host_port.is_some_and(|hp| hp != s.local_port)
                || a.proto.is_some_and(|pr| pr != s.proto)
            {
                continue;
            }
            let target = match (a.container_ip, a.container_port) {
                (Some(ip), Some(port)) => Some(SocketAddr::new(ip, port)),
                _ => None,
            };
            let container = a.container_ip.and_then(|ip| {
                ip_map
                    .get_or_insert_with(&mut *addresses)
                    .get(&ip)
                    .cloned()
                    .flatten()
            });
            Published {
                via: "docker-proxy".into(),
                container,
                target,
            }
        } else if p.name == "rootlessport" {
            // The child half runs in the container's namespace and holds no
            // host socket; only the parent publishes.
            if args
                .first()
                .is_some_and(|a| a.ends_with("rootlessport-child"))
            {
                continue;
            }
            let container = rootless
                .entry(p.pid)
                .or_insert_with(|| rootlessport_container(p.pid))
                .clone();
            Published {
                via: "rootlessport".into(),
                container,
                target: None,
            }
        } else {
            let Some(container) = parse_conmon(&args) else {
                continue;
            };
            Published {
                via: "conmon".into(),
                container: Some(container),
                target: None,
            }
        };
        s.published = Some(Box::new(published));
    }
    let mut refs: Vec<&mut Container> = sockets
        .iter_mut()
        .filter_map(|s| s.published.as_mut()?.container.as_mut())
        .collect();
    if !refs.is_empty() {
        names.fill(&mut refs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn selections_parse() {
        assert_eq!("all".parse(), Ok(NetnsSelection::All));
        assert_eq!("ALL".parse(), Ok(NetnsSelection::All));
        assert_eq!("own".parse(), Ok(NetnsSelection::Own));
        assert_eq!("4242".parse(), Ok(NetnsSelection::Pid(4242)));
        assert_eq!("blue".parse(), Ok(NetnsSelection::Named("blue".into())));
        for bad in ["", "../x", "a/b", "99999999999"] {
            let e = bad.parse::<NetnsSelection>().unwrap_err();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn docker_proxy_command_lines_parse() {
        // As dockerd starts it (moby daemon/libnetwork/portmapper).
        let a = parse_docker_proxy(&argv(
            "/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80 -use-listen-fd",
        ));
        assert_eq!(
            a,
            ProxyArgs {
                proto: Some(Proto::Tcp),
                host_port: Some(8080),
                container_ip: Some("172.17.0.2".parse().unwrap()),
                container_port: Some(80),
            }
        );
        let a = parse_docker_proxy(&argv(
            "docker-proxy --proto=udp --host-port=5353 --container-ip=fd00::2 --container-port=53",
        ));
        assert_eq!(a.proto, Some(Proto::Udp));
        assert_eq!(a.container_ip, Some("fd00::2".parse().unwrap()));
        assert_eq!(
            parse_docker_proxy(&argv("docker-proxy")),
            ProxyArgs::default()
        );
    }

    /// A real process with docker-proxy's command line (a shell that
    /// sleeps; its arguments are what dockerd passes), holding port 8080 in
    /// a constructed snapshot; the container addresses are given.
    #[test]
    fn a_docker_proxy_process_is_mapped_to_the_container_behind_its_ip() {
        if crate::platform::OS_NAME != "linux" {
            eprintln!("SKIPPED: reading another process's command line is done on Linux only");
            return;
        }
        struct Reap(std::process::Child);
        impl Drop for Reap {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let child = Reap(
            std::process::Command::new("sh")
                .args(["-c", "sleep 30; :", "docker-proxy"])
                .args(argv(
                    "-proto tcp -host-ip 127.0.0.1 -host-port 8080 -container-ip 172.17.0.2 -container-port 80",
                ))
                .spawn()
                .unwrap(),
        );
        // Until the child has exec'd, its command line is this test's.
        let started = Instant::now();
        while !os::container::cmdline(child.0.id())
            .is_some_and(|a| a.iter().any(|x| x == "docker-proxy"))
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "child never started"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let holder = crate::sockets::model::ProcessInfo {
            pid: child.0.id(),
            name: "docker-proxy".into(),
            user: None,
            exe: None,
            cmdline: None,
        };
        let socket = |port: u16| SocketEntry {
            processes: vec![holder.clone()],
            ..SocketEntry::new(
                Proto::Tcp,
                SocketAddr::new("127.0.0.1".parse().unwrap(), port),
                None,
                Some(crate::sockets::model::TcpState::Listen),
            )
        };
        // The same proxy on another port is not this mapping.
        let mut sockets = vec![socket(8080), socket(8081)];
        let web = Container {
            runtime: "docker".into(),
            id: "3f2a9c1b7d0e4f5a".into(),
            name: Some("web".into()),
        };
        let mut asked = 0;
        map_published(
            &mut sockets,
            &mut || {
                asked += 1;
                [("172.17.0.2".parse().unwrap(), Some(web.clone()))]
                    .into_iter()
                    .collect()
            },
            &mut ContainerNames::default(),
        );
        assert_eq!(asked, 1);
        let p = sockets[0].published.as_ref().expect("mapped");
        assert_eq!(p.describe(), "published by container web → 172.17.0.2:80");
        assert_eq!(p.stop_command().as_deref(), Some("docker stop web"));
        assert_eq!(sockets[1].published, None);
    }

    /// Podman's rootless port forwarding, with real processes shaped like
    /// the real ones: a `conmon` (its /proc comm, and the command line
    /// libpod gives it) holding the write end of a pipe, and a
    /// `rootlessport` (argv just "rootlessport", as libpod starts it)
    /// holding the read end and exiting when conmon closes it.
    #[test]
    fn a_rootlessport_is_mapped_to_the_container_of_the_conmon_holding_its_exit_pipe() {
        if crate::platform::OS_NAME != "linux" {
            eprintln!("SKIPPED: /proc descriptors are read on Linux only");
            return;
        }
        struct Reap(std::process::Child);
        impl Drop for Reap {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let dir = tempfile::tempdir().unwrap();
        // A script's comm is its file name (fs/exec.c `begin_new_exec()`
        // takes the basename of the executed path); `read` is a shell
        // builtin, so no child process holds the pipe too.
        let script = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            // chmod(1), not PermissionsExt: this file also builds for Windows.
            let ok = std::process::Command::new("chmod")
                .arg("755")
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chmod failed");
            path
        };
        let (exit_r, exit_w) = std::io::pipe().unwrap();
        let id = "9d2c5e1f0a3b4c6d8e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d";
        let conmon = Reap(
            std::process::Command::new(script("conmon", "#!/bin/sh\nread line\n"))
                .args(argv(&format!(
                    "--api-version 1 -c {id} -u {id} -r /usr/bin/crun -b /home/u/.local/share/containers/storage/overlay-containers/{id}/userdata -p /run/user/1000/containers/overlay-containers/{id}/userdata/pidfile -n web --exit-dir /run/user/1000/libpod/tmp/exits --full-attach -l k8s-file:/home/u/ctr.log --log-level warning --syslog"
                )))
                .stdin(std::process::Stdio::piped())
                .stdout(exit_w)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        // The exit pipe on fd 3, as libpod passes it (`ExitFD: 3`).
        let mut cmd = std::process::Command::new(script(
            "rootlessport",
            "#!/bin/sh\nexec 3<&0 0</dev/null\nread line <&3\n",
        ));
        cmd.stdin(exit_r).stderr(std::process::Stdio::null());
        let rootlessport = Reap(cmd.spawn().unwrap());
        drop(cmd);
        // Until each script runs, its comm is still this test's.
        let comm =
            |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let started = Instant::now();
        while comm(conmon.0.id()).trim() != "conmon"
            || comm(rootlessport.0.id()).trim() != "rootlessport"
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "children never started"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let started = Instant::now();
        while os::container::fd_pipe(rootlessport.0.id(), 3).is_none() {
            assert!(started.elapsed() < Duration::from_secs(10), "no fd 3");
            std::thread::sleep(Duration::from_millis(10));
        }
        let pipe = os::container::fd_pipe(rootlessport.0.id(), 3).unwrap();
        assert!(os::container::pipe_inodes(rootlessport.0.id()).contains(&pipe));
        assert_eq!(
            os::container::pipe_peers(&[pipe], "conmon", rootlessport.0.id()),
            vec![conmon.0.id()]
        );
        let holder = |pid: u32| crate::sockets::model::ProcessInfo {
            pid,
            name: "rootlessport".into(),
            user: None,
            exe: None,
            cmdline: None,
        };
        let socket = |pid: u32| SocketEntry {
            processes: vec![holder(pid)],
            ..SocketEntry::new(
                Proto::Tcp,
                SocketAddr::new("127.0.0.1".parse().unwrap(), 8080),
                None,
                Some(crate::sockets::model::TcpState::Listen),
            )
        };
        // A second "rootlessport" with no pipe at all: its container stays
        // unknown.
        let lone = Reap(
            std::process::Command::new("sleep")
                .arg("30")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut sockets = vec![socket(rootlessport.0.id()), socket(lone.0.id())];
        map_published(
            &mut sockets,
            &mut HashMap::new,
            &mut ContainerNames::default(),
        );
        let p = sockets[0].published.as_ref().expect("mapped");
        assert_eq!(p.via, "rootlessport");
        assert_eq!(p.describe(), "published by container web");
        assert_eq!(p.stop_command().as_deref(), Some("podman stop web"));
        assert_eq!(p.container.as_ref().map(|c| c.id.as_str()), Some(id));
        let q = sockets[1]
            .published
            .as_ref()
            .expect("still a published port");
        assert_eq!(q.describe(), "published by a container (rootlessport)");
        assert_eq!(q.stop_command(), None);
        // When conmon goes, rootlessport follows (EOF on its exit pipe).
        drop(conmon);
        let mut rootlessport = rootlessport;
        let started = Instant::now();
        while rootlessport.0.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "rootlessport did not exit"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn conmon_names_its_container() {
        let c = parse_conmon(&argv(
            "/usr/bin/conmon --api-version 1 -c 3f2a9c1b7d0e4f5a -u 3f2a9c1b7d0e4f5a -r /usr/bin/crun -n web --exit-dir /run/libpod/exits",
        ))
        .unwrap();
        assert_eq!(c.runtime, "podman");
        assert_eq!(c.id, "3f2a9c1b7d0e4f5a");
        assert_eq!(c.name.as_deref(), Some("web"));
        assert_eq!(parse_conmon(&argv("conmon --api-version 1")), None);
    }

    #[test]
    fn published_ports_read_as_a_sentence() {
        let p = Published {
            via: "docker-proxy".into(),
            container: Some(Container {
                runtime: "docker".into(),
                id: "3f2a9c1b7d0e4f5a8b6c".into(),
                name: Some("web".into()),
            }),
            target: Some("172.17.0.2:80".parse().unwrap()),
        };
        assert_eq!(p.describe(), "published by container web → 172.17.0.2:80");
        assert_eq!(p.stop_command().as_deref(), Some("docker stop web"));
        let anon = Published {
            container: Some(Container {
                name: None,
                ..p.container.clone().unwrap()
            }),
            ..p.clone()
        };
        assert_eq!(
            anon.describe(),
            "published by container docker 3f2a9c1b7d0e → 172.17.0.2:80"
        );
        assert_eq!(
            anon.stop_command().as_deref(),
            Some("docker stop 3f2a9c1b7d0e")
        );
        let unknown = Published {
            container: None,
            target: None,
            ..p
        };
        assert_eq!(
            unknown.describe(),
            "published by a container (docker-proxy)"
        );
        assert_eq!(unknown.stop_command(), None);
    }

    #[test]
    fn the_window_banner_points_at_the_toggle_or_at_root() {
        let root = NetnsSummary {
            own: Some(1),
            others: 2,
            other_containers: 1,
            listed: vec![1],
            privileged: true,
            ..NetnsSummary::default()
        };
        assert_eq!(
            root.banner(false).unwrap(),
            "2 other network namespaces exist on this machine (1 with containers); the table \
             shows only portwise's own. Turn on \"All namespaces\" to list their sockets too."
        );
        let all = NetnsSummary {
            listed: vec![1, 2, 3],
            asked_all: true,
            ..root.clone()
        };
        assert_eq!(
            all.banner(true).unwrap(),
            "Showing the sockets of every network namespace: portwise's own and 2 other \
             network namespaces (1 with containers)."
        );
        let skipped = NetnsSummary {
            listed: vec![1, 2],
            skipped: vec!["network namespace 3 not listed: gone".into()],
            ..all.clone()
        };
        assert!(
            skipped
                .banner(true)
                .unwrap()
                .ends_with("1 other network namespace (1 with containers). network namespace 3 not listed: gone."),
            "{:?}",
            skipped.banner(true)
        );
        let user = NetnsSummary {
            others: 1,
            other_containers: 0,
            privileged: false,
            unreadable_processes: 12,
            ..root.clone()
        };
        for on in [false, true] {
            let b = user.banner(on).unwrap();
            assert!(
                b.starts_with("at least 1 other network namespace exists on this machine;"),
                "{b}"
            );
            assert!(
                b.contains("needs root") && b.contains("sudo -E portwise"),
                "{b}"
            );
        }
        let user_alone = NetnsSummary { others: 0, ..user };
        assert_eq!(user_alone.banner(false), None);
        assert!(user_alone.banner(true).unwrap().contains("12 processes"));
        assert_eq!(
            NetnsSummary {
                others: 0,
                ..root.clone()
            }
            .banner(false),
            None
        );
        assert_eq!(
            NetnsSummary::default().banner(true),
            None,
            "no namespaces on this OS"
        );
    }

    #[test]
    fn the_place_column_is_quiet_for_the_own_namespace() {
        let own = NetnsRef {
            inode: 1,
            name: None,
            container: None,
        };
        assert_eq!(place_text(Some(&own), Some(1)), "");
        assert_eq!(place_text(None, None), "");
        let blue = NetnsRef {
            inode: 2,
            name: Some("blue".into()),
            container: None,
        };
        assert_eq!(place_text(Some(&blue), Some(1)), "netns blue");
        let anon = NetnsRef {
            name: None,
            ..blue.clone()
        };
        assert_eq!(place_text(Some(&anon), Some(1)), "netns 2");
        let web = NetnsRef {
            container: Some(Container {
                runtime: "docker".into(),
                id: "3f2a9c1b7d0e4f5a".into(),
                name: Some("web".into()),
            }),
            ..own
        };
        // A container sharing the host's namespace is still named.
        assert_eq!(place_text(Some(&web), Some(1)), "container web");
    }

    #[test]
    fn the_note_says_how_many_and_how_to_see_them() {
        let s = NetnsSummary {
            own: Some(1),
            others: 3,
            other_containers: 1,
            listed: vec![1],
            skipped: vec![],
            unreadable_processes: 0,
            privileged: true,
            asked_all: false,
        };
        assert_eq!(
            s.note().unwrap(),
            "3 other network namespaces exist, 1 with containers; this list shows only \
             portwise's own; `portwise list --netns all` shows their sockets"
        );
        let user = NetnsSummary {
            others: 1,
            other_containers: 0,
            privileged: false,
            unreadable_processes: 40,
            ..s.clone()
        };
        let note = user.note().unwrap();
        assert!(
            note.starts_with("at least 1 other network namespace exists;"),
            "{note}"
        );
        assert!(note.contains("sudo portwise list --netns all"), "{note}");
        let all = NetnsSummary {
            listed: vec![1, 2, 3, 4],
            ..s.clone()
        };
        assert_eq!(all.note(), None);
        let alone = NetnsSummary { others: 0, ..s };
        assert_eq!(alone.note(), None);
    }
}
