//! linux: which processes hold which sockets, read from /proc/<pid>/fd.
//!
//! Linux has no socket -> process index: the only way to name a socket's
//! owner is to read the descriptor links of every process until the
//! socket's inode turns up (`ss -p`, `lsof` and `fuser` do the same). That
//! cost grows with the descriptors open on the machine, so this scan:
//!
//! - reads each process's descriptor numbers with large `getdents64` reads
//!   and each link with `readlinkat` relative to the open /proc/PID/fd
//!   directory (no path walk of `/proc/PID/fd/N` per descriptor);
//! - runs on several named threads (the work is system calls, which run in
//!   parallel in the kernel), taking processes from a shared queue;
//! - for a query about a few sockets, reads likely owners first, then the
//!   lowest [`LOW_FDS`] descriptors of every other process, then the rest,
//!   and stops once every wanted inode has an owner; then completes the
//!   owners' families (a socket inherited through `fork()` is held by
//!   parent and children alike);
//! - remembers each process's descriptors ([`FdMemory`]) so that the next
//!   scan reads only the links of new descriptor numbers.
//!
//! Primary sources: man7 proc(5) (/proc/pid/fd: "socket:[inode]" links;
//! reading them needs ptrace read access, `proc_fd_access_allowed()` in
//! fs/proc/base.c), fs/proc/fd.c `proc_readfd_common()` (lists descriptors
//! in increasing order), man7 getdents64(2).

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::sockets::owners::{FdMemory, OwnerQuery, ProcessFds};
use crate::sockets::raw::OwnerScan;

/// Bytes per `getdents64` call: a process with 1,500 descriptors lists
/// them in one call (about 24 bytes per entry).
const DENTS_BUFFER: usize = 64 * 1024;

/// How many of each process's lowest descriptors a query that stops early
/// reads before reading the rest of any process. A server opens its
/// listening sockets as it starts, so they sit among its lowest descriptor
/// numbers, while the bulk of a busy process's descriptors (files,
/// accepted connections, pipes) is opened later: reading the low
/// descriptors of every process first names such a socket's owner after
/// at most this many links per process instead of after whole tables. A
/// socket on a higher number is found by the second pass, which reads the
/// rest (then the first pass cost a second listing of the partly read
/// processes).
const LOW_FDS: usize = 128;

/// `getdents64` room for the first pass: "." and "..", then [`LOW_FDS`]
/// entries of 24 bytes (`struct linux_dirent64` with a name of up to four
/// digits, 8-byte aligned). Larger descriptor numbers take 32 bytes, so
/// the pass may list fewer per call; it reads on until it has seen
/// [`LOW_FDS`].
const LOW_BUFFER: usize = (LOW_FDS + 2) * 24;

/// At most this many threads read /proc at once (the calling thread is one
/// of them).
const MAX_THREADS: usize = 8;

/// Fewer processes than this are read on the calling thread alone:
/// starting threads would cost more than it saves.
const PROCESSES_PER_THREAD: usize = 16;

/// How often (in descriptors) a read checks whether the scan may stop.
const STOP_CHECK_EVERY: usize = 64;

/// Scan for the owners of the sockets `query` asks for. `memory` is read
/// when the query trusts it, and updated with every process read.
pub fn scan(query: &OwnerQuery<'_>, memory: &mut FdMemory) -> OwnerScan {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS);
    scan_on(query, memory, threads)
}

/// [`scan`] on at most `max_threads` threads.
fn scan_on(query: &OwnerQuery<'_>, memory: &mut FdMemory, max_threads: usize) -> OwnerScan {
    if query.wanted.is_some_and(HashSet::is_empty) {
        return OwnerScan::default();
    }
    let pids = list_pids();
    let mut result = run(query, &pids, memory, max_threads);
    // A pass that trusted remembered descriptors can miss a socket opened
    // on a reused descriptor number: read everything again, for those
    // sockets only, if any is one this user could see.
    if query.trust_memory {
        let unresolved: HashSet<u64> = query
            .retry
            .into_iter()
            .flatten()
            .filter(|i| !result.owners.contains_key(i))
            .copied()
            .collect();
        if !unresolved.is_empty() {
            let again = OwnerQuery {
                wanted: Some(&unresolved),
                stop_early: true,
                trust_memory: false,
                ..*query
            };
            let more = run(&again, &pids, memory, max_threads);
            result.links_read += more.links_read;
            result.unreadable_processes = more.unreadable_processes;
            for (inode, pids) in more.owners {
                result.owners.insert(inode, pids);
            }
        }
    }
    // Forget processes that have exited.
    let alive: HashSet<u32> = pids.iter().copied().collect();
    memory.processes.retain(|pid, _| alive.contains(pid));
    result
}

