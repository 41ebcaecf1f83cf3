//! Benchmark: `portwise list --all --json` against `ss -tuanp` on the same
//! sockets, in the same run. Run it through `benches/list_vs_ss.sh`.
//!
//! It opens a few hundred listeners on loopback and closes connections to
//! them from the accepting side, leaving tens of thousands of TIME_WAIT
//! sockets on the listeners' ports; then it times both commands as whole
//! processes (output to /dev/null), alternating which goes first, for
//! several rounds, and prints the medians and their ratio. The floor:
//! portwise takes at most half the time of ss.
//!
//! Bounded and self-cleaning: the listeners close when it exits; the
//! TIME_WAIT sockets are the kernel's and expire 60 s later (Linux
//! TCP_TIMEWAIT_LEN). TIME_WAIT left by an earlier run would inflate the
//! table, so it first waits (at most 65 s) for those to expire. Linux only:
//! elsewhere it says so and exits.
//!
//! Usage: list_vs_ss PORTWISE_BINARY [--tw N] [--listeners N] [--rounds N]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use portwise::sockets::TcpState;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Opts {
    portwise: String,
    tw: usize,
    listeners: usize,
    rounds: usize,
}

fn opts() -> Res<Opts> {
    let mut args = std::env::args().skip(1);
    let mut o = Opts {
        portwise: String::new(),
        tw: 30_000,
        listeners: 300,
        rounds: 21,
    };
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Res<usize> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            Ok(v.parse()
                .map_err(|_| format!("{name}: '{v}' is not a number"))?)
        };
        match a.as_str() {
            "--tw" => o.tw = num("--tw")?,
            "--listeners" => o.listeners = num("--listeners")?.max(1),
            "--rounds" => o.rounds = num("--rounds")?.max(1),
            _ if o.portwise.is_empty() => o.portwise = a,
            _ => return Err(format!("unexpected argument '{a}'").into()),
        }
    }
    if o.portwise.is_empty() {
        return Err(
            "usage: list_vs_ss PORTWISE_BINARY [--tw N] [--listeners N] [--rounds N]".into(),
        );
    }
    Ok(o)
}

fn sysctl(key: &str) -> Option<String> {
    use portwise::platform::SysctlReader;
    portwise::platform::HOST.read(key)
}

/// (all sockets, TIME_WAIT sockets) the kernel lists now.
fn table_size() -> Res<(usize, usize)> {
    let (mut all, mut tw) = (0, 0);
    use portwise::platform::SocketTable;
    portwise::platform::HOST.dump(
        &mut |s| {
            all += 1;
            if s.state == Some(TcpState::TimeWait) {
                tw += 1;
            }
        },
        &mut || {},
        false,
    )?;
    Ok((all, tw))
}

/// Time one run of a command as a whole process, output discarded.
fn time_it(cmd: &str, args: &[&str]) -> Res<Duration> {
    let start = Instant::now();
    let status = Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let took = start.elapsed();
    if !status.success() {
        return Err(format!("{cmd} {args:?} failed: {status}").into());
    }
    Ok(took)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run() -> Res<bool> {
    let o = opts()?;
    if portwise::platform::OS_NAME != "linux" {
        println!("list_vs_ss compares against ss(8): Linux only.");
        return Ok(true);
    }
    if let Some(max) = sysctl("net.ipv4.tcp_max_tw_buckets").and_then(|v| v.parse::<usize>().ok())
        && max < o.tw + 1000
    {
        return Err(format!(
            "net.ipv4.tcp_max_tw_buckets is {max}: past it the kernel destroys new TIME_WAIT \
             sockets at once; use --tw below {max} or raise the limit"
        )
        .into());
    }
    println!(
        "ephemeral range (net.ipv4.ip_local_port_range): {}",
        sysctl("net.ipv4.ip_local_port_range").unwrap_or_else(|| "?".into())
    );
    if table_size()?.1 > 1000 {
        println!("waiting for TIME_WAIT sockets left by an earlier run to expire...");
        let waited = Instant::now();
        while table_size()?.1 > 1000 && waited.elapsed() < Duration::from_secs(65) {
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    // Listeners on several loopback addresses, so that no (address, port)
    // pair needs many client ports.
    let mut listeners = Vec::with_capacity(o.listeners);
    for i in 0..o.listeners {
        let ip = format!("127.0.0.{}", 1 + i % 4);
        listeners.push(TcpListener::bind((ip.as_str(), 0))?);
    }
    let started = Instant::now();
    let mut buf = [0u8; 16];
    for i in 0..o.tw {
        let l = &listeners[i % listeners.len()];
        let client = TcpStream::connect(l.local_addr()?)?;
        let (server, _) = l.accept()?;
        // The accepting side closes first: the TIME_WAIT sits on the
        // listener's port; the client side closes after the FIN and frees
        // its ephemeral port.
        drop(server);
        client.set_read_timeout(Some(Duration::from_secs(5)))?;
        let _ = (&client).read(&mut buf)?;
        drop(client);
    }
    let setup = started.elapsed();

    let (all, tw) = table_size()?;
    println!(
        "set up {} listeners and {} connections closed into TIME_WAIT in {:.1} s; \
         the kernel now lists {all} sockets, {tw} of them TIME_WAIT",
        listeners.len(),
        o.tw,
        setup.as_secs_f64(),
    );
    // Both tools must see the same table.
    let json = Command::new(&o.portwise)
        .args(["list", "--all", "--json"])
        .output()?;
    let listed = String::from_utf8_lossy(&json.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"proto\""))
        .count();
    let ss = Command::new("ss").arg("-tuanp").output()?;
    let ss_rows = String::from_utf8_lossy(&ss.stdout)
        .lines()
        .count()
        .saturating_sub(1);
    println!("portwise lists {listed} sockets, ss lists {ss_rows}");
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average: {}", load.trim());
    }

    let (mut pw, mut sst) = (Vec::new(), Vec::new());
    // One untimed run each warms the page cache.
    time_it(&o.portwise, &["list", "--all", "--json"])?;
    time_it("ss", &["-tuanp"])?;
    println!("round  portwise list --all --json   ss -tuanp");
    for round in 0..o.rounds {
        // Alternate which goes first.
        let (a, b) = if round % 2 == 0 {
            let a = time_it(&o.portwise, &["list", "--all", "--json"])?;
            (a, time_it("ss", &["-tuanp"])?)
        } else {
            let b = time_it("ss", &["-tuanp"])?;
            (time_it(&o.portwise, &["list", "--all", "--json"])?, b)
        };
        println!("{:>5}  {:>22.1} ms  {:>9.1} ms", round + 1, ms(a), ms(b));
        pw.push(a);
        sst.push(b);
    }
    let (min_p, min_s) = (pw.iter().min().copied(), sst.iter().min().copied());
    let (mp, ms_) = (median(&mut pw), median(&mut sst));
    let ratio = mp.as_secs_f64() / ms_.as_secs_f64();
    if let (Some(a), Some(b)) = (min_p, min_s) {
        println!(
            "fastest: portwise {:.1} ms, ss {:.1} ms; ratio {:.2}",
            ms(a),
            ms(b),
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
    println!(
        "median: portwise {:.1} ms, ss {:.1} ms; portwise/ss = {:.2} (floor: at most 0.50) {}",
        ms(mp),
        ms(ms_),
        ratio,
        if ratio <= 0.5 { "PASS" } else { "MISS" }
    );
    drop(listeners);
    Ok(ratio <= 0.5)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("list_vs_ss: {e}");
            ExitCode::from(2)
        }
    }
}
