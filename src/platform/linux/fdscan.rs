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
//! - for a query about a few sockets, reads likely owners first and stops
//!   once every wanted inode has an owner, then completes the owners'
//!   families (a socket inherited through `fork()` is held by parent and
//!   children alike);
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

/// At most this many threads read /proc at once (the calling thread is one
/// of them).
const MAX_THREADS: usize = 8;

/// Fewer processes than this are read on the calling thread alone:
/// starting threads would cost more than it saves.
const PROCESSES_PER_THREAD: usize = 16;

/// Scan for the owners of the sockets `query` asks for. `memory` is read
/// when the query trusts it, and updated with every process read.
pub fn scan(query: &OwnerQuery<'_>, memory: &mut FdMemory) -> OwnerScan {
    if query.wanted.is_some_and(HashSet::is_empty) {
        return OwnerScan::default();
    }
    let pids = list_pids();
    let mut result = run(query, &pids, memory);
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
            let more = run(&again, &pids, memory);
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

/// What the scan threads share.
struct Shared<'q> {
    query: &'q OwnerQuery<'q>,
    order: Vec<u32>,
    next: AtomicUsize,
    /// Wanted inodes without an owner yet (early stop only).
    missing: AtomicUsize,
    stop: AtomicBool,
    owners: Mutex<HashMap<u64, Vec<u32>>>,
}

/// What one thread did.
#[derive(Default)]
struct Part {
    read: Vec<(u32, ProcessFds)>,
    visited: Vec<u32>,
    unreadable: usize,
    links_read: usize,
}

/// One pass over the processes in `pids`, in the query's order.
fn run(query: &OwnerQuery<'_>, pids: &[u32], memory: &mut FdMemory) -> OwnerScan {
    let order = visiting_order(query, pids);
    let wanted_count = query.wanted.map_or(usize::MAX, HashSet::len);
    let shared = Shared {
        query,
        order,
        next: AtomicUsize::new(0),
        missing: AtomicUsize::new(wanted_count),
        stop: AtomicBool::new(false),
        owners: Mutex::new(HashMap::new()),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS)
        .min(shared.order.len() / PROCESSES_PER_THREAD + 1);
    let remembered: &FdMemory = memory;
    let mut parts: Vec<Part> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for n in 1..threads {
            let shared = &shared;
            let spawned = std::thread::Builder::new()
                .name(format!("portwise-fdscan-{n}"))
                .spawn_scoped(scope, move || work(shared, remembered));
            // Without the thread, the others take its share.
            if let Ok(handle) = spawned {
                handles.push(handle);
            }
        }
        let mut parts = vec![work(&shared, remembered)];
        for h in handles {
            if let Ok(part) = h.join() {
                parts.push(part);
            }
        }
        parts
    });
    let stopped_early = shared.stop.load(Ordering::Relaxed);
    let mut owners = shared
        .owners
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let mut unreadable = 0;
    let mut links_read = 0;
    let mut visited: HashSet<u32> = HashSet::new();
    for part in &mut parts {
        unreadable += part.unreadable;
        links_read += part.links_read;
        visited.extend(part.visited.iter().copied());
        for (pid, fds) in part.read.drain(..) {
            memory.processes.insert(pid, fds);
        }
    }
    if stopped_early {
        let family = complete_families(query, pids, &mut owners, &mut visited, memory);
        unreadable += family.unreadable;
        links_read += family.links_read;
    }
    for pids in owners.values_mut() {
        pids.sort_unstable();
        pids.dedup();
    }
    OwnerScan {
        owners,
        unreadable_processes: unreadable,
        links_read,
        stopped_early,
    }
}

