//! Benchmark: the cost of one free-port pick (`portwise free`'s default
//! strategy), with the OS facts read once beforehand as the CLI and the
//! window do.
//!
//!     cargo run --release --example free_pick [-- PICKS]
//!
//! A pick draws a random candidate outside the ephemeral range and probes
//! it with plain binds on 0.0.0.0 and :: (two binds per protocol); it does
//! not reserve. Prints mean, median and 99th percentile per pick.

use std::time::{Duration, Instant};

use portwise::ports::range::PortSet;
use portwise::ports::{Picker, PortFacts, ProtoChoice};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let picks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    println!(
        "free port pick, {picks} picks per row ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:<6} {:>6} {:>10} {:>10} {:>10}",
        "proto", "ipv6", "mean µs", "median µs", "p99 µs"
    );
    for proto in [ProtoChoice::Tcp, ProtoChoice::Udp, ProtoChoice::Both] {
        let read_start = Instant::now();
        let facts = PortFacts::read(proto);
        let read_time = read_start.elapsed();
        let ipv6 = facts.ipv6;
        let candidates = facts.outside_ephemeral();
        let mut picker = Picker::new(facts);
        let none = PortSet::new();
        // Warm up (page in code, fill caches).
        for _ in 0..1000 {
            let _ = picker.pick_from(&candidates, proto.protos(), &none);
        }
        let mut times = Vec::with_capacity(picks);
        let mut failed = 0usize;
        for _ in 0..picks {
            let t = Instant::now();
            let got = picker.pick_from(&candidates, proto.protos(), &none);
            times.push(t.elapsed());
            if got.is_none() {
                failed += 1;
            }
        }
        let total: Duration = times.iter().sum();
        times.sort();
        println!(
            "{:<6} {:>6} {:>10.2} {:>10.2} {:>10.2}   (facts read once: {:.2} ms{})",
            proto.as_str(),
            ipv6,
            us(total) / picks as f64,
            us(percentile(&times, 0.5)),
            us(percentile(&times, 0.99)),
            read_time.as_secs_f64() * 1e3,
            if failed > 0 {
                format!(", {failed} picks found nothing")
            } else {
                String::new()
            }
        );
    }
}
