//! Benchmark: `portwise list --netns all --json` (every network namespace in
//! one process) against `ss -tuanp` run once per namespace (`ss -N NAME`
//! for each named one, plain `ss` for the own one), on the same sockets.
//! Run it through `benches/netns_vs_ss.sh`, as root.
//!
//! It makes N namespaces with `ip netns add` (unique names, deleted on exit
//! whatever happens), brings their loopback up, and opens M TCP listeners
//! on 127.0.0.1 inside each (this process holds them: a thread enters the
//! namespace, binds, and ends; the sockets stay in that namespace). Then it
//! times both sides as whole processes, output discarded, alternating which
//! goes first, and prints every round and the medians.
//!
//! Usage: netns_vs_ss PORTWISE_BINARY [--namespaces N] [--listeners M] [--rounds R]

use std::net::TcpListener;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Opts {
    portwise: String,
    namespaces: usize,
    listeners: usize,
    rounds: usize,
}

fn opts() -> Res<Opts> {
    let mut args = std::env::args().skip(1);
    let mut o = Opts {
        portwise: String::new(),
        namespaces: 20,
        listeners: 200,
        rounds: 11,
    };
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Res<usize> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            Ok(v.parse()
                .map_err(|_| format!("{name}: '{v}' is not a number"))?)
        };
        match a.as_str() {
            "--namespaces" => o.namespaces = num("--namespaces")?.clamp(1, 200),
            "--listeners" => o.listeners = num("--listeners")?.clamp(1, 5000),
            "--rounds" => o.rounds = num("--rounds")?.max(1),
            _ if o.portwise.is_empty() => o.portwise = a,
            _ => return Err(format!("unexpected argument '{a}'").into()),
        }
    }
    if o.portwise.is_empty() {
        return Err(
            "usage: netns_vs_ss PORTWISE_BINARY [--namespaces N] [--listeners M] \
                    [--rounds R]"
                .into(),
        );
    }
    Ok(o)
}

/// The named namespaces this run made; deleted on drop.
struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn ip(args: &[&str]) -> Res<()> {
    let status = Command::new("ip")
        .args(args)
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("ip {} failed: {status}", args.join(" ")).into());
    }
    Ok(())
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

fn run() -> Res<()> {
    let o = opts()?;
    if portwise::platform::OS_NAME != "linux" {
        println!("netns_vs_ss: network namespaces are Linux-only.");
        return Ok(());
    }
    if !portwise::platform::os::process::is_elevated() {
        return Err("netns_vs_ss makes and enters network namespaces: run it as root".into());
    }
    let mut made = Namespaces(Vec::new());
    for i in 0..o.namespaces {
        let name = format!("pw-bench-{}-{i}", std::process::id());
        ip(&["netns", "add", &name])?;
        made.0.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
    }
    let found = portwise::platform::os::netns::discover();
    let mut listeners: Vec<TcpListener> = Vec::new();
    for name in &made.0 {
        let ns = found
            .namespaces
            .iter()
            .find(|n| n.names.contains(name))
            .ok_or(format!("namespace {name} not found after ip netns add"))?;
        let opened = portwise::platform::os::netns::run_in(ns, || {
            (0..o.listeners)
                .map(|_| TcpListener::bind("127.0.0.1:0"))
                .collect::<Result<Vec<_>, _>>()
        })??;
        listeners.extend(opened);
    }
    println!(
        "{} namespaces x {} listeners = {} sockets (plus the own namespace's)",
        o.namespaces,
        o.listeners,
        listeners.len()
    );
    let ss_each = || -> Res<Duration> {
        let mut total = time_it("ss", &["-tuanp"])?;
        for name in &made.0 {
            total += time_it("ss", &["-N", name, "-tuanp"])?;
        }
        Ok(total)
    };
    let pw = || time_it(&o.portwise, &["list", "--netns", "all", "--all", "--json"]);
    let (mut pws, mut sss) = (Vec::new(), Vec::new());
    for round in 0..o.rounds {
        let (p, s) = if round % 2 == 0 {
            let p = pw()?;
            (p, ss_each()?)
        } else {
            let s = ss_each()?;
            (pw()?, s)
        };
        println!(
            "round {round:>2}: portwise {:>8.1} ms   ss x{} {:>8.1} ms",
            ms(p),
            o.namespaces + 1,
            ms(s)
        );
        pws.push(p);
        sss.push(s);
    }
    let (p, s) = (median(&mut pws), median(&mut sss));
    println!(
        "median: portwise list --netns all {:.1} ms; ss -tuanp once per namespace ({} runs) \
         {:.1} ms; ratio {:.2}",
        ms(p),
        o.namespaces + 1,
        ms(s),
        ms(p) / ms(s)
    );
    drop(listeners);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netns_vs_ss: {e}");
            ExitCode::from(2)
        }
    }
}