/// Every pid in /proc, ascending.
fn list_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// Which of a process's descriptors one read covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    /// All of them.
    All,
    /// The lowest [`LOW_FDS`] (at least; the listing calls that found them).
    Low,
    /// Those above `fd`: the rest of an earlier read of the process whose
    /// /proc/PID/fd had inode `identity` (if it no longer has, the pid is
    /// another process now, and all its descriptors are read).
    Above { fd: u32, identity: u64 },
}

/// One process to read, and how much of it.
#[derive(Clone, Copy, Debug)]
struct Item {
    pid: u32,
    span: Span,
}

/// What the scan threads share across passes.
struct Progress {
    /// Wanted inodes without an owner yet (early stop only).
    missing: AtomicUsize,
    stop: AtomicBool,
    owners: Mutex<HashMap<u64, Vec<u32>>>,
}

/// What one thread read of one process.
struct Piece {
    pid: u32,
    fds: ProcessFds,
    /// Descriptors above this number were not read.
    cut: Option<u32>,
    /// `fds` continue an earlier partial read of the same process.
    continued: bool,
    /// The process holds a wanted socket.
    hit: bool,
}

/// What one thread did.
#[derive(Default)]
struct Part {
    read: Vec<Piece>,
    /// Processes that are done with: unreadable or gone.
    finished: Vec<u32>,
    unreadable: usize,
    links_read: usize,
}

/// What the passes of one scan have read so far.
#[derive(Default)]
struct Seen {
    /// Processes read in full, unreadable or gone: not to read again.
    done: HashSet<u32>,
    /// Processes read in part, with what was read.
    partial: HashMap<u32, ProcessFds>,
    /// Processes found holding a wanted socket.
    hit: HashSet<u32>,
    unreadable: usize,
    links_read: usize,
}

impl Seen {
    /// Fold one thread's work in; complete reads go to `memory`.
    fn absorb(&mut self, part: Part, memory: &mut FdMemory) {
        self.unreadable += part.unreadable;
        self.links_read += part.links_read;
        self.done.extend(part.finished);
        for piece in part.read {
            let Piece {
                pid,
                mut fds,
                cut,
                continued,
                hit,
            } = piece;
            if hit {
                self.hit.insert(pid);
            }
            if continued && let Some(mut earlier) = self.partial.remove(&pid) {
                // Both ascending, the continuation above the earlier part.
                earlier.fds.append(&mut fds.fds);
                fds = earlier;
            } else {
                self.partial.remove(&pid);
            }
            if cut.is_some() {
                self.partial.insert(pid, fds);
            } else {
                self.done.insert(pid);
                memory.processes.insert(pid, fds);
            }
        }
    }

    /// How to read the rest of a process read in part, if it was.
    fn rest_of(&self, pid: u32) -> Option<Span> {
        let p = self.partial.get(&pid)?;
        Some(Span::Above {
            fd: p.fds.last().map_or(0, |&(fd, _)| fd),
            identity: p.identity,
        })
    }
}

/// One scan of the processes in `pids`: for an early stop, likely owners
/// in full, then the low descriptors of the others, then their rest; else
/// every process in full.
fn run(
    query: &OwnerQuery<'_>,
    pids: &[u32],
    memory: &mut FdMemory,
    max_threads: usize,
) -> OwnerScan {
    let progress = Progress {
        missing: AtomicUsize::new(query.wanted.map_or(usize::MAX, HashSet::len)),
        stop: AtomicBool::new(false),
        owners: Mutex::new(HashMap::new()),
    };
    let mut seen = Seen::default();
    let first = visiting_order(query, pids);
    for part in pass(query, &progress, &first, memory, max_threads) {
        seen.absorb(part, memory);
    }
    if !progress.stop.load(Ordering::Relaxed) && !seen.partial.is_empty() {
        let mut rest: Vec<Item> = first
            .iter()
            .filter_map(|item| {
                Some(Item {
                    pid: item.pid,
                    span: seen.rest_of(item.pid)?,
                })
            })
            .collect();
        // The sockets on one port are mostly one process's (a server's
        // listener and the connections it accepted): the rest of the
        // processes that hold some of them comes first.
        rest.sort_by_key(|item| !seen.hit.contains(&item.pid));
        for part in pass(query, &progress, &rest, memory, max_threads) {
            seen.absorb(part, memory);
        }
    }
    let stopped_early = progress.stop.load(Ordering::Relaxed);
    let mut owners = progress
        .owners
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    if stopped_early {
        complete_families(query, pids, &mut owners, &mut seen, memory);
    }
    for pids in owners.values_mut() {
        pids.sort_unstable();
        pids.dedup();
    }
    OwnerScan {
        owners,
        unreadable_processes: seen.unreadable,
        links_read: seen.links_read,
        stopped_early,
    }
}

