//! Fixtures for `benches/owners_vs_ss.sh`: a machine shaped like a busy
//! desktop (many processes holding many descriptors, some of them sockets),
//! churning connections, and the floor every socket lister stands on (a
//! bare sock_diag dump). Loopback only; every process it starts exits when
//! the one that started it does (their stdin closes).
//!
//! Usage:
//!   busy_owners fixture [--procs N] [--fds N] [--sockets N]
//!       start N holder processes, each with `--fds` descriptors of which
//!       `--sockets` are loopback TCP sockets (one listener, the rest both
//!       ends of connections to it); print "ports P1 P2 ..." (each holder's
//!       listener, in start order) and "pids ..." once all are ready; run
//!       until stdin closes.
//!   busy_owners churn [--rate N]
//!       open N loopback connections per second, keep each about a second,
//!       close it; run until stdin closes.
//!   busy_owners timewait [--tw N] [--listeners N]
//!       wait (at most 65 s) for older TIME_WAIT sockets to expire, then
//!       leave N TIME_WAIT sockets on the listeners' ports (127.0.0.1 to
//!       127.0.0.4); print "ready <count> time-wait"; run until stdin
//!       closes (the TIME_WAIT sockets are the kernel's: gone 60 s later).
//!   busy_owners floor
//!       dump every TCP and UDP socket with sock_diag (one TCP request for
//!       both families, as portwise sends; 1 MiB receive buffer) and
//!       discard the answer: the least a socket lister must do.
//!
//! Linux only.

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, ExitCode, Stdio};
    use std::time::{Duration, Instant};

    type Res<T> = Result<T, Box<dyn std::error::Error>>;

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = match args.first().map(String::as_str) {
            Some("fixture") => fixture(&args[1..]),
            Some("hold") => hold(&args[1..]),
            Some("churn") => churn(&args[1..]),
            Some("floor") => floor(),
            Some("timewait") => timewait(&args[1..]),
            _ => Err(
                "usage: busy_owners fixture|churn|timewait|floor [options] (see the source)".into(),
            ),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("busy_owners: {e}");
                ExitCode::from(2)
            }
        }
    }

    /// `--name value` options as numbers, with defaults.
    fn num(args: &[String], name: &str, default: usize) -> Res<usize> {
        match args.iter().position(|a| a == name) {
            None => Ok(default),
            Some(i) => {
                let v = args.get(i + 1).ok_or(format!("{name} needs a value"))?;
                Ok(v.parse()
                    .map_err(|_| format!("{name}: '{v}' is not a number"))?)
            }
        }
    }

    /// Exit this process once stdin closes (the starter has gone).
    fn exit_with_stdin() {
        let _ = std::thread::Builder::new()
            .name("stdin-watch".into())
            .spawn(|| {
                let mut sink = [0u8; 64];
                let mut stdin = std::io::stdin();
                while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
                std::process::exit(0);
            });
    }

    /// Children killed and reaped however the fixture ends.
    struct Holders(Vec<Child>);

    impl Drop for Holders {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    fn fixture(args: &[String]) -> Res<()> {
        let procs = num(args, "--procs", 20)?.clamp(1, 200);
        let fds = num(args, "--fds", 1500)?.clamp(16, 10_000);
        let sockets = num(args, "--sockets", 150)?.clamp(1, fds - 8);
        let me = std::env::current_exe()?;
        let mut holders = Holders(Vec::new());
        let mut ports = Vec::new();
        let mut pids = Vec::new();
        for _ in 0..procs {
            let mut child = Command::new(&me)
                .args(["hold", &fds.to_string(), &sockets.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let out = child.stdout.take().ok_or("no stdout")?;
            pids.push(child.id());
            holders.0.push(child);
            let mut line = String::new();
            BufReader::new(out).read_line(&mut line)?;
            let port = line
                .strip_prefix("ready ")
                .and_then(|p| p.trim().parse::<u16>().ok())
                .ok_or(format!("holder said '{}'", line.trim()))?;
            ports.push(port.to_string());
        }
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        println!("ports {}", ports.join(" "));
        println!("pids {}", pids.join(" "));
        std::io::stdout().flush()?;
        // Until the script closes our stdin (or is gone).
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        Ok(())
    }

    /// One busy process: `fds` descriptors, `sockets` of them loopback TCP.
    fn hold(args: &[String]) -> Res<()> {
        let fds: usize = args.first().ok_or("hold FDS SOCKETS")?.parse()?;
        let sockets: usize = args.get(1).ok_or("hold FDS SOCKETS")?.parse()?;
        // SAFETY: plain getrlimit/setrlimit on this process.
        unsafe {
            let mut lim: libc::rlimit = std::mem::zeroed();
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut kept_streams = Vec::new();
        for _ in 0..(sockets.saturating_sub(1) / 2) {
            let client = TcpStream::connect(("127.0.0.1", port))?;
            let (server, _) = listener.accept()?;
            kept_streams.push((client, server));
        }
        let mut files = Vec::new();
        // 0, 1, 2 and the listener, streams, files.
        let used = 4 + 2 * kept_streams.len();
        for _ in used..fds {
            files.push(std::fs::File::open("/dev/null")?);
        }
        println!("ready {port}");
        std::io::stdout().flush()?;
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        drop((files, kept_streams, listener));
        Ok(())
    }

    /// New loopback connections at `rate` per second, each kept about 1 s.
    fn churn(args: &[String]) -> Res<()> {
        let rate = num(args, "--rate", 100)?.clamp(1, 2000);
        exit_with_stdin();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut live: std::collections::VecDeque<(Instant, TcpStream, TcpStream)> =
            std::collections::VecDeque::new();
        let step = Duration::from_secs(1) / rate as u32;
        let mut next = Instant::now();
        loop {
            let client = TcpStream::connect(("127.0.0.1", port))?;
            let (server, _) = listener.accept()?;
            let now = Instant::now();
            live.push_back((now, client, server));
            while live
                .front()
                .is_some_and(|(t, _, _)| now.duration_since(*t) > Duration::from_secs(1))
            {
                live.pop_front();
            }
            next += step;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }

    /// The TIME_WAIT sockets of this network namespace, from the kernel's
    /// counters ("TCP: inuse N orphan N tw N ...", man7 proc_net(5)).
    fn time_wait_count() -> Res<usize> {
        let text = std::fs::read_to_string("/proc/net/sockstat")?;
        let tcp = text
            .lines()
            .find_map(|l| l.strip_prefix("TCP:"))
            .ok_or("no TCP line in /proc/net/sockstat")?;
        let words: Vec<&str> = tcp.split_whitespace().collect();
        let tw = words
            .chunks(2)
            .find(|pair| pair.first() == Some(&"tw"))
            .and_then(|pair| pair.get(1)?.parse().ok())
            .ok_or("no tw count in /proc/net/sockstat")?;
        Ok(tw)
    }

    /// Many TIME_WAIT sockets and few descriptors: `listeners` loopback
    /// listeners (127.0.0.1 to 127.0.0.4), and `tw` connections to them
    /// closed from the accepting side first, so each TIME_WAIT sits on a
    /// listener's port and each client port is freed at once.
    fn timewait(args: &[String]) -> Res<()> {
        let tw = num(args, "--tw", 30_000)?.clamp(1, 60_000);
        let count = num(args, "--listeners", 300)?.clamp(1, 2_000);
        exit_with_stdin();
        let max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_max_tw_buckets")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(max) = max
            && max < tw + 1000
        {
            return Err(format!(
                "net.ipv4.tcp_max_tw_buckets is {max}: past it the kernel destroys new \
                 TIME_WAIT sockets at once; use --tw below {max} or raise the limit"
            )
            .into());
        }
        // TIME_WAIT left by earlier runs (or the churn) expires within 60 s
        // (Linux TCP_TIMEWAIT_LEN).
        let waited = Instant::now();
        while time_wait_count()? > 1000 && waited.elapsed() < Duration::from_secs(65) {
            std::thread::sleep(Duration::from_secs(1));
        }
        let mut listeners = Vec::with_capacity(count);
        for i in 0..count {
            let ip = format!("127.0.0.{}", 1 + i % 4);
            listeners.push(TcpListener::bind((ip.as_str(), 0))?);
        }
        let mut buf = [0u8; 16];
        for i in 0..tw {
            let l = &listeners[i % listeners.len()];
            let client = TcpStream::connect(l.local_addr()?)?;
            let (server, _) = l.accept()?;
            drop(server);
            client.set_read_timeout(Some(Duration::from_secs(5)))?;
            let _ = (&client).read(&mut buf)?;
            drop(client);
        }
        println!("ready {} time-wait", time_wait_count()?);
        std::io::stdout().flush()?;
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        drop(listeners);
        Ok(())
    }

    /// The bare dump: what any tool listing sockets has to wait for.
    fn floor() -> Res<()> {
        // SAFETY: raw netlink calls with buffers we own; the socket is closed
        // by OwnedFd.
        unsafe {
            use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
            const NETLINK_SOCK_DIAG: i32 = 4;
            let raw = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_SOCK_DIAG,
            );
            if raw < 0 {
                return Err(std::io::Error::last_os_error().into());
            }
            let sock = OwnedFd::from_raw_fd(raw);
            let mut buf = vec![0u8; 1 << 20];
            let mut total = 0usize;
            // Legacy TCPDIAG_GETSOCK (18): IPv4 and IPv6 in one walk; then
            // SOCK_DIAG_BY_FAMILY (20) for UDP over each family.
            let requests: [(u16, u8); 3] = [
                (18, 0),
                (20, libc::AF_INET as u8),
                (20, libc::AF_INET6 as u8),
            ];
            for (seq, (ty, family)) in requests.into_iter().enumerate() {
                let mut req = [0u8; 16 + 60];
                let len = if ty == 18 { 16 + 60 } else { 16 + 56 };
                req[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
                req[4..6].copy_from_slice(&ty.to_ne_bytes());
                // NLM_F_REQUEST | NLM_F_DUMP
                req[6..8].copy_from_slice(&(0x1u16 | 0x300).to_ne_bytes());
                req[8..12].copy_from_slice(&(seq as u32 + 1).to_ne_bytes());
                let states = 0x1ffeu32;
                if ty == 18 {
                    req[16 + 52..16 + 56].copy_from_slice(&states.to_ne_bytes());
                } else {
                    // inet_diag_req_v2: family, protocol, ext, pad, states.
                    req[16] = family;
                    req[17] = libc::IPPROTO_UDP as u8;
                    req[20..24].copy_from_slice(&states.to_ne_bytes());
                }
                let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
                kernel.nl_family = libc::AF_NETLINK as u16;
                let sent = libc::sendto(
                    sock.as_raw_fd(),
                    req.as_ptr().cast(),
                    len,
                    0,
                    (&kernel as *const libc::sockaddr_nl).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as u32,
                );
                if sent < 0 {
                    return Err(std::io::Error::last_os_error().into());
                }
                'dump: loop {
                    let n = libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0);
                    if n <= 0 {
                        break;
                    }
                    let mut off = 0usize;
                    while off + 16 <= n as usize {
                        let mlen = u32::from_ne_bytes([
                            buf[off],
                            buf[off + 1],
                            buf[off + 2],
                            buf[off + 3],
                        ]) as usize;
                        let mty = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
                        if mty == 3 || mty == 2 {
                            break 'dump;
                        }
                        total += 1;
                        if mlen == 0 {
                            break;
                        }
                        off += (mlen + 3) & !3;
                    }
                }
            }
            if std::env::var_os("FLOOR_COUNT").is_some() {
                eprintln!("{total} sockets");
            }
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("busy_owners: Linux only (it compares portwise with ss on /proc)");
    std::process::ExitCode::from(2)
}
