//! The real machine as a [`SocketSource`]: the OS socket table, owners,
//! process details and the memory of past owners, kept between snapshots.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::filter::StateFilter;
use super::memory::{ConnKey, OwnerMemory};
use super::model::{NetnsRef, OwnerRef, ProcessInfo, Proto, Snapshot, SocketEntry};
use super::namespaces::{self, ContainerNames, NetnsSelection, NetnsSummary, Target};
use super::order;
use super::owners::{FdMemory, OwnerCache, OwnerQuery};
use super::procinfo::ProcessTable;
use super::raw::{NetnsDiscovery, OwnerScan, RawSocket, Unattributed};
use super::{SocketSource, SourceError, is_unattributed};
use crate::platform::{Current, DumpScope, HOST, ProcessIdentity, SocketTable, os};
use crate::util::time::now_unix_ms;

/// How long a namespace discovery is reused while only the own namespace
/// is listed: it walks every /proc/PID/ns/net, and only feeds the note
/// that other namespaces exist.
const REDISCOVER_OWN_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Snapshots of this machine's sockets. Keep one alive for as long as
/// snapshots are taken (`--watch`, the window's sampler): it caches owners
/// and process details, and remembers who held each connection so that a
/// later TIME_WAIT socket can name its `last_known_owner`.
///
/// `P` is the OS's side ([`SocketTable`] and [`ProcessIdentity`]): the
/// running OS by default; tests give it fakes shaped like each OS.
#[derive(Debug)]
pub struct SystemSource<P = Current> {
    platform: P,
    owners: OwnerCache,
    processes: ProcessTable,
    memory: OwnerMemory,
    /// Size of the last table, to allocate the next one at once.
    last_len: usize,
    /// Snapshots taken so far.
    taken: u64,
    /// List TCP sockets that are only bound (state CLOSED).
    bound_only: bool,
    /// Which network namespaces to list (Linux).
    netns: NetnsSelection,
    /// What the last snapshot found about namespaces.
    netns_summary: NetnsSummary,
    /// Container names, kept between snapshots.
    container_names: ContainerNames,
    /// The last namespace discovery, when, and how many other namespaces
    /// hold containers: reused for a while when only the own namespace is
    /// listed (it only feeds the note), redone every time otherwise.
    discovered: Option<(Instant, NetnsDiscovery, usize)>,
    /// Only the sockets on one port (see [`SystemSource::set_port_scope`]).
    scope: Option<PortScope>,
    /// Each process's descriptors as last read (Linux).
    fds: FdMemory,
}

/// The sockets one query is about: a local or remote port, and maybe one
/// protocol. The fewer sockets it keeps, the sooner the owner scan has
/// found all their owners (Linux).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortScope {
    pub port: u16,
    pub proto: Option<Proto>,
    /// Only sockets whose local port is `port`: a bind test's question (a
    /// socket connected to the port from another one does not hold it).
    pub local_only: bool,
    /// Only sockets in these states: what a one-shot list shows. `None`
    /// for repeated snapshots (`--watch`, the window), which remember the
    /// owners of connections to name them on their TIME_WAIT sockets later.
    pub states: Option<StateFilter>,
}

impl PortScope {
    /// Every socket on `port`, local or remote, in any state.
    pub fn port(port: u16, proto: Option<Proto>) -> Self {
        PortScope {
            port,
            proto,
            local_only: false,
            states: None,
        }
    }

    fn keeps(&self, s: &SocketEntry) -> bool {
        self.proto.is_none_or(|p| p == s.proto)
            && (s.local_port == self.port || (!self.local_only && s.remote_port == Some(self.port)))
            && self.states.as_ref().is_none_or(|f| f.matches(s))
    }
}

impl Default for SystemSource {
    fn default() -> Self {
        Self::new()
    }
}