/// Read `items` on up to `max_threads` named threads (the calling thread
/// is one), each taking the next item from a shared index.
fn pass(
    query: &OwnerQuery<'_>,
    progress: &Progress,
    items: &[Item],
    memory: &FdMemory,
    max_threads: usize,
) -> Vec<Part> {
    let next = AtomicUsize::new(0);
    let threads = max_threads
        .clamp(1, MAX_THREADS)
        .min(items.len() / PROCESSES_PER_THREAD + 1);
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for n in 1..threads {
            let next = &next;
            let spawned = std::thread::Builder::new()
                .name(format!("portwise-fdscan-{n}"))
                .spawn_scoped(scope, move || work(query, progress, items, next, memory));
            // Without the thread, the others take its share.
            if let Ok(handle) = spawned {
                handles.push(handle);
            }
        }
        let mut parts = vec![work(query, progress, items, &next, memory)];
        for h in handles {
            if let Ok(part) = h.join() {
                parts.push(part);
            }
        }
        parts
    })
}

/// Likely owners first (seen before, then the sockets' users), the rest
/// after, each group in pid order. With an early stop, only the owners
/// seen before are read in full at once; the others' low descriptors come
/// first. Without one the order only matters for balancing threads, so it
/// stays plain pid order.
fn visiting_order(query: &OwnerQuery<'_>, pids: &[u32]) -> Vec<Item> {
    if !query.stop_early {
        return pids
            .iter()
            .map(|&pid| Item {
                pid,
                span: Span::All,
            })
            .collect();
    }
    let known: HashSet<u32> = query.likely_pids.iter().copied().collect();
    let low = |pid| Item {
        pid,
        span: Span::Low,
    };
    let mut first: Vec<Item> = pids
        .iter()
        .copied()
        .filter(|p| known.contains(p))
        .map(|pid| Item {
            pid,
            span: Span::All,
        })
        .collect();
    let mut rest = Vec::new();
    for &pid in pids.iter().filter(|p| !known.contains(p)) {
        if !query.likely_uids.is_empty()
            && process_uid(pid).is_some_and(|u| query.likely_uids.contains(&u))
        {
            first.push(low(pid));
        } else {
            rest.push(low(pid));
        }
    }
    first.append(&mut rest);
    first
}

/// The effective uid a process runs as: the owner of /proc/PID (man7
/// proc(5); root for a process that is not dumpable).
fn process_uid(pid: u32) -> Option<u32> {
    let path = proc_path(pid, "");
    // SAFETY: `path` is NUL-terminated and `st` is written by the kernel.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::stat(path.as_ptr(), &mut st) == 0).then_some(st.st_uid)
    }
}

/// "/proc/PID/<tail>" as a C string.
fn proc_path(pid: u32, tail: &str) -> std::ffi::CString {
    let text = if tail.is_empty() {
        format!("/proc/{pid}")
    } else {
        format!("/proc/{pid}/{tail}")
    };
    // Digits and a fixed tail: no NUL inside.
    std::ffi::CString::new(text).unwrap_or_default()
}

/// One thread's loop: take the next item until none is left or every
/// wanted inode has an owner.
fn work(
    query: &OwnerQuery<'_>,
    progress: &Progress,
    items: &[Item],
    next: &AtomicUsize,
    memory: &FdMemory,
) -> Part {
    let mut part = Part::default();
    let mut dents = vec![0u8; DENTS_BUFFER];
    let mut hits = Vec::new();
    while !progress.stop.load(Ordering::Relaxed) {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&Item { pid, span }) = items.get(i) else {
            break;
        };
        hits.clear();
        let before = memory.processes.get(&pid);
        let read = read_process(
            pid,
            query,
            before,
            span,
            &progress.stop,
            &mut dents,
            &mut hits,
        );
        match read {
            Read::Fds {
                fds,
                links,
                cut,
                continued,
            } => {
                part.links_read += links;
                part.read.push(Piece {
                    pid,
                    fds,
                    cut,
                    continued,
                    hit: !hits.is_empty(),
                });
            }
            Read::Unreadable(links) => {
                part.links_read += links;
                part.unreadable += 1;
                part.finished.push(pid);
                continue;
            }
            Read::Gone => {
                part.finished.push(pid);
                continue;
            }
        }
        if hits.is_empty() {
            continue;
        }
        let mut owners = progress.owners.lock().unwrap_or_else(|e| e.into_inner());
        for &inode in &hits {
            let pids = owners.entry(inode).or_default();
            if pids.is_empty() && query.stop_early {
                let left = progress.missing.fetch_sub(1, Ordering::Relaxed) - 1;
                if left == 0 {
                    progress.stop.store(true, Ordering::Relaxed);
                }
            }
            pids.push(pid);
        }
    }
    part
}

