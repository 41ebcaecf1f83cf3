//! The snapshot model: what one look at the machine's sockets returns.
//!
//! These types are the contract between the platform code (which fills them),
//! the CLI (which prints them) and the window (which draws them). Their JSON
//! form is the one `portwise list --json` prints.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            other => Err(format!("unknown protocol '{other}' (expected tcp or udp)")),
        }
    }
}

/// Address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TCP connection state, named as the kernel and `netstat` name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TcpState {
    #[serde(rename = "LISTEN")]
    Listen,
    #[serde(rename = "SYN_SENT")]
    SynSent,
    #[serde(rename = "SYN_RECV")]
    SynRecv,
    #[serde(rename = "ESTABLISHED")]
    Established,
    #[serde(rename = "FIN_WAIT_1")]
    FinWait1,
    #[serde(rename = "FIN_WAIT_2")]
    FinWait2,
    #[serde(rename = "CLOSE_WAIT")]
    CloseWait,
    #[serde(rename = "CLOSING")]
    Closing,
    #[serde(rename = "LAST_ACK")]
    LastAck,
    #[serde(rename = "TIME_WAIT")]
    TimeWait,
    #[serde(rename = "CLOSED")]
    Closed,
}

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN_WAIT_1",
            TcpState::FinWait2 => "FIN_WAIT_2",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Closed => "CLOSED",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TcpState {
    type Err = String;
    /// Case-insensitive; `-` and `_` are interchangeable ("time-wait",
    /// "TIME_WAIT", "Time_Wait" all parse). "fin-wait1" is accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        TcpState::ALL
            .iter()
            .copied()
            .find(|st| st.as_str().replace('_', "") == norm)
            .ok_or_else(|| {
                let names: Vec<String> = TcpState::ALL
                    .iter()
                    .map(|st| st.as_str().to_ascii_lowercase().replace('_', "-"))
                    .collect();
                format!(
                    "unknown state '{}' (expected one of: {})",
                    s.trim(),
                    names.join(", ")
                )
            })
    }
}

/// A process that holds a socket open.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: String,
    /// Login name of the process's user; `None` where it cannot be read.
    pub user: Option<String>,
    /// Path of the executable; `None` where it cannot be read.
    pub exe: Option<String>,
    /// The command line, one string per argument (the program first), as
    /// the OS reports it (`/proc/PID/cmdline` on Linux); `None` where it
    /// cannot be read or is empty (kernel threads, zombies, another user's
    /// process where the OS hides it). Left out of JSON when `None`, so
    /// older readers and writers still agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<Vec<String>>,
}

impl ProcessInfo {
    /// The command line as one line, arguments separated by spaces; an
    /// argument that is empty or holds whitespace or a quote is put in
    /// single quotes (shell style), so `python3 -c 'print(1)'` reads as
    /// typed. `None` when the command line is unknown.
    pub fn command_line(&self) -> Option<String> {
        Some(quote_args(self.cmdline.as_ref()?))
    }
}

/// Arguments as one line, shell style: see [`ProcessInfo::command_line`].
/// Control characters are kept (escape them to show the line).
pub fn quote_args(args: &[String]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if a.is_empty()
            || a.chars()
                .any(|c| c.is_whitespace() || c == '\'' || c == '"')
        {
            out.push('\'');
            out.push_str(&a.replace('\'', "'\\''"));
            out.push('\'');
        } else {
            out.push_str(a);
        }
    }
    out
}

/// Who held a connection before it went into TIME_WAIT: remembered by the
/// engine from an earlier snapshot, never reported by the kernel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OwnerRef {
    pub pid: u32,
    pub name: String,
}

/// A container a process runs in, as its cgroup path names it (Linux).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Container {
    /// "docker", "podman", "containerd", "cri-o", "nspawn" or "lxc".
    pub runtime: String,
    /// The runtime's id: a 64-hex container id, or the machine / container
    /// name for nspawn and LXC.
    pub id: String,
    /// The container's name where the runtime tells it; `None` otherwise.
    pub name: Option<String>,
}

impl Container {
    /// "web", or "docker 3f2a9c1b7d0e" (runtime and short id) without a name.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("{} {}", self.runtime, self.short_id()),
        }
    }

    /// The first 12 characters of the id, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        let end = self
            .id
            .char_indices()
            .nth(12)
            .map_or(self.id.len(), |(i, _)| i);
        &self.id[..end]
    }
}

/// The network namespace a socket lives in (Linux), and the container its
/// owner runs in, if any.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NetnsRef {
    /// The namespace's inode (`readlink /proc/PID/ns/net` shows `net:[N]`).
    pub inode: u64,
    /// Its name under /run/netns (`ip netns add NAME`), if it has one.
    pub name: Option<String>,
    pub container: Option<Container>,
}

impl NetnsRef {
    /// "container web", "netns blue", "netns 4026532239": how a person
    /// names the place in one phrase.
    pub fn describe(&self) -> String {
        match (&self.container, &self.name) {
            (Some(c), _) => format!("container {}", c.label()),
            (None, Some(n)) => format!("netns {n}"),
            (None, None) => format!("netns {}", self.inode),
        }
    }
}