/// The socket table as dumped, before owners are named. The index lists
/// let later steps visit the few sockets they concern instead of walking a
/// table of tens of thousands of TIME_WAIT sockets again.
struct Table {
    sockets: Vec<SocketEntry>,
    /// Owning pids the OS listed with a socket (Windows, macOS), by index.
    listed_pids: Vec<(usize, Vec<u32>)>,
    /// Sockets with an inode (Linux: some process holds them).
    with_inode: Vec<usize>,
    /// Sockets that have a process, once owners are attached.
    owned: Vec<usize>,
    /// Orphans with the last pid the OS remembers (macOS), by index.
    last_pids: Vec<(usize, u32)>,
    /// The indexes of the own network namespace's sockets.
    own: std::ops::Range<usize>,
}

impl SystemSource {
    pub fn new() -> Self {
        SystemSource::with_platform(HOST)
    }
}

impl<P: SocketTable + ProcessIdentity> SystemSource<P> {
    /// Snapshots through `platform` instead of the running OS.
    pub fn with_platform(platform: P) -> Self {
        SystemSource {
            platform,
            owners: OwnerCache::new(),
            processes: ProcessTable::new(),
            memory: OwnerMemory::default(),
            last_len: 0,
            taken: 0,
            bound_only: true,
            netns: NetnsSelection::Own,
            netns_summary: NetnsSummary::default(),
            container_names: ContainerNames::default(),
            discovered: None,
            scope: None,
            fds: FdMemory::default(),
        }
    }

    /// Which network namespaces snapshots list (Linux): the own one by
    /// default. Others need root; without it [`NetnsSelection::All`] lists
    /// the own one and the summary's note says how to see the rest.
    pub fn set_netns(&mut self, selection: NetnsSelection) {
        self.netns = selection;
    }

    /// What the last snapshot found about network namespaces: how many
    /// exist beside the listed ones, and why any were skipped.
    pub fn netns_summary(&self) -> &NetnsSummary {
        &self.netns_summary
    }

    /// Take snapshots of the sockets on one port only (local or remote
    /// port, and the protocol if given): "who holds port 8080?". The owner
    /// scan then looks for those sockets' owners alone and stops reading
    /// /proc as soon as it has found them (Linux), instead of naming the
    /// owner of every socket on the machine. `None`: every socket.
    pub fn set_port_scope(&mut self, scope: Option<PortScope>) {
        self.scope = scope;
    }

    /// Whether to list TCP sockets bound to a port but neither listening
    /// nor connected (state CLOSED; they too make `bind()` fail). On Linux
    /// finding them costs the kernel a walk of its bind table that grows
    /// with the TIME_WAIT pile (8 ms per snapshot with 30k on the benchmark
    /// machine): a view that does not show CLOSED may leave them out.
    /// Listed by default.
    pub fn set_bound_only(&mut self, list: bool) {
        self.bound_only = list;
    }

    /// How many connections the owner memory holds now.
    pub fn remembered_connections(&self) -> usize {
        self.memory.len()
    }

    /// How many /proc owner scans ran so far (Linux; 0 elsewhere).
    pub fn owner_scans(&self) -> u64 {
        self.owners.scans()
    }