/// After an early stop: read the parent and the children of every owner
/// found, and of every owner they turn out to be, so that a socket shared
/// through `fork()` names all its holders (a prefork server: the master
/// and its workers; socket activation: init and the service). Siblings are
/// reached through a parent that holds the socket too. Not found by an
/// early stop, only by a full scan: a socket handed to an unrelated process
/// (over a unix socket, SCM_RIGHTS), or held by siblings whose parent has
/// closed its own copy.
fn complete_families(
    query: &OwnerQuery<'_>,
    pids: &[u32],
    owners: &mut HashMap<u64, Vec<u32>>,
    seen: &mut Seen,
    memory: &mut FdMemory,
) {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for &pid in pids {
        if let Some(pp) = parent_pid(pid) {
            parent.insert(pid, pp);
            children.entry(pp).or_default().push(pid);
        }
    }
    let mut queue: Vec<u32> = owners.values().flatten().copied().collect();
    queue.sort_unstable();
    queue.dedup();
    let mut dents = vec![0u8; DENTS_BUFFER];
    let mut hits = Vec::new();
    // Nothing stops these reads half way.
    let never = AtomicBool::new(false);
    while let Some(holder) = queue.pop() {
        let mut relatives: Vec<u32> = children.get(&holder).cloned().unwrap_or_default();
        if let Some(&pp) = parent.get(&holder)
            && pp != 0
        {
            relatives.push(pp);
        }
        for pid in relatives {
            if seen.done.contains(&pid) {
                continue;
            }
            let span = seen.rest_of(pid).unwrap_or(Span::All);
            hits.clear();
            let before = memory.processes.get(&pid);
            let mut part = Part::default();
            match read_process(pid, query, before, span, &never, &mut dents, &mut hits) {
                Read::Fds {
                    fds,
                    links,
                    cut,
                    continued,
                } => {
                    part.links_read = links;
                    part.read.push(Piece {
                        pid,
                        fds,
                        cut,
                        continued,
                        hit: !hits.is_empty(),
                    });
                }
                Read::Unreadable(links) => {
                    part.links_read = links;
                    part.unreadable = 1;
                    part.finished.push(pid);
                }
                Read::Gone => part.finished.push(pid),
            }
            seen.absorb(part, memory);
            // However the read ended, this process is not read again.
            seen.done.insert(pid);
            if !hits.is_empty() {
                for &inode in &hits {
                    owners.entry(inode).or_default().push(pid);
                }
                queue.push(pid);
            }
        }
    }
}