/// Likely owners first (seen before, then the sockets' users), the rest
/// after, each group in pid order. Without an early stop the order only
/// matters for balancing threads, so it stays plain pid order.
fn visiting_order(query: &OwnerQuery<'_>, pids: &[u32]) -> Vec<u32> {
    if !query.stop_early {
        return pids.to_vec();
    }
    let known: HashSet<u32> = query.likely_pids.iter().copied().collect();
    let mut first: Vec<u32> = pids.iter().copied().filter(|p| known.contains(p)).collect();
    let mut by_user = Vec::new();
    let mut rest = Vec::new();
    for &pid in pids.iter().filter(|p| !known.contains(p)) {
        if !query.likely_uids.is_empty()
            && process_uid(pid).is_some_and(|u| query.likely_uids.contains(&u))
        {
            by_user.push(pid);
        } else {
            rest.push(pid);
        }
    }
    first.append(&mut by_user);
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

/// One thread's loop: take the next process until none is left or every
/// wanted inode has an owner.
fn work(shared: &Shared<'_>, memory: &FdMemory) -> Part {
    let mut part = Part::default();
    let mut dents = vec![0u8; DENTS_BUFFER];
    let mut hits = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(&pid) = shared.order.get(i) else {
            break;
        };
        hits.clear();
        let before = memory.processes.get(&pid);
        part.visited.push(pid);
        match read_process(pid, shared.query, before, &mut dents, &mut hits) {
            Read::Fds(fds, links) => {
                part.links_read += links;
                part.read.push((pid, fds));
            }
            Read::Unreadable(links) => {
                part.links_read += links;
                part.unreadable += 1;
                continue;
            }
            Read::Gone => continue,
        }
        if hits.is_empty() {
            continue;
        }
        let mut owners = shared.owners.lock().unwrap_or_else(|e| e.into_inner());
        for &inode in &hits {
            let pids = owners.entry(inode).or_default();
            if pids.is_empty() && shared.query.stop_early {
                let left = shared.missing.fetch_sub(1, Ordering::Relaxed) - 1;
                if left == 0 {
                    shared.stop.store(true, Ordering::Relaxed);
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
    visited: &mut HashSet<u32>,
    memory: &mut FdMemory,
) -> Part {
    let mut part = Part::default();
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
    while let Some(holder) = queue.pop() {
        let mut relatives: Vec<u32> = children.get(&holder).cloned().unwrap_or_default();
        if let Some(&pp) = parent.get(&holder)
            && pp != 0
        {
            relatives.push(pp);
        }
        for pid in relatives {
            if !visited.insert(pid) {
                continue;
            }
            hits.clear();
            let before = memory.processes.get(&pid);
            match read_process(pid, query, before, &mut dents, &mut hits) {
                Read::Fds(fds, links) => {
                    part.links_read += links;
                    memory.processes.insert(pid, fds);
                }
                Read::Unreadable(links) => {
                    part.links_read += links;
                    part.unreadable += 1;
                }
                Read::Gone => {}
            }
            if !hits.is_empty() {
                for &inode in &hits {
                    owners.entry(inode).or_default().push(pid);
                }
                queue.push(pid);
            }
        }
    }
    part
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
    /// Its descriptors, and how many links were read.
    Fds(ProcessFds, usize),
    /// Its descriptors are not ours to read (links read before the refusal).
    Unreadable(usize),
    /// It exited meanwhile.
    Gone,
}

/// Read process `pid`'s descriptors, pushing the wanted socket inodes it
/// holds onto `hits`.
fn read_process(
    pid: u32,
    query: &OwnerQuery<'_>,
    before: Option<&ProcessFds>,
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
    let identity = {
        // SAFETY: `st` is written by the kernel for an open descriptor.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(dir.as_raw_fd(), &mut st) != 0 {
                return Read::Gone;
            }
            st.st_ino
        }
    };
    let before = before.filter(|b| query.trust_memory && b.identity == identity);
    let mut fds: Vec<(u32, u64)> = Vec::with_capacity(before.map_or(64, |b| b.fds.len() + 8));
    let mut links = 0usize;
    let mut target = [0u8; 64];
    loop {
        // SAFETY: the kernel writes at most `dents.len()` bytes into `dents`.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir.as_raw_fd(),
                dents.as_mut_ptr(),
                dents.len(),
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
            if let Some(inode) = remembered(before, fd, query.live) {
                fds.push((fd, inode));
                note_hit(inode, query.wanted, hits);
                continue;
            }
            links += 1;
            // SAFETY: `name` is NUL-terminated and `target` is writable for
            // its length.
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
    }
    Read::Fds(ProcessFds { identity, fds }, links)
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