    /// Dump the OS socket table of each target namespace straight into
    /// entries, running `meanwhile` while the kernel works. A namespace
    /// that cannot be entered fails the snapshot when `strict`, else is
    /// named in the returned list of skipped ones. Other namespaces exist
    /// only on the real machine, so they are always read through [`HOST`].
    fn dump(
        platform: &P,
        capacity: usize,
        bound_only: bool,
        scope: Option<&PortScope>,
        meanwhile: &mut dyn FnMut(),
        targets: &[(Target, Option<Arc<NetnsRef>>)],
        strict: bool,
    ) -> Result<(Table, Vec<u64>, Vec<String>), SourceError> {
        let mut table = Table {
            sockets: Vec::with_capacity(capacity),
            listed_pids: Vec::new(),
            with_inode: Vec::new(),
            owned: Vec::new(),
            last_pids: Vec::new(),
            own: 0..0,
        };
        let mut listed = Vec::new();
        let mut skipped = Vec::new();
        let mut meanwhile = Some(meanwhile);
        // Ask the OS for the scope's sockets only, where it can filter.
        let dump_scope = scope.map(|s| DumpScope {
            port: s.port,
            local_only: s.local_only,
            proto: s.proto,
        });
        if !matches!(targets.first(), Some((Target::Own, _))) {
            // The early owner scan needs no namespace: run it first.
            if let Some(m) = meanwhile.take() {
                m();
            }
        }
        for (target, tag) in targets {
            let inode = tag.as_ref().map_or(0, |t| t.inode);
            match target {
                Target::Own => {
                    let mut nothing = || {};
                    let early = meanwhile.take();
                    let start = table.sockets.len();
                    platform
                        .dump_scoped(
                            &mut |r| push_raw(&mut table, r, tag, scope),
                            early.unwrap_or(&mut nothing),
                            bound_only,
                            dump_scope,
                        )
                        .map_err(SourceError)?;
                    table.own = start..table.sockets.len();
                }
                Target::Other(ns) => {
                    // Sockets opened inside belong to that namespace; the
                    // rows join the same table (inodes are machine-wide).
                    let before = table.sockets.len();
                    let result = os::netns::run_in(ns, || {
                        HOST.dump_scoped(
                            &mut |r| push_raw(&mut table, r, tag, scope),
                            &mut || {},
                            bound_only,
                            dump_scope,
                        )
                    })
                    .and_then(|r| r);
                    if let Err(e) = result {
                        if strict {
                            return Err(SourceError(e));
                        }
                        // Drop a half-read namespace rather than show part.
                        table.sockets.truncate(before);
                        table.with_inode.retain(|&i| i < before);
                        table.listed_pids.retain(|(i, _)| *i < before);
                        table.last_pids.retain(|(i, _)| *i < before);
                        skipped.push(format!("network namespace {inode} not listed: {e}"));
                        continue;
                    }
                }
            }
            listed.push(inode);
        }
        Ok((table, listed, skipped))
    }

    /// The pids holding each socket, by index: the OS's own list where it
    /// gives one, else the inode cache (scanning only when needed).
    fn owner_pids(
        &mut self,
        table: &Table,
        now: Instant,
        prefetched: &mut Option<OwnerScan>,
    ) -> Vec<(usize, Vec<u32>)> {
        let inodes: HashSet<u64> = table
            .with_inode
            .iter()
            .map(|&i| table.sockets[i].inode)
            .collect();
        let scoped = self.scope.is_some();
        let likely = self.owners.known_pids();
        // A second pass is worth it only for sockets this user can see the
        // owners of (all of them with privileges), and only for sockets no
        // earlier scan has already looked for in vain: a socket whose
        // holder is out of sight (another pid namespace, the kernel's own)
        // would otherwise cost a read of every descriptor on the machine
        // at every refresh. The periodic full scan still looks for it.
        let me = self.platform.current_uid();
        let all = self.platform.is_elevated();
        let retry: HashSet<u64> = table
            .with_inode
            .iter()
            .map(|&i| &table.sockets[i])
            .filter(|s| all || s.uid.is_none() || s.uid == me)
            .filter(|s| !self.owners.was_unplaced(s.inode))
            .map(|s| s.inode)
            .collect();
        let platform = &self.platform;
        let fds = &mut self.fds;
        let bound_only = self.bound_only;
        let dump_scope = self.scope.as_ref().map(|s| DumpScope {
            port: s.port,
            local_only: s.local_only,
            proto: s.proto,
        });
        // A socket opened between the early scan and the dump reaching it
        // stays unattributed in this snapshot (the reason says so); the
        // next snapshot scans for it.
        self.owners.refresh(&inodes, now, |wanted, trust_memory| {
            prefetched.take().unwrap_or_else(|| {
                let sockets = || table.with_inode.iter().map(|&i| &table.sockets[i]);
                // A port query reads the likely owners first: the sockets'
                // users.
                let uids: HashSet<u32> = if scoped {
                    sockets().filter_map(|s| s.uid).collect()
                } else {
                    HashSet::new()
                };
                let query = OwnerQuery {
                    wanted: Some(wanted),
                    stop_early: scoped,
                    likely_pids: &likely,
                    likely_uids: &uids,
                    trust_memory,
                    live: Some(wanted),
                    retry: None,
                };
                let mut result = platform.scan_owners(&query, fds);
                if !trust_memory {
                    return result;
                }
                // A pass that trusted remembered descriptors can miss a
                // socket opened on a reused descriptor number: read
                // everything again for the sockets it left unresolved. But
                // first drop those closed since the dump (under churn nearly
                // every refresh has one, and looking for a closed socket
                // reads every descriptor on the machine): a second dump
                // costs a fraction of that.
                let unresolved: HashSet<u64> = retry
                    .iter()
                    .filter(|i| !result.owners.contains_key(i))
                    .copied()
                    .collect();
                if unresolved.is_empty() {
                    return result;
                }
                let still = still_open(platform, table, &unresolved, bound_only, dump_scope);
                if still.is_empty() {
                    return result;
                }
                let again = OwnerQuery {
                    wanted: Some(&still),
                    stop_early: true,
                    trust_memory: false,
                    ..query
                };
                let more = platform.scan_owners(&again, fds);
                result.links_read += more.links_read;
                result.unreadable_processes = more.unreadable_processes;
                result.owners.extend(more.owners);
                result
            })
        });
        let mut out = table.listed_pids.clone();
        for &i in &table.with_inode {
            let pids = self.owners.owners_of(table.sockets[i].inode);
            if !pids.is_empty() {
                out.push((i, pids.to_vec()));
            }
        }
        out
    }

