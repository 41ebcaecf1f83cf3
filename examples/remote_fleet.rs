//! The scale benchmark for `--host` / the Fleet view (run it through
//! benches/remote_fleet.sh, which starts the sshd): N ssh_config aliases of
//! one local sshd, each refreshed every INTERVAL seconds by
//! `portwise::remote::fleet::Fleet`. Prints local CPU (this process plus
//! its ssh clients), agent CPU per host, and the latency of one refresh.
//! Linux only (reads /proc).
//!
//! With a fifth argument, that alias is watched too but never waited for:
//! the script points it at a port that accepts TCP and never speaks (the
//! slowest host there is), to show the others keep their own clock.
//!
//! usage: remote_fleet SSH_CONFIG HOSTS SECONDS INTERVAL [SLOW_ALIAS]

#[cfg(target_os = "linux")]
mod linux {
    use std::time::{Duration, Instant};

    use portwise::remote::client::{Dest, Ssh};
    use portwise::remote::fleet::{Fleet, HostStatus};

    /// utime + stime of a process, in seconds, and its parent and command line.
    fn proc_info(pid: u32) -> Option<(f64, u32, String)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        // After "pid (comm) ": state(0) ppid(1) ... utime(11) stime(12).
        let ppid: u32 = f.get(1)?.parse().ok()?;
        let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        Some((ticks / hz, ppid, cmd))
    }

    /// (this process, its ssh children, the agents) CPU seconds so far, and how
    /// many agents run.
    /// Only the agents under `dir` (the script's temporary remote HOME) count:
    /// other portwise agents on the machine are not this benchmark's.
    fn cpu(dir: &str) -> (f64, f64, f64, usize) {
        let me = std::process::id();
        let (mut own, mut ssh, mut agents, mut n) = (0.0, 0.0, 0.0, 0);
        if let Some((t, _, _)) = proc_info(me) {
            own = t;
        }
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Some((t, ppid, cmd)) = proc_info(pid) else {
                continue;
            };
            if ppid == me && cmd.starts_with("ssh ") {
                ssh += t;
            } else if cmd.contains(".cache/portwise/portwise agent") && cmd.starts_with(dir) {
                agents += t;
                n += 1;
            }
        }
        (own, ssh, agents, n)
    }

    pub fn main() {
        let a: Vec<String> = std::env::args().collect();
        if a.len() != 5 && a.len() != 6 {
            eprintln!("usage: remote_fleet SSH_CONFIG HOSTS SECONDS INTERVAL [SLOW_ALIAS]");
            std::process::exit(2);
        }
        let hosts: usize = a[2].parse().unwrap_or(20);
        let secs: f64 = a[3].parse().unwrap_or(20.0);
        let interval = Duration::from_secs_f64(a[4].parse().unwrap_or(2.0));
        let ssh = match Ssh::parse(&format!("ssh -F {}", a[1])) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        let mut fleet = Fleet::new(ssh, interval);
        let started = Instant::now();
        for i in 1..=hosts {
            let d = Dest::parse(&format!("pw-{i}")).unwrap_or_else(|e| panic!("{e}"));
            fleet.add(d).unwrap_or_else(|e| panic!("{e}"));
        }
        let slow = a
            .get(5)
            .map(|s| Dest::parse(s).unwrap_or_else(|e| panic!("{e}")));
        if let Some(d) = &slow {
            fleet.add(d.clone()).unwrap_or_else(|e| panic!("{e}"));
        }
        let live = |states: Vec<(Dest, portwise::remote::fleet::HostState)>| {
            states
                .into_iter()
                .filter(|(d, _)| Some(d) != slow.as_ref())
                .collect::<Vec<_>>()
        };
        // Wait for every live host's first refresh.
        loop {
            let states = live(fleet.states());
            if states.iter().all(|(_, s)| s.refreshes >= 1) {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                eprintln!("not all hosts connected: {states:#?}");
                std::process::exit(1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let connected_in = started.elapsed();
        let dir = std::path::Path::new(&a[1])
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (own0, ssh0, ag0, _) = cpu(&dir);
        let t0 = Instant::now();
        let mut seen: Vec<u64> = live(fleet.states())
            .iter()
            .map(|(_, s)| s.refreshes)
            .collect();
        let mut lat: Vec<Duration> = Vec::new();
        let mut failures = 0usize;
        while t0.elapsed() < Duration::from_secs_f64(secs) {
            for (i, (_, s)) in live(fleet.states()).iter().enumerate() {
                if s.refreshes != seen[i] {
                    seen[i] = s.refreshes;
                    if let HostStatus::Connected { latency, .. } = s.status {
                        lat.push(latency);
                    }
                }
                if matches!(s.status, HostStatus::Failed { .. }) {
                    failures += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let wall = t0.elapsed().as_secs_f64();
        let (own1, ssh1, ag1, agents) = cpu(&dir);
        lat.sort();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "hosts {hosts:>2}  connected in {:>5.2} s  refreshes {:>4} ({:.2}/s)  \
             local CPU {:>5.1}% (portwise {:.1}% + ssh {:.1}%)  agent CPU {:.2}% per host ({agents} agents)  \
             refresh latency median {:.1} ms  p95 {:.1} ms  max {:.1} ms  failed samples {failures}{}",
            connected_in.as_secs_f64(),
            lat.len(),
            lat.len() as f64 / wall,
            100.0 * ((own1 - own0) + (ssh1 - ssh0)) / wall,
            100.0 * (own1 - own0) / wall,
            100.0 * (ssh1 - ssh0) / wall,
            100.0 * (ag1 - ag0) / wall / hosts as f64,
            pct(0.5),
            pct(0.95),
            pct(1.0),
            match &slow {
                Some(d) => format!("  (beside {d}: {:?})", fleet.state(d).map(|s| s.status)),
                None => String::new(),
            },
        );
    }
}

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("remote_fleet reads /proc: Linux only");
    std::process::exit(2);
}