/// The parent pid in /proc/PID/stat ("pid (comm) state ppid ..."; comm
/// may hold spaces and parentheses, so parse after the last ')').
fn parent_pid(pid: u32) -> Option<u32> {
    let text = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&text[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// How reading one process went.
enum Read {
    /// Its descriptors (of the span asked for) and how many links were read.
    Fds {
        fds: ProcessFds,
        links: usize,
        /// Descriptors above this number were not read (a [`Span::Low`]
        /// read, or the scan stopped meanwhile).
        cut: Option<u32>,
        /// `fds` are the rest of the earlier read a [`Span::Above`] named
        /// (else the process changed, and they are all of it).
        continued: bool,
    },
    /// Its descriptors are not ours to read (links read before the refusal).
    Unreadable(usize),
    /// It exited meanwhile.
    Gone,
}

/// Read the `span` of process `pid`'s descriptors, pushing the wanted
/// socket inodes it holds onto `hits`. Stops after the descriptor in hand
/// once `stop` is set.
fn read_process(
    pid: u32,
    query: &OwnerQuery<'_>,
    before: Option<&ProcessFds>,
    span: Span,
    stop: &AtomicBool,
    dents: &mut [u8],
    hits: &mut Vec<u64>,
) -> Read {
    let path = proc_path(pid, "fd");
    // SAFETY: a NUL-terminated path; the descriptor is owned at once.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return match errno() {
            libc::EACCES | libc::EPERM => Read::Unreadable(0),
            _ => Read::Gone,
        };
    }
    // SAFETY: `raw` is a descriptor we just opened and nobody else owns.
    let dir = unsafe { OwnedFd::from_raw_fd(raw) };
    let (identity, open_fds) = {
        // SAFETY: `st` is written by the kernel for an open descriptor.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(dir.as_raw_fd(), &mut st) != 0 {
                return Read::Gone;
            }
            (st.st_ino, st.st_size)
        }
    };
    // The rest of an earlier read: only if the pid is the same process.
    let after = match span {
        Span::Above { fd, identity: id } if id == identity => Some(fd),
        _ => None,
    };
    let low = span == Span::Low;
    let room = if low {
        LOW_BUFFER.min(dents.len())
    } else {
        dents.len()
    };
    let before = before.filter(|b| query.trust_memory && b.identity == identity);
    if span == Span::All
        && let Some(b) = before
        && unchanged(b, open_fds, query.live)
    {
        for &(_, inode) in &b.fds {
            note_hit(inode, query.wanted, hits);
        }
        return Read::Fds {
            fds: b.clone(),
            links: 0,
            cut: None,
            continued: false,
        };
    }
    let mut fds: Vec<(u32, u64)> = Vec::with_capacity(if low {
        LOW_FDS
    } else {
        before.map_or(64, |b| b.fds.len() + 8)
    });
    let mut links = 0usize;
    let mut cut = None;
    let mut target = [0u8; 64];
    'listing: loop {
        // SAFETY: the kernel writes at most `room` <= `dents.len()` bytes
        // into `dents`.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir.as_raw_fd(),
                dents.as_mut_ptr(),
                room,
            )
        };
        if n < 0 {
            // The process exited while being listed.
            return Read::Gone;
        }
        if n == 0 {
            break;
        }
        let mut offset = 0usize;
        let end = n as usize;
        // struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16,
        // d_type u8, d_name (NUL-terminated).
        while offset + 19 < end {
            let reclen = u16::from_ne_bytes([dents[offset + 16], dents[offset + 17]]) as usize;
            if reclen == 0 || offset + reclen > end {
                break;
            }
            let name_bytes = &dents[offset + 19..offset + reclen];
            offset += reclen;
            let Ok(name) = CStr::from_bytes_until_nul(name_bytes) else {
                continue;
            };
            let Some(fd) = parse_fd(name.to_bytes()) else {
                // "." and "..".
                continue;
            };
            if after.is_some_and(|a| fd <= a) {
                continue;
            }
            if let Some(inode) = remembered(before, fd, query.live) {
                fds.push((fd, inode));
                note_hit(inode, query.wanted, hits);
            } else {
                links += 1;
                // SAFETY: `name` is NUL-terminated and `target` is writable
                // for its length.
                let len = unsafe {
                    libc::readlinkat(
                        dir.as_raw_fd(),
                        name.as_ptr(),
                        target.as_mut_ptr().cast(),
                        target.len(),
                    )
                };
                if len < 0 {
                    match errno() {
                        // Reading another process's links needs ptrace read
                        // access: refused for one, refused for all.
                        libc::EACCES | libc::EPERM => {
                            hits.clear();
                            return Read::Unreadable(links);
                        }
                        // Closed since the listing.
                        _ => continue,
                    }
                }
                let inode = socket_inode(&target[..len as usize]).unwrap_or(0);
                fds.push((fd, inode));
                note_hit(inode, query.wanted, hits);
            }
            if fds.len().is_multiple_of(STOP_CHECK_EVERY) && stop.load(Ordering::Relaxed) {
                cut = Some(fd);
                break 'listing;
            }
        }
        if low && fds.len() >= LOW_FDS {
            cut = fds.last().map(|&(fd, _)| fd);
            break;
        }
    }
    Read::Fds {
        fds: ProcessFds { identity, fds },
        links,
        cut,
        continued: after.is_some(),
    }
}

/// Whether a process's remembered descriptors can stand for its table
/// without listing it: it has as many open descriptors as remembered (Linux
/// 6.2 and later report that count as the st_size of /proc/PID/fd, fs/proc/
/// fd.c `proc_fd_getattr()`; older kernels report 0, and then every process
/// is listed), and every remembered socket is still open (a closed one's
/// number may hold a new socket). A number closed and reopened with the
/// count unchanged on something that was not a socket before is missed, as
/// when the listing is read (see `FdMemory`): the new socket stays
/// unresolved, and the second pass, which trusts no memory, finds it.
fn unchanged(before: &ProcessFds, open_fds: i64, live: Option<&HashSet<u64>>) -> bool {
    let Some(live) = live else {
        return false;
    };
    open_fds > 0
        && usize::try_from(open_fds).is_ok_and(|n| n == before.fds.len())
        && before
            .fds
            .iter()
            .all(|&(_, inode)| inode == 0 || live.contains(&inode))
}

/// The inode a remembered descriptor held, if it can be trusted: it was
/// not a socket, or its socket is still open.
fn remembered(before: Option<&ProcessFds>, fd: u32, live: Option<&HashSet<u64>>) -> Option<u64> {
    let b = before?;
    let i = b.fds.binary_search_by_key(&fd, |&(f, _)| f).ok()?;
    let inode = b.fds[i].1;
    (inode == 0 || live.is_some_and(|l| l.contains(&inode))).then_some(inode)
}

fn note_hit(inode: u64, wanted: Option<&HashSet<u64>>, hits: &mut Vec<u64>) {
    if inode != 0 && wanted.is_none_or(|w| w.contains(&inode)) {
        hits.push(inode);
    }
}