    /// Name every owner; rescan once if a cached owner has gone.
    fn attach_processes(&mut self, table: &mut Table, now: Instant, prefetched: Option<OwnerScan>) {
        let mut prefetched = prefetched;
        let mut owned = self.owner_pids(table, now, &mut prefetched);
        let wanted = |owned: &[(usize, Vec<u32>)]| -> Vec<u32> {
            let set: BTreeSet<u32> = owned.iter().flat_map(|(_, p)| p.iter().copied()).collect();
            set.into_iter().collect()
        };
        let mut pids = wanted(&owned);
        let mut procs: BTreeMap<u32, ProcessInfo> = self.processes.lookup(&pids);
        if pids.iter().any(|p| !procs.contains_key(p)) {
            // A cached owner has exited (or its pid is no longer visible):
            // the cache is out of date, so scan again, once.
            self.owners.mark_stale();
            owned = self.owner_pids(table, now, &mut None);
            pids = wanted(&owned);
            let missing: Vec<u32> = pids
                .iter()
                .copied()
                .filter(|p| !procs.contains_key(p))
                .collect();
            procs.extend(self.processes.lookup(&missing));
        }
        table.owned = owned.iter().map(|(i, _)| *i).collect();
        for (i, mut socket_pids) in owned {
            socket_pids.sort_unstable();
            socket_pids.dedup();
            table.sockets[i].processes = socket_pids
                .iter()
                .map(|pid| {
                    procs.get(pid).cloned().unwrap_or_else(|| ProcessInfo {
                        pid: *pid,
                        name: String::new(),
                        user: None,
                        exe: None,
                        cmdline: None,
                    })
                })
                .collect();
        }
    }