/// Who a published port forwards to: the proxy process's own command line
/// names the target.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Published {
    /// The forwarding process: "docker-proxy", "conmon" or "rootlessport".
    pub via: String,
    /// The container behind it, where known.
    pub container: Option<Container>,
    /// Where the traffic goes (docker-proxy's -container-ip and
    /// -container-port), where known.
    pub target: Option<SocketAddr>,
}

impl Published {
    /// "published by container web → 172.17.0.2:80".
    pub fn describe(&self) -> String {
        let who = match &self.container {
            Some(c) => format!("container {}", c.label()),
            None => format!("a container ({})", self.via),
        };
        match self.target {
            Some(t) => format!("published by {who} → {t}"),
            None => format!("published by {who}"),
        }
    }

    /// The command that stops the container (instead of killing its proxy).
    pub fn stop_command(&self) -> Option<String> {
        let c = self.container.as_ref()?;
        let handle = c.name.clone().unwrap_or_else(|| c.short_id().to_string());
        match c.runtime.as_str() {
            "docker" => Some(format!("docker stop {handle}")),
            "podman" => Some(format!("podman stop {handle}")),
            _ => None,
        }
    }
}

/// One socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketEntry {
    pub proto: Proto,
    pub family: Family,
    pub local_addr: IpAddr,
    pub local_port: u16,
    /// `None` for listeners and unconnected UDP sockets.
    pub remote_addr: Option<IpAddr>,
    pub remote_port: Option<u16>,
    /// `None` for UDP.
    pub state: Option<TcpState>,
    /// The processes holding this socket, sorted by pid. Empty for TIME_WAIT
    /// (the kernel owns those) and for sockets whose owner cannot be seen.
    pub processes: Vec<ProcessInfo>,
    /// Time left before the kernel frees a TIME_WAIT socket, where the OS
    /// reports it (Linux sock_diag). Also, on Linux, for an orphaned
    /// FIN_WAIT_2 connection the kernel keeps as a timewait socket (what
    /// `ss -o` shows as `timer:(timewait,…)` on a FIN-WAIT-2 row): its time
    /// left before it is dropped. `None` elsewhere: never invented.
    pub time_wait_expires_in_ms: Option<u64>,
    /// For TIME_WAIT sockets: the owner seen earlier while the connection was
    /// alive, if this engine saw it.
    pub last_known_owner: Option<OwnerRef>,
    /// The network namespace the socket lives in (Linux; `None` elsewhere),
    /// shared between the sockets of one namespace.
    pub netns: Option<Arc<NetnsRef>>,
    /// For a socket a port proxy holds (`docker-proxy`, Podman's `conmon`):
    /// the container the port is published for. Left out of JSON when
    /// `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Box<Published>>,
    /// The socket's inode on Linux (0 for TIME_WAIT); not printed.
    #[serde(skip)]
    pub inode: u64,
    /// The owning uid where the OS reports it; not printed.
    #[serde(skip)]
    pub uid: Option<u32>,
    /// True when the OS says no process holds a descriptor to this socket
    /// (TIME_WAIT, or closed and still finishing: Linux lists no inode,
    /// macOS sets `SS_NOFDREF`); then an empty owner list is the truth, not
    /// a socket whose owner could not be seen. Not printed.
    #[serde(skip)]
    pub orphan: bool,
}

impl SocketEntry {
    /// A socket at `local` (connected to `remote`, if any) in `state`, its
    /// family taken from the local address; no owner, no inode or uid, no
    /// TIME_WAIT countdown. Set those fields where they are known.
    pub fn new(
        proto: Proto,
        local: std::net::SocketAddr,
        remote: Option<std::net::SocketAddr>,
        state: Option<TcpState>,
    ) -> SocketEntry {
        SocketEntry {
            proto,
            family: Family::of(&local.ip()),
            local_addr: local.ip(),
            local_port: local.port(),
            remote_addr: remote.map(|a| a.ip()),
            remote_port: remote.map(|a| a.port()),
            state,
            processes: Vec::new(),
            time_wait_expires_in_ms: None,
            last_known_owner: None,
            netns: None,
            published: None,
            inode: 0,
            uid: None,
            orphan: false,
        }
    }

    /// True when the kernel keeps this socket without any process: TIME_WAIT.
    pub fn is_kernel_owned(&self) -> bool {
        self.state == Some(TcpState::TimeWait)
    }

    /// True for a TCP listener or a bound UDP socket: what makes a port busy
    /// for a new server.
    pub fn is_listening(&self) -> bool {
        match self.proto {
            Proto::Tcp => self.state == Some(TcpState::Listen),
            Proto::Udp => true,
        }
    }

    /// The deterministic order every output uses: proto, local port, local
    /// address, state, remote address, remote port.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.proto,
            self.local_port,
            self.family,
            self.local_addr,
            self.state,
            self.remote_addr,
            self.remote_port,
            self.inode,
        )
    }
}

