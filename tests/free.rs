//! `portwise free` end to end, with real sockets on this machine.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Output};

use portwise::sockets::{SocketSource, SystemSource, TcpState};
use socket2::{Domain, Protocol, Socket, Type};

fn portwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portwise"))
        .args(args)
        .output()
        .unwrap()
}

fn ports_of(out: &Output) -> Vec<u16> {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            l.parse::<u16>()
                .unwrap_or_else(|_| panic!("not a port: {l:?}"))
        })
        .collect()
}

/// The ephemeral range as the Linux kernel reports it, read here
/// independently of the code under test; elsewhere, what portwise reads.
fn ephemeral() -> Vec<(u16, u16)> {
    // Under Wine the Windows build reads netsh's range while the sockets
    // underneath are Linux's: the truth for a port-0 bind is not knowable
    // from inside, so the test reads what portwise reads.
    let proc_range = if portwise::platform::under_wine() {
        Err(std::io::Error::other("Wine"))
    } else {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
    };
    match proc_range {
        Ok(t) => {
            let v: Vec<u16> = t.split_whitespace().map(|x| x.parse().unwrap()).collect();
            vec![(v[0], v[1])]
        }
        Err(_) => portwise::ports::PortFacts::read(portwise::ports::ProtoChoice::Tcp)
            .ephemeral
            .iter()
            .map(|r| (r.lo, r.hi))
            .collect(),
    }
}

fn ipv6() -> bool {
    TcpListener::bind((Ipv6Addr::UNSPECIFIED, 0)).is_ok()
}

/// A plain bind (no SO_REUSEADDR) of `port` on 0.0.0.0 and on `::`
/// (v6-only), one after the other.
fn binds_everywhere(port: u16, udp: bool) -> bool {
    let try_bind = |v6: bool| {
        let (domain, ty, proto) = match (v6, udp) {
            (false, false) => (Domain::IPV4, Type::STREAM, Protocol::TCP),
            (true, false) => (Domain::IPV6, Type::STREAM, Protocol::TCP),
            (false, true) => (Domain::IPV4, Type::DGRAM, Protocol::UDP),
            (true, true) => (Domain::IPV6, Type::DGRAM, Protocol::UDP),
        };
        let s = Socket::new(domain, ty, Some(proto)).unwrap();
        let addr: SocketAddr = if v6 {
            s.set_only_v6(true).unwrap();
            (Ipv6Addr::UNSPECIFIED, port).into()
        } else {
            (Ipv4Addr::UNSPECIFIED, port).into()
        };
        s.bind(&addr.into()).is_ok()
    };
    try_bind(false) && (!ipv6() || try_bind(true))
}

#[test]
fn default_ports_bind_everywhere_outside_the_ephemeral_range_and_are_distinct() {
    let eph = ephemeral();
    let ports = ports_of(&portwise(&["free", "--count", "20"]));
    assert_eq!(ports.len(), 20);
    let mut uniq = ports.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 20, "{ports:?}");
    for p in ports {
        assert!(p >= 1024, "{p}");
        for &(lo, hi) in &eph {
            assert!(
                !(lo..=hi).contains(&p),
                "{p} is inside the ephemeral range {lo}-{hi}"
            );
        }
        assert!(
            binds_everywhere(p, false),
            "{p} does not bind on 0.0.0.0 and ::"
        );
    }
}

#[test]
fn udp_and_both() {
    for p in ports_of(&portwise(&["free", "--proto", "udp", "--count", "3"])) {
        assert!(binds_everywhere(p, true), "udp {p}");
    }
    for p in ports_of(&portwise(&["free", "--proto", "both", "--count", "3"])) {
        assert!(
            binds_everywhere(p, true) && binds_everywhere(p, false),
            "both {p}"
        );
    }
}

#[test]
fn os_assigned_ports_bind() {
    let ports = ports_of(&portwise(&["free", "--os", "--count", "3"]));
    assert_eq!(ports.len(), 3);
    for p in ports {
        assert!(binds_everywhere(p, false), "{p}");
    }
}

#[test]
fn range_is_respected() {
    let ports = ports_of(&portwise(&[
        "free",
        "--range",
        "20000-20999",
        "--count",
        "10",
    ]));
    let mut uniq = ports.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 10);
    assert!(
        ports.iter().all(|p| (20000..=20999).contains(p)),
        "{ports:?}"
    );
}