    /// Remember the owners of live connections; name the remembered owner of
    /// each TIME_WAIT socket.
    fn apply_memory(&mut self, table: &mut Table, now: Instant) {
        fn key(s: &SocketEntry) -> Option<ConnKey> {
            let (Some(ip), Some(port)) = (s.remote_addr, s.remote_port) else {
                return None;
            };
            Some(ConnKey {
                netns: s.netns.as_ref().map_or(0, |n| n.inode),
                proto: s.proto,
                local: std::net::SocketAddr::new(s.local_addr, s.local_port),
                remote: std::net::SocketAddr::new(ip, port),
            })
        }
        self.memory.begin();
        // An empty memory names nobody: skip the walk over every TIME_WAIT.
        if !self.memory.is_empty() {
            for s in table.sockets.iter_mut().filter(|s| s.is_kernel_owned()) {
                if let Some(k) = key(s) {
                    s.last_known_owner = self.memory.recall(&k, now);
                }
            }
        }
        // What the OS remembers (macOS: the last pid of a socket no process
        // holds) where this engine saw nothing itself.
        if !table.last_pids.is_empty() {
            let pids: Vec<u32> = table.last_pids.iter().map(|(_, p)| *p).collect();
            let procs = self.processes.lookup(&pids);
            for &(i, pid) in &table.last_pids {
                let s = &mut table.sockets[i];
                if s.last_known_owner.is_none() {
                    s.last_known_owner = Some(OwnerRef {
                        pid,
                        name: procs.get(&pid).map(|p| p.name.clone()).unwrap_or_default(),
                    });
                }
            }
        }
        for &i in &table.owned {
            let s = &table.sockets[i];
            if s.is_kernel_owned() {
                continue;
            }
            if let (Some(k), Some(first)) = (key(s), s.processes.iter().min_by_key(|p| p.pid)) {
                let owner = OwnerRef {
                    pid: first.pid,
                    name: first.name.clone(),
                };
                self.memory.remember(k, owner, now);
            }
        }
        self.memory.finish(now);
    }
}

impl<P: SocketTable + ProcessIdentity + Send> SocketSource for SystemSource<P> {
    fn set_netns(&mut self, selection: NetnsSelection) {
        SystemSource::set_netns(self, selection);
    }

    fn netns_summary(&self) -> Option<NetnsSummary> {
        Some(SystemSource::netns_summary(self).clone())
    }

    fn snapshot(&mut self) -> Result<Snapshot, SourceError> {
        let taken_at_unix_ms = now_unix_ms();
        let now = Instant::now();
        let expected = if self.taken == 0 {
            self.platform.count_hint().unwrap_or(0)
        } else {
            self.last_len
        };
        let capacity = if self.scope.is_some() {
            64
        } else {
            expected + expected / 8 + 64
        };
        // The first snapshot of every socket has to scan /proc for owners
        // whatever the table holds: do it while the kernel dumps the
        // sockets. A port query waits for the dump: it knows then which few
        // sockets it is looking for, and stops once it has found them.
        let first = self.taken == 0 && self.scope.is_none();
        let mut prefetched = None;
        let privileged = self.platform.is_elevated();
        let reuse = self.netns == NetnsSelection::Own
            && self
                .discovered
                .as_ref()
                .is_some_and(|(at, _, _)| now.duration_since(*at) < REDISCOVER_OWN_EVERY);
        let (discovery, other_containers) = match (&self.discovered, reuse) {
            (Some((_, d, c)), true) => (d.clone(), *c),
            _ => {
                let d = os::netns::discover();
                let c = namespaces::count_containers(&d);
                self.discovered = Some((now, d.clone(), c));
                (d, c)
            }
        };
        let plan = namespaces::plan(&self.netns, privileged, discovery, other_containers)
            .map_err(SourceError)?;
        let strict = matches!(
            self.netns,
            NetnsSelection::Named(_) | NetnsSelection::Pid(_)
        );
        let platform = &self.platform;
        let fds = &mut self.fds;
        let (mut table, listed, skipped) = Self::dump(
            platform,
            capacity,
            self.bound_only,
            self.scope.as_ref(),
            &mut || {
                if first {
                    let no_uids = HashSet::new();
                    prefetched = Some(platform.scan_owners(&OwnerQuery::everything(&no_uids), fds));
                }
            },
            &plan.targets,
            strict,
        )?;
        self.taken += 1;
        self.last_len = table.sockets.len();
        self.attach_processes(&mut table, now, prefetched);
        self.apply_memory(&mut table, now);
        self.name_containers(&mut table, &plan, privileged);
        self.netns_summary = NetnsSummary {
            listed,
            skipped,
            ..plan.summary
        };

        let lost: Vec<&SocketEntry> = table
            .sockets
            .iter()
            .filter(|s| is_unattributed(s))
            .collect();
        let (count, reason, owner_users) = self.explain_unattributed(&lost, privileged);
        let mut snapshot = Snapshot {
            taken_at_unix_ms,
            unattributed: count,
            unattributed_reason: reason,
            privileged,
            sockets: table.sockets,
            owner_users,
        };
        // The model's order (Snapshot::sort), computed on packed integer
        // keys; each socket's processes are already sorted by pid.
        order::sort_sockets(&mut snapshot.sockets);
        Ok(snapshot)
    }
}