/// One look at the machine's sockets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub taken_at_unix_ms: u64,
    /// How many sockets have an owner this user cannot see (not counting
    /// TIME_WAIT, which has no owner at all).
    pub unattributed: usize,
    /// Why they are unattributed, and what would reveal them; `None` when
    /// `unattributed` is 0.
    pub unattributed_reason: Option<String>,
    /// Whether the snapshot was taken with privileges (root / Administrator),
    /// which decides whether other users' sockets can be attributed.
    pub privileged: bool,
    /// Sorted by [`SocketEntry::sort_key`].
    pub sockets: Vec<SocketEntry>,
    /// Login names of the uids that hold sockets whose owner process this
    /// user cannot see: the kernel reports a socket's uid (Linux sock_diag)
    /// even when /proc hides its process, so the table can still say whose
    /// it is. Not in JSON (the reason names them); see
    /// [`Snapshot::hidden_owner_user`].
    #[serde(skip)]
    pub owner_users: std::collections::BTreeMap<u32, String>,
}

/// [`Snapshot::hidden_owner_user`] with the login names in `users` (uid to
/// name): for a front end that keeps the names of several snapshots, so a
/// row that outlived its snapshot is still named.
pub fn hidden_owner_name<'a>(
    e: &SocketEntry,
    users: &'a std::collections::BTreeMap<u32, String>,
) -> Option<std::borrow::Cow<'a, str>> {
    if !crate::sockets::is_unattributed(e) {
        return None;
    }
    let uid = e.uid?;
    Some(match users.get(&uid) {
        Some(name) => std::borrow::Cow::Borrowed(name.as_str()),
        None => std::borrow::Cow::Owned(format!("uid {uid}")),
    })
}

impl Snapshot {
    /// Whose socket `e` is when its owner process is hidden from this user:
    /// the login name of the socket's uid, or "uid N" where the name is not
    /// known. `None` for a socket with a visible owner, a kernel-owned one
    /// (TIME_WAIT, orphans) or one without a uid.
    pub fn hidden_owner_user(&self, e: &SocketEntry) -> Option<String> {
        hidden_owner_name(e, &self.owner_users).map(std::borrow::Cow::into_owned)
    }

    /// Sort sockets (and each socket's processes) into the deterministic order.
    pub fn sort(&mut self) {
        for s in &mut self.sockets {
            s.processes.sort();
            s.processes.dedup();
        }
        self.sockets.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }

    /// Counts per state name ("LISTEN", "TIME_WAIT", ..., "UDP"), sorted.
    pub fn counts(&self) -> Vec<(String, usize)> {
        let mut map = std::collections::BTreeMap::<String, usize>::new();
        for s in &self.sockets {
            let key = match s.state {
                Some(st) => st.as_str().to_string(),
                None => "UDP".to_string(),
            };
            *map.entry(key).or_default() += 1;
        }
        map.into_iter().collect()
    }

    pub fn listening_count(&self) -> usize {
        self.sockets.iter().filter(|s| s.is_listening()).count()
    }

    pub fn time_wait_count(&self) -> usize {
        self.sockets.iter().filter(|s| s.is_kernel_owned()).count()
    }

    /// The sockets of `proto` whose LOCAL port is `port` (not those whose
    /// remote port is), found by binary search: the snapshot must be in
    /// [`Snapshot::sort`] order, which starts with (proto, local port).
    pub fn on_port(&self, proto: Proto, port: u16) -> &[SocketEntry] {
        let key = |s: &SocketEntry| (s.proto, s.local_port);
        let start = self.sockets.partition_point(|s| key(s) < (proto, port));
        let len = self.sockets[start..].partition_point(|s| key(s) == (proto, port));
        &self.sockets[start..start + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_parsing_is_lenient_about_case_and_separators() {
        for s in ["time-wait", "TIME_WAIT", "Time_Wait", "timewait"] {
            assert_eq!(s.parse::<TcpState>(), Ok(TcpState::TimeWait), "{s}");
        }
        assert_eq!("fin-wait-1".parse::<TcpState>(), Ok(TcpState::FinWait1));
        assert_eq!("close_wait".parse::<TcpState>(), Ok(TcpState::CloseWait));
        let err = "bogus".parse::<TcpState>().unwrap_err();
        assert!(err.contains("bogus") && err.contains("time-wait"), "{err}");
    }

    #[test]
    fn json_names_match_the_documented_format() {
        let e = SocketEntry {
            time_wait_expires_in_ms: Some(1500),
            last_known_owner: Some(OwnerRef {
                pid: 7,
                name: "x".into(),
            }),
            ..SocketEntry::new(
                Proto::Tcp,
                "127.0.0.1:8080".parse().unwrap(),
                None,
                Some(TcpState::TimeWait),
            )
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["proto"], "tcp");
        assert_eq!(v["family"], "ipv4");
        assert_eq!(v["local_addr"], "127.0.0.1");
        assert_eq!(v["state"], "TIME_WAIT");
        assert_eq!(v["remote_addr"], serde_json::Value::Null);
        assert_eq!(v["last_known_owner"]["pid"], 7);
        assert!(v.get("inode").is_none());
    }
}