fn parse_fd(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The inode in a `socket:[12345]` link target.
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// The tests that start children holding sockets run one at a time:
    /// a child forked by one holds every descriptor of this process until
    /// its exec, and the other's waits for owners to hold still could
    /// time out under load.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Child processes, killed and reaped however the test ends.
    struct Kids(Vec<Child>);

    impl Drop for Kids {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// `program args` with `fd` of this process as its descriptor 3.
    fn spawn_holding(kids: &mut Kids, fd: i32, program: &str, args: &[&str]) -> u32 {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: dup2 is async-signal-safe; the copy at 3 has no
        // FD_CLOEXEC, so it survives exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        kids.0.push(child);
        pid
    }

    fn inode_of(fd: &impl AsRawFd) -> u64 {
        // SAFETY: fstat of an open descriptor into a zeroed struct.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            assert_eq!(libc::fstat(fd.as_raw_fd(), &mut st), 0);
            st.st_ino
        }
    }

    fn listener() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").unwrap()
    }

    fn query<'a>(
        wanted: &'a HashSet<u64>,
        stop_early: bool,
        likely: &'a [u32],
        uids: &'a HashSet<u32>,
    ) -> OwnerQuery<'a> {
        OwnerQuery {
            wanted: Some(wanted),
            stop_early,
            likely_pids: likely,
            likely_uids: uids,
            trust_memory: false,
            live: None,
            retry: None,
        }
    }

    fn only(scan: &OwnerScan, wanted: &HashSet<u64>) -> HashMap<u64, Vec<u32>> {
        scan.owners
            .iter()
            .filter(|(i, _)| wanted.contains(i))
            .map(|(i, p)| (*i, p.clone()))
            .collect()
    }

    #[test]
    fn early_stop_names_the_same_owners_as_a_full_scan() {
        let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let me = std::process::id();
        let mut kids = Kids(Vec::new());
        // a: this process only.
        let a = listener();
        // b: this process and a child (parent and child hold it).
        let b = listener();
        let b_kid = spawn_holding(&mut kids, b.as_raw_fd(), "sleep", &["30"]);
        // c: this process and two children (a prefork server: the master
        // and its workers).
        let c = listener();
        let c_inode = inode_of(&c);
        let c_kid1 = spawn_holding(&mut kids, c.as_raw_fd(), "sleep", &["30"]);
        let c_kid2 = spawn_holding(&mut kids, c.as_raw_fd(), "sleep", &["30"]);
        // d: a shell and the grandchild it starts (descriptor 3 is
        // inherited: it has no FD_CLOEXEC); this process closes its copy.
        let d = listener();
        let d_inode = inode_of(&d);
        let d_kid = spawn_holding(&mut kids, d.as_raw_fd(), "sh", &["-c", "sleep 30 & wait"]);
        drop(d);

        let wanted: HashSet<u64> = [inode_of(&a), inode_of(&b), c_inode, d_inode]
            .into_iter()
            .collect();
        let uids = HashSet::new();
        // Wait (bounded) for the shell to have started its sleep.
        let deadline = Instant::now() + Duration::from_secs(10);
        let full = loop {
            let full = scan(&query(&wanted, false, &[], &uids), &mut FdMemory::default());
            if full.owners.get(&d_inode).is_some_and(|p| p.len() == 2) || Instant::now() > deadline
            {
                break full;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let expected = only(&full, &wanted);
        assert_eq!(expected.get(&inode_of(&a)), Some(&vec![me]));
        let mut b_pids = vec![me, b_kid];
        b_pids.sort_unstable();
        assert_eq!(expected.get(&inode_of(&b)), Some(&b_pids));
        let mut c_pids = vec![me, c_kid1, c_kid2];
        c_pids.sort_unstable();
        assert_eq!(expected.get(&c_inode), Some(&c_pids));
        let d_pids = &expected[&d_inode];
        assert_eq!(d_pids.len(), 2, "{d_pids:?}");
        assert!(d_pids.contains(&d_kid), "{d_pids:?}");
        let grandchild = d_pids.iter().copied().find(|&p| p != d_kid).unwrap();
        assert!(!full.stopped_early);

        // Whichever holder is read first, the early stop completes the
        // families and names every holder. A process forked elsewhere in
        // this test binary holds every descriptor until its exec: such a
        // passing holder can differ between two scans, so each comparison is
        // between full scans that agree before and after the early one.
        for likely in [
            vec![],
            vec![me],
            vec![c_kid2, me, d_kid],
            vec![b_kid, c_kid1, grandchild],
        ] {
            let mut compared = false;
            for _ in 0..10 {
                let before = scan(&query(&wanted, false, &[], &uids), &mut FdMemory::default());
                let early = scan(
                    &query(&wanted, true, &likely, &uids),
                    &mut FdMemory::default(),
                );
                let after = scan(&query(&wanted, false, &[], &uids), &mut FdMemory::default());
                if only(&before, &wanted) != only(&after, &wanted) {
                    continue;
                }
                assert_eq!(only(&early, &wanted), expected, "likely first: {likely:?}");
                assert_eq!(only(&before, &wanted), expected);
                if likely.len() == 3 {
                    // One holder of each socket is read first: the scan
                    // stops before the end of /proc (then reads the
                    // families).
                    assert!(early.stopped_early, "{likely:?}");
                }
                compared = true;
                break;
            }
            assert!(compared, "the owners never held still");
        }
    }

    #[test]
    fn a_socket_swapped_in_on_the_same_number_with_the_same_count_is_named() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let me = std::process::id();
        let uids = HashSet::new();
        let mut memory = FdMemory::default();
        let old = listener();
        let number = old.as_raw_fd();
        let old_inode = inode_of(&old);
        let first = scan(&OwnerQuery::everything(&uids), &mut memory);
        assert!(first.owners[&old_inode].contains(&me));
        // Close the socket at `number` and put a new one there: as many
        // descriptors as before, the same numbers.
        let new = listener();
        // SAFETY: both descriptors are open and owned by this test; dup2
        // closes `old`'s socket atomically and the original of `new` is
        // closed when `new` drops.
        assert_eq!(unsafe { libc::dup2(new.as_raw_fd(), number) }, number);
        let new_inode = inode_of(&new);
        drop(new);
        let mut live: HashSet<u64> = first.owners.keys().copied().collect();
        live.remove(&old_inode);
        live.insert(new_inode);
        let wanted: HashSet<u64> = [new_inode].into_iter().collect();
        let second = scan(
            &OwnerQuery {
                wanted: Some(&wanted),
                trust_memory: true,
                live: Some(&live),
                // No second pass: the first must find it.
                retry: None,
                ..OwnerQuery::everything(&uids)
            },
            &mut memory,
        );
        assert!(
            second
                .owners
                .get(&new_inode)
                .is_some_and(|p| p.contains(&me)),
            "{:?}",
            second.owners.get(&new_inode)
        );
        // `old` now names the new socket's descriptor: it closes it.
        drop(old);
    }

    #[test]
    fn remembered_descriptors_are_read_once_and_reused_numbers_are_caught() {
        let me = std::process::id();
        let keep = listener();
        let uids = HashSet::new();
        let mut memory = FdMemory::default();
        let first = scan(&OwnerQuery::everything(&uids), &mut memory);
        assert!(first.owners[&inode_of(&keep)].contains(&me));
        assert!(memory.descriptors() > 0);
        let live: HashSet<u64> = first.owners.keys().copied().collect();

        // A descriptor that is not a socket, remembered as such, closed;
        // then a new socket, likely on the same number.
        let file = std::fs::File::open("/dev/null").unwrap();
        let kept: HashSet<u64> = [inode_of(&keep)].into_iter().collect();
        let with_file = OwnerQuery {
            wanted: Some(&kept),
            trust_memory: true,
            live: Some(&live),
            retry: Some(&kept),
            ..OwnerQuery::everything(&uids)
        };
        let second = scan(&with_file, &mut memory);
        // (A process forked elsewhere in this binary may hold it too until
        // its exec.)
        assert!(second.owners[&inode_of(&keep)].contains(&me));
        // Only new descriptors were read (other tests may open some).
        assert!(
            second.links_read * 2 < first.links_read,
            "{} links read again of {}",
            second.links_read,
            first.links_read
        );
        drop(file);
        let fresh = listener();
        let fresh_inode = inode_of(&fresh);
        let mut now_live = live.clone();
        now_live.insert(fresh_inode);
        let wanted: HashSet<u64> = [fresh_inode, inode_of(&keep)].into_iter().collect();
        let third = scan(
            &OwnerQuery {
                wanted: Some(&wanted),
                trust_memory: true,
                live: Some(&now_live),
                retry: Some(&wanted),
                ..OwnerQuery::everything(&uids)
            },
            &mut memory,
        );
        assert!(third.owners[&fresh_inode].contains(&me));
        assert!(third.owners[&inode_of(&keep)].contains(&me));
    }

    /// `sleep 30` holding `fd` of this process as its descriptor `at`, with
    /// /dev/null on every other descriptor from 3 below `upto`: a busy
    /// process whose socket sits low or high among its descriptors.
    fn spawn_busy(kids: &mut Kids, fd: i32, at: i32, upto: i32) -> u32 {
        assert!(at >= 3 && upto < 800);
        let null = std::fs::File::open("/dev/null").unwrap();
        let null_fd = null.as_raw_fd();
        let mut cmd = Command::new("sleep");
        cmd.arg("30")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: fcntl and dup2 are async-signal-safe. The sources move
        // above 800 first (close-on-exec copies), so filling 3.. cannot
        // overwrite them; the copies made by dup2 survive exec.
        unsafe {
            cmd.pre_exec(move || {
                let sock = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 800);
                let nul = libc::fcntl(null_fd, libc::F_DUPFD_CLOEXEC, 800);
                if sock < 0 || nul < 0 || libc::dup2(sock, at) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                for n in (3..upto).filter(|&n| n != at) {
                    if libc::dup2(nul, n) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        kids.0.push(child);
        pid
    }

    #[test]
    fn low_descriptors_first_still_finds_sockets_above_them_on_any_thread_count() {
        let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut kids = Kids(Vec::new());
        let upto = LOW_FDS as i32 + 200;
        // high: a child holds it far above its lowest LOW_FDS descriptors
        // (found by the second pass only); low: another child holds it at 3.
        let high = listener();
        let high_inode = inode_of(&high);
        let high_kid = spawn_busy(&mut kids, high.as_raw_fd(), upto - 20, upto);
        let low = listener();
        let low_inode = inode_of(&low);
        let low_kid = spawn_busy(&mut kids, low.as_raw_fd(), 3, upto);
        // Only the children hold them now.
        drop((high, low));
        let wanted: HashSet<u64> = [high_inode, low_inode].into_iter().collect();
        let uids = HashSet::new();
        let expected: HashMap<u64, Vec<u32>> =
            [(high_inode, vec![high_kid]), (low_inode, vec![low_kid])]
                .into_iter()
                .collect();
        // Wait (bounded) until both children have exec'd: a child forked
        // elsewhere in this binary (or ours, before exec) may hold them too.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let full = scan_on(
                &query(&wanted, false, &[], &uids),
                &mut FdMemory::default(),
                1,
            );
            if only(&full, &wanted) == expected {
                break;
            }
            assert!(Instant::now() < deadline, "{:?}", only(&full, &wanted));
            std::thread::sleep(Duration::from_millis(20));
        }
        // Every way of scanning names the same owners: a full scan or an
        // early stop, on one thread or several, with remembered
        // descriptors or without.
        let mut compared = 0;
        for attempt in 0..10 {
            let threads = [1, 2, 4][attempt % 3];
            let mut memory = FdMemory::default();
            let full = scan_on(&query(&wanted, false, &[], &uids), &mut memory, threads);
            let early = scan_on(
                &query(&wanted, true, &[], &uids),
                &mut FdMemory::default(),
                threads,
            );
            let again = scan_on(
                &OwnerQuery {
                    trust_memory: true,
                    retry: Some(&wanted),
                    ..query(&wanted, true, &[], &uids)
                },
                &mut memory,
                threads,
            );
            let after = scan_on(
                &query(&wanted, false, &[], &uids),
                &mut FdMemory::default(),
                threads,
            );
            if only(&full, &wanted) != expected || only(&after, &wanted) != expected {
                // A passing holder (see above) between the scans.
                continue;
            }
            assert_eq!(
                only(&early, &wanted),
                expected,
                "early stop, {threads} threads"
            );
            assert_eq!(
                only(&again, &wanted),
                expected,
                "remembered, {threads} threads"
            );
            assert!(!full.stopped_early);
            compared += 1;
        }
        assert!(compared >= 3, "the owners never held still");

        // The socket held low is found before the busy processes' upper
        // descriptors are read: theirs (about 2 x 200 links) are skipped.
        let just_low: HashSet<u64> = [low_inode].into_iter().collect();
        let mut saved = false;
        for _ in 0..10 {
            let full = scan_on(
                &query(&just_low, false, &[], &uids),
                &mut FdMemory::default(),
                2,
            );
            let early = scan_on(
                &query(&just_low, true, &[], &uids),
                &mut FdMemory::default(),
                2,
            );
            assert_eq!(only(&early, &just_low), only(&full, &just_low));
            if early.stopped_early && early.links_read + 300 <= full.links_read {
                saved = true;
                break;
            }
        }
        assert!(
            saved,
            "the early stop never read fewer links than a full scan"
        );
    }

    #[test]
    fn an_empty_wish_reads_nothing() {
        let none = HashSet::new();
        let uids = HashSet::new();
        let scan = scan(&query(&none, true, &[], &uids), &mut FdMemory::default());
        assert_eq!(scan, OwnerScan::default());
    }

    #[test]
    fn parents_and_links_parse() {
        assert_eq!(
            parent_pid(std::process::id()),
            Some(unsafe { libc::getppid() } as u32)
        );
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(parse_fd(b"17"), Some(17));
        assert_eq!(parse_fd(b"."), None);
        assert_eq!(parse_fd(b""), None);
    }
}