/// Which of the `unresolved` inodes are still open: those of the own
/// network namespace are looked up in a second dump of it (a socket closed
/// since the first has no owner left to find); those of other namespaces
/// are kept (entering them again would cost more than it saves).
fn still_open<P: SocketTable>(
    platform: &P,
    table: &Table,
    unresolved: &HashSet<u64>,
    bound_only: bool,
    scope: Option<DumpScope>,
) -> HashSet<u64> {
    let own: HashSet<u64> = table
        .own
        .clone()
        .filter_map(|i| table.sockets.get(i))
        .map(|s| s.inode)
        .filter(|i| unresolved.contains(i))
        .collect();
    let mut still: HashSet<u64> = unresolved.difference(&own).copied().collect();
    if own.is_empty() {
        return still;
    }
    let mut alive = HashSet::new();
    let redump = platform.dump_scoped(
        &mut |r| {
            if own.contains(&r.inode) {
                alive.insert(r.inode);
            }
        },
        &mut || {},
        bound_only,
        scope,
    );
    if redump.is_err() {
        return unresolved.clone();
    }
    still.extend(alive);
    still
}

/// One dumped socket into the table, tagged with its namespace.
fn push_raw(
    table: &mut Table,
    r: RawSocket,
    netns: &Option<Arc<NetnsRef>>,
    scope: Option<&PortScope>,
) {
    let RawSocket {
        proto,
        local,
        remote,
        state,
        inode,
        uid,
        time_wait_expires_in_ms,
        pids,
        orphan,
        last_pid,
    } = r;
    let entry = SocketEntry {
        time_wait_expires_in_ms,
        inode,
        uid,
        orphan,
        netns: netns.clone(),
        ..SocketEntry::new(proto, local, remote, state)
    };
    if scope.is_some_and(|s| !s.keeps(&entry)) {
        return;
    }
    if !pids.is_empty() {
        table.listed_pids.push((table.sockets.len(), pids));
    }
    if let Some(pid) = last_pid {
        table.last_pids.push((table.sockets.len(), pid));
    }
    if inode != 0 {
        table.with_inode.push(table.sockets.len());
    }
    table.sockets.push(entry);
}

impl<P: SocketTable + ProcessIdentity> SystemSource<P> {
    /// The unattributed count among `rows` (some of the last snapshot's
    /// sockets, e.g. those a filter shows) and the reason for exactly those:
    /// a front end that shows a subset counts and explains the same set.
    pub fn explain_rows(
        &mut self,
        rows: &[&SocketEntry],
        privileged: bool,
    ) -> (usize, Option<String>) {
        let lost: Vec<&SocketEntry> = rows
            .iter()
            .copied()
            .filter(|s| is_unattributed(s))
            .collect();
        let (count, reason, _) = self.explain_unattributed(&lost, privileged);
        (count, reason)
    }

    /// The container of each socket's owner (or, in another namespace, of
    /// that namespace), and the container behind each published port.
    fn name_containers(&mut self, table: &mut Table, plan: &namespaces::Plan, privileged: bool) {
        let others: HashMap<u64, Option<crate::sockets::model::Container>> = plan
            .targets
            .iter()
            .filter_map(|(t, _)| match t {
                Target::Other(ns) => Some((ns.inode, namespaces::namespace_container(ns))),
                Target::Own => None,
            })
            .collect();
        namespaces::attribute(&mut table.sockets, &others, &mut self.container_names);
        let discovery = &plan.discovery;
        namespaces::map_published(
            &mut table.sockets,
            &mut || {
                // Which namespace holds each address: entering each one
                // needs root, and is done only once a proxy is seen.
                let mut map = HashMap::new();
                if !privileged {
                    return map;
                }
                for ns in discovery.others() {
                    if let Ok(Ok(addrs)) = os::netns::run_in(ns, os::netns::addresses) {
                        let container = namespaces::namespace_container(ns);
                        for ip in addrs.into_iter().filter(|ip| !ip.is_loopback()) {
                            map.insert(ip, container.clone());
                        }
                    }
                }
                map
            },
            &mut self.container_names,
        );
    }