#[test]
fn a_fully_taken_range_fails_with_exit_1() {
    // Hold three consecutive ports (retry a few bases: any may be busy).
    for base in (21000..22000).step_by(37).take(20) {
        let held: Vec<TcpListener> = (base..base + 3)
            .filter_map(|p| TcpListener::bind((Ipv4Addr::UNSPECIFIED, p)).ok())
            .collect();
        if held.len() < 3 {
            continue;
        }
        let range = format!("{base}-{}", base + 2);
        let out = portwise(&["free", "--range", &range]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no free port") && err.contains(&range),
            "{err}"
        );
        assert!(out.stdout.is_empty());
        return;
    }
    panic!("could not hold three consecutive ports to test with");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "TIME_WAIT blocking binds is Linux/macOS behaviour; on Windows a TIME_WAIT socket \
              does not block a new bind"
)]
fn reserve_leaves_time_wait_and_reuseaddr_servers_still_bind() {
    let out = portwise(&["free", "--reserve", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["strategy"], "outside-ephemeral");
    let port = v["ports"][0]["port"].as_u64().unwrap() as u16;
    let until = v["ports"][0]["reserved_until_unix_ms"].as_u64().unwrap();
    let now = portwise::util::time::now_unix_ms();
    assert!(
        until > now + 50_000 && until <= now + 61_000,
        "until {until}, now {now}"
    );

    // The TIME_WAIT socket is in the kernel's table.
    let mut source = SystemSource::new();
    let snap = source.snapshot().unwrap();
    let tw = snap
        .sockets
        .iter()
        .filter(|s| s.local_port == port && s.state == Some(TcpState::TimeWait))
        .count();
    assert!(tw >= 1, "no TIME_WAIT socket on port {port}");

    // A plain bind fails; a server that sets SO_REUSEADDR binds and listens.
    let addr: SocketAddr = (Ipv4Addr::LOCALHOST, port).into();
    let plain = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    assert!(plain.bind(&addr.into()).is_err());
    let server = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    server.set_reuse_address(true).unwrap();
    server.bind(&addr.into()).unwrap();
    server.listen(8).unwrap();

    // Plain output: the numbers on stdout, the reservation on stderr.
    let out = portwise(&["free", "--reserve", "--count", "2"]);
    assert_eq!(ports_of(&out).len(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reserved for") && err.contains("UTC"), "{err}");
}

#[test]
fn json_shape() {
    let out = portwise(&["free", "--json", "--proto", "both", "--count", "2"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["ports", "strategy"]);
    for p in v["ports"].as_array().unwrap() {
        assert_eq!(p["proto"], "both");
        assert!(p["port"].is_u64());
        assert!(p["reserved_until_unix_ms"].is_null());
    }
    let out = portwise(&["free", "--json", "--os"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["strategy"], "os");
    let out = portwise(&["free", "--json", "--range", "30000-30100"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["strategy"], "range");
}

#[test]
fn bad_input_exits_2_naming_the_value() {
    for (args, needle) in [
        (&["free", "--count", "0"][..], "'0'"),
        (&["free", "--count", "x"][..], "'x'"),
        (&["free", "--count", "-3"][..], "'-3'"),
        (&["free", "--range", "9000-8000"][..], "reversed"),
        (&["free", "--range", "0-100"][..], "outside 1-65535"),
        (&["free", "--range", "100-70000"][..], "70000"),
        (&["free", "--range", "abc"][..], "'abc'"),
        (&["free", "--proto", "sctp"][..], "'sctp'"),
        (&["free", "--reserve", "--proto", "udp"][..], "TCP"),
        (&["free", "--os", "--range", "1-2"][..], "--range"),
    ] {
        let out = portwise(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn udp_socket_held_is_not_returned_in_a_one_port_range() {
    let held = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let p = held.local_addr().unwrap().port();
    let out = portwise(&["free", "--proto", "udp", "--range", &format!("{p}-{p}")]);
    assert_eq!(out.status.code(), Some(1));
    // The same port is free for TCP (unless something else holds it).
    if TcpListener::bind((Ipv4Addr::UNSPECIFIED, p)).is_ok() {
        let out = portwise(&["free", "--proto", "tcp", "--range", &format!("{p}-{p}")]);
        assert_eq!(ports_of(&out), vec![p]);
    }
}