    /// Count the sockets whose owner could not be found, say why, and name
    /// the users their uids stand for.
    fn explain_unattributed(
        &mut self,
        lost: &[&SocketEntry],
        privileged: bool,
    ) -> (usize, Option<String>, BTreeMap<u32, String>) {
        let mut names = BTreeMap::new();
        if lost.is_empty() {
            return (0, None, names);
        }
        let uids: BTreeSet<u32> = lost.iter().filter_map(|s| s.uid).collect();
        for uid in uids {
            if let Some(name) = self.processes.user_name(uid) {
                names.insert(uid, name);
            }
        }
        let me = self.platform.current_uid();
        let foreign: Vec<u32> = lost
            .iter()
            .filter_map(|s| s.uid)
            .filter(|uid| Some(*uid) != me)
            .collect();
        let foreign_uids: BTreeSet<u32> = foreign.iter().copied().collect();
        let foreign_users = foreign_uids
            .into_iter()
            .map(|uid| match names.get(&uid) {
                Some(name) => format!("{name} (uid {uid})"),
                None => format!("uid {uid}"),
            })
            .collect();
        let why = Unattributed {
            count: lost.len(),
            foreign_count: foreign.len(),
            foreign_users,
            privileged,
            unreadable_processes: self.owners.unreadable_processes(),
        };
        (
            lost.len(),
            Some(self.platform.unattributed_reason(&why)),
            names,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::model::TcpState;

    fn entry(
        proto: Proto,
        local: &str,
        remote: Option<&str>,
        state: Option<TcpState>,
    ) -> SocketEntry {
        SocketEntry::new(
            proto,
            local.parse().unwrap(),
            remote.map(|r| r.parse().unwrap()),
            state,
        )
    }

    #[test]
    fn a_port_scope_keeps_what_its_query_needs() {
        let listener = entry(Proto::Tcp, "127.0.0.1:8080", None, Some(TcpState::Listen));
        let accepted = entry(
            Proto::Tcp,
            "127.0.0.1:8080",
            Some("127.0.0.1:40000"),
            Some(TcpState::Established),
        );
        let client = entry(
            Proto::Tcp,
            "127.0.0.1:40000",
            Some("127.0.0.1:8080"),
            Some(TcpState::Established),
        );
        let udp = entry(Proto::Udp, "127.0.0.1:8080", None, None);
        let other = entry(Proto::Tcp, "127.0.0.1:8081", None, Some(TcpState::Listen));
        let kept = |scope: &PortScope| -> Vec<bool> {
            [&listener, &accepted, &client, &udp, &other]
                .iter()
                .map(|s| scope.keeps(s))
                .collect()
        };
        // Every socket on the port, either end (a --watch, the window).
        assert_eq!(
            kept(&PortScope::port(8080, None)),
            [true, true, true, true, false]
        );
        assert_eq!(
            kept(&PortScope::port(8080, Some(Proto::Udp))),
            [false, false, false, true, false]
        );
        // A bind test: the sockets whose local port it is.
        let bind = PortScope {
            local_only: true,
            ..PortScope::port(8080, None)
        };
        assert_eq!(kept(&bind), [true, true, false, true, false]);
        // A one-shot default list: listeners, UDP (and TIME_WAIT).
        let shown = PortScope {
            states: Some(StateFilter::PortHolders),
            ..PortScope::port(8080, None)
        };
        assert_eq!(kept(&shown), [true, false, false, true, false]);
    }
}
